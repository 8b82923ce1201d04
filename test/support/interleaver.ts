// When the memory ports (memory-ports.ts) make each request, so that a test can choose how
// concurrent callers interleave. Every request a DynamoDB adapter would send is one call of the
// Interleaver, which performs it (atomically, as DynamoDB does one request) when it chooses to.
// The default, `immediately`, performs each at once, in the order they come.
//
// Deterministic: hold one caller between two of its requests, let another run, then go on.
//
//   const gates = new Gates();
//   const ports = memoryCascadePorts({ interleaver: gates.interleaver });
//   const cascade = createCascade(ports);
//   const held = gates.pauseAt({ actor: 'push', port: 'imageStates', method: 'producer' });
//   const push = actingAs('push', () => cascade.process(pushEvent));
//   await held.reached;                      // `push` is about to read the tag's producer
//   await actingAs('result', () => cascade.process(buildResult));
//   await held.release();                    // the read happens now
//   await push;
//
// Random (fast-check): the scheduler picks which pending request happens next.
//
//   fc.asyncProperty(fc.scheduler(), async (s) => {
//     const ports = memoryCascadePorts({ interleaver: fromScheduler(s) });
//     const done = Promise.all([actingAs('a', () => …), actingAs('b', () => …)]);
//     await s.waitIdle();
//     await done;
//     // The test's own requests wait for the scheduler too; waitFor lets them through.
//     expect(await s.waitFor(ports.runs.listUnfinished())).toEqual([]);
//   });                                      // a failure prints the order taken, by describeCall
//
// A crash: `gates.crash('push')`: none of that caller's requests happens from then on and it never
// hears back, as when its process dies. Held with `when: 'after'` first, the request it was making
// has happened and only the answer is lost. `new Gates(fromScheduler(s))` gives both.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Scheduler } from 'fast-check';

/** One request of one port method, about to happen. */
export interface PortCall {
  /** The port as memoryStores() and CascadePorts name it: `tasks`, `imageStates`, `queue`, … */
  port: string;
  method: string;
  /** Which request of this method call, from 1: some methods make several, as their adapter does. */
  request: number;
  /** The method's arguments, as the caller gave them (read them, do not change them). */
  args: readonly unknown[];
  /** Who is calling: the name given to actingAs(), if any. */
  actor?: string;
}

/**
 * Performs `act` (the request: synchronous, so it is atomic) when it chooses, and answers with its
 * result. It must call `act` at most once; not calling it leaves the caller waiting forever.
 */
export type Interleaver = <T>(call: PortCall, act: () => T) => Promise<T>;

export const immediately: Interleaver = async (_call, act) => act();

const actors = new AsyncLocalStorage<string>();

/** Runs `work` as `actor`: every port call it makes, however deep, carries the name. */
export function actingAs<T>(actor: string, work: () => Promise<T>): Promise<T> {
  return actors.run(actor, work);
}

export function currentActor(): string | undefined {
  return actors.getStore();
}

/** `push: imageStates.producer`, `result: slots.release #2`: for labels and failure reports. */
export function describeCall(call: PortCall): string {
  return `${call.actor ?? 'anyone'}: ${call.port}.${call.method}${call.request > 1 ? ` #${call.request}` : ''}`;
}

/** Lets a fast-check scheduler decide the order of every request. */
export function fromScheduler(scheduler: Scheduler): Interleaver {
  return (call, act) => scheduler.schedule(Promise.resolve(), describeCall(call)).then(act);
}

export type CallMatch = Partial<Pick<PortCall, 'port' | 'method' | 'request' | 'actor'>> | ((call: PortCall) => boolean);

export interface HeldCall {
  /** Resolves with the call once it is held. */
  readonly reached: Promise<PortCall>;
  /**
   * Lets it go on. Resolves once its request has happened (held before) or its answer is on its
   * way to the caller (held after), or at once when its caller has crashed.
   */
  release(): Promise<void>;
}

interface Pause {
  match: CallMatch;
  when: 'before' | 'after';
  held: (call: PortCall) => void;
  released: Promise<void>;
  passed: () => void;
}

/** A request never to be made nor answered: its caller has crashed. */
const CRASHED = Symbol('crashed');
const forever = new Promise<never>(() => {});

/** Deterministic control: holds chosen calls, crashes callers, and keeps the order requests happened in. */
export class Gates {
  /** Every request made, in the order made. */
  readonly trace: PortCall[] = [];
  private readonly pauses: Pause[] = [];
  private readonly crashed = new Set<string>();

  /** `next` decides the order of calls not held (e.g. fromScheduler(s)). */
  constructor(private readonly next: Interleaver = immediately) {}

  /**
   * Holds the next call that matches, before its request is made (or, with `when: 'after'`,
   * after it was made and before its caller hears the answer).
   */
  pauseAt(match: CallMatch, options: { when?: 'before' | 'after' } = {}): HeldCall {
    let held!: (call: PortCall) => void;
    let release!: () => void;
    let passed!: () => void;
    const reached = new Promise<PortCall>((resolve) => (held = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    const done = new Promise<void>((resolve) => (passed = resolve));
    this.pauses.push({ match, when: options.when ?? 'before', held, released, passed });
    return {
      reached,
      release: () => {
        release();
        return done;
      },
    };
  }

  /** The actor's process stops: its calls held now or made later never happen nor answer. */
  crash(actor: string): void {
    this.crashed.add(actor);
  }

  readonly interleaver: Interleaver = async <T>(call: PortCall, act: () => T): Promise<T> => {
    const before = this.take(call, 'before');
    await this.gate(call, before);
    let outcome: { value: T } | { error: unknown };
    try {
      outcome = {
        value: await this.next(call, () => {
          if (this.isCrashed(call)) throw CRASHED;
          this.trace.push(call);
          return act();
        }),
      };
    } catch (error) {
      if (error === CRASHED) {
        before?.passed();
        return forever;
      }
      outcome = { error };
    }
    before?.passed();
    const after = this.take(call, 'after');
    await this.gate(call, after);
    after?.passed();
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  };

  private take(call: PortCall, when: Pause['when']): Pause | undefined {
    const index = this.pauses.findIndex((pause) => pause.when === when && matches(pause.match, call));
    return index < 0 ? undefined : this.pauses.splice(index, 1)[0];
  }

  private async gate(call: PortCall, pause: Pause | undefined): Promise<void> {
    if (pause) {
      pause.held(call);
      await pause.released;
    }
    if (this.isCrashed(call)) {
      pause?.passed();
      await forever;
    }
  }

  private isCrashed(call: PortCall): boolean {
    return call.actor !== undefined && this.crashed.has(call.actor);
  }
}

function matches(match: CallMatch, call: PortCall): boolean {
  if (typeof match === 'function') return match(call);
  return (Object.keys(match) as Array<keyof typeof match>).every((key) => match[key] === call[key]);
}
