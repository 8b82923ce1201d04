// "Why did it (not) rebuild?" against DynamoDB Local: `explain` for every reason, `why` back to
// the first event, a paused task rebuilt when resumed if its base moved on, and the history limits.
import { DEFAULT_HISTORY, type BuildResult, type ResolvedBaseImage, type Run } from '../../lib/domain/types';
import type { Clock, SourceReader } from '../../lib/domain/ports';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/domain/errors';
import { DYNAMODB_START_TIMEOUT_MS, withDynamoDb, type TestTable } from '../support/dynamodb';
import { cascadeOnDynamoDb, helloworldTask, type TestCascade } from '../support/cascade-on-dynamodb';
import { DynamoDbImageStateStore } from '../../lib/adapters/dynamodb-image-state-store';

const BASE_HOST = 'base.example.com';
const APP = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const BASE = `${BASE_HOST}/baseimages/node:9-alpine`;
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const A1 = `sha256:${'a'.repeat(64)}`;
const A2 = `sha256:${'b'.repeat(64)}`;
const manual = { trigger: 'Manual' as const, cause: { kind: 'manual' as const } };

let table: TestTable;
beforeEach(async () => {
  table = await withDynamoDb();
}, DYNAMODB_START_TIMEOUT_MS);
afterEach(() => table.stop());

function nodeBase(digest: string, overrides: Partial<ResolvedBaseImage> = {}): ResolvedBaseImage {
  return { registry: BASE_HOST, repository: 'baseimages/node', tag: '9-alpine', digest, stage: 'runtime', pinned: false, ...overrides };
}

function succeeded(run: Run, baseImages: ResolvedBaseImage[], outputImages: BuildResult['outputImages'] = [], finishedAt = new Date()): BuildResult {
  return { runId: run.id, status: 'Succeeded', finishedAt: finishedAt.toISOString(), outputImages, baseImages };
}

/** Runs the task by hand and records a build of it on these bases. */
async function built(t: TestCascade, name: string, baseImages: ResolvedBaseImage[], outputImages: BuildResult['outputImages'] = [], finishedAt = new Date()): Promise<Run> {
  const run = await t.cascade.runs.runTaskByName(name, manual);
  return t.cascade.runs.recordResult(succeeded(run, baseImages, outputImages, finishedAt));
}

/** Hands what the dispatcher queued (events held or resumed) back to it, until nothing is left. */
async function drain(t: TestCascade): Promise<void> {
  while (t.queue.messages.length > 0) await t.cascade.process(t.queue.messages.shift()!);
}

const pushOf = (registry: string, repository: string, tag: string, digest: string, deliveryId: string, occurredAt = new Date().toISOString()) => ({
  kind: 'image' as const,
  source: 'distribution',
  registry,
  repository,
  tag,
  digest,
  occurredAt,
  deliveryId,
});

