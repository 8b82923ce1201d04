// The packaged stack's resources, created on emulators from the template's own Properties:
// queues, EventBridge rules, the timers' schedule group and role and the build log group on
// moto; the table on DynamoDB Local; CodeBuild on test/support/codebuild-emulator.ts. moto's
// CloudFormation cannot take the whole stack (it lacks API Gateway v2), so each resource is
// made with its service's own API, and the functions' environment is the template's, resolved.
//
// What Lambda itself does around the functions, the test does here: a rule's Lambda target is an
// SQS queue standing in for the function (EventBridge delivers the event there; the test hands it
// over), and the dispatcher's event source mapping is ReceiveMessage, invoke, DeleteMessage.
import { CreateTableCommand, UpdateTimeToLiveCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CloudWatchLogsClient, CreateLogGroupCommand, PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import { EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateScheduleGroupCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { resolve, resolveString, resourceOf, resourcesOfType, type CreatedResource, type Json, type StackScope } from './cloudformation';
import { MOTO_ACCOUNT, MOTO_CREDENTIALS, MOTO_REGION, type Moto } from './moto';
import type { PackagedStack } from './packaged-stack';

export interface EmulatedStack {
  scope: StackScope;
  sqs: SQSClient;
  events: EventBridgeClient;
  scheduler: SchedulerClient;
  /** The environment `fn` runs with: the template's variables, resolved, and where each service is. */
  env(fn: string): Record<string, string>;
  /** Puts events on the default bus as a service would; fails unless every entry was taken. */
  putEvents(entries: PutEventsRequestEntry[]): Promise<void>;
  /** The events EventBridge delivered to `fn` through its rules, waiting up to `waitSeconds`. */
  ruleEvents(fn: string, waitSeconds?: number): Promise<unknown[]>;
  /** Where moto falls short of AWS and the emulation made up for it, for the test to report. */
  gaps: Set<string>;
  /** The queue URL of a queue of the template. */
  queueUrl(logicalId: string): string;
  /** What the dispatcher's event source mapping would hand it next: up to its batch size. */
  receiveBatch(options?: { visibilityTimeout?: number; waitSeconds?: number }): Promise<SQSEvent>;
  /** As the event source mapping does with the answer: deletes the records that did not fail. */
  settleBatch(event: SQSEvent, response: SQSBatchResponse): Promise<void>;
  /** Bodies waiting in a queue of the template (received, then left to become visible again). */
  peek(logicalId: string): Promise<Message[]>;
}

export interface EmulatedStackOptions {
  stack: PackagedStack;
  moto: Moto;
  /** DynamoDB Local, where the table is created from the template's CascadeTable. */
  dynamodb: { endpoint: string };
  /** Where CodeBuild is answered (the BuildProject is not created anywhere: it only has a name). */
  codebuildEndpoint: string;
  /** The HTTP API's endpoint, which no emulator here provides. */
  apiEndpoint?: string;
}

const LAMBDA_SUFFIX = 'LambdaFunction';

/** Creates the table in DynamoDB Local from the template's CascadeTable: withDynamoDb's `createTable`. */
export function createTableFromTemplate(stack: PackagedStack) {
  return async (client: DynamoDBDocumentClient, tableName: string): Promise<void> => {
    const properties = resourceOf(stack.template, 'CascadeTable', 'AWS::DynamoDB::Table').Properties as Json & {
      SSESpecification?: { SSEEnabled?: boolean };
      TimeToLiveSpecification?: { AttributeName: string; Enabled: boolean };
    };
    // CloudFormation's names for the CreateTable members; TTL is a call of its own.
    const input: CreateTableCommandInput = {
      TableName: tableName,
      AttributeDefinitions: properties.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
      KeySchema: properties.KeySchema as CreateTableCommandInput['KeySchema'],
      GlobalSecondaryIndexes: properties.GlobalSecondaryIndexes as CreateTableCommandInput['GlobalSecondaryIndexes'],
      BillingMode: properties.BillingMode as CreateTableCommandInput['BillingMode'],
      ...(properties.SSESpecification && { SSESpecification: { Enabled: properties.SSESpecification.SSEEnabled === true } }),
    };
    await client.send(new CreateTableCommand(input));
    if (properties.TimeToLiveSpecification) {
      await client.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: properties.TimeToLiveSpecification }));
    }
  };
}

