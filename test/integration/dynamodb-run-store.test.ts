// What is DynamoDB's own in the run store: marshalling whatever the client's options, paged
// listings, and items left as they were. Its behaviour, shared with the memory store, is in
// test/support/store-contract.ts.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbRunStore } from '../../lib/adapters/dynamodb-run-store';
import { keys } from '../../lib/adapters/dynamodb-table';
import { NotFoundError } from '../../lib/domain/errors';
import type { Run, RunStatus } from '../../lib/domain/types';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lib/local/dynamodb-local';
import { DYNAMODB_START_TIMEOUT_MS, withDynamoDb, type TestTable } from '../support/dynamodb';

function aRun(id: string, sequence: number, overrides: Partial<Run> = {}): Run {
  return {
    id,
    sequence,
    taskName: 'helloworld',
    platform: 'linux/amd64',
    status: 'Queued',
    trigger: 'Manual',
    cause: { kind: 'manual', requestedBy: 'tester' },
    spec: {
      registry: '127.0.0.1:5001',
      images: [`helloworld:${id}`],
      context: { kind: 'git', url: 'https://example.test/app.git', branch: 'main', folder: '.' },
      dockerfile: 'Dockerfile-app',
      buildArgs: { REGISTRY_NAME: '127.0.0.1:5000', EMPTY: '' },
      platform: 'linux/amd64',
      credentials: [{ kind: 'basic', loginServer: '127.0.0.1:5000', username: 'puller', secretRef: 'secret/base' }],
    },
    createdAt: '2024-05-01T10:00:00.000Z',
    outputImages: [],
    baseImages: [],
    ...overrides,
  };
}

