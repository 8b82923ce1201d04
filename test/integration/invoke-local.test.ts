// Every function invoked by hand, exactly as the README shows it:
//   npx serverless invoke local -f <function> -p test/fixtures/events/<function>.json
// run under Node.js 24 (the functions' Lambda runtime), against DynamoDB Local, moto for SQS, SSM
// and CloudWatch Logs, and the CodeBuild stand-in that holds requests to the service model, each
// reached through AWS_ENDPOINT_URL_<SERVICE>.
import { CreateLogGroupCommand, CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createDynamoDbStores, type DynamoDbStores } from '../../lib/adapters/dynamodb-stores';
import { startCodeBuildEmulator, type CodeBuildEmulator } from '../support/codebuild-emulator';
import { DYNAMODB_START_TIMEOUT_MS, withDynamoDb, type TestTable } from '../support/dynamodb';
import { ECR_APP, ECR_BASE, FIXTURE_TIMER, seedFixtureWorld } from '../support/fixture-world';
import { lambdaNode } from '../support/lambda-runtime';
import { MOTO_ACCOUNT, MOTO_CREDENTIALS, MOTO_REGION, startMoto, type Moto } from '../support/moto';

jest.setTimeout(180_000);

const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

let table: TestTable;
let moto: Moto;
let codebuild: CodeBuildEmulator;
let sqs: SQSClient;
let queueUrl: string;
let stores: DynamoDbStores;