export async function createEmulatedStack(options: EmulatedStackOptions & { tableName: string }): Promise<EmulatedStack> {
  const { stack, moto } = options;
  const template = stack.template;
  const config = moto.clientConfig;
  const sqs = new SQSClient(config);
  const events = new EventBridgeClient(config);
  const scheduler = new SchedulerClient(config);
  const iam = new IAMClient(config);
  const logs = new CloudWatchLogsClient(config);
  const resources: Record<string, CreatedResource> = {};
  const scope: StackScope = {
    pseudo: { 'AWS::Region': MOTO_REGION, 'AWS::AccountId': MOTO_ACCOUNT, 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com', 'AWS::StackName': 'cascade-dev' },
    resources,
  };

  try {
    resources.CascadeTable = {
      ref: options.tableName,
      attributes: { Arn: `arn:aws:dynamodb:${MOTO_REGION}:${MOTO_ACCOUNT}:table/${options.tableName}` },
    };

    // Queues: a dead-letter queue is made before the queues that name it.
    const queues = resourcesOfType(template, 'AWS::SQS::Queue').sort(([, a], [, b]) => Number('RedrivePolicy' in a.Properties) - Number('RedrivePolicy' in b.Properties));
    for (const [id, queue] of queues) {
      const { QueueName, ...attributes } = resolve(queue.Properties, scope) as Json;
      const created = await sqs.send(
        new CreateQueueCommand({
          QueueName: String(QueueName),
          Attributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)])),
        }),
      );
      const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: created.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
      resources[id] = { ref: String(created.QueueUrl), attributes: { Arn: String(arn), QueueName: String(QueueName) } };
    }

    const project = resourceOf(template, 'BuildProject', 'AWS::CodeBuild::Project').Properties;
    resources.BuildProject = { ref: String(project.Name), attributes: { Arn: `arn:aws:codebuild:${MOTO_REGION}:${MOTO_ACCOUNT}:project/${String(project.Name)}` } };

    for (const [id, group] of resourcesOfType(template, 'AWS::Logs::LogGroup')) {
      const { LogGroupName, RetentionInDays } = resolve(group.Properties, scope) as { LogGroupName: string; RetentionInDays?: number };
      await logs.send(new CreateLogGroupCommand({ logGroupName: LogGroupName }));
      if (RetentionInDays) await logs.send(new PutRetentionPolicyCommand({ logGroupName: LogGroupName, retentionInDays: RetentionInDays }));
      resources[id] = { ref: LogGroupName, attributes: { Arn: `arn:aws:logs:${MOTO_REGION}:${MOTO_ACCOUNT}:log-group:${LogGroupName}:*` } };
    }

    const group = resolve(resourceOf(template, 'TimerScheduleGroup', 'AWS::Scheduler::ScheduleGroup').Properties, scope) as { Name: string };
    const createdGroup = await scheduler.send(new CreateScheduleGroupCommand({ Name: group.Name }));
    resources.TimerScheduleGroup = { ref: group.Name, attributes: { Arn: String(createdGroup.ScheduleGroupArn) } };

    // The functions, as far as others refer to them: their ARN (the dispatcher's is in its own environment).
    for (const [id, fn] of resourcesOfType(template, 'AWS::Lambda::Function')) {
      const name = String(fn.Properties.FunctionName);
      resources[id] = { ref: name, attributes: { Arn: `arn:aws:lambda:${MOTO_REGION}:${MOTO_ACCOUNT}:function:${name}` } };
    }
    resources.HttpApi = { ref: 'r4nd0m1d', attributes: { ApiEndpoint: options.apiEndpoint ?? `https://r4nd0m1d.execute-api.${MOTO_REGION}.amazonaws.com` } };

    // The role Scheduler invokes the dispatcher with, with its trust and its policies.
    const schedulerRole = resolve(resourceOf(template, 'SchedulerRole', 'AWS::IAM::Role').Properties, scope) as {
      Description?: string;
      AssumeRolePolicyDocument: Json;
      Policies?: Array<{ PolicyName: string; PolicyDocument: Json }>;
    };
    const role = await iam.send(
      new CreateRoleCommand({
        RoleName: 'cascade-dev-SchedulerRole',
        AssumeRolePolicyDocument: JSON.stringify(schedulerRole.AssumeRolePolicyDocument),
        ...(schedulerRole.Description && { Description: schedulerRole.Description }),
      }),
    );
    for (const policy of schedulerRole.Policies ?? []) {
      await iam.send(new PutRolePolicyCommand({ RoleName: 'cascade-dev-SchedulerRole', PolicyName: policy.PolicyName, PolicyDocument: JSON.stringify(policy.PolicyDocument) }));
    }
    resources.SchedulerRole = { ref: 'cascade-dev-SchedulerRole', attributes: { Arn: String(role.Role?.Arn) } };

    // Rules with an event pattern; each Lambda target is stood in for by a queue of its own.
    for (const [id, rule] of resourcesOfType(template, 'AWS::Events::Rule')) {
      const properties = rule.Properties as Json & { Targets: Array<{ Arn: unknown; Id: string }> };
      if (!properties.EventPattern) continue;
      const name = String(properties.Name ?? id);
      await events.send(
        new PutRuleCommand({
          Name: name,
          EventPattern: JSON.stringify(resolve(properties.EventPattern, scope)),
          State: properties.State as 'ENABLED' | 'DISABLED',
          ...(properties.Description !== undefined && { Description: String(properties.Description) }),
        }),
      );
      const targets = [];
      for (const target of properties.Targets) {
        const fnId = (target.Arn as { 'Fn::GetAtt': string[] })['Fn::GetAtt']?.[0] ?? '';
        if (!fnId.endsWith(LAMBDA_SUFFIX)) throw new Error(`rule ${id} targets ${JSON.stringify(target.Arn)}, which this emulation does not stand in for`);
        const standIn = await standInQueue(fnId);
        targets.push({ Id: target.Id, Arn: standIn.attributes?.Arn as string });
      }
      const put = await events.send(new PutTargetsCommand({ Rule: name, Targets: targets }));
      if (put.FailedEntryCount) throw new Error(`PutTargets for ${name} failed: ${JSON.stringify(put.FailedEntries)}`);
      resources[id] = { ref: name, attributes: { Arn: `arn:aws:events:${MOTO_REGION}:${MOTO_ACCOUNT}:rule/${name}` } };
    }
  } catch (error) {
    for (const client of [sqs, events, scheduler, iam, logs]) client.destroy();
    throw error;
  }
  iam.destroy();
  logs.destroy();

  async function standInQueue(fnId: string): Promise<CreatedResource> {
    const key = `${fnId}#target`;
    const existing = resources[key];
    if (existing) return existing;
    const queueName = `${fnId}-invocations`;
    const created = await sqs.send(new CreateQueueCommand({ QueueName: queueName }));
    const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: created.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
    return (resources[key] = { ref: String(created.QueueUrl), attributes: { Arn: String(arn) } });
  }

  const mapping = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').find(([, m]) => JSON.stringify(m.Properties.FunctionName).includes(`Dispatcher${LAMBDA_SUFFIX}`));
  if (!mapping) throw new Error('the template has no event source mapping for the dispatcher');
  const mappingProperties = mapping[1].Properties as { BatchSize?: number; EventSourceArn: unknown; FunctionResponseTypes?: string[] };
  const sourceQueueId = (mappingProperties.EventSourceArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0] as string;

  const gaps = new Set<string>();
  const queueUrl = (logicalId: string) => {
    const created = resources[logicalId];
    if (!created) throw new Error(`no queue ${logicalId}`);
    return created.ref;
  };

  const receive = async (url: string, max: number, visibilityTimeout?: number, waitSeconds = 0) =>
    (
      await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: max,
          WaitTimeSeconds: waitSeconds,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
          ...(visibilityTimeout !== undefined && { VisibilityTimeout: visibilityTimeout }),
        }),
      )
    ).Messages ?? [];

  return {
    scope,
    sqs,
    events,
    scheduler,
    env(fn: string) {
      const id = `${fn.charAt(0).toUpperCase()}${fn.slice(1)}${LAMBDA_SUFFIX}`;
      const variables = (resourceOf(template, id, 'AWS::Lambda::Function').Properties.Environment as { Variables: Json }).Variables;
      return {
        ...Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, resolveString(value, scope)])),
        AWS_REGION: MOTO_REGION,
        AWS_DEFAULT_REGION: MOTO_REGION,
        AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
        AWS_SESSION_TOKEN: 'moto-session',
        AWS_ENDPOINT_URL_SQS: moto.endpoint,
        AWS_ENDPOINT_URL_SSM: moto.endpoint,
        AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: moto.endpoint,
        AWS_ENDPOINT_URL_SCHEDULER: moto.endpoint,
        AWS_ENDPOINT_URL_DYNAMODB: options.dynamodb.endpoint,
        AWS_ENDPOINT_URL_CODEBUILD: options.codebuildEndpoint,
        CASCADE_TEST_ACCOUNT: MOTO_ACCOUNT,
      };
    },
    async putEvents(entries) {
      const answer = await events.send(new PutEventsCommand({ Entries: entries }));
      if (answer.FailedEntryCount) throw new Error(`PutEvents refused ${answer.FailedEntryCount} entries: ${JSON.stringify(answer.Entries)}`);
    },
    async ruleEvents(fn, waitSeconds = 2) {
      const standIn = resources[`${fn.charAt(0).toUpperCase()}${fn.slice(1)}${LAMBDA_SUFFIX}#target`];
      if (!standIn) throw new Error(`no rule of the template targets ${fn}`);
      const messages = await receive(standIn.ref, 10, undefined, waitSeconds);
      if (messages.length > 0) {
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: standIn.ref, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }));
      }
      return messages.map((m) => {
        const event = JSON.parse(String(m.Body)) as Json;
        // moto 5.2 leaves `account` out of the events it delivers to targets; EventBridge always
        // sets it, to the account the event comes from (here, moto's).
        if (!('account' in event)) {
          gaps.add('EventBridge events delivered to an SQS target lack `account`');
          return { ...event, account: MOTO_ACCOUNT };
        }
        return event;
      });
    },
    gaps,
    queueUrl,
    async receiveBatch({ visibilityTimeout, waitSeconds = 1 } = {}) {
      const source = resources[sourceQueueId] as CreatedResource;
      const messages = await receive(source.ref, mappingProperties.BatchSize ?? 10, visibilityTimeout, waitSeconds);
      return { Records: messages.map((m) => toRecord(m, String(source.attributes?.Arn))) };
    },
    async settleBatch(event, response) {
      if (!mappingProperties.FunctionResponseTypes?.includes('ReportBatchItemFailures')) throw new Error('the mapping does not report batch item failures');
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      const done = event.Records.filter((r) => !failed.has(r.messageId));
      if (done.length === 0) return;
      const source = resources[sourceQueueId] as CreatedResource;
      const answer = await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: source.ref, Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })) }));
      if (answer.Failed?.length) throw new Error(`DeleteMessageBatch failed: ${JSON.stringify(answer.Failed)}`);
    },
    async peek(logicalId) {
      return receive(queueUrl(logicalId), 10, 0);
    },
  };
}

/** A received message as Lambda's SQS event source mapping hands it to the function. */
function toRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: String(message.MessageId),
    receiptHandle: String(message.ReceiptHandle),
    body: String(message.Body),
    attributes: {
      ApproximateReceiveCount: String(attributes.ApproximateReceiveCount),
      SentTimestamp: String(attributes.SentTimestamp),
      SenderId: String(attributes.SenderId),
      ApproximateFirstReceiveTimestamp: String(attributes.ApproximateFirstReceiveTimestamp),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        { stringValue: value.StringValue, stringListValues: [], binaryListValues: [], dataType: String(value.DataType) },
      ]),
    ),
    md5OfBody: String(message.MD5OfBody),
    ...(message.MD5OfMessageAttributes && { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: MOTO_REGION,
  } as SQSRecord;
}
