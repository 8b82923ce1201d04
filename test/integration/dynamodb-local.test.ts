import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, DescribeTimeToLiveCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createTableInput } from '../../lib/adapters/dynamodb-table';
import {
  createLocalDocumentClient,
  createTableIfMissing,
  DynamoDbLocalStartError,
  startDynamoDbLocal,
  type DynamoDbLocal,
} from '../../lib/local/dynamodb-local';
import { DYNAMODB_START_TIMEOUT_MS, withDynamoDb, type TestTable } from '../support/dynamodb';

const SLOW = 3 * DYNAMODB_START_TIMEOUT_MS;

describe('startDynamoDbLocal', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it(
    'answers on a free port in memory and stops for good',
    async () => {
      const local = await startDynamoDbLocal();
      cleanups.push(() => local.stop());
      expect(local.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

      const client = createLocalDocumentClient(local.endpoint);
      cleanups.push(() => client.destroy());
      await createTableIfMissing(client, 'lifecycle');
      expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual(['lifecycle']);

      await local.stop();
      await local.stop(); // twice is harmless
      await expect(
        client.send(new ListTablesCommand({}), { abortSignal: AbortSignal.timeout(5000) }),
      ).rejects.toThrow();
    },
    SLOW,
  );

  it(
    'keeps tables and items in dataDir across a restart',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'cascade-dynamodb-'));
      cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));

      const first = await startDynamoDbLocal({ dataDir });
      const firstClient = createLocalDocumentClient(first.endpoint);
      try {
        await createTableIfMissing(firstClient, 'persisted');
        await firstClient.send(new PutCommand({ TableName: 'persisted', Item: { PK: 'A', SK: 'B', kept: 42 } }));
      } finally {
        firstClient.destroy();
        await first.stop();
      }

      const second = await startDynamoDbLocal({ dataDir });
      cleanups.push(() => second.stop());
      const client = createLocalDocumentClient(second.endpoint);
      cleanups.push(() => client.destroy());
      await createTableIfMissing(client, 'persisted'); // exists already: no error
      const read = await client.send(new GetCommand({ TableName: 'persisted', Key: { PK: 'A', SK: 'B' } }));
      expect(read.Item).toEqual({ PK: 'A', SK: 'B', kept: 42 });
    },
    SLOW,
  );

  it(
    'fails with what Java said when the port it was given is taken',
    async () => {
      // It accepts connections and never answers, as a busy port's owner may.
      const squatter: Server = createServer();
      const sockets = new Set<Socket>();
      squatter.on('connection', (socket) => sockets.add(socket));
      await new Promise<void>((resolve) => squatter.listen(0, '0.0.0.0', resolve));
      cleanups.push(
        () =>
          new Promise<void>((resolve) => {
            squatter.close(() => resolve());
            for (const socket of sockets) socket.destroy();
          }),
      );
      const { port } = squatter.address() as { port: number };

      let local: DynamoDbLocal | undefined;
      const started = startDynamoDbLocal({ port }).then((l) => (local = l));
      cleanups.push(async () => {
        await started.catch(() => undefined);
        await local?.stop();
      });
      await expect(started).rejects.toThrow(DynamoDbLocalStartError);
      await expect(started).rejects.toThrow(/Address already in use/);
      await expect(started).rejects.not.toThrow(/\tat /);
    },
    SLOW,
  );
});

describe('createTableIfMissing', () => {
  let table: TestTable;
  beforeAll(async () => {
    table = await withDynamoDb({ tablePrefix: 'create-table' });
  }, DYNAMODB_START_TIMEOUT_MS);
  afterAll(() => table?.stop());

  it('creates the table as the one definition says, with TTL on expiresAt', async () => {
    const { Table } = await table.client.send(new DescribeTableCommand({ TableName: table.tableName }));
    const expected = createTableInput(table.tableName);
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual(expected.KeySchema);
    const byName = (a: { AttributeName?: string }, b: { AttributeName?: string }) =>
      (a.AttributeName ?? '').localeCompare(b.AttributeName ?? '');
    expect([...(Table?.AttributeDefinitions ?? [])].sort(byName)).toEqual([...(expected.AttributeDefinitions ?? [])].sort(byName));
    expect(
      (Table?.GlobalSecondaryIndexes ?? [])
        .map((index) => ({ IndexName: index.IndexName, KeySchema: index.KeySchema, Projection: index.Projection }))
        .sort((a, b) => (a.IndexName ?? '').localeCompare(b.IndexName ?? '')),
    ).toEqual(expected.GlobalSecondaryIndexes);

    const ttl = await table.client.send(new DescribeTimeToLiveCommand({ TableName: table.tableName }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
  });

  it('does nothing to a table that exists, even when called concurrently', async () => {
    await table.client.send(new PutCommand({ TableName: table.tableName, Item: { PK: 'keep', SK: 'me' } }));
    await Promise.all([createTableIfMissing(table.client, table.tableName), createTableIfMissing(table.client, table.tableName)]);
    const read = await table.client.send(new GetCommand({ TableName: table.tableName, Key: { PK: 'keep', SK: 'me' } }));
    expect(read.Item).toEqual({ PK: 'keep', SK: 'me' });
  });

  it('creates a missing table even when two callers race for it', async () => {
    const name = `${table.tableName}-race`;
    await Promise.all([createTableIfMissing(table.client, name), createTableIfMissing(table.client, name)]);
    const { Table } = await table.client.send(new DescribeTableCommand({ TableName: name }));
    expect(Table?.TableStatus).toBe('ACTIVE');
  });
});
