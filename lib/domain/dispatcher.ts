// The dispatcher: one inbound event in, the tasks it concerns decided (lib/domain/decisions.ts),
// and their builds started through the exactly-once rules of lib/domain/coordination.
import type { Candidate, Coordinator, ImageChange } from './coordination/coordinator';
import { branchOf, decideGitCommit, decideImageUpdate } from './decisions';
import { normalizeGitUrl } from './git-url';
import type { DeliveryStore, DependencyStore, DigestResolver, TaskStore } from './ports';
import type { RunService } from './run-service';
import { settleEach, throwFirstFailure } from './concurrency';
import type { GitEvent, ImageDeleteEvent, ImageEvent, ImageTagEvent, InboundEvent, RegistryCredential, Run } from './types';

export interface DispatchReport {
  event: string;
  started: Array<{ task: string; runId: string; reason: string }>;
  skipped: Array<{ task?: string; reason: string }>;
}

export interface DispatcherDeps {
  tasks: TaskStore;
  dependencies: DependencyStore;
  deliveries: DeliveryStore;
  runs: RunService;
  coordination: Coordinator;
  digests: DigestResolver;
  log?: (entry: DispatchReport) => void;
}

/** How long a git commit is remembered per task, so a redelivered push starts nothing. */
const GIT_DEDUPE_SECONDS = 7 * 24 * 3600;

/** How many dependents of one event are worked on at once. */
const FAN_OUT_CONCURRENCY = 16;

export class Dispatcher {
  constructor(private readonly deps: DispatcherDeps) {}

  /** `forTask`: a deferred event seen again, by that dependent only. */
  async dispatch(event: InboundEvent, forTask?: string): Promise<DispatchReport> {
    let report: DispatchReport;
    switch (event.kind) {
      case 'image':
        report = await this.onImage(event, forTask);
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

  private async onImage(event: ImageEvent, forTask?: string): Promise<DispatchReport> {
    const base = `${event.registry}/${event.repository}:${event.tag}`;
    const report: DispatchReport = { event: `${base}@${event.digest} (${event.source} ${event.deliveryId})`, started: [], skipped: [] };
    const skip = (task: string | undefined, reason: string) => report.skipped.push({ ...(task !== undefined && { task }), reason });
    // Independent reads, at once: the latency of a trigger is the number of round trips in a row.
    const [observed, allDependents] = await Promise.all([
      this.deps.coordination.observe(event, forTask),
      this.deps.dependencies.listDependents(event.registry, event.repository, event.tag),
    ]);
    if (observed.kind === 'late') {
      skip(undefined, `a newer digest of ${base} was already seen; ${event.digest} arrived late`);
      return report;
    }
    if (observed.kind === 'held') {
      skip(undefined, `${observed.runId} of ${observed.taskName} is pushing ${base}: the event waits for its result, to tell cascade's own push from another`);
      return report;
    }
    const { change } = observed;

    const dependents = allDependents.filter((dep) => forTask === undefined || dep.taskName === forTask);
    if (dependents.length === 0) skip(undefined, `no task depends on ${base}`);
    const tasks = await this.deps.tasks.getMany(dependents.map((dep) => dep.taskName));
    const candidates: Candidate[] = [];
    for (const dep of dependents) {
      const task = tasks.get(dep.taskName);
      const decision = decideImageUpdate(task, dep, event);
      if (!task || !decision.build) skip(dep.taskName, decision.reason);
      else if (change.origin.via.includes(task.name)) {
        skip(task.name, `${base}@${event.digest} was pushed by a build that ${task.name} led to (${[...change.origin.via, task.name].join(' → ')}): building ${task.name} again would loop`);
      } else candidates.push({ dep, task, reason: decision.reason });
    }

    const ready = await change.holdForUpstream(candidates, skip);
    const { won, lost, failure } = await change.claim(ready);
    for (const { task, reason } of lost) skip(task, reason);
    // Every run is created before any is admitted: a build that ends at once and pushes must
    // find all of this change's runs, so that what builds on several of them waits for them all.
    const created = await this.createRuns(change, won);
    const admitted = await settleEach(created, FAN_OUT_CONCURRENCY, async ({ run }) => this.deps.runs.admit(run));
    admitted.forEach((outcome, i) => {
      const { run, reason } = created[i]!;
      if (outcome.status === 'rejected') return;
      const admission = outcome.value;
      report.started.push({
        task: run.taskName as string,
        runId: run.id,
        reason: admission.admitted === 'build' ? reason : `${reason}; it builds after ${admission.behind}${admission.superseded ? `, in place of ${admission.superseded}` : ''}`,
      });
    });
    await change.releaseHeld();
    // A run that exists but could not be admitted is admitted by the reconciler; the rest of
    // this event is done, and the failure is reported so that the queue tries it again.
    throwFirstFailure(admitted);
    if (failure !== undefined) throw failure;
    return report;
  }

  /** The runs of the claimed dependents, under run ids reserved in one request; a failure gives the claims back. */
  private async createRuns(change: ImageChange, won: Candidate[]): Promise<Array<{ run: Run; reason: string }>> {
    if (won.length === 0) return [];
    const { event, origin, pushedByRun } = change;
    try {
      const ids = await this.deps.runs.reserveIds(won.length);
      const runs = await this.deps.runs.createTaskRuns(
        won.map(({ task, dep }, i) => ({
          task,
          request: {
            trigger: 'Image Update' as const,
            cause: {
              kind: 'image-update' as const,
              base: `${event.registry}/${event.repository}:${event.tag}`,
              oldDigest: dep.digest,
              newDigest: event.digest,
              source: event.source,
              deliveryId: event.deliveryId,
              occurredAt: event.occurredAt,
              ...(pushedByRun !== undefined && { pushedByRun }),
            },
            origin,
          },
          reserved: ids[i]!,
        })),
      );
      return runs.map((run, i) => ({ run, reason: won[i]!.reason }));
    } catch (error) {
      // No runs exist for the claims: give them back so the queue's retry of this event can build.
      await change.giveBack(won);
      throw error;
    }
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
    const tasks = await this.deps.tasks.getMany(dependents.map((dep) => dep.taskName));
    const credentials: RegistryCredential[] = dependents.flatMap((dep) => tasks.get(dep.taskName)?.credentials.filter((c) => c.loginServer === event.registry) ?? []);
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
          origin: { root: `git:${normalizeGitUrl(event.repoUrl)}@${event.commit}`, via: [] },
        });
      } catch (error) {
        await this.deps.deliveries.forget(seen);
        throw error;
      }
      await this.deps.runs.startOrQueue(run.id);
      report.started.push({ task: task.name, runId: run.id, reason: decision.reason });
    }
    return report;
  }
}
