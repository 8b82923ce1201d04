// Notifications on AWS's path, with the code the functions run: the api function adds one, the
// buildEvents function records a build's end and queues `notify` on SQS, and the dispatcher takes
// it from there: one attempt per record, a later attempt sent back to SQS with DelaySeconds, and a
// record whose handling failed reported in the batch response, so that SQS receives it again (and
// after maxReceiveCount, dead-letters it). The records are in DynamoDB Local; SQS and CodeBuild
// are the SDK's mocks (what SQS does with a message is test/integration/aws-emulator.test.ts's);
// the receiver is a real HTTP server on 127.0.0.1.
import { CloudWatchLogsClient, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { SendMessageCommand, SQSClient, type SendMessageCommandInput } from '@aws-sdk/client-sqs';
import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createApiHandler } from '../../functions/api';
import { createBuildEventsHandler } from '../../functions/build-events';
import { createDispatcherHandler } from '../../functions/dispatcher';
import { readAwsConfig } from '../../lib/aws/config';
import { createAwsPorts } from '../../lib/aws/wiring';
import { createCascade, type Cascade } from '../../lib/domain/cascade';
import type { DeliveryView } from '../../lib/domain/notifications/notification';
import { DYNAMODB_START_TIMEOUT_MS, withDynamoDb, type TestTable } from '../support/dynamodb';
import { rememberSecrets } from '../support/secrets';

jest.setTimeout(60_000);

const FIXTURES = join(__dirname, '..', 'fixtures', 'events');
const fixture = <T>(name: string): T => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;
const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

let table: TestTable;
let cascade: Cascade;
const sqs = mockClient(SQSClient);
const codebuild = mockClient(CodeBuildClient);
const logs = mockClient(CloudWatchLogsClient);
const ssm = mockClient(SSMClient);
/** SSM Parameter Store's parameters: where the notification's signing secret is kept. */
const parameters = new Map<string, string>();
/** What the functions sent to SQS, in order. */
const sent: SendMessageCommandInput[] = [];
/** The next GetItem fails, as DynamoDB throttling would. */
let failNextGet = false;
const receiver: { url: string; requests: Array<{ headers: IncomingHttpHeaders; body: string }>; answers: number[]; close(): Promise<void> } = {
  url: '',
  requests: [],
  answers: [],
  close: async () => undefined,
};

beforeAll(async () => {
  table = await withDynamoDb();
  table.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (failNextGet && context.commandName === 'GetItemCommand') {
        failNextGet = false;
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput (injected)'), { name: 'ProvisionedThroughputExceededException', $metadata: {} });
      }
      return next(args);
    },
    { step: 'initialize', name: 'injectFaults' },
  );
  sqs.on(SendMessageCommand).callsFake((input: SendMessageCommandInput) => {
    sent.push(input);
    return { MessageId: `m-${sent.length}` };
  });
  let builds = 0;
  codebuild.on(StartBuildCommand).callsFake(() => ({ build: { id: `cascade-dev:build-${(builds += 1)}` } }));
  ssm.on(PutParameterCommand).callsFake((input: { Name: string; Value: string }) => (parameters.set(input.Name, input.Value), { Version: 1 }));
  ssm.on(GetParameterCommand).callsFake((input: { Name: string }) => {
    const value = parameters.get(input.Name);
    if (value === undefined) throw Object.assign(new Error('not found'), { name: 'ParameterNotFound' });
    return { Parameter: { Name: input.Name, Value: value } };
  });
  ssm.on(DeleteParameterCommand).callsFake((input: { Name: string }) => (parameters.delete(input.Name), {}));
  logs.on(CreateLogStreamCommand).resolves({});
  logs.on(PutLogEventsCommand).resolves({});
  const region = { region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  const config = readAwsConfig({
    TABLE_NAME: table.tableName,
    QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/cascade-dev',
    CODEBUILD_PROJECT: 'cascade-dev',
    SECRETS_PREFIX: '/cascade/dev',
    PUBLIC_URL: 'https://r4nd0m1d.execute-api.eu-west-1.amazonaws.com',
  });
  cascade = createCascade(
    createAwsPorts(config, { dynamo: table.client, sqs: new SQSClient(region), codebuild: new CodeBuildClient(region), ssm: new SSMClient(region), logs: new CloudWatchLogsClient(region) }),
  );

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      receiver.requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(receiver.answers.shift() ?? 200).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  receiver.close = () => new Promise((done) => server.close(() => done()));
}, DYNAMODB_START_TIMEOUT_MS);

afterAll(async () => {
  sqs.restore();
  codebuild.restore();
  logs.restore();
  ssm.restore();
  await receiver.close();
  await table?.stop();
});

function apiEvent(method: string, path: string, body?: unknown): APIGatewayProxyEventV2 {
  const event = fixture<APIGatewayProxyEventV2>('api.json');
  event.requestContext.http.method = method;
  event.rawPath = path;
  event.rawQueryString = '';
  event.routeKey = `${method} ${path}`;
  if (body === undefined) delete event.body;
  else event.body = JSON.stringify(body);
  return event;
}

