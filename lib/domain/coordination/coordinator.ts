// The exactly-once rules, in one place: each change (a base pushed again, a commit, a timer, a
// person) builds each task it concerns once, in order, with one Image Update build running and
// one waiting per task, and cascade's own pushes carry their change on instead of starting a
// new one. The Dispatcher decides which tasks an event concerns; RunService keeps each run's
// lifecycle; both ask this module, and do what it answers.
//
// What is kept, and what moves it (every lookup is by key: no event reads the runs of the
// whole installation):
//
// | state                                   | kept in                        | moves when |
// |-----------------------------------------|--------------------------------|------------|
// | a tag's newest digest                   | ImageStateStore                | observe(): an image event newer than the last; an older one is late, and dropped |
// | a tag's producer (digest, run, change)  | ImageStateStore                | runSucceeding(): a run's pushes become its own before it counts as finished |
// | a tag's pushers: unfinished runs to it  | ImageStateStore `pushing`      | open(): a task run is written; runFinished(): it ends |
// | an edge's claim: base digest → task     | the dependency edge            | open(): one delivery of a digest wins it, with its run, or neither is written |
// | built for a change: change × task       | DeliveryStore origin#root#task | open(), for tasks with upstream tasks (the only ones a change reaches by two paths) |
// | a gate: change × task, its runs, held   | GateStore                      | open() enters a run; hold() keeps an event while a run is in; runFinished(): the last run out takes what was held |
// | a task's build slots: building, waiting | BuildSlotStore                 | open() takes the building place when free; admit(): build, or wait in place of the run waiting (superseded); runFinished(): the waiting one builds |
//
// One image event, in order:
//
//   observe ──late──▶ dropped
//      │ ──its tag has pushers: held in the first pusher's gate (its result tells cascade's push from another's)
//      ▼ its change: the producer's (cascade pushed this digest) or a new one
//   Dispatcher decides each dependent ─▶ change.holdForUpstream: a task that builds on a task
//      rebuilding for this change waits in that task's gate ─▶ runs opened (claim, mark, gate,
//      pushers, slot: each run whole or not at all, many in one request) ─▶ change.holdBehindSiblings
//      ─▶ builds started: those that took the building place; the others admitted to wait
//   a run ends ─▶ runFinished: it leaves its gate (the last out takes and queues again what was
//      held), stops pushing, and the run waiting behind it builds
//
// A gate's hold succeeds only while a run is in it, and its last run takes what is held in the
// same step as it leaves: an event is either held and taken, or told "nobody to wait for".

import { parseImageReference } from '../../images/reference';
import type { BuildSlotStore, DeferredEvent, DependencyKey, GateStore, ImageStateStore, OpeningOutcome, Queue, RunOpening, RunOpenings, RunStore, TagPushers } from '../ports';
import type { Dependency, ImageEvent, OutputImage, Run, RunOrigin, Task } from '../types';
import { TERMINAL_STATUSES } from '../types';

export interface CoordinatorDeps {
  /** Read only: how a run stands (admission asks whether the building run is over). */
  runs: Pick<RunStore, 'get'>;
  imageState: Pick<ImageStateStore, 'recordPush' | 'pushers' | 'recordProducer' | 'stopPushing'>;
  openings: RunOpenings;
  gates: GateStore;
  slots: BuildSlotStore;
  queue: Queue;
}

/** How long a change is remembered per task, so that two paths of one change build it once. */
const ORIGIN_DEDUPE_SECONDS = 7 * 24 * 3600;

/** Where an image event stands. */
export type Observation =
  /** A newer digest of the tag was seen before this one. */
  | { kind: 'late' }
  /** A run of cascade's is pushing the tag and has not finished: the event waits for its result. */
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

/** What makes a run count besides itself, for RunOpenings (the claim and the mark, where they apply). */
export interface OpenRequest {
  run: Run;
  claim?: { dep: DependencyKey; digest: string; at: string; claimedBy: string };
  once?: { key: string; ttlSeconds: number };
}

