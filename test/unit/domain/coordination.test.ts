// The exactly-once rules (lib/domain/coordination) through createCascade on the memory ports:
// each scenario is what a registry and the builds do, in an order chosen by the test, and what
// is checked is which builds started. The two races found before by end-to-end drills are here
// as deterministic interleavings: a push told of before its run's start is recorded, and a
// pusher that ends between the event's read of the tag and its wait in the pusher's gate.
import { Gates, actingAs } from '../../support/interleaver';
import { BASE_REGISTRY, digest, imageOf, memoryWorld, type MemoryWorld } from '../../support/memory-world';

const BASE = `${BASE_REGISTRY}/baseimages/node:9-alpine`;
const OTHER_BASE = `${BASE_REGISTRY}/baseimages/python:3`;

async function runsOf(w: MemoryWorld, task: string) {
  return (await w.runs()).filter((r) => r.taskName === task);
}

describe('one change, one build per task', () => {
  it('builds each dependent once for a new digest, and not again for its redelivery or a second webhook', async () => {
    const w = memoryWorld();
    await w.task('app', { on: [BASE] });
    await w.task('api', { on: [BASE] });
    await w.push(BASE, digest('2'), { deliveryId: 'x' });
    await w.push(BASE, digest('2'), { deliveryId: 'x' });
    await w.push(BASE, digest('2'), { deliveryId: 'from-another-webhook' });
    expect(w.builder.started.map((r) => r.runId)).toEqual(['da1', 'da2']);
    await w.finishAll();
    // Dependents come in the order of their names.
    expect((await w.runs()).map((r) => [r.taskName, r.status])).toEqual([
      ['api', 'Succeeded'],
      ['app', 'Succeeded'],
    ]);
  });

  it('drops a digest that arrives after a newer one', async () => {
    const w = memoryWorld();
    await w.task('app', { on: [BASE] });
    const early = w.clock.now().toISOString();
    await w.push(BASE, digest('3'));
    await w.push(BASE, digest('2'), { occurredAt: early });
    expect((await w.runs()).map((r) => r.cause)).toEqual([expect.objectContaining({ newDigest: digest('3') })]);
  });

  it('carries a change through cascade’s own push, and never back into the task that pushed it', async () => {
    const w = memoryWorld();
    await w.task('base-app', { on: [BASE] });
    await w.task('web', { on: [imageOf('base-app')] });
    // A task built on its own image: its push must not rebuild it.
    await w.task('selfish', { on: [BASE, imageOf('selfish')] });
    await w.push(BASE, digest('2'));
    await w.finishAll();
    const runs = await w.runs();
    expect(runs.map((r) => [r.taskName, r.status])).toEqual([
      ['base-app', 'Succeeded'],
      ['selfish', 'Succeeded'],
      ['web', 'Succeeded'],
    ]);
    // web's run carries the base's change on, through base-app.
    expect(runs[2]?.origin).toEqual({ root: `image:${BASE}@${digest('2')}`, via: ['base-app'] });
  });

  it('builds a task on two rebuilding tasks once, after both (a diamond)', async () => {
    const w = memoryWorld();
    await w.task('left', { on: [BASE] });
    await w.task('right', { on: [BASE] });
    await w.task('edge', { on: [imageOf('left'), imageOf('right')] });
    await w.push(BASE, digest('2'));
    expect(w.builder.building()).toEqual(['da1', 'da2']);
    await w.finish('da1');
    expect(w.builder.building()).toEqual(['da2']);
    await w.finishAll();
    const edge = await runsOf(w, 'edge');
    expect(edge).toHaveLength(1);
    // It pulled both new images.
    expect(w.pulled.get(edge[0]!.id)).toEqual([
      { ref: imageOf('left'), digest: w.outputOf('da1') },
      { ref: imageOf('right'), digest: w.outputOf('da2') },
    ]);
  });

  it('keeps one build running and one waiting per task through a burst, the waiting one for the newest digest', async () => {
    const w = memoryWorld();
    await w.task('app', { on: [BASE] });
    for (const d of ['2', '3', '4', '5']) await w.push(BASE, digest(d));
    const runs = await runsOf(w, 'app');
    expect(runs.map((r) => r.status)).toEqual(['Running', 'Canceled', 'Canceled', 'Queued']);
    expect(runs[3]?.cause).toMatchObject({ newDigest: digest('5') });
    await w.finishAll();
    expect((await runsOf(w, 'app')).map((r) => r.status)).toEqual(['Succeeded', 'Canceled', 'Canceled', 'Succeeded']);
    expect(w.pulled.get(runs[3]!.id)).toEqual([{ ref: BASE, digest: digest('5') }]);
  });

  it('builds for a second base changing while the first is built, once each', async () => {
    const w = memoryWorld();
    await w.task('app', { on: [BASE, OTHER_BASE] });
    await w.push(BASE, digest('2'));
    await w.push(OTHER_BASE, digest('7'));
    await w.finishAll();
    expect((await runsOf(w, 'app')).map((r) => [r.status, r.cause.kind === 'image-update' && r.cause.base])).toEqual([
      ['Succeeded', BASE],
      ['Succeeded', OTHER_BASE],
    ]);
  });
});

