// Each webhook's recent deliveries on the one table: `WEBHOOKLOG#name` / `<receivedAt>#<id>`, so
// one Query reads a webhook's newest first; each with a TTL (the redelivery marks' three days).
// The dispatcher's outcome of each event is an attribute of its own (`outcome#<delivery id>`).
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { systemClock, type Clock } from '../domain/ports';
import type { DeliveryOutcome, WebhookDeliveryLog, WebhookDeliveryRecord, WebhookDeliveryRef } from '../domain/webhook-delivery-log';
import { createDocumentClient, epochSeconds, queryPages, recordOf, withoutUndefined, type DynamoDbStoreOptions, type Item } from './dynamodb-client';
import { keys, TABLE_DEFINITION } from './dynamodb-table';

const TTL = TABLE_DEFINITION.ttlAttribute;

export interface DynamoDbWebhookDeliveryLogOptions extends DynamoDbStoreOptions {
  clock?: Clock;
}

export class DynamoDbWebhookDeliveryLog implements WebhookDeliveryLog {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;

  constructor(options: DynamoDbWebhookDeliveryLogOptions) {
    this.client = options.client ?? createDocumentClient();
    this.tableName = options.tableName;
    this.clock = options.clock ?? systemClock;
  }

  // Both writes are updates of their own attributes, so their order does not matter: the queue
  // may hand an event to the dispatcher before the receiver has written the delivery's record.
  async record(delivery: WebhookDeliveryRecord, ttlSeconds: number): Promise<void> {
    const { outcomes: _outcomes, ...fields } = withoutUndefined(delivery);
    const names = Object.keys(fields);
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.webhookDelivery(delivery.webhook, delivery.receivedAt, delivery.id),
        UpdateExpression: `SET ${names.map((_, i) => `#f${i} = :f${i}`).join(', ')}, #ttl = :ttl`,
        ExpressionAttributeNames: { ...Object.fromEntries(names.map((name, i) => [`#f${i}`, name])), '#ttl': TTL },
        ExpressionAttributeValues: { ...Object.fromEntries(names.map((name, i) => [`:f${i}`, (fields as Record<string, unknown>)[name]])), ':ttl': this.expiry(ttlSeconds) },
      }),
    );
  }

  async recordOutcome(ref: WebhookDeliveryRef, eventDeliveryId: string, outcome: DeliveryOutcome, ttlSeconds: number): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.webhookDelivery(ref.webhook, ref.receivedAt, ref.id),
        UpdateExpression: 'SET #outcome = :outcome, #ttl = if_not_exists(#ttl, :ttl)',
        ExpressionAttributeNames: { '#outcome': `${OUTCOME}${eventDeliveryId}`, '#ttl': TTL },
        ExpressionAttributeValues: { ':outcome': withoutUndefined(outcome), ':ttl': this.expiry(ttlSeconds) },
      }),
    );
  }

  private expiry(ttlSeconds: number): number {
    return epochSeconds(this.clock) + Math.ceil(ttlSeconds);
  }

  async recent(webhook: string, top: number): Promise<WebhookDeliveryRecord[]> {
    const now = epochSeconds(this.clock);
    const out: WebhookDeliveryRecord[] = [];
    const pages = queryPages(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.webhookDeliveries(webhook) },
      ScanIndexForward: false,
      Limit: top,
    });
    for await (const page of pages) {
      // TTL deletes lazily (days late, never on DynamoDB Local): an expired record is gone for readers.
      for (const item of page) if (!expired(item, now) && out.length < top) out.push(deliveryOf(item, ref(webhook, item)));
      if (out.length >= top) break;
    }
    return out;
  }
}

/** Each outcome is an attribute of its own, named after the event's delivery id. */
const OUTCOME = 'outcome#';

function ref(webhook: string, item: Item): WebhookDeliveryRef {
  const sk = String(item[TABLE_DEFINITION.sortKey]);
  const hash = sk.lastIndexOf('#');
  return { webhook, receivedAt: sk.slice(0, hash), id: sk.slice(hash + 1) };
}

/** The record, with its outcomes gathered; one whose receiver never wrote it still lists them. */
function deliveryOf(item: Item, at: WebhookDeliveryRef): WebhookDeliveryRecord {
  const outcomes: Record<string, DeliveryOutcome> = {};
  const rest: Item = {};
  for (const [name, value] of Object.entries(recordOf<Item>(item, [TTL]))) {
    if (name.startsWith(OUTCOME)) outcomes[name.slice(OUTCOME.length)] = value as DeliveryOutcome;
    else rest[name] = value;
  }
  return { ...at, events: [], ignored: [], ...rest, outcomes };
}

function expired(item: Item, now: number): boolean {
  const at = item[TTL];
  return typeof at === 'number' && at <= now;
}
