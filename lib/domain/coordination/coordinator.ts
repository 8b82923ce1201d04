// The exactly-once rules, in one place: each change (a base pushed again, a commit, a timer, a
// person) builds each task it concerns once, in order, with one Image Update build running and
// one waiting per task, and cascade's own pushes carry their change on instead of starting a
// new one. The Dispatcher decides which tasks an event concerns; RunService keeps each run's
// lifecycle; both ask this module, and do what it answers.
//
// What is kept, and what moves it:
//
// | state                                   | kept in                       | moves when |
// |-----------------------------------------|-------------------------------|------------|
// | a tag's newest digest                   | ImageStateStore               | observe(): an image event newer than the last; an older one is late, and dropped |
// | a tag's producer (digest, run, change)  | ImageStateStore               | runSucceeding(): a run's pushes become its own before it counts as finished |
// | an edge's claim: base digest → task     | DependencyStore.claimTrigger  | claim(): one delivery of a digest wins it; given back when its run cannot be created |
// | built for a change: change × task       | DeliveryStore origin#root#task| claim(), for tasks with upstream tasks (the only ones a change reaches by two paths) |
// | events held: change × upstream task     | DeferralStore                 | hold(): an event waits for an upstream run of its change; released by runFinished() or, when that run is already over, by releaseIfIdle() |
// | a task's build slots: building, waiting | BuildSlotStore                | admit(): an Image Update run builds, or waits in place of the one waiting (superseded); runFinished(): the waiting one builds |
//
// One image event, in order:
//
//   observe ──late──▶ dropped
//      │ ──a tag an unfinished run pushes to──▶ held behind that run (its result tells cascade's push from another's)
//      ▼ its change: the producer's (cascade pushed this digest) or a new one
//   Dispatcher decides each dependent ─▶ change.holdForUpstream: a task that builds on a task
//      rebuilding for this change waits for it ─▶ change.claim ─▶ RunService creates the runs
//      ─▶ admit each: build now, or wait ─▶ change.releaseHeld: what waits behind a task that is
//      not rebuilding after all goes on
//   a run ends ─▶ runFinished: events held behind it are queued again; the run waiting behind it builds
//
// Holding and releasing race with a run's end: an event is held first and the run looked at
// after, while a run's end is recorded first and its held events taken after; whichever comes
// second sees the other, so nothing held is left behind.
import { parseImageReference } from '../../images/reference';
import type { BuildSlotStore, DeferralStore, DeliveryStore, DependencyStore, ImageStateStore, Queue, RunStore } from '../ports';
import type { Dependency, ImageEvent, ImageProducer, OutputImage, Run, RunOrigin, Task } from '../types';
import { TERMINAL_STATUSES } from '../types';
import { settleEach } from '../concurrency';

export interface CoordinatorDeps {
  /** Read only: which runs are unfinished, and how a run stands. */
  runs: Pick<RunStore, 'get' | 'listUnfinished'>;
  dependencies: Pick<DependencyStore, 'claimTrigger' | 'releaseTrigger'>;
  imageState: Pick<ImageStateStore, 'recordPush' | 'producer' | 'recordProducer'>;
  deliveries: DeliveryStore;
  slots: BuildSlotStore;
  deferrals: DeferralStore;
  queue: Queue;
}

/** How long a change is remembered per task, so that two paths of one change build it once. */
const ORIGIN_DEDUPE_SECONDS = 7 * 24 * 3600;
/** How many dependents of one event are claimed at once. */
const FAN_OUT_CONCURRENCY = 16;

/** Where an image event stands. */
export type Observation =
  /** A newer digest of the tag was seen before this one. */
  | { kind: 'late' }
  /** A run of cascade's is pushing the tag and has not reported yet: the event waits for its result. */
  | { kind: 'held'; runId: string; taskName: string }
  | { kind: 'change'; change: ImageChange };

/** A dependent the dispatcher decided to build. */
export interface Candidate {
  dep: Dependency;
  task: Task;
  reason: string;
}

/** What admitting an Image Update run decided. */
export type Admission =
  | { admitted: 'build'; start: string[] }
  | { admitted: 'wait'; behind: string; start: string[]; superseded?: string };

/** The change an image event belongs to, and the steps its dependents take through it. */
export interface ImageChange {
  event: ImageEvent;
  origin: RunOrigin;
  /** The run whose push this event reports, when cascade pushed it. */
  pushedByRun?: string;
  /** Candidates that build on a task rebuilding for this change are held behind it; the others are returned. */
  holdForUpstream(candidates: Candidate[], skip: (task: string, reason: string) => void): Promise<Candidate[]>;
  /** Claims each candidate's edge (and, where a change can take two paths, the change): the winners, and why the others lost. */
  claim(candidates: Candidate[]): Promise<{ won: Candidate[]; lost: Array<{ task: string; reason: string }>; failure?: unknown }>;
  /** Gives claims back whose runs could not be created, so the event's retry can claim again. */
  giveBack(candidates: Candidate[]): Promise<void>;
  /** Once every run this change calls for exists: events held behind a task not rebuilding for it go on. */
  releaseHeld(): Promise<void>;
}