describe('DynamoDbRunStore', () => {
  let shared: TestTable;
  const fresh: TestTable[] = [];
  beforeAll(async () => {
    shared = await withDynamoDb({ tablePrefix: 'runs' });
  }, DYNAMODB_START_TIMEOUT_MS);
  afterEach(async () => {
    for (const table of fresh.splice(0)) await table.stop();
  });
  afterAll(() => shared?.stop());

  /** Listings see every run in a table, so tests that list get a table of their own. */
  async function freshStore(options: { pageSize?: number } = {}) {
    const table = await withDynamoDb({ tablePrefix: 'runs' });
    fresh.push(table);
    return new DynamoDbRunStore({ client: table.client, tableName: table.tableName, ...options });
  }

  it('drops undefined fields at any depth, whatever the client’s marshall options', async () => {
    // A plain document client refuses nested undefined values unless the store removes them.
    const plain = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: shared.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));
    const store = new DynamoDbRunStore({ client: plain, tableName: shared.tableName });
    const base = aRun('un1', 921);
    try {
      await store.create({ ...base, cause: { kind: 'manual', requestedBy: undefined }, spec: { ...base.spec, commit: undefined } });
      const moved = await store.transition('un1', ['Queued'], { status: 'Failed', cause: { kind: 'manual', requestedBy: undefined }, error: 'no space left' });
      expect(moved.cause).toEqual({ kind: 'manual' });
      expect(moved.spec).toEqual(base.spec);
    } finally {
      plain.destroy();
    }
  });

  it('a transition of a run that does not exist creates no item', async () => {
    const store = new DynamoDbRunStore({ client: shared.client, tableName: shared.tableName });
    await expect(store.transition('ghost', ['Queued'], { status: 'Running' })).rejects.toThrow(NotFoundError);
    const raw = await shared.client.send(new GetCommand({ TableName: shared.tableName, Key: keys.run('ghost') }));
    expect(raw.Item).toBeUndefined();
  });

  // The listings' orders and filters are in the store contract; these read them a page at a time.
  describe('list, page by page', () => {
    const statuses: RunStatus[] = ['Succeeded', 'Failed', 'Succeeded', 'Running', 'Succeeded', 'Failed', 'Queued', 'Succeeded', 'Failed', 'Succeeded', 'Failed', 'Succeeded'];

    async function seeded(pageSize: number) {
      const store = await freshStore({ pageSize });
      for (const i of [3, 0, 11, 7, 1, 5, 9, 2, 10, 4, 6, 8]) {
        await store.create(aRun(`da${i + 1}`, i + 1, { status: statuses[i]!, taskName: i % 3 === 0 ? 'other' : 'helloworld' }));
      }
      return store;
    }

    it.each([1, 2, 5])('lists newest first, filtered by status and task, across pages of %s', async (pageSize) => {
      const store = await seeded(pageSize);
      expect((await store.list({ top: 5 })).map((r) => r.id)).toEqual(['da12', 'da11', 'da10', 'da9', 'da8']);
      expect((await store.list({ top: 100 })).map((r) => r.sequence)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      expect((await store.list({ top: 3, status: 'Failed' })).map((r) => r.id)).toEqual(['da11', 'da9', 'da6']);
      expect((await store.list({ top: 10, status: 'Failed' })).map((r) => r.id)).toEqual(['da11', 'da9', 'da6', 'da2']);
      expect((await store.list({ top: 10, status: 'Canceled' })).map((r) => r.id)).toEqual([]);
      expect((await store.list({ top: 10, taskName: 'other' })).map((r) => r.id)).toEqual(['da10', 'da7', 'da4', 'da1']);
      expect((await store.list({ top: 10, taskName: 'other', status: 'Succeeded' })).map((r) => r.id)).toEqual(['da10', 'da1']);
    });
  });

  describe('the unfinished runs, on keys of their own', () => {
    const gsi3 = async (table: TestTable, id: string) => {
      const item = (await table.client.send(new GetCommand({ TableName: table.tableName, Key: keys.run(id) }))).Item;
      return item && [item.GSI3PK, item.GSI3SK];
    };

    it('spreads them over eight keys by sequence, keeps each on its key until it finishes, then takes it off', async () => {
      const table = await withDynamoDb({ tablePrefix: 'runs' });
      fresh.push(table);
      const store = new DynamoDbRunStore({ client: table.client, tableName: table.tableName });
      for (const sequence of [7, 8, 17]) await store.create(aRun(`da${sequence}`, sequence));
      expect([await gsi3(table, 'da7'), await gsi3(table, 'da8'), await gsi3(table, 'da17')]).toEqual([
        ['UNFINISHED#7', '000000000007'],
        ['UNFINISHED#0', '000000000008'],
        ['UNFINISHED#1', '000000000017'],
      ]);
      await store.transitionMany([{ id: 'da7', from: ['Queued'], changes: { status: 'Running' } }]);
      await store.transition('da8', ['Queued'], { status: 'Running' });
      expect([await gsi3(table, 'da7'), await gsi3(table, 'da8')]).toEqual([
        ['UNFINISHED#7', '000000000007'],
        ['UNFINISHED#0', '000000000008'],
      ]);
      await store.transitionMany([{ id: 'da7', from: ['Running'], changes: { status: 'Succeeded' } }]);
      expect(await gsi3(table, 'da7')).toEqual([undefined, undefined]);
    });

    it('lists, with them, the runs an earlier version wrote under its one key, oldest first', async () => {
      const table = await withDynamoDb({ tablePrefix: 'runs' });
      fresh.push(table);
      const store = new DynamoDbRunStore({ client: table.client, tableName: table.tableName });
      await store.create(aRun('da3', 3));
      await store.create(aRun('da5', 5, { status: 'Running' }));
      // As the version before wrote them: every unfinished run under UNFINISHED.
      for (const sequence of [2, 4, 9]) {
        await store.create(aRun(`da${sequence}`, sequence));
        await table.client.send(new UpdateCommand({ TableName: table.tableName, Key: keys.run(`da${sequence}`), UpdateExpression: 'SET GSI3PK = :legacy', ExpressionAttributeValues: { ':legacy': keys.legacyUnfinishedRuns } }));
      }
      expect((await store.listUnfinished()).map((run) => run.id)).toEqual(['da2', 'da3', 'da4', 'da5', 'da9']);
      // Moved on, a legacy run stays where it was; finished, it leaves the index as any run does.
      await store.transition('da4', ['Queued'], { status: 'Running' });
      expect(await gsi3(table, 'da4')).toEqual([keys.legacyUnfinishedRuns, '000000000004']);
      await store.transition('da2', ['Queued'], { status: 'Canceled' });
      expect((await store.listUnfinished()).map((run) => [run.id, run.status])).toEqual([
        ['da3', 'Queued'],
        ['da4', 'Running'],
        ['da5', 'Running'],
        ['da9', 'Queued'],
      ]);
    });
  });
});
