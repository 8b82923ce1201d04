// The timer cursor, the poller's state, run history expiry and the image state's current digest,
// against DynamoDB Local.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbImageStateStore } from '../../lib/adapters/dynamodb-image-state-store';
import { DynamoDbPollStateStore } from '../../lib/adapters/dynamodb-poll-state-store';
import { DynamoDbRunStore } from '../../lib/adapters/dynamodb-run-store';
import { keys } from '../../lib/adapters/dynamodb-table';
import { DynamoDbTimerStateStore } from '../../lib/adapters/dynamodb-timer-state-store';
import type { Clock, PollState } from '../../lib/domain/ports';
import type { ImageProducer, Run } from '../../lib/domain/types';
import { DYNAMODB_START_TIMEOUT_MS, withDynamoDb, type TestTable } from '../support/dynamodb';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const C = `sha256:${'c'.repeat(64)}`;

/** Occurrences of a timer: whole minutes, one ISO format. */
const O1 = '2026-11-28T03:00:00.000Z';
const O2 = '2026-11-29T03:00:00.000Z';
const O3 = '2026-11-30T03:00:00.000Z';

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

describe('DynamoDB timer, poll, run history and image state stores', () => {
  let shared: TestTable;
  const fresh: TestTable[] = [];
  beforeAll(async () => {
    shared = await withDynamoDb({ tablePrefix: 'timerpoll' });
  }, DYNAMODB_START_TIMEOUT_MS);
  afterEach(async () => {
    for (const table of fresh.splice(0)) await table.stop();
  });
  afterAll(() => shared?.stop());

  /** Listings see a whole table, so tests that list get a table of their own. */
  async function freshTable(): Promise<TestTable> {
    const table = await withDynamoDb({ tablePrefix: 'timerpoll' });
    fresh.push(table);
    return table;
  }

  const raw = async (table: TestTable, key: { PK: string; SK: string }) =>
    (await table.client.send(new GetCommand({ TableName: table.tableName, Key: key, ConsistentRead: true }))).Item;

  describe('DynamoDbTimerStateStore', () => {
    const timers = () => new DynamoDbTimerStateStore({ client: shared.client, tableName: shared.tableName });

    it('fires an occurrence once, never an older one, and a newer one again', async () => {
      const store = timers();
      expect(await store.lastFired('t-order', 'nightly')).toBeUndefined();
      const steps: Array<[string, string, boolean, string]> = [
        ['first claim', O2, true, O2],
        ['the same occurrence again', O2, false, O2],
        ['an older occurrence', O1, false, O2],
        ['a newer occurrence', O3, true, O3],
        ['the newer one again', O3, false, O3],
      ];
      const seen: Array<[string, boolean, string | undefined]> = [];
      for (const [what, occurrence] of steps) {
        const claimed = await store.claim('t-order', 'nightly', occurrence);
        seen.push([what, claimed, await store.lastFired('t-order', 'nightly')]);
      }
      expect(seen).toEqual(steps.map(([what, , claimed, last]) => [what, claimed, last]));
    });

    it('of 10 concurrent claims of one occurrence, exactly one wins', async () => {
      const results = await Promise.all(Array.from({ length: 10 }, () => timers().claim('t-race', 'nightly', O1)));
      expect(results.filter((won) => won)).toHaveLength(1);
      expect(results.filter((won) => !won)).toHaveLength(9);
      expect(await timers().lastFired('t-race', 'nightly')).toBe(O1);
    });

    it('of concurrent claims of several occurrences, the newest ends as the cursor', async () => {
      const occurrences = [O2, O1, O3, O2, O1, O3];
      const results = await Promise.all(occurrences.map((o) => timers().claim('t-race-many', 'nightly', o)));
      // O3 can only be refused by O3 itself: one of its two claims wins.
      expect(results.filter((won, i) => won && occurrences[i] === O3)).toHaveLength(1);
      expect(await timers().lastFired('t-race-many', 'nightly')).toBe(O3);
    });

    it('keeps timers of different tasks and names apart', async () => {
      const store = timers();
      expect(await store.claim('t-apart-a', 'nightly', O2)).toBe(true);
      expect(await store.claim('t-apart-a', 'weekly', O1)).toBe(true);
      expect(await store.claim('t-apart-b', 'nightly', O1)).toBe(true);
      expect(await store.lastFired('t-apart-a', 'nightly')).toBe(O2);
      expect(await store.lastFired('t-apart-a', 'weekly')).toBe(O1);
      expect(await store.lastFired('t-apart-b', 'nightly')).toBe(O1);
      expect(await store.lastFired('t-apart-b', 'weekly')).toBeUndefined();
    });

    it('release goes back to the previous occurrence, which can then be fired again', async () => {
      const store = timers();
      expect(await store.claim('t-release-prev', 'nightly', O1)).toBe(true);
      expect(await store.claim('t-release-prev', 'nightly', O2)).toBe(true);
      await store.release('t-release-prev', 'nightly', O2, O1);
      expect(await store.lastFired('t-release-prev', 'nightly')).toBe(O1);
      expect(await store.claim('t-release-prev', 'nightly', O1)).toBe(false);
      expect(await store.claim('t-release-prev', 'nightly', O2)).toBe(true);
      expect(await store.lastFired('t-release-prev', 'nightly')).toBe(O2);
    });

    it('release of a first claim goes back to none', async () => {
      const store = timers();
      expect(await store.claim('t-release-none', 'nightly', O2)).toBe(true);
      await store.release('t-release-none', 'nightly', O2, undefined);
      expect(await store.lastFired('t-release-none', 'nightly')).toBeUndefined();
      expect(await raw(shared, keys.timerState('t-release-none', 'nightly'))).toBeUndefined();
      // Back to none: even an older occurrence fires now.
      expect(await store.claim('t-release-none', 'nightly', O1)).toBe(true);
    });

    it.each<[string, string | undefined]>([
      ['to none', undefined],
      ['to an older occurrence', O1],
    ])('release %s after a newer claim changes nothing', async (_label, previous) => {
      const store = timers();
      const task = `t-release-late-${previous === undefined ? 'none' : 'older'}`;
      expect(await store.claim(task, 'nightly', O2)).toBe(true);
      expect(await store.claim(task, 'nightly', O3)).toBe(true);
      await store.release(task, 'nightly', O2, previous);
      expect(await store.lastFired(task, 'nightly')).toBe(O3);
      expect(await store.claim(task, 'nightly', O3)).toBe(false);
    });

    it('release of a timer never claimed is harmless', async () => {
      const store = timers();
      await store.release('t-release-never', 'nightly', O1, undefined);
      await store.release('t-release-never', 'nightly', O2, O1);
      expect(await store.lastFired('t-release-never', 'nightly')).toBeUndefined();
      expect(await raw(shared, keys.timerState('t-release-never', 'nightly'))).toBeUndefined();
    });

    it('forget starts the timer afresh', async () => {
      const store = timers();
      expect(await store.claim('t-forget', 'nightly', O3)).toBe(true);
      expect(await store.claim('t-forget', 'weekly', O3)).toBe(true);
      await store.forget('t-forget', 'nightly');
      expect(await store.lastFired('t-forget', 'nightly')).toBeUndefined();
      expect(await store.lastFired('t-forget', 'weekly')).toBe(O3);
      expect(await store.claim('t-forget', 'nightly', O1)).toBe(true);
      expect(await store.lastFired('t-forget', 'nightly')).toBe(O1);
      await store.forget('t-forget-never', 'nightly'); // harmless
      expect(await store.lastFired('t-forget-never', 'nightly')).toBeUndefined();
    });
  });

  describe('DynamoDbPollStateStore', () => {
    const full: PollState = {
      ref: '127.0.0.1:5000/baseimages/node:9-alpine',
      digest: A,
      platforms: { 'linux/amd64': B, 'linux/arm64': C },
      polledAt: '2026-11-28T04:40:00.000Z',
      changedAt: '2026-11-28T04:30:00.000Z',
      failures: 2,
      notBefore: '2026-11-28T04:45:00.000Z',
      lastError: 'registry answered 503',
    };
    const bare: PollState = { ref: 'docker.io/library/alpine:3.20', platforms: {}, failures: 0 };

    it.each<[string, PollState]>([
      ['every field', full],
      ['no optional field', bare],
    ])('round-trips a state with %s exactly', async (_label, state) => {
      const table = await freshTable();
      const store = new DynamoDbPollStateStore({ client: table.client, tableName: table.tableName });
      await store.put(state);
      expect(await store.get(state.ref)).toEqual(state);
    });

    it('get of a ref never polled is undefined', async () => {
      const store = new DynamoDbPollStateStore({ client: shared.client, tableName: shared.tableName });
      expect(await store.get('127.0.0.1:5000/never/polled:1')).toBeUndefined();
    });

    it('a put replaces the whole state: fields left out are gone', async () => {
      const table = await freshTable();
      const store = new DynamoDbPollStateStore({ client: table.client, tableName: table.tableName });
      await store.put(full);
      await store.put({ ref: '127.0.0.1:5000/baseimages/node:9-alpine', digest: C, platforms: { 'linux/amd64': C }, polledAt: '2026-11-28T05:00:00.000Z', failures: 0 });
      expect(await store.get('127.0.0.1:5000/baseimages/node:9-alpine')).toEqual({
        ref: '127.0.0.1:5000/baseimages/node:9-alpine',
        digest: C,
        platforms: { 'linux/amd64': C },
        polledAt: '2026-11-28T05:00:00.000Z',
        failures: 0,
      });
    });

    it('lists every state, and not the hosts put off', async () => {
      const table = await freshTable();
      const store = new DynamoDbPollStateStore({ client: table.client, tableName: table.tableName });
      expect(await store.list()).toEqual([]);
      await store.put(full);
      await store.put(bare);
      await store.put({ ref: 'ghcr.io/example/tool:latest', digest: B, platforms: {}, failures: 5, lastError: 'HTTP 429' });
      await store.setHostNotBefore('ghcr.io', '2026-11-28T05:00:00.000Z', 'HTTP 429 Retry-After 600');
      const listed = await store.list();
      expect([...listed].sort((x, y) => (x.ref < y.ref ? -1 : 1))).toEqual([
        { ref: '127.0.0.1:5000/baseimages/node:9-alpine', digest: A, platforms: { 'linux/amd64': B, 'linux/arm64': C }, polledAt: '2026-11-28T04:40:00.000Z', changedAt: '2026-11-28T04:30:00.000Z', failures: 2, notBefore: '2026-11-28T04:45:00.000Z', lastError: 'registry answered 503' },
        { ref: 'docker.io/library/alpine:3.20', platforms: {}, failures: 0 },
        { ref: 'ghcr.io/example/tool:latest', digest: B, platforms: {}, failures: 5, lastError: 'HTTP 429' },
      ]);
    });

    it('sets and reads when a host may be asked again, host by host', async () => {
      const table = await freshTable();
      const store = new DynamoDbPollStateStore({ client: table.client, tableName: table.tableName });
      expect(await store.hostNotBefore('registry-1.docker.io')).toBeUndefined();
      await store.setHostNotBefore('registry-1.docker.io', '2026-11-28T05:00:00.000Z', 'HTTP 429');
      await store.setHostNotBefore('ghcr.io', '2026-11-28T04:50:00.000Z', 'HTTP 429 Retry-After 60');
      expect(await store.hostNotBefore('registry-1.docker.io')).toBe('2026-11-28T05:00:00.000Z');
      expect(await store.hostNotBefore('ghcr.io')).toBe('2026-11-28T04:50:00.000Z');
      // Set again: the newer answer replaces it.
      await store.setHostNotBefore('registry-1.docker.io', '2026-11-28T06:00:00.000Z', 'HTTP 429 again');
      expect(await store.hostNotBefore('registry-1.docker.io')).toBe('2026-11-28T06:00:00.000Z');
      expect(await raw(table, keys.pollHost('registry-1.docker.io'))).toMatchObject({ host: 'registry-1.docker.io', notBefore: '2026-11-28T06:00:00.000Z', reason: 'HTTP 429 again' });
      // A host is not a watched tag.
      expect(await store.get('registry-1.docker.io')).toBeUndefined();
      expect(await store.list()).toEqual([]);
    });
  });

  describe('DynamoDbRunStore history', () => {
    // Far from the real clock: DynamoDB's own TTL must not be what removes these items.
    let now = new Date('2090-06-01T12:00:00.000Z');
    const clock: Clock = { now: () => now };
    beforeEach(() => {
      now = new Date('2090-06-01T12:00:00.000Z');
    });
    const PAST = '2090-06-01T11:00:00.000Z'; // 3799998000
    const FUTURE = '2090-07-01T00:00:00.000Z'; // 3802550400

    async function freshStore() {
      const table = await freshTable();
      return { table, store: new DynamoDbRunStore({ client: table.client, tableName: table.tableName, clock }) };
    }

    const finish = (keepUntil: string) => ({ status: 'Succeeded' as const, finishedAt: '2090-06-01T10:05:00.000Z', durationMs: 300_000, keepUntil });

    it('a run transitioned with a keepUntil in the past is gone for get and list, its TTL set in epoch seconds', async () => {
      const { table, store } = await freshStore();
      await store.create(aRun('da1', 1));
      await store.create(aRun('da2', 2));
      await store.create(aRun('da3', 3));
      await store.transition('da1', ['Queued'], finish(PAST));
      await store.transition('da2', ['Queued'], finish(FUTURE));

      expect(await store.get('da1')).toBeUndefined();
      expect(await store.get('da2')).toEqual(aRun('da2', 2, finish(FUTURE)));
      expect((await store.list({ top: 10 })).map((r) => r.id)).toEqual(['da3', 'da2']);
      expect((await store.list({ taskName: 'helloworld', top: 10 })).map((r) => r.id)).toEqual(['da3', 'da2']);
      expect((await store.list({ status: 'Succeeded', top: 10 })).map((r) => r.id)).toEqual(['da2']);
      expect((await store.list({ top: 1 })).map((r) => r.id)).toEqual(['da3']);

      expect((await raw(table, keys.run('da1')))?.expiresAt).toBe(3799998000);
      expect((await raw(table, keys.run('da2')))?.expiresAt).toBe(3802550400);
      expect(await raw(table, keys.run('da3'))).not.toHaveProperty('expiresAt');
    });

    it('a run is kept until its time and gone once the clock passes it', async () => {
      const { store } = await freshStore();
      await store.create(aRun('da1', 1));
      await store.transition('da1', ['Queued'], finish(FUTURE));
      now = new Date('2090-06-30T23:59:59.000Z');
      expect((await store.get('da1'))?.id).toBe('da1');
      now = new Date('2090-07-01T00:00:01.000Z');
      expect(await store.get('da1')).toBeUndefined();
      expect(await store.list({ top: 10 })).toEqual([]);
    });

    it('a run created with a keepUntil carries the TTL attribute too', async () => {
      const { table, store } = await freshStore();
      await store.create(aRun('da1', 1, finish(FUTURE)));
      expect((await raw(table, keys.run('da1')))?.expiresAt).toBe(3802550400);
      expect(await store.get('da1')).toEqual(aRun('da1', 1, finish(FUTURE)));
    });

    it('deleteExpired removes exactly the expired runs and returns their ids', async () => {
      const { table, store } = await freshStore();
      await store.create(aRun('da1', 1));
      await store.create(aRun('da2', 2));
      await store.create(aRun('da3', 3));
      await store.create(aRun('da4', 4));
      await store.create(aRun('da5', 5, { taskName: undefined })); // a quick build
      await store.create(aRun('da6', 6, { taskName: 'other' }));
      await store.transition('da1', ['Queued'], finish(PAST));
      await store.transition('da2', ['Queued'], finish(FUTURE));
      await store.transition('da4', ['Queued'], finish(PAST));
      await store.transition('da5', ['Queued'], finish(PAST));

      expect([...(await store.deleteExpired())].sort()).toEqual(['da1', 'da4', 'da5']);
      for (const id of ['da1', 'da4', 'da5']) expect(await raw(table, keys.run(id))).toBeUndefined();
      for (const id of ['da2', 'da3', 'da6']) expect((await raw(table, keys.run(id)))?.id).toBe(id);
      expect((await store.list({ top: 10 })).map((r) => r.id)).toEqual(['da6', 'da3', 'da2']);
      expect(await store.deleteExpired()).toEqual([]);
    });

    it('deleteExpired with nothing expired removes nothing', async () => {
      const { store } = await freshStore();
      expect(await store.deleteExpired()).toEqual([]);
      await store.create(aRun('da1', 1));
      await store.transition('da1', ['Queued'], finish(FUTURE));
      expect(await store.deleteExpired()).toEqual([]);
      expect((await store.get('da1'))?.id).toBe('da1');
    });

    it('deleteMany removes the given runs only', async () => {
      const { table, store } = await freshStore();
      for (let i = 1; i <= 4; i++) await store.create(aRun(`da${i}`, i, { status: 'Succeeded' }));
      await store.deleteMany(['da1', 'da3', 'da99']);
      expect(await store.get('da1')).toBeUndefined();
      expect(await store.get('da3')).toBeUndefined();
      expect(await raw(table, keys.run('da1'))).toBeUndefined();
      expect(await raw(table, keys.run('da3'))).toBeUndefined();
      expect((await store.list({ top: 10 })).map((r) => r.id)).toEqual(['da4', 'da2']);
      await store.deleteMany([]);
      expect((await store.list({ top: 10 })).map((r) => r.id)).toEqual(['da4', 'da2']);
    });

    it('deleteMany removes more runs than fit one batch', async () => {
      const { store } = await freshStore();
      const ids = Array.from({ length: 30 }, (_, i) => `da${i + 1}`);
      await store.createMany(ids.map((id, i) => aRun(id, i + 1, { status: 'Succeeded' })));
      await store.deleteMany(ids.slice(0, 27));
      expect((await store.list({ top: 100 })).map((r) => r.id)).toEqual(['da30', 'da29', 'da28']);
    });
  });

  describe('DynamoDbImageStateStore.current', () => {
    const images = () => new DynamoDbImageStateStore({ client: shared.client, tableName: shared.tableName });
    const producer: ImageProducer = { digest: A, taskName: 'app-base', runId: 'da5', origin: { root: 'run:da5', via: [] } };

    it('is undefined for a tag never seen', async () => {
      expect(await images().current('127.0.0.1:5000', 'current/unknown', '1')).toBeUndefined();
    });

    it('is undefined for a tag with only its producer recorded, and set by the first push', async () => {
      const store = images();
      await store.recordProducer('127.0.0.1:5000', 'current/produced', '1', producer);
      expect(await store.current('127.0.0.1:5000', 'current/produced', '1')).toBeUndefined();
      expect(await store.producer('127.0.0.1:5000', 'current/produced', '1')).toEqual({ digest: A, taskName: 'app-base', runId: 'da5', origin: { root: 'run:da5', via: [] } });
      expect(await store.recordPush('127.0.0.1:5000', 'current/produced', '1', A, '2026-11-28T04:10:00.000Z')).toEqual({
        age: 'newer',
        producer: { digest: A, taskName: 'app-base', runId: 'da5', origin: { root: 'run:da5', via: [] } },
      });
      expect(await store.current('127.0.0.1:5000', 'current/produced', '1')).toEqual({ digest: A, occurredAt: '2026-11-28T04:10:00.000Z' });
    });

    it('is the newest digest and its time; an older push later does not change it', async () => {
      const store = images();
      const steps: Array<[string, string, 'newer' | 'same' | 'older', { digest: string; occurredAt: string }]> = [
        [A, '2026-11-28T04:10:00.000Z', 'newer', { digest: A, occurredAt: '2026-11-28T04:10:00.000Z' }],
        [B, '2026-11-28T04:20:00.000Z', 'newer', { digest: B, occurredAt: '2026-11-28T04:20:00.000Z' }],
        [C, '2026-11-28T04:15:00.000Z', 'older', { digest: B, occurredAt: '2026-11-28T04:20:00.000Z' }],
        [A, '2026-11-28T04:19:59.999Z', 'older', { digest: B, occurredAt: '2026-11-28T04:20:00.000Z' }],
        [B, '2026-11-28T04:30:00.000Z', 'same', { digest: B, occurredAt: '2026-11-28T04:30:00.000Z' }],
      ];
      const seen: unknown[] = [];
      for (const [digest, at] of steps) {
        const { age } = await store.recordPush('127.0.0.1:5000', 'current/newest', '9-alpine', digest, at);
        seen.push([age, await store.current('127.0.0.1:5000', 'current/newest', '9-alpine')]);
      }
      expect(seen).toEqual(steps.map(([, , age, current]) => [age, current]));
      // Another tag of the repository is another state.
      expect(await store.current('127.0.0.1:5000', 'current/newest', 'latest')).toBeUndefined();
    });

    it('a producer recorded after the pushes leaves the current digest alone', async () => {
      const store = images();
      await store.recordPush('127.0.0.1:5000', 'current/late-producer', '1', B, '2026-11-28T04:20:00.000Z');
      await store.recordProducer('127.0.0.1:5000', 'current/late-producer', '1', producer);
      expect(await store.current('127.0.0.1:5000', 'current/late-producer', '1')).toEqual({ digest: B, occurredAt: '2026-11-28T04:20:00.000Z' });
    });
  });
});
