// The poller's decisions with its ports faked: what is watched, what counts as a change, how
// failures and 429s put off the next poll.
import { RegistryError, RegistryRateLimitedError } from '../../../lib/domain/errors';
import { Poller, type PollerDeps } from '../../../lib/domain/poller';
import type { PollState, PollStateStore, TagDigest } from '../../../lib/domain/ports';
import type { Dependency, ImageEvent, RegistryCredential, Task, Webhook } from '../../../lib/domain/types';

const HUB = 'docker.io';
const D = (c: string) => `sha256:${c.repeat(64)}`;
const INTERVAL = 300_000;

function task(name: string, overrides: Partial<Task> = {}): Task {
  return {
    name, registry: 'app.example.com', images: [`${name}:{{.Run.ID}}`], context: { kind: 'local', path: '/src' }, dockerfile: 'Dockerfile', buildArgs: {},
    platform: 'linux/amd64', status: 'Enabled', baseImageTrigger: { enabled: true, type: 'Runtime' }, commitTrigger: { enabled: false }, credentials: [],
    createdAt: '2026-12-01T00:00:00.000Z', updatedAt: '2026-12-01T00:00:00.000Z', ...overrides,
  };
}

function edge(taskName: string, registry: string, repository: string, tag: string, digest: string, overrides: Partial<Dependency> = {}): Dependency {
  return { taskName, registry, repository, tag, digest, stage: 'runtime', pinned: false, capturedAt: '2026-12-01T00:00:00.000Z', capturedByRun: 'da1', ...overrides };
}

class MemoryPollStates implements PollStateStore {
  readonly states = new Map<string, PollState>();
  readonly hosts = new Map<string, { until: string; reason: string }>();
  async get(ref: string) {
    return this.states.get(ref);
  }
  async put(state: PollState) {
    this.states.set(state.ref, structuredClone(state));
  }
  async list() {
    return [...this.states.values()];
  }
  async hostNotBefore(host: string) {
    return this.hosts.get(host)?.until;
  }
  async setHostNotBefore(host: string, until: string, reason: string) {
    this.hosts.set(host, { until, reason });
  }
}

interface World {
  poller: Poller;
  states: MemoryPollStates;
  events: ImageEvent[];
  asked: Array<{ ref: string; platform: string; known?: TagDigest; credentials: RegistryCredential[] }>;
  /** What the registry answers per `ref platform`: a digest pair, or an error to throw. */
  answers: Map<string, TagDigest | Error>;
  at(iso: string): void;
  queueFails: boolean;
}

function world(tasks: Task[], deps: Dependency[], webhooks: Webhook[] = [], eventDrivenHosts: string[] = []): World {
  let now = new Date('2026-12-01T10:00:00.000Z');
  const states = new MemoryPollStates();
  const w: World = {
    states,
    events: [],
    asked: [],
    answers: new Map(),
    at: (iso) => (now = new Date(iso)),
    queueFails: false,
    poller: undefined as unknown as Poller,
  };
  const deps_: PollerDeps = {
    tasks: { list: async () => tasks } as unknown as PollerDeps['tasks'],
    dependencies: { listForTask: async (name: string) => deps.filter((d) => d.taskName === name) } as unknown as PollerDeps['dependencies'],
    webhooks: { list: async () => webhooks } as unknown as PollerDeps['webhooks'],
    pollStates: states,
    digests: {
      resolve: async () => {
        throw new Error('not used');
      },
      async resolveForPlatform(ref, platform, credentials, known) {
        const key = `${ref.registry}/${ref.repository}:${ref.tag} ${platform}`;
        w.asked.push({ ref: `${ref.registry}/${ref.repository}:${ref.tag}`, platform, credentials, ...(known && { known }) });
        const answer = w.answers.get(key);
        if (!answer) throw new Error(`no answer for ${key} in this test`);
        if (answer instanceof Error) throw answer;
        return answer;
      },
    },
    intake: {
      accept: async (_route: string, { events }: { events: ImageEvent[] }) => {
        if (w.queueFails) throw new Error('queue is down');
        w.events.push(...events);
        return { accepted: events.length, ignored: [] };
      },
    } as unknown as PollerDeps['intake'],
    clock: { now: () => now },
    isRegistryProvider: (p) => ['distribution', 'quay'].includes(p),
  };
  w.poller = new Poller(deps_, { intervalMs: INTERVAL, eventDrivenHosts });
  return w;
}

