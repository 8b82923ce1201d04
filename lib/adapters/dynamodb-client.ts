// Plumbing shared by the DynamoDB adapters: the client, item shaping, paginated reads, batches.
import { ConditionalCheckFailedException, DynamoDBClient, TransactionCanceledException, type AttributeValue, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  QueryCommand,
  TransactWriteCommand,
  type BatchWriteCommandInput,
  type BatchWriteCommandOutput,
  type QueryCommandInput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../domain/ports';
import { KEY_ATTRIBUTES, type ItemKey } from './dynamodb-table';

export type Item = Record<string, unknown>;

export interface DynamoDbStoreOptions {
  client?: DynamoDBDocumentClient;
  tableName: string;
}

export function createDocumentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/**
 * Drops undefined fields at every depth, so records round-trip whatever marshall options
 * the caller's client was built with (an absent optional field stays absent).
 */
export function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => withoutUndefined(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) out[k] = withoutUndefined(v);
    }
    return out as T;
  }
  return value;
}

/** The stored record without the table's key attributes and the given bookkeeping fields. */
export function recordOf<T>(item: Item, extra: readonly string[] = []): T {
  const out: Item = {};
  for (const [k, v] of Object.entries(item)) {
    if (!KEY_ATTRIBUTES.includes(k) && !extra.includes(k)) out[k] = v;
  }
  return out as T;
}

/** DynamoDB's order of string keys: by their UTF-8 bytes, which is not always JavaScript's order. */
export function byKeyBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Now as the table's TTL attribute counts time: whole seconds since the epoch. */
export function epochSeconds(clock: Clock): number {
  return Math.floor(clock.now().getTime() / 1000);
}

export function isConditionFailed(error: unknown): error is ConditionalCheckFailedException {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof Error && error.name === 'ConditionalCheckFailedException')
  );
}

/** Every item a Query returns, following LastEvaluatedKey to the end. */
export async function queryAll(client: DynamoDBDocumentClient, input: QueryCommandInput): Promise<Item[]> {
  const items: Item[] = [];
  for await (const page of queryPages(client, input)) items.push(...page);
  return items;
}

export async function* queryPages(client: DynamoDBDocumentClient, input: QueryCommandInput): AsyncGenerator<Item[]> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
    yield (page.Items ?? []) as Item[];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

const BATCH_WRITE_LIMIT = 25;
/** Items one TransactWriteItems request may hold. */
export const TRANSACTION_LIMIT = 100;
const UNPROCESSED_RETRIES = 8;

export async function batchDelete(client: DynamoDBDocumentClient, tableName: string, itemKeys: ItemKey[]): Promise<void> {
  await batchWrite(client, tableName, itemKeys.map((Key) => ({ DeleteRequest: { Key } })));
}

/** Unconditional puts in batches of 25: for items whose keys nobody else can hold. */
export async function batchPut(client: DynamoDBDocumentClient, tableName: string, items: Item[]): Promise<void> {
  await batchWrite(client, tableName, items.map((Item) => ({ PutRequest: { Item } })));
}

type WriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];

async function batchWrite(client: DynamoDBDocumentClient, tableName: string, writes: WriteRequest[]): Promise<void> {
  for (let i = 0; i < writes.length; i += BATCH_WRITE_LIMIT) {
    let requests: BatchWriteCommandInput['RequestItems'] = { [tableName]: writes.slice(i, i + BATCH_WRITE_LIMIT) };
    for (let attempt = 0; ; attempt++) {
      const result: BatchWriteCommandOutput = await client.send(new BatchWriteCommand({ RequestItems: requests }));
      const unprocessed = result.UnprocessedItems?.[tableName] ?? [];
      if (unprocessed.length === 0) break;
      if (attempt >= UNPROCESSED_RETRIES) {
        throw new Error(`DynamoDB left ${unprocessed.length} writes unprocessed after ${attempt + 1} attempts`);
      }
      // Unprocessed items mean throttling: back off before asking again.
      await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      requests = { [tableName]: unprocessed };
    }
  }
}

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Writes in transactions of at most 100 items; atomic per chunk only. */
export async function transactWriteChunked(client: DynamoDBDocumentClient, items: TransactItem[]): Promise<void> {
  for (let i = 0; i < items.length; i += TRANSACTION_LIMIT) {
    await client.send(new TransactWriteCommand({ TransactItems: items.slice(i, i + TRANSACTION_LIMIT) }));
  }
}

/** Why DynamoDB cancelled one item of a transaction: `None` for the items that were not the cause. */
export interface CancellationReason {
  code: string;
  message?: string;
  /** The item as it stood, for a failed condition of a write that asked for it (ReturnValuesOnConditionCheckFailure). */
  item?: Record<string, AttributeValue>;
}

/**
 * Sends one transaction. Undefined when it committed; when DynamoDB cancelled it, the reason of
 * each item, in the order of `items`. Any other failure is thrown.
 */
export async function sendTransaction(client: DynamoDBDocumentClient, items: TransactItem[]): Promise<CancellationReason[] | undefined> {
  try {
    await client.send(new TransactWriteCommand({ TransactItems: items }));
    return undefined;
  } catch (error) {
    if (!(error instanceof TransactionCanceledException || (error instanceof Error && error.name === 'TransactionCanceledException'))) throw error;
    const reasons = (error as TransactionCanceledException).CancellationReasons;
    if (reasons?.length !== items.length) throw error;
    return reasons.map((reason) => ({ code: reason.Code ?? 'None', ...(reason.Message !== undefined && { message: reason.Message }), ...(reason.Item && { item: reason.Item }) }));
  }
}

/**
 * How many times a transaction is sent while DynamoDB cancels it for another transaction on its
 * items (TransactionConflict): such a conflict passes once the other has committed.
 */
export const TRANSACTION_CONFLICT_ATTEMPTS = 5;

/** The wait before sending a transaction again after a conflict: growing, so that the two move apart. */
export function afterConflict(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt * (0.5 + Math.random())));
}
