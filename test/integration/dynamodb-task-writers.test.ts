// A task item has three writers: people (settings, put), builds (captured dependencies,
// recordCapture) and timers (setTimers). None undoes another's change made from an older read.
import { DynamoDbTaskStore } from '../../lib/adapters/dynamodb-task-store';
import { NotFoundError } from '../../lib/domain/errors';
import type { Task, TaskTimer } from '../../lib/domain/types';
import { DYNAMODB_START_TIMEOUT_MS, withDynamoDb, type TestTable } from '../support/dynamodb';

let table: TestTable;
let store: DynamoDbTaskStore;
beforeAll(async () => {
  table = await withDynamoDb({ tablePrefix: 'taskwriters' });
  store = new DynamoDbTaskStore({ client: table.client, tableName: table.tableName });
}, DYNAMODB_START_TIMEOUT_MS);
afterAll(() => table?.stop());

const nightly: TaskTimer = { name: 'nightly', schedule: '0 3 * * *', enabled: true, createdAt: '2026-12-01T00:00:00.000Z', updatedAt: '2026-12-01T00:00:00.000Z' };

function task(name: string): Task {
  return {
    name, registry: 'app.example.com', images: [`${name}:{{.Run.ID}}`], context: { kind: 'git', url: 'https://git.example.com/app.git', branch: 'main', folder: '.' },
    dockerfile: 'Dockerfile', buildArgs: { A: '1' }, platform: 'linux/amd64', status: 'Enabled', baseImageTrigger: { enabled: true, type: 'Runtime' },
    commitTrigger: { enabled: true }, credentials: [], history: { keepRuns: 50, logRetentionDays: 30 }, createdAt: '2026-12-01T00:00:00.000Z', updatedAt: '2026-12-01T00:00:00.000Z',
  };
}

it('keeps what a build and a timer wrote when settings are saved from a read made before them', async () => {
  await store.create(task('a'));
  const stale = (await store.get('a'))!;
  expect(await store.recordCapture('a', { capturedAt: '2026-12-01T01:00:00.000Z', bySequence: 3, upstream: ['base-app'] })).toBe(true);
  await store.setTimers('a', [nightly], '2026-12-01T01:00:01.000Z');
  await store.put({ ...stale, status: 'Disabled', buildArgs: {}, updatedAt: '2026-12-01T01:00:02.000Z' });
  expect(await store.get('a')).toEqual({
    ...task('a'),
    status: 'Disabled',
    buildArgs: {},
    updatedAt: '2026-12-01T01:00:02.000Z',
    dependenciesCapturedAt: '2026-12-01T01:00:00.000Z',
    dependenciesCapturedBySequence: 3,
    upstream: ['base-app'],
    timers: [nightly],
  });
});

it('removes settings the task no longer has, and the git index with a git context', async () => {
  await store.create(task('b'));
  const { history: _history, ...rest } = (await store.get('b'))!;
  await store.put({ ...rest, context: { kind: 'local', path: '/src/b' } });
  expect((await store.get('b'))?.history).toBeUndefined();
  expect(await store.listByGitContext('https://git.example.com/app.git', 'main')).not.toContainEqual(expect.objectContaining({ name: 'b' }));
});

it('lets only a newer run record its capture, and drops upstream when there is none', async () => {
  await store.create(task('c'));
  expect(await store.recordCapture('c', { capturedAt: '2026-12-01T02:00:00.000Z', bySequence: 7, upstream: ['x'] })).toBe(true);
  expect(await store.recordCapture('c', { capturedAt: '2026-12-01T02:00:01.000Z', bySequence: 5, upstream: [] })).toBe(false);
  expect(await store.recordCapture('c', { capturedAt: '2026-12-01T02:00:02.000Z', bySequence: 8, upstream: [] })).toBe(true);
  const stored = (await store.get('c'))!;
  expect([stored.dependenciesCapturedAt, stored.dependenciesCapturedBySequence, stored.upstream]).toEqual(['2026-12-01T02:00:02.000Z', 8, undefined]);
  expect(await store.recordCapture('gone', { capturedAt: '2026-12-01T02:00:00.000Z', bySequence: 1, upstream: [] })).toBe(false);
  expect(await store.get('gone')).toBeUndefined();
});

it('sets and clears timers alone, and refuses a task that does not exist', async () => {
  await store.create(task('d'));
  await store.setTimers('d', [nightly], '2026-12-01T03:00:00.000Z');
  expect((await store.get('d'))?.timers).toEqual([nightly]);
  await store.setTimers('d', [], '2026-12-01T03:00:01.000Z');
  expect(await store.get('d')).toEqual({ ...task('d'), updatedAt: '2026-12-01T03:00:01.000Z' });
  await expect(store.setTimers('nobody', [nightly], '2026-12-01T03:00:00.000Z')).rejects.toThrow(NotFoundError);
});
