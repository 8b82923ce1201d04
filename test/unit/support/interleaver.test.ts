// The interleaving hooks of the memory ports: a test decides when each request happens.
import fc from 'fast-check';
import { actingAs, currentActor, describeCall, fromScheduler, Gates, immediately, type PortCall } from '../../support/interleaver';
import { memoryStores } from '../../support/memory-ports';

/** Lets every pending continuation run (a few turns of the microtask queue and one of the loop). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A read-modify-write of two requests: it loses updates when another runs between them. */
async function bump(stores: ReturnType<typeof memoryStores>, ref: string): Promise<void> {
  const state = (await stores.pollStates.get(ref)) ?? { ref, platforms: {}, failures: 0 };
  await stores.pollStates.put({ ...state, failures: state.failures + 1 });
}

describe('immediately', () => {
  it('makes each request at once, in the order they come', async () => {
    const order: string[] = [];
    const call = (method: string): PortCall => ({ port: 'p', method, request: 1, args: [] });
    const first = immediately(call('a'), () => order.push('a'));
    order.push('between');
    await Promise.all([first, immediately(call('b'), () => order.push('b'))]);
    expect(order).toEqual(['a', 'between', 'b']);
  });
});

describe('actingAs', () => {
  it('names every call made inside, however deep, and only those', async () => {
    const gates = new Gates();
    const stores = memoryStores({ interleaver: gates.interleaver });
    await Promise.all([
      actingAs('one', async () => {
        await stores.tasks.get('x');
        await Promise.all([stores.runs.nextId(), actingAs('nested', () => stores.runs.nextId())]);
        expect(currentActor()).toBe('one');
      }),
      stores.tasks.list(),
    ]);
    expect(gates.trace.map((call) => `${call.actor ?? '-'} ${call.port}.${call.method}`).sort()).toEqual(['- tasks.list', 'nested runs.nextIds', 'one runs.nextIds', 'one tasks.get']);
    expect(currentActor()).toBeUndefined();
  });
});

describe('describeCall', () => {
  it.each<[PortCall, string]>([
    [{ port: 'imageStates', method: 'producer', request: 1, args: [], actor: 'push' }, 'push: imageStates.producer'],
    [{ port: 'slots', method: 'release', request: 2, args: [] }, 'anyone: slots.release #2'],
  ])('%j reads %s', (call, label) => {
    expect(describeCall(call)).toBe(label);
  });
});

