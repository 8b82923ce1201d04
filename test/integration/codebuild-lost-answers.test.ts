// A StartBuild whose answer is lost after CodeBuild took it is not a failed run (issue 11, point
// 4). The real domain on DynamoDB Local, the real CodeBuildBuilder and CodeBuildClient against the
// CodeBuild emulator (every request held to the service model), the real build-events and
// reconciler handlers; one clock for all, so that CodeBuild's five minutes and the reconciler's
// grace pass without waiting.
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { createBuildEventsHandler } from '../../functions/build-events';
import { createReconcilerHandler } from '../../functions/reconciler';
import { CodeBuildBuilder } from '../../lib/adapters/codebuild-builder';
import { QUEUED_GRACE_MS } from '../../lib/domain/recovery';
import type { Task } from '../../lib/domain/types';
import { startCodeBuildEmulator, type CodeBuildEmulator, type LostAnswer } from '../support/codebuild-emulator';
import { DYNAMODB_START_TIMEOUT_MS, withDynamoDb, type TestTable } from '../support/dynamodb';
import { cascadeOnDynamoDb, ECR_APP, ECR_BASE, helloworldTask, type TestCascade } from '../support/cascade-on-dynamodb';

jest.setTimeout(60_000);

const BASE_DIGEST = `sha256:${'a'.repeat(64)}`;
const APP_DIGEST = `sha256:${'c'.repeat(64)}`;
const MINUTE = 60_000;
const manual = { trigger: 'Manual' as const, cause: { kind: 'manual' as const } };

