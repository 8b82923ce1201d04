import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbRunStore } from '../../lib/adapters/dynamodb-run-store';
import { keys } from '../../lib/adapters/dynamodb-table';
import { ConflictError, NotFoundError, ValidationError } from '../../lib/domain/errors';
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
  async function freshStore(options: { pageSize?: number; runIdPrefix?: string } = {}) {
    const table = await withDynamoDb({ tablePrefix: 'runs' });
    fresh.push(table);
    return { table, store: new DynamoDbRunStore({ client: table.client, tableName: table.tableName, ...options }) };
  }

  it('hands out ids in order from an atomic counter, with the prefix', async () => {
    const { store } = await freshStore();
    expect(await store.nextId()).toEqual({ id: 'da1', sequence: 1 });
    expect(await store.nextId()).toEqual({ id: 'da2', sequence: 2 });
    const { store: other } = await freshStore({ runIdPrefix: 'cb' });
    expect(await other.nextId()).toEqual({ id: 'cb1', sequence: 1 });
  });

  it('never hands out the same id twice under concurrency', async () => {
    const { store } = await freshStore();
    const ids = await Promise.all(Array.from({ length: 30 }, () => store.nextId()));
    expect(new Set(ids.map((i) => i.id)).size).toBe(30);
    expect(ids.map((i) => i.sequence).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('round-trips a run exactly, and refuses a second create of the same id', async () => {
    const store = new DynamoDbRunStore({ client: shared.client, tableName: shared.tableName });
    const run = aRun('rt1', 901, {
      cause: {
        kind: 'image-update',
        base: '127.0.0.1:5000/baseimages/node:9-alpine',
        newDigest: 'sha256:' + 'b'.repeat(64),
        source: 'distribution',
        deliveryId: 'd-1',
      },
      trigger: 'Image Update',
      commit: undefined,
    });
    await store.create(run);
    const { commit: _omitted, ...expected } = run;
    expect(await store.get('rt1')).toEqual(expected);
    await expect(store.create(run)).rejects.toThrow(ConflictError);
    expect(await store.get('missing')).toBeUndefined();
  });

  it('drops undefined fields at any depth, whatever the client’s marshall options', async () => {
    // A plain document client refuses nested undefined values unless the store removes them.
    const plain = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: shared.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
    );
    const store = new DynamoDbRunStore({ client: plain, tableName: shared.tableName });
    const base = aRun('un1', 921);
    try {
      await store.create({ ...base, cause: { kind: 'manual', requestedBy: undefined }, spec: { ...base.spec, commit: undefined } });
      const moved = await store.transition('un1', ['Queued'], {
        status: 'Failed',
        cause: { kind: 'manual', requestedBy: undefined },
        error: 'no space left',
      });
      expect(moved.cause).toEqual({ kind: 'manual' });
      expect(moved.spec).toEqual(base.spec);
    } finally {
      plain.destroy();
    }
  });

  it('stores a quick build (no task) and finds it in the installation-wide listing only', async () => {
    const { store } = await freshStore();
    const quick = aRun('q1', 1, { taskName: undefined });
    await store.create(quick);
    expect((await store.list({ top: 5 })).map((r) => r.id)).toEqual(['q1']);
    expect(await store.list({ top: 5, taskName: 'helloworld' })).toEqual([]);
    expect((await store.get('q1'))?.taskName).toBeUndefined();
  });

  describe('transition', () => {
    it('moves a run forward and returns it as stored', async () => {
      const store = new DynamoDbRunStore({ client: shared.client, tableName: shared.tableName });
      await store.create(aRun('tr1', 911));
      const running = await store.transition('tr1', ['Queued'], {
        status: 'Running',
        startedAt: '2024-05-01T10:00:05.000Z',
        buildId: 'build-1',
      });
      expect(running).toEqual({ ...aRun('tr1', 911), status: 'Running', startedAt: '2024-05-01T10:00:05.000Z', buildId: 'build-1' });
      const done = await store.transition('tr1', ['Running'], {
        status: 'Succeeded',
        finishedAt: '2024-05-01T10:01:05.000Z',
        durationMs: 60000,
        outputImages: [{ reference: '127.0.0.1:5001/helloworld:tr1', digest: 'sha256:' + 'c'.repeat(64) }],
      });
      expect(done.status).toBe('Succeeded');
      expect(done.durationMs).toBe(60000);
      expect(await store.get('tr1')).toEqual(done);
    });

    it('refuses to move a run that is not in one of the expected states', async () => {
      const store = new DynamoDbRunStore({ client: shared.client, tableName: shared.tableName });
      await store.create(aRun('tr2', 912, { status: 'Succeeded' }));
      const late = store.transition('tr2', ['Queued', 'Running'], { status: 'Failed', error: 'late report' });
      await expect(late).rejects.toThrow(ConflictError);
      await expect(late).rejects.toThrow(/Succeeded/);
      expect((await store.get('tr2'))?.status).toBe('Succeeded');
      expect((await store.get('tr2'))?.error).toBeUndefined();
    });

    it('lets exactly one of many concurrent identical transitions win', async () => {
      const store = new DynamoDbRunStore({ client: shared.client, tableName: shared.tableName });
      await store.create(aRun('tr3', 913, { status: 'Running' }));
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => store.transition('tr3', ['Running'], { status: 'Succeeded', buildId: `b${i}` })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConflictError);
    });

    it('says NotFound for a run that does not exist, and creates nothing', async () => {
      const store = new DynamoDbRunStore({ client: shared.client, tableName: shared.tableName });
      await expect(store.transition('ghost', ['Queued'], { status: 'Running' })).rejects.toThrow(NotFoundError);
      const raw = await shared.client.send(new GetCommand({ TableName: shared.tableName, Key: keys.run('ghost') }));
      expect(raw.Item).toBeUndefined();
    });

    it('accepts a whole run as changes but refuses to move it to another task or sequence', async () => {
      const store = new DynamoDbRunStore({ client: shared.client, tableName: shared.tableName });
      const run = aRun('tr4', 914);
      await store.create(run);
      const moved = await store.transition('tr4', ['Queued'], { ...run, status: 'Running' });
      expect(moved).toEqual({ ...run, status: 'Running' });
      await expect(store.transition('tr4', ['Running'], { status: 'Failed', taskName: 'other' })).rejects.toThrow(ValidationError);
      await expect(store.transition('tr4', ['Running'], { status: 'Failed', sequence: 1 })).rejects.toThrow(ValidationError);
      expect((await store.get('tr4'))?.status).toBe('Running');
    });

    it('refuses an empty list of starting states', async () => {
      const store = new DynamoDbRunStore({ client: shared.client, tableName: shared.tableName });
      await store.create(aRun('tr5', 915));
      await expect(store.transition('tr5', [], { status: 'Running' })).rejects.toThrow(ConflictError);
    });
  });

  describe('list', () => {
    const statuses: RunStatus[] = ['Succeeded', 'Failed', 'Succeeded', 'Running', 'Succeeded', 'Failed', 'Queued', 'Succeeded', 'Failed', 'Succeeded', 'Failed', 'Succeeded'];

    async function seeded(pageSize?: number) {
      const { store } = await freshStore({ pageSize });
      // Created out of order: the listing must order by sequence, not by write time.
      const order = [3, 0, 11, 7, 1, 5, 9, 2, 10, 4, 6, 8];
      for (const i of order) {
        await store.create(aRun(`da${i + 1}`, i + 1, { status: statuses[i]!, taskName: i % 3 === 0 ? 'other' : 'helloworld' }));
      }
      return store;
    }

    it.each([undefined, 2])('lists newest first, at most top (page size %s)', async (pageSize) => {
      const store = await seeded(pageSize);
      expect((await store.list({ top: 5 })).map((r) => r.id)).toEqual(['da12', 'da11', 'da10', 'da9', 'da8']);
      expect((await store.list({ top: 100 })).map((r) => r.sequence)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      expect(await store.list({ top: 0 })).toEqual([]);
    });

    it.each([undefined, 1, 2, 5])('filters by status across pages until top is found (page size %s)', async (pageSize) => {
      const store = await seeded(pageSize);
      expect((await store.list({ top: 3, status: 'Failed' })).map((r) => r.id)).toEqual(['da11', 'da9', 'da6']);
      expect((await store.list({ top: 10, status: 'Failed' })).map((r) => r.id)).toEqual(['da11', 'da9', 'da6', 'da2']);
      expect((await store.list({ top: 10, status: 'Canceled' })).map((r) => r.id)).toEqual([]);
    });

    it.each([undefined, 2])('lists one task’s runs, with a status filter too (page size %s)', async (pageSize) => {
      const store = await seeded(pageSize);
      // 'other' has sequences 1, 4, 7, 10.
      expect((await store.list({ top: 10, taskName: 'other' })).map((r) => r.id)).toEqual(['da10', 'da7', 'da4', 'da1']);
      expect((await store.list({ top: 2, taskName: 'helloworld' })).map((r) => r.id)).toEqual(['da12', 'da11']);
      expect((await store.list({ top: 10, taskName: 'other', status: 'Succeeded' })).map((r) => r.id)).toEqual(['da10', 'da1']);
      expect(await store.list({ top: 10, taskName: 'nobody' })).toEqual([]);
    });
  });

  it('lists unfinished runs oldest first and forgets them once they finish', async () => {
    const { store } = await freshStore();
    await store.create(aRun('u3', 3, { status: 'Running' }));
    await store.create(aRun('u1', 1, { status: 'Queued' }));
    await store.create(aRun('u2', 2, { status: 'Succeeded' }));
    await store.create(aRun('u4', 4, { status: 'Queued' }));
    expect((await store.listUnfinished()).map((r) => r.id)).toEqual(['u1', 'u3', 'u4']);

    await store.transition('u1', ['Queued'], { status: 'Running' });
    expect((await store.listUnfinished()).map((r) => [r.id, r.status])).toEqual([
      ['u1', 'Running'],
      ['u3', 'Running'],
      ['u4', 'Queued'],
    ]);
    await store.transition('u3', ['Running'], { status: 'Timeout' });
    await store.transition('u4', ['Queued'], { status: 'Canceled' });
    expect((await store.listUnfinished()).map((r) => r.id)).toEqual(['u1']);
    // The index keys are bookkeeping: they never leak into the run.
    expect(Object.keys((await store.listUnfinished())[0]!).some((k) => /^GSI|^PK$|^SK$/.test(k))).toBe(false);
  });
});
