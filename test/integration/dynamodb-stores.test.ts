import { DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbDeliveryStore } from '../../lib/adapters/dynamodb-delivery-store';
import { DynamoDbImageStateStore } from '../../lib/adapters/dynamodb-image-state-store';
import { createDynamoDbStores } from '../../lib/adapters/dynamodb-stores';
import { keys } from '../../lib/adapters/dynamodb-table';
import { DynamoDbTaskStore } from '../../lib/adapters/dynamodb-task-store';
import { DynamoDbWebhookStore } from '../../lib/adapters/dynamodb-webhook-store';
import { ConflictError, ValidationError } from '../../lib/domain/errors';
import type { Clock } from '../../lib/domain/ports';
import type { Task, Webhook } from '../../lib/domain/types';
import { DYNAMODB_START_TIMEOUT_MS, withDynamoDb, type TestTable } from '../support/dynamodb';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const t = (minute: number) => `2024-05-01T10:${String(minute).padStart(2, '0')}:00.000Z`;

function aTask(name: string, overrides: Partial<Task> = {}): Task {
  return {
    name,
    registry: '127.0.0.1:5001',
    images: ['helloworld:{{.Run.ID}}', 'helloworld:latest'],
    context: { kind: 'git', url: 'https://github.com/Example/App.git', branch: 'main', folder: '.' },
    dockerfile: 'Dockerfile-app',
    buildArgs: { REGISTRY_NAME: '127.0.0.1:5000' },
    platform: 'linux/amd64',
    status: 'Enabled',
    baseImageTrigger: { enabled: true, type: 'Runtime' },
    commitTrigger: { enabled: true },
    credentials: [
      { kind: 'basic', loginServer: '127.0.0.1:5000', username: 'puller', secretRef: 'secrets/base' },
      { kind: 'identity', loginServer: '123.dkr.ecr.eu-west-1.amazonaws.com', roleArn: 'arn:aws:iam::123:role/pull' },
    ],
    createdAt: '2024-05-01T10:00:00.000Z',
    updatedAt: '2024-05-01T10:00:00.000Z',
    ...overrides,
  };
}

