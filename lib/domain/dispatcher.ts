// The dispatcher: one inbound event in, the builds it calls for started exactly once each.
import { normalizeGitUrl } from './git-url';
import { branchOf, decideGitCommit, decideImageUpdate } from './decisions';
import { parseImageReference } from '../images/reference';
import type { DeferralStore, DeliveryStore, DependencyStore, DigestResolver, ImageStateStore, Queue, TaskStore } from './ports';
import type { RunService } from './run-service';
import { settleEach, throwFirstFailure } from './concurrency';
import type { Dependency, GitEvent, ImageDeleteEvent, ImageEvent, ImageProducer, ImageTagEvent, InboundEvent, RegistryCredential, Run, RunOrigin, Task } from './types';

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
  deferrals: DeferralStore;
  log?: (entry: DispatchReport) => void;
}

/** How long a git commit is remembered per task, so a redelivered push starts nothing. */
const GIT_DEDUPE_SECONDS = 7 * 24 * 3600;
/** How long a change is remembered per task, so that two paths of one change build it once. */
const ORIGIN_DEDUPE_SECONDS = 7 * 24 * 3600;

/** How many dependents of one event are worked on at once. */
const FAN_OUT_CONCURRENCY = 16;

interface Candidate {
  dep: Dependency;
  task: Task;
  reason: string;
}

/** The mark that a change was built for a task. */
function onceKey(origin: RunOrigin, task: Task): string {
  return `origin#${origin.root}#${task.name}`;
}

