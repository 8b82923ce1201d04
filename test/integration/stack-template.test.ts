// The CloudFormation template `npm run package` writes, offline, and the bundles beside it:
// routes and their authorization, queues, table, rules, bundles, and IAM. Each function's role
// is checked against what the function really calls: every handler runs over its events with
// the records in DynamoDB Local and the AWS services it cannot reach here mocked, every call is
// recorded as an IAM action, and the role must allow exactly those (nothing more, nothing less).
import { BatchGetBuildsCommand, CodeBuildClient, ListBuildsForProjectCommand, StartBuildCommand, StopBuildCommand, type Build } from '@aws-sdk/client-codebuild';
import { CloudWatchLogsClient, CreateLogStreamCommand, GetLogEventsCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createApiHandler } from '../../functions/api';
import { createBuildEventsHandler } from '../../functions/build-events';
import { createDispatcherHandler } from '../../functions/dispatcher';
import { createPollerHandler } from '../../functions/poller';
import { createReconcilerHandler } from '../../functions/reconciler';
import { createRegistryEventsHandler } from '../../functions/registry-events';
import { createWebhookHandler } from '../../functions/webhook';
import { createTableInput, keys } from '../../lib/adapters/dynamodb-table';
import { readAwsConfig } from '../../lib/aws/config';
import { subjectOfRun } from '../../lib/domain/notifications/notification';
import { freePort } from '../../lib/local/free-port';
import { createAwsPorts } from '../../lib/aws/wiring';
import { createCascade, type Cascade } from '../../lib/domain/cascade';
import { ECR_EVENT_PATTERN } from '../../lib/events/ecr';
import { apiRoutes, webhookRoutes } from '../../lib/http/api-routes';
import { DYNAMODB_START_TIMEOUT_MS, withDynamoDb, type TestTable } from '../support/dynamodb';
import { matchesEventPattern } from '../support/event-pattern';
import { BASE_ACCOUNT, PACKAGE_TIMEOUT_MS, packagedStack, PULL_ROLE, WITH_BASE_ACCOUNT } from '../support/packaged-stack';
import { rememberSecrets } from '../support/secrets';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures');
const ECR_APP = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const ECR_BASE = `${BASE_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`;
const FUNCTIONS = ['api', 'webhook', 'dispatcher', 'registryEvents', 'buildEvents', 'reconciler', 'poller'];
const MAX_BUNDLE_BYTES = 400 * 1024;

type Json = Record<string, unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStub = AwsStub<any, any, any>;
interface Resource {
  Type: string;
  Properties: Json & { [key: string]: unknown };
  DependsOn?: unknown;
}
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

let outDir: string;
let resources: Record<string, Resource>;
const byType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const fixture = <T = Json>(path: string): T => JSON.parse(readFileSync(join(FIXTURES, path), 'utf8')) as T;
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const statementsOf = (roleId: string): Statement[] =>
  ((resources[roleId]?.Properties.Policies ?? []) as Array<{ PolicyDocument: { Statement: Statement[] } }>).flatMap((p) => p.PolicyDocument.Statement);
const lambdaOf = (fn: string) => resources[`${fn.charAt(0).toUpperCase()}${fn.slice(1)}LambdaFunction`] as Resource;
const roleIdOf = (fn: string) => ((lambdaOf(fn).Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]) as string;
const refsIn = (value: unknown): string[] => [...JSON.stringify(value).matchAll(/"(?:Ref|Fn::GetAtt)":\s*\[?"(\w+)"/g)].map((m) => m[1] as string);

beforeAll(() => {
  // Exactly the README's `npm run package` (once per jest run, shared with the other stack tests).
  const stack = packagedStack(WITH_BASE_ACCOUNT);
  expect(stack.printed).toMatch(/^FUNCTION +ZIPPED +OF 400\.0 KB$/m);
  outDir = stack.dir;
  resources = stack.template.Resources as Record<string, Resource>;
}, PACKAGE_TIMEOUT_MS);

describe('functions and routes', () => {
  it('has one Lambda function per job, Node.js 24 on arm64, each with its own role', () => {
    const names = byType('AWS::Lambda::Function').map(([, r]) => r.Properties.FunctionName);
    expect(names.sort()).toEqual(FUNCTIONS.map((fn) => `cascade-dev-${fn}`).sort());
    const roles = new Set<string>();
    for (const fn of FUNCTIONS) {
      expect(lambdaOf(fn).Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'] });
      const [file, exported] = (lambdaOf(fn).Properties.Handler as string).split(/\.(?=[^.]+$)/);
      expect(exported).toBe('handler');
      expect(statSync(join(ROOT, `${file}.ts`)).isFile()).toBe(true);
      roles.add(roleIdOf(fn));
    }
    expect(roles.size).toBe(FUNCTIONS.length);
  });

  it('routes apiRoutes to the api function behind IAM authorization, and webhooks and /health without it', () => {
    const routes = byType('AWS::ApiGatewayV2::Route').map(([, r]) => ({
      key: r.Properties.RouteKey as string,
      target: refsIn(r.Properties.Target)[0],
      auth: (r.Properties.AuthorizationType as string | undefined) ?? 'NONE',
    }));
    const expected = [
      ...apiRoutes.map((r) => ({ key: `${r.method} ${r.path}`, target: 'HttpApiIntegrationApi', auth: r.path.startsWith('/api/') ? 'AWS_IAM' : 'NONE' })),
      ...webhookRoutes.map((r) => ({ key: `${r.method} ${r.path}`, target: 'HttpApiIntegrationWebhook', auth: 'NONE' })),
    ];
    const byKey = (a: { key: string }, b: { key: string }) => a.key.localeCompare(b.key);
    expect(routes.sort(byKey)).toEqual(expected.sort(byKey));
  });

  it('gives every function the configuration lib/aws/config.ts requires, as references to the stack', () => {
    const sample: Record<string, string> = {
      TABLE_NAME: 'cascade-dev',
      QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/cascade-dev',
      CODEBUILD_PROJECT: 'cascade-dev',
      BUILD_LOG_GROUP: '/aws/codebuild/cascade-dev',
      PUBLIC_URL: 'https://r4nd0m1d.execute-api.eu-west-1.amazonaws.com',
      SCHEDULE_GROUP: 'cascade-dev',
      SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/cascade-dev-SchedulerRole',
      DEAD_LETTER_ARN: 'arn:aws:sqs:eu-west-1:123456789012:cascade-dev-dead-letters',
      DISPATCHER_ARN: 'arn:aws:lambda:eu-west-1:123456789012:function:cascade-dev-dispatcher',
    };
    for (const fn of FUNCTIONS) {
      const env = (lambdaOf(fn).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env).toEqual({
        TABLE_NAME: { Ref: 'CascadeTable' },
        QUEUE_URL: { Ref: 'CascadeQueue' },
        CODEBUILD_PROJECT: { Ref: 'BuildProject' },
        BUILD_LOG_GROUP: { Ref: 'BuildLogGroup' },
        PUBLIC_URL: { 'Fn::GetAtt': ['HttpApi', 'ApiEndpoint'] },
        SECRETS_PREFIX: '/cascade/dev',
        RUN_ID_PREFIX: 'da',
        POLL_INTERVAL_SECONDS: '300',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        SCHEDULE_GROUP: { Ref: 'TimerScheduleGroup' },
        SCHEDULER_ROLE_ARN: { 'Fn::GetAtt': ['SchedulerRole', 'Arn'] },
        DISPATCHER_ARN: { 'Fn::Sub': 'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:cascade-dev-dispatcher' },
        DEAD_LETTER_ARN: { 'Fn::GetAtt': ['CascadeDeadLetterQueue', 'Arn'] },
      });
      const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, typeof v === 'string' ? v : sample[k]]));
      expect(() => readAwsConfig(resolved)).not.toThrow();
    }
  });

  it('zips each function into at most 400 KB', () => {
    const sizes = Object.fromEntries(FUNCTIONS.map((fn) => [fn, statSync(join(outDir, `${fn}.zip`)).size]));
    for (const [fn, bytes] of Object.entries(sizes)) expect({ fn, within: bytes > 0 && bytes <= MAX_BUNDLE_BYTES }).toEqual({ fn, within: true });
  });
});

