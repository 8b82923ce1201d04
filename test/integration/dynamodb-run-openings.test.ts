// What is DynamoDB's own in run openings, gates and a tag's pushers: the items they write, and a
// cancelled transaction read right, its reasons matched to the writes they are about. Their
// behaviour, shared with the memory stores, is in test/support/store-contract.ts.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoDbStores, type DynamoDbStores } from '../../lib/adapters/dynamodb-stores';
import { keys } from '../../lib/adapters/dynamodb-table';
import type { RunOpening } from '../../lib/domain/ports';
import type { Dependency, Run } from '../../lib/domain/types';
import { ManualClock } from '../support/memory-ports';
import { DYNAMODB_START_TIMEOUT_MS, withDynamoDb, type TestTable } from '../support/dynamodb';

const REGISTRY = '127.0.0.1:5000';
const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const AT = '2090-06-01T12:00:00.000Z';
const ROOT = `image:${REGISTRY}/base/node:9-alpine@${B}`;
const WEEK = 7 * 24 * 3600;

function taskRun(id: string, sequence: number, taskName: string): Run {
  return {
    id,
    sequence,
    taskName,
    platform: 'linux/amd64',
    status: 'Queued',
    trigger: 'Image Update',
    cause: { kind: 'manual' },
    spec: { registry: REGISTRY, images: [`${taskName}:latest`], context: { kind: 'local', path: '/src' }, dockerfile: 'Dockerfile', buildArgs: {}, platform: 'linux/amd64', credentials: [] },
    createdAt: AT,
    outputImages: [],
    baseImages: [],
    origin: { root: ROOT, via: [] },
  };
}

function edge(taskName: string): Dependency {
  return { taskName, registry: REGISTRY, repository: 'base/node', tag: '9-alpine', digest: A, stage: 'runtime', pinned: false, capturedAt: AT, capturedByRun: 'da0' };
}

/** An Image Update run of `taskName` for ROOT: its claim, its mark, its gate, its tag, its building place. */
function opening(id: string, sequence: number, taskName: string): RunOpening {
  return {
    run: taskRun(id, sequence, taskName),
    claim: { dep: edge(taskName), digest: B, at: AT, claimedBy: 'd-1' },
    once: { key: `origin#${ROOT}#${taskName}`, ttlSeconds: 3600 },
    pushes: [`${REGISTRY}/${taskName}:latest`],
    build: true,
  };
}

