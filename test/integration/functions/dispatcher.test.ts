import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { createDispatcherHandler } from '../../../functions/dispatcher';
import { RetryableError } from '../../../lib/domain/errors';
import type { QueueMessage } from '../../../lib/domain/ports';
import { eventFixture } from '../../support/event-fixtures';
import { cascadePerTest, ECR_BASE, helloworldTask, type TestCascade } from '../../support/cascade-on-dynamodb';

const OLD = `sha256:${'a'.repeat(64)}`;
const NEW = `sha256:${'b'.repeat(64)}`;

/** SQS records shaped like the fixture's, one per body. */
function batch(...bodies: Array<QueueMessage | string>): SQSEvent {
  const template = eventFixture<SQSEvent>('sqs-start-run.json').Records[0] as SQSRecord;
  return {
    Records: bodies.map((body, i) => ({
      ...template,
      messageId: `message-${i + 1}`,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })),
  };
}

describe('functions/dispatcher', () => {
  const current = cascadePerTest();
  let t: TestCascade;
  let handle: ReturnType<typeof createDispatcherHandler>;
  let errors: jest.SpyInstance;

  beforeEach(() => {
    t = current();
    handle = createDispatcherHandler(t.cascade);
    errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => errors.mockRestore());

  /** A Queued run with no build yet, as a crash between creating and starting leaves one. */
  async function queuedRun(): Promise<string> {
    const task = await t.cascade.tasks.create(helloworldTask());
    const { id, sequence } = await t.stores.runs.nextId();
    await t.stores.runs.create({
      id,
      sequence,
      taskName: task.name,
      platform: task.platform,
      status: 'Queued',
      trigger: 'Manual',
      cause: { kind: 'manual' },
      spec: { registry: task.registry, images: [`helloworld:${id}`], context: task.context, dockerfile: task.dockerfile, buildArgs: task.buildArgs, platform: task.platform, credentials: [] },
      createdAt: new Date().toISOString(),
      outputImages: [],
      baseImages: [],
    });
    return id;
  }

  it('starts the run of the fixture message and reports no failures', async () => {
    const runId = await queuedRun();
    expect(runId).toBe('da1');
    await expect(handle(eventFixture('sqs-start-run.json'))).resolves.toEqual({ batchItemFailures: [] });
    expect(t.builder.started.map((s) => s.runId)).toEqual(['da1']);
    expect(await t.stores.runs.get('da1')).toMatchObject({ status: 'Running', buildId: expect.stringMatching(/^cascade-dev:/) });
  });

  it('reports exactly the messages that failed, and does the rest of the batch', async () => {
    await queuedRun();
    const result = await handle(batch({ type: 'start-run', runId: 'da1' }, '{"type":"start-run"', { type: 'start-run', runId: 'da404' }, '{"type":"reboot"}'));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'message-2' }, { itemIdentifier: 'message-3' }, { itemIdentifier: 'message-4' }] });
    expect((await t.stores.runs.get('da1'))?.status).toBe('Running');
    const logged = errors.mock.calls.map((c) => JSON.parse(c[0] as string));
    expect(logged.map((l) => [l.messageId, l.error.name])).toEqual([
      ['message-2', 'ValidationError'],
      ['message-3', 'NotFoundError'],
      ['message-4', 'ValidationError'],
    ]);
  });

  it('hands a transient failure back to SQS instead of failing the run', async () => {
    await queuedRun();
    t.builder.failWith = new RetryableError('starting the CodeBuild build of run da1 failed for now (ThrottlingException)');
    expect(await handle(batch({ type: 'start-run', runId: 'da1' }))).toEqual({ batchItemFailures: [{ itemIdentifier: 'message-1' }] });
    expect((await t.stores.runs.get('da1'))?.status).toBe('Queued');

    // The redelivery starts it.
    delete t.builder.failWith;
    expect(await handle(batch({ type: 'start-run', runId: 'da1' }))).toEqual({ batchItemFailures: [] });
    expect((await t.stores.runs.get('da1'))?.status).toBe('Running');
  });

  it('records a build result, and an image event for the recorded base starts an Image Update run', async () => {
    await t.cascade.tasks.create(helloworldTask());
    const first = await t.cascade.runs.runTaskByName('helloworld', { trigger: 'Manual', cause: { kind: 'manual' } });
    const base = { registry: ECR_BASE, repository: 'baseimages/node', tag: '9-alpine', digest: OLD, stage: 'runtime' as const, pinned: false };
    const result = await handle(
      batch({ type: 'build-result', result: { runId: first.id, status: 'Succeeded', finishedAt: new Date().toISOString(), outputImages: [], baseImages: [base] } }),
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(await t.stores.dependencies.listForTask('helloworld')).toEqual([expect.objectContaining({ registry: ECR_BASE, repository: 'baseimages/node', tag: '9-alpine', digest: OLD })]);

    const imageEvent = eventFixture<SQSEvent>('dispatcher.json');
    expect(JSON.parse(imageEvent.Records[0]?.body as string).event.digest).toBe(NEW);
    expect(await handle(imageEvent)).toEqual({ batchItemFailures: [] });
    const runs = await t.stores.runs.list({ top: 10 });
    expect(runs.map((r) => [r.id, r.trigger, r.status])).toEqual([
      ['da2', 'Image Update', 'Running'],
      ['da1', 'Manual', 'Succeeded'],
    ]);
    // The same event delivered again starts nothing more.
    expect(await handle(eventFixture('dispatcher.json'))).toEqual({ batchItemFailures: [] });
    expect(await t.stores.runs.list({ top: 10 })).toHaveLength(2);
  });
});
