// What is DynamoDB's own in the timer, poll and run history stores: the items they leave (or
// remove) and the TTL attribute in epoch seconds. Their behaviour, shared with the memory stores,
// is in test/support/store-contract.ts.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbPollStateStore } from '../../lib/adapters/dynamodb-poll-state-store';
import { DynamoDbRunStore } from '../../lib/adapters/dynamodb-run-store';
import { keys } from '../../lib/adapters/dynamodb-table';
import { DynamoDbTimerStateStore } from '../../lib/adapters/dynamodb-timer-state-store';
import type { Run } from '../../lib/domain/types';
import { ManualClock } from '../support/memory-ports';
import { DYNAMODB_START_TIMEOUT_MS, withDynamoDb, type TestTable } from '../support/dynamodb';

const O1 = '2026-11-28T03:00:00.000Z';
const O2 = '2026-11-29T03:00:00.000Z';

function aRun(id: string, sequence: number, overrides: Partial<Run> = {}): Run {
  return {
    id,
    sequence,
    taskName: 'helloworld',
    platform: 'linux/amd64',
    status: 'Queued',
    trigger: 'Manual',
    cause: { kind: 'manual' },
    spec: {
      registry: '127.0.0.1:5001',
      images: [`helloworld:${id}`],
      context: { kind: 'git', url: 'https://example.test/app.git', branch: 'main', folder: '.' },
      dockerfile: 'Dockerfile',
      buildArgs: {},
      platform: 'linux/amd64',
      credentials: [],
    },
    createdAt: '2090-06-01T10:00:00.000Z',
    outputImages: [],
    baseImages: [],
    ...overrides,
  };
}

describe('DynamoDB timer, poll and run history items', () => {
  let table: TestTable;
  beforeAll(async () => {
    table = await withDynamoDb({ tablePrefix: 'timerpoll' });
  }, DYNAMODB_START_TIMEOUT_MS);
  afterAll(() => table?.stop());

  const raw = async (key: { PK: string; SK: string }) => (await table.client.send(new GetCommand({ TableName: table.tableName, Key: key, ConsistentRead: true }))).Item;

  it('a timer released to none, or never claimed, leaves no item', async () => {
    const store = new DynamoDbTimerStateStore({ client: table.client, tableName: table.tableName });
    expect(await store.claim('t-release-none', 'nightly', O2)).toBe(true);
    expect(await raw(keys.timerState('t-release-none', 'nightly'))).toMatchObject({ firedThrough: O2, taskName: 't-release-none', timerName: 'nightly' });
    await store.release('t-release-none', 'nightly', O2, undefined);
    expect(await raw(keys.timerState('t-release-none', 'nightly'))).toBeUndefined();
    await store.release('t-release-never', 'nightly', O2, O1);
    expect(await raw(keys.timerState('t-release-never', 'nightly'))).toBeUndefined();
  });

  it('a host put off keeps the reason it was given', async () => {
    const store = new DynamoDbPollStateStore({ client: table.client, tableName: table.tableName });
    await store.setHostNotBefore('registry-1.docker.io', '2026-11-28T06:00:00.000Z', 'HTTP 429 again');
    expect(await raw(keys.pollHost('registry-1.docker.io'))).toMatchObject({ host: 'registry-1.docker.io', notBefore: '2026-11-28T06:00:00.000Z', reason: 'HTTP 429 again' });
  });

  describe('run history', () => {
    // Far from the real clock: DynamoDB's own TTL must not be what removes these items.
    const clock = new ManualClock('2090-06-01T12:00:00.000Z');
    const runs = () => new DynamoDbRunStore({ client: table.client, tableName: table.tableName, clock });
    const PAST = '2090-06-01T11:00:00.000Z'; // 3799998000
    const FUTURE = '2090-07-01T00:00:00.000Z'; // 3802550400
    const finish = (keepUntil: string) => ({ status: 'Succeeded' as const, finishedAt: '2090-06-01T10:05:00.000Z', durationMs: 300_000, keepUntil });

    it('a run given a keepUntil, when created or finished, carries it as the TTL in epoch seconds; the record does not', async () => {
      const store = runs();
      await store.create(aRun('h1', 1));
      await store.create(aRun('h2', 2));
      await store.create(aRun('h3', 3, finish(FUTURE)));
      await store.transition('h1', ['Queued'], finish(PAST));
      await store.transition('h2', ['Queued'], finish(FUTURE));
      expect((await raw(keys.run('h1')))?.expiresAt).toBe(3799998000);
      expect((await raw(keys.run('h2')))?.expiresAt).toBe(3802550400);
      expect((await raw(keys.run('h3')))?.expiresAt).toBe(3802550400);
      expect(await store.get('h2')).toEqual(aRun('h2', 2, finish(FUTURE)));
      // Past its time but not yet removed: the item is there, readers do not see it.
      expect((await raw(keys.run('h1')))?.id).toBe('h1');
      expect(await store.get('h1')).toBeUndefined();
    });

    it('deleteExpired and deleteMany remove the items themselves', async () => {
      const store = runs();
      await store.create(aRun('x1', 11, finish(PAST)));
      await store.create(aRun('x2', 12, { status: 'Succeeded' }));
      await store.create(aRun('x3', 13, finish(FUTURE)));
      expect(await store.deleteExpired()).toContain('x1');
      expect(await raw(keys.run('x1'))).toBeUndefined();
      await store.deleteMany(['x2']);
      expect(await raw(keys.run('x2'))).toBeUndefined();
      expect((await raw(keys.run('x3')))?.id).toBe('x3');
    });
  });
});
