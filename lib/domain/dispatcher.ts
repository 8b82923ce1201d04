// The dispatcher: one inbound event in, the builds it calls for started exactly once each.
import { normalizeGitUrl } from '../events/git-url';
import { branchOf, decideGitCommit, decideImageUpdate } from './decisions';
import { RetryableError } from './errors';
import type { DeliveryStore, DependencyStore, DigestResolver, ImageStateStore, Queue, TaskStore } from './ports';
import type { RunService } from './run-service';
import type { GitEvent, ImageDeleteEvent, ImageEvent, ImageTagEvent, InboundEvent, RegistryCredential } from './types';

export interface DispatchReport {
  event: string;
  started: Array<{ task: string; runId: string; reason: string }>;
  skipped: Array<{ task?: string; reason: string }>;
}

export interface DispatcherDeps {
  tasks: TaskStore;
  dependencies: DependencyStore;
  imageState: ImageStateStore;
  deliveries: DeliveryStore;
  runs: RunService;
  queue: Queue;
  digests: DigestResolver;
  log?: (entry: DispatchReport) => void;
}

/** How long a git commit is remembered per task, so a redelivered push starts nothing. */
const GIT_DEDUPE_SECONDS = 7 * 24 * 3600;

export class Dispatcher {
  constructor(private readonly deps: DispatcherDeps) {}

  async dispatch(event: InboundEvent): Promise<DispatchReport> {
    let report: DispatchReport;
    switch (event.kind) {
      case 'image':
        report = await this.onImage(event);
        break;
      case 'image-tag':
        report = await this.onImageTag(event);
        break;
      case 'image-delete':
        report = await this.onImageDelete(event);
        break;
      case 'git':
        report = await this.onGit(event);
        break;
    }
    this.deps.log?.(report);
    return report;
  }

  private async onImage(event: ImageEvent): Promise<DispatchReport> {
    const base = `${event.registry}/${event.repository}:${event.tag}`;
    const report: DispatchReport = { event: `${base}@${event.digest} (${event.source} ${event.deliveryId})`, started: [], skipped: [] };
    const age = await this.deps.imageState.recordIfNewer(event.registry, event.repository, event.tag, event.digest, event.occurredAt);
    if (age === 'older') {
      report.skipped.push({ reason: `a newer digest of ${base} was already seen; ${event.digest} arrived late` });
      return report;
    }
    const dependents = await this.deps.dependencies.listDependents(event.registry, event.repository, event.tag);
    if (dependents.length === 0) report.skipped.push({ reason: `no task depends on ${base}` });
    for (const dep of dependents) {
      const task = await this.deps.tasks.get(dep.taskName);
      const decision = decideImageUpdate(task, dep, event);
      if (!task || !decision.build) {
        report.skipped.push({ task: dep.taskName, reason: decision.reason });
        continue;
      }
      // The claim is the atomic step: of any number of concurrent deliveries, one wins.
      if (!(await this.deps.dependencies.claimTrigger(dep, event.digest, event.deliveryId))) {
        report.skipped.push({ task: task.name, reason: `a build of ${task.name} for ${base}@${event.digest} was already started` });
        continue;
      }
      let run;
      try {
        run = await this.deps.runs.createTaskRun(task, {
          trigger: 'Image Update',
          cause: {
            kind: 'image-update',
            base,
            oldDigest: dep.digest,
            newDigest: event.digest,
            source: event.source,
            deliveryId: event.deliveryId,
          },
        });
      } catch (error) {
        // No run exists for the claim: give it back so the queue's retry of this event can build.
        await this.deps.dependencies.releaseTrigger(dep, event.digest, event.deliveryId);
        throw error;
      }
      await this.startOrQueue(run.id);
      report.started.push({ task: task.name, runId: run.id, reason: decision.reason });
    }
    return report;
  }

  /**
   * The sender named the tag but not its digest. Only a tag some task depends on is looked up,
   * so a payload can never make cascade contact a host it does not already use.
   */
  private async onImageTag(event: ImageTagEvent): Promise<DispatchReport> {
    const base = `${event.registry}/${event.repository}:${event.tag}`;
    const dependents = await this.deps.dependencies.listDependents(event.registry, event.repository, event.tag);
    if (dependents.length === 0) {
      return { event: `${base} (${event.source} ${event.deliveryId})`, started: [], skipped: [{ reason: `no task depends on ${base}` }] };
    }
    const credentials: RegistryCredential[] = [];
    for (const dep of dependents) {
      const task = await this.deps.tasks.get(dep.taskName);
      credentials.push(...(task?.credentials.filter((c) => c.loginServer === event.registry) ?? []));
    }
    // A failure to reach the registry is thrown: the queue retries the message.
    const digest = await this.deps.digests.resolve(event, credentials);
    return this.onImage({ ...event, kind: 'image', digest });
  }

  private async onImageDelete(event: ImageDeleteEvent): Promise<DispatchReport> {
    const base = `${event.registry}/${event.repository}:${event.tag}`;
    const marked = await this.deps.dependencies.markTagGone(event.registry, event.repository, event.tag, event.occurredAt);
    return {
      event: `delete of ${base} (${event.source} ${event.deliveryId})`,
      started: [],
      skipped: [{ reason: marked ? `${base} was deleted; ${marked} dependent task(s) marked` : `no task depends on ${base}` }],
    };
  }

  /** A run that exists but could not start yet (builder throttled) is started again from the queue. */
  private async startOrQueue(runId: string): Promise<void> {
    try {
      await this.deps.runs.start(runId);
    } catch (error) {
      if (!(error instanceof RetryableError)) throw error;
      await this.deps.queue.send({ type: 'start-run', runId });
    }
  }

  private async onGit(event: GitEvent): Promise<DispatchReport> {
    const report: DispatchReport = { event: `${event.repoUrl} ${event.ref}@${event.commit} (${event.source} ${event.deliveryId})`, started: [], skipped: [] };
    const branch = branchOf(event.ref);
    if (!branch) {
      report.skipped.push({ reason: `${event.ref} is not a branch` });
      return report;
    }
    const tasks = await this.deps.tasks.listByGitContext(normalizeGitUrl(event.repoUrl), branch);
    if (tasks.length === 0) report.skipped.push({ reason: `no task builds ${event.repoUrl} branch ${branch}` });
    for (const task of tasks) {
      const decision = decideGitCommit(task, event);
      if (!decision.build) {
        report.skipped.push({ task: task.name, reason: decision.reason });
        continue;
      }
      const seen = `git#${task.name}#${event.commit}`;
      if (!(await this.deps.deliveries.markSeen(seen, GIT_DEDUPE_SECONDS))) {
        report.skipped.push({ task: task.name, reason: `a build of ${task.name} for commit ${event.commit} was already started` });
        continue;
      }
      let run;
      try {
        run = await this.deps.runs.createTaskRun(task, {
          trigger: 'Git Commit',
          cause: { kind: 'git-commit', repoUrl: event.repoUrl, ref: event.ref, commit: event.commit, source: event.source, deliveryId: event.deliveryId },
          commit: event.commit,
          branch,
        });
      } catch (error) {
        await this.deps.deliveries.forget(seen);
        throw error;
      }
      await this.startOrQueue(run.id);
      report.started.push({ task: task.name, runId: run.id, reason: decision.reason });
    }
    return report;
  }
}