describe('DynamoDB stores', () => {
  let shared: TestTable;
  const fresh: TestTable[] = [];
  beforeAll(async () => {
    shared = await withDynamoDb({ tablePrefix: 'stores' });
  }, DYNAMODB_START_TIMEOUT_MS);
  afterEach(async () => {
    for (const table of fresh.splice(0)) await table.stop();
  });
  afterAll(() => shared?.stop());

  async function freshTable(): Promise<TestTable> {
    const table = await withDynamoDb({ tablePrefix: 'stores' });
    fresh.push(table);
    return table;
  }

  describe('DynamoDbTaskStore', () => {
    const tasks = () => new DynamoDbTaskStore({ client: shared.client, tableName: shared.tableName });

    it.each([
      ['every optional field', aTask('t-full', { dependenciesCapturedAt: '2024-05-01T11:00:00.000Z', buildArgs: { A: '', B: 'x y' } })],
      ['no optional fields, empty maps and lists', aTask('t-bare', { buildArgs: {}, credentials: [], images: ['x:1'] })],
      ['a local context', aTask('t-local', { context: { kind: 'local', path: '/srv/app' } })],
    ])('round-trips a task with %s exactly', async (_case, task) => {
      await tasks().create(task);
      expect(await tasks().get(task.name)).toEqual(task);
    });

    it('refuses to create a task whose name is taken, leaving the first one alone', async () => {
      await tasks().create(aTask('t-dup'));
      await expect(tasks().create(aTask('t-dup', { dockerfile: 'Other' }))).rejects.toThrow(ConflictError);
      expect((await tasks().get('t-dup'))?.dockerfile).toBe('Dockerfile-app');
    });

    it('puts (creating or replacing) and deletes', async () => {
      await tasks().put(aTask('t-put'));
      await tasks().put(aTask('t-put', { status: 'Disabled', updatedAt: '2024-05-02T00:00:00.000Z' }));
      expect(await tasks().get('t-put')).toEqual(aTask('t-put', { status: 'Disabled', updatedAt: '2024-05-02T00:00:00.000Z' }));
      await tasks().delete('t-put');
      expect(await tasks().get('t-put')).toBeUndefined();
      await tasks().delete('t-put'); // already gone: harmless
    });

    it('lists every task by name', async () => {
      const table = await freshTable();
      const store = new DynamoDbTaskStore({ client: table.client, tableName: table.tableName });
      expect(await store.list()).toEqual([]);
      for (const name of ['b', 'c', 'a']) await store.create(aTask(name));
      expect((await store.list()).map((t) => t.name)).toEqual(['a', 'b', 'c']);
      expect((await store.list())[0]).toEqual(aTask('a'));
    });

    it('finds tasks by git repository and branch, however the URL was spelled', async () => {
      const table = await freshTable();
      const store = new DynamoDbTaskStore({ client: table.client, tableName: table.tableName });
      await store.create(aTask('g-https'));
      await store.create(aTask('g-ssh', { context: { kind: 'git', url: 'git@github.com:example/app', branch: 'main', folder: 'sub' } }));
      await store.create(aTask('g-dev', { context: { kind: 'git', url: 'https://github.com/example/app', branch: 'dev', folder: '.' } }));
      await store.create(aTask('g-other', { context: { kind: 'git', url: 'https://github.com/example/other', branch: 'main', folder: '.' } }));
      await store.create(aTask('g-local', { context: { kind: 'local', path: '/srv/app' } }));

      const names = async (url: string, branch: string) => (await store.listByGitContext(url, branch)).map((t) => t.name).sort();
      expect(await names('github.com/example/app', 'main')).toEqual(['g-https', 'g-ssh']);
      expect(await names('https://GitHub.com/example/app.git', 'main')).toEqual(['g-https', 'g-ssh']);
      expect(await names('github.com/example/app', 'dev')).toEqual(['g-dev']);
      expect(await names('github.com/example/app', 'release')).toEqual([]);

      // A task whose context stops being this repository stops being found under it.
      await store.put(aTask('g-https', { context: { kind: 'local', path: '/srv/app' } }));
      await store.put(aTask('g-ssh', { context: { kind: 'git', url: 'https://github.com/example/app', branch: 'dev', folder: '.' } }));
      expect(await names('github.com/example/app', 'main')).toEqual([]);
      expect(await names('github.com/example/app', 'dev')).toEqual(['g-dev', 'g-ssh']);
    });

    it('uses the normalizer it is given', async () => {
      const table = await freshTable();
      const store = new DynamoDbTaskStore({
        client: table.client,
        tableName: table.tableName,
        normalizeGitUrl: (url) => url.replace(/^https:\/\/mirror\./, 'https://'),
      });
      await store.create(aTask('n1', { context: { kind: 'git', url: 'https://mirror.example/app', branch: 'main', folder: '.' } }));
      expect((await store.listByGitContext('https://example/app', 'main')).map((t) => t.name)).toEqual(['n1']);
    });
  });

  describe('DynamoDbWebhookStore', () => {
    const hook = (name: string, overrides: Partial<Webhook> = {}): Webhook => ({
      name,
      provider: 'distribution',
      secrets: ['s3cr3t-one', 's3cr3t-two'],
      loginServer: '127.0.0.1:5000',
      createdAt: '2024-05-01T10:00:00.000Z',
      ...overrides,
    });

    it('creates, gets, lists, refuses duplicates and deletes', async () => {
      const table = await freshTable();
      const store = new DynamoDbWebhookStore({ client: table.client, tableName: table.tableName });
      await store.create(hook('w-b'));
      await store.create(hook('w-a', { provider: 'github', loginServer: undefined, secrets: ['only'] }));
      await expect(store.create(hook('w-b', { secrets: ['replaced'] }))).rejects.toThrow(ConflictError);

      expect(await store.get('w-b')).toEqual(hook('w-b'));
      expect(await store.get('w-a')).toEqual({ name: 'w-a', provider: 'github', secrets: ['only'], createdAt: '2024-05-01T10:00:00.000Z' });
      expect((await store.list()).map((w) => w.name)).toEqual(['w-a', 'w-b']);

      await store.delete('w-b');
      expect(await store.get('w-b')).toBeUndefined();
      expect((await store.list()).map((w) => w.name)).toEqual(['w-a']);
    });
  });

  describe('DynamoDbDeliveryStore', () => {
    let now = new Date('2024-05-01T10:00:00.000Z');
    const clock: Clock = { now: () => now };
    const deliveries = () => new DynamoDbDeliveryStore({ client: shared.client, tableName: shared.tableName, clock });
    beforeEach(() => {
      now = new Date('2024-05-01T10:00:00.000Z');
    });

    it('says true to the first sighting of a key only, concurrent ones included', async () => {
      const results = await Promise.all(Array.from({ length: 10 }, () => deliveries().markSeen('d-concurrent', 3600)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await deliveries().markSeen('d-concurrent', 3600)).toBe(false);
      expect(await deliveries().markSeen('d-another', 3600)).toBe(true);
    });

    it('sets the TTL attribute the table expires records by', async () => {
      await deliveries().markSeen('d-ttl', 600);
      const raw = await shared.client.send(new GetCommand({ TableName: shared.tableName, Key: keys.delivery('d-ttl') }));
      expect(raw.Item?.expiresAt).toBe(Math.floor(now.getTime() / 1000) + 600);
      const ttl = await shared.client.send(new DescribeTimeToLiveCommand({ TableName: shared.tableName }));
      expect(ttl.TimeToLiveDescription?.AttributeName).toBe('expiresAt');
    });

    it('treats an expired record that TTL has not yet removed as unseen', async () => {
      expect(await deliveries().markSeen('d-expiring', 60)).toBe(true);
      now = new Date(now.getTime() + 59_000);
      expect(await deliveries().markSeen('d-expiring', 60)).toBe(false);
      now = new Date(now.getTime() + 2_000);
      expect(await deliveries().markSeen('d-expiring', 60)).toBe(true);
      expect(await deliveries().markSeen('d-expiring', 60)).toBe(false);
    });

    it('forgets a key so that the provider’s retry gets through', async () => {
      expect(await deliveries().markSeen('d-forget', 3600)).toBe(true);
      await deliveries().forget('d-forget');
      expect(await deliveries().markSeen('d-forget', 3600)).toBe(true);
      await deliveries().forget('never-seen'); // harmless
    });
  });

  describe('DynamoDbImageStateStore', () => {

    // Each row: [what happens, digest, occurredAt, expected]; rows run in order on one tag.
    type Step = [string, string, string, 'newer' | 'same' | 'older'];
    it.each<[string, Step[]]>([
      [
        'first sighting, redelivery, late older event, a real update',
        [
          ['first event for the tag', A, t(10), 'newer'],
          ['the same event again', A, t(10), 'same'],
          ['an older event with another digest', B, t(5), 'older'],
          ['an older event with the stored digest', A, t(5), 'same'],
          ['a newer push of another digest', B, t(20), 'newer'],
        ],
      ],
      [
        'the tag moves away and back; a late event from in between loses',
        [
          ['A pushed', A, t(10), 'newer'],
          ['B pushed', B, t(20), 'newer'],
          ['A pushed again', A, t(30), 'newer'],
          ['B’s event delivered late', B, t(25), 'older'],
        ],
      ],
      [
        'the same digest pushed again still moves time forward',
        [
          ['A pushed', A, t(10), 'newer'],
          ['A pushed again', A, t(30), 'same'],
          ['B from before that, delivered late', B, t(20), 'older'],
        ],
      ],
      [
        'equal times: the greater digest wins, in either order of arrival',
        [
          ['B first', B, t(10), 'newer'],
          ['A at the same time', A, t(10), 'older'],
          ['B again', B, t(10), 'same'],
        ],
      ],
      [
        'equal times, the lesser digest first',
        [
          ['A first', A, t(10), 'newer'],
          ['B at the same time', B, t(10), 'newer'],
          ['A again', A, t(10), 'older'],
        ],
      ],
      [
        'times are compared as instants, not as text',
        [
          ['10:00Z written with an offset', A, '2024-05-01T12:00:00+02:00', 'newer'],
          ['09:59:59.5Z written in UTC', B, '2024-05-01T09:59:59.500Z', 'older'],
          ['10:00:00.001Z', B, '2024-05-01T10:00:00.001Z', 'newer'],
        ],
      ],
    ])('%s', async (scenario, steps) => {
      const store = new DynamoDbImageStateStore({ client: shared.client, tableName: shared.tableName });
      const repository = `state/${scenario.replace(/[^a-z]+/g, '-')}`;
      const outcomes: string[] = [];
      for (const [, digest, occurredAt] of steps) {
        outcomes.push(await store.recordIfNewer('127.0.0.1:5000', repository, '9-alpine', digest, occurredAt));
      }
      expect(steps.map(([what, , , expected]) => [what, expected])).toEqual(steps.map(([what], i) => [what, outcomes[i]]));
    });

    it('keeps tags apart', async () => {
      const store = new DynamoDbImageStateStore({ client: shared.client, tableName: shared.tableName });
      expect(await store.recordIfNewer('r.example', 'apart', 'one', A, t(30))).toBe('newer');
      expect(await store.recordIfNewer('r.example', 'apart', 'two', B, t(10))).toBe('newer');
      expect(await store.recordIfNewer('s.example', 'apart', 'one', B, t(10))).toBe('newer');
    });

    it('refuses a time it cannot read', async () => {
      const store = new DynamoDbImageStateStore({ client: shared.client, tableName: shared.tableName });
      await expect(store.recordIfNewer('r.example', 'bad', 'x', A, 'yesterday')).rejects.toThrow(ValidationError);
    });
  });

  it('createDynamoDbStores wires every store to one table', async () => {
    const table = await freshTable();
    const stores = createDynamoDbStores({ client: table.client, tableName: table.tableName, runIdPrefix: 'zz' });
    await stores.tasks.create(aTask('wired'));
    expect((await stores.tasks.list()).map((t) => t.name)).toEqual(['wired']);
    expect(await stores.runs.nextId()).toEqual({ id: 'zz1', sequence: 1 });
    await stores.dependencies.replaceForTask('wired', [
      {
        taskName: 'wired',
        registry: 'r.example',
        repository: 'base',
        tag: '1',
        digest: A,
        stage: 'runtime',
        pinned: false,
        capturedAt: t(0),
        capturedByRun: 'zz1',
      },
    ]);
    expect(await stores.dependencies.listDependents('r.example', 'base', '1')).toHaveLength(1);
    expect(await stores.imageStates.recordIfNewer('r.example', 'base', '1', A, t(1))).toBe('newer');
    await stores.webhooks.create({ name: 'h', provider: 'distribution', secrets: ['x'], createdAt: t(0) });
    expect(await stores.webhooks.get('h')).toBeDefined();
    expect(await stores.deliveries.markSeen('k', 60)).toBe(true);
    expect(await stores.deliveries.markSeen('k', 60)).toBe(false);
  });
});