describe('what is watched', () => {
  it('skips hosts a registry webhook speaks for and hosts that send events, and edges that never trigger', async () => {
    const w = world(
      [task('a'), task('b', { status: 'Disabled' }), task('c')],
      [
        edge('a', HUB, 'library/node', '22', D('1')),
        edge('a', 'quay.io', 'org/base', '1', D('2')),
        edge('a', '123456789012.dkr.ecr.eu-west-1.amazonaws.com', 'base', '1', D('3')),
        edge('b', HUB, 'library/alpine', '3', D('4')),
        edge('c', HUB, 'library/busybox', '1', D('5'), { pinned: true }),
        edge('c', 'git.example.com:5050', 'x/y', '1', D('6')),
      ],
      [
        { name: 'quay', provider: 'quay', secrets: ['s'], loginServer: 'quay.io', createdAt: '' },
        // A git host's webhook says nothing of its registry.
        { name: 'gl', provider: 'gitlab', secrets: ['s'], loginServer: 'git.example.com:5050', createdAt: '' },
      ],
      ['*.dkr.ecr.*.amazonaws.com'],
    );
    for (const ref of ['docker.io/library/node:22', 'docker.io/library/alpine:3', 'git.example.com:5050/x/y:1']) w.answers.set(`${ref} linux/amd64`, { digest: D('9'), platformDigest: D('9') });
    const report = await w.poller.poll();
    expect(w.asked.map((a) => a.ref).sort()).toEqual(['docker.io/library/alpine:3', 'docker.io/library/node:22', 'git.example.com:5050/x/y:1']);
    expect(report.skipped).toEqual([
      { ref: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/base:1', reason: '123456789012.dkr.ecr.eu-west-1.amazonaws.com sends push events to cascade' },
      { ref: 'quay.io/org/base:1', reason: 'quay.io sends push events to cascade' },
    ]);
  });

  it('asks once per platform its tasks build for, with their credentials for that host', async () => {
    const hubLogin: RegistryCredential = { kind: 'basic', loginServer: HUB, username: 'bot', secretRef: 'ref/hub' };
    const other: RegistryCredential = { kind: 'basic', loginServer: 'quay.io', username: 'bot', secretRef: 'ref/quay' };
    const w = world(
      [task('amd', { credentials: [hubLogin, other] }), task('arm', { platform: 'linux/arm64' }), task('amd2')],
      [edge('amd', HUB, 'library/node', '22', D('a')), edge('arm', HUB, 'library/node', '22', D('b')), edge('amd2', HUB, 'library/node', '22', D('a'))],
    );
    w.answers.set('docker.io/library/node:22 linux/amd64', { digest: D('i'), platformDigest: D('a') });
    w.answers.set('docker.io/library/node:22 linux/arm64', { digest: D('i'), platformDigest: D('b') });
    const report = await w.poller.poll();
    expect(w.asked).toEqual([
      { ref: 'docker.io/library/node:22', platform: 'linux/amd64', credentials: [hubLogin] },
      { ref: 'docker.io/library/node:22', platform: 'linux/arm64', credentials: [hubLogin] },
    ]);
    expect(report).toMatchObject({ polled: 2, changed: [], failed: [] });
    expect(w.states.states.get('docker.io/library/node:22')).toEqual({
      ref: 'docker.io/library/node:22', digest: D('i'), platforms: { 'linux/amd64': D('a'), 'linux/arm64': D('b') }, failures: 0, polledAt: '2026-12-01T10:00:00.000Z',
    });
  });
});

describe('what is a change', () => {
  const ref = 'docker.io/library/node:22';
  const setup = (recorded: string) => world([task('app')], [edge('app', HUB, 'library/node', '22', recorded)]);

  it.each([
    ['the platform image the task was built from', D('p'), 0],
    ['the index digest the task was built from', D('i'), 0],
    ['another digest', D('0'), 1],
  ])('on the first look, compares with what the task was built from: %s (%s) → %i event(s)', async (_why, recorded, count) => {
    const w = setup(recorded);
    w.answers.set(`${ref} linux/amd64`, { digest: D('i'), platformDigest: D('p') });
    await w.poller.poll();
    expect(w.events).toHaveLength(count);
    if (count) {
      expect(w.events[0]).toEqual({
        kind: 'image', source: 'poller', registry: HUB, repository: 'library/node', tag: '22', digest: D('p'), platform: 'linux/amd64',
        occurredAt: '2026-12-01T10:00:00.000Z', deliveryId: `${ref}@linux/amd64:first->${D('p')}`,
      });
    }
  });

  it('after that, compares with the last poll, hands the registry what it knows, and names the change in the delivery id', async () => {
    const w = setup(D('p'));
    w.answers.set(`${ref} linux/amd64`, { digest: D('i'), platformDigest: D('p') });
    await w.poller.poll();
    w.at('2026-12-01T10:05:00.000Z');
    await w.poller.poll();
    expect(w.asked[1]!.known).toEqual({ digest: D('i'), platformDigest: D('p') });
    expect(w.events).toEqual([]);
    // An index that gained a platform: its digest moves, this platform's image does not.
    w.answers.set(`${ref} linux/amd64`, { digest: D('j'), platformDigest: D('p') });
    await w.poller.poll();
    expect(w.events).toEqual([]);
    w.at('2026-12-01T10:10:00.000Z');
    w.answers.set(`${ref} linux/amd64`, { digest: D('k'), platformDigest: D('q') });
    const report = await w.poller.poll();
    expect(report.changed).toEqual([{ ref, platform: 'linux/amd64', from: D('p'), to: D('q') }]);
    expect(w.events.map((e) => e.deliveryId)).toEqual([`${ref}@linux/amd64:${D('p')}->${D('q')}`]);
    expect(w.states.states.get(ref)).toMatchObject({ digest: D('k'), platforms: { 'linux/amd64': D('q') }, changedAt: '2026-12-01T10:10:00.000Z' });
  });

  it('does not advance the state when the change cannot be queued, so the next pass finds it again', async () => {
    const w = setup(D('0'));
    w.answers.set(`${ref} linux/amd64`, { digest: D('p'), platformDigest: D('p') });
    w.queueFails = true;
    expect((await w.poller.poll()).failed).toEqual([{ ref, error: 'queueing its change failed: queue is down' }]);
    expect(w.states.states.get(ref)).toBeUndefined();
    w.queueFails = false;
    await w.poller.poll();
    expect(w.events).toHaveLength(1);
  });
});

describe('failures and 429', () => {
  const refs = ['docker.io/library/alpine:3', 'docker.io/library/node:22'] as const;
  const setup = () => world([task('app')], [edge('app', HUB, 'library/node', '22', D('1')), edge('app', HUB, 'library/alpine', '3', D('2'))]);

  it('waits as long as Retry-After says before asking the host again, for every tag of that host', async () => {
    const w = setup();
    w.answers.set(`${refs[0]} linux/amd64`, new RegistryRateLimitedError(HUB, 'manifest library/alpine:3: HTTP 429 Too Many Requests', 7_000));
    w.answers.set(`${refs[1]} linux/amd64`, { digest: D('1'), platformDigest: D('1') });
    const report = await w.poller.poll();
    expect(report.failed).toEqual([{ ref: refs[0], error: 'registry docker.io: manifest library/alpine:3: HTTP 429 Too Many Requests' }]);
    expect(report.skipped).toEqual([{ ref: refs[1], reason: 'docker.io asked cascade to wait until 2026-12-01T10:00:07.000Z' }]);
    expect(w.states.hosts.get(HUB)?.until).toBe('2026-12-01T10:00:07.000Z');
    w.at('2026-12-01T10:00:05.000Z');
    expect((await w.poller.poll()).skipped.map((s) => s.ref)).toEqual(refs);
    expect(w.asked).toHaveLength(1);
    w.at('2026-12-01T10:00:08.000Z');
    w.answers.set(`${refs[0]} linux/amd64`, { digest: D('2'), platformDigest: D('2') });
    expect(await w.poller.poll()).toMatchObject({ polled: 2, failed: [], skipped: [] });
    expect(w.states.states.get(refs[0])).toMatchObject({ failures: 0 });
    expect(w.states.states.get(refs[0])?.notBefore).toBeUndefined();
  });

  it.each([
    ['a 429 without Retry-After', new RegistryRateLimitedError(HUB, 'HTTP 429', undefined), ['2026-12-01T10:05:00.000Z', '2026-12-01T10:15:00.000Z', '2026-12-01T10:35:00.000Z']],
    ['an unreachable registry', new RegistryError(HUB, 'connect ECONNREFUSED'), ['2026-12-01T10:05:00.000Z', '2026-12-01T10:15:00.000Z', '2026-12-01T10:35:00.000Z']],
  ])('backs off after %s: one interval, then twice as long each time', async (_why, error, notBefore) => {
    const w = world([task('app')], [edge('app', HUB, 'library/node', '22', D('1'))]);
    w.answers.set(`docker.io/library/node:22 linux/amd64`, error);
    const seen: Array<string | undefined> = [];
    for (let i = 0; i < 3; i += 1) {
      await w.poller.poll();
      const state = w.states.states.get('docker.io/library/node:22');
      seen.push(state?.notBefore);
      w.at(state!.notBefore!);
    }
    expect(seen).toEqual(notBefore);
    expect(w.states.states.get('docker.io/library/node:22')).toMatchObject({ failures: 3, lastError: error.message });
  });
});