describe('a StartBuild whose answer was lost', () => {
  let anchor: TestTable;
  let table: TestTable;
  let codebuild: CodeBuildEmulator;
  let client: CodeBuildClient;
  let t: TestCascade;
  let task: Task;
  let now: number;
  const clock = { now: () => new Date(now) };

  beforeAll(async () => {
    anchor = await withDynamoDb();
  }, DYNAMODB_START_TIMEOUT_MS);
  afterAll(() => anchor.stop());

  /** The SDK's own attempts per call: the default 3, or 1 so that each lost answer is one the builder sees. */
  async function setUp(maxAttempts: number) {
    now = Date.parse('2026-11-28T05:00:01.482Z');
    table = await withDynamoDb();
    codebuild = await startCodeBuildEmulator({ clock });
    client = new CodeBuildClient({ endpoint: codebuild.url, region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'emulator' }, maxAttempts });
    const builder = new CodeBuildBuilder({ projectName: 'cascade-dev', client, clock });
    t = await cascadeOnDynamoDb(table, { builder, clock });
    task = await t.cascade.tasks.create(helloworldTask());
  }
  afterEach(async () => {
    client?.destroy();
    await codebuild?.close();
    await table?.stop();
  });

  const operations = () => codebuild.requests.map((r) => r.operation);
  const buildEvents = () => createBuildEventsHandler(t.cascade, { projectName: 'cascade-dev' });

  /** CodeBuild ends the build, and its state change event reaches the build-events function. */
  async function buildSucceeds(runId: string, buildId: string) {
    now += 2 * MINUTE;
    const event = codebuild.finish(buildId, {
      status: 'SUCCEEDED',
      exported: {
        CASCADE_BASE_IMAGES: JSON.stringify([{ registry: ECR_BASE, repository: 'baseimages/node', tag: '9-alpine', digest: BASE_DIGEST, stage: 'runtime', pinned: false }]),
        CASCADE_OUTPUT_IMAGES: JSON.stringify([{ reference: `${ECR_APP}/helloworld:${runId}`, digest: APP_DIGEST }]),
        CASCADE_ERROR: '',
      },
    });
    await expect(buildEvents()(event)).resolves.toMatchObject({ kind: 'result', result: { runId, status: 'Succeeded' } });
  }

  it.each<[string, LostAnswer, number, number]>([
    ['the connection dropped, and the SDK asked again itself', 'reset', 3, 1],
    ['the connection dropped on all three of the SDK\'s attempts, and the builder asked again', 'reset', 3, 3],
    ['an unreadable answer, which the SDK does not ask again for, and the builder did', 'garbled', 3, 1],
  ])('ends Succeeded, with one build: %s', async (_what, how, maxAttempts, lost) => {
    await setUp(maxAttempts);
    codebuild.dropAnswers('StartBuild', how, lost);

    const run = await t.cascade.runs.runTask(task, manual);
    expect(run).toMatchObject({ status: 'Running', buildId: codebuild.created[0]?.id });
    await buildSucceeds(run.id, run.buildId!);

    expect(await t.stores.runs.get(run.id)).toMatchObject({ status: 'Succeeded', outputImages: [{ digest: APP_DIGEST }] });
    expect((await t.cascade.tasks.show('helloworld')).dependencies).toEqual([expect.objectContaining({ digest: BASE_DIGEST, capturedByRun: run.id })]);
    expect(codebuild.created).toHaveLength(1);
    // Every attempt asked with the run id as token; no search was needed within the five minutes.
    expect(operations()).toEqual(Array(lost + 1).fill('StartBuild'));
    expect(new Set(codebuild.requests.map((r) => (r.input as { idempotencyToken: string }).idempotencyToken))).toEqual(new Set([run.id]));
    expect(codebuild.refused).toEqual([]);
    expect(codebuild.answerProblems).toEqual([]);
  });

  it('costs one StartBuild when nothing is lost', async () => {
    await setUp(3);
    const run = await t.cascade.runs.runTask(task, manual);
    await buildSucceeds(run.id, run.buildId!);
    expect(operations()).toEqual(['StartBuild']);
    expect(codebuild.refused).toEqual([]);
  });

  it('a start queued after a lost answer gets the same build from the token, within five minutes', async () => {
    await setUp(1);
    codebuild.dropAnswers('StartBuild', 'reset', 2);
    const run = await t.cascade.runs.createTaskRun(task, manual);
    await t.cascade.runs.startOrQueue(run);
    expect(await t.stores.runs.get(run.id)).toMatchObject({ status: 'Queued' });
    expect(t.queue.messages).toEqual([{ type: 'start-run', runId: run.id }]);

    now += 3 * MINUTE;
    await t.cascade.process(t.queue.messages[0]!);
    expect(await t.stores.runs.get(run.id)).toMatchObject({ status: 'Running', buildId: codebuild.created[0]?.id });
    expect(operations()).toEqual(['StartBuild', 'StartBuild', 'StartBuild']);
    expect(codebuild.created).toHaveLength(1);
    expect(codebuild.refused).toEqual([]);
  });

  it.each<[string, (codebuild: CodeBuildEmulator) => void, 'adopted' | 'started']>([
    ['every answer was lost: the reconciler adopts the build it finds by run id', (c) => c.dropAnswers('StartBuild', 'garbled', 2), 'adopted'],
    ['CodeBuild refused it for now: the reconciler finds no build, and starts one', (c) => c.refuseNext('StartBuild', 'AccountLimitExceededException'), 'started'],
  ])('a run left Queued past CodeBuild\'s five minutes, when %s', async (_what, firstStart, outcome) => {
    await setUp(1);
    firstStart(codebuild);
    const run = await t.cascade.runs.createTaskRun(task, manual);
    await t.cascade.runs.startOrQueue(run);
    expect(await t.stores.runs.get(run.id)).toMatchObject({ status: 'Queued' });
    expect(codebuild.created).toHaveLength(outcome === 'adopted' ? 1 : 0);
    // The queued start never got through (its deliveries failed); the reconciler's grace passes,
    // and with it CodeBuild's five minutes: the token alone would now start a second build.
    now += QUEUED_GRACE_MS + MINUTE;
    const requestsBefore = codebuild.requests.length;

    const report = await createReconcilerHandler(t.cascade)(undefined);
    expect(report).toMatchObject({ started: [run.id], deferred: [] });
    const started = await t.stores.runs.get(run.id);
    expect(started).toMatchObject({ status: 'Running', buildId: codebuild.created[0]?.id });
    expect(operations().slice(requestsBefore)).toEqual(outcome === 'adopted' ? ['ListBuildsForProject', 'BatchGetBuilds'] : ['ListBuildsForProject', 'StartBuild']);

    await buildSucceeds(run.id, started!.buildId!);
    expect(await t.stores.runs.get(run.id)).toMatchObject({ status: 'Succeeded' });
    expect(codebuild.created).toHaveLength(1);
    expect(codebuild.buildsWith('CASCADE_RUN_ID', run.id)).toHaveLength(1);
    expect(codebuild.refused).toEqual([]);
    expect(codebuild.answerProblems).toEqual([]);
  });
});