describe('Gates', () => {
  it('holds a caller between two of its requests while another runs: the lost update, made on purpose', async () => {
    const gates = new Gates();
    const stores = memoryStores({ interleaver: gates.interleaver });
    const held = gates.pauseAt({ actor: 'slow', method: 'put' });
    const slow = actingAs('slow', () => bump(stores, 'ref'));
    expect(await held.reached).toMatchObject({ port: 'pollStates', method: 'put', actor: 'slow' });
    await actingAs('fast', () => bump(stores, 'ref'));
    expect((await stores.pollStates.get('ref'))?.failures).toBe(1);
    await held.release();
    await slow;
    expect((await stores.pollStates.get('ref'))?.failures).toBe(1); // two bumps, one counted
    expect(gates.trace.map(describeCall)).toEqual(['slow: pollStates.get', 'fast: pollStates.get', 'fast: pollStates.put', 'anyone: pollStates.get', 'slow: pollStates.put', 'anyone: pollStates.get']);
  });

  it('holds after the request: others see its effect before its caller hears of it', async () => {
    const gates = new Gates();
    const { timerStates } = memoryStores({ interleaver: gates.interleaver });
    const held = gates.pauseAt({ method: 'claim' }, { when: 'after' });
    let heard: boolean | undefined;
    const claiming = timerStates.claim('t', 'nightly', '2026-11-28T03:00:00.000Z').then((won) => (heard = won));
    await held.reached;
    expect(await timerStates.lastFired('t', 'nightly')).toBe('2026-11-28T03:00:00.000Z');
    await settle();
    expect(heard).toBeUndefined();
    await held.release();
    await claiming;
    expect(heard).toBe(true);
  });

  it('matches with a function, and by request number', async () => {
    const gates = new Gates();
    const { slots } = memoryStores({ interleaver: gates.interleaver });
    await slots.admit('app', 'da1');
    await slots.admit('app', 'da2');
    // release of da2 (the waiting run) makes three requests; hold the third.
    const third = gates.pauseAt((call) => call.method === 'release' && call.request === 3 && call.args[1] === 'da2');
    const releasing = slots.release('app', 'da2');
    expect((await third.reached).request).toBe(3);
    expect(await slots.get('app')).toEqual({ building: 'da1', waiting: 'da2' });
    await third.release();
    expect(await releasing).toBeUndefined();
    expect(await slots.get('app')).toEqual({ building: 'da1' });
  });

  it('a release before the call comes lets it pass', async () => {
    const gates = new Gates();
    const { tasks } = memoryStores({ interleaver: gates.interleaver });
    const held = gates.pauseAt({ method: 'list' });
    const passed = held.release();
    expect(await tasks.list()).toEqual([]);
    await passed;
    expect((await held.reached).method).toBe('list');
  });

  it('a crashed caller makes no request from then on and never hears back; others go on', async () => {
    const gates = new Gates();
    const stores = memoryStores({ interleaver: gates.interleaver });
    const held = gates.pauseAt({ actor: 'worker', method: 'put' });
    let settled = false;
    void actingAs('worker', () => bump(stores, 'ref')).finally(() => (settled = true));
    await held.reached;
    gates.crash('worker');
    await held.release();
    await settle();
    expect(settled).toBe(false);
    expect(await stores.pollStates.get('ref')).toBeUndefined();
    // Later calls of the crashed caller hang too; another caller is not touched.
    void actingAs('worker', () => stores.pollStates.list()).finally(() => (settled = true));
    await actingAs('other', () => bump(stores, 'ref'));
    await settle();
    expect(settled).toBe(false);
    expect(gates.trace.map(describeCall)).toEqual(['worker: pollStates.get', 'anyone: pollStates.get', 'other: pollStates.get', 'other: pollStates.put']);
  });

  it('a crash after the request: it happened, and its caller never learns', async () => {
    const gates = new Gates();
    const { deliveries } = memoryStores({ interleaver: gates.interleaver });
    const held = gates.pauseAt({ actor: 'receiver', method: 'markSeen' }, { when: 'after' });
    let heard = false;
    void actingAs('receiver', () => deliveries.markSeen('d-1', 60)).then(() => (heard = true));
    await held.reached;
    gates.crash('receiver');
    await held.release();
    await settle();
    expect(heard).toBe(false);
    // The provider's retry, to a process started again, is a redelivery.
    expect(await actingAs('restarted', () => deliveries.markSeen('d-1', 60))).toBe(false);
  });

  it('passes a request’s error to its caller after holding it', async () => {
    const gates = new Gates();
    const { tasks } = memoryStores({ interleaver: gates.interleaver });
    const held = gates.pauseAt({ method: 'setTimers' }, { when: 'after' });
    const failing = tasks.setTimers('nobody', [], '2026-11-28T05:00:00.000Z');
    await held.reached;
    await held.release();
    await expect(failing).rejects.toThrow(/was not found/);
  });
});

describe('fromScheduler', () => {
  it('lets fast-check find the interleaving that loses an update', async () => {
    const result = await fc.check(
      fc.asyncProperty(fc.scheduler(), async (s) => {
        const stores = memoryStores({ interleaver: fromScheduler(s) });
        const both = Promise.all([actingAs('a', () => bump(stores, 'ref')), actingAs('b', () => bump(stores, 'ref'))]);
        await s.waitIdle();
        await both;
        // The test's own read waits for the scheduler too: waitFor lets it through.
        expect((await s.waitFor(stores.pollStates.get('ref')))?.failures).toBe(2);
      }),
      { numRuns: 100, seed: 20261128 },
    );
    expect(result.failed).toBe(true);
  });

  it('never finds two winners of one conditional write, and with Gates a crash mid-way changes nothing of that', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.nat({ max: 3 }), async (s, crashing) => {
        const gates = new Gates(fromScheduler(s));
        const { timerStates } = memoryStores({ interleaver: gates.interleaver });
        const wins: string[] = [];
        const ticks = ['t0', 't1', 't2', 't3'].map((tick) =>
          actingAs(tick, async () => {
            if (await timerStates.claim('task', 'nightly', '2026-11-28T03:00:00.000Z')) wins.push(tick);
          }),
        );
        gates.crash(`t${crashing}`);
        await s.waitIdle();
        await Promise.race([Promise.all(ticks.filter((_, i) => i !== crashing)), settle()]);
        expect(wins).toHaveLength(1);
        expect(wins).not.toContain(`t${crashing}`);
      }),
      { numRuns: 200, seed: 20261128 },
    );
  });
});
