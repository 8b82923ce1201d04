import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { systemClock, type Clock, type DeliveryStore } from '../domain/ports';
import { createDocumentClient, epochSeconds, isConditionFailed, type DynamoDbStoreOptions } from './dynamodb-client';
import { keys, TABLE_DEFINITION } from './dynamodb-table';

export interface DynamoDbDeliveryStoreOptions extends DynamoDbStoreOptions {
  clock?: Clock;
}

export class DynamoDbDeliveryStore implements DeliveryStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;

  constructor(options: DynamoDbDeliveryStoreOptions) {
    this.client = options.client ?? createDocumentClient();
    this.tableName = options.tableName;
    this.clock = options.clock ?? systemClock;
  }

  async markSeen(key: string, ttlSeconds: number): Promise<boolean> {
    try {
      await this.client.send(new PutCommand({ TableName: this.tableName, ...markSeenPut(key, ttlSeconds, epochSeconds(this.clock)) }));
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async forget(key: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: keys.delivery(key) }));
  }
}

/**
 * The mark that a key was seen, as one conditional put: markSeen sends it alone, and RunOpenings
 * within the transaction that writes the run it is for.
 */
export function markSeenPut(key: string, ttlSeconds: number, now: number) {
  return {
    Item: { ...keys.delivery(key), [TABLE_DEFINITION.ttlAttribute]: now + Math.max(0, Math.ceil(ttlSeconds)) },
    // TTL deletes lazily (up to days late), so an expired record that still exists counts as unseen.
    ConditionExpression: 'attribute_not_exists(PK) OR #expires <= :now',
    ExpressionAttributeNames: { '#expires': TABLE_DEFINITION.ttlAttribute },
    ExpressionAttributeValues: { ':now': now },
  };
}
