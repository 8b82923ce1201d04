// AWS misbehaving, forced with aws-sdk-client-mock on the CodeBuild adapter, around the local
// stack's real parts: StartBuild throttled in the middle of a fan-out, a lost build state event,
// build state events out of order, and a queue message that always fails.
import { BatchGetBuildsCommand, CodeBuildClient, StartBuildCommand, type StartBuildCommandInput } from '@aws-sdk/client-codebuild';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { createBuildEventsHandler } from '../../functions/build-events';
import { createDispatcherHandler } from '../../functions/dispatcher';
import { CodeBuildBuilder } from '../../lib/adapters/codebuild-builder';
import type { BuildResult, Task } from '../../lib/domain/types';
import { startLocalStack, type LocalStack } from '../../lib/local/stack';
import { eventFixture } from '../support/event-fixtures';

jest.setTimeout(120_000);

const ECR_APP = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const ECR_BASE = '210987654321.dkr.ecr.eu-west-1.amazonaws.com';
const digest = (c: string) => `sha256:${c.repeat(64)}`;

const codebuild = mockClient(CodeBuildClient);
let work: string;
let stack: LocalStack;
let calls: Array<{ runId: string; outcome: 'started' | 'throttled' }>;

function succeededWith(runId: string, base: string, baseTag: string): BuildResult {
  return {
    runId,
    status: 'Succeeded',
    finishedAt: new Date().toISOString(),
    outputImages: [{ reference: `${ECR_APP}/app:${runId}`, digest: digest('9') }],
    baseImages: [{ registry: ECR_BASE, repository: 'baseimages/node', tag: baseTag, digest: base, stage: 'runtime', pinned: false }],
  };
}

/** `count` tasks named `<prefix><n>` on their own base, each built once by hand. */
async function createTasks(prefix: string, count: number): Promise<Task[]> {
  const tasks: Task[] = [];
  for (let i = 1; i <= count; i += 1) {
    const task = await stack.cascade.tasks.create({
      name: `${prefix}${i}`,
      registry: ECR_APP,
      images: [`${prefix}${i}:{{.Run.ID}}`],
      context: `https://github.com/example/${prefix}${i}.git#main`,
      file: 'Dockerfile',
      args: {},
      platform: 'linux/amd64',
      status: 'Enabled',
      baseImageTriggerEnabled: true,
      baseImageTriggerType: 'Runtime',
      commitTriggerEnabled: false,
    });
    const run = await stack.cascade.runs.runTask(task, { trigger: 'Manual', cause: { kind: 'manual' } });
    await stack.cascade.runs.recordResult(succeededWith(run.id, digest('a'), prefix));
    tasks.push(task);
  }
  return tasks;
}

beforeAll(async () => {
  codebuild.on(StartBuildCommand).callsFake(async (input: StartBuildCommandInput) => {
    // Calls 3 to 7 of the fan-out are refused, as CodeBuild does when its API rate is exceeded.
    const n = calls.length + 1;
    const throttled = throttle.has(n);
    calls.push({ runId: input.idempotencyToken as string, outcome: throttled ? 'throttled' : 'started' });
    if (throttled) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    return { build: { id: `cascade-dev:build-for-${input.idempotencyToken}` } };
  });
  work = await mkdtemp(join(tmpdir(), 'cascade-aws-faults-'));
  const client = new CodeBuildClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  stack = await startLocalStack({
    port: 0,
    dataDir: work,
    inMemory: true,
    log: (line) => console.log(line),
    sources: null,
    builder: () => new CodeBuildBuilder({ projectName: 'cascade-dev', client }),
  });
});
afterAll(async () => {
  await stack?.stop();
  if (work) await rm(work, { recursive: true, force: true });
  codebuild.restore();
});
beforeEach(() => {
  calls = [];
  throttle = new Set();
});

let throttle = new Set<number>();

