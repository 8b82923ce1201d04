import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../domain/errors';
import type { ImageStateStore } from '../domain/ports';
import type { ImageProducer } from '../domain/types';
import { createDocumentClient, isConditionFailed, type DynamoDbStoreOptions, type Item } from './dynamodb-client';
import { keys } from './dynamodb-table';

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

  async recordPush(
    registry: string,
    repository: string,
    tag: string,
    digest: string,
    occurredAt: string,
  ): Promise<{ age: 'newer' | 'same' | 'older'; producer?: ImageProducer }> {
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
      const producer = result.Attributes?.producedBy as ImageProducer | undefined;
      return { age: result.Attributes?.digest === digest ? 'same' : 'newer', ...(producer && { producer }) };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const stored: Item | undefined = (
        await this.client.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }))
      ).Item;
      const producer = stored?.producedBy as ImageProducer | undefined;
      return { age: stored?.digest === digest ? 'same' : 'older', ...(producer && { producer }) };
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

  async current(registry: string, repository: string, tag: string): Promise<{ digest: string; occurredAt: string } | undefined> {
    const item = (await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.imageState(registry, repository, tag), ConsistentRead: true }))).Item;
    return typeof item?.digest === 'string' && typeof item.occurredAt === 'string' ? { digest: item.digest, occurredAt: item.occurredAt } : undefined;
  }

  async producer(registry: string, repository: string, tag: string): Promise<ImageProducer | undefined> {
    const item = (await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.imageState(registry, repository, tag), ConsistentRead: true }))).Item;
    return item?.producedBy as ImageProducer | undefined;
  }
}
