// Every function invoked by hand, exactly as the README shows it:
//   npx serverless invoke local -f <function> -p test/fixtures/events/<function>.json
// against DynamoDB Local, with the services that cannot run here (SQS, CodeBuild, SSM, CloudWatch
// Logs) answered by a fake endpoint the SDK is pointed at with AWS_ENDPOINT_URL_<SERVICE>.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createDynamoDbStores, type DynamoDbStores } from '../../lib/adapters/dynamodb-stores';
import type { Run, Task } from '../../lib/domain/types';
import { DYNAMODB_START_TIMEOUT_MS, withDynamoDb, type TestTable } from '../support/dynamodb';
import { startFakeAws, type FakeAws } from '../support/fake-aws';

jest.setTimeout(180_000);

const ROOT = join(__dirname, '..', '..');
const ECR_APP = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const ECR_BASE = '210987654321.dkr.ecr.eu-west-1.amazonaws.com';
const BUILD_ID = 'arn:aws:codebuild:eu-west-1:123456789012:build/cascade-dev:8745a7a9-c340-456a-9166-edf953571b2e';
// The signing secret of test/fixtures/webhooks/github/goplayground-push-branch.json (SOURCES.md).
const GITHUB_FIXTURE_SECRET = 'IsWishesWereHorsesWedAllBeEatingSteak!';
const run = promisify(execFile);

let table: TestTable;
let aws: FakeAws;
let stores: DynamoDbStores;

/** `serverless invoke local` for one function with its fixture; the function's answer, parsed. */
async function invoke(fn: string, event = fn): Promise<unknown> {
  const { stdout, stderr } = await run(join(ROOT, 'node_modules', '.bin', 'serverless'), ['invoke', 'local', '-f', fn, '-p', `test/fixtures/events/${event}.json`], {
    cwd: ROOT,
    timeout: 120_000,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      SLS_TELEMETRY_DISABLED: '1',
      SLS_NOTIFICATIONS_MODE: 'off',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: table.endpoint,
      AWS_ENDPOINT_URL_SQS: aws.url,
      AWS_ENDPOINT_URL_CODEBUILD: aws.url,
      AWS_ENDPOINT_URL_SSM: aws.url,
      AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: aws.url,
      TABLE_NAME: table.tableName,
      // SQS sends to the host of the queue URL, whatever endpoint it is given.
      QUEUE_URL: `${aws.url}/000000000000/cascade-dev`,
      CODEBUILD_PROJECT: 'cascade-dev',
      PUBLIC_URL: 'https://r4nd0m1d.execute-api.eu-west-1.amazonaws.com',
    },
  });
  if (process.env.DEBUG_INVOKE) console.warn(stdout, stderr);
  // The function's log lines (one JSON object a line) come first; its answer is printed last,
  // indented, so it starts with a line holding only "{".
  const at = stdout.lastIndexOf('\n{\n');
  const start = at >= 0 ? at + 1 : stdout.startsWith('{\n') ? 0 : -1;
  if (start >= 0) return JSON.parse(stdout.slice(start));
  throw new Error(`no answer in the output of invoke local -f ${fn}:\n${stdout}`);
}

