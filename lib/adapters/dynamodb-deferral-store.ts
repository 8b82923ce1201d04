// Image events held behind an upstream task's run for the same change: one item per held event
// under the (change, upstream task) it waits for, so that the run's end finds them in one Query.
// They expire after a week, should that run never end.
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock, DeferralStore, DeferredEvent } from '../domain/ports';
import { systemClock } from '../domain/ports';
import { createDocumentClient, queryAll, type DynamoDbStoreOptions } from './dynamodb-client';
import { keys } from './dynamodb-table';

const HOLD_SECONDS = 7 * 24 * 3600;

export class DynamoDbDeferralStore implements DeferralStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;

  constructor(options: DynamoDbStoreOptions & { clock?: Clock }) {
    this.client = options.client ?? createDocumentClient();
    this.tableName = options.tableName;
    this.clock = options.clock ?? systemClock;
  }

  async defer(root: string, upstreamTask: string, deferred: DeferredEvent): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          PK: keys.deferrals(root, upstreamTask),
          // One item per event and dependent: a redelivered deferral replaces itself.
          SK: `${deferred.forTask ?? '*'}#${deferred.event.deliveryId}`,
          deferred,
          expiresAt: Math.floor(this.clock.now().getTime() / 1000) + HOLD_SECONDS,
        },
      }),
    );
  }

  async take(root: string, upstreamTask: string): Promise<DeferredEvent[]> {
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.deferrals(root, upstreamTask) },
      ConsistentRead: true,
    });
    for (const item of items) {
      await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { PK: item.PK, SK: item.SK } }));
    }
    return items.map((item) => item.deferred as DeferredEvent);
  }
}
