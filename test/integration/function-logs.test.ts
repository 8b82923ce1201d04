// What each of the seven exported Lambda handlers logs, read back line by line: every line has the
// Lambda request id, its level, the function's name and whether the container was cold, and the
// lines about a piece of work carry its run id or delivery id. The handlers run as deployed
// (wiring from the environment, middy and its middlewares) with the fixture events, against
// DynamoDB Local; SQS, CodeBuild, SSM and CloudWatch Logs answer through aws-sdk-client-mock.
import type { APIGatewayProxyEventV2, Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDynamoDbStores, type DynamoDbStores } from '../../lib/adapters/dynamodb-stores';
import type { Task } from '../../lib/domain/types';
import { DYNAMODB_START_TIMEOUT_MS, withDynamoDb, type TestTable } from '../support/dynamodb';
import { CAPTURED_DIGEST, ECR_APP, GITHUB_FIXTURE_SECRET, seedFixtureWorld } from '../support/fixture-world';
import { lambdaContext } from '../support/lambda-context';
import { readLogLines, type LogLine, type LogLines } from '../support/log-lines';
import { eventFixture } from '../support/event-fixtures';

const NEW = `sha256:${'b'.repeat(64)}`;

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/**
 * The function's module as Lambda loads it, each in a container of its own: its own module
 * registry, so its own logger (whose first invocation is the cold start) and its own SDK clients,
 * mocked here. Nothing is called at import.
 */
function loadFunction(file: string): Handler {
  let handler: Handler | undefined;
  jest.isolateModules(() => {
    const sqs = jest.requireActual<typeof import('@aws-sdk/client-sqs')>('@aws-sdk/client-sqs');
    const codebuild = jest.requireActual<typeof import('@aws-sdk/client-codebuild')>('@aws-sdk/client-codebuild');
    const ssm = jest.requireActual<typeof import('@aws-sdk/client-ssm')>('@aws-sdk/client-ssm');
    const logs = jest.requireActual<typeof import('@aws-sdk/client-cloudwatch-logs')>('@aws-sdk/client-cloudwatch-logs');
    mockClient(sqs.SQSClient).on(sqs.SendMessageCommand).resolves({ MessageId: 'sent' });
    const builds = mockClient(codebuild.CodeBuildClient);
    builds.on(codebuild.StartBuildCommand).callsFake((input: { idempotencyToken?: string }) => ({ build: { id: `cascade-dev:build-of-${input.idempotencyToken}`, buildStatus: 'IN_PROGRESS' } }));
    builds.on(codebuild.BatchGetBuildsCommand).callsFake((input: { ids?: string[] }) => ({ builds: [], buildsNotFound: input.ids ?? [] }));
    mockClient(ssm.SSMClient).on(ssm.GetParameterCommand).rejects(new ssm.ParameterNotFound({ message: 'no such parameter', $metadata: {} }));
    mockClient(logs.CloudWatchLogsClient).onAnyCommand().resolves({});
    handler = jest.requireActual<{ handler: Handler }>(`../../functions/${file}`).handler;
  });
  if (!handler) throw new Error(`functions/${file} did not load`);
  return handler;
}

let invocations = 0;
/** One invocation with a context as Lambda gives it; the lines it logged. */
async function invoke(fn: string, handler: Handler, event: unknown): Promise<{ answer: unknown; lines: LogLine[]; requestId: string }> {
  invocations += 1;
  const requestId = `0f6c3a2e-${String(invocations).padStart(4, '0')}-4b1d-9e8f-7a6b5c4d3e2f`;
  const answer = await handler(event, lambdaContext(`cascade-dev-${fn}`, requestId));
  return { answer, lines: logs.of(requestId), requestId };
}

function apiEvent(method: string, path: string): APIGatewayProxyEventV2 {
  const event = eventFixture<APIGatewayProxyEventV2>('apigw-v2-list-runs.json');
  event.requestContext.http.method = method;
  event.rawPath = path;
  event.rawQueryString = '';
  return event;
}

