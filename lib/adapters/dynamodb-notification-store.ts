// Notifications and their deliveries on the one table: a notification is `NOTIFICATION#name` /
// `NOTIFICATION` (listed by GSI1 `NOTIFICATIONS`/name), each delivery `NOTIFICATION#name` /
// `DELIVERY#<id>` beside it (ids sort by time, so one Query reads the newest first), with a TTL.
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../domain/errors';
import type { DeliveryAttempt, DeliveryStatus, Notification, NotificationDelivery } from '../domain/notifications/notification';
import { systemClock, type Clock, type NotificationStore } from '../domain/ports';
import { batchDelete, createDocumentClient, isConditionFailed, queryAll, queryPages, recordOf, withoutUndefined, type DynamoDbStoreOptions, type Item } from './dynamodb-client';
import { GSI1, keys, TABLE_DEFINITION } from './dynamodb-table';

export interface DynamoDbNotificationStoreOptions extends DynamoDbStoreOptions {
  /** Decides which deliveries are past their `keepUntil`. */
  clock?: Clock;
}

const TTL = TABLE_DEFINITION.ttlAttribute;

export class DynamoDbNotificationStore implements NotificationStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;

  constructor(options: DynamoDbNotificationStoreOptions) {
    this.client = options.client ?? createDocumentClient();
    this.tableName = options.tableName;
    this.clock = options.clock ?? systemClock;
  }

  async create(notification: Notification): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...withoutUndefined(notification), ...keys.notification(notification.name), GSI1PK: keys.allNotifications, GSI1SK: notification.name },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
    } catch (error) {
      if (isConditionFailed(error)) throw new ConflictError(`notification "${notification.name}" already exists`);
      throw error;
    }
  }

  async get(name: string): Promise<Notification | undefined> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.notification(name), ConsistentRead: true }));
    return result.Item ? recordOf<Notification>(result.Item) : undefined;
  }

  async list(): Promise<Notification[]> {
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      IndexName: GSI1,
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.allNotifications },
    });
    return items.map((item) => recordOf<Notification>(item));
  }

  async delete(name: string): Promise<void> {
    // The notification and every delivery beside it: one partition.
    const items = await queryAll(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.notificationItems(name) },
      ProjectionExpression: '#pk, #sk',
      ExpressionAttributeNames: { '#pk': 'PK', '#sk': 'SK' },
    });
    await batchDelete(this.client, this.tableName, items.map((item) => ({ PK: item.PK as string, SK: item.SK as string })));
  }

  async createDelivery(delivery: NotificationDelivery): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...withoutUndefined(delivery), ...keys.notificationDelivery(delivery.notification, delivery.id), [TTL]: ttlOf(delivery.keepUntil) },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async getDelivery(notification: string, id: string): Promise<NotificationDelivery | undefined> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.notificationDelivery(notification, id), ConsistentRead: true }));
    return result.Item && !this.expired(result.Item) ? deliveryOf(result.Item) : undefined;
  }

  async recordAttempt(notification: string, id: string, attempt: DeliveryAttempt, after: { status: DeliveryStatus; nextAttemptAt?: string; detail?: string }): Promise<boolean> {
    const sets = ['attempts = list_append(attempts, :attempt)', '#status = :status'];
    const removes: string[] = [];
    const values: Record<string, unknown> = { ':attempt': [withoutUndefined(attempt)], ':status': after.status, ':pending': 'pending', ':before': attempt.number - 1 };
    for (const field of ['nextAttemptAt', 'detail'] as const) {
      const value = after[field];
      if (value === undefined) removes.push(field);
      else {
        sets.push(`${field} = :${field}`);
        values[`:${field}`] = value;
      }
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.notificationDelivery(notification, id),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: 'attribute_exists(PK) AND #status = :pending AND size(attempts) = :before',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async listDeliveries(notification: string, top: number): Promise<NotificationDelivery[]> {
    const out: NotificationDelivery[] = [];
    const pages = queryPages(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :delivery)',
      ExpressionAttributeValues: { ':pk': keys.notificationItems(notification), ':delivery': keys.notificationDeliveryPrefix },
      ScanIndexForward: false,
      Limit: top,
    });
    for await (const page of pages) {
      for (const item of page) if (!this.expired(item) && out.length < top) out.push(deliveryOf(item));
      if (out.length >= top) break;
    }
    return out;
  }

  /** TTL deletes lazily (up to days late): a delivery past its time is gone already for readers. */
  private expired(item: Item): boolean {
    const at = item[TTL];
    return typeof at === 'number' && at <= Math.floor(this.clock.now().getTime() / 1000);
  }
}

function deliveryOf(item: Item): NotificationDelivery {
  return recordOf<NotificationDelivery>(item, [TTL]);
}

function ttlOf(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}