describe('queues', () => {
  it('feeds the dispatcher from the queue with partial batch failures', () => {
    const [[, mapping]] = byType('AWS::Lambda::EventSourceMapping') as [[string, Resource]];
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['CascadeQueue', 'Arn'] },
      FunctionName: { 'Fn::GetAtt': ['DispatcherLambdaFunction', 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it("keeps the queue's visibility timeout at least 6 times the dispatcher's timeout", () => {
    const timeout = lambdaOf('dispatcher').Properties.Timeout as number;
    expect(timeout).toBeGreaterThan(0);
    expect(resources.CascadeQueue?.Properties.VisibilityTimeout as number).toBeGreaterThanOrEqual(6 * timeout);
  });

  it('dead-letters a message after 5 receives, and keeps it longer than the queue would', () => {
    const { CascadeQueue: queue, CascadeDeadLetterQueue: dlq } = resources;
    expect(dlq?.Type).toBe('AWS::SQS::Queue');
    expect(queue?.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': ['CascadeDeadLetterQueue', 'Arn'] }, maxReceiveCount: 5 });
    expect(dlq?.Properties.MessageRetentionPeriod as number).toBeGreaterThan(queue?.Properties.MessageRetentionPeriod as number);
  });

  it('sends the events of asynchronous invocations that fail every retry to the dead-letter queue', () => {
    const configs = Object.fromEntries(byType('AWS::Lambda::EventInvokeConfig').map(([, r]) => [refsIn(r.Properties.FunctionName)[0], r.Properties.DestinationConfig]));
    const toDlq = { OnFailure: { Destination: { 'Fn::GetAtt': ['CascadeDeadLetterQueue', 'Arn'] } } };
    expect(configs).toEqual({ RegistryEventsLambdaFunction: toDlq, BuildEventsLambdaFunction: toDlq });
  });
});

describe('table', () => {
  it('has the keys, indexes, TTL and recovery the code relies on', () => {
    const table = resources.CascadeTable as Resource;
    const code = createTableInput('cascade-dev');
    const sortBy = <T extends { AttributeName?: string; IndexName?: string }>(items: T[]) => [...items].sort((a, b) => (a.IndexName ?? a.AttributeName ?? '').localeCompare(b.IndexName ?? b.AttributeName ?? ''));
    expect(table.Properties.TableName).toBe('cascade-dev');
    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.Properties.KeySchema).toEqual(code.KeySchema);
    expect(sortBy(table.Properties.AttributeDefinitions as [])).toEqual(sortBy(code.AttributeDefinitions as []));
    const indexes = (list: Array<{ IndexName?: string; KeySchema?: unknown; Projection?: unknown }>) =>
      sortBy(list.map(({ IndexName, KeySchema, Projection }) => ({ IndexName, KeySchema, Projection })));
    expect(indexes(table.Properties.GlobalSecondaryIndexes as [])).toEqual(indexes(code.GlobalSecondaryIndexes ?? []));
    expect(table.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });
});

describe('EventBridge rules', () => {
  const patternOf = (fn: string) => {
    const rule = byType('AWS::Events::Rule').find(([, r]) => refsIn((r.Properties.Targets as unknown[])[0]).includes(`${fn.charAt(0).toUpperCase()}${fn.slice(1)}LambdaFunction`));
    if (!rule) throw new Error(`no rule targets ${fn}`);
    return rule[1].Properties;
  };
  const ecrPush = fixture('webhooks/ecr/awsdocs-ecr-image-action-push-success.json');
  const withDetail = (event: Json, detail: Json) => ({ ...event, detail: { ...(event.detail as Json), ...detail } });

  it.each<[string, Json, boolean]>([
    ["AWS's push example", ecrPush, true],
    ['a push forwarded from a base account', fixture('events/registryEvents.json'), true],
    ['a failed push', withDetail(ecrPush, { result: 'FAILURE' }), false],
    ["AWS's delete example", fixture('webhooks/ecr/awsdocs-ecr-image-action-delete.json'), true],
    ['a failed delete', withDetail(fixture('webhooks/ecr/awsdocs-ecr-image-action-delete.json'), { result: 'FAILURE' }), false],
    ['a CodeBuild event', fixture('events/buildEvents.json'), false],
  ])('sends registryEvents %s: %s', (_what, event, matches) => {
    expect(matchesEventPattern(patternOf('registryEvents').EventPattern as never, event)).toBe(matches);
  });

  it("gives registryEvents the normalizer's own pattern, as packaged", () => {
    expect(patternOf('registryEvents').EventPattern).toEqual(ECR_EVENT_PATTERN);
  });

  it.each<[string, Json, boolean]>([
    ['a succeeded build', fixture('events/buildEvents.json'), true],
    ['a failed build', fixture('events/codebuild-failed.json'), true],
    ['a build in progress', fixture('events/codebuild-in-progress.json'), false],
    ["another project's build", withDetail(fixture('events/buildEvents.json'), { 'project-name': 'someone-else' }), false],
    ['an ECR push', ecrPush, false],
  ])('sends buildEvents %s: %s', (_what, event, matches) => {
    expect(matchesEventPattern(patternOf('buildEvents').EventPattern as never, event)).toBe(matches);
  });

  it('runs the reconciler every 5 minutes', () => {
    expect(patternOf('reconciler').ScheduleExpression).toBe('rate(5 minutes)');
  });

  it("lets the base accounts put ECR image actions, and only those, on this account's default bus", () => {
    const [[, policy]] = byType('AWS::Events::EventBusPolicy') as [[string, Resource]];
    const statement = policy.Properties.Statement as Statement & { Principal: unknown; Condition: unknown };
    expect(policy.Properties.EventBusName).toBe('default');
    expect(statement.Action).toBe('events:PutEvents');
    expect(JSON.stringify(statement.Principal)).toContain(`:iam::${BASE_ACCOUNT}:root`);
    expect(statement.Condition).toEqual({ StringEquals: { 'events:source': 'aws.ecr', 'events:detail-type': 'ECR Image Action' } });
  });
});

describe('the build project', () => {
  it('gets the rendered buildspec, its log group, docker, and the build role', () => {
    const project = resources.BuildProject?.Properties as { Source: { Type: string; BuildSpec: string }; Environment: { PrivilegedMode: boolean }; LogsConfig: Json; ServiceRole: unknown };
    expect(project.Source.Type).toBe('NO_SOURCE');
    expect(project.Source.BuildSpec).toBe(execFileSync(process.execPath, [join(ROOT, 'infra', 'buildspec.cjs')], { cwd: ROOT, encoding: 'utf8' }));
    const buildspec = parse(project.Source.BuildSpec) as { version: number; env: { 'exported-variables': string[] } };
    expect(buildspec.version).toBe(0.2);
    expect(buildspec.env['exported-variables']).toEqual(expect.arrayContaining(['CASCADE_RUN_ID', 'CASCADE_BASE_IMAGES', 'CASCADE_OUTPUT_IMAGES', 'CASCADE_ERROR']));
    expect(project.Environment.PrivilegedMode).toBe(true);
    expect(project.LogsConfig).toEqual({ CloudWatchLogs: { Status: 'ENABLED', GroupName: { Ref: 'BuildLogGroup' } } });
    expect(project.ServiceRole).toEqual({ 'Fn::GetAtt': ['BuildRole', 'Arn'] });
  });

  it('may push only to the app repositories and assume only the configured pull roles', () => {
    const bySid = Object.fromEntries(statementsOf('BuildRole').map((s) => [s.Sid, s]));
    expect(JSON.stringify(bySid.PushAppImages?.Resource)).toMatch(/:repository\/helloworld"/);
    expect((bySid.PushAppImages?.Resource as unknown[]).length).toBe(1);
    expect(bySid.AssumePullRoles).toMatchObject({ Action: 'sts:AssumeRole', Resource: [PULL_ROLE] });
    expect(actionsOf(bySid.PushAppImages as Statement)).toEqual(expect.arrayContaining(['ecr:PutImage', 'ecr:InitiateLayerUpload']));
  });
});

describe('timers and the poller', () => {
  it('lets EventBridge Scheduler invoke the dispatcher, and only that, with failures to the dead-letter queue', () => {
    const role = resources.SchedulerRole as Resource;
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain('scheduler.amazonaws.com');
    const statements = statementsOf('SchedulerRole');
    expect(statements.map((st) => [st.Sid, actionsOf(st)])).toEqual([
      ['InvokeDispatcher', ['lambda:InvokeFunction']],
      ['FailedInvocations', ['sqs:SendMessage']],
    ]);
    expect(JSON.stringify(statements[0]!.Resource)).toContain(':function:cascade-dev-dispatcher');
    expect(refsIn(statements[1]!.Resource)).toEqual(['CascadeDeadLetterQueue']);
    expect(byType('AWS::Scheduler::ScheduleGroup').map(([, r]) => r.Properties.Name)).toEqual(['cascade-dev']);
  });

  it('keeps build logs as long as the longest retention a task may ask for', () => {
    expect((resources.BuildLogGroup as Resource).Properties.RetentionInDays).toBe(365);
  });

  it('runs the poller every pollIntervalMinutes (5 by default), the interval it is told', () => {
    const rules = byType('AWS::Events::Rule').filter(([, r]) => refsIn(r.Properties.Targets).includes('PollerLambdaFunction'));
    expect(rules.map(([, r]) => r.Properties.ScheduleExpression)).toEqual(['rate(5 minutes)']);
    expect((lambdaOf('poller').Properties.Environment as { Variables: Record<string, unknown> }).Variables.POLL_INTERVAL_SECONDS).toBe('300');
  });
});

describe('IAM', () => {
  // Actions AWS offers on no narrower resource than "*".
  const STAR_ONLY = new Set(['ecr:GetAuthorizationToken']);

  it('has no wildcard action, and "*" resources only where AWS allows nothing narrower', () => {
    const roles = byType('AWS::IAM::Role');
    // One per function, the build role, and the role Scheduler invokes the dispatcher with.
    expect(roles.length).toBe(FUNCTIONS.length + 2);
    for (const [roleId] of roles) {
      for (const statement of statementsOf(roleId)) {
        expect(statement.Effect).toBe('Allow');
        for (const action of actionsOf(statement)) expect({ roleId, action }).toEqual({ roleId, action: expect.stringMatching(/^[a-z0-9-]+:[A-Za-z]+$/) });
        if (JSON.stringify(statement.Resource) === '"*"') {
          for (const action of actionsOf(statement)) expect({ roleId, action, star: STAR_ONLY.has(action) }).toEqual({ roleId, action, star: true });
        }
      }
    }
  });

  describe('each function may do exactly what it does', () => {
    // What AWS does with a function's role on its behalf, never seen as an SDK call of its own.
    const BY_THE_PLATFORM: Record<string, string[]> = {
      dispatcher: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
      registryEvents: ['sqs:SendMessage@CascadeDeadLetterQueue'],
      buildEvents: ['sqs:SendMessage@CascadeDeadLetterQueue'],
      // Scheduler is handed the role when a schedule is created; IAM checks it then, no call of its own.
      api: ['iam:PassRole@SchedulerRole'],
    };
    // Which resource each service's calls must name.
    const RESOURCE_OF: Record<string, string> = { dynamodb: 'CascadeTable', sqs: 'CascadeQueue', codebuild: 'BuildProject', logs: 'BuildLogGroup', ssm: 'ssm', scheduler: 'TimerScheduleGroup' };

    let anchor: TestTable;
    beforeAll(async () => {
      anchor = await withDynamoDb();
    }, DYNAMODB_START_TIMEOUT_MS);
    afterAll(() => anchor.stop());


    interface Stubs {
      sqs: AnyStub;
      codebuild: AnyStub;
      ssm: AnyStub;
      logs: AnyStub;
      scheduler: AnyStub;
    }

    /** A Cascade wired as on AWS that, once `record()` is called, records each call as `<iam action>@<resource>`. */
    /** What a scenario can change in the services it cannot reach here. */
    interface World {
      /** The next call of `command` fails with an error of that name. */
      fault(command: string, name: string): void;
      /** Builds BatchGetBuilds reports as they are here; any other build is IN_PROGRESS. */
      finished: Build[];
      /** The run was created this long ago: a start tried again now is past CodeBuild's five-minute idempotency. */
      age(runId: string, ms: number): Promise<void>;
    }

    async function recordingCascade(): Promise<{ cascade: Cascade; calls: Set<string>; record: () => void; stubs: Stubs; world: World; done: () => Promise<void> }> {
      const table = await withDynamoDb();
      const calls = new Set<string>();
      let recording = false;
      table.client.middlewareStack.add(
        (next, context) => async (args) => {
          if (!recording) return next(args);
          const command = (context.commandName ?? '').replace(/Command$/, '');
          const input = (args as { input: { TransactItems?: Array<Record<string, unknown>> } }).input;
          // A transaction is authorized item by item, as the item's own action.
          const actions =
            command === 'TransactWriteItems'
              ? (input.TransactItems ?? []).map((item) => ({ Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem' })[Object.keys(item)[0] as 'Put'])
              : [command];
          for (const action of actions) calls.add(`dynamodb:${action}@CascadeTable`);
          return next(args);
        },
        { step: 'initialize', name: 'recordIamActions' },
      );
      const stubs: Stubs = {
        sqs: mockClient(SQSClient),
        codebuild: mockClient(CodeBuildClient),
        ssm: mockClient(SSMClient),
        logs: mockClient(CloudWatchLogsClient),
        scheduler: mockClient(SchedulerClient),
      };
      // Faults a scenario asks for, thrown by the next call of that command, in order.
      const pending: Array<{ command: string; name: string }> = [];
      const answer =
        <I, O>(command: string, reply: (input: I) => O | Promise<O>) =>
        async (input: I): Promise<O> => {
          const at = pending.findIndex((f) => f.command === command);
          if (at >= 0) {
            const { name } = pending.splice(at, 1)[0]!;
            throw Object.assign(new Error(`${name} (injected)`), { name, $metadata: {} });
          }
          return reply(input);
        };
      stubs.sqs.on(SendMessageCommand).callsFake(answer('SendMessage', () => ({ MessageId: 'm-1' })));
      let builds = 0;
      stubs.codebuild.on(StartBuildCommand).callsFake(answer('StartBuild', () => ({ build: { id: `cascade-dev:build-${(builds += 1)}` } })));
      stubs.codebuild.on(StopBuildCommand).callsFake(answer('StopBuild', () => ({})));
      // Newest first, as a start tried again late looks for an earlier attempt's build.
      stubs.codebuild.on(ListBuildsForProjectCommand).callsFake(
        answer('ListBuildsForProject', () => ({ ids: Array.from({ length: builds }, (_, i) => `cascade-dev:build-${builds - i}`) })),
      );
      const finished: Build[] = [];
      stubs.codebuild.on(BatchGetBuildsCommand).callsFake(
        answer('BatchGetBuilds', (input: { ids: string[] }) => ({
          builds: input.ids.map((id) => finished.find((b) => b.id === id) ?? { id, projectName: 'cascade-dev', buildStatus: 'IN_PROGRESS' }),
        })),
      );
      const stored = new Map<string, string>();
      stubs.ssm.on(PutParameterCommand).callsFake(answer('PutParameter', (input: { Name: string; Value: string }) => (stored.set(input.Name, input.Value), { Version: 1 })));
      stubs.ssm.on(GetParameterCommand).callsFake(
        answer('GetParameter', (input: { Name: string }) => {
          const value = stored.get(input.Name);
          if (value === undefined) throw Object.assign(new Error('not found'), { name: 'ParameterNotFound' });
          return { Parameter: { Name: input.Name, Value: value } };
        }),
      );
      stubs.ssm.on(DeleteParameterCommand).callsFake(answer('DeleteParameter', () => ({})));
      // CloudWatch Logs refuses events for a stream that does not exist yet.
      const streams = new Set<string>();
      stubs.logs.on(CreateLogStreamCommand).callsFake(answer('CreateLogStream', (input: { logStreamName: string }) => (streams.add(input.logStreamName), {})));
      stubs.logs.on(PutLogEventsCommand).callsFake(
        answer('PutLogEvents', (input: { logStreamName: string }) => {
          if (!streams.has(input.logStreamName)) throw Object.assign(new Error('no stream'), { name: 'ResourceNotFoundException' });
          return {};
        }),
      );
      stubs.logs.on(GetLogEventsCommand).callsFake(answer('GetLogEvents', () => ({ events: [{ message: 'building\n', timestamp: 1 }], nextForwardToken: 'f/1' })));
      const schedules = new Set<string>();
      const missing = () => Object.assign(new Error('no such schedule'), { name: 'ResourceNotFoundException', $metadata: {} });
      stubs.scheduler.on(UpdateScheduleCommand).callsFake(
        answer('UpdateSchedule', (input: { Name: string }) => {
          if (!schedules.has(input.Name)) throw missing();
          return { ScheduleArn: `arn:aws:scheduler:eu-west-1:123456789012:schedule/cascade-dev/${input.Name}` };
        }),
      );
      stubs.scheduler.on(CreateScheduleCommand).callsFake(
        answer('CreateSchedule', (input: { Name: string }) => (schedules.add(input.Name), { ScheduleArn: `arn:aws:scheduler:eu-west-1:123456789012:schedule/cascade-dev/${input.Name}` })),
      );
      stubs.scheduler.on(DeleteScheduleCommand).callsFake(
        answer('DeleteSchedule', (input: { Name: string }) => {
          if (!schedules.delete(input.Name)) throw missing();
          return {};
        }),
      );

      const config = readAwsConfig({
        TABLE_NAME: table.tableName,
        QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/cascade-dev',
        CODEBUILD_PROJECT: 'cascade-dev',
        SECRETS_PREFIX: '/cascade/dev',
        PUBLIC_URL: 'https://r4nd0m1d.execute-api.eu-west-1.amazonaws.com',
        SCHEDULE_GROUP: 'cascade-dev',
        SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/cascade-dev-SchedulerRole',
        DISPATCHER_ARN: 'arn:aws:lambda:eu-west-1:123456789012:function:cascade-dev-dispatcher',
        DEAD_LETTER_ARN: 'arn:aws:sqs:eu-west-1:123456789012:cascade-dev-dead-letters',
      });
      const region = { region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
      const cascade = createCascade(
        createAwsPorts(config, {
          dynamo: table.client,
          sqs: new SQSClient(region),
          codebuild: new CodeBuildClient(region),
          ssm: new SSMClient(region),
          logs: new CloudWatchLogsClient(region),
          scheduler: new SchedulerClient(region),
        }),
      );
      const record = () => {
        recording = true;
        for (const stub of Object.values(stubs)) stub.resetHistory();
      };
      const done = async () => {
        for (const [service, stub] of Object.entries(stubs)) {
          for (const call of stub.calls()) {
            const action = (call.args[0] as object).constructor.name.replace(/Command$/, '');
            calls.add(`${service}:${action}@${RESOURCE_OF[service]}`);
          }
          stub.restore();
        }
        await table.stop();
      };
      const fault = (command: string, name: string) => pending.push({ command, name });
      const age = async (runId: string, ms: number) => {
        await table.client.send(
          new UpdateCommand({ TableName: table.tableName, Key: keys.run(runId), UpdateExpression: 'SET createdAt = :at', ExpressionAttributeValues: { ':at': new Date(Date.now() - ms).toISOString() } }),
        );
      };
      return { cascade, calls, record, stubs, done, world: { fault, finished, age } };
    }

    /** `<iam action>@<resource>` for each action the function's role allows. */
    function granted(fn: string): Set<string> {
      const out = new Set<string>();
      for (const statement of statementsOf(roleIdOf(fn))) {
        if (statement.Sid === 'OwnLogs') continue;
        const refs = refsIn(statement.Resource).filter((ref) => ref !== 'AWS'); // not the pseudo parameters
        const resource = JSON.stringify(statement.Resource).includes(':ssm:') ? 'ssm' : refs[0];
        for (const action of actionsOf(statement)) out.add(`${action}@${resource}`);
      }
      return out;
    }

    function platform(fn: string): string[] {
      return (BY_THE_PLATFORM[fn] ?? []).map((a) => (a.includes('@') ? a : `${a}@CascadeQueue`));
    }

    function apiEvent(method: string, path: string, body?: unknown, query = ''): APIGatewayProxyEventV2 {
      const event = fixture<APIGatewayProxyEventV2>('events/api.json');
      event.requestContext.http.method = method;
      event.rawPath = path;
      event.rawQueryString = query;
      event.routeKey = `${method} ${path}`;
      if (body === undefined) delete event.body;
      else event.body = JSON.stringify(body);
      return event;
    }

    const task = (name: string, registry = ECR_APP) => ({
      name,
      registry,
      images: [`${name}:{{.Run.ID}}`],
      context: 'https://github.com/example/acr-build-helloworld-node.git#main',
      file: 'Dockerfile-app',
      args: { REGISTRY_NAME: ECR_BASE },
    });
    const sqsEvent = (...bodies: unknown[]): SQSEvent => ({
      Records: bodies.map((body, i) => ({ messageId: `m-${i}`, body: JSON.stringify(body), attributes: { ApproximateReceiveCount: '1' }, messageAttributes: {} }) as never),
    });
    const succeeded = (runId: string, digest = `sha256:${'a'.repeat(64)}`) => ({
      runId,
      status: 'Succeeded' as const,
      finishedAt: new Date().toISOString(),
      outputImages: [],
      baseImages: [{ registry: ECR_BASE, repository: 'baseimages/node', tag: '9-alpine', digest, stage: 'runtime' as const, pinned: false }],
    });

    const newTask = (name: string, registry = ECR_APP) => ({
      ...task(name, registry),
      platform: 'linux/amd64',
      status: 'Enabled' as const,
      baseImageTriggerEnabled: true,
      baseImageTriggerType: 'Runtime' as const,
      commitTriggerEnabled: true,
    });
    const manual = { trigger: 'Manual' as const, cause: { kind: 'manual' as const } };
    let pushes = 0;
    /** `count` Image Update runs of one task, admitted in turn: the first builds, the last waits. */
    async function imageUpdates(cascade: Cascade, taskName: string, count: number) {
      const task = (await cascade.tasks.get(taskName))!;
      const runs = [];
      for (let i = 0; i < count; i += 1) {
        const run = await cascade.runs.createTaskRun(task, {
          trigger: 'Image Update',
          cause: { kind: 'image-update', base: `${ECR_BASE}/baseimages/node:9-alpine`, newDigest: `sha256:${String(i).repeat(64)}`, source: 'ecr', deliveryId: `u-${i}` },
          origin: { root: `image:${ECR_BASE}/baseimages/node:9-alpine@u${i}`, via: [] },
        });
        await cascade.runs.admit(run);
        runs.push((await cascade.runs.get(run.id))!);
      }
      return runs;
    }
    /** A push event for a tag `run` is pushing: it is held until the run's result is in. */
    async function holdBehind(cascade: Cascade, run: { spec: { registry: string; images: string[] } }) {
      const [repository, tag] = run.spec.images[0]!.split(':') as [string, string];
      const report = await cascade.dispatcher.dispatch({
        kind: 'image', source: 'ecr', registry: run.spec.registry, repository, tag, digest: `sha256:${'e'.repeat(63)}${(pushes += 1) % 10}`, occurredAt: new Date().toISOString(), deliveryId: `held-${pushes}`,
      });
      expect(report.skipped[0]?.reason).toMatch(/is pushing .*: the event waits for its result/);
    }

    /**
     * Each scenario seeds what its function finds, calls `record()`, then drives the function
     * through the paths its events take: only what happens after `record()` counts.
     */
    type Scenario = (cascade: Cascade, record: () => void, world: World) => Promise<void>;
    const SCENARIOS: Record<string, Scenario> = {
      async api(cascade, record, world) {
        await cascade.tasks.create(newTask('legacy'));
        const legacy = await cascade.runs.runTaskByName('legacy', manual);
        await cascade.runs.recordResult(succeeded(legacy.id));
        await cascade.tasks.create(newTask('busy'));
        const [building] = await imageUpdates(cascade, 'busy', 2);
        await holdBehind(cascade, building!);
        record();
        const handle = createApiHandler(cascade);
        const expectStatus = async (event: APIGatewayProxyEventV2, status: number) => expect((await handle(event)).statusCode).toBe(status);
        await expectStatus(apiEvent('POST', '/api/tasks', task('helloworld')), 201);
        await expectStatus(apiEvent('GET', '/api/tasks'), 200);
        await expectStatus(apiEvent('GET', '/api/tasks/helloworld'), 200);
        await expectStatus(apiEvent('PATCH', '/api/tasks/helloworld', { baseImageTriggerType: 'All' }), 200);
        await expectStatus(apiEvent('POST', '/api/tasks/helloworld/credentials', { loginServer: 'docker.io', username: 'bot', password: 'hub-password-1' }), 200);
        await expectStatus(apiEvent('DELETE', '/api/tasks/helloworld/credentials/docker.io'), 200);
        await expectStatus(apiEvent('PUT', '/api/registries/quay.io/login', { username: 'bot', password: 'quay-password-1' }), 204);
        const started = await handle(apiEvent('POST', '/api/tasks/helloworld/runs', {}));
        expect(started.statusCode).toBe(202);
        const manualRun = (JSON.parse(started.body as string) as { id: string }).id;
        await expectStatus(apiEvent('GET', '/api/runs', undefined, 'top=5'), 200);
        await expectStatus(apiEvent('GET', `/api/runs/${manualRun}`), 200);
        await expectStatus(apiEvent('GET', `/api/runs/${manualRun}/log`), 200);
        await expectStatus(apiEvent('POST', `/api/runs/${manualRun}/cancel`), 200);
        await expectStatus(apiEvent('GET', `/api/runs/${legacy.id}/why`), 200);
        await expectStatus(apiEvent('GET', '/api/graph'), 200);
        await expectStatus(apiEvent('GET', '/api/graph', undefined, 'task=legacy'), 200);
        await expectStatus(apiEvent('GET', '/api/explain', undefined, `image=${encodeURIComponent(`${ECR_BASE}/baseimages/node:9-alpine`)}&digest=sha256%3A${'c'.repeat(64)}`), 200);
        // Timers become schedules: created when first put, replaced on update, deleted with the timer or the task.
        await expectStatus(apiEvent('POST', '/api/tasks/helloworld/timers', { name: 'nightly', schedule: '0 3 * * *' }), 201);
        await expectStatus(apiEvent('PATCH', '/api/tasks/helloworld/timers/nightly', { schedule: '30 3 * * 1-5' }), 200);
        await expectStatus(apiEvent('GET', '/api/tasks/helloworld/timers'), 200);
        await expectStatus(apiEvent('DELETE', '/api/tasks/helloworld/timers/nightly'), 204);
        await expectStatus(apiEvent('POST', '/api/tasks/helloworld/timers', { name: 'weekly', schedule: '0 4 * * 0' }), 201);
        // Canceling a building Image Update run queues what was held behind it and starts the waiting one.
        await expectStatus(apiEvent('POST', `/api/runs/${building!.id}/cancel`), 200);
        // A quick build to a registry with a stored login: the build reads that login.
        await expectStatus(apiEvent('POST', '/api/builds', { registry: 'quay.io', images: ['base:1'], context: 'https://github.com/example/base.git', file: 'Dockerfile' }), 202);
        // A build CodeBuild refuses: the run says why, and so does its log.
        world.fault('StartBuild', 'InvalidInputException');
        await expectStatus(apiEvent('POST', '/api/builds', { registry: ECR_APP, images: ['base:2'], context: 'https://github.com/example/base.git', file: 'Dockerfile' }), 202);
        await expectStatus(apiEvent('POST', '/api/webhooks', { name: 'base', provider: 'distribution' }), 201);
        await expectStatus(apiEvent('GET', '/api/webhooks'), 200);
        await expectStatus(apiEvent('GET', '/api/webhooks/base'), 200);
        await expectStatus(apiEvent('POST', '/api/webhooks/base/rotate-secret'), 200);
        await expectStatus(apiEvent('POST', '/api/webhooks/base/complete-rotation'), 200);
        await expectStatus(apiEvent('DELETE', '/api/webhooks/base'), 204);
        // Notifications: a test delivery is POSTed from the function itself (nothing in IAM), to a closed port here.
        await expectStatus(apiEvent('POST', '/api/notifications', { name: 'ops', url: `http://127.0.0.1:${await freePort()}/hook` }), 201);
        await expectStatus(apiEvent('GET', '/api/notifications'), 200);
        await expectStatus(apiEvent('POST', '/api/notifications/ops/test'), 200);
        await expectStatus(apiEvent('GET', '/api/notifications/ops/deliveries', undefined, 'top=5'), 200);
        await expectStatus(apiEvent('DELETE', '/api/notifications/ops'), 204);
        await expectStatus(apiEvent('DELETE', '/api/tasks/helloworld'), 204);
        await expectStatus(apiEvent('DELETE', '/api/tasks/legacy'), 204);
      },
      async webhook(cascade, record, world) {
        const { secret } = await cascade.webhooks.create({ name: 'gh', provider: 'github' });
        rememberSecrets(secret);
        record();
        const body = readFileSync(join(FIXTURES, 'webhooks', 'github', 'goplayground-push-branch.json'));
        const event = fixture<APIGatewayProxyEventV2>('events/webhook.json');
        event.body = body.toString('base64');
        event.isBase64Encoded = true;
        event.rawPath = '/webhooks/gh';
        event.headers['x-hub-signature-256'] = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
        event.headers['x-github-delivery'] = 'delivery-1';
        const handle = createWebhookHandler(cascade);
        expect((await handle(event)).statusCode).toBe(202);
        // A redelivery is answered from the delivery record; a failure to queue forgets it.
        expect((await handle(event)).statusCode).toBe(202);
        world.fault('SendMessage', 'ThrottlingException');
        event.headers['x-github-delivery'] = 'delivery-2';
        expect((await handle(event)).statusCode).toBe(503);
      },
      async dispatcher(cascade, record, world) {
        // One finished run kept: a run that ends here (its result from the queue, a superseded
        // one) removes the older one (BatchWriteItem).
        await cascade.tasks.create({ ...newTask('helloworld'), keepRuns: 1 });
        await cascade.tasks.create(newTask('onquay', 'quay.io'));
        await cascade.timers.add('helloworld', { name: 'nightly', schedule: '0 3 * * *', enabled: true });
        await cascade.registryLogins.login('quay.io', { username: 'bot', password: 'quay-password-2' });
        const first = await cascade.runs.runTaskByName('helloworld', manual);
        await cascade.runs.recordResult({ ...succeeded(first.id), baseImages: [{ ...succeeded('').baseImages[0]!, tag: '8-alpine' }] });
        const queued = await cascade.runs.createTaskRun((await cascade.tasks.get('helloworld'))!, manual);
        const quayRun = await cascade.runs.createTaskRun((await cascade.tasks.get('onquay'))!, manual);
        const refused = await cascade.runs.createTaskRun((await cascade.tasks.get('helloworld'))!, manual);
        // Its start comes back from the queue past CodeBuild's five minutes: it looks for an earlier attempt's build first.
        await world.age(queued.id, 11 * 60_000);
        await cascade.notifications.add({ name: 'ops', url: `http://127.0.0.1:${await freePort()}/hook`, format: 'json', events: ['run.started', 'run.succeeded', 'run.failed', 'base.deleted'] });
        record();
        const handle = createDispatcherHandler(cascade);
        const failures = async (...bodies: unknown[]) => (await handle(sqsEvent(...bodies))).batchItemFailures;
        expect(await failures({ type: 'start-run', runId: queued.id }, { type: 'start-run', runId: quayRun.id })).toEqual([]);
        // The newer run pulled another base: its edge replaces the first run's.
        expect(await failures({ type: 'build-result', result: succeeded(queued.id) })).toEqual([]);
        world.fault('StartBuild', 'InvalidInputException');
        expect(await failures({ type: 'start-run', runId: refused.id })).toEqual([]);
        const at = Date.now();
        const pushed = { kind: 'image', source: 'ecr', registry: ECR_BASE, repository: 'baseimages/node', tag: '9-alpine', digest: `sha256:${'b'.repeat(64)}`, occurredAt: new Date(at).toISOString(), deliveryId: 'e-1' };
        expect(await failures({ type: 'event', event: pushed })).toEqual([]);
        // CodeBuild throttled: the run waits in the queue as a start-run message.
        world.fault('StartBuild', 'ThrottlingException');
        expect(await failures({ type: 'event', event: { ...pushed, digest: `sha256:${'d'.repeat(64)}`, occurredAt: new Date(at + 1000).toISOString(), deliveryId: 'e-2' } })).toEqual([]);
        const { digest: _digest, ...tag } = pushed;
        void _digest;
        expect(await failures({ type: 'event', event: { ...tag, kind: 'image-delete', occurredAt: new Date(at + 2000).toISOString(), deliveryId: 'e-3' } })).toEqual([]);
        // A run's notification: its delivery, then an attempt the closed port refuses, the next sent back with a delay.
        expect(await failures({ type: 'notify', subject: subjectOfRun(await cascade.runs.get(refused.id), new Date().toISOString()) })).toEqual([]);
        const [delivery] = await cascade.notifications.deliveries('ops', 1);
        expect(await failures({ type: 'notify-attempt', notification: 'ops', deliveryId: delivery!.id, attempt: 1 })).toEqual([]);
        const commit = { kind: 'git', source: 'github', repoUrl: 'https://github.com/example/acr-build-helloworld-node.git', ref: 'refs/heads/main', commit: 'f'.repeat(40), deliveryId: 'g-1' };
        expect(await failures({ type: 'event', event: commit })).toEqual([]);
        // EventBridge Scheduler invokes it with a timer's occurrence, delivered twice: one run.
        const timed = { cascadeTimer: { task: 'helloworld', timer: 'nightly', occurrence: '2026-12-01T03:00:00Z' } };
        await expect(handle(timed)).resolves.toMatchObject({ fired: true });
        await expect(handle(timed)).resolves.toMatchObject({ fired: false, reason: expect.stringMatching(/already fired/) });
      },
      async registryEvents(cascade, record, world) {
        record();
        const handle = createRegistryEventsHandler(cascade);
        await expect(handle(fixture('events/registryEvents.json'))).resolves.toEqual({ accepted: 1, ignored: [] });
        world.fault('SendMessage', 'ThrottlingException');
        await expect(handle({ ...fixture<Json>('events/registryEvents.json'), id: 'another' })).rejects.toThrow('ThrottlingException');
      },
      async buildEvents(cascade, record, world) {
        // One finished run kept: the newer run's end removes the older one (BatchWriteItem).
        await cascade.tasks.create({ ...newTask('helloworld'), keepRuns: 1 });
        await cascade.tasks.create(newTask('onquay', 'quay.io'));
        await cascade.runs.runTaskByName('helloworld', manual);
        await cascade.runs.recordResult({ ...succeeded('da1'), baseImages: [{ ...succeeded('da1').baseImages[0]!, tag: '8-alpine' }] });
        await cascade.runs.runTaskByName('helloworld', manual);
        const [building, waiting] = await imageUpdates(cascade, 'onquay', 2);
        await holdBehind(cascade, building!);
        record();
        const handle = createBuildEventsHandler(cascade, { projectName: 'cascade-dev' });
        const forRun = (runId: string) => {
          const event = fixture<{ detail: { 'additional-information': { environment: { 'environment-variables': Array<{ name: string; value: string }> } } } }>('events/buildEvents.json');
          for (const v of event.detail['additional-information'].environment['environment-variables']) if (v.name === 'CASCADE_RUN_ID') v.value = runId;
          return event;
        };
        // The newer run's result replaces the dependencies the first one captured.
        await expect(handle(forRun('da2'))).resolves.toMatchObject({ kind: 'result' });
        // The building run's end queues the event held behind it, and starts the waiting run,
        // which CodeBuild refuses: its log says why.
        world.fault('StartBuild', 'InvalidInputException');
        await expect(handle(forRun(building!.id))).resolves.toMatchObject({ kind: 'result' });
        expect((await cascade.runs.get(waiting!.id)).status).toBe('Error');
      },
      async reconciler(cascade, record, world) {
        await cascade.tasks.create({ ...newTask('helloworld'), keepRuns: 1 });
        await cascade.tasks.create(newTask('onquay', 'quay.io'));
        await cascade.runs.recordResult({ ...succeeded((await cascade.runs.runTaskByName('helloworld', manual)).id), baseImages: [{ ...succeeded('').baseImages[0]!, tag: '8-alpine' }] });
        const lost = await cascade.runs.runTaskByName('helloworld', manual);
        await holdBehind(cascade, lost);
        await cascade.runs.createTaskRun((await cascade.tasks.get('helloworld'))!, manual);
        const stuck = await cascade.runs.createTaskRun((await cascade.tasks.get('onquay'))!, manual);
        // Resumed past CodeBuild's five minutes: it looks for an earlier attempt's build first.
        await world.age(stuck.id, 11 * 60_000);
        record();
        world.finished.push({
          id: lost.buildId,
          projectName: 'cascade-dev',
          buildStatus: 'SUCCEEDED',
          endTime: new Date(),
          environment: { type: 'LINUX_CONTAINER', image: 'x', computeType: 'BUILD_GENERAL1_SMALL', environmentVariables: [{ name: 'CASCADE_RUN_ID', value: lost.id, type: 'PLAINTEXT' }] },
          exportedEnvironmentVariables: [
            { name: 'CASCADE_BASE_IMAGES', value: JSON.stringify(succeeded(lost.id).baseImages) },
            { name: 'CASCADE_OUTPUT_IMAGES', value: '[]' },
          ],
        });
        // The first stuck run is refused by CodeBuild: marked Error, with the reason in its log.
        world.fault('StartBuild', 'InvalidInputException');
        const report = await createReconcilerHandler(cascade, { queuedGraceMs: 0 })();
        expect(report).toMatchObject({ checked: 3, started: ['da4'], recorded: [{ runId: 'da3', status: 'Error' }, { runId: 'da2', status: 'Succeeded' }] });
      },
    };

    /** A registry on loopback answering manifest HEADs with the digest `digestOf` gives its tag. */
    async function tinyRegistry(digestOf: (path: string) => string | undefined): Promise<{ host: string; close: () => Promise<void> }> {
      const server = createServer((req, res) => {
        const digest = digestOf(req.url ?? '');
        if (req.method !== 'HEAD' || !digest) return void res.writeHead(404).end();
        res.writeHead(200, { 'docker-content-digest': digest, 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end();
      });
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((done) => server.close(() => done())) };
    }
    SCENARIOS.poller = async (cascade, record, world) => {
      let now = `sha256:${'1'.repeat(64)}`;
      const registry = await tinyRegistry(() => now);
      try {
        await cascade.tasks.create({ ...newTask('watcher', ECR_APP) });
        const first = await cascade.runs.runTaskByName('watcher', manual);
        await cascade.runs.recordResult({ ...succeeded(first.id, now), baseImages: [{ registry: registry.host, repository: 'library/node', tag: '22', digest: now, stage: 'runtime', pinned: false }] });
        record();
        const handle = createPollerHandler(cascade, { jitterMs: () => 0 });
        // Unchanged: a HEAD and the state written; changed: the event queued; queueing refused: forgotten, tried next time.
        await expect(handle()).resolves.toMatchObject({ polled: 1, changed: [] });
        now = `sha256:${'2'.repeat(64)}`;
        world.fault('SendMessage', 'ThrottlingException');
        await expect(handle()).resolves.toMatchObject({ failed: [{ ref: `${registry.host}/library/node:22` }] });
        await expect(handle()).resolves.toMatchObject({ changed: [{ to: now }] });
      } finally {
        await registry.close();
      }
    };

    it.each(FUNCTIONS)('%s', async (fn) => {
      // The scenarios fail on purpose, and the functions log it: into the capture, off the terminal.
      const toCapture = console.log.bind(console);
      const quiet = (['log', 'warn', 'error'] as const).map((level) => jest.spyOn(console, level).mockImplementation(toCapture));
      const setup = await recordingCascade();
      try {
        await SCENARIOS[fn]!(setup.cascade, setup.record, setup.world);
      } finally {
        await setup.done();
        quiet.forEach((spy) => spy.mockRestore());
      }
      const used = [...setup.calls].sort();
      const allowed = [...granted(fn)].sort();
      expect(used.filter((call) => !allowed.includes(call))).toEqual([]);
      expect(allowed.filter((grant) => !used.includes(grant) && !platform(fn).includes(grant))).toEqual([]);
    });
  });
});