/** The messages sent since `from`, as the records of one SQS batch (each received `receives` times). */
function batchOf(messages: SendMessageCommandInput[], receives = 1): SQSEvent {
  return {
    Records: messages.map((m, i) => ({ messageId: `m-${i}`, body: String(m.MessageBody), attributes: { ApproximateReceiveCount: String(receives) }, messageAttributes: {} }) as never),
  };
}

const typeOf = (m: SendMessageCommandInput) => (JSON.parse(String(m.MessageBody)) as { type: string }).type;

it('sends a finished build\'s notification from the build-events path through SQS, retried with DelaySeconds until delivered', async () => {
  const api = createApiHandler(cascade);
  const dispatcher = createDispatcherHandler(cascade);
  const buildEvents = createBuildEventsHandler(cascade, { projectName: 'cascade-dev' });
  const created = await api(apiEvent('POST', '/api/tasks', { name: 'helloworld', registry: ECR, images: ['helloworld:{{.Run.ID}}'], context: 'https://github.com/example/app.git#main', file: 'Dockerfile' }));
  expect(created.statusCode).toBe(201);
  const added = await api(apiEvent('POST', '/api/notifications', { name: 'ops', url: receiver.url }));
  expect(added.statusCode).toBe(201);
  const { secret } = JSON.parse(String(added.body)) as { secret: string };
  rememberSecrets(secret);
  // Kept in SSM Parameter Store, under the stack's prefix; the table holds its name only.
  expect([...parameters.entries()]).toEqual([[expect.stringMatching(/^\/cascade\/dev\/notification\/ops\//), secret]]);
  const started = await api(apiEvent('POST', '/api/tasks/helloworld/runs', {}));
  expect(JSON.parse(String(started.body))).toMatchObject({ id: 'da1', status: 'Running' });
  // A start is no event the notification asked for: nothing queued.
  expect(sent.map(typeOf)).toEqual([]);

  // CodeBuild's state change reaches buildEvents: the run is recorded, and `notify` queued.
  const event = fixture<{ detail: { 'additional-information': { environment: { 'environment-variables': Array<{ name: string; value: string }> } } } }>('buildEvents.json');
  for (const v of event.detail['additional-information'].environment['environment-variables']) if (v.name === 'CASCADE_RUN_ID') v.value = 'da1';
  await expect(buildEvents(event)).resolves.toMatchObject({ kind: 'result' });
  expect((await cascade.runs.get('da1')).status).toBe('Succeeded');
  expect(sent.map((m) => [typeOf(m), m.MessageAttributes?.type?.StringValue, m.DelaySeconds])).toEqual([['notify', 'notify', undefined]]);

  // The dispatcher: the delivery, and its first attempt queued.
  expect(await dispatcher(batchOf(sent.splice(0)))).toEqual({ batchItemFailures: [] });
  expect(sent.map((m) => [typeOf(m), m.DelaySeconds])).toEqual([['notify-attempt', undefined]]);

  // The first attempt meets a 503: done with, and the second sent back to SQS, a second later.
  receiver.answers.push(503);
  expect(await dispatcher(batchOf(sent.splice(0)))).toEqual({ batchItemFailures: [] });
  expect(receiver.requests).toHaveLength(1);
  expect(sent.map((m) => [JSON.parse(String(m.MessageBody)), m.DelaySeconds])).toEqual([[expect.objectContaining({ type: 'notify-attempt', attempt: 2 }), 1]]);

  // The second attempt's record fails to be read: reported alone, for SQS to receive it again.
  const second = sent.splice(0);
  failNextGet = true;
  // The dispatcher logs the failure, on purpose: into the capture, off the terminal.
  const quiet = jest.spyOn(console, 'error').mockImplementation(console.log.bind(console));
  try {
    expect(await dispatcher(batchOf(second))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
  } finally {
    quiet.mockRestore();
  }
  expect(receiver.requests).toHaveLength(1);
  // Received again: delivered.
  expect(await dispatcher(batchOf(second, 2))).toEqual({ batchItemFailures: [] });
  expect(sent).toEqual([]);
  expect(receiver.requests).toHaveLength(2);
  const [first, last] = receiver.requests;
  expect(last?.body).toBe(first?.body);
  expect(last?.headers['x-cascade-signature-256']).toBe(`sha256=${createHmac('sha256', secret).update(String(last?.body)).digest('hex')}`);
  expect(JSON.parse(String(last?.body))).toMatchObject({ event: 'run.succeeded', run: { id: 'da1', status: 'Succeeded' }, cause: { kind: 'manual' } });

  const listed = await api(apiEvent('GET', '/api/notifications/ops/deliveries'));
  const [delivery] = (JSON.parse(String(listed.body)) as { deliveries: DeliveryView[] }).deliveries;
  expect(delivery).toMatchObject({ event: 'run.succeeded', runId: 'da1', status: 'delivered' });
  expect(delivery?.attempts.map((a) => a.httpStatus)).toEqual([503, 200]);
});
