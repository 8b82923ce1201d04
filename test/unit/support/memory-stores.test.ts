// The memory stores against the store contract the DynamoDB stores also keep
// (test/integration/dynamodb-store-contract.test.ts), and what only the memory stores do:
// copies, interleaving between the requests a method makes, the other memory ports.
import { ConflictError, RegistryError, ValidationError } from '../../../lib/domain/errors';
import { Gates, ManualClock, memoryCascadePorts, memoryStores, MemoryDigestResolver, MemoryLogStore, MemoryQueue, MemorySecretStore } from '../../support/memory-ports';
import { storeContract } from '../../support/store-contract';

describe('memory stores keep the store contract', () => {
  storeContract(async (options) => {
    const gates = new Gates();
    return { ...memoryStores({ ...options, interleaver: gates.interleaver }), requestCount: () => gates.trace.length, close: async () => {} };
  });
});

describe('memory stores between requests', () => {
  it('let another caller act between the requests of one method, where DynamoDB could', async () => {
    const gates = new Gates();
    const { runs } = memoryStores({ interleaver: gates.interleaver });
    await runs.create({ ...run('da1'), status: 'Running' });
    // A refused transition reads the run again to say why; it may have moved meanwhile.
    const reread = gates.pauseAt({ port: 'runs', method: 'transition', request: 2 });
    const late = runs.transition('da1', ['Queued'], { status: 'Failed' });
    await reread.reached;
    await runs.transition('da1', ['Running'], { status: 'Succeeded' });
    await reread.release();
    await expect(late).rejects.toThrow(/is Succeeded/);
    expect(gates.trace.map((call) => `${call.method}#${call.request}`)).toEqual(['create#1', 'transition#1', 'transition#1', 'transition#2']);
  });

  it('record each call with its arguments, for matching and for reports', async () => {
    const gates = new Gates();
    const { dependencies } = memoryStores({ interleaver: gates.interleaver });
    await dependencies.claimTrigger({ taskName: 'app', registry: 'r', repository: 'b', tag: '1' }, { digest: 'sha256:1', at: '2026-11-28T05:00:00.000Z' }, 'da1');
    expect(gates.trace).toEqual([
      { port: 'dependencies', method: 'claimTrigger', request: 1, args: [{ taskName: 'app', registry: 'r', repository: 'b', tag: '1' }, { digest: 'sha256:1', at: '2026-11-28T05:00:00.000Z' }, 'da1'] },
    ]);
  });
});

describe('memoryStores', () => {
  it('has the stores createDynamoDbStores has, sharing one clock', async () => {
    const clock = new ManualClock('2090-01-01T00:00:00.000Z');
    const stores = memoryStores({ clock, runIdPrefix: 'zz' });
    expect(Object.keys(stores).sort()).toEqual(['deliveries', 'dependencies', 'gates', 'imageStates', 'notifications', 'openings', 'pollStates', 'runs', 'slots', 'tasks', 'timerStates', 'webhooks']);
    expect(await stores.runs.nextId()).toEqual({ id: 'zz1', sequence: 1 });
    await stores.runs.create({ ...run('zz1'), status: 'Succeeded', keepUntil: '2090-01-01T00:01:00.000Z' });
    expect(await stores.deliveries.markSeen('k', 60)).toBe(true);
    clock.advance(60_000);
    expect(await stores.runs.get('zz1')).toBeUndefined();
    expect(await stores.deliveries.markSeen('k', 60)).toBe(true);
  });
});

describe('memoryCascadePorts', () => {
  it('gives every port of createCascade, the stores real, the queue recording', async () => {
    const ports = memoryCascadePorts();
    expect(ports.imageState).toBe(ports.imageStates);
    expect(ports.clock.now().toISOString()).toBe('2026-11-28T05:00:00.000Z');
    await ports.queue.send({ type: 'start-run', runId: 'da1' });
    expect(ports.sent).toEqual([{ type: 'start-run', runId: 'da1' }]);
    expect(await ports.runs.nextId()).toEqual({ id: 'da1', sequence: 1 });
  });
});

describe('MemoryQueue', () => {
  it('keeps what is sent as a queue body would carry it, and drains it oldest first', async () => {
    const queue = new MemoryQueue();
    const message = { type: 'build-result' as const, result: { runId: 'da1', status: 'Failed' as const, finishedAt: '2026-11-28T05:00:00.000Z', outputImages: [], baseImages: [], error: undefined } };
    await queue.send(message);
    await queue.send({ type: 'start-run', runId: 'da2' });
    message.result.runId = 'changed';
    // Strictly: the undefined `error` is not carried, as a JSON body would not carry it.
    expect(queue.drain()).toStrictEqual([
      { type: 'build-result', result: { runId: 'da1', status: 'Failed', finishedAt: '2026-11-28T05:00:00.000Z', outputImages: [], baseImages: [] } },
      { type: 'start-run', runId: 'da2' },
    ]);
    expect(queue.drain()).toEqual([]);
  });
});

