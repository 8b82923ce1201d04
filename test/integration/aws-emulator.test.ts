// cascade's AWS wiring against an AWS API emulator: the packaged functions (the deployable zips)
// run under Node.js 24 as Lambda runs them, and talk to moto (SQS, EventBridge, Scheduler, IAM,
// SSM, CloudWatch Logs), DynamoDB Local, and a CodeBuild stand-in that holds every request to
// CodeBuild's service model (moto's CodeBuild answers in a shape the SDK cannot read). Every
// resource is made from the packaged template's own Properties (test/support/emulated-stack.ts);
// the test does what AWS does between them: a rule's Lambda target is a queue it hands over from,
// and the dispatcher's event source mapping is ReceiveMessage, invoke, DeleteMessage.
import { CloudWatchLogsClient, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DeleteScheduleCommand, GetScheduleCommand, ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { keys } from '../../lib/adapters/dynamodb-table';
import type { Run } from '../../lib/domain/types';
import { startCodeBuildEmulator, type BuildStateChangeEvent, type CodeBuildEmulator } from '../support/codebuild-emulator';
import { DYNAMODB_START_TIMEOUT_MS, withDynamoDb, type TestTable } from '../support/dynamodb';
import { createEmulatedStack, createTableFromTemplate, type EmulatedStack } from '../support/emulated-stack';
import { startFunction, type Invocation, type LambdaFunction } from '../support/lambda-runtime';
import { MOTO_ACCOUNT, MOTO_REGION, startMoto, type Moto } from '../support/moto';
import { PACKAGE_TIMEOUT_MS, packagedStack, type PackagedStack } from '../support/packaged-stack';
import { rememberSecrets } from '../support/secrets';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..');
const ECR = `${MOTO_ACCOUNT}.dkr.ecr.${MOTO_REGION}.amazonaws.com`;
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const BASE = { registry: ECR, repository: 'baseimages/node', tag: '9-alpine' };
const FUNCTIONS = ['api', 'dispatcher', 'registryEvents', 'buildEvents', 'reconciler'] as const;
type Fn = (typeof FUNCTIONS)[number];

let stack: PackagedStack;
let moto: Moto;
let codebuild: CodeBuildEmulator;
let table: TestTable;
let aws: EmulatedStack;
let ssm: SSMClient;
let logs: CloudWatchLogsClient;
const fns = {} as Record<Fn, LambdaFunction>;
/** Every invocation of the flow, for the log checks at the end. */
const invocations: Array<{ fn: Fn; invocation: Invocation }> = [];
/** The schedule the timer test removed, and then asked for on purpose. */
let removedSchedule = '';

beforeAll(async () => {
  stack = packagedStack();
  [moto, codebuild, table] = await Promise.all([
    startMoto(),
    startCodeBuildEmulator({ region: MOTO_REGION, accountId: MOTO_ACCOUNT, projects: [String(stack.template.Resources.BuildProject?.Properties.Name)] }),
    withDynamoDb({ createTable: createTableFromTemplate(stack) }),
  ]);
  aws = await createEmulatedStack({ stack, moto, dynamodb: { endpoint: table.endpoint }, codebuildEndpoint: codebuild.url, tableName: table.tableName });
  ssm = new SSMClient(moto.clientConfig);
  logs = new CloudWatchLogsClient(moto.clientConfig);
  for (const fn of FUNCTIONS) fns[fn] = await startFunction(stack, fn, aws.env(fn));
}, PACKAGE_TIMEOUT_MS + DYNAMODB_START_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all(Object.values(fns).map((fn) => fn.stop()));
  for (const client of [aws?.sqs, aws?.events, aws?.scheduler, ssm, logs]) client?.destroy();
  await Promise.all([moto?.stop(), codebuild?.close(), table?.stop()]);
});

async function invoke<R>(fn: Fn, event: unknown): Promise<R> {
  const invocation = await fns[fn].invoke<R>(event);
  invocations.push({ fn, invocation });
  if (invocation.error) throw new Error(`${fn} failed: ${invocation.error.errorType}: ${invocation.error.errorMessage}\n${JSON.stringify(invocation.logs, null, 1)}`);
  return invocation.result as R;
}