describe('cascade explain', () => {
  it('says for every task tracking the image whether that digest would build it, and why not', async () => {
    const dockerfiles: Record<string, string> = {
      'https://git.example.com/fresh.git': `FROM ${BASE}\n`,
      'https://git.example.com/elsewhere.git': 'FROM base.example.com/other:1\n',
    };
    const sources: SourceReader = { readFile: async (context) => dockerfiles[context.kind === 'git' ? context.url : ''] ?? `FROM ${BASE}\n` };
    const t = await cascadeOnDynamoDb(table, { sources });
    const task = (name: string, overrides: Parameters<typeof helloworldTask>[0] = {}) =>
      t.cascade.tasks.create(helloworldTask({ name, context: `https://git.example.com/${name}.git#main`, ...overrides }));
    for (const name of ['builds', 'paused', 'trigger-off', 'builder-stage', 'pinned', 'current', 'started']) await task(name);
    await task('fresh');
    await task('elsewhere');
    await built(t, 'builds', [nodeBase(D1)]);
    await built(t, 'paused', [nodeBase(D1)]);
    await built(t, 'trigger-off', [nodeBase(D1)]);
    await built(t, 'builder-stage', [nodeBase(D1, { stage: 'build-time' }), { ...nodeBase(D1), repository: 'baseimages/runtime' }]);
    await built(t, 'pinned', [nodeBase(D1, { pinned: true })]);
    await built(t, 'current', [nodeBase(D2)]);
    await built(t, 'started', [nodeBase(D1)]);
    await t.cascade.tasks.update('paused', { status: 'Disabled' });
    await t.cascade.tasks.update('trigger-off', { baseImageTriggerEnabled: false });
    await t.stores.dependencies.claimTrigger({ taskName: 'started', registry: BASE_HOST, repository: 'baseimages/node', tag: '9-alpine' }, { digest: D2, at: new Date().toISOString() }, 'delivery-7');

    const answer = await t.cascade.explain.explainImage(BASE, D2);
    expect(answer.image).toBe(BASE);
    expect(answer.tasks.map(({ task, build, code, reason }) => ({ task, build, code, reason }))).toEqual([
      { task: 'builder-stage', build: false, code: 'trigger-type', reason: `${BASE} is a build-time base of builder-stage and its trigger type is Runtime` },
      { task: 'builds', build: true, code: 'build', reason: `${BASE} changed from ${D1} to ${D2}` },
      { task: 'current', build: false, code: 'same-digest', reason: `current was already built from ${BASE}@${D2}` },
      { task: 'fresh', build: false, code: 'not-captured', reason: `fresh has not run yet: its Dockerfile names ${BASE}, but its bases are recorded by its first run; run it once` },
      { task: 'paused', build: false, code: 'disabled', reason: 'task paused is disabled' },
      { task: 'pinned', build: false, code: 'pinned', reason: `pinned pins ${BASE} by digest` },
      { task: 'started', build: false, code: 'already-started', reason: `a build of started for ${BASE}@${D2} was already started (delivery delivery-7)` },
      { task: 'trigger-off', build: false, code: 'trigger-disabled', reason: 'base image trigger of trigger-off is disabled' },
    ]);
    // What explain says is what the dispatcher does: one build, of `builds`.
    const report = await t.cascade.dispatcher.dispatch(pushOf(BASE_HOST, 'baseimages/node', '9-alpine', D2, 'push-2'));
    expect(report.started.map((s) => s.task)).toEqual(['builds']);
  });

  it.each([
    [{ image: BASE, digest: 'sha256:123' }, ValidationError, /digest "sha256:123" must be sha256: followed by 64 hex digits/],
    [{ image: `${BASE}@${D1}`, digest: D2 }, ValidationError, /must name a tag, not a digest/],
    [{ image: 'Not A Ref', digest: D2 }, Error, /invalid image reference/],
  ])('refuses %j', async ({ image, digest }, type, message) => {
    const t = await cascadeOnDynamoDb(table);
    await expect(t.cascade.explain.explainImage(image, digest)).rejects.toThrow(type);
    await expect(t.cascade.explain.explainImage(image, digest)).rejects.toThrow(message);
  });

  it('without Dockerfile access, lists a task not run yet as maybe tracking the image', async () => {
    const t = await cascadeOnDynamoDb(table);
    await t.cascade.tasks.create(helloworldTask({ name: 'new-one' }));
    expect((await t.cascade.explain.explainImage(BASE, D2)).tasks).toEqual([
      { task: 'new-one', build: false, code: 'not-captured', reason: `new-one has not run yet: its bases are recorded by its first run, and whether it uses ${BASE} is known then` },
    ]);
  });
});