/** The mark that a change was built for a task. */
function onceKey(origin: RunOrigin, task: Task): string {
  return `origin#${origin.root}#${task.name}`;
}

/** A run's change: the one it carries on, or a change of its own. */
export function rootOf(run: Run): string {
  return run.origin?.root ?? `run:${run.id}`;
}

/** Where a run pushes, as `registry/repository:tag`. */
export function pushTargets(run: Run): string[] {
  return run.spec.images.map((image) => {
    const ref = parseImageReference(`${run.spec.registry}/${image}`);
    return `${ref.registry}/${ref.repository}:${ref.tag ?? 'latest'}`;
  });
}

export class Coordinator {
  constructor(private readonly deps: CoordinatorDeps) {}

  /**
   * Where an image event stands: late, held behind a run of cascade's that pushes the tag, or
   * part of a change (the producer's, when cascade pushed this digest; otherwise a new one).
   * `forTask`: the event is one that was held, seen again by that dependent only.
   */
  async observe(event: ImageEvent, forTask?: string): Promise<Observation> {
    const base = `${event.registry}/${event.repository}:${event.tag}`;
    // Independent reads, at once: the latency of a trigger is the number of round trips in a row.
    const [recorded, unfinished] = await Promise.all([this.recordPush(event), this.deps.runs.listUnfinished()]);
    if (recorded.age === 'older') return { kind: 'late' };
    const change = (origin: RunOrigin, pushedByRun?: string): Observation => ({ kind: 'change', change: this.imageChange(event, origin, pushedByRun, unfinished) });
    if (recorded.producer?.digest === event.digest) return change(recorded.producer.origin, recorded.producer.runId);
    // Queued counts too: a builder may push, and its registry tell of it, before cascade has
    // recorded the run as Running (the start call has not returned yet).
    const pusher = unfinished.find((run) => run.taskName && pushTargets(run).includes(base));
    if (pusher) {
      const root = rootOf(pusher);
      await this.deps.deferrals.defer(root, pusher.taskName as string, { event, ...(forTask !== undefined && { forTask }) });
      await this.releaseIfIdle(root, pusher.taskName as string);
      return { kind: 'held', runId: pusher.id, taskName: pusher.taskName as string };
    }
    // The producer was read alongside the unfinished runs, not after: a run that finished in
    // between recorded its pushes before it finished, so a read now sees them.
    const now = await this.deps.imageState.producer(event.registry, event.repository, event.tag);
    if (now?.digest === event.digest) return change(now.origin, now.runId);
    return change({ root: `image:${base}@${event.digest}`, via: [] });
  }

  /**
   * Admits a Queued Image Update run to its task's build slots: it builds now, or waits behind
   * the building run, in place of the run that waited before (superseded, to be canceled). Says
   * which runs to start: this one, or the waiting one when the building run had ended without
   * giving its place back (a crash in between).
   */
  async admit(run: Run): Promise<Admission> {
    const taskName = run.taskName as string;
    const admission = await this.deps.slots.admit(taskName, run.id);
    if (admission.admitted === 'build') return { admitted: 'build', start: [run.id] };
    const behind = await this.deps.runs.get(admission.behind);
    if (!behind || TERMINAL_STATUSES.includes(behind.status)) {
      const next = await this.deps.slots.release(taskName, admission.behind);
      if (next === run.id) return { admitted: 'build', start: [run.id] };
      return { ...admission, start: next ? [next] : [] };
    }
    return { ...admission, start: [] };
  }

  /** A successful run's pushes are its own: their push events carry its change on, and cannot loop back to it. Before it counts as finished. */
  async runSucceeding(run: Run, outputs: OutputImage[]): Promise<void> {
    if (!run.taskName) return;
    const origin = run.origin ?? { root: `run:${run.id}`, via: [] };
    for (const output of outputs) {
      const ref = parseImageReference(output.reference);
      if (!ref.tag) continue;
      const producer: ImageProducer = { digest: output.digest, taskName: run.taskName, runId: run.id, origin: { root: origin.root, via: [...origin.via, run.taskName] } };
      await this.deps.imageState.recordProducer(ref.registry, ref.repository, ref.tag, producer);
    }
  }