beforeAll(async () => {
  table = await withDynamoDb();
  aws = await startFakeAws();
  stores = createDynamoDbStores({ client: table.client, tableName: table.tableName });
  // What the fixtures refer to: the webhook they are signed for, the tutorial's task with its
  // captured dependency on the base, and run da1 building on CodeBuild.
  await stores.webhooks.create({ name: 'github-push', provider: 'github', secrets: [GITHUB_FIXTURE_SECRET], createdAt: '2026-11-28T00:00:00.000Z' });
  const task: Task = {
    name: 'helloworld',
    registry: ECR_APP,
    images: ['helloworld:{{.Run.ID}}'],
    context: { kind: 'git', url: 'https://github.com/example/acr-build-helloworld-node.git', branch: 'main', folder: '.' },
    dockerfile: 'Dockerfile-app',
    buildArgs: { REGISTRY_NAME: ECR_BASE },
    platform: 'linux/amd64',
    status: 'Enabled',
    baseImageTrigger: { enabled: true, type: 'Runtime' },
    commitTrigger: { enabled: true },
    credentials: [{ kind: 'identity', loginServer: ECR_BASE, roleArn: 'arn:aws:iam::210987654321:role/cascade-pull' }],
    dependenciesCapturedAt: '2026-11-28T04:00:00.000Z',
    dependenciesCapturedBySequence: 0,
    createdAt: '2026-11-28T03:00:00.000Z',
    updatedAt: '2026-11-28T03:00:00.000Z',
  };
  await stores.tasks.create(task);
  await stores.dependencies.replaceForTask('helloworld', [
    {
      taskName: 'helloworld',
      registry: ECR_BASE,
      repository: 'baseimages/node',
      tag: '9-alpine',
      digest: `sha256:${'a'.repeat(64)}`,
      stage: 'runtime',
      pinned: false,
      capturedAt: '2026-11-28T04:00:00.000Z',
      capturedByRun: 'da0',
    },
  ]);
  const { id, sequence } = await stores.runs.nextId();
  const da1: Run = {
    id,
    sequence,
    taskName: 'helloworld',
    platform: 'linux/amd64',
    status: 'Queued',
    trigger: 'Manual',
    cause: { kind: 'manual' },
    spec: { registry: ECR_APP, images: [`helloworld:${id}`], context: task.context, dockerfile: task.dockerfile, buildArgs: task.buildArgs, platform: task.platform, credentials: task.credentials },
    createdAt: '2026-11-28T05:00:00.000Z',
    outputImages: [],
    baseImages: [],
    branch: 'main',
  };
  await stores.runs.create(da1);
  await stores.runs.transition(id, ['Queued'], { status: 'Running', buildId: BUILD_ID, startedAt: '2026-11-28T05:00:01.000Z' });
}, DYNAMODB_START_TIMEOUT_MS);

afterAll(async () => {
  await aws?.close();
  await table?.stop();
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
    const before = aws.callsOf('SendMessage').length;
    const answer = (await invoke('webhook')) as { statusCode: number; body: string };
    expect(answer).toMatchObject({ statusCode: 202 });
    expect(JSON.parse(answer.body)).toEqual({ accepted: 1, ignored: [] });
    const [sent] = aws.callsOf('SendMessage').slice(before);
    expect(JSON.parse(String(sent?.MessageBody))).toMatchObject({ type: 'event', event: { kind: 'git', commit: 'fd489864e7642b48eaad6e3f155c10e46810ec72' } });
  });

  it('dispatcher: starts the build the new base digest calls for', async () => {
    const before = aws.callsOf('StartBuild').length;
    expect(await invoke('dispatcher')).toEqual({ batchItemFailures: [] });
    const started = aws.callsOf('StartBuild').slice(before);
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ projectName: 'cascade-dev', idempotencyToken: 'da2' });
    expect(await stores.runs.get('da2')).toMatchObject({ trigger: 'Image Update', status: 'Running', buildId: 'cascade-dev:fake-build-1' });
  });

  it('registryEvents: queues the forwarded ECR push', async () => {
    const before = aws.callsOf('SendMessage').length;
    expect(await invoke('registryEvents')).toEqual({ accepted: 1, ignored: [] });
    expect(aws.callsOf('SendMessage').slice(before)).toHaveLength(1);
  });

  it("buildEvents: records the finished build as run da1's result", async () => {
    expect(await invoke('buildEvents')).toMatchObject({ kind: 'result', result: { runId: 'da1', status: 'Succeeded' } });
    expect(await stores.runs.get('da1')).toMatchObject({ status: 'Succeeded', finishedAt: '2026-11-28T05:01:40.000Z' });
  });

  it('reconciler: asks CodeBuild about the builds still running and marks the one it has no record of', async () => {
    expect(await invoke('reconciler')).toEqual({ checked: 1, recorded: [{ runId: 'da2', status: 'Error' }], started: [], deferred: [] });
    expect(aws.callsOf('BatchGetBuilds').at(-1)).toEqual({ ids: ['cascade-dev:fake-build-1'] });
  });

  it('dispatcher: fires the timer occurrence EventBridge Scheduler hands it, once', async () => {
    // The api test made the task afresh: give it the fixture's timer.
    await stores.tasks.setTimers('helloworld', [{ name: 'nightly', schedule: '0 3 * * *', enabled: true, createdAt: '2026-11-28T03:00:00.000Z', updatedAt: '2026-11-28T03:00:00.000Z' }], '2026-11-28T03:00:00.000Z');
    const before = aws.callsOf('StartBuild').length;
    expect(await invoke('dispatcher', 'timer')).toMatchObject({ fired: true, task: 'helloworld', timer: 'nightly', occurrence: '2026-12-01T03:00:00.000Z' });
    expect(aws.callsOf('StartBuild').slice(before)).toHaveLength(1);
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
});
