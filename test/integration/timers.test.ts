// Timer triggers on the local stack with a fake clock: each due occurrence fires once, whoever
// asks and however often, also after the stack is stopped and started again on the same records.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../lib/domain/ports';
import type { BuildResult, Run } from '../../lib/domain/types';
import { startLocalStack, type LocalStack } from '../../lib/local/stack';
import { RecordingBuilder } from '../support/recording-builder';

jest.setTimeout(180_000);

let work: string;
let stack: LocalStack | undefined;
let now = new Date('2026-12-01T10:00:30.000Z');
const clock: Clock = { now: () => now };
const at = (iso: string) => (now = new Date(iso));

/** One builder per start of the stack, each finishing its builds at once. */
const builders: RecordingBuilder[] = [];
const recordingBuilder = (report: (result: BuildResult) => Promise<void>) => {
  const builder = new RecordingBuilder({ report, finishEach: () => ({ finishedAt: clock.now().toISOString() }) });
  builders.push(builder);
  return builder;
};

async function up(): Promise<LocalStack> {
  stack = await startLocalStack({ port: 0, dataDir: work, log: () => undefined, sources: null, builder: recordingBuilder, clock, timerTickMs: 0, pollIntervalSeconds: 0 });
  return stack;
}

async function timerRuns(s: LocalStack): Promise<Array<Pick<Run, 'id' | 'trigger' | 'cause' | 'status'>>> {
  await s.idle();
  const runs = await s.cascade.runs.list({ taskName: 'nightly-app', top: 100 });
  return runs.reverse().map(({ id, trigger, cause, status }) => ({ id, trigger, cause, status }));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cascade-timers-'));
  const s = await up();
  await s.cascade.tasks.create({
    name: 'nightly-app', registry: '127.0.0.1:5998', images: ['app:{{.Run.ID}}'], context: 'https://example.com/app.git', file: 'Dockerfile',
    args: {}, platform: 'linux/amd64', status: 'Enabled', baseImageTriggerEnabled: true, baseImageTriggerType: 'Runtime', commitTriggerEnabled: true,
  });
});