  /**
   * A run has finished (its end is recorded): the events held behind it for its change are
   * queued again, and, for an Image Update run, the run waiting behind it is the one to start.
   */
  async runFinished(run: Run): Promise<{ start?: string }> {
    if (!run.taskName) return {};
    await this.requeueHeld(rootOf(run), run.taskName);
    if (run.trigger !== 'Image Update') return {};
    const next = await this.deps.slots.release(run.taskName, run.id);
    return next ? { start: next } : {};
  }

  /** Where an Image Update run stands in its task's slots (recovery after a crash asks). */
  slotsOf(taskName: string): Promise<{ building?: string; waiting?: string }> {
    return this.deps.slots.get(taskName);
  }

  private recordPush(event: ImageEvent): Promise<{ age: 'newer' | 'same' | 'older'; producer?: ImageProducer }> {
    // The poller's events are about one platform's image of an index, not the tag's own digest:
    // they record nothing, and only the tag's producer is read (the poller asks in order, so it is never late).
    if (event.platform === undefined) return this.deps.imageState.recordPush(event.registry, event.repository, event.tag, event.digest, event.occurredAt);
    return this.deps.imageState.producer(event.registry, event.repository, event.tag).then((producer) => ({ age: 'newer' as const, ...(producer && { producer }) }));
  }

  private imageChange(event: ImageEvent, origin: RunOrigin, pushedByRun: string | undefined, unfinished: Run[]): ImageChange {
    const heldBehind = new Set<string>();
    const base = `${event.registry}/${event.repository}:${event.tag}`;
    return {
      event,
      origin,
      ...(pushedByRun !== undefined && { pushedByRun }),
      holdForUpstream: async (candidates, skip) => {
        // Tasks rebuilding for this same change: a dependent that also builds on one of them waits for it.
        const rebuilding = new Set([...candidates.map((c) => c.task.name), ...unfinished.filter((r) => r.taskName && rootOf(r) === origin.root).map((r) => r.taskName as string)]);
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
          skip(task.name, `${task.name} also builds on ${blocker}, which rebuilds for the same change: it builds once, after ${blocker}`);
        }
        return ready;
      },
      claim: async (candidates) => {
        const claims = await settleEach(candidates, FAN_OUT_CONCURRENCY, async ({ dep, task }): Promise<string | undefined> => {
          if (!(await this.deps.dependencies.claimTrigger(dep, { digest: event.digest, at: event.occurredAt }, event.deliveryId))) {
            return `a build of ${task.name} for ${base}@${event.digest} was already started`;
          }
          // A change reaches a task by more than one path only through tasks it builds on; with
          // none, its one path is this edge, and the claim alone makes it build once.
          if (task.upstream?.length && !(await this.deps.deliveries.markSeen(onceKey(origin, task), ORIGIN_DEDUPE_SECONDS))) {
            return `${task.name} was already rebuilt for this change (${origin.root})`;
          }
          return undefined;
        });
        const won: Candidate[] = [];
        const lost: Array<{ task: string; reason: string }> = [];
        let failure: unknown;
        claims.forEach((claim, i) => {
          const candidate = candidates[i] as Candidate;
          if (claim.status === 'rejected') failure ??= claim.reason;
          else if (claim.value) lost.push({ task: candidate.task.name, reason: claim.value });
          else won.push(candidate);
        });
        return { won, lost, ...(failure !== undefined && { failure }) };
      },
      giveBack: async (candidates) => {
        await settleEach(candidates, FAN_OUT_CONCURRENCY, async ({ dep, task }) => {
          await this.deps.dependencies.releaseTrigger(dep, event.digest, event.deliveryId);
          if (task.upstream?.length) await this.deps.deliveries.forget(onceKey(origin, task));
        });
      },
      releaseHeld: async () => {
        for (const upstream of heldBehind) await this.releaseIfIdle(origin.root, upstream);
      },
    };
  }

  /**
   * Events held behind `upstream` for `root` go on unless a run of it for that change is
   * unfinished: the half of the race with a run's end that the holder does (see the top).
   */
  private async releaseIfIdle(root: string, upstream: string): Promise<void> {
    const busy = (await this.deps.runs.listUnfinished()).some((run) => run.taskName === upstream && rootOf(run) === root);
    if (!busy) await this.requeueHeld(root, upstream);
  }

  /** Queues again every event held behind `upstream` for the change `root`. */
  private async requeueHeld(root: string, upstream: string): Promise<void> {
    for (const held of await this.deps.deferrals.take(root, upstream)) {
      await this.deps.queue.send({ type: 'event', event: held.event, ...(held.forTask !== undefined && { forTask: held.forTask }) });
    }
  }
}
