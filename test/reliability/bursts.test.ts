// A burst of pushes of one base tag: per task at most one build running and one waiting, and
// the waiting one builds the newest digest; the runs in between say what superseded them.
import { startDrillOnOneBase, type Drill } from './harness';

jest.setTimeout(120_000);

let drill: Drill;
beforeEach(async () => {
  drill = await startDrillOnOneBase();
});
afterEach(() => drill.stop());

// How fast a push is handled is `npm run bench`'s business (trigger latency), not this test's.
it('5 pushes in a row: one build running, one waiting for the newest digest, then done', async () => {
  const digests: string[] = [];
  for (let i = 0; i < 5; i += 1) {
    digests.push(await drill.registry.push('base/node:20'));
    await drill.settle();
  }

  for (const task of ['app', 'other']) {
    const runs = (await drill.runsOf(task)).filter((r) => r.trigger === 'Image Update').reverse();
    expect(runs.map((r) => [r.status, r.cause.kind === 'image-update' && r.cause.newDigest])).toEqual([
      ['Running', digests[0]],
      ['Canceled', digests[1]],
      ['Canceled', digests[2]],
      ['Canceled', digests[3]],
      ['Queued', digests[4]],
    ]);
    for (const superseded of runs.slice(1, 4)) expect(superseded.error).toMatch(/^superseded by da\d+, which builds the newer change .* once da\d+ is done$/);
  }
  expect(drill.builder.building()).toHaveLength(2);

  // The running builds end; each task's waiting run builds next, and is the last.
  for (const runId of drill.builder.building()) await drill.finish(runId, { pushes: 'silent' });
  await drill.settle();
  expect(drill.builder.building()).toHaveLength(2);
  for (const runId of drill.builder.building()) await drill.finish(runId, { pushes: 'silent' });
  await drill.settle();
  for (const task of ['app', 'other']) {
    const statuses = (await drill.runsOf(task)).filter((r) => r.trigger === 'Image Update').map((r) => r.status);
    expect(statuses).toEqual(['Succeeded', 'Canceled', 'Canceled', 'Canceled', 'Succeeded']);
    const [dependency] = (await drill.stack.cascade.tasks.show(task)).dependencies;
    expect(dependency?.digest).toBe(digests[4]);
  }
  expect(drill.builder.started.filter((s) => s.spec.images[0] === 'app:latest')).toHaveLength(3);
});

it('a waiting run that is canceled by hand lets the next push wait in its place', async () => {
  await drill.registry.push('base/node:20');
  await drill.settle();
  await drill.registry.push('base/node:20');
  await drill.settle();
  const waiting = (await drill.runsOf('app')).find((r) => r.status === 'Queued')!;
  await drill.stack.cascade.runs.cancel(waiting.id);
  expect((await drill.stack.cascade.runs.get(waiting.id)).status).toBe('Canceled');
  const newest = await drill.registry.push('base/node:20');
  await drill.settle();
  const queued = (await drill.runsOf('app')).filter((r) => r.status === 'Queued');
  expect(queued.map((r) => r.cause.kind === 'image-update' && r.cause.newDigest)).toEqual([newest]);
});

it('a waiting run builds when the running one fails', async () => {
  await drill.registry.push('base/node:20');
  await drill.settle();
  const newest = await drill.registry.push('base/node:20');
  await drill.settle();
  const running = drill.builder.building().filter((id) => drill.builder.started.find((s) => s.runId === id)?.spec.images[0] === 'app:latest');
  await drill.finish(running[0]!, { status: 'Failed', pushes: 'silent' });
  await drill.settle();
  const [latest] = await drill.runsOf('app');
  expect(latest).toMatchObject({ status: 'Running', cause: expect.objectContaining({ newDigest: newest }) });
});

it('two pushes delivered at the same moment build the newer digest only, whatever order they are handled in', async () => {
  const older = await drill.registry.push('base/node:20', { notify: false });
  const olderNotice = drill.registry.notification('base/node:20', older);
  const newer = await drill.registry.push('base/node:20', { notify: false });
  const newerNotice = drill.registry.notification('base/node:20', newer);
  await Promise.all([drill.post(newerNotice), drill.post(olderNotice)]);
  await drill.settle();
  const updates = (await drill.runsOf('app')).filter((r) => r.trigger === 'Image Update' && r.status !== 'Canceled');
  // The older one may have started first; the newer one then waits behind it, and is the last.
  expect(updates[0]?.cause).toMatchObject({ newDigest: newer });
  expect(updates.map((r) => r.cause.kind === 'image-update' && r.cause.newDigest).filter((d) => d === older).length).toBeLessThanOrEqual(1);
});
