// At-least-once, out-of-order delivery: the same push any number of times, concurrently, through
// two webhooks, builds once; an older digest arriving late builds nothing; a deleted tag builds
// nothing and marks the dependency.
import { startDrillOnOneBase, type Drill } from './harness';

jest.setTimeout(120_000);

let drill: Drill;
beforeEach(async () => {
  drill = await startDrillOnOneBase();
});
afterEach(() => drill.stop());

const updates = async (task: string) => (await drill.runsOf(task)).filter((r) => r.trigger === 'Image Update');

it('builds once for one delivery sent 10 times in a row', async () => {
  const digest = await drill.registry.push('base/node:20', { notify: false });
  const body = drill.registry.notification('base/node:20', digest, 'same-delivery');
  for (let i = 0; i < 10; i += 1) expect(await drill.post(body)).toBe(202);
  await drill.settle();
  for (const task of ['app', 'other']) expect((await updates(task)).map((r) => r.cause)).toEqual([expect.objectContaining({ newDigest: digest })]);
  expect(drill.builder.started.filter((s) => s.spec.images[0] === 'app:latest')).toHaveLength(2); // the manual run and this one
});

it('builds once for one digest delivered 20 times at once, under 20 delivery ids, through two webhooks', async () => {
  const mirror = await drill.webhook('registry-mirror');
  const digest = await drill.registry.push('base/node:20', { notify: false });
  const statuses = await Promise.all(
    Array.from({ length: 20 }, (_, i) => drill.post(drill.registry.notification('base/node:20', digest, `concurrent-${i}`), i % 2 ? mirror : drill.hook)),
  );
  expect(statuses).toEqual(Array(20).fill(202));
  await drill.settle();
  for (const task of ['app', 'other']) expect(await updates(task)).toHaveLength(1);
});

it('builds nothing for an older digest that arrives after a newer one', async () => {
  const d1 = await drill.registry.push('base/node:20', { notify: false });
  const older = drill.registry.notification('base/node:20', d1);
  const d2 = await drill.registry.push('base/node:20');
  await drill.settle();
  expect(await drill.post(older)).toBe(202);
  await drill.settle();
  expect((await updates('app')).map((r) => r.cause)).toEqual([expect.objectContaining({ newDigest: d2 })]);
});

it('builds nothing when the tag is deleted, and marks the dependency of every task on it', async () => {
  const started = drill.builder.started.length;
  const deleted = JSON.parse(drill.registry.notification('base/node:20', drill.registry.digestOf('base/node:20'), 'delete-1')) as { events: Array<Record<string, unknown>> };
  deleted.events[0]!.action = 'delete';
  expect(await drill.post(JSON.stringify(deleted))).toBe(202);
  await drill.settle();
  expect(drill.builder.started.length).toBe(started);
  for (const task of ['app', 'other']) {
    expect((await drill.stack.cascade.tasks.show(task)).dependencies).toEqual([expect.objectContaining({ tag: '20', tagGoneAt: expect.any(String) })]);
  }
});
