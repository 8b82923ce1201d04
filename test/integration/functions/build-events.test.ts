import { createBuildEventsHandler } from '../../../functions/build-events';
import { eventFixture } from '../../support/event-fixtures';
import { cascadePerTest, ECR_APP, ECR_BASE, helloworldTask, type TestCascade } from '../../support/cascade-on-dynamodb';

type StateChange = { detail: { 'project-name': string; 'additional-information': { environment: { 'environment-variables': Array<{ name: string; value: string }> } } } };

/** A fixture event for another run id (CodeBuild carries it in the build's environment). */
function forRun(file: string, runId: string): StateChange {
  const event = eventFixture<StateChange>(file);
  for (const v of event.detail['additional-information'].environment['environment-variables']) if (v.name === 'CASCADE_RUN_ID') v.value = runId;
  return event;
}

describe('functions/build-events', () => {
  const current = cascadePerTest();
  let t: TestCascade;
  let handle: ReturnType<typeof createBuildEventsHandler>;
  let info: jest.SpyInstance;

  beforeEach(async () => {
    t = current();
    handle = createBuildEventsHandler(t.cascade, { projectName: 'cascade-dev' });
    info = jest.spyOn(console, 'info');
    await t.cascade.tasks.create(helloworldTask());
  });
  afterEach(() => info.mockRestore());

  const runHelloworld = () => t.cascade.runs.runTaskByName('helloworld', { trigger: 'Manual', cause: { kind: 'manual' } });

  it("records a succeeded build as its run's result and the task's dependencies", async () => {
    const run = await runHelloworld();
    expect(run).toMatchObject({ id: 'da1', status: 'Running' });

    const outcome = await handle(eventFixture('buildEvents.json'));
    expect(outcome.kind).toBe('result');
    expect(await t.stores.runs.get('da1')).toMatchObject({
      status: 'Succeeded',
      finishedAt: '2026-11-28T05:01:40.000Z',
      outputImages: [{ reference: `${ECR_APP}/helloworld:da1`, digest: `sha256:${'c'.repeat(64)}` }],
      baseImages: [{ registry: ECR_BASE, repository: 'baseimages/node', tag: '9-alpine', digest: `sha256:${'a'.repeat(64)}`, stage: 'runtime', pinned: false }],
    });
    expect(await t.stores.dependencies.listForTask('helloworld')).toEqual([
      expect.objectContaining({ taskName: 'helloworld', registry: ECR_BASE, repository: 'baseimages/node', tag: '9-alpine', stage: 'runtime', capturedByRun: 'da1' }),
    ]);
    expect((await t.stores.tasks.get('helloworld'))?.dependenciesCapturedAt).toBe('2026-11-28T05:01:40.000Z');
  });

  it('changes nothing when EventBridge delivers the same event again', async () => {
    await runHelloworld();
    await handle(eventFixture('buildEvents.json'));
    const before = await t.stores.runs.get('da1');
    await handle(eventFixture('buildEvents.json'));
    expect(await t.stores.runs.get('da1')).toEqual(before);
  });

  it('records a failed build with the reason the build gave', async () => {
    await runHelloworld();
    await runHelloworld();
    await handle(forRun('codebuild-failed.json', 'da2'));
    expect(await t.stores.runs.get('da2')).toMatchObject({
      status: 'Failed',
      error: 'building the image failed: ERROR: failed to solve: process "/bin/sh -c npm install" did not complete successfully: exit code: 1',
      outputImages: [],
    });
    expect((await t.stores.runs.get('da1'))?.status).toBe('Running');
    // A failed build records no dependencies.
    expect(await t.stores.dependencies.listForTask('helloworld')).toEqual([]);
  });

  it('does nothing for a build still in progress, or for another project', async () => {
    await runHelloworld();
    expect(await handle(eventFixture('codebuild-in-progress.json'))).toMatchObject({ kind: 'ignored' });
    const other = eventFixture<StateChange>('buildEvents.json');
    other.detail['project-name'] = 'someone-else';
    expect(await handle(other)).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('not cascade-dev') });
    expect((await t.stores.runs.get('da1'))?.status).toBe('Running');
    const lines = info.mock.calls.map((c) => JSON.parse(c[0] as string));
    expect(lines.map((l) => [l.level, l.message])).toEqual([
      ['INFO', 'build event ignored'],
      ['INFO', 'build event ignored'],
    ]);
  });

  it('throws for a run it cannot find, so Lambda retries the event', async () => {
    await expect(handle(forRun('buildEvents.json', 'da99'))).rejects.toMatchObject({ name: 'NotFoundError' });
  });
});