/** Where a run pushes, as `registry/repository:tag`. */
function pushTargets(run: Run): string[] {
  return run.spec.images.map((image) => {
    const ref = parseImageReference(`${run.spec.registry}/${image}`);
    return `${ref.registry}/${ref.repository}:${ref.tag ?? 'latest'}`;
  });
}

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
    // Independent reads, at once: the latency of a trigger is the number of round trips in a row.
    const [recorded, unfinished, allDependents] = await Promise.all([
      this.recordPush(event),
      this.deps.runs.unfinished(),
      this.deps.dependencies.listDependents(event.registry, event.repository, event.tag),
    ]);
    if (recorded.age === 'older') {
      report.skipped.push({ reason: `a newer digest of ${base} was already seen; ${event.digest} arrived late` });
      return report;
    }
    const found = await this.originOf(event, base, recorded.producer, unfinished, forTask, report);
    if (!found) return report;
    const { origin, pushedByRun } = found;

    const dependents = allDependents.filter((dep) => forTask === undefined || dep.taskName === forTask);
    if (dependents.length === 0) report.skipped.push({ reason: `no task depends on ${base}` });
    const tasks = await this.deps.tasks.getMany(dependents.map((dep) => dep.taskName));
    const candidates: Candidate[] = [];
    for (const dep of dependents) {
      const task = tasks.get(dep.taskName);
      const decision = decideImageUpdate(task, dep, event);
      if (!task || !decision.build) report.skipped.push({ task: dep.taskName, reason: decision.reason });
      else if (origin.via.includes(task.name)) {
        report.skipped.push({ task: task.name, reason: `${base}@${event.digest} was pushed by a build that ${task.name} led to (${[...origin.via, task.name].join(' → ')}): building ${task.name} again would loop` });
      } else candidates.push({ dep, task, reason: decision.reason });
    }

    // Tasks rebuilding for this same change: a dependent that also builds on one of them waits for it.
    const rebuilding = new Set([...candidates.map((c) => c.task.name), ...unfinished.filter((r) => r.origin?.root === origin.root && r.taskName).map((r) => r.taskName as string)]);
    const heldBehind = new Set<string>();
    const ready: Candidate[] = [];
    for (const candidate of candidates) {
      const { task } = candidate;
      const blocker = task.upstream?.find((upstream) => upstream !== task.name && rebuilding.has(upstream));
      if (!blocker) {
        ready.push(candidate);
        continue;
      }
      await this.deps.deferrals.defer(origin.root, blocker, { event, forTask: task.name });
      heldBehind.add(blocker);
      report.skipped.push({ task: task.name, reason: `${task.name} also builds on ${blocker}, which rebuilds for the same change: it builds once, after ${blocker}` });
    }

    // Every run is created before any is admitted: a build that ends at once and pushes must
    // find all of this change's runs, so that what builds on several of them waits for them all.
    const { created, failure } = await this.createRuns(event, base, origin, pushedByRun, ready, report);
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
    // Every run this change calls for now exists: what waits behind a task that is not (or no
    // longer) rebuilding for it is let go at once.
    for (const upstream of heldBehind) await this.releaseIfIdle(origin.root, upstream);
    // A run that exists but could not be admitted is admitted by the reconciler; the rest of
    // this event is done, and the failure is reported so that the queue tries it again.
    throwFirstFailure(admitted);
    if (failure !== undefined) throw failure;
    return report;
  }

  /**
   * The tag's newest digest is recorded, so a late, older event loses. The poller's events are
   * about one platform's image of an index, not the tag's own digest: they record nothing, and
   * only the tag's producer is read (the poller asks in order, so it is never late).
   */
  private async recordPush(event: ImageEvent): Promise<{ age: 'newer' | 'same' | 'older'; producer?: ImageProducer }> {
    if (event.platform === undefined) return this.deps.imageState.recordPush(event.registry, event.repository, event.tag, event.digest, event.occurredAt);
    const producer = await this.deps.imageState.producer(event.registry, event.repository, event.tag);
    return { age: 'newer', ...(producer && { producer }) };
  }

  /**
   * Claims each candidate's edge and marks the change as built for its task, then creates the
   * runs of those that won, with run ids reserved in one request. Of any number of concurrent
   * deliveries, the claim lets one win; the mark builds a task once per change, whatever path
   * the change takes to it.
   */
  private async createRuns(
    event: ImageEvent,
    base: string,
    origin: RunOrigin,
    pushedByRun: string | undefined,
    ready: Candidate[],
    report: DispatchReport,
  ): Promise<{ created: Array<{ run: Run; reason: string }>; failure?: unknown }> {
    let failure: unknown;
    const claims = await settleEach(ready, FAN_OUT_CONCURRENCY, async ({ dep, task }): Promise<string | undefined> => {
      if (!(await this.deps.dependencies.claimTrigger(dep, { digest: event.digest, at: event.occurredAt }, event.deliveryId))) {
        return `a build of ${task.name} for ${base}@${event.digest} was already started`;
      }
      // A change reaches a task by more than one path only through tasks it builds on; with none,
      // its one path is this edge, and the claim alone makes it build once.
      if (task.upstream?.length && !(await this.deps.deliveries.markSeen(onceKey(origin, task), ORIGIN_DEDUPE_SECONDS))) {
        return `${task.name} was already rebuilt for this change (${origin.root})`;
      }
      return undefined;
    });
    const winners: Candidate[] = [];
    claims.forEach((claim, i) => {
      const candidate = ready[i]!;
      if (claim.status === 'rejected') failure ??= claim.reason;
      else if (claim.value) report.skipped.push({ task: candidate.task.name, reason: claim.value });
      else winners.push(candidate);
    });
    if (winners.length === 0) return { created: [], failure };

    try {
      const ids = await this.deps.runs.reserveIds(winners.length);
      const runs = await this.deps.runs.createTaskRuns(
        winners.map(({ task, dep }, i) => ({
          task,
          request: {
            trigger: 'Image Update' as const,
            cause: {
              kind: 'image-update' as const,
              base,
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
      return { created: runs.map((run, i) => ({ run, reason: winners[i]!.reason })), failure };
    } catch (error) {
      // No runs exist for the claims: give them back so the queue's retry of this event can build.
      await settleEach(winners, FAN_OUT_CONCURRENCY, (c) => this.giveBack(event, origin, c));
      throw error;
    }
  }

  private async giveBack(event: ImageEvent, origin: RunOrigin, { dep, task }: Candidate): Promise<void> {
    await this.deps.dependencies.releaseTrigger(dep, event.digest, event.deliveryId);
    if (task.upstream?.length) await this.deps.deliveries.forget(onceKey(origin, task));
  }

  /**
   * Events held behind `upstream` for `root` are queued again unless a run of it for that change
   * is unfinished. Holding and then looking covers the race with that run's end, which queues
   * again what it finds held after it finished (RunService.afterFinish): one of the two sees it.
   */
  private async releaseIfIdle(root: string, upstream: string): Promise<void> {
    const busy = (await this.deps.runs.unfinished()).some((run) => run.taskName === upstream && (run.origin?.root ?? `run:${run.id}`) === root);
    if (!busy) await this.deps.runs.requeueHeld(root, upstream);
  }

  /**
   * The change an image event belongs to. A push of cascade's own build carries that build's
   * origin on. A push to a tag that an unfinished run of cascade's pushes to, whose result is not
   * in yet, waits for that result (a registry can tell of a push before the build reports it).
   * Any other push starts a change of its own.
   */
  private async originOf(
    event: ImageEvent,
    base: string,
    producer: ImageProducer | undefined,
    unfinished: Run[],
    forTask: string | undefined,
    report: DispatchReport,
  ): Promise<{ origin: RunOrigin; pushedByRun?: string } | undefined> {
    if (producer?.digest === event.digest) return { origin: producer.origin, pushedByRun: producer.runId };
    // Queued counts too: a builder may push, and its registry tell of it, before cascade has
    // recorded the run as Running (the start call has not returned yet).
    const pusher = unfinished.find((run) => run.taskName && pushTargets(run).includes(base));
    if (pusher) {
      const root = pusher.origin?.root ?? `run:${pusher.id}`;
      await this.deps.deferrals.defer(root, pusher.taskName as string, { event, ...(forTask !== undefined && { forTask }) });
      await this.releaseIfIdle(root, pusher.taskName as string);
      report.skipped.push({ reason: `${pusher.id} of ${pusher.taskName} is pushing ${base}: the event waits for its result, to tell cascade's own push from another` });
      return undefined;
    }
    // The producer was read alongside the unfinished runs, not after: a run that finished in
    // between recorded its pushes before it finished, so a read now sees them.
    const now = await this.deps.imageState.producer(event.registry, event.repository, event.tag);
    if (now?.digest === event.digest) return { origin: now.origin, pushedByRun: now.runId };
    return { origin: { root: `image:${base}@${event.digest}`, via: [] } };
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