/** A registry on loopback whose tags all have `digest`, as a manifest HEAD tells. */
async function tinyRegistry(digest: string): Promise<{ host: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== 'HEAD') return void res.writeHead(404).end();
    res.writeHead(200, { 'docker-content-digest': digest, 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((done) => server.close(() => done())) };
}

let table: TestTable;
let stores: DynamoDbStores;
let logs: LogLines;
const savedEnv = { ...process.env };

function task(name: string, overrides: Partial<Task> = {}): Task {
  return {
    name,
    registry: ECR_APP,
    images: [`${name}:{{.Run.ID}}`],
    context: { kind: 'git', url: `https://github.com/example/${name}.git`, branch: 'main', folder: '.' },
    dockerfile: 'Dockerfile',
    buildArgs: {},
    platform: 'linux/amd64',
    status: 'Enabled',
    baseImageTrigger: { enabled: true, type: 'Runtime' },
    commitTrigger: { enabled: true },
    credentials: [],
    dependenciesCapturedAt: '2026-11-28T04:00:00.000Z',
    dependenciesCapturedBySequence: 0,
    createdAt: '2026-11-28T03:00:00.000Z',
    updatedAt: '2026-11-28T03:00:00.000Z',
    ...overrides,
  };
}

async function dependsOn(taskName: string, registry: string, repository: string, tag: string, digest: string): Promise<void> {
  await stores.dependencies.replaceForTask(taskName, [
    { taskName, registry, repository, tag, digest, stage: 'runtime', pinned: false, capturedAt: '2026-11-28T04:00:00.000Z', capturedByRun: 'da0' },
  ]);
}

beforeAll(async () => {
  table = await withDynamoDb();
  stores = createDynamoDbStores({ client: table.client, tableName: table.tableName });
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: table.endpoint,
    TABLE_NAME: table.tableName,
    QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/cascade-dev',
    CODEBUILD_PROJECT: 'cascade-dev',
    SECRETS_PREFIX: '/cascade/dev',
    PUBLIC_URL: 'https://r4nd0m1d.execute-api.eu-west-1.amazonaws.com',
    // What Lambda sets in a container started for an invocation: Powertools reports its cold start.
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    // As under `serverless invoke local`: the poller does not wait its jitter.
    IS_LOCAL: 'true',
  });
  delete process.env.POWERTOOLS_LOG_LEVEL;
  delete process.env.AWS_LAMBDA_LOG_LEVEL;
  await seedFixtureWorld(stores);
}, DYNAMODB_START_TIMEOUT_MS);

afterAll(async () => {
  process.env = { ...savedEnv };
  await table?.stop();
});

beforeEach(() => {
  logs = readLogLines();
});
afterEach(() => logs.restore());

/** What every line of an invocation has, whatever it is about. */
function expectInvocation(lines: LogLine[], fn: string, requestId: string, coldStart: boolean): void {
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) {
    expect(line).toMatchObject({ service: 'cascade', function_name: `cascade-dev-${fn}`, function_request_id: requestId, cold_start: coldStart, level: expect.stringMatching(/^(DEBUG|INFO|WARN|ERROR)$/) });
  }
}

