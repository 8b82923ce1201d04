import { createReconcilerHandler } from '../../../functions/reconciler';
import { RetryableError } from '../../../lib/domain/errors';
import type { BuildResult, Task } from '../../../lib/domain/types';
import { cascadePerTest, ECR_APP, ECR_BASE, helloworldTask, type TestCascade } from '../../support/cascade-on-dynamodb';

const BASE_DIGEST = `sha256:${'a'.repeat(64)}`;

function succeeded(runId: string): BuildResult {
  return {
    runId,
    status: 'Succeeded',
    finishedAt: '2026-11-28T05:01:40.000Z',
    outputImages: [{ reference: `${ECR_APP}/helloworld:${runId}`, digest: `sha256:${'c'.repeat(64)}` }],
    baseImages: [{ registry: ECR_BASE, repository: 'baseimages/node', tag: '9-alpine', digest: BASE_DIGEST, stage: 'runtime', pinned: false }],
  };
}

describe('functions/reconciler', () => {
  const current = cascadePerTest();
  let t: TestCascade;
  let task: Task;

  beforeEach(async () => {
    t = current();
    task = await t.cascade.tasks.create(helloworldTask());
  });

  const manual = { trigger: 'Manual' as const, cause: { kind: 'manual' as const } };
  const running = async () => t.cascade.runs.runTask(task, manual);

  it('records the result of a build whose state change event was lost, with the dependencies it pulled', async () => {
    const run = await running();
    t.builder.states.set(run.buildId!, { buildId: run.buildId!, state: 'finished', result: succeeded(run.id) });
    const report = await createReconcilerHandler(t.cascade)();
    expect(report).toEqual({ checked: 1, recorded: [{ runId: 'da1', status: 'Succeeded' }], started: [], deferred: [] });
    expect(await t.stores.runs.get('da1')).toMatchObject({ status: 'Succeeded', finishedAt: '2026-11-28T05:01:40.000Z' });
    expect((await t.cascade.tasks.show('helloworld')).dependencies).toEqual([expect.objectContaining({ digest: BASE_DIGEST, capturedByRun: 'da1' })]);

    // A second pass, and the event arriving after all, change nothing.
    expect(await createReconcilerHandler(t.cascade)()).toEqual({ checked: 0, recorded: [], started: [], deferred: [] });
    expect((await t.cascade.runs.recordResult({ ...succeeded('da1'), status: 'Failed', error: 'late' })).status).toBe('Succeeded');
  });

  it('matches builds to runs by build id, not by what the build says its run is', async () => {
    const run = await running();
    t.builder.states.set(run.buildId!, { buildId: run.buildId!, state: 'finished', result: succeeded('da999') });
    await createReconcilerHandler(t.cascade)();
    expect((await t.stores.runs.get('da1'))?.status).toBe('Succeeded');
  });

  it('leaves a build that is still running alone', async () => {
    const run = await running();
    t.builder.states.set(run.buildId!, { buildId: run.buildId!, state: 'running' });
    expect(await createReconcilerHandler(t.cascade)()).toEqual({ checked: 1, recorded: [], started: [], deferred: [] });
    expect((await t.stores.runs.get('da1'))?.status).toBe('Running');
  });

  it('marks a run whose build CodeBuild has no record of as Error, with the reason', async () => {
    const run = await running();
    t.builder.states.set(run.buildId!, { buildId: run.buildId!, state: 'missing', reason: `no build ${run.buildId} in this test` });
    await createReconcilerHandler(t.cascade)();
    expect(await t.stores.runs.get('da1')).toMatchObject({ status: 'Error', error: `no build ${run.buildId} in this test; its result is unknown` });
  });

  it('starts a run a crash left Queued past the grace period, and only that one, once', async () => {
    const stale = await t.cascade.runs.createTaskRun(task, manual);
    const report = await createReconcilerHandler(t.cascade, { queuedGraceMs: 0 })();
    expect(report.started).toEqual([stale.id]);
    expect(t.builder.started.map((s) => s.runId)).toEqual([stale.id]);
    expect((await t.stores.runs.get(stale.id))?.status).toBe('Running');

    const fresh = await t.cascade.runs.createTaskRun(task, manual);
    expect((await createReconcilerHandler(t.cascade)()).started).toEqual([]);
    expect((await t.stores.runs.get(fresh.id))?.status).toBe('Queued');
    expect(t.builder.started.map((s) => s.runId)).toEqual([stale.id]);
  });

  it('defers a stuck run whose start is throttled, for the next pass', async () => {
    const stale = await t.cascade.runs.createTaskRun(task, manual);
    t.builder.failWith = new RetryableError('starting the CodeBuild build of run da1 failed for now (ThrottlingException); it will be tried again');
    const warnings = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const report = await createReconcilerHandler(t.cascade, { queuedGraceMs: 0 })();
    expect(report.deferred).toEqual([{ runId: stale.id, reason: expect.stringContaining('ThrottlingException') }]);
    expect(warnings.mock.calls.map((c) => JSON.parse(c[0] as string))).toEqual([
      expect.objectContaining({ level: 'WARN', message: 'run left for the next pass', runId: stale.id, reason: expect.stringContaining('ThrottlingException') }),
    ]);
    warnings.mockRestore();
    expect((await t.stores.runs.get(stale.id))?.status).toBe('Queued');
    t.builder.failWith = undefined;
    expect((await createReconcilerHandler(t.cascade, { queuedGraceMs: 0 })()).started).toEqual([stale.id]);
  });

  it('asks about every running build in one describe, however many', async () => {
    for (let i = 0; i < 120; i += 1) await running();
    await createReconcilerHandler(t.cascade)();
    expect(t.builder.described).toHaveLength(1);
    expect(t.builder.described[0]).toHaveLength(120);
  });
});