describe('races, interleaved on purpose', () => {
  // A registry can tell of a build's push before cascade has recorded the run's start: the
  // builder pushed while its start call had not returned. The event must wait for the run's
  // result, then carry its change on; taken for a new change, web would build twice.
  it('a push told of before its run’s start is recorded waits for the run’s result', async () => {
    const gates = new Gates();
    const w = memoryWorld({ interleaver: gates.interleaver });
    await w.task('base-app', { on: [BASE] });
    await w.task('web', { on: [imageOf('base-app')] });
    // base-app's run starts; hold its move to Running.
    const running = gates.pauseAt({ port: 'runs', method: 'transitionMany', actor: 'base push' });
    const basePush = actingAs('base push', () => w.push(BASE, digest('2')));
    await running.reached;
    // Its build pushed already, and the registry says so.
    const [request] = w.builder.started;
    await actingAs('early push', () => w.push(imageOf('base-app'), w.outputOf(request!.runId)));
    expect(w.builder.started).toHaveLength(1);
    await running.release();
    await basePush;
    await w.finishAll({ tellPushes: false });
    expect((await w.runs()).map((r) => [r.taskName, r.status, r.origin?.root])).toEqual([
      ['base-app', 'Succeeded', `image:${BASE}@${digest('2')}`],
      ['web', 'Succeeded', `image:${BASE}@${digest('2')}`],
    ]);
  });

  // The push event finds the run among the tag's pushers, and no producer yet; the run ends
  // before the event can wait in its gate. Its push was recorded before it ended: reading the
  // tag again finds it, and the event carries the run's change on.
  it('a push whose pusher ends before the event can wait for it reads the producer again', async () => {
    const gates = new Gates();
    const w = memoryWorld({ interleaver: gates.interleaver });
    await w.task('base-app', { on: [BASE] });
    await w.task('web', { on: [imageOf('base-app')] });
    await w.push(BASE, digest('2'));
    const [request] = w.builder.started;
    const pushed = w.outputOf(request!.runId);
    const hold = gates.pauseAt({ port: 'gates', method: 'hold', actor: 'push' });
    const push = actingAs('push', () => w.push(imageOf('base-app'), pushed));
    await hold.reached;
    await actingAs('result', () => w.finish(request!.runId, { tellPush: false }));
    await hold.release();
    await push;
    await w.finishAll({ tellPushes: false });
    expect((await w.runs()).map((r) => [r.taskName, r.origin?.root])).toEqual([
      ['base-app', `image:${BASE}@${digest('2')}`],
      ['web', `image:${BASE}@${digest('2')}`],
    ]);
  });

  it('concurrent deliveries of one digest start one build, whichever claims first', async () => {
    const gates = new Gates();
    const w = memoryWorld({ interleaver: gates.interleaver });
    await w.task('app', { on: [BASE] });
    const claim = gates.pauseAt({ port: 'openings', method: 'open', actor: 'first' });
    const first = actingAs('first', () => w.push(BASE, digest('2'), { deliveryId: 'a' }));
    await claim.reached;
    await actingAs('second', () => w.push(BASE, digest('2'), { deliveryId: 'b' }));
    await claim.release();
    await first;
    // The second opened first. Ids are reserved before the claim is known: the one that lost
    // the race leaves its id unused, and writes nothing.
    expect(w.builder.started.map((r) => r.runId)).toEqual(['da2']);
    expect((await w.runs()).map((r) => [r.id, r.cause.kind === 'image-update' && r.cause.deliveryId])).toEqual([['da2', 'b']]);
  });
});

describe('the build slots', () => {
  // A build ends while a new change is admitted: the new run must not be left waiting behind
  // nobody. (The slot store's release gives the place up in steps; an admit between them waits.)
  it('a run admitted while the building run gives its place up builds next', async () => {
    const gates = new Gates();
    const w = memoryWorld({ interleaver: gates.interleaver });
    await w.task('app', { on: [BASE] });
    await w.push(BASE, digest('2'));
    const release = gates.pauseAt({ port: 'slots', method: 'release', request: 2, actor: 'result' });
    const result = actingAs('result', () => w.finish('da1', { tellPush: false }));
    await release.reached;
    await actingAs('push', () => w.push(BASE, digest('3')));
    await release.release();
    await result;
    await w.drain();
    expect((await runsOf(w, 'app')).map((r) => r.status)).toEqual(['Succeeded', 'Running']);
  });

  it('a run found waiting behind a build that ended without giving its place back builds', async () => {
    const w = memoryWorld();
    await w.task('app', { on: [BASE] });
    await w.push(BASE, digest('2'));
    // da1 ends, but the process dies before its place in the slots is given back.
    await w.ports.runs.transition('da1', ['Running'], { status: 'Failed', finishedAt: w.clock.now().toISOString() });
    await w.push(BASE, digest('3'));
    expect((await runsOf(w, 'app')).map((r) => r.status)).toEqual(['Failed', 'Running']);
  });
});
