// One DynamoDB Local per test file (jest gives each file its own module registry, so this
// module-level state is per file), a fresh table per call.
import { randomBytes } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  createLocalDocumentClient,
  createTableIfMissing,
  startDynamoDbLocal,
  type DynamoDbLocal,
} from '../../lib/local/dynamodb-local';

export interface TestTable {
  client: DynamoDBDocumentClient;
  tableName: string;
  endpoint: string;
  /** Releases this table's client; the last one to stop stops DynamoDB Local. */
  stop(): Promise<void>;
}

/** Generous: on two busy cores the JVM can take a while. Use as the beforeAll timeout. */
export const DYNAMODB_START_TIMEOUT_MS = 90_000;

let shared: { local: Promise<DynamoDbLocal>; users: number } | undefined;

/**
 * Starts DynamoDB Local (in memory, free port) unless this file already did, and creates a
 * table nobody else uses. Call in beforeAll with DYNAMODB_START_TIMEOUT_MS; stop in afterAll.
 */
export async function withDynamoDb(
  options: {
    tablePrefix?: string;
    /** Creates the table instead of lib/adapters/dynamodb-table.ts's definition (e.g. from a template). */
    createTable?: (client: DynamoDBDocumentClient, tableName: string) => Promise<void>;
  } = {},
): Promise<TestTable> {
  if (!shared) {
    const local = startDynamoDbLocal({ startTimeoutMs: DYNAMODB_START_TIMEOUT_MS - 10_000 });
    shared = { local, users: 0 };
    // A failed start must not be reused by the next call.
    local.catch(() => {
      if (shared?.local === local) shared = undefined;
    });
  }
  const current = shared;
  current.users += 1;
  let local: DynamoDbLocal;
  try {
    local = await current.local;
  } catch (error) {
    current.users -= 1;
    throw error;
  }
  const client = createLocalDocumentClient(local.endpoint);
  const tableName = `${options.tablePrefix ?? 'cascade-test'}-${randomBytes(4).toString('hex')}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    client.destroy();
    current.users -= 1;
    if (current.users === 0) {
      if (shared === current) shared = undefined;
      await local.stop();
    }
  };
  try {
    await (options.createTable ?? createTableIfMissing)(client, tableName);
  } catch (error) {
    await stop();
    throw error;
  }
  return { client, tableName, endpoint: local.endpoint, stop };
}
