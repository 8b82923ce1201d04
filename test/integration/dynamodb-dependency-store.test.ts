// What is DynamoDB's own in the dependency store: paged Queries, and items left as they were.
// Its behaviour, shared with the memory store, is in test/support/store-contract.ts.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbDependencyStore } from '../../lib/adapters/dynamodb-dependency-store';
import { keys } from '../../lib/adapters/dynamodb-table';
import type { Dependency } from '../../lib/domain/types';
import { DYNAMODB_START_TIMEOUT_MS, withDynamoDb, type TestTable } from '../support/dynamodb';

const BASE_REGISTRY = '127.0.0.1:5000';
const digest = (c: string) => `sha256:${c.repeat(64)}`;

function edge(taskName: string, repository: string, overrides: Partial<Dependency> = {}): Dependency {
  return {
    taskName,
    registry: BASE_REGISTRY,
    repository,
    tag: '9-alpine',
    digest: digest('a'),
    stage: 'runtime',
    pinned: false,
    capturedAt: '2024-05-01T10:00:00.000Z',
    capturedByRun: 'da1',
    ...overrides,
  };
}

describe('DynamoDbDependencyStore', () => {
  let table: TestTable;
  let store: DynamoDbDependencyStore;
  beforeAll(async () => {
    table = await withDynamoDb({ tablePrefix: 'deps' });
    store = new DynamoDbDependencyStore({ client: table.client, tableName: table.tableName });
  }, DYNAMODB_START_TIMEOUT_MS);
  afterAll(() => table?.stop());

  it('pages through many dependents and many bases', async () => {
    const paged = new DynamoDbDependencyStore({ client: table.client, tableName: table.tableName, pageSize: 7 });
    const names = Array.from({ length: 150 }, (_, i) => `many-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < names.length; i += 15) {
      await Promise.all(names.slice(i, i + 15).map((name) => paged.replaceForTask(name, [edge(name, 'pg/base')])));
    }
    expect((await paged.listDependents(BASE_REGISTRY, 'pg/base', '9-alpine')).map((d) => d.taskName)).toEqual(names);
    const bases = Array.from({ length: 20 }, (_, i) => edge('wide-paged', `pg/base-${String(i).padStart(2, '0')}`));
    await paged.replaceForTask('wide-paged', bases);
    expect(await paged.listForTask('wide-paged')).toEqual(bases);
  });

  it('a claim of an edge that does not exist creates no item', async () => {
    expect(await store.claimTrigger(edge('ghost', 'ghost/node'), { digest: digest('4'), at: '2026-11-28T05:00:00.000Z' }, 'da1')).toBe(false);
    await store.releaseTrigger(edge('ghost', 'ghost/node'), digest('4'), 'da1');
    expect(await store.markTagGone(BASE_REGISTRY, 'ghost/node', '9-alpine', '2026-11-28T05:00:00.000Z')).toBe(0);
    const raw = await table.client.send(new GetCommand({ TableName: table.tableName, Key: keys.dependency(BASE_REGISTRY, 'ghost/node', '9-alpine', 'ghost') }));
    expect(raw.Item).toBeUndefined();
  });

  it('keeps when a claim was made as bookkeeping of the item, never in the edge', async () => {
    await store.replaceForTask('kept', [edge('kept', 'kept/node')]);
    expect(await store.claimTrigger(edge('kept', 'kept/node'), { digest: digest('5'), at: '2026-11-28T05:00:00.000Z' }, 'da2')).toBe(true);
    const raw = await table.client.send(new GetCommand({ TableName: table.tableName, Key: keys.dependency(BASE_REGISTRY, 'kept/node', '9-alpine', 'kept') }));
    expect(raw.Item?.lastTriggeredAtMs).toBe(Date.parse('2026-11-28T05:00:00.000Z'));
    expect(await store.listForTask('kept')).toEqual([edge('kept', 'kept/node', { lastTriggeredDigest: digest('5'), lastTriggeredBy: 'da2' })]);
  });
});