/** The API function, called as API Gateway's HTTP API calls it (payload 2.0). */
async function api<T = Record<string, unknown>>(method: string, path: string, routeKey: string, body?: unknown): Promise<{ status: number; body: T }> {
  const event = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'events', 'api.json'), 'utf8')) as APIGatewayProxyEventV2;
  event.routeKey = `${method} ${routeKey}`;
  event.requestContext.routeKey = event.routeKey;
  event.requestContext.http.method = method;
  event.requestContext.http.path = path;
  event.requestContext.timeEpoch = Date.now();
  event.rawPath = path;
  if (body === undefined) delete event.body;
  else event.body = JSON.stringify(body);
  const answer = await invoke<APIGatewayProxyStructuredResultV2>('api', event);
  const json = String(answer.headers?.['content-type'] ?? '').startsWith('application/json');
  return { status: Number(answer.statusCode), body: (json ? JSON.parse(String(answer.body)) : answer.body) as T };
}

/** As Lambda's event source mapping does: batches from the queue to the dispatcher until none is left. */
async function drainQueue(): Promise<SQSBatchResponse[]> {
  const answers: SQSBatchResponse[] = [];
  for (;;) {
    const batch = await aws.receiveBatch({ waitSeconds: 0 });
    if (batch.Records.length === 0) return answers;
    const answer = await invoke<SQSBatchResponse>('dispatcher', batch);
    await aws.settleBatch(batch, answer);
    answers.push(answer);
  }
}

/** Puts a service's event on the default bus, as AWS does: the rules of the template decide where it goes. */
async function emit(event: { source: string; 'detail-type': string; detail: unknown; resources?: string[]; time?: string }): Promise<void> {
  await aws.putEvents([
    {
      Source: event.source,
      DetailType: event['detail-type'],
      Detail: JSON.stringify(event.detail),
      Resources: event.resources ?? [],
      ...(event.time && { Time: new Date(event.time) }),
    },
  ]);
}

/** What EventBridge delivered to `fn`'s rule, handed to `fn` as its asynchronous invocation. */
async function deliverRuleEvents<R>(fn: Fn): Promise<R[]> {
  const events = await aws.ruleEvents(fn);
  const results: R[] = [];
  for (const event of events) results.push(await invoke<R>(fn, event));
  return results;
}

function ecrEvent(action: 'PUSH' | 'DELETE', repository: string, tag: string, imageDigest: string) {
  return {
    source: 'aws.ecr',
    'detail-type': 'ECR Image Action',
    detail: { result: 'SUCCESS', 'repository-name': repository, 'image-digest': imageDigest, 'action-type': action, 'image-tag': tag },
  };
}

/** The build CodeBuild runs for a run ends; its state change event takes the template's rule to buildEvents. */
async function finishBuild(runId: string, bases: Array<{ digest: string }>, output: string, log: string[] = []): Promise<BuildStateChangeEvent> {
  const [build] = codebuild.buildsWith('CASCADE_RUN_ID', runId);
  if (!build) throw new Error(`no CodeBuild build for run ${runId}`);
  if (log.length > 0) {
    // CodeBuild writes the build's output to the project's group, in a stream named after the build's UUID.
    const target = { logGroupName: aws.env('api').BUILD_LOG_GROUP, logStreamName: String(build.id.split(':')[1]) };
    await logs.send(new CreateLogStreamCommand(target));
    await logs.send(new PutLogEventsCommand({ ...target, logEvents: log.map((message) => ({ message, timestamp: Date.now() })) }));
  }
  const event = codebuild.finish(build.id, {
    status: 'SUCCEEDED',
    exported: {
      CASCADE_RUN_ID: runId,
      CASCADE_BASE_IMAGES: JSON.stringify(bases.map((b) => ({ ...BASE, digest: b.digest, stage: 'runtime', pinned: false }))),
      CASCADE_OUTPUT_IMAGES: JSON.stringify([{ reference: `${ECR}/helloworld:${runId}`, digest: output }]),
      CASCADE_ERROR: '',
    },
  });
  await emit(event);
  expect(await deliverRuleEvents('buildEvents')).toEqual([expect.objectContaining({ kind: 'result' })]);
  return event;
}

/** What the reconciler's schedule rule invokes it with. */
function scheduledEvent(): unknown {
  return { ...(JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'events', 'reconciler.json'), 'utf8')) as object), time: new Date().toISOString() };
}

const run = async (id: string) => (await api<Run>('GET', `/api/runs/${id}`, '/api/runs/{id}')).body;