describe('DynamoDB run openings', () => {
  let anchor: TestTable;
  let table: TestTable;
  let stores: DynamoDbStores;
  let clock: ManualClock;
  const now = Math.floor(Date.parse(AT) / 1000);
  beforeAll(async () => {
    anchor = await withDynamoDb({ tablePrefix: 'openings' });
  }, DYNAMODB_START_TIMEOUT_MS);
  afterAll(() => anchor?.stop());
  beforeEach(async () => {
    table = await withDynamoDb({ tablePrefix: 'openings' });
    clock = new ManualClock(AT);
    stores = createDynamoDbStores({ client: table.client, tableName: table.tableName, clock });
  });
  afterEach(() => table.stop());
  const item = async (Key: { PK: string; SK: string }) => (await table.client.send(new GetCommand({ TableName: table.tableName, Key, ConsistentRead: true }))).Item;

  it('reads a cancelled transaction right: a claim made while the transaction was on its way loses its opening only', async () => {
    for (const task of ['t1', 't2', 't3']) await stores.dependencies.replaceForTask(task, [edge(task)]);
    let transactions = 0;
    let claimed: boolean | undefined;
    // Just before the first transaction goes, another delivery of the digest claims t2's edge.
    table.client.middlewareStack.add(
      (next) => async (args) => {
        if ('TransactItems' in (args.input as object) && (transactions += 1) === 1) {
          claimed = await stores.dependencies.claimTrigger(edge('t2'), { digest: B, at: AT }, 'd-other');
        }
        return next(args);
      },
      { step: 'initialize', name: 'claimWhileOpening' },
    );
    let outcomes;
    try {
      outcomes = await stores.openings.open([opening('da1', 1, 't1'), opening('da2', 2, 't2'), opening('da3', 3, 't3')]);
    } finally {
      table.client.middlewareStack.remove('claimWhileOpening');
    }
    expect(claimed).toBe(true);
    // Cancelled once (t2's claim, the eighth of 18 writes), then sent again without t2.
    expect(transactions).toBe(2);
    expect(outcomes).toEqual([
      { opened: true, building: true },
      { opened: false, lost: 'claim' },
      { opened: true, building: true },
    ]);
    expect((await stores.runs.listUnfinished()).map((run) => run.id)).toEqual(['da1', 'da3']);
    expect((await stores.dependencies.listForTask('t2'))[0]?.lastTriggeredBy).toBe('d-other');
    expect(await item(keys.delivery(`origin#${ROOT}#t2`))).toBeUndefined();
    expect(await item(keys.gate(ROOT, 't2'))).toBeUndefined();
    expect(await item(keys.buildSlots('t2'))).toBeUndefined();
    expect(await stores.imageStates.pushers(REGISTRY, 't2', 'latest')).toEqual({ pushing: [] });
  });

  it('writes the items of an opening: the run on its shard of the unfinished, the gate, the pusher, the mark and the place', async () => {
    await stores.dependencies.replaceForTask('t1', [edge('t1')]);
    await stores.openings.open([opening('da13', 13, 't1')]);
    expect(await item(keys.run('da13'))).toMatchObject({ GSI3PK: 'UNFINISHED#5', GSI3SK: '000000000013' });
    expect(await item(keys.gate(ROOT, 't1'))).toEqual({ ...keys.gate(ROOT, 't1'), runs: new Set(['da13']), held: {}, expiresAt: now + WEEK });
    expect(await item(keys.imageState(REGISTRY, 't1', 'latest'))).toEqual({ ...keys.imageState(REGISTRY, 't1', 'latest'), 'pushing:da13': { runId: 'da13', taskName: 't1', root: ROOT } });
    expect(await item(keys.delivery(`origin#${ROOT}#t1`))).toMatchObject({ expiresAt: now + 3600 });
    expect(await item(keys.buildSlots('t1'))).toMatchObject({ building: 'da13' });
  });

  it('a gate keeps what is held under one entry per event and dependent, its TTL renewed; the last leave deletes it', async () => {
    await stores.openings.open([{ run: taskRun('da1', 1, 't1'), pushes: [] }]);
    clock.advance(60_000);
    const event = { kind: 'image' as const, source: 'distribution' as const, registry: REGISTRY, repository: 'base/node', tag: '9-alpine', digest: B, occurredAt: AT, deliveryId: 'd-7' };
    expect(await stores.gates.hold(ROOT, 't1', { event, forTask: 'app' })).toBe(true);
    expect(await stores.gates.hold(ROOT, 't1', { event })).toBe(true);
    expect(await item(keys.gate(ROOT, 't1'))).toMatchObject({ held: { 'app#d-7': { event, forTask: 'app' }, '*#d-7': { event } }, expiresAt: now + 60 + WEEK });
    expect(await stores.gates.leave(ROOT, 't1', 'da1')).toHaveLength(2);
    expect(await item(keys.gate(ROOT, 't1'))).toBeUndefined();
  });

  it('neither a hold on an empty gate, a leave of it, nor stopping a push never made creates an item', async () => {
    expect(await stores.gates.hold(ROOT, 't1', { event: { kind: 'image', source: 'distribution', registry: REGISTRY, repository: 'x', tag: '1', digest: B, occurredAt: AT, deliveryId: 'd-1' } })).toBe(false);
    expect(await stores.gates.leave(ROOT, 't1', 'da1')).toEqual([]);
    await stores.imageStates.stopPushing([`${REGISTRY}/t1:latest`], 'da1');
    expect(await item(keys.gate(ROOT, 't1'))).toBeUndefined();
    expect(await item(keys.imageState(REGISTRY, 't1', 'latest'))).toBeUndefined();
  });
});