describe('cascade why', () => {
  it('follows a run back through the run whose push it builds on, to the first event', async () => {
    const t = await cascadeOnDynamoDb(table);
    await t.cascade.tasks.create(helloworldTask({ name: 'base-app', images: ['base-app:latest'] }));
    await t.cascade.tasks.create(helloworldTask({ name: 'web', images: ['web:{{.Run.ID}}'] }));
    await built(t, 'base-app', [nodeBase(D1)], [{ reference: `${APP}/base-app:latest`, digest: A1 }]);
    await built(t, 'web', [{ registry: APP, repository: 'base-app', tag: 'latest', digest: A1, stage: 'runtime', pinned: false }]);

    const first = await t.cascade.dispatcher.dispatch(pushOf(BASE_HOST, 'baseimages/node', '9-alpine', D2, 'push-1', '2026-12-01T09:00:00.000Z'));
    const upstreamRun = first.started[0]!.runId;
    await t.cascade.runs.recordResult(succeeded(await t.cascade.runs.get(upstreamRun), [nodeBase(D2)], [{ reference: `${APP}/base-app:latest`, digest: A2 }]));
    await drain(t);
    const second = await t.cascade.dispatcher.dispatch(pushOf(APP, 'base-app', 'latest', A2, 'push-2'));
    const runId = second.started[0]!.runId;

    // task show's "last run" of each base.
    expect(await t.cascade.explain.lastRunsByBase('web')).toEqual({ [`${APP}/base-app:latest`]: runId });
    expect(await t.cascade.explain.lastRunsByBase('base-app')).toEqual({ [BASE]: upstreamRun });
    const answer = await t.cascade.explain.why(runId);
    expect(answer).toMatchObject({ runId, root: `image:${BASE}@${D2}`, via: ['base-app'] });
    expect(answer.chain.map(({ runId: id, task, trigger, because, firstEvent }) => ({ id, task, trigger, because, firstEvent }))).toEqual([
      { id: runId, task: 'web', trigger: 'Image Update', because: `${APP}/base-app:latest changed from ${A1} to ${A2}`, firstEvent: undefined },
      {
        id: upstreamRun,
        task: 'base-app',
        trigger: 'Image Update',
        because: `${BASE} changed from ${D1} to ${D2}`,
        firstEvent: { kind: 'image push', source: 'distribution', deliveryId: 'push-1', occurredAt: '2026-12-01T09:00:00.000Z', text: `distribution reported ${BASE} at ${D2} (delivery push-1)` },
      },
    ]);
  });

  it('links to the pushing run even when the push was read just before that run recorded it, and it finished meanwhile', async () => {
    // The push is read as it stood before the run finished: the run among the tag's pushers, no
    // producer yet. By the time the event would wait for it, the run has finished.
    const real = new DynamoDbImageStateStore({ client: table.client, tableName: table.tableName });
    let stale: { runId: string; taskName: string; root: string } | undefined = undefined;
    const imageState: typeof real = Object.assign(Object.create(real) as typeof real, {
      recordPush: async (...args: Parameters<typeof real.recordPush>) => {
        const recorded = await real.recordPush(...args);
        return stale ? { age: recorded.age, pushing: [stale] } : recorded;
      },
    });
    const t = await cascadeOnDynamoDb(table, { imageState });
    await t.cascade.tasks.create(helloworldTask({ name: 'base-app', images: ['base-app:latest'] }));
    await t.cascade.tasks.create(helloworldTask({ name: 'web', images: ['web:{{.Run.ID}}'] }));
    await built(t, 'base-app', [nodeBase(D1)], [{ reference: `${APP}/base-app:latest`, digest: A1 }]);
    await built(t, 'web', [{ registry: APP, repository: 'base-app', tag: 'latest', digest: A1, stage: 'runtime', pinned: false }]);
    const first = await t.cascade.dispatcher.dispatch(pushOf(BASE_HOST, 'baseimages/node', '9-alpine', D2, 'push-1'));
    const upstreamRun = first.started[0]!.runId;
    await t.cascade.runs.recordResult(succeeded(await t.cascade.runs.get(upstreamRun), [nodeBase(D2)], [{ reference: `${APP}/base-app:latest`, digest: A2 }]));
    await drain(t);
    stale = { runId: upstreamRun, taskName: 'base-app', root: `image:${BASE}@${D2}` };
    const second = await t.cascade.dispatcher.dispatch(pushOf(APP, 'base-app', 'latest', A2, 'push-2'));
    const run = await t.cascade.runs.get(second.started[0]!.runId);
    expect(run.origin).toEqual({ root: `image:${BASE}@${D2}`, via: ['base-app'] });
    expect(run.cause).toMatchObject({ pushedByRun: upstreamRun });
  });

  it('ends a manual run at itself, and says when the run a chain goes through is no longer kept', async () => {
    const t = await cascadeOnDynamoDb(table);
    await t.cascade.tasks.create(helloworldTask({ name: 'solo' }));
    const run = await built(t, 'solo', [nodeBase(D1)]);
    expect((await t.cascade.explain.why(run.id)).chain).toMatchObject([{ runId: run.id, because: 'it was run by hand', firstEvent: { kind: 'manual', text: 'a manual run' } }]);
    await expect(t.cascade.explain.why('da404')).rejects.toThrow(NotFoundError);
  });
});