describe('log lines of the exported handlers', () => {
  // In the order of the tutorial's flow: each step finds what the one before left.
  let api: Handler, webhook: Handler, registryEvents: Handler, dispatcher: Handler, buildEvents: Handler, reconciler: Handler, poller: Handler;
  beforeAll(() => {
    // After the environment is set: the logger takes its level and cold start from it.
    api = loadFunction('api');
    webhook = loadFunction('webhook');
    registryEvents = loadFunction('registry-events');
    dispatcher = loadFunction('dispatcher');
    buildEvents = loadFunction('build-events');
    reconciler = loadFunction('reconciler');
    poller = loadFunction('poller');
  });

  it('api: the answer about a run carries its run id', async () => {
    const { answer, lines, requestId } = await invoke('api', api, apiEvent('GET', '/api/runs/da1'));
    expect(answer).toMatchObject({ statusCode: 200 });
    expectInvocation(lines, 'api', requestId, true);
    expect(lines).toEqual([expect.objectContaining({ level: 'INFO', message: 'answered', method: 'GET', status: 200, route: 'GET /api/runs/{id}', runId: 'da1' })]);

    // Warm now; a run that is not there is a 404, logged as such.
    const missing = await invoke('api', api, apiEvent('GET', '/api/runs/da404'));
    expectInvocation(missing.lines, 'api', missing.requestId, false);
    expect(missing.lines).toEqual([expect.objectContaining({ message: 'answered', status: 404, runId: 'da404' })]);
  });

  it("webhook: the GitHub push is queued under GitHub's delivery id", async () => {
    const { answer, lines, requestId } = await invoke('webhook', webhook, eventFixture('webhook.json'));
    expect(answer).toMatchObject({ statusCode: 202 });
    expectInvocation(lines, 'webhook', requestId, true);
    const delivery = eventFixture<APIGatewayProxyEventV2>('webhook.json').headers['x-github-delivery'];
    expect(lines).toEqual([
      expect.objectContaining({ level: 'INFO', message: 'queued', messageType: 'event', deliveryId: delivery, webhook: 'github-push' }),
      expect.objectContaining({ level: 'INFO', message: 'answered', status: 202, route: 'POST /webhooks/{name}', webhook: 'github-push' }),
    ]);
    expect(JSON.stringify(lines)).not.toContain(GITHUB_FIXTURE_SECRET);
  });

  it("registryEvents: every line carries EventBridge's event id, the delivery id", async () => {
    const event = eventFixture<{ id: string }>('registryEvents.json');
    const { answer, lines, requestId } = await invoke('registryEvents', registryEvents, event);
    expect(answer).toEqual({ accepted: 1, ignored: [] });
    expectInvocation(lines, 'registryEvents', requestId, true);
    expect(lines.map((l) => [l.level, l.message, l.deliveryId])).toEqual([
      ['INFO', 'queued', event.id],
      ['INFO', 'registry event', event.id],
    ]);
  });

  it("dispatcher: each record's lines carry its own ids, though the batch is handled at once", async () => {
    const image = eventFixture<SQSEvent>('dispatcher.json').Records[0] as SQSRecord;
    const imageEvent = JSON.parse(image.body).event as { deliveryId: string; digest: string };
    expect(imageEvent.digest).toBe(NEW);
    const missing: SQSRecord = { ...image, messageId: 'message-for-da404', body: JSON.stringify({ type: 'start-run', runId: 'da404' }), attributes: { ...image.attributes, ApproximateReceiveCount: '3' } };
    const { answer, lines, requestId } = await invoke('dispatcher', dispatcher, { Records: [image, missing] });
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'message-for-da404' }] });
    expectInvocation(lines, 'dispatcher', requestId, true);
    // The domain's dispatch report, through the log port, within the image record's scope.
    expect(lines.filter((l) => l.message === 'dispatch')).toEqual([
      expect.objectContaining({ level: 'INFO', messageId: image.messageId, deliveryId: imageEvent.deliveryId, started: [expect.objectContaining({ task: 'helloworld', runId: 'da2' })] }),
    ]);
    expect(lines.filter((l) => l.level === 'ERROR')).toEqual([
      expect.objectContaining({ message: 'queue message failed; SQS will deliver it again', messageId: 'message-for-da404', receiveCount: 3, runId: 'da404', error: expect.objectContaining({ name: 'NotFoundError' }) }),
    ]);
    // Neither record's ids on the other's lines.
    for (const line of lines) {
      if (line.messageId === image.messageId) expect(line.runId).toBeUndefined();
      if (line.messageId === 'message-for-da404') expect(line.deliveryId).toBeUndefined();
    }
  });

  it('dispatcher: a timer occurrence from EventBridge Scheduler, with the run it started', async () => {
    const { answer, lines, requestId } = await invoke('dispatcher', dispatcher, eventFixture('timer.json'));
    expect(answer).toMatchObject({ fired: true, runId: 'da3' });
    expectInvocation(lines, 'dispatcher', requestId, false);
    expect(lines).toEqual([expect.objectContaining({ level: 'INFO', message: 'timer', task: 'helloworld', timer: 'nightly', occurrence: '2026-12-01T03:00:00.000Z', runId: 'da3', fired: true })]);
  });

  it("buildEvents: the build's result is recorded under its run id", async () => {
    const { answer, lines, requestId } = await invoke('buildEvents', buildEvents, eventFixture('buildEvents.json'));
    expect(answer).toMatchObject({ kind: 'result', result: { runId: 'da1', status: 'Succeeded' } });
    expectInvocation(lines, 'buildEvents', requestId, true);
    expect(lines).toEqual([expect.objectContaining({ level: 'INFO', message: 'build result recorded', runId: 'da1', status: 'Succeeded' })]);
  });

  it('reconciler: a line for each run it heals, with its run id', async () => {
    const { answer, lines, requestId } = await invoke('reconciler', reconciler, eventFixture('reconciler.json'));
    // CodeBuild (mocked) knows neither build: both runs end in Error.
    expect(answer).toMatchObject({ recorded: [{ runId: 'da2', status: 'Error' }, { runId: 'da3', status: 'Error' }] });
    expectInvocation(lines, 'reconciler', requestId, true);
    expect(lines.map((l) => [l.level, l.message, l.runId])).toEqual([
      ['INFO', 'recorded the result of a build whose event was lost', 'da2'],
      ['INFO', 'recorded the result of a build whose event was lost', 'da3'],
      ['INFO', 'reconciled', undefined],
    ]);
  });

  it('poller: the change it finds is queued under its delivery id', async () => {
    const registry = await tinyRegistry(NEW);
    try {
      await stores.tasks.create(task('watcher'));
      await dependsOn('watcher', registry.host, 'library/node', '22', CAPTURED_DIGEST);
      const { answer, lines, requestId } = await invoke('poller', poller, eventFixture('poller.json'));
      expect(answer).toMatchObject({ changed: [{ ref: `${registry.host}/library/node:22`, to: NEW }] });
      expectInvocation(lines, 'poller', requestId, true);
      expect(lines.map((l) => [l.level, l.message, l.deliveryId])).toEqual([
        ['INFO', 'queued', `${registry.host}/library/node:22@linux/amd64:first->${NEW}`],
        ['INFO', 'polled', undefined],
      ]);
    } finally {
      await registry.close();
    }
  });
});