/** The change an image event belongs to, and the steps its dependents take through it. */
export interface ImageChange {
  event: ImageEvent;
  origin: RunOrigin;
  /** The run whose push this event reports, when cascade pushed it. */
  pushedByRun?: string;
  /**
   * A candidate that builds on a task rebuilding for this change waits for it: in that task's
   * gate, or, when that task is a candidate too (its run is not written yet), after the runs are
   * opened (holdBehindSiblings). The others are returned.
   */
  holdForUpstream(candidates: Candidate[], skip: (task: string, reason: string) => void): Promise<Candidate[]>;
  /** The claim (and, where a change can take two paths to the task, the mark) a candidate's run opens with. */
  claimOf(candidate: Candidate): Pick<OpenRequest, 'claim' | 'once'>;
  /** Once this change's runs are opened: each candidate held for a sibling waits in its gate, or, if nothing is there, goes on. */
  holdBehindSiblings(): Promise<void>;
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
    const recorded = await this.recordPush(event);
    if (recorded.age === 'older') return { kind: 'late' };
    const change = (origin: RunOrigin, pushedByRun?: string): Observation => ({ kind: 'change', change: this.imageChange(event, origin, pushedByRun) });
    if (recorded.producer?.digest === event.digest) return change(recorded.producer.origin, recorded.producer.runId);
    // Queued counts too: a builder may push, and its registry tell of it, before cascade has
    // recorded the run as Running (the start call has not returned yet).
    const deferred: DeferredEvent = { event, ...(forTask !== undefined && { forTask }) };
    for (const pusher of recorded.pushing) {
      if (await this.deps.gates.hold(pusher.root, pusher.taskName, deferred)) return { kind: 'held', runId: pusher.runId, taskName: pusher.taskName };
    }
    if (recorded.pushing.length > 0) {
      // Every pusher had finished by the time of the hold: a run records its pushes before it
      // finishes, so a read now sees whether this digest was one of them.
      const now = await this.deps.imageState.pushers(event.registry, event.repository, event.tag);
      if (now.producer?.digest === event.digest) return change(now.producer.origin, now.producer.runId);
    }
    return change({ root: `image:${base}@${event.digest}`, via: [] });
  }

  /**
   * Writes task runs with what makes them count (RunOpenings): the claim and the mark, the gate
   * of their task and change, the tags they push, and for Image Update runs the building place
   * when it is free. Each run is opened whole, or lost to another's claim or mark.
   */
  open(requests: OpenRequest[]): Promise<OpeningOutcome[]> {
    if (requests.length === 0) return Promise.resolve([]);
    return this.deps.openings.open(
      requests.map(({ run, claim, once }): RunOpening => ({
        run,
        ...(claim && { claim }),
        ...(once && { once }),
        pushes: run.taskName ? pushTargets(run) : [],
        ...(run.trigger === 'Image Update' && { build: true }),
      })),
    );
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
      await this.deps.imageState.recordProducer(ref.registry, ref.repository, ref.tag, {
        digest: output.digest,
        taskName: run.taskName,
        runId: run.id,
        origin: { root: origin.root, via: [...origin.via, run.taskName] },
      });
    }
  }

  /**
   * A run has finished (its end is recorded): it leaves its gate, and what was held there is
   * queued again if it was the last run in; it stops pushing; for an Image Update run, the run
   * waiting behind it is the one to start.
   */
  async runFinished(run: Run): Promise<{ start?: string }> {
    if (!run.taskName) return {};
    const held = await this.deps.gates.leave(rootOf(run), run.taskName, run.id);
    for (const { event, forTask } of held) await this.deps.queue.send({ type: 'event', event, ...(forTask !== undefined && { forTask }) });
    await this.deps.imageState.stopPushing(pushTargets(run), run.id);
    if (run.trigger !== 'Image Update') return {};
    const next = await this.deps.slots.release(run.taskName, run.id);
    return next ? { start: next } : {};
  }

  /** Where an Image Update run stands in its task's slots (recovery after a crash asks). */
  slotsOf(taskName: string): Promise<{ building?: string; waiting?: string }> {
    return this.deps.slots.get(taskName);
  }

  private async recordPush(event: ImageEvent): Promise<{ age: 'newer' | 'same' | 'older' } & TagPushers> {
    // The poller's events are about one platform's image of an index, not the tag's own digest:
    // they record nothing, and only the tag's pushers are read (the poller asks in order, so it is never late).
    if (event.platform === undefined) return this.deps.imageState.recordPush(event.registry, event.repository, event.tag, event.digest, event.occurredAt);
    return { age: 'newer', ...(await this.deps.imageState.pushers(event.registry, event.repository, event.tag)) };
  }

  private imageChange(event: ImageEvent, origin: RunOrigin, pushedByRun: string | undefined): ImageChange {
    const { gates, queue } = this.deps;
    const behindSiblings: Array<{ task: string; upstream: string }> = [];
    return {
      event,
      origin,
      ...(pushedByRun !== undefined && { pushedByRun }),
      holdForUpstream: async (candidates, skip) => {
        const names = new Set(candidates.map((c) => c.task.name));
        const ready: Candidate[] = [];
        for (const candidate of candidates) {
          const { task } = candidate;
          const upstream = (task.upstream ?? []).filter((name) => name !== task.name);
          const sibling = upstream.find((name) => names.has(name));
          if (sibling) {
            behindSiblings.push({ task: task.name, upstream: sibling });
            skip(task.name, `${task.name} also builds on ${sibling}, which rebuilds for the same change: it builds once, after ${sibling}`);
            continue;
          }
          let heldBehind: string | undefined;
          for (const name of upstream) {
            if (await gates.hold(origin.root, name, { event, forTask: task.name })) {
              heldBehind = name;
              break;
            }
          }
          if (heldBehind) skip(task.name, `${task.name} also builds on ${heldBehind}, which rebuilds for the same change: it builds once, after ${heldBehind}`);
          else ready.push(candidate);
        }
        return ready;
      },
      claimOf: ({ dep, task }) => ({
        claim: { dep, digest: event.digest, at: event.occurredAt, claimedBy: event.deliveryId },
        // A change reaches a task by more than one path only through tasks it builds on; with
        // none, its one path is this edge, and the claim alone makes it build once.
        ...(task.upstream?.length ? { once: { key: `origin#${origin.root}#${task.name}`, ttlSeconds: ORIGIN_DEDUPE_SECONDS } } : {}),
      }),
      holdBehindSiblings: async () => {
        for (const { task, upstream } of behindSiblings) {
          // Its sibling's run is not in the gate (its claim was lost, or it is over already): it goes on, seen again alone.
          if (!(await gates.hold(origin.root, upstream, { event, forTask: task }))) await queue.send({ type: 'event', event, forTask: task });
        }
      },
    };
  }
}
