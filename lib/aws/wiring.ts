// The ports of cascade on AWS, built from the function's environment: DynamoDB for records, SQS
// for the queue, CodeBuild for builds, SSM Parameter Store for secrets, CloudWatch Logs for run
// logs. The local stack (lib/local/stack.ts) builds the same CascadePorts from local parts.
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CloudWatchLogStore } from '../adapters/cloudwatch-log-store';
import { CodeBuildBuilder } from '../adapters/codebuild-builder';
import { EventBridgeTimerScheduler } from '../adapters/eventbridge-timer-scheduler';
import { HttpNotificationSender } from '../adapters/http-notification-sender';
import { createDynamoDbStores } from '../adapters/dynamodb-stores';
import { DynamoDbWebhookDeliveryLog } from '../adapters/dynamodb-webhook-delivery-log';
import { RegistryDigestResolver } from '../adapters/registry-digest-resolver';
import { SqsQueue } from '../adapters/sqs-queue';
import { SsmSecretStore } from '../adapters/ssm-secret-store';
import { createCascade, type Cascade, type CascadePorts } from '../domain/cascade';
import type { DispatchReport } from '../domain/dispatcher';
import { systemClock, type Queue } from '../domain/ports';
import { RegistryLogins } from '../domain/registry-logins';
import { getProvider } from '../events';
import { isRegistryProvider } from '../events/provider-names';
import { readAwsConfig, type AwsConfig } from './config';
import { logger } from './logger';
import { queueMessageLogKeys } from './queue-message';

/** SDK clients to use instead of the defaults (which take region and credentials from Lambda). */
export interface AwsClients {
  dynamo?: DynamoDBDocumentClient;
  sqs?: SQSClient;
  codebuild?: CodeBuildClient;
  ssm?: SSMClient;
  logs?: CloudWatchLogsClient;
  scheduler?: SchedulerClient;
}

/** ECR tells EventBridge of every push (this account's, and the base accounts' forwarded): no polling. */
export const EVENT_DRIVEN_REGISTRIES = ['*.dkr.ecr.*.amazonaws.com', '*.dkr.ecr.*.amazonaws.com.cn'];

export function createAwsPorts(config: AwsConfig, clients: AwsClients = {}): CascadePorts {
  const stores = createDynamoDbStores({ client: clients.dynamo, tableName: config.tableName, runIdPrefix: config.runIdPrefix });
  const secrets = new SsmSecretStore({ prefix: config.secretsPrefix, client: clients.ssm });
  const registryLogins = new RegistryLogins(secrets);
  return {
    tasks: stores.tasks,
    runs: stores.runs,
    dependencies: stores.dependencies,
    imageState: stores.imageStates,
    webhooks: stores.webhooks,
    deliveries: stores.deliveries,
    slots: stores.slots,
    openings: stores.openings,
    gates: stores.gates,
    timerStates: stores.timerStates,
    ...(config.timers && {
      scheduler: new EventBridgeTimerScheduler({
        client: clients.scheduler ?? new SchedulerClient({}),
        groupName: config.timers.scheduleGroup,
        targetArn: config.timers.dispatcherArn,
        roleArn: config.timers.schedulerRoleArn,
        ...(config.timers.deadLetterArn && { deadLetterArn: config.timers.deadLetterArn }),
      }),
    }),
    webhookProviders: getProvider,
    isRegistryProvider,
    poller: { intervalMs: config.pollIntervalSeconds * 1000, eventDrivenHosts: EVENT_DRIVEN_REGISTRIES },
    pollStates: stores.pollStates,
    secrets,
    logs: new CloudWatchLogStore({
      logGroupName: config.buildLogGroup,
      client: clients.logs,
      buildIdOf: async (runId) => (await stores.runs.get(runId))?.buildId,
    }),
    queue: loggedQueue(new SqsQueue({ queueUrl: config.queueUrl, client: clients.sqs })),
    builder: new CodeBuildBuilder({
      projectName: config.codeBuildProject,
      client: clients.codebuild,
      // The build reads the login as a PARAMETER_STORE variable.
      pushLoginRef: (host) => registryLogins.ref(host),
    }),
    // Registries on AWS are reached over HTTPS, so no host is insecure here.
    digests: new RegistryDigestResolver({ secrets, logins: registryLogins }),
    clock: systemClock,
    publicUrl: config.publicUrl,
    log: logDispatch,
    // Deliveries go through the one queue: each attempt a message, a later one with SQS's DelaySeconds.
    notifications: stores.notifications,
    notificationSender: new HttpNotificationSender(),
    warn: (message) => logger.warn(message),
    // What each webhook delivery carried and started: the console's webhooks view.
    webhookDeliveries: new DynamoDbWebhookDeliveryLog({ client: clients.dynamo, tableName: config.tableName }),
    // No SourceReader: Lambda has no git, so Dockerfiles are read by the build instead of up front.
  };
}

/** A function of no arguments that computes its value on the first call and keeps it once computed. */
export function lazy<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

/** The cascade a function works on: given (tests), or made on its first invocation (Lambda: importing touches nothing). */
export type CascadeSource = Cascade | (() => Cascade);

export function cascadeOf(source: CascadeSource): Cascade {
  return typeof source === 'function' ? source() : source;
}

/** The deployment's configuration; throws ConfigurationError on the first call when it is wrong. */
export const awsConfig = lazy(() => readAwsConfig(process.env));

/** One Cascade per Lambda container, built on first use. */
export const awsCascade = lazy((): Cascade => createCascade(createAwsPorts(awsConfig())));

// The domain's lines go through the functions' logger: within a queue message's scope, they
// carry its run or delivery id (lib/aws/logger.ts).
function logDispatch(report: DispatchReport): void {
  logger.info('dispatch', { ...report });
}

/** A line for each message queued, with the id it is about: a delivery is followed from its webhook to the dispatcher. */
function loggedQueue(queue: Queue): Queue {
  return {
    async send(message, options) {
      await queue.send(message, options);
      logger.info('queued', queueMessageLogKeys(message));
    },
  };
}
