// Dependency graphs under automatic rebuilds, where every rebuilt image is itself a push event:
// a task that builds on its own image and a cycle of two tasks never loop; a diamond rebuilds
// its bottom once per change of the top; a chain of five rebuilds level by level.
import { startDrill, type Drill, type PushTiming } from './harness';

jest.setTimeout(120_000);

let drill: Drill;
beforeEach(async () => {
  drill = await startDrill();
});
afterEach(() => drill.stop());

const updates = async (task: string) => (await drill.runsOf(task)).filter((r) => r.trigger === 'Image Update');

describe.each<PushTiming>(['after-result', 'before-result'])('with the registry telling of pushes %s', (pushes) => {
  it('a task whose output is its own base builds once per change and never again for its own push', async () => {
    await drill.registry.push('base/node:20', { notify: false });
    // self builds self:latest FROM base and FROM self:latest (a cache stage, as some Dockerfiles do).
    await drill.registry.push('self:latest', { notify: false });
    await drill.task('self', ['base/node:20', 'self:latest'], { trigger: 'All' });
    drill.finishEach({ pushes });
    await drill.registry.push('base/node:20');
    await drill.settle();
    expect((await updates('self')).map((r) => r.status)).toEqual(['Succeeded']);
    expect(drill.builder.building()).toEqual([]);
  });

  it('a cycle A → B → A rebuilds each once for one change, and stops', async () => {
    await drill.registry.push('base/node:20', { notify: false });
    await drill.registry.push('b:latest', { notify: false });
    await drill.task('a', ['base/node:20', 'b:latest'], { trigger: 'All' });
    await drill.task('b', ['a:latest']);
    drill.finishEach({ pushes });
    await drill.registry.push('base/node:20');
    await drill.settle();
    expect((await updates('a')).map((r) => r.status)).toEqual(['Succeeded']);
    expect((await updates('b')).map((r) => r.status)).toEqual(['Succeeded']);
    const [b] = await updates('b');
    expect(b?.origin).toEqual({ root: expect.stringMatching(/^image:registry\.test:5000\/base\/node:20@sha256:/), via: ['a'] });
  });
});

it('a diamond base → {left, right} → bottom rebuilds bottom once per change of base, after both', async () => {
  await drill.registry.push('base/node:20', { notify: false });
  await drill.task('left', ['base/node:20']);
  await drill.task('right', ['base/node:20']);
  await drill.task('bottom', ['left:latest', 'right:latest'], { trigger: 'All' });
  expect((await drill.stack.cascade.tasks.get('bottom'))?.upstream).toEqual(['left', 'right']);
  drill.finishEach({ pushes: 'after-result' });

  for (let change = 1; change <= 2; change += 1) {
    await drill.registry.push('base/node:20');
    await drill.settle();
    const [bottom] = await updates('bottom');
    // Whole runs, not a count: a failure shows what started the extra one.
    expect((await updates('bottom')).map(({ id, status, cause, origin, error }) => ({ id, status, cause, origin, error }))).toHaveLength(change);
    // It was built from the new images of both sides.
    expect(bottom?.baseImages.map((b) => [b.repository, b.digest])).toEqual([
      ['left', drill.registry.digestOf('left:latest')],
      ['right', drill.registry.digestOf('right:latest')],
    ]);
    const [left] = await updates('left');
    const [right] = await updates('right');
    expect(Date.parse(bottom!.createdAt)).toBeGreaterThanOrEqual(Math.max(Date.parse(left!.finishedAt!), Date.parse(right!.finishedAt!)));
  }
});

it('a diamond rebuilds its bottom once even when each side\'s push is told of before cascade has recorded that side as started, or its result', async () => {
  await drill.registry.push('base/node:20', { notify: false });
  await drill.task('left', ['base/node:20']);
  await drill.task('right', ['base/node:20']);
  await drill.task('bottom', ['left:latest', 'right:latest'], { trigger: 'All' });
  drill.finishEach({ pushes: 'before-result', beforeStarted: true });
  await drill.registry.push('base/node:20');
  await drill.settle();
  const runs = await updates('bottom');
  expect(runs.map(({ id, status, cause, origin }) => ({ id, status, cause, origin }))).toHaveLength(1);
  expect(runs[0]?.baseImages.map((b) => [b.repository, b.digest])).toEqual([
    ['left', drill.registry.digestOf('left:latest')],
    ['right', drill.registry.digestOf('right:latest')],
  ]);
});

it('a diamond whose bottom also builds on the top directly still builds it once, after both sides', async () => {
  await drill.registry.push('base/node:20', { notify: false });
  await drill.task('left', ['base/node:20']);
  await drill.task('right', ['base/node:20']);
  await drill.task('bottom', ['base/node:20', 'left:latest', 'right:latest'], { trigger: 'All' });
  drill.finishEach({ pushes: 'after-result' });
  await drill.registry.push('base/node:20');
  await drill.settle();
  const runs = await updates('bottom');
  expect(runs.map((r) => r.status)).toEqual(['Succeeded']);
  expect(runs[0]?.baseImages.find((b) => b.repository === 'left')?.digest).toBe(drill.registry.digestOf('left:latest'));
});

it('a chain of 5 levels rebuilds in order, each once', async () => {
  await drill.registry.push('base/node:20', { notify: false });
  const levels = ['l1', 'l2', 'l3', 'l4', 'l5'];
  await drill.task('l1', ['base/node:20']);
  for (let i = 1; i < levels.length; i += 1) await drill.task(levels[i]!, [`${levels[i - 1]}:latest`]);
  drill.finishEach({ pushes: 'after-result' });
  await drill.registry.push('base/node:20');
  await drill.settle();
  const runs = [];
  for (const level of levels) {
    const levelRuns = await updates(level);
    expect(levelRuns.map((r) => r.status)).toEqual(['Succeeded']);
    runs.push(levelRuns[0]!);
  }
  for (let i = 1; i < runs.length; i += 1) {
    expect(runs[i]!.sequence).toBeGreaterThan(runs[i - 1]!.sequence);
    expect(Date.parse(runs[i]!.createdAt)).toBeGreaterThanOrEqual(Date.parse(runs[i - 1]!.finishedAt!));
    expect(runs[i]!.origin?.via).toEqual(levels.slice(0, i));
  }
});