describe('MemorySecretStore', () => {
  it('keeps values behind references, refusing names and references it cannot hold', async () => {
    const secrets = new MemorySecretStore();
    const ref = await secrets.put('task/app/127.0.0.1:5000', 'pa55word');
    expect(ref).toBe(secrets.refFor('task/app/127.0.0.1:5000'));
    expect(await secrets.get(ref)).toBe('pa55word');
    await secrets.delete(ref);
    expect(await secrets.get(ref)).toBeUndefined();
    await secrets.delete(ref); // harmless
    expect(() => secrets.refFor('has space')).toThrow(ValidationError);
    await expect(secrets.get('local:elsewhere')).rejects.toThrow(ValidationError);
  });
});

describe('MemoryLogStore', () => {
  it('appends in order, reads nothing as empty, deletes, and refuses ids a file store could not name', async () => {
    const logs = new MemoryLogStore();
    expect(await logs.read('da1')).toBe('');
    await logs.append('da1', 'one\n');
    await logs.append('da1', '');
    await logs.append('da1', 'two\n');
    expect(await logs.read('da1')).toBe('one\ntwo\n');
    await logs.delete('da1');
    expect(await logs.read('da1')).toBe('');
    await expect(logs.append('../x', 'no')).rejects.toThrow(ValidationError);
  });
});

describe('MemoryDigestResolver', () => {
  const ref = { registry: 'r.example', repository: 'base', tag: '1' };

  it.each<[string, Record<string, string>, string, { known?: { digest: string; platformDigest: string } }, { digest: string; platformDigest: string } | RegExp]>([
    ['a single image is its own platform image', {}, 'linux/amd64', {}, { digest: 'sha256:i', platformDigest: 'sha256:i' }],
    ['an index gives the platform’s image', { 'linux/amd64': 'sha256:amd', 'linux/arm64': 'sha256:arm' }, 'linux/arm64', {}, { digest: 'sha256:i', platformDigest: 'sha256:arm' }],
    ['an index without the platform is an error', { 'linux/amd64': 'sha256:amd' }, 'linux/s390x', {}, /no image for linux\/s390x/],
    ['an unchanged tag reuses what was known', { 'linux/amd64': 'sha256:amd' }, 'linux/amd64', { known: { digest: 'sha256:i', platformDigest: 'sha256:old' } }, { digest: 'sha256:i', platformDigest: 'sha256:old' }],
    ['a changed tag is looked up again', { 'linux/amd64': 'sha256:amd' }, 'linux/amd64', { known: { digest: 'sha256:x', platformDigest: 'sha256:old' } }, { digest: 'sha256:i', platformDigest: 'sha256:amd' }],
  ])('%s', async (_case, platforms, platform, { known }, expected) => {
    const digests = new MemoryDigestResolver();
    digests.set('r.example/base:1', 'sha256:i', platforms);
    const answer = digests.resolveForPlatform(ref, platform, [], known);
    if (expected instanceof RegExp) await expect(answer).rejects.toThrow(expected);
    else await expect(answer).resolves.toEqual(expected);
  });

  it('answers a tag as a registry would, and a tag it does not have with a registry error', async () => {
    const digests = new MemoryDigestResolver();
    digests.set('r.example/base:1', 'sha256:i');
    expect(await digests.resolve(ref)).toBe('sha256:i');
    await expect(digests.resolve({ ...ref, tag: '2' })).rejects.toThrow(RegistryError);
  });
});

describe('ManualClock', () => {
  it('stands still until set or advanced', () => {
    const clock = new ManualClock('2026-11-28T05:00:00.000Z');
    expect(clock.now().toISOString()).toBe('2026-11-28T05:00:00.000Z');
    clock.advance(1500);
    expect(clock.now().toISOString()).toBe('2026-11-28T05:00:01.500Z');
    clock.set('2027-01-01T00:00:00.000Z');
    expect(clock.now().toISOString()).toBe('2027-01-01T00:00:00.000Z');
    const read = clock.now();
    read.setFullYear(1999);
    expect(clock.now().getFullYear()).toBe(2027);
  });
});

it('a conflict leaves the store as it was (nothing half-written)', async () => {
  const { webhooks } = memoryStores();
  await webhooks.create({ name: 'w', provider: 'distribution', secrets: ['a'], createdAt: '2026-11-28T05:00:00.000Z' });
  await expect(webhooks.create({ name: 'w', provider: 'github', secrets: ['b'], createdAt: '2026-11-28T05:00:00.000Z' })).rejects.toThrow(ConflictError);
  expect(await webhooks.list()).toEqual([{ name: 'w', provider: 'distribution', secrets: ['a'], createdAt: '2026-11-28T05:00:00.000Z' }]);
});

function run(id: string) {
  return {
    id,
    sequence: Number(id.replace(/\D/g, '')),
    taskName: 'app',
    platform: 'linux/amd64',
    status: 'Queued' as const,
    trigger: 'Manual' as const,
    cause: { kind: 'manual' as const },
    spec: { registry: 'r', images: ['app:1'], context: { kind: 'local' as const, path: '/src' }, dockerfile: 'Dockerfile', buildArgs: {}, platform: 'linux/amd64', credentials: [] },
    createdAt: '2026-11-28T05:00:00.000Z',
    outputImages: [],
    baseImages: [],
  };
}
