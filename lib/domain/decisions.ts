// What to build and why: pure functions, so that every decision can be explained and tested alone.
import type { Dependency, GitEvent, ImageEvent, Task } from './types';

/** Why an event does not build a task: stable names, for `cascade explain` and for tools. */
export type SkipCode =
  | 'task-missing'
  | 'disabled'
  | 'trigger-disabled'
  | 'trigger-type'
  | 'pinned'
  | 'other-platform'
  | 'same-digest'
  | 'already-started'
  | 'not-captured';

export type Decision = { build: true; code: 'build'; reason: string } | { build: false; code: SkipCode; reason: string };

const skip = (code: SkipCode, reason: string): Decision => ({ build: false, code, reason });

/**
 * Whether a change of this base could ever build `task` through this edge, whatever the digest:
 * the checks that depend on the task and the edge alone (the graph draws them).
 */
export function edgeTriggers(task: Task | undefined, dep: Dependency): Decision {
  const base = `${dep.registry}/${dep.repository}:${dep.tag}`;
  if (!task) return skip('task-missing', `task ${dep.taskName} no longer exists`);
  if (task.status !== 'Enabled') return skip('disabled', `task ${task.name} is disabled`);
  if (!task.baseImageTrigger.enabled) return skip('trigger-disabled', `base image trigger of ${task.name} is disabled`);
  if (dep.pinned) return skip('pinned', `${task.name} pins ${base} by digest`);
  if (task.baseImageTrigger.type === 'Runtime' && dep.stage !== 'runtime') {
    return skip('trigger-type', `${base} is a build-time base of ${task.name} and its trigger type is Runtime`);
  }
  return { build: true, code: 'build', reason: `${task.name} rebuilds when ${base} changes` };
}

/** Whether an image event should rebuild `task`, given its recorded edge to that base. */
export function decideImageUpdate(task: Task | undefined, dep: Dependency, event: Pick<ImageEvent, 'digest' | 'platform'>): Decision {
  const base = `${dep.registry}/${dep.repository}:${dep.tag}`;
  const edge = edgeTriggers(task, dep);
  if (!edge.build || !task) return edge;
  if (event.platform !== undefined && event.platform !== task.platform) {
    return skip('other-platform', `the change of ${base} is to its ${event.platform} image and ${task.name} builds for ${task.platform}`);
  }
  if (dep.digest === event.digest) return skip('same-digest', `${task.name} was already built from ${base}@${event.digest}`);
  if (dep.lastTriggeredDigest === event.digest) {
    return skip('already-started', `a build of ${task.name} for ${base}@${event.digest} was already started (delivery ${dep.lastTriggeredBy ?? 'unknown'})`);
  }
  return { build: true, code: 'build', reason: `${base} changed from ${dep.digest} to ${event.digest}` };
}

/** Whether a push to a branch should rebuild `task` (the caller found it by repository and branch). */
export function decideGitCommit(task: Task, event: GitEvent): Decision {
  if (task.status !== 'Enabled') return skip('disabled', `task ${task.name} is disabled`);
  if (!task.commitTrigger.enabled) return skip('trigger-disabled', `commit trigger of ${task.name} is disabled`);
  return { build: true, code: 'build', reason: `${event.ref} of ${event.repoUrl} moved to ${event.commit}` };
}

export function branchOf(ref: string): string | undefined {
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
}