it('StartBuild throttled for calls 3 to 7 of a 10-task fan-out: all 10 start exactly once', async () => {
  await createTasks('fan', 10);
  calls = [];
  throttle = new Set([3, 4, 5, 6, 7]);
  await stack.cascade.dispatcher.dispatch({
    kind: 'image',
    source: 'ecr',
    registry: ECR_BASE,
    repository: 'baseimages/node',
    tag: 'fan',
    digest: digest('b'),
    occurredAt: new Date().toISOString(),
    deliveryId: 'fan-out-1',
  });
  await stack.idle();
  throttle = new Set();
  expect(calls.filter((c) => c.outcome === 'throttled')).toHaveLength(5);
  const started = calls.filter((c) => c.outcome === 'started').map((c) => c.runId);
  expect(started).toHaveLength(10);
  expect(new Set(started).size).toBe(10);
  const updates = (await stack.cascade.runs.list({ top: 100 })).filter((r) => r.trigger === 'Image Update' && r.taskName?.startsWith('fan'));
  expect(updates.map((r) => [r.status, r.buildId])).toEqual(updates.map((r) => ['Running', `cascade-dev:build-for-${r.id}`]));
  expect(stack.queue.deadLetters).toEqual([]);
});

it('a lost build state event: the reconciler records the build CodeBuild reports finished', async () => {
  const [task] = await createTasks('lost', 1);
  const run = await stack.cascade.runs.runTask(task!, { trigger: 'Manual', cause: { kind: 'manual' } });
  codebuild.on(BatchGetBuildsCommand).resolves({
    builds: [
      {
        id: run.buildId,
        projectName: 'cascade-dev',
        buildStatus: 'FAILED',
        endTime: new Date(),
        environment: { type: 'LINUX_CONTAINER', image: 'x', computeType: 'BUILD_GENERAL1_SMALL', environmentVariables: [{ name: 'CASCADE_RUN_ID', value: run.id, type: 'PLAINTEXT' }] },
        exportedEnvironmentVariables: [{ name: 'CASCADE_ERROR', value: 'building the image failed: npm install exited 1' }],
      },
    ],
  });
  expect(await stack.cascade.recovery.reconcile()).toMatchObject({ recorded: [{ runId: run.id, status: 'Failed' }] });
  expect(await stack.cascade.runs.get(run.id)).toMatchObject({ status: 'Failed', error: 'building the image failed: npm install exited 1' });
});

it('build state events out of order never move a run backwards', async () => {
  const [task] = await createTasks('order', 1);
  const run = await stack.cascade.runs.runTask(task!, { trigger: 'Manual', cause: { kind: 'manual' } });
  const handle = createBuildEventsHandler(stack.cascade, { projectName: 'cascade-dev' });
  const forRun = (file: string) => {
    const event = eventFixture<{ detail: { 'additional-information': { environment: { 'environment-variables': Array<{ name: string; value: string }> } } } }>(file);
    for (const v of event.detail['additional-information'].environment['environment-variables']) if (v.name === 'CASCADE_RUN_ID') v.value = run.id;
    return event;
  };
  await handle(forRun('buildEvents.json'));
  await handle(forRun('codebuild-in-progress.json'));
  await handle(forRun('codebuild-failed.json'));
  await handle(forRun('buildEvents.json'));
  expect(await stack.cascade.runs.get(run.id)).toMatchObject({ status: 'Succeeded', finishedAt: '2026-11-28T05:01:40.000Z' });
});

it('a message that always fails ends in the dead-letter queue with its reason', async () => {
  await stack.queue.send({ type: 'start-run', runId: 'da404' });
  await stack.idle();
  expect(stack.queue.deadLetters).toEqual([{ message: { type: 'start-run', runId: 'da404' }, receives: 3, reason: 'run "da404" was not found' }]);

  // On AWS the dispatcher reports it as failed, alone, so SQS redelivers it until its dead-letter queue.
  const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  const record = (messageId: string, body: unknown) => ({ messageId, body: JSON.stringify(body), attributes: { ApproximateReceiveCount: '5' }, messageAttributes: {} });
  const event = { Records: [record('poison', { type: 'start-run', runId: 'da404' }), record('fine', { type: 'start-run', runId: 'da405' })] } as unknown as SQSEvent;
  await createTasks('poison', 1);
  const fine = await stack.cascade.runs.createTaskRun((await stack.cascade.tasks.get('poison1'))!, { trigger: 'Manual', cause: { kind: 'manual' } });
  (event.Records[1] as { body: string }).body = JSON.stringify({ type: 'start-run', runId: fine.id });
  expect(await createDispatcherHandler(stack.cascade)(event)).toEqual({ batchItemFailures: [{ itemIdentifier: 'poison' }] });
  expect(JSON.parse(String(error.mock.calls[0]?.[0]))).toMatchObject({ messageId: 'poison', receiveCount: 5, error: { message: 'run "da404" was not found' } });
  error.mockRestore();
  expect((await stack.cascade.runs.get(fine.id)).status).toBe('Running');
});
