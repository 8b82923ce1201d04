import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../domain/errors';
import type { ImageStateStore, Pusher, TagPushers } from '../domain/ports';
import type { ImageProducer } from '../domain/types';
import { byKeyBytes, createDocumentClient, isConditionFailed, type DynamoDbStoreOptions, type Item } from './dynamodb-client';
import { keys, type ItemKey } from './dynamodb-table';

/**
 * The newest digest seen per tag. Times are compared as epoch milliseconds, not as strings,
 * because registries write ISO times with different precision and offsets.
 *
 * Equal times with different digests (two pushes within a registry's clock resolution;
 * ECR's events only carry seconds): the greater digest wins. Any fixed rule would do; a
 * fixed one makes every order of arrival and every redelivery converge on the same state,
 * where "last arrival wins" could flip the tag back and forth and build both digests twice.
 */
export class DynamoDbImageStateStore implements ImageStateStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: DynamoDbStoreOptions) {
    this.client = options.client ?? createDocumentClient();
    this.tableName = options.tableName;
  }

  async recordIfNewer(registry: string, repository: string, tag: string, digest: string, occurredAt: string): Promise<'newer' | 'same' | 'older'> {
    return (await this.recordPush(registry, repository, tag, digest, occurredAt)).age;
  }

  async recordPush(registry: string, repository: string, tag: string, digest: string, occurredAt: string): Promise<{ age: 'newer' | 'same' | 'older' } & TagPushers> {
    const time = Date.parse(occurredAt);
    if (Number.isNaN(time)) throw new ValidationError(`occurredAt "${occurredAt}" is not a date`, 'occurredAt');
    const key = keys.imageState(registry, repository, tag);
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression:
            'SET registry = :registry, repository = :repository, tag = :tag, digest = :d, occurredAt = :at, occurredAtMs = :t',
          // A newer time always records, even for the digest already stored: the tag may have
          // moved away and back, and a late event from in between must then lose.
          // The item may exist for its producer alone (recordProducer), with no time of its own yet.
          ConditionExpression: 'attribute_not_exists(occurredAtMs) OR occurredAtMs < :t OR (occurredAtMs = :t AND digest < :d)',
          ExpressionAttributeValues: {
            ':registry': registry,
            ':repository': repository,
            ':tag': tag,
            ':d': digest,
            ':at': occurredAt,
            ':t': time,
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return { age: result.Attributes?.digest === digest ? 'same' : 'newer', ...tagPushersOf(result.Attributes) };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const stored = await this.read(key);
      return { age: stored?.digest === digest ? 'same' : 'older', ...tagPushersOf(stored) };
    }
  }

  async recordProducer(registry: string, repository: string, tag: string, producer: ImageProducer): Promise<void> {
    // Attributes of their own on the tag's item: recordIfNewer's digest and time stay untouched.
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.imageState(registry, repository, tag),
        UpdateExpression: 'SET registry = :registry, repository = :repository, tag = :tag, producedBy = :p',
        ExpressionAttributeValues: { ':registry': registry, ':repository': repository, ':tag': tag, ':p': producer },
      }),
    );
  }

  async pushers(registry: string, repository: string, tag: string): Promise<TagPushers> {
    return tagPushersOf(await this.read(keys.imageState(registry, repository, tag)));
  }

  async stopPushing(targets: string[], runId: string): Promise<void> {
    await Promise.all(
      targets.map(async (target) => {
        try {
          await this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: keys.imageStateOf(target),
              UpdateExpression: 'REMOVE #p',
              // An update of an item that does not exist would create it, if only with its key.
              ConditionExpression: 'attribute_exists(#p)',
              ExpressionAttributeNames: { '#p': pushingAttribute(runId) },
            }),
          );
        } catch (error) {
          // Not pushing there (never was, or stopped already): nothing to remove.
          if (!isConditionFailed(error)) throw error;
        }
      }),
    );
  }

  async current(registry: string, repository: string, tag: string): Promise<{ digest: string; occurredAt: string } | undefined> {
    const item = await this.read(keys.imageState(registry, repository, tag));
    return typeof item?.digest === 'string' && typeof item.occurredAt === 'string' ? { digest: item.digest, occurredAt: item.occurredAt } : undefined;
  }

  async producer(registry: string, repository: string, tag: string): Promise<ImageProducer | undefined> {
    return (await this.read(keys.imageState(registry, repository, tag)))?.producedBy as ImageProducer | undefined;
  }

  private async read(Key: ItemKey): Promise<Item | undefined> {
    return (await this.client.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }))).Item;
  }
}

/**
 * Each unfinished run that pushes the tag is an attribute of the tag's item, `pushing:<run id>`,
 * rather than an entry of one map: an entry can only be set in a map that exists, and no single
 * update can both make sure of the map and set the entry.
 */
const PUSHING_PREFIX = 'pushing:';
const pushingAttribute = (runId: string) => `${PUSHING_PREFIX}${runId}`;

/**
 * These runs will push `target` (`registry/repository:tag`), as one update: RunOpenings sends it
 * within the transaction that writes the runs.
 */
export function startPushing(target: string, pushers: Pusher[]) {
  return {
    Key: keys.imageStateOf(target),
    UpdateExpression: `SET ${pushers.map((_, i) => `#p${i} = :p${i}`).join(', ')}`,
    ExpressionAttributeNames: Object.fromEntries(pushers.map((pusher, i) => [`#p${i}`, pushingAttribute(pusher.runId)])),
    ExpressionAttributeValues: Object.fromEntries(pushers.map((pusher, i) => [`:p${i}`, pusher])),
  };
}

/** The producer and the pushers an image state item holds; the pushers in the order of their run ids' bytes. */
function tagPushersOf(item: Item | undefined): TagPushers {
  const producer = item?.producedBy as ImageProducer | undefined;
  const pushing = Object.entries(item ?? {})
    .filter(([name]) => name.startsWith(PUSHING_PREFIX))
    .sort(([a], [b]) => byKeyBytes(a, b))
    .map(([, pusher]) => pusher as Pusher);
  return { ...(producer && { producer }), pushing };
}
