// What to build and why: pure functions, so that every decision can be explained and tested alone.
import type { Dependency, GitEvent, ImageEvent, Task } from './types';

export type Decision = { build: true; reason: string } | { build: false; reason: string };

/** Whether an image event should rebuild `task`, given its recorded edge to that base. */
export function decideImageUpdate(task: Task | undefined, dep: Dependency, event: ImageEvent): Decision {
  const base = `${dep.registry}/${dep.repository}:${dep.tag}`;
  if (!task) return { build: false, reason: `task ${dep.taskName} no longer exists` };
  if (task.status !== 'Enabled') return { build: false, reason: `task ${task.name} is disabled` };
  if (!task.baseImageTrigger.enabled) return { build: false, reason: `base image trigger of ${task.name} is disabled` };
  if (dep.pinned) return { build: false, reason: `${task.name} pins ${base} by digest` };
  if (task.baseImageTrigger.type === 'Runtime' && dep.stage !== 'runtime') {
    return { build: false, reason: `${base} is a build-time base of ${task.name} and its trigger type is Runtime` };
  }
  if (dep.digest === event.digest) return { build: false, reason: `${task.name} was already built from ${base}@${event.digest}` };
  if (dep.lastTriggeredDigest === event.digest) {
    return { build: false, reason: `a build of ${task.name} for ${base}@${event.digest} was already started (delivery ${dep.lastTriggeredBy ?? 'unknown'})` };
  }
  return { build: true, reason: `${base} changed from ${dep.digest} to ${event.digest}` };
}

/** Whether a push to a branch should rebuild `task` (the caller found it by repository and branch). */
export function decideGitCommit(task: Task, event: GitEvent): Decision {
  if (task.status !== 'Enabled') return { build: false, reason: `task ${task.name} is disabled` };
  if (!task.commitTrigger.enabled) return { build: false, reason: `commit trigger of ${task.name} is disabled` };
  return { build: true, reason: `${event.ref} of ${event.repoUrl} moved to ${event.commit}` };
}

export function branchOf(ref: string): string | undefined {
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
}