afterAll(async () => {
  await stack?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

it('fires each due occurrence once, with trigger Timer and the timer and occurrence in the run', async () => {
  const s = stack as LocalStack;
  await s.cascade.timers.add('nightly-app', { name: 'every-minute', schedule: '* * * * *', enabled: true });
  at('2026-12-01T10:00:50.000Z');
  expect(await s.tickTimers()).toEqual([]); // 10:00 came before the timer was added
  at('2026-12-01T10:01:10.000Z');
  expect(await s.tickTimers()).toEqual([{ fired: true, task: 'nightly-app', timer: 'every-minute', occurrence: '2026-12-01T10:01:00.000Z', runId: 'da1', missed: 0 }]);
  expect(await s.tickTimers()).toEqual([]);
  at('2026-12-01T10:01:59.000Z');
  expect(await s.tickTimers()).toEqual([]);
  at('2026-12-01T10:02:00.000Z');
  expect(await s.tickTimers()).toMatchObject([{ fired: true, occurrence: '2026-12-01T10:02:00.000Z', runId: 'da2' }]);
  expect(await timerRuns(s)).toEqual([
    { id: 'da1', trigger: 'Timer', cause: { kind: 'timer', timerName: 'every-minute', occurrence: '2026-12-01T10:01:00.000Z' }, status: 'Succeeded' },
    { id: 'da2', trigger: 'Timer', cause: { kind: 'timer', timerName: 'every-minute', occurrence: '2026-12-01T10:02:00.000Z' }, status: 'Succeeded' },
  ]);
});

it('fires an occurrence once however many times it is delivered at once (Scheduler is at least once)', async () => {
  const s = stack as LocalStack;
  const outcomes = await Promise.all(Array.from({ length: 8 }, () => s.cascade.timers.fire('nightly-app', 'every-minute', '2026-12-01T10:03:00Z')));
  expect(outcomes.filter((o) => o.fired)).toHaveLength(1);
  expect(outcomes.filter((o) => !o.fired).map((o) => !o.fired && o.reason)).toEqual(Array(7).fill('occurrence 2026-12-01T10:03:00.000Z of nightly-app/every-minute was already fired'));
  // An occurrence older than one fired is not fired late either.
  expect(await s.cascade.timers.fire('nightly-app', 'every-minute', '2026-12-01T10:02:00Z')).toMatchObject({ fired: false });
  expect((await timerRuns(s)).map((r) => r.id)).toEqual(['da1', 'da2', 'da3']);
});

it('fires nothing again after a restart, and folds what came due while it was down into one run', async () => {
  await (stack as LocalStack).stop();
  at('2026-12-01T10:03:30.000Z');
  let s = await up();
  expect(await s.tickTimers()).toEqual([]);
  await s.stop();
  // Down for 10:04 to 10:07: one run, for the latest, which says what it folded in.
  at('2026-12-01T10:07:20.000Z');
  s = await up();
  expect(await s.tickTimers()).toEqual([{ fired: true, task: 'nightly-app', timer: 'every-minute', occurrence: '2026-12-01T10:07:00.000Z', runId: 'da4', missed: 3 }]);
  expect(await s.tickTimers()).toEqual([]);
  expect((await timerRuns(s)).at(-1)).toEqual({ id: 'da4', trigger: 'Timer', cause: { kind: 'timer', timerName: 'every-minute', occurrence: '2026-12-01T10:07:00.000Z', missed: 3 }, status: 'Succeeded' });
  expect(builders.flatMap((b) => b.started).map((r) => r.runId)).toEqual(['da1', 'da2', 'da3', 'da4']);
});

it('lets occurrences pass while the task is disabled, and does not make up for them when it is enabled again', async () => {
  const s = stack as LocalStack;
  await s.cascade.tasks.update('nightly-app', { status: 'Disabled' });
  at('2026-12-01T10:08:05.000Z');
  expect(await s.tickTimers()).toEqual([{ fired: false, task: 'nightly-app', timer: 'every-minute', occurrence: '2026-12-01T10:08:00.000Z', reason: 'task nightly-app is disabled' }]);
  await s.cascade.tasks.update('nightly-app', { status: 'Enabled' });
  at('2026-12-01T10:08:40.000Z');
  expect(await s.tickTimers()).toEqual([]);
  at('2026-12-01T10:09:01.000Z');
  expect(await s.tickTimers()).toMatchObject([{ fired: true, occurrence: '2026-12-01T10:09:00.000Z', runId: 'da5', missed: 0 }]);
});

it('keeps several timers per task apart, skips a disabled one, and forgets a removed one', async () => {
  const s = stack as LocalStack;
  await s.cascade.timers.add('nightly-app', { name: 'quarter', schedule: '*/15 * * * *', enabled: true });
  await s.cascade.timers.update('nightly-app', 'every-minute', { enabled: false });
  at('2026-12-01T10:15:00.000Z');
  expect(await s.tickTimers()).toMatchObject([{ fired: true, timer: 'quarter', occurrence: '2026-12-01T10:15:00.000Z', runId: 'da6' }]);
  expect((await s.cascade.timers.list('nightly-app')).map(({ name, schedule, enabled, next, lastFired }) => ({ name, schedule, enabled, next, lastFired }))).toEqual([
    { name: 'every-minute', schedule: '* * * * *', enabled: false, next: '2026-12-01T10:16:00.000Z', lastFired: '2026-12-01T10:09:00.000Z' },
    { name: 'quarter', schedule: '*/15 * * * *', enabled: true, next: '2026-12-01T10:30:00.000Z', lastFired: '2026-12-01T10:15:00.000Z' },
  ]);
  await s.cascade.timers.remove('nightly-app', 'quarter');
  await expect(s.cascade.timers.fire('nightly-app', 'quarter', '2026-12-01T10:30:00Z')).resolves.toMatchObject({ fired: false, reason: 'task nightly-app has no timer quarter' });
  // Added again under the same name: it starts afresh, from the time it was added.
  at('2026-12-01T10:31:00.000Z');
  await s.cascade.timers.add('nightly-app', { name: 'quarter', schedule: '*/15 * * * *', enabled: true });
  expect(await s.tickTimers()).toEqual([]);
});

it.each([
  [{ name: 'bad', schedule: '61 * * * *' }, /schedule "61 \* \* \* \*": minute 61 is out of range 0-59/],
  [{ name: 'six', schedule: '0 0 * * * *' }, /schedule/],
  [{ name: 'every-minute', schedule: '0 3 * * *' }, /task "nightly-app" already has a timer "every-minute"/],
])('refuses %j and changes nothing', async (input, message) => {
  const s = stack as LocalStack;
  const before = await s.cascade.tasks.get('nightly-app');
  await expect(s.cascade.timers.add('nightly-app', { ...input, enabled: true })).rejects.toThrow(message);
  expect(await s.cascade.tasks.get('nightly-app')).toEqual(before);
});