describe('pausing', () => {
  it('rebuilds a resumed task once if its base moved on while it was paused, and not otherwise', async () => {
    const t = await cascadeOnDynamoDb(table);
    await t.cascade.tasks.create(helloworldTask({ name: 'napper' }));
    await t.cascade.tasks.create(helloworldTask({ name: 'sleeper' }));
    await built(t, 'napper', [nodeBase(D1)]);
    await built(t, 'sleeper', [nodeBase(D1)]);
    await t.cascade.tasks.update('napper', { status: 'Disabled' });
    await t.cascade.tasks.update('sleeper', { baseImageTriggerEnabled: false });
    // A manual run of a disabled task is refused too, and says how to resume it.
    await expect(t.cascade.runs.runTaskByName('napper', manual)).rejects.toThrow(ConflictError);
    await expect(t.cascade.runs.runTaskByName('napper', manual)).rejects.toThrow('task "napper" is disabled: enable it with "cascade task update --name napper --status Enabled" to run it');

    const missed = await t.cascade.dispatcher.dispatch(pushOf(BASE_HOST, 'baseimages/node', '9-alpine', D2, 'push-while-paused'));
    expect(missed.started).toEqual([]);
    expect(missed.skipped.map((s) => s.reason).sort()).toEqual(['base image trigger of sleeper is disabled', 'task napper is disabled']);
    const startsBefore = t.builder.started.length;

    // Other changes leave a paused task paused: an update without --status does not enable it.
    expect((await t.cascade.tasks.update('napper', { args: { REGISTRY_NAME: BASE_HOST } })).status).toBe('Disabled');
    await t.cascade.tasks.update('napper', { status: 'Enabled' });
    await t.cascade.tasks.update('sleeper', { baseImageTriggerEnabled: true });
    await drain(t);
    const resumed = [...(await t.cascade.runs.list({ taskName: 'napper', top: 5 })), ...(await t.cascade.runs.list({ taskName: 'sleeper', top: 5 }))].filter((r) => r.trigger === 'Image Update');
    expect(resumed.map((r) => [r.taskName, r.cause])).toEqual([
      ['napper', expect.objectContaining({ base: BASE, oldDigest: D1, newDigest: D2, source: 'resume' })],
      ['sleeper', expect.objectContaining({ base: BASE, oldDigest: D1, newDigest: D2, source: 'resume' })],
    ]);
    expect(t.builder.started.length).toBe(startsBefore + 2);

    // Paused and resumed again with nothing missed: no build.
    for (const run of resumed) await t.cascade.runs.recordResult(succeeded(run, [nodeBase(D2)]));
    await t.cascade.tasks.update('napper', { status: 'Disabled' });
    await t.cascade.tasks.update('napper', { status: 'Enabled' });
    await drain(t);
    expect(t.builder.started.length).toBe(startsBefore + 2);
  });
});

describe('history', () => {
  it('keeps the newest finished runs of a task, and removes runs past their retention', async () => {
    let now = new Date('2026-12-01T08:00:00.000Z');
    const clock: Clock = { now: () => now };
    const t = await cascadeOnDynamoDb(table, { clock });
    expect(DEFAULT_HISTORY).toEqual({ keepRuns: 50, logRetentionDays: 30 });
    const created = await t.cascade.tasks.create(helloworldTask({ name: 'short-memory', keepRuns: 2, logRetentionDays: 1 }));
    expect(created.history).toEqual({ keepRuns: 2, logRetentionDays: 1 });
    const ids: string[] = [];
    for (let i = 0; i < 4; i += 1) ids.push((await built(t, 'short-memory', [nodeBase(D1)], [], now)).id);
    const running = await t.cascade.runs.runTaskByName('short-memory', manual);
    expect((await t.cascade.runs.list({ taskName: 'short-memory', top: 10 })).map((r) => r.id)).toEqual([running.id, ids[3], ids[2]]);
    await expect(t.cascade.runs.get(ids[0]!)).rejects.toThrow(NotFoundError);
    expect((await t.cascade.runs.get(ids[3]!)).keepUntil).toBe('2026-12-02T08:00:00.000Z');

    now = new Date('2026-12-02T08:00:01.000Z');
    await expect(t.cascade.runs.get(ids[3]!)).rejects.toThrow(NotFoundError);
    expect((await t.cascade.runs.sweepExpired()).sort()).toEqual([ids[2], ids[3]].sort());
    // The run still building is kept whatever its age.
    expect((await t.cascade.runs.list({ taskName: 'short-memory', top: 10 })).map((r) => r.id)).toEqual([running.id]);
  });

  it.each([
    [{ keepRuns: 0 }, /keepRuns/],
    [{ logRetentionDays: 400 }, /logRetentionDays/],
  ])('refuses %j at the API edge', async (bad, message) => {
    const { createTaskSchema, parseInput } = await import('../../lib/http/api-schemas');
    expect(() => parseInput(createTaskSchema, { ...helloworldTask(), ...bad })).toThrow(message);
  });
});