describe('the level, from POWERTOOLS_LOG_LEVEL', () => {
  afterEach(() => {
    delete process.env.POWERTOOLS_LOG_LEVEL;
  });

  /** The fixture's image event (by now a redelivery: a dispatch report, INFO) and a start of a run that is not there (ERROR). */
  function batch(level: string): SQSEvent {
    const image = eventFixture<SQSEvent>('dispatcher.json').Records[0] as SQSRecord;
    return { Records: [{ ...image, messageId: `image-${level}` }, { ...image, messageId: `missing-${level}`, body: JSON.stringify({ type: 'start-run', runId: 'da404' }) }] };
  }

  it.each<[string, string[]]>([
    ['unset', ['ERROR', 'INFO']],
    ['DEBUG', ['DEBUG', 'DEBUG', 'ERROR', 'INFO']],
    ['INFO', ['ERROR', 'INFO']],
    ['WARN', ['ERROR']],
    ['ERROR', ['ERROR']],
  ])('POWERTOOLS_LOG_LEVEL=%s: the dispatcher logs %j', async (level, levels) => {
    if (level !== 'unset') process.env.POWERTOOLS_LOG_LEVEL = level;
    // The logger reads its level when its module loads, as in a new container.
    const handler = loadFunction('dispatcher');
    const { answer, lines } = await invoke('dispatcher', handler, batch(level));
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: `missing-${level}` }] });
    // The records run at once: their lines interleave.
    expect(lines.map((l) => l.level).sort()).toEqual(levels);
    for (const line of lines) expect(line.messageId).toBe(line.runId === 'da404' ? `missing-${level}` : `image-${level}`);
  });
});
