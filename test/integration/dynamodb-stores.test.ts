// What is DynamoDB's own in the stores: the TTL attribute, and one table for all of them. Their
// behaviour, shared with the memory stores, is in test/support/store-contract.ts.
import { DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbDeliveryStore } from '../../lib/adapters/dynamodb-delivery-store';
import { createDynamoDbStores } from '../../lib/adapters/dynamodb-stores';
import { keys } from '../../lib/adapters/dynamodb-table';
import type { Task } from '../../lib/domain/types';
import { ManualClock } from '../support/memory-ports';
import { DYNAMODB_START_TIMEOUT_MS, withDynamoDb, type TestTable } from '../support/dynamodb';

const A = `sha256:${'a'.repeat(64)}`;
const t = (minute: number) => `2024-05-01T10:${String(minute).padStart(2, '0')}:00.000Z`;

function aTask(name: string): Task {
  return {
    name,
    registry: '127.0.0.1:5001',
    images: ['helloworld:{{.Run.ID}}'],
    context: { kind: 'git', url: 'https://github.com/Example/App.git', branch: 'main', folder: '.' },
    dockerfile: 'Dockerfile-app',
    buildArgs: {},
    platform: 'linux/amd64',
    status: 'Enabled',
    baseImageTrigger: { enabled: true, type: 'Runtime' },
    commitTrigger: { enabled: true },
    credentials: [],
    createdAt: t(0),
    updatedAt: t(0),
  };
}

describe('DynamoDB stores', () => {
  let table: TestTable;
  beforeAll(async () => {
    table = await withDynamoDb({ tablePrefix: 'stores' });
  }, DYNAMODB_START_TIMEOUT_MS);
  afterAll(() => table?.stop());

  it('a delivery record carries the TTL attribute the table expires records by', async () => {
    const clock = new ManualClock('2024-05-01T10:00:00.000Z');
    const deliveries = new DynamoDbDeliveryStore({ client: table.client, tableName: table.tableName, clock });
    await deliveries.markSeen('d-ttl', 600);
    const raw = await table.client.send(new GetCommand({ TableName: table.tableName, Key: keys.delivery('d-ttl') }));
    expect(raw.Item?.expiresAt).toBe(Math.floor(clock.now().getTime() / 1000) + 600);
    const ttl = await table.client.send(new DescribeTimeToLiveCommand({ TableName: table.tableName }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe('expiresAt');
  });

  it('createDynamoDbStores wires every store to one table', async () => {
    const stores = createDynamoDbStores({ client: table.client, tableName: table.tableName, runIdPrefix: 'zz' });
    await stores.tasks.create(aTask('wired'));
    expect((await stores.tasks.list()).map((task) => task.name)).toEqual(['wired']);
    expect(await stores.runs.nextId()).toEqual({ id: 'zz1', sequence: 1 });
    await stores.dependencies.replaceForTask('wired', [
      { taskName: 'wired', registry: 'r.example', repository: 'base', tag: '1', digest: A, stage: 'runtime', pinned: false, capturedAt: t(0), capturedByRun: 'zz1' },
    ]);
    expect(await stores.dependencies.listDependents('r.example', 'base', '1')).toHaveLength(1);
    expect(await stores.imageStates.recordIfNewer('r.example', 'base', '1', A, t(1))).toBe('newer');
    await stores.webhooks.create({ name: 'h', provider: 'distribution', secrets: ['x'], createdAt: t(0) });
    expect(await stores.webhooks.get('h')).toBeDefined();
    expect(await stores.deliveries.markSeen('k', 60)).toBe(true);
    expect(await stores.deliveries.markSeen('k', 60)).toBe(false);
    expect(await stores.slots.admit('wired', 'zz1')).toEqual({ admitted: 'build' });
    expect(await stores.timerStates.claim('wired', 'nightly', t(3))).toBe(true);
    expect(await stores.pollStates.list()).toEqual([]);
    expect(await stores.gates.leave('root', 'wired', 'zz1')).toEqual([]);
    expect(await stores.openings.open([])).toEqual([]);
  });
});
