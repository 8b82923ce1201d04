import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbDependencyStore } from '../../lib/adapters/dynamodb-dependency-store';
import { keys } from '../../lib/adapters/dynamodb-table';
import { ValidationError } from '../../lib/domain/errors';
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

const byTask = (a: Dependency, b: Dependency) => a.taskName.localeCompare(b.taskName);
const byBase = (a: Dependency, b: Dependency) => `${a.repository}:${a.tag}`.localeCompare(`${b.repository}:${b.tag}`);

describe('DynamoDbDependencyStore', () => {
  let table: TestTable;
  let store: DynamoDbDependencyStore;
  beforeAll(async () => {
    table = await withDynamoDb({ tablePrefix: 'deps' });
    store = new DynamoDbDependencyStore({ client: table.client, tableName: table.tableName });
  }, DYNAMODB_START_TIMEOUT_MS);
  afterAll(() => table?.stop());

  it('finds every task that depends on a base, and every base of a task', async () => {
    await store.replaceForTask('app-a', [edge('app-a', 'lt1/node'), edge('app-a', 'lt1/alpine', { stage: 'build-time' })]);
    await store.replaceForTask('app-b', [edge('app-b', 'lt1/node', { digest: digest('b'), pinned: true })]);

    expect((await store.listDependents(BASE_REGISTRY, 'lt1/node', '9-alpine')).sort(byTask)).toEqual([
      edge('app-a', 'lt1/node'),
      edge('app-b', 'lt1/node', { digest: digest('b'), pinned: true }),
    ]);
    expect(await store.listDependents(BASE_REGISTRY, 'lt1/node', 'other-tag')).toEqual([]);
    expect(await store.listDependents('other.example', 'lt1/node', '9-alpine')).toEqual([]);
    expect((await store.listForTask('app-a')).sort(byBase)).toEqual(
      [edge('app-a', 'lt1/alpine', { stage: 'build-time' }), edge('app-a', 'lt1/node')].sort(byBase),
    );
    expect(await store.listForTask('nobody')).toEqual([]);
  });

  it('pages through many dependents', async () => {
    const paged = new DynamoDbDependencyStore({ client: table.client, tableName: table.tableName, pageSize: 7 });
    const names = Array.from({ length: 150 }, (_, i) => `many-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < names.length; i += 15) {
      await Promise.all(names.slice(i, i + 15).map((name) => paged.replaceForTask(name, [edge(name, 'pg/base')])));
    }
    const dependents = await paged.listDependents(BASE_REGISTRY, 'pg/base', '9-alpine');
    expect(dependents.map((d) => d.taskName).sort()).toEqual(names);
  });

  it('replaces a task’s edges, keeping the trigger record of the ones that stay', async () => {
    await store.replaceForTask('rp', [edge('rp', 'rp/stays'), edge('rp', 'rp/goes')]);
    expect(await store.claimTrigger(edge('rp', 'rp/stays'), { digest: digest('c'), at: '2026-11-28T05:00:00.000Z' }, 'da7')).toBe(true);

    await store.replaceForTask('rp', [
      edge('rp', 'rp/stays', { digest: digest('d'), capturedByRun: 'da8', capturedAt: '2024-05-02T00:00:00.000Z' }),
      edge('rp', 'rp/new', { stage: 'build-time' }),
    ]);

    expect((await store.listForTask('rp')).sort(byBase)).toEqual(
      [
        edge('rp', 'rp/new', { stage: 'build-time' }),
        edge('rp', 'rp/stays', {
          digest: digest('d'),
          capturedByRun: 'da8',
          capturedAt: '2024-05-02T00:00:00.000Z',
          lastTriggeredDigest: digest('c'),
          lastTriggeredBy: 'da7',
        }),
      ].sort(byBase),
    );
    expect(await store.listDependents(BASE_REGISTRY, 'rp/goes', '9-alpine')).toEqual([]);
  });

  it('replaces with nothing, and with more edges than one transaction holds', async () => {
    const many = Array.from({ length: 130 }, (_, i) => edge('wide', `wide/base-${i}`));
    await store.replaceForTask('wide', many);
    expect(await store.listForTask('wide')).toHaveLength(130);
    await store.replaceForTask('wide', many.slice(0, 3));
    expect((await store.listForTask('wide')).sort(byBase)).toEqual(many.slice(0, 3).sort(byBase));
    await store.replaceForTask('wide', []);
    expect(await store.listForTask('wide')).toEqual([]);
  });

  it('keeps one edge per base, the use that triggers most', async () => {
    await store.replaceForTask('multi', [
      edge('multi', 'ms/node', { stage: 'build-time' }),
      edge('multi', 'ms/node', { stage: 'runtime', digest: digest('e') }),
      edge('multi', 'ms/node', { stage: 'runtime', pinned: true, digest: digest('f') }),
      edge('multi', 'ms/go', { stage: 'runtime', pinned: true, digest: digest('f') }),
      edge('multi', 'ms/go', { stage: 'build-time', digest: digest('1') }),
    ]);
    expect((await store.listForTask('multi')).sort(byBase)).toEqual([
      edge('multi', 'ms/go', { stage: 'build-time', digest: digest('1') }),
      edge('multi', 'ms/node', { stage: 'runtime', digest: digest('e') }),
    ]);
  });

  it('refuses edges that belong to another task', async () => {
    await expect(store.replaceForTask('mine', [edge('theirs', 'x/y')])).rejects.toThrow(ValidationError);
    expect(await store.listForTask('mine')).toEqual([]);
  });

  describe('claimTrigger', () => {
    const LATER = '2026-11-28T06:00:00.000Z';
    const push = (d: string, at = '2026-11-28T05:00:00.000Z') => ({ digest: d, at });

    it('lets exactly one of 20 concurrent claims for the same digest win', async () => {
      await store.replaceForTask('race', [edge('race', 'race/node')]);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.claimTrigger(edge('race', 'race/node'), push(digest('9')), `run-${i}`)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = `run-${results.indexOf(true)}`;
      const [stored] = await store.listForTask('race');
      expect(stored).toMatchObject({ lastTriggeredDigest: digest('9'), lastTriggeredBy: winner });
    });

    it.each([
      ['a redelivery of a digest already claimed', false, digest('2')],
      ['the digest the last build already used', false, digest('a')],
      ['a digest never seen', true, digest('3')],
    ])('for %s returns %s', async (_case, expected, claimed) => {
      const task = `claim-${claimed.slice(7, 10)}`;
      await store.replaceForTask(task, [edge(task, 'claim/node')]);
      expect(await store.claimTrigger(edge(task, 'claim/node'), push(digest('2')), 'first')).toBe(true);
      expect(await store.claimTrigger(edge(task, 'claim/node'), push(claimed, LATER), 'second')).toBe(expected);
    });

    it.each([
      ['an older push, claimed after a newer one', '2026-11-28T04:59:00.000Z', digest('5'), false],
      ['a push at the same time with a smaller digest', '2026-11-28T05:00:00.000Z', digest('1'), false],
      ['a push at the same time with a greater digest', '2026-11-28T05:00:00.000Z', digest('f'), true],
      ['a newer push', '2026-11-28T05:00:01.000Z', digest('5'), true],
    ])('after a claim of a push at 05:00, %s: %s', async (_case, at, claimed, expected) => {
      const task = `order-${at.slice(17, 19)}-${claimed.slice(7, 9)}`;
      await store.replaceForTask(task, [edge(task, 'order/node')]);
      expect(await store.claimTrigger(edge(task, 'order/node'), push(digest('3'), '2026-11-28T05:00:00.000Z'), 'first')).toBe(true);
      expect(await store.claimTrigger(edge(task, 'order/node'), push(claimed, at), 'second')).toBe(expected);
    });

    it('refuses an edge that does not exist, without creating it', async () => {
      const ghost = edge('ghost', 'ghost/node');
      expect(await store.claimTrigger(ghost, push(digest('4')), 'da1')).toBe(false);
      const raw = await table.client.send(
        new GetCommand({ TableName: table.tableName, Key: keys.dependency(BASE_REGISTRY, 'ghost/node', '9-alpine', 'ghost') }),
      );
      expect(raw.Item).toBeUndefined();
    });
  });

  it('deletes all of a task’s edges and no one else’s', async () => {
    await store.replaceForTask('del', Array.from({ length: 30 }, (_, i) => edge('del', `del/base-${i}`)));
    await store.replaceForTask('keep', [edge('keep', 'del/base-0')]);
    await store.deleteForTask('del');
    expect(await store.listForTask('del')).toEqual([]);
    expect(await store.listDependents(BASE_REGISTRY, 'del/base-0', '9-alpine')).toEqual([edge('keep', 'del/base-0')]);
    await store.deleteForTask('del'); // nothing left: harmless
  });
});
