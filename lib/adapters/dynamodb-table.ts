// The one table cascade keeps everything in, and the only place its key strings are built.
// infra/table.yml declares the same table for CloudFormation; a unit test keeps the two equal.
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export interface IndexDefinition {
  name: string;
  partitionKey: string;
  sortKey: string;
}

export const TABLE_DEFINITION = {
  partitionKey: 'PK',
  sortKey: 'SK',
  indexes: [
    { name: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
    { name: 'GSI2', partitionKey: 'GSI2PK', sortKey: 'GSI2SK' },
    // Sparse: only runs still Queued or Running carry GSI3 keys, so crash recovery reads
    // what is unfinished instead of filtering the whole run history (keys.unfinishedRuns);
    // and tasks with a git context, by their repository's path (keys.gitPath).
    { name: 'GSI3', partitionKey: 'GSI3PK', sortKey: 'GSI3SK' },
  ] as readonly IndexDefinition[],
  ttlAttribute: 'expiresAt',
} as const;

export const GSI1 = 'GSI1';
export const GSI2 = 'GSI2';
export const GSI3 = 'GSI3';

/** Attributes that belong to the table layout, never to the stored record. */
export const KEY_ATTRIBUTES: readonly string[] = [
  TABLE_DEFINITION.partitionKey,
  TABLE_DEFINITION.sortKey,
  ...TABLE_DEFINITION.indexes.flatMap((index) => [index.partitionKey, index.sortKey]),
];

export function createTableInput(tableName: string): CreateTableCommandInput {
  const { partitionKey, sortKey, indexes } = TABLE_DEFINITION;
  const keyAttributes = [partitionKey, sortKey, ...indexes.flatMap((i) => [i.partitionKey, i.sortKey])];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: keyAttributes.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: partitionKey, KeyType: 'HASH' },
      { AttributeName: sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: indexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
  };
}

export interface ItemKey {
  PK: string;
  SK: string;
}

/** Sorts numerically as a string: 12 digits outlast any installation's run count. */
export function sequenceKey(sequence: number): string {
  if (!Number.isSafeInteger(sequence) || sequence < 0 || sequence >= 1e12) {
    throw new RangeError(`run sequence ${sequence} does not fit the 12-digit sort key`);
  }
  return String(sequence).padStart(12, '0');
}

function baseImage(registry: string, repository: string, tag: string): string {
  return `${registry}/${repository}:${tag}`;
}

/**
 * How many keys the unfinished runs' index (GSI3) is spread over: every run's creation and end
 * writes it, and one key would take them all on one partition.
 */
export const UNFINISHED_SHARDS = 8;
/** The one key earlier versions wrote every unfinished run under: read until their runs are gone. */
const LEGACY_UNFINISHED = 'UNFINISHED';
const unfinishedShard = (shard: number) => `${LEGACY_UNFINISHED}#${shard}`;

export const keys = {
  task: (name: string): ItemKey => ({ PK: `TASK#${name}`, SK: 'TASK' }),
  taskList: (name: string) => ({ GSI1PK: 'TASKS', GSI1SK: name }),
  allTasks: 'TASKS',
  gitContext: (normalizedRepoUrl: string, branch: string) => `GITCTX#${normalizedRepoUrl}#${branch}`,
  /** The path of a normalized git URL, whatever its host: for senders that name a repository but give no URL. */
  gitPath: (path: string, branch: string) => `GITPATH#${path}#${branch}`,
  taskInGitContext: (name: string) => `TASK#${name}`,

  dependency: (registry: string, repository: string, tag: string, taskName: string): ItemKey => ({
    PK: keys.dependents(registry, repository, tag),
    SK: `TASK#${taskName}`,
  }),
  dependents: (registry: string, repository: string, tag: string) => `BASE#${baseImage(registry, repository, tag)}`,
  taskDependencies: (taskName: string) => `TASKDEPS#${taskName}`,
  dependencyInTask: (registry: string, repository: string, tag: string) => `BASE#${baseImage(registry, repository, tag)}`,

  run: (id: string): ItemKey => ({ PK: `RUN#${id}`, SK: 'RUN' }),
  allRuns: 'RUNS',
  taskRuns: (taskName: string) => `TASKRUNS#${taskName}`,
  unfinishedRuns: (sequence: number) => unfinishedShard(sequence % UNFINISHED_SHARDS),
  /** Every key an unfinished run can be under: the shards, then the legacy key. */
  everyUnfinishedRuns: [...Array.from({ length: UNFINISHED_SHARDS }, (_, shard) => unfinishedShard(shard)), LEGACY_UNFINISHED],
  legacyUnfinishedRuns: LEGACY_UNFINISHED,
  runCounter: (): ItemKey => ({ PK: 'COUNTER#runs', SK: 'COUNTER' }),

  webhook: (name: string): ItemKey => ({ PK: `WEBHOOK#${name}`, SK: 'WEBHOOK' }),
  allWebhooks: 'WEBHOOKS',

  delivery: (key: string): ItemKey => ({ PK: `DELIVERY#${key}`, SK: 'DELIVERY' }),
  /** A webhook's delivery history: one partition per webhook, sorted by when each arrived. */
  webhookDeliveries: (webhook: string) => `WEBHOOKLOG#${webhook}`,
  webhookDelivery: (webhook: string, receivedAt: string, id: string): ItemKey => ({ PK: keys.webhookDeliveries(webhook), SK: `${receivedAt}#${id}` }),

  notification: (name: string): ItemKey => ({ PK: keys.notificationItems(name), SK: 'NOTIFICATION' }),
  allNotifications: 'NOTIFICATIONS',
  /** The partition of a notification and its deliveries. */
  notificationItems: (name: string) => `NOTIFICATION#${name}`,
  notificationDelivery: (name: string, id: string): ItemKey => ({ PK: keys.notificationItems(name), SK: `${keys.notificationDeliveryPrefix}${id}` }),
  notificationDeliveryPrefix: 'DELIVERY#',

  buildSlots: (taskName: string): ItemKey => ({ PK: `SLOTS#${taskName}`, SK: 'IMAGE_UPDATE' }),
  gate: (root: string, taskName: string): ItemKey => ({ PK: `GATE#${root}#${taskName}`, SK: 'GATE' }),

  timerState: (taskName: string, timerName: string): ItemKey => ({ PK: `TIMER#${taskName}#${timerName}`, SK: 'STATE' }),

  pollState: (ref: string): ItemKey => ({ PK: `POLL#${ref}`, SK: 'STATE' }),
  allPolls: 'POLLS',
  pollHost: (host: string): ItemKey => ({ PK: `POLLHOST#${host}`, SK: 'STATE' }),

  imageState: (registry: string, repository: string, tag: string): ItemKey => keys.imageStateOf(baseImage(registry, repository, tag)),
  /** The same item, by `registry/repository:tag`. */
  imageStateOf: (ref: string): ItemKey => ({ PK: `IMAGE#${ref}`, SK: 'STATE' }),
};