describe('cascade on an AWS API emulator', () => {
  it('runs the tutorial: a manual run records the base, an ECR push through the rule rebuilds on the new digest', async () => {
    const created = await api('POST', '/api/tasks', '/api/tasks', {
      name: 'helloworld',
      registry: ECR,
      images: ['helloworld:{{.Run.ID}}'],
      context: 'https://github.com/example/acr-build-helloworld-node.git#main',
      file: 'Dockerfile-app',
      args: { REGISTRY_NAME: ECR },
    });
    expect(created.status).toBe(201);

    // The manual run starts a CodeBuild build; its success records the base it pulled.
    const manual = await api<Run>('POST', '/api/tasks/helloworld/runs', '/api/tasks/{name}/runs');
    expect(manual.body).toMatchObject({ id: 'da1', trigger: 'Manual', status: 'Running' });
    expect(codebuild.created).toHaveLength(1);
    await finishBuild('da1', [{ digest: digest('1') }], digest('a'));
    expect(await run('da1')).toMatchObject({ status: 'Succeeded', outputImages: [{ reference: `${ECR}/helloworld:da1`, digest: digest('a') }] });
    const shown = await api<{ dependencies: unknown[] }>('GET', '/api/tasks/helloworld', '/api/tasks/{name}');
    expect(shown.body.dependencies).toEqual([expect.objectContaining({ ...BASE, digest: digest('1'), stage: 'runtime', capturedByRun: 'da1' })]);

    // ECR tells of the run's own push: through the rule and the queue, it starts nothing.
    await emit(ecrEvent('PUSH', 'helloworld', 'da1', digest('a')));
    expect(await deliverRuleEvents('registryEvents')).toEqual([{ accepted: 1, ignored: [] }]);
    expect(await drainQueue()).toEqual([{ batchItemFailures: [] }]);
    expect(codebuild.created).toHaveLength(1);

    // The base is pushed again: the rule, registryEvents, the queue, the dispatcher, StartBuild.
    await emit(ecrEvent('PUSH', BASE.repository, BASE.tag, digest('2')));
    expect(await deliverRuleEvents('registryEvents')).toEqual([{ accepted: 1, ignored: [] }]);
    expect(await drainQueue()).toEqual([{ batchItemFailures: [] }]);
    expect(codebuild.created).toHaveLength(2);
    expect(await run('da2')).toMatchObject({ trigger: 'Image Update', status: 'Running', buildId: codebuild.created[1]?.id });

    await finishBuild('da2', [{ digest: digest('2') }], digest('b'));
    expect(await run('da2')).toMatchObject({ status: 'Succeeded', baseImages: [expect.objectContaining({ digest: digest('2') })] });
    const after = await api<{ dependencies: unknown[] }>('GET', '/api/tasks/helloworld', '/api/tasks/{name}');
    expect(after.body.dependencies).toEqual([expect.objectContaining({ ...BASE, digest: digest('2'), capturedByRun: 'da2' })]);

    // The same push delivered again (EventBridge delivers at least once) builds nothing more.
    await emit(ecrEvent('PUSH', BASE.repository, BASE.tag, digest('2')));
    await deliverRuleEvents('registryEvents');
    await drainQueue();
    expect(codebuild.created).toHaveLength(2);
  });

  it('marks a base tag deleted in ECR gone on its tasks, through the rule a push takes', async () => {
    await emit(ecrEvent('DELETE', BASE.repository, BASE.tag, digest('2')));
    expect(await deliverRuleEvents('registryEvents')).toEqual([{ accepted: 1, ignored: [] }]);
    expect(await drainQueue()).toEqual([{ batchItemFailures: [] }]);
    const shown = await api<{ dependencies: Array<{ tagGoneAt?: string }> }>('GET', '/api/tasks/helloworld', '/api/tasks/{name}');
    expect(shown.body.dependencies).toEqual([expect.objectContaining({ ...BASE, tagGoneAt: expect.any(String) })]);
    expect(codebuild.created).toHaveLength(2);
  });

  it('leaves a message that fails on every delivery in the dead-letter queue after maxReceiveCount receives, by SQS redrive', async () => {
    const queue = stack.template.Resources.CascadeQueue?.Properties as { RedrivePolicy: { maxReceiveCount: number } };
    const maxReceiveCount = queue.RedrivePolicy.maxReceiveCount;
    await aws.sqs.send(
      // A start of a run that never existed fails every time it is tried.
      new SendMessageCommand({ QueueUrl: aws.queueUrl('CascadeQueue'), MessageBody: JSON.stringify({ type: 'start-run', runId: 'da999' }) }),
    );
    const receives: string[] = [];
    for (let i = 0; i < maxReceiveCount + 1; i++) {
      // Visible again at once, instead of after the visibility timeout of the template.
      const batch = await aws.receiveBatch({ visibilityTimeout: 0, waitSeconds: 0 });
      if (batch.Records.length === 0) break;
      receives.push(String(batch.Records[0]?.attributes.ApproximateReceiveCount));
      const answer = await invoke<SQSBatchResponse>('dispatcher', batch);
      expect(answer.batchItemFailures).toEqual([{ itemIdentifier: batch.Records[0]?.messageId }]);
      await aws.settleBatch(batch, answer);
    }
    expect(receives).toEqual(Array.from({ length: maxReceiveCount }, (_, i) => String(i + 1)));
    const dead = await aws.peek('CascadeDeadLetterQueue');
    expect(dead.map((m) => JSON.parse(String(m.Body)) as unknown)).toEqual([{ type: 'start-run', runId: 'da999' }]);
  });

  it("makes timers Scheduler schedules in the template's group with its role, and a schedule's invocation starts one run", async () => {
    const env = aws.env('api');
    const added = await api('POST', '/api/tasks/helloworld/timers', '/api/tasks/{name}/timers', { name: 'nightly', schedule: '0 3 * * *' });
    expect(added.status).toBe(201);
    const get = () => aws.scheduler.send(new GetScheduleCommand({ GroupName: env.SCHEDULE_GROUP, Name: scheduleName }));
    const schedules = await aws.scheduler.send(new ListSchedulesCommand({ GroupName: env.SCHEDULE_GROUP }));
    expect(schedules.Schedules).toHaveLength(1);
    const scheduleName = String(schedules.Schedules?.[0]?.Name);
    removedSchedule = scheduleName;
    const schedule = await get();
    expect(schedule).toMatchObject({
      GroupName: stack.template.Resources.TimerScheduleGroup?.Properties.Name,
      State: 'ENABLED',
      ScheduleExpressionTimezone: 'UTC',
      Target: { Arn: env.DISPATCHER_ARN, RoleArn: aws.scope.resources.SchedulerRole?.attributes?.Arn },
    });
    expect(schedule.ScheduleExpression).toMatch(/^cron\(0 3 \* \* \? \*\)$/);

    const updated = await api('PATCH', `/api/tasks/helloworld/timers/nightly`, '/api/tasks/{name}/timers/{timer}', { enabled: false });
    expect(updated.status).toBe(200);
    expect((await get()).State).toBe('DISABLED');
    await api('PATCH', `/api/tasks/helloworld/timers/nightly`, '/api/tasks/{name}/timers/{timer}', { enabled: true });

    // What Scheduler invokes the dispatcher with: the schedule's input, its time filled in.
    const input = String((await get()).Target?.Input).replaceAll('<aws.scheduler.scheduled-time>', '2026-12-07T03:00:00Z');
    const before = codebuild.created.length;
    expect(await invoke('dispatcher', JSON.parse(input))).toMatchObject({ fired: true, timer: 'nightly' });
    expect(await invoke('dispatcher', JSON.parse(input))).toMatchObject({ fired: false });
    expect(codebuild.created.length).toBe(before + 1);

    const removed = await api('DELETE', `/api/tasks/helloworld/timers/nightly`, '/api/tasks/{name}/timers/{timer}');
    expect(removed.status).toBe(204);
    await expect(get()).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(aws.scheduler.send(new DeleteScheduleCommand({ GroupName: env.SCHEDULE_GROUP, Name: scheduleName }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('keeps registry passwords in SSM Parameter Store, hands builds only their names, and reads run logs from CloudWatch Logs', async () => {
    const password = 'pull-Passw0rd-4d9f1c';
    rememberSecrets(password);
    expect((await api('PUT', '/api/registries/registry.example.com/login', '/api/registries/{host}/login', { username: 'pusher', password })).status).toBe(204);
    const credential = await api('POST', '/api/tasks/helloworld/credentials', '/api/tasks/{name}/credentials', { loginServer: 'registry.example.com', username: 'puller', password });
    expect(credential.status).toBe(200);
    expect(JSON.stringify(credential.body)).not.toContain(password);

    const started = await api<Run>('POST', '/api/tasks/helloworld/runs', '/api/tasks/{name}/runs');
    const [build] = codebuild.buildsWith('CASCADE_RUN_ID', started.body.id);
    const byReference = build?.environment.environmentVariables.filter((v) => v.type === 'PARAMETER_STORE') ?? [];
    expect(byReference).toHaveLength(1);
    expect(JSON.stringify(build)).not.toContain(password);
    // The name CodeBuild resolves inside the build holds the password.
    const parameter = await ssm.send(new GetParameterCommand({ Name: String(byReference[0]?.value), WithDecryption: true }));
    expect(parameter.Parameter).toMatchObject({ Type: 'SecureString', Value: password });

    await finishBuild(started.body.id, [{ digest: digest('2') }], digest('c'), ['[Container] Entering phase BUILD', 'Step 1/2 : FROM 123456789012.dkr.ecr.eu-west-1.amazonaws.com/baseimages/node:9-alpine']);
    const log = await api<string>('GET', `/api/runs/${started.body.id}/log`, '/api/runs/{id}/log');
    expect(log).toEqual({ status: 200, body: '[Container] Entering phase BUILD\nStep 1/2 : FROM 123456789012.dkr.ecr.eu-west-1.amazonaws.com/baseimages/node:9-alpine\n' });
  });

  it('ends a run whose first StartBuild answer was lost Succeeded, with one build', async () => {
    for (const how of ['reset', 'garbled'] as const) {
      // CodeBuild takes the request and starts the build; the answer never arrives whole.
      codebuild.dropAnswers('StartBuild', how, 1);
      const before = codebuild.created.length;
      const started = await api<Run>('POST', '/api/tasks/helloworld/runs', '/api/tasks/{name}/runs');
      expect(started.body).toMatchObject({ status: 'Running' });
      expect(codebuild.buildsWith('CASCADE_RUN_ID', started.body.id)).toHaveLength(1);
      expect(codebuild.created.length).toBe(before + 1);
      await finishBuild(started.body.id, [{ digest: digest('2') }], digest('d'));
      expect(await run(started.body.id)).toMatchObject({ status: 'Succeeded', buildId: codebuild.buildsWith('CASCADE_RUN_ID', started.body.id)[0]?.id });
    }
  });

  it('finds, by its run id, the build of a run whose every StartBuild answer was lost, and starts no second one', async () => {
    // The SDK tries a dropped connection 3 times, and the adapter asks twice: 6 answers lost.
    codebuild.dropAnswers('StartBuild', 'reset', 6);
    const before = codebuild.created.length;
    const asked = codebuild.requests.filter((r) => r.operation === 'StartBuild').length;
    const answer = await api<Run>('POST', '/api/tasks/helloworld/runs', '/api/tasks/{name}/runs');
    expect(codebuild.requests.filter((r) => r.operation === 'StartBuild').length).toBe(asked + 6);
    // Not an error: the run waits, Queued, and its start waits in the queue.
    expect(answer).toMatchObject({ status: 202, body: { status: 'Queued', trigger: 'Manual' } });
    const queued = answer.body;
    expect(codebuild.buildsWith('CASCADE_RUN_ID', queued.id)).toHaveLength(1);

    // The queued start is tried while CodeBuild's answers are still lost: SQS will deliver it again.
    codebuild.dropAnswers('StartBuild', 'reset', 6);
    const first = await aws.receiveBatch({ waitSeconds: 0, visibilityTimeout: 0 });
    expect(first.Records.map((r) => JSON.parse(r.body) as unknown)).toEqual([{ type: 'start-run', runId: queued.id }]);
    const failed = await invoke<SQSBatchResponse>('dispatcher', first);
    expect(failed.batchItemFailures).toEqual([{ itemIdentifier: first.Records[0]?.messageId }]);
    await aws.settleBatch(first, failed);

    // Time passes: past the reconciler's grace, and past CodeBuild's five minutes for the token.
    const createdAt = new Date(Date.now() - 11 * 60_000).toISOString();
    await table.client.send(new UpdateCommand({ TableName: table.tableName, Key: keys.run(queued.id), UpdateExpression: 'SET createdAt = :at', ExpressionAttributeValues: { ':at': createdAt } }));
    const report = await invoke<{ started: string[] }>('reconciler', scheduledEvent());
    expect(report.started).toEqual([queued.id]);
    const [build] = codebuild.buildsWith('CASCADE_RUN_ID', queued.id);
    expect(await run(queued.id)).toMatchObject({ status: 'Running', buildId: build?.id });
    // The start-run SQS delivers again finds the run started: nothing more.
    expect(await drainQueue()).toEqual([{ batchItemFailures: [] }]);
    expect(codebuild.created.length).toBe(before + 1);
    await finishBuild(queued.id, [{ digest: digest('2') }], digest('e'));
    expect(await run(queued.id)).toMatchObject({ status: 'Succeeded' });
  });

  it("delivers a finished run's notification from the packaged functions, signed, and a 503's next attempt after SQS's DelaySeconds", async () => {
    const answers = [503];
    const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(answers.shift() ?? 200).end();
      });
    });
    await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const added = await api<{ secret: string }>('POST', '/api/notifications', '/api/notifications', { name: 'ops', url, events: ['run.succeeded'] });
      expect(added.status).toBe(201);
      rememberSecrets(added.body.secret);
      // Each function reads the list of notifications at most every 5 s: added on the api function, it applies to the others within that.
      await new Promise((resolve) => setTimeout(resolve, 5100));
      const started = await api<Run>('POST', '/api/tasks/helloworld/runs', '/api/tasks/{name}/runs');
      await finishBuild(started.body.id, [{ digest: digest('2') }], digest('f'));
      // buildEvents queued `notify`; the dispatcher writes the delivery and makes the first attempt: a 503.
      expect(await drainQueue()).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
      expect(received).toHaveLength(1);
      // The second attempt waits in SQS, a second.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await drainQueue()).toEqual([{ batchItemFailures: [] }]);
      expect(received).toHaveLength(2);
      expect(received[1]?.body).toBe(received[0]?.body);
      expect(received[1]?.headers['x-cascade-signature-256']).toBe(`sha256=${createHmac('sha256', added.body.secret).update(String(received[1]?.body)).digest('hex')}`);
      expect(JSON.parse(String(received[1]?.body))).toMatchObject({ event: 'run.succeeded', run: { id: started.body.id, status: 'Succeeded' } });
      const listed = await api<{ deliveries: Array<{ status: string; attempts: Array<{ httpStatus?: number }> }> }>('GET', '/api/notifications/ops/deliveries', '/api/notifications/{name}/deliveries');
      expect(listed.body.deliveries.map((d) => [d.status, d.attempts.map((a) => a.httpStatus)])).toEqual([['delivered', [503, 200]]]);
      expect((await api('DELETE', '/api/notifications/ops', '/api/notifications/{name}')).status).toBe(204);
    } finally {
      await new Promise((done) => receiver.close(done));
    }
  });

  it('logs, from each function, JSON lines with the request id, level and cold start, and the run or delivery id of the work', () => {
    const byFunction = new Map<Fn, Array<{ invocation: Invocation; first: boolean }>>();
    for (const { fn, invocation } of invocations) byFunction.set(fn, [...(byFunction.get(fn) ?? []), { invocation, first: !byFunction.has(fn) }]);
    expect([...byFunction.keys()].sort()).toEqual([...FUNCTIONS].sort());
    for (const [fn, calls] of byFunction) {
      const lines = calls.flatMap(({ invocation, first }) =>
        invocation.logs.map((line) => {
          expect(line).toEqual(expect.objectContaining({ function_request_id: invocation.requestId, function_name: `cascade-dev-${fn}`, cold_start: first, level: expect.stringMatching(/^(DEBUG|INFO|WARN|ERROR)$/) }));
          return line as Record<string, unknown>;
        }),
      );
      // Each function said, at least once, which run or which delivery it worked on.
      expect({ fn, identified: lines.some((l) => typeof l.runId === 'string' || typeof l.deliveryId === 'string') }).toEqual({ fn, identified: true });
    }
  });

  it('sent nothing that moto or the CodeBuild service model refused', () => {
    // Where moto 5.2 falls short of AWS, the emulation says so (and made up for it).
    expect([...aws.gaps]).toEqual(['EventBridge events delivered to an SQS target lack `account`']);
    expect(codebuild.refused).toEqual([]);
    expect(codebuild.answerProblems).toEqual([]);
    const notFound = { status: 404, error: expect.stringContaining('ResourceNotFoundException') };
    expect(moto.refused).toEqual([
      // A timer's first put is an UpdateSchedule, which tells it whether the schedule exists (then CreateSchedule).
      { operation: `PUT /schedules/${removedSchedule}`, ...notFound },
      // The two the timer test asked for, of the schedule cascade had removed.
      { operation: `GET /schedules/${removedSchedule}`, ...notFound },
      { operation: `DELETE /schedules/${removedSchedule}`, ...notFound },
      // Reading a run's log reads cascade's own notes stream too, which only a run with notes has
      // (moto says "log group" where it means the stream).
      { operation: 'Logs_20140328.GetLogEvents', status: 400, error: expect.stringContaining('ResourceNotFoundException') },
    ]);
  });
});