/** `serverless invoke local` for one function with its fixture, under Node.js 24; the function's answer, parsed. */
async function invoke(fn: string, event = fn): Promise<unknown> {
  const { stdout, stderr } = await run(lambdaNode(), [join(ROOT, 'node_modules', 'serverless', 'bin', 'serverless.js'), 'invoke', 'local', '-f', fn, '-p', `test/fixtures/events/${event}.json`], {
    cwd: ROOT,
    timeout: 120_000,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      SLS_TELEMETRY_DISABLED: '1',
      SLS_NOTIFICATIONS_MODE: 'off',
      AWS_REGION: MOTO_REGION,
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: table.endpoint,
      AWS_ENDPOINT_URL_SQS: moto.endpoint,
      AWS_ENDPOINT_URL_SSM: moto.endpoint,
      AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: moto.endpoint,
      AWS_ENDPOINT_URL_CODEBUILD: codebuild.url,
      TABLE_NAME: table.tableName,
      // SQS sends to the host of the queue URL, whatever endpoint it is given.
      QUEUE_URL: queueUrl,
      CODEBUILD_PROJECT: 'cascade-dev',
      PUBLIC_URL: 'https://r4nd0m1d.execute-api.eu-west-1.amazonaws.com',
    },
  }).catch((error: Error & { stdout?: string; stderr?: string }) => {
    throw new Error(`invoke local -f ${fn} failed: ${error.message}\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
  });
  if (process.env.DEBUG_INVOKE) console.warn(stdout, stderr);
  // The function's log lines (one JSON object a line) come first; its answer is printed last,
  // indented, so it starts with a line holding only "{".
  const at = stdout.lastIndexOf('\n{\n');
  const start = at >= 0 ? at + 1 : stdout.startsWith('{\n') ? 0 : -1;
  if (start >= 0) return JSON.parse(stdout.slice(start));
  throw new Error(`no answer in the output of invoke local -f ${fn}:\n${stdout}`);
}

/** The bodies of the messages the functions queued since the last call. */
async function queued(): Promise<unknown[]> {
  const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
  return Messages.map((m) => JSON.parse(String(m.Body)) as unknown);
}

beforeAll(async () => {
  [table, moto, codebuild] = await Promise.all([withDynamoDb(), startMoto(), startCodeBuildEmulator({ region: MOTO_REGION, accountId: MOTO_ACCOUNT, projects: ['cascade-dev'] })]);
  sqs = new SQSClient(moto.clientConfig);
  queueUrl = String((await sqs.send(new CreateQueueCommand({ QueueName: 'cascade-dev' }))).QueueUrl);
  const logs = new CloudWatchLogsClient(moto.clientConfig);
  await logs.send(new CreateLogGroupCommand({ logGroupName: '/aws/codebuild/cascade-dev' }));
  logs.destroy();
  stores = createDynamoDbStores({ client: table.client, tableName: table.tableName });
  await seedFixtureWorld(stores);
}, DYNAMODB_START_TIMEOUT_MS);

afterAll(async () => {
  sqs?.destroy();
  await Promise.all([moto?.stop(), codebuild?.close(), table?.stop()]);
});

describe('serverless invoke local', () => {
  it('api: creates the task in the fixture', async () => {
    await stores.tasks.delete('helloworld').catch(() => undefined);
    const answer = (await invoke('api')) as { statusCode: number; body: string };
    expect(answer.statusCode).toBe(201);
    expect(JSON.parse(answer.body)).toMatchObject({ name: 'helloworld', registry: ECR_APP });
    expect(await stores.tasks.get('helloworld')).toMatchObject({ dockerfile: 'Dockerfile-app', buildArgs: { REGISTRY_NAME: ECR_BASE } });
  });

  it('webhook: verifies the GitHub push and queues it', async () => {
    const answer = (await invoke('webhook')) as { statusCode: number; body: string };
    expect(answer).toMatchObject({ statusCode: 202 });
    expect(JSON.parse(answer.body)).toEqual({ accepted: 1, ignored: [] });
    expect(await queued()).toEqual([expect.objectContaining({ type: 'event', event: expect.objectContaining({ kind: 'git', commit: 'fd489864e7642b48eaad6e3f155c10e46810ec72' }) })]);
  });

  it('dispatcher: starts the build the new base digest calls for', async () => {
    expect(await invoke('dispatcher')).toEqual({ batchItemFailures: [] });
    expect(codebuild.created).toHaveLength(1);
    const [build] = codebuild.buildsWith('CASCADE_RUN_ID', 'da2');
    expect(build).toMatchObject({ projectName: 'cascade-dev' });
    expect(codebuild.requests.find((r) => r.operation === 'StartBuild')?.input).toMatchObject({ projectName: 'cascade-dev', idempotencyToken: 'da2' });
    expect(await stores.runs.get('da2')).toMatchObject({ trigger: 'Image Update', status: 'Running', buildId: build?.id });
  });

  it('registryEvents: queues the forwarded ECR push', async () => {
    expect(await invoke('registryEvents')).toEqual({ accepted: 1, ignored: [] });
    expect(await queued()).toEqual([expect.objectContaining({ type: 'event', event: expect.objectContaining({ kind: 'image', source: 'ecr', repository: 'baseimages/node' }) })]);
  });

  it("buildEvents: records the finished build as run da1's result", async () => {
    expect(await invoke('buildEvents')).toMatchObject({ kind: 'result', result: { runId: 'da1', status: 'Succeeded' } });
    expect(await stores.runs.get('da1')).toMatchObject({ status: 'Succeeded', finishedAt: '2026-11-28T05:01:40.000Z' });
  });

  it('reconciler: records the result of a build whose state change event was lost', async () => {
    const [build] = codebuild.buildsWith('CASCADE_RUN_ID', 'da2');
    // CodeBuild finishes the build; its event never reaches buildEvents.
    codebuild.finish(String(build?.id), {
      status: 'SUCCEEDED',
      exported: {
        CASCADE_BASE_IMAGES: JSON.stringify([{ registry: ECR_BASE, repository: 'baseimages/node', tag: '9-alpine', digest: `sha256:${'b'.repeat(64)}`, stage: 'runtime', pinned: false }]),
        CASCADE_OUTPUT_IMAGES: JSON.stringify([{ reference: `${ECR_APP}/helloworld:da2`, digest: `sha256:${'c'.repeat(64)}` }]),
      },
    });
    expect(await invoke('reconciler')).toEqual({ checked: 1, recorded: [{ runId: 'da2', status: 'Succeeded' }], started: [], deferred: [] });
    expect(codebuild.requests.filter((r) => r.operation === 'BatchGetBuilds').at(-1)?.input).toEqual({ ids: [build?.id] });
  });

  it('dispatcher: fires the timer occurrence EventBridge Scheduler hands it, once', async () => {
    // The api test made the task afresh: give it the fixture's timer.
    await stores.tasks.setTimers('helloworld', [FIXTURE_TIMER], FIXTURE_TIMER.createdAt);
    const before = codebuild.created.length;
    expect(await invoke('dispatcher', 'timer')).toMatchObject({ fired: true, task: 'helloworld', timer: 'nightly', occurrence: '2026-12-01T03:00:00.000Z' });
    expect(codebuild.created.length).toBe(before + 1);
    expect(await invoke('dispatcher', 'timer')).toMatchObject({ fired: false, reason: 'occurrence 2026-12-01T03:00:00.000Z of helloworld/nightly was already fired' });
  });

  it('poller: leaves the ECR base alone, which EventBridge tells of', async () => {
    expect(await invoke('poller')).toEqual({
      polled: 0,
      changed: [],
      skipped: [{ ref: `${ECR_BASE}/baseimages/node:9-alpine`, reason: `${ECR_BASE} sends push events to cascade` }],
      failed: [],
    });
  });

  it('sent nothing that moto or the CodeBuild service model refused', () => {
    expect(codebuild.refused).toEqual([]);
    expect(moto.refused).toEqual([]);
  });
});
