// What the domain relies on from its stores, as cases that run against any set of them: the
// memory stores (test/unit/support/memory-stores.test.ts, milliseconds) and the DynamoDB stores
// on DynamoDB Local (test/integration/dynamodb-store-contract.test.ts). A case passing on one and
// failing on the other is a memory store that is not faithful. What is DynamoDB's own (keys,
// items, TTL attributes, pagination, marshalling) is tested in test/integration/dynamodb-*.test.ts.
import { ConflictError, NotFoundError, ValidationError } from '../../lib/domain/errors';
import type { Clock, DeferredEvent, OpeningOutcome, PollState, RunOpening } from '../../lib/domain/ports';
import type { Dependency, ImageEvent, ImageProducer, Run, RunStatus, Task, TaskTimer, Webhook } from '../../lib/domain/types';
import { ManualClock, type Stores } from './memory-ports';
import type { DeliveryAttempt, Notification, NotificationDelivery } from '../../lib/domain/notifications/notification';

export interface ContractStores extends Stores {
  /** DynamoDB requests these stores have sent so far (the memory stores count the steps they model). */
  requestCount(): number;
  close(): Promise<void>;
}

export interface ContractOptions {
  clock: Clock;
  runIdPrefix?: string;
  normalizeGitUrl?: (url: string) => string;
}

/** A fresh, empty set of stores: listings see everything in them, so each case gets its own. */
export type OpenStores = (options: ContractOptions) => Promise<ContractStores>;

// Far from the real clock, so that DynamoDB's own TTL is never what removes an item.
const START = '2090-06-01T12:00:00.000Z';
const REGISTRY = '127.0.0.1:5000';
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const A = digest('a');
const B = digest('b');
const C = digest('c');

export function storeContract(open: OpenStores): void {
  let clock: ManualClock;
  const opened: ContractStores[] = [];
  beforeEach(() => {
    clock = new ManualClock(START);
  });
  afterEach(async () => {
    for (const stores of opened.splice(0)) await stores.close();
  });
  async function fresh(options: Omit<ContractOptions, 'clock'> = {}): Promise<ContractStores> {
    const stores = await open({ clock, ...options });
    opened.push(stores);
    return stores;
  }

  describe('TaskStore', () => {
    it.each([
      ['every optional field', aTask('t-full', { dependenciesCapturedAt: '2024-05-01T11:00:00.000Z', buildArgs: { A: '', B: 'x y' }, history: { keepRuns: 3, logRetentionDays: 1 } })],
      ['no optional fields, empty maps and lists', aTask('t-bare', { buildArgs: {}, credentials: [], images: ['x:1'] })],
      ['a local context', aTask('t-local', { context: { kind: 'local', path: '/srv/app' } })],
    ])('round-trips a task with %s exactly', async (_case, task) => {
      const { tasks } = await fresh();
      await tasks.create(task);
      expect(await tasks.get(task.name)).toEqual(task);
    });

    it('refuses to create a task whose name is taken, leaving the first one alone', async () => {
      const { tasks } = await fresh();
      await tasks.create(aTask('t-dup'));
      await expect(tasks.create(aTask('t-dup', { dockerfile: 'Other' }))).rejects.toThrow(ConflictError);
      expect((await tasks.get('t-dup'))?.dockerfile).toBe('Dockerfile-app');
    });

    it('puts (creating or replacing) and deletes', async () => {
      const { tasks } = await fresh();
      await tasks.put(aTask('t-put'));
      await tasks.put(aTask('t-put', { status: 'Disabled', updatedAt: '2024-05-02T00:00:00.000Z' }));
      expect(await tasks.get('t-put')).toEqual(aTask('t-put', { status: 'Disabled', updatedAt: '2024-05-02T00:00:00.000Z' }));
      expect((await tasks.list()).map((t) => t.name)).toEqual(['t-put']);
      await tasks.delete('t-put');
      expect(await tasks.get('t-put')).toBeUndefined();
      await tasks.delete('t-put'); // already gone: harmless
    });

    it('a put that creates the task leaves out what only its own writers write', async () => {
      const { tasks } = await fresh();
      await tasks.put(aTask('t-new', { timers: [nightly], upstream: ['x'], dependenciesCapturedAt: '2024-05-01T11:00:00.000Z', dependenciesCapturedBySequence: 4 }));
      expect(await tasks.get('t-new')).toEqual(aTask('t-new'));
    });

    it('lists every task by name', async () => {
      const { tasks } = await fresh();
      expect(await tasks.list()).toEqual([]);
      for (const name of ['b', 'c', 'a', 'B']) await tasks.create(aTask(name));
      expect((await tasks.list()).map((t) => t.name)).toEqual(['B', 'a', 'b', 'c']);
      expect((await tasks.list())[1]).toEqual(aTask('a'));
    });

    it('gets many by name: those that exist, each once, beyond one batch', async () => {
      const { tasks } = await fresh();
      const names = Array.from({ length: 130 }, (_, i) => `many-${i}`);
      for (const name of names) await tasks.create(aTask(name));
      const found = await tasks.getMany([...names, 'many-0', 'nobody']);
      expect([...found.keys()].sort()).toEqual([...names].sort());
      expect(found.get('many-7')).toEqual(aTask('many-7'));
      expect((await tasks.getMany([])).size).toBe(0);
    });

    it('finds tasks by git repository and branch, however the URL was spelled', async () => {
      const { tasks } = await fresh();
      await tasks.create(aTask('g-https'));
      await tasks.create(aTask('g-ssh', { context: { kind: 'git', url: 'git@github.com:example/app', branch: 'main', folder: 'sub' } }));
      await tasks.create(aTask('g-dev', { context: { kind: 'git', url: 'https://github.com/example/app', branch: 'dev', folder: '.' } }));
      await tasks.create(aTask('g-other', { context: { kind: 'git', url: 'https://github.com/example/other', branch: 'main', folder: '.' } }));
      await tasks.create(aTask('g-local', { context: { kind: 'local', path: '/srv/app' } }));

      const names = async (url: string, branch: string) => (await tasks.listByGitContext(url, branch)).map((t) => t.name);
      expect(await names('github.com/example/app', 'main')).toEqual(['g-https', 'g-ssh']);
      expect(await names('https://GitHub.com/example/app.git', 'main')).toEqual(['g-https', 'g-ssh']);
      expect(await names('github.com/example/app', 'dev')).toEqual(['g-dev']);
      expect(await names('github.com/example/app', 'release')).toEqual([]);

      // A task whose context stops being this repository stops being found under it.
      await tasks.put(aTask('g-https', { context: { kind: 'local', path: '/srv/app' } }));
      await tasks.put(aTask('g-ssh', { context: { kind: 'git', url: 'https://github.com/example/app', branch: 'dev', folder: '.' } }));
      expect(await names('github.com/example/app', 'main')).toEqual([]);
      expect(await names('github.com/example/app', 'dev')).toEqual(['g-dev', 'g-ssh']);
    });

    it('finds tasks by the path of their git repository on any host, and branch', async () => {
      const { tasks } = await fresh();
      const git = (url: string, branch = 'main') => ({ context: { kind: 'git' as const, url, branch, folder: '.' } });
      await tasks.create(aTask('p-https', git('https://bitbucket.example/scm/PROJ/app.git')));
      await tasks.create(aTask('p-ssh', git('ssh://git@bitbucket.example:7999/proj/app.git')));
      await tasks.create(aTask('p-elsewhere', git('https://git.other.example/proj/app')));
      await tasks.create(aTask('p-dev', git('https://bitbucket.example/scm/proj/app.git', 'dev')));
      await tasks.create(aTask('p-deeper', git('https://gitlab.example/group/proj/app.git')));
      await tasks.create(aTask('p-local-git', git('/srv/proj/app')));

      const names = async (paths: string[], branch: string) => (await tasks.listByGitPath(paths, branch)).map((t) => t.name);
      expect(await names(['scm/proj/app', 'proj/app'], 'main')).toEqual(['p-elsewhere', 'p-https', 'p-ssh']);
      expect(await names(['scm/proj/app'], 'main')).toEqual(['p-https']);
      expect(await names(['scm/proj/app', 'proj/app'], 'dev')).toEqual(['p-dev']);
      expect(await names(['proj/other'], 'main')).toEqual([]);

      // A task whose context stops being this repository stops being found under it.
      await tasks.put(aTask('p-https', { context: { kind: 'local', path: '/srv/app' } }));
      await tasks.put(aTask('p-ssh', git('ssh://git@bitbucket.example:7999/proj/app.git', 'dev')));
      expect(await names(['scm/proj/app', 'proj/app'], 'main')).toEqual(['p-elsewhere']);
      expect(await names(['scm/proj/app', 'proj/app'], 'dev')).toEqual(['p-dev', 'p-ssh']);
    });

    it('uses the git URL normalizer it is given', async () => {
      const { tasks } = await fresh({ normalizeGitUrl: (url) => url.replace(/^https:\/\/mirror\./, 'https://') });
      await tasks.create(aTask('n1', { context: { kind: 'git', url: 'https://mirror.example/app', branch: 'main', folder: '.' } }));
      expect((await tasks.listByGitContext('https://example/app', 'main')).map((t) => t.name)).toEqual(['n1']);
    });

    // A task has three writers: people (put), builds (recordCapture) and timers (setTimers).
    it('keeps what a build and a timer wrote when settings are saved from a read made before them', async () => {
      const { tasks } = await fresh();
      await tasks.create(aTask('w', { history: { keepRuns: 50, logRetentionDays: 30 } }));
      const stale = (await tasks.get('w'))!;
      expect(await tasks.recordCapture('w', { capturedAt: '2026-12-01T01:00:00.000Z', bySequence: 3, upstream: ['base-app'] })).toBe(true);
      await tasks.setTimers('w', [nightly], '2026-12-01T01:00:01.000Z');
      await tasks.put({ ...stale, status: 'Disabled', buildArgs: {}, updatedAt: '2026-12-01T01:00:02.000Z' });
      expect(await tasks.get('w')).toEqual({
        ...aTask('w', { history: { keepRuns: 50, logRetentionDays: 30 } }),
        status: 'Disabled',
        buildArgs: {},
        updatedAt: '2026-12-01T01:00:02.000Z',
        dependenciesCapturedAt: '2026-12-01T01:00:00.000Z',
        dependenciesCapturedBySequence: 3,
        upstream: ['base-app'],
        timers: [nightly],
      });
    });

    it('removes settings the task no longer has', async () => {
      const { tasks } = await fresh();
      await tasks.create(aTask('h', { history: { keepRuns: 50, logRetentionDays: 30 } }));
      const { history: _history, ...rest } = (await tasks.get('h'))!;
      await tasks.put(rest);
      expect(await tasks.get('h')).toEqual(aTask('h'));
    });

    it('lets only a run at least as new record its capture, and drops upstream when there is none', async () => {
      const { tasks } = await fresh();
      await tasks.create(aTask('c'));
      expect(await tasks.recordCapture('c', { capturedAt: '2026-12-01T02:00:00.000Z', bySequence: 7, upstream: ['x'] })).toBe(true);
      expect(await tasks.recordCapture('c', { capturedAt: '2026-12-01T02:00:01.000Z', bySequence: 5, upstream: [] })).toBe(false);
      expect(await tasks.recordCapture('c', { capturedAt: '2026-12-01T02:00:02.000Z', bySequence: 7, upstream: ['y'] })).toBe(true);
      expect(await tasks.recordCapture('c', { capturedAt: '2026-12-01T02:00:03.000Z', bySequence: 8, upstream: [] })).toBe(true);
      const stored = (await tasks.get('c'))!;
      expect([stored.dependenciesCapturedAt, stored.dependenciesCapturedBySequence, stored.upstream]).toEqual(['2026-12-01T02:00:03.000Z', 8, undefined]);
      expect(await tasks.recordCapture('gone', { capturedAt: '2026-12-01T02:00:00.000Z', bySequence: 1, upstream: [] })).toBe(false);
      expect(await tasks.get('gone')).toBeUndefined();
    });

    it('sets and clears timers alone, and refuses a task that does not exist', async () => {
      const { tasks } = await fresh();
      await tasks.create(aTask('d'));
      await tasks.setTimers('d', [nightly], '2026-12-01T03:00:00.000Z');
      expect((await tasks.get('d'))?.timers).toEqual([nightly]);
      await tasks.setTimers('d', [], '2026-12-01T03:00:01.000Z');
      expect(await tasks.get('d')).toEqual(aTask('d', { updatedAt: '2026-12-01T03:00:01.000Z' }));
      await expect(tasks.setTimers('nobody', [nightly], '2026-12-01T03:00:00.000Z')).rejects.toThrow(NotFoundError);
      expect(await tasks.get('nobody')).toBeUndefined();
    });

    it('keeps its own copy: changing what was given or read changes nothing stored', async () => {
      const { tasks } = await fresh();
      const given = aTask('copy');
      await tasks.create(given);
      given.buildArgs.X = 'changed';
      const read = (await tasks.get('copy'))!;
      read.images.push('mutated:1');
      (await tasks.list())[0]!.credentials.length = 0;
      expect(await tasks.get('copy')).toEqual(aTask('copy'));
    });
  });

  describe('RunStore', () => {
    it('hands out ids in order from an atomic counter, with the prefix', async () => {
      const { runs } = await fresh();
      expect(await runs.nextId()).toEqual({ id: 'da1', sequence: 1 });
      expect(await runs.nextId()).toEqual({ id: 'da2', sequence: 2 });
      expect(await runs.nextIds(3)).toEqual([
        { id: 'da3', sequence: 3 },
        { id: 'da4', sequence: 4 },
        { id: 'da5', sequence: 5 },
      ]);
      expect(await runs.nextId()).toEqual({ id: 'da6', sequence: 6 });
      const { runs: other } = await fresh({ runIdPrefix: 'cb' });
      expect(await other.nextId()).toEqual({ id: 'cb1', sequence: 1 });
    });

    it.each([0, -1, 1.5])('refuses to reserve %s ids', async (count) => {
      const { runs } = await fresh();
      await expect(runs.nextIds(count)).rejects.toThrow(RangeError);
      expect(await runs.nextId()).toEqual({ id: 'da1', sequence: 1 });
    });

    it('never hands out the same id twice under concurrency', async () => {
      const { runs } = await fresh();
      const ids = (await Promise.all([...Array.from({ length: 20 }, () => runs.nextId().then((id) => [id])), ...Array.from({ length: 5 }, () => runs.nextIds(2))])).flat();
      expect(new Set(ids.map((i) => i.id)).size).toBe(30);
      expect(ids.map((i) => i.sequence).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    });

    it('round-trips a run exactly, and refuses a second create of the same id', async () => {
      const { runs } = await fresh();
      const run = aRun('rt1', 901, {
        cause: { kind: 'image-update', base: '127.0.0.1:5000/baseimages/node:9-alpine', newDigest: B, source: 'distribution', deliveryId: 'd-1' },
        trigger: 'Image Update',
        origin: { root: 'd-1', via: ['base-app'] },
        commit: undefined,
      });
      await runs.create(run);
      const { commit: _omitted, ...expected } = run;
      expect(await runs.get('rt1')).toEqual(expected);
      await expect(runs.create({ ...run, status: 'Running' })).rejects.toThrow(ConflictError);
      expect((await runs.get('rt1'))?.status).toBe('Queued');
      expect(await runs.get('missing')).toBeUndefined();
    });

    it('refuses a sequence the run indexes cannot sort', async () => {
      const { runs } = await fresh();
      await expect(runs.create(aRun('neg', -1))).rejects.toThrow(RangeError);
      expect(await runs.get('neg')).toBeUndefined();
    });

    it('creates many runs under reserved ids, more than one batch holds', async () => {
      const { runs } = await fresh();
      const ids = await runs.nextIds(30);
      await runs.createMany(ids.map(({ id, sequence }) => aRun(id, sequence)));
      expect((await runs.list({ top: 100 })).map((r) => r.sequence)).toEqual(Array.from({ length: 30 }, (_, i) => 30 - i));
      // Unconditional: a run written again under its id is replaced.
      await runs.createMany([aRun('da1', 1, { status: 'Running' })]);
      expect((await runs.get('da1'))?.status).toBe('Running');
      await runs.createMany([]);
    });

    it('refuses a batch that names one run twice, writing none of it', async () => {
      const { runs } = await fresh();
      await expect(runs.createMany([aRun('dup1', 1), aRun('dup1', 1, { status: 'Running' })])).rejects.toThrow(/duplicates/);
      expect(await runs.get('dup1')).toBeUndefined();
    });

    it('stores a quick build (no task) and finds it in the installation-wide listing only', async () => {
      const { runs } = await fresh();
      await runs.create(aRun('q1', 1, { taskName: undefined }));
      expect((await runs.list({ top: 5 })).map((r) => r.id)).toEqual(['q1']);
      expect(await runs.list({ top: 5, taskName: 'helloworld' })).toEqual([]);
      expect((await runs.get('q1'))?.taskName).toBeUndefined();
    });

    it('keeps its own copy: changing what was given or read changes nothing stored', async () => {
      const { runs } = await fresh();
      const given = aRun('cp1', 1);
      await runs.create(given);
      given.spec.buildArgs.X = 'changed';
      const read = (await runs.get('cp1'))!;
      read.outputImages.push({ reference: 'x', digest: A });
      const moved = await runs.transition('cp1', ['Queued'], { status: 'Running', baseImages: [] });
      moved.baseImages.push({ registry: REGISTRY, repository: 'x', digest: A, stage: 'runtime', pinned: false });
      expect(await runs.get('cp1')).toEqual({ ...aRun('cp1', 1), status: 'Running' });
    });

    describe('transition', () => {
      it('moves a run forward and returns it as stored', async () => {
        const { runs } = await fresh();
        await runs.create(aRun('tr1', 911));
        const running = await runs.transition('tr1', ['Queued'], { status: 'Running', startedAt: '2024-05-01T10:00:05.000Z', buildId: 'build-1', error: undefined });
        expect(running).toEqual({ ...aRun('tr1', 911), status: 'Running', startedAt: '2024-05-01T10:00:05.000Z', buildId: 'build-1' });
        const done = await runs.transition('tr1', ['Running'], {
          status: 'Succeeded',
          finishedAt: '2024-05-01T10:01:05.000Z',
          durationMs: 60000,
          outputImages: [{ reference: '127.0.0.1:5001/helloworld:tr1', digest: C }],
        });
        expect(done).toEqual({ ...running, status: 'Succeeded', finishedAt: '2024-05-01T10:01:05.000Z', durationMs: 60000, outputImages: [{ reference: '127.0.0.1:5001/helloworld:tr1', digest: C }] });
        expect(await runs.get('tr1')).toEqual(done);
      });

      it('refuses to move a run that is not in one of the expected states', async () => {
        const { runs } = await fresh();
        await runs.create(aRun('tr2', 912, { status: 'Succeeded' }));
        const late = runs.transition('tr2', ['Queued', 'Running'], { status: 'Failed', error: 'late report' });
        await expect(late).rejects.toThrow(ConflictError);
        await expect(late).rejects.toThrow(/Succeeded/);
        expect(await runs.get('tr2')).toEqual(aRun('tr2', 912, { status: 'Succeeded' }));
      });

      it('lets exactly one of many concurrent identical transitions win', async () => {
        const { runs } = await fresh();
        await runs.create(aRun('tr3', 913, { status: 'Running' }));
        const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => runs.transition('tr3', ['Running'], { status: 'Succeeded', buildId: `b${i}` })));
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConflictError);
        const winner = results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Run>;
        expect(await runs.get('tr3')).toEqual(winner.value);
      });

      it('says NotFound for a run that does not exist, and creates nothing', async () => {
        const { runs } = await fresh();
        await expect(runs.transition('ghost', ['Queued'], { status: 'Running' })).rejects.toThrow(NotFoundError);
        expect(await runs.get('ghost')).toBeUndefined();
        expect(await runs.list({ top: 5 })).toEqual([]);
      });

      it('accepts a whole run as changes but refuses to move it to another task or sequence', async () => {
        const { runs } = await fresh();
        const run = aRun('tr4', 914);
        await runs.create(run);
        expect(await runs.transition('tr4', ['Queued'], { ...run, status: 'Running' })).toEqual({ ...run, status: 'Running' });
        await expect(runs.transition('tr4', ['Running'], { status: 'Failed', taskName: 'other' })).rejects.toThrow(ValidationError);
        await expect(runs.transition('tr4', ['Running'], { status: 'Failed', sequence: 1 })).rejects.toThrow(ValidationError);
        // The status is checked first: from a wrong status it is a conflict, whatever else.
        await expect(runs.transition('tr4', ['Queued'], { status: 'Failed', sequence: 1 })).rejects.toThrow(ConflictError);
        expect((await runs.get('tr4'))?.status).toBe('Running');
      });

      it('refuses an empty list of starting states', async () => {
        const { runs } = await fresh();
        await runs.create(aRun('tr5', 915));
        await expect(runs.transition('tr5', [], { status: 'Running' })).rejects.toThrow(ConflictError);
        expect((await runs.get('tr5'))?.status).toBe('Queued');
      });
    });

    describe('transitionMany', () => {
      it('moves each run it can, and answers the others with the conflict transition would throw', async () => {
        const { runs } = await fresh();
        await runs.create(aRun('m1', 1));
        await runs.create(aRun('m2', 2, { status: 'Running' }));
        await runs.create(aRun('m4', 4));
        const running = { status: 'Running' as const, startedAt: '2090-06-01T10:00:05.000Z' };
        const outcomes = await runs.transitionMany([
          { id: 'm1', from: ['Queued'], changes: { ...running, buildId: 'b1' } },
          { id: 'm2', from: ['Queued'], changes: { ...running, buildId: 'b2' } },
          { id: 'm3', from: ['Queued'], changes: { ...running, buildId: 'b3' } },
          { id: 'm4', from: ['Queued'], changes: { ...running, buildId: 'b4' } },
          { id: 'm1', from: [], changes: running },
        ]);
        expect(outcomes.map((o) => (o === 'moved' ? o : o.message))).toEqual([
          'moved',
          'run "m2" is Running, not Queued, so it cannot move to Running',
          'run "m3" was not found, so it cannot move to Running',
          'moved',
          'run "m1" cannot move to Running from no status',
        ]);
        for (const outcome of outcomes) if (outcome !== 'moved') expect(outcome).toBeInstanceOf(ConflictError);
        expect(await runs.get('m1')).toEqual({ ...aRun('m1', 1), ...running, buildId: 'b1' });
        expect(await runs.get('m2')).toEqual(aRun('m2', 2, { status: 'Running' }));
        expect(await runs.get('m3')).toBeUndefined();
        expect(await runs.get('m4')).toEqual({ ...aRun('m4', 4), ...running, buildId: 'b4' });
      });

      it('moves 150 runs, in more than one transaction, each answered', async () => {
        const { runs } = await fresh();
        const ids = await runs.nextIds(150);
        const done = new Set([3, 77, 120, 149]);
        await runs.createMany(ids.map(({ id, sequence }) => aRun(id, sequence, done.has(sequence) ? { status: 'Succeeded' } : {})));
        const outcomes = await runs.transitionMany(ids.map(({ id }) => ({ id, from: ['Queued'], changes: { status: 'Running' } })));
        expect(outcomes.map((o, i) => [ids[i]?.sequence, o === 'moved' ? o : o.constructor.name])).toEqual(ids.map(({ sequence }) => [sequence, done.has(sequence) ? 'ConflictError' : 'moved']));
        expect((await runs.list({ top: 200, status: 'Running' })).length).toBe(146);
        expect(await runs.listUnfinished()).toHaveLength(146);
        expect(await runs.transitionMany([])).toEqual([]);
      });

      it('throws, as transition does, at a move that would change who a run is', async () => {
        const { runs } = await fresh();
        await runs.create(aRun('v1', 1));
        await expect(runs.transitionMany([{ id: 'v1', from: ['Queued'], changes: { status: 'Running', taskName: 'other' } }])).rejects.toThrow(ValidationError);
        expect((await runs.get('v1'))?.status).toBe('Queued');
      });

      it('refuses two moves of one run in one transaction, moving neither', async () => {
        const { runs } = await fresh();
        await runs.create(aRun('w1', 1));
        await expect(runs.transitionMany([{ id: 'w1', from: ['Queued'], changes: { status: 'Running' } }, { id: 'w1', from: ['Running'], changes: { status: 'Succeeded' } }])).rejects.toThrow(/multiple operations on one item/);
        expect((await runs.get('w1'))?.status).toBe('Queued');
      });
    });

    describe('list', () => {
      const statuses: RunStatus[] = ['Succeeded', 'Failed', 'Succeeded', 'Running', 'Succeeded', 'Failed', 'Queued', 'Succeeded', 'Failed', 'Succeeded', 'Failed', 'Succeeded'];

      async function seeded() {
        const { runs } = await fresh();
        // Created out of order: the listing orders by sequence, not by write time.
        for (const i of [3, 0, 11, 7, 1, 5, 9, 2, 10, 4, 6, 8]) {
          await runs.create(aRun(`da${i + 1}`, i + 1, { status: statuses[i]!, taskName: i % 3 === 0 ? 'other' : 'helloworld' }));
        }
        return runs;
      }

      it('lists newest first, at most top', async () => {
        const runs = await seeded();
        expect((await runs.list({ top: 5 })).map((r) => r.id)).toEqual(['da12', 'da11', 'da10', 'da9', 'da8']);
        expect((await runs.list({ top: 100 })).map((r) => r.sequence)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
        expect(await runs.list({ top: 0 })).toEqual([]);
      });

      it('filters by status until top is found', async () => {
        const runs = await seeded();
        expect((await runs.list({ top: 3, status: 'Failed' })).map((r) => r.id)).toEqual(['da11', 'da9', 'da6']);
        expect((await runs.list({ top: 10, status: 'Failed' })).map((r) => r.id)).toEqual(['da11', 'da9', 'da6', 'da2']);
        expect(await runs.list({ top: 10, status: 'Canceled' })).toEqual([]);
      });

      it('lists one task’s runs, with a status filter too', async () => {
        const runs = await seeded();
        // 'other' has sequences 1, 4, 7, 10.
        expect((await runs.list({ top: 10, taskName: 'other' })).map((r) => r.id)).toEqual(['da10', 'da7', 'da4', 'da1']);
        expect((await runs.list({ top: 2, taskName: 'helloworld' })).map((r) => r.id)).toEqual(['da12', 'da11']);
        expect((await runs.list({ top: 10, taskName: 'other', status: 'Succeeded' })).map((r) => r.id)).toEqual(['da10', 'da1']);
        expect(await runs.list({ top: 10, taskName: 'nobody' })).toEqual([]);
      });
    });

    it('lists unfinished runs (Queued or Running) oldest first and forgets them once they finish', async () => {
      const { runs } = await fresh();
      await runs.create(aRun('u3', 3, { status: 'Running' }));
      await runs.create(aRun('u1', 1, { status: 'Queued' }));
      await runs.create(aRun('u2', 2, { status: 'Succeeded' }));
      await runs.create(aRun('u4', 4, { status: 'Queued' }));
      await runs.create(aRun('u5', 5, { status: 'Error' }));
      expect((await runs.listUnfinished()).map((r) => r.id)).toEqual(['u1', 'u3', 'u4']);

      await runs.transition('u1', ['Queued'], { status: 'Running' });
      expect((await runs.listUnfinished()).map((r) => [r.id, r.status])).toEqual([
        ['u1', 'Running'],
        ['u3', 'Running'],
        ['u4', 'Queued'],
      ]);
      await runs.transition('u3', ['Running'], { status: 'Timeout' });
      await runs.transition('u4', ['Queued'], { status: 'Canceled' });
      expect(await runs.listUnfinished()).toEqual([{ ...aRun('u1', 1), status: 'Running' }]);
    });

    it('lists unfinished runs of every sequence, oldest first, however many keys they are spread over', async () => {
      const { runs } = await fresh();
      const sequences = [17, 3, 8, 1, 24, 9, 16, 2, 11, 30, 5, 4];
      for (const sequence of sequences) await runs.create(aRun(`s${sequence}`, sequence, sequence % 5 === 0 ? { status: 'Failed' } : {}));
      expect((await runs.listUnfinished()).map((r) => r.sequence)).toEqual(sequences.filter((n) => n % 5 !== 0).sort((a, b) => a - b));
    });

    describe('history', () => {
      const PAST = '2090-06-01T11:00:00.000Z';
      const FUTURE = '2090-07-01T00:00:00.000Z';
      const finish = (keepUntil: string) => ({ status: 'Succeeded' as const, finishedAt: '2090-06-01T10:05:00.000Z', durationMs: 300_000, keepUntil });

      it('a run whose keepUntil has passed is gone for get and list', async () => {
        const { runs } = await fresh();
        for (let i = 1; i <= 3; i++) await runs.create(aRun(`da${i}`, i));
        await runs.transition('da1', ['Queued'], finish(PAST));
        await runs.transition('da2', ['Queued'], finish(FUTURE));

        expect(await runs.get('da1')).toBeUndefined();
        expect(await runs.get('da2')).toEqual(aRun('da2', 2, finish(FUTURE)));
        expect((await runs.list({ top: 10 })).map((r) => r.id)).toEqual(['da3', 'da2']);
        expect((await runs.list({ taskName: 'helloworld', top: 10 })).map((r) => r.id)).toEqual(['da3', 'da2']);
        expect((await runs.list({ status: 'Succeeded', top: 10 })).map((r) => r.id)).toEqual(['da2']);
        expect((await runs.list({ top: 1 })).map((r) => r.id)).toEqual(['da3']);
      });

      it('a run is kept until its time and gone once the clock passes it', async () => {
        const { runs } = await fresh();
        await runs.create(aRun('da1', 1));
        await runs.transition('da1', ['Queued'], finish(FUTURE));
        clock.set('2090-06-30T23:59:59.000Z');
        expect((await runs.get('da1'))?.id).toBe('da1');
        clock.set('2090-07-01T00:00:00.000Z');
        expect(await runs.get('da1')).toBeUndefined();
        expect(await runs.list({ top: 10 })).toEqual([]);
      });

      it('a run created with a keepUntil expires too', async () => {
        const { runs } = await fresh();
        await runs.create(aRun('da1', 1, finish(FUTURE)));
        await runs.create(aRun('da2', 2, finish(PAST)));
        expect(await runs.get('da1')).toEqual(aRun('da1', 1, finish(FUTURE)));
        expect(await runs.get('da2')).toBeUndefined();
      });

      it('deleteExpired removes exactly the expired runs and returns their ids, oldest first', async () => {
        const { runs } = await fresh();
        for (let i = 1; i <= 4; i++) await runs.create(aRun(`da${i}`, i));
        await runs.create(aRun('da5', 5, { taskName: undefined })); // a quick build
        await runs.create(aRun('da6', 6, { taskName: 'other' }));
        await runs.transition('da5', ['Queued'], finish(PAST));
        await runs.transition('da1', ['Queued'], finish(PAST));
        await runs.transition('da2', ['Queued'], finish(FUTURE));
        await runs.transition('da4', ['Queued'], finish(PAST));

        expect(await runs.deleteExpired()).toEqual(['da1', 'da4', 'da5']);
        expect((await runs.list({ top: 10 })).map((r) => r.id)).toEqual(['da6', 'da3', 'da2']);
        expect(await runs.deleteExpired()).toEqual([]);
        // Gone for good: the id can be created again.
        await runs.create(aRun('da1', 1));
        expect((await runs.get('da1'))?.status).toBe('Queued');
      });

      it('deleteExpired with nothing expired removes nothing', async () => {
        const { runs } = await fresh();
        expect(await runs.deleteExpired()).toEqual([]);
        await runs.create(aRun('da1', 1));
        await runs.transition('da1', ['Queued'], finish(FUTURE));
        expect(await runs.deleteExpired()).toEqual([]);
        expect((await runs.get('da1'))?.id).toBe('da1');
      });

      it('deleteMany removes the given runs only, more than one batch holds', async () => {
        const { runs } = await fresh();
        const ids = Array.from({ length: 30 }, (_, i) => `da${i + 1}`);
        await runs.createMany(ids.map((id, i) => aRun(id, i + 1, { status: 'Succeeded' })));
        await runs.deleteMany([...ids.slice(0, 27).filter((id) => id !== 'da5'), 'da99']);
        expect((await runs.list({ top: 100 })).map((r) => r.id)).toEqual(['da30', 'da29', 'da28', 'da5']);
        await runs.deleteMany([]);
        expect((await runs.list({ top: 100 })).map((r) => r.id)).toEqual(['da30', 'da29', 'da28', 'da5']);
      });
    });
  });

  describe('DependencyStore', () => {
    it('finds every task that depends on a base, by task name, and every base of a task, by base', async () => {
      const { dependencies } = await fresh();
      await dependencies.replaceForTask('app-b', [edge('app-b', 'lt1/node', { digest: B, pinned: true })]);
      await dependencies.replaceForTask('app-a', [edge('app-a', 'lt1/node'), edge('app-a', 'lt1/alpine', { stage: 'build-time' }), edge('app-a', 'lt1/node', { tag: '10' })]);

      expect(await dependencies.listDependents(REGISTRY, 'lt1/node', '9-alpine')).toEqual([edge('app-a', 'lt1/node'), edge('app-b', 'lt1/node', { digest: B, pinned: true })]);
      expect(await dependencies.listDependents(REGISTRY, 'lt1/node', 'other-tag')).toEqual([]);
      expect(await dependencies.listDependents('other.example', 'lt1/node', '9-alpine')).toEqual([]);
      expect(await dependencies.listForTask('app-a')).toEqual([edge('app-a', 'lt1/alpine', { stage: 'build-time' }), edge('app-a', 'lt1/node', { tag: '10' }), edge('app-a', 'lt1/node')]);
      expect(await dependencies.listForTask('nobody')).toEqual([]);
    });

    it('replaces a task’s edges, keeping the trigger record of the ones that stay', async () => {
      const { dependencies } = await fresh();
      await dependencies.replaceForTask('rp', [edge('rp', 'rp/stays'), edge('rp', 'rp/goes')]);
      expect(await dependencies.claimTrigger(edge('rp', 'rp/stays'), { digest: C, at: '2026-11-28T05:00:00.000Z' }, 'da7')).toBe(true);

      await dependencies.replaceForTask('rp', [
        edge('rp', 'rp/stays', { digest: digest('d'), capturedByRun: 'da8', capturedAt: '2024-05-02T00:00:00.000Z', lastTriggeredDigest: digest('e'), lastTriggeredBy: 'ignored' }),
        edge('rp', 'rp/new', { stage: 'build-time' }),
      ]);

      expect(await dependencies.listForTask('rp')).toEqual([
        edge('rp', 'rp/new', { stage: 'build-time' }),
        edge('rp', 'rp/stays', { digest: digest('d'), capturedByRun: 'da8', capturedAt: '2024-05-02T00:00:00.000Z', lastTriggeredDigest: C, lastTriggeredBy: 'da7' }),
      ]);
      expect(await dependencies.listDependents(REGISTRY, 'rp/goes', '9-alpine')).toEqual([]);
      // The claim's time stayed too: an older push still loses.
      expect(await dependencies.claimTrigger(edge('rp', 'rp/stays'), { digest: digest('f'), at: '2026-11-28T04:00:00.000Z' }, 'da9')).toBe(false);
    });

    it('replaces with nothing, and with more edges than one transaction holds', async () => {
      const { dependencies } = await fresh();
      const many = Array.from({ length: 130 }, (_, i) => edge('wide', `wide/base-${String(i).padStart(3, '0')}`));
      await dependencies.replaceForTask('wide', many);
      expect(await dependencies.listForTask('wide')).toEqual(many);
      await dependencies.replaceForTask('wide', many.slice(0, 3));
      expect(await dependencies.listForTask('wide')).toEqual(many.slice(0, 3));
      await dependencies.replaceForTask('wide', []);
      expect(await dependencies.listForTask('wide')).toEqual([]);
    });

    it('keeps one edge per base, the use that triggers most', async () => {
      const { dependencies } = await fresh();
      await dependencies.replaceForTask('multi', [
        edge('multi', 'ms/node', { stage: 'build-time' }),
        edge('multi', 'ms/node', { stage: 'runtime', digest: digest('e') }),
        edge('multi', 'ms/node', { stage: 'runtime', pinned: true, digest: digest('f') }),
        edge('multi', 'ms/go', { stage: 'runtime', pinned: true, digest: digest('f') }),
        edge('multi', 'ms/go', { stage: 'build-time', digest: digest('1') }),
      ]);
      expect(await dependencies.listForTask('multi')).toEqual([edge('multi', 'ms/go', { stage: 'build-time', digest: digest('1') }), edge('multi', 'ms/node', { stage: 'runtime', digest: digest('e') })]);
    });

    it('refuses edges that belong to another task, writing nothing', async () => {
      const { dependencies } = await fresh();
      await expect(dependencies.replaceForTask('mine', [edge('mine', 'x/z'), edge('theirs', 'x/y')])).rejects.toThrow(ValidationError);
      expect(await dependencies.listForTask('mine')).toEqual([]);
    });

    it('deletes all of a task’s edges and no one else’s', async () => {
      const { dependencies } = await fresh();
      await dependencies.replaceForTask('del', Array.from({ length: 30 }, (_, i) => edge('del', `del/base-${i}`)));
      await dependencies.replaceForTask('keep', [edge('keep', 'del/base-0')]);
      await dependencies.deleteForTask('del');
      expect(await dependencies.listForTask('del')).toEqual([]);
      expect(await dependencies.listDependents(REGISTRY, 'del/base-0', '9-alpine')).toEqual([edge('keep', 'del/base-0')]);
      await dependencies.deleteForTask('del'); // nothing left: harmless
    });

    it('keeps its own copy: changing what was given or read changes nothing stored', async () => {
      const { dependencies } = await fresh();
      const given = edge('cp', 'cp/base');
      await dependencies.replaceForTask('cp', [given]);
      given.digest = B;
      (await dependencies.listForTask('cp'))[0]!.digest = C;
      (await dependencies.listDependents(REGISTRY, 'cp/base', '9-alpine'))[0]!.digest = C;
      expect(await dependencies.listForTask('cp')).toEqual([edge('cp', 'cp/base')]);
    });

    describe('claimTrigger', () => {
      const LATER = '2026-11-28T06:00:00.000Z';
      const push = (d: string, at = '2026-11-28T05:00:00.000Z') => ({ digest: d, at });

      it('lets exactly one of 20 concurrent claims for the same digest win', async () => {
        const { dependencies } = await fresh();
        await dependencies.replaceForTask('race', [edge('race', 'race/node')]);
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => dependencies.claimTrigger(edge('race', 'race/node'), push(digest('9')), `run-${i}`)));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await dependencies.listForTask('race')).toEqual([edge('race', 'race/node', { lastTriggeredDigest: digest('9'), lastTriggeredBy: `run-${results.indexOf(true)}` })]);
      });

      it.each([
        ['a redelivery of a digest already claimed', false, digest('2')],
        ['the digest the last build already used', false, A],
        ['a digest never seen', true, digest('3')],
      ])('for %s returns %s', async (_case, expected, claimed) => {
        const { dependencies } = await fresh();
        await dependencies.replaceForTask('claim', [edge('claim', 'claim/node')]);
        expect(await dependencies.claimTrigger(edge('claim', 'claim/node'), push(digest('2')), 'first')).toBe(true);
        expect(await dependencies.claimTrigger(edge('claim', 'claim/node'), push(claimed, LATER), 'second')).toBe(expected);
      });

      it.each([
        ['an older push, claimed after a newer one', '2026-11-28T04:59:00.000Z', digest('5'), false],
        ['a push at the same time with a smaller digest', '2026-11-28T05:00:00.000Z', digest('1'), false],
        ['a push at the same time with a greater digest', '2026-11-28T05:00:00.000Z', digest('f'), true],
        ['a newer push', '2026-11-28T05:00:01.000Z', digest('5'), true],
        ['a newer push, its time written with an offset', '2026-11-28T07:00:01+02:00', digest('5'), true],
      ])('after a claim of a push at 05:00, %s: %s', async (_case, at, claimed, expected) => {
        const { dependencies } = await fresh();
        await dependencies.replaceForTask('order', [edge('order', 'order/node')]);
        expect(await dependencies.claimTrigger(edge('order', 'order/node'), push(digest('3'), '2026-11-28T05:00:00.000Z'), 'first')).toBe(true);
        expect(await dependencies.claimTrigger(edge('order', 'order/node'), push(claimed, at), 'second')).toBe(expected);
      });

      it('refuses an edge that does not exist, without creating it', async () => {
        const { dependencies } = await fresh();
        expect(await dependencies.claimTrigger(edge('ghost', 'ghost/node'), push(digest('4')), 'da1')).toBe(false);
        expect(await dependencies.listDependents(REGISTRY, 'ghost/node', '9-alpine')).toEqual([]);
        expect(await dependencies.listForTask('ghost')).toEqual([]);
      });

      it('refuses a push time it cannot read', async () => {
        const { dependencies } = await fresh();
        await dependencies.replaceForTask('bad', [edge('bad', 'bad/node')]);
        await expect(dependencies.claimTrigger(edge('bad', 'bad/node'), push(B, 'yesterday'), 'da1')).rejects.toThrow(ValidationError);
        expect(await dependencies.listForTask('bad')).toEqual([edge('bad', 'bad/node')]);
      });

      it('gives a claim back to its claimer only; then the digest, or an older push, can be claimed again', async () => {
        const { dependencies } = await fresh();
        await dependencies.replaceForTask('rel', [edge('rel', 'rel/node')]);
        expect(await dependencies.claimTrigger(edge('rel', 'rel/node'), push(B), 'da1')).toBe(true);
        await dependencies.releaseTrigger(edge('rel', 'rel/node'), B, 'someone-else');
        await dependencies.releaseTrigger(edge('rel', 'rel/node'), C, 'da1');
        expect(await dependencies.listForTask('rel')).toEqual([edge('rel', 'rel/node', { lastTriggeredDigest: B, lastTriggeredBy: 'da1' })]);
        expect(await dependencies.claimTrigger(edge('rel', 'rel/node'), push(B, LATER), 'da2')).toBe(false);

        await dependencies.releaseTrigger(edge('rel', 'rel/node'), B, 'da1');
        expect(await dependencies.listForTask('rel')).toEqual([edge('rel', 'rel/node')]);
        expect(await dependencies.claimTrigger(edge('rel', 'rel/node'), push(C, '2026-11-28T04:00:00.000Z'), 'da3')).toBe(true);
        await dependencies.releaseTrigger(edge('nobody', 'rel/node'), C, 'da3'); // no such edge: harmless
        expect(await dependencies.listDependents(REGISTRY, 'rel/node', '9-alpine')).toEqual([edge('rel', 'rel/node', { lastTriggeredDigest: C, lastTriggeredBy: 'da3' })]);
      });
    });

    it('marks every edge to a deleted tag gone; a claim of a new push clears the mark, a recapture keeps it', async () => {
      const { dependencies } = await fresh();
      await dependencies.replaceForTask('g1', [edge('g1', 'gone/node')]);
      await dependencies.replaceForTask('g2', [edge('g2', 'gone/node'), edge('g2', 'kept/node')]);
      const at = '2026-11-28T05:30:00.000Z';
      expect(await dependencies.markTagGone(REGISTRY, 'gone/node', '9-alpine', at)).toBe(2);
      expect(await dependencies.markTagGone(REGISTRY, 'never/pushed', '9-alpine', at)).toBe(0);
      expect(await dependencies.listDependents(REGISTRY, 'gone/node', '9-alpine')).toEqual([edge('g1', 'gone/node', { tagGoneAt: at }), edge('g2', 'gone/node', { tagGoneAt: at })]);
      expect(await dependencies.listDependents(REGISTRY, 'kept/node', '9-alpine')).toEqual([edge('g2', 'kept/node')]);

      expect(await dependencies.claimTrigger(edge('g1', 'gone/node'), { digest: B, at: '2026-11-28T06:00:00.000Z' }, 'da4')).toBe(true);
      await dependencies.replaceForTask('g2', [edge('g2', 'gone/node', { capturedByRun: 'da5' })]);
      expect(await dependencies.listDependents(REGISTRY, 'gone/node', '9-alpine')).toEqual([
        edge('g1', 'gone/node', { lastTriggeredDigest: B, lastTriggeredBy: 'da4' }),
        edge('g2', 'gone/node', { capturedByRun: 'da5', tagGoneAt: at }),
      ]);
    });
  });

  describe('ImageStateStore', () => {
    const t = (minute: number) => `2024-05-01T10:${String(minute).padStart(2, '0')}:00.000Z`;
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
    ])('%s', async (_scenario, steps) => {
      const { imageStates } = await fresh();
      const outcomes: string[] = [];
      for (const [, d, occurredAt] of steps) outcomes.push(await imageStates.recordIfNewer(REGISTRY, 'state/node', '9-alpine', d, occurredAt));
      expect(steps.map(([what, , , expected]) => [what, expected])).toEqual(steps.map(([what], i) => [what, outcomes[i]]));
    });

    it('keeps tags apart', async () => {
      const { imageStates } = await fresh();
      expect(await imageStates.recordIfNewer('r.example', 'apart', 'one', A, t(30))).toBe('newer');
      expect(await imageStates.recordIfNewer('r.example', 'apart', 'two', B, t(10))).toBe('newer');
      expect(await imageStates.recordIfNewer('s.example', 'apart', 'one', B, t(10))).toBe('newer');
      expect(await imageStates.current('r.example', 'apart', 'one')).toEqual({ digest: A, occurredAt: t(30) });
    });

    it('refuses a time it cannot read, recording nothing', async () => {
      const { imageStates } = await fresh();
      await expect(imageStates.recordIfNewer('r.example', 'bad', 'x', A, 'yesterday')).rejects.toThrow(ValidationError);
      await expect(imageStates.recordPush('r.example', 'bad', 'x', A, '')).rejects.toThrow(ValidationError);
      expect(await imageStates.current('r.example', 'bad', 'x')).toBeUndefined();
    });

    const producer: ImageProducer = { digest: A, taskName: 'app-base', runId: 'da5', origin: { root: 'run:da5', via: [] } };

    it('current is undefined for a tag never seen, and for a tag with only its producer recorded', async () => {
      const { imageStates } = await fresh();
      expect(await imageStates.current(REGISTRY, 'current/unknown', '1')).toBeUndefined();
      expect(await imageStates.producer(REGISTRY, 'current/unknown', '1')).toBeUndefined();
      await imageStates.recordProducer(REGISTRY, 'current/produced', '1', producer);
      expect(await imageStates.current(REGISTRY, 'current/produced', '1')).toBeUndefined();
      expect(await imageStates.producer(REGISTRY, 'current/produced', '1')).toEqual(producer);
    });

    it('recordPush reads the producer and the pushers in the same request, whatever the push’s age', async () => {
      const { imageStates, openings } = await fresh();
      expect(await imageStates.recordPush(REGISTRY, 'rp/base', '1', B, t(10))).toEqual({ age: 'newer', pushing: [] });
      await imageStates.recordProducer(REGISTRY, 'rp/base', '1', producer);
      expect(await imageStates.recordPush(REGISTRY, 'rp/base', '1', A, t(20))).toEqual({ age: 'newer', producer, pushing: [] });
      await openings.open([anOpening(taskRun('da7', 7), { pushes: [`${REGISTRY}/rp/base:1`] })]);
      const pushing = [{ runId: 'da7', taskName: 'app', root: ROOT }];
      expect(await imageStates.recordPush(REGISTRY, 'rp/base', '1', A, t(20))).toEqual({ age: 'same', producer, pushing });
      expect(await imageStates.recordPush(REGISTRY, 'rp/base', '1', C, t(5))).toEqual({ age: 'older', producer, pushing });
      expect(await imageStates.current(REGISTRY, 'rp/base', '1')).toEqual({ digest: A, occurredAt: t(20) });
    });

    it('current is the newest digest and its time; an older push later does not change it', async () => {
      const { imageStates } = await fresh();
      const steps: Array<[string, string, 'newer' | 'same' | 'older', { digest: string; occurredAt: string }]> = [
        [A, '2026-11-28T04:10:00.000Z', 'newer', { digest: A, occurredAt: '2026-11-28T04:10:00.000Z' }],
        [B, '2026-11-28T04:20:00.000Z', 'newer', { digest: B, occurredAt: '2026-11-28T04:20:00.000Z' }],
        [C, '2026-11-28T04:15:00.000Z', 'older', { digest: B, occurredAt: '2026-11-28T04:20:00.000Z' }],
        [A, '2026-11-28T04:19:59.999Z', 'older', { digest: B, occurredAt: '2026-11-28T04:20:00.000Z' }],
        [B, '2026-11-28T04:30:00.000Z', 'same', { digest: B, occurredAt: '2026-11-28T04:30:00.000Z' }],
      ];
      const seen: unknown[] = [];
      for (const [d, at] of steps) {
        const { age } = await imageStates.recordPush(REGISTRY, 'current/newest', '9-alpine', d, at);
        seen.push([age, await imageStates.current(REGISTRY, 'current/newest', '9-alpine')]);
      }
      expect(seen).toEqual(steps.map(([, , age, current]) => [age, current]));
      expect(await imageStates.current(REGISTRY, 'current/newest', 'latest')).toBeUndefined();
    });

    it('a producer recorded after the pushes leaves the current digest alone, and a newer producer replaces it', async () => {
      const { imageStates } = await fresh();
      await imageStates.recordPush(REGISTRY, 'current/late-producer', '1', B, '2026-11-28T04:20:00.000Z');
      await imageStates.recordProducer(REGISTRY, 'current/late-producer', '1', producer);
      await imageStates.recordProducer(REGISTRY, 'current/late-producer', '1', { ...producer, digest: B, runId: 'da6' });
      expect(await imageStates.current(REGISTRY, 'current/late-producer', '1')).toEqual({ digest: B, occurredAt: '2026-11-28T04:20:00.000Z' });
      expect(await imageStates.producer(REGISTRY, 'current/late-producer', '1')).toEqual({ ...producer, digest: B, runId: 'da6' });
    });

    it('pushers reads the producer and the runs pushing the tag, without recording anything', async () => {
      const { imageStates, openings } = await fresh();
      expect(await imageStates.pushers(REGISTRY, 'pp/base', '1')).toEqual({ pushing: [] });
      await imageStates.recordProducer(REGISTRY, 'pp/base', '1', producer);
      await openings.open([anOpening(taskRun('da9', 9, { taskName: 'b-task' }), { pushes: [`${REGISTRY}/pp/base:1`] }), anOpening(taskRun('da10', 10), { pushes: [`${REGISTRY}/pp/base:1`] })]);
      // By run id, as DynamoDB orders text: da10 before da9.
      expect(await imageStates.pushers(REGISTRY, 'pp/base', '1')).toEqual({
        producer,
        pushing: [
          { runId: 'da10', taskName: 'app', root: ROOT },
          { runId: 'da9', taskName: 'b-task', root: ROOT },
        ],
      });
      expect(await imageStates.current(REGISTRY, 'pp/base', '1')).toBeUndefined();
    });

    it('stopPushing removes the run from each tag it pushed, and leaves other runs and tags as they are', async () => {
      const { imageStates, openings } = await fresh();
      const [one, two, other] = ['sp/one:1', 'sp/two:1', 'sp/other:1'].map((ref) => `${REGISTRY}/${ref}`) as [string, string, string];
      await openings.open([anOpening(taskRun('da1', 1), { pushes: [one, two] }), anOpening(taskRun('da2', 2, { taskName: 'b-task' }), { pushes: [two] })]);
      await imageStates.stopPushing([one, two, other], 'da1');
      await imageStates.stopPushing([one], 'da1'); // again: harmless
      expect(await imageStates.pushers(REGISTRY, 'sp/one', '1')).toEqual({ pushing: [] });
      expect(await imageStates.pushers(REGISTRY, 'sp/two', '1')).toEqual({ pushing: [{ runId: 'da2', taskName: 'b-task', root: ROOT }] });
      // A tag the run never pushed gets no state of its own.
      expect(await imageStates.pushers(REGISTRY, 'sp/other', '1')).toEqual({ pushing: [] });
      expect(await imageStates.recordPush(REGISTRY, 'sp/other', '1', A, t(1))).toEqual({ age: 'newer', pushing: [] });
    });
  });

  describe('WebhookStore', () => {
    it('creates, gets, lists by name, refuses duplicates and deletes', async () => {
      const { webhooks } = await fresh();
      await webhooks.create(hook('w-b'));
      await webhooks.create(hook('w-a', { provider: 'github', loginServer: undefined, secrets: ['only'] }));
      await expect(webhooks.create(hook('w-b', { secrets: ['replaced'] }))).rejects.toThrow(ConflictError);

      expect(await webhooks.get('w-b')).toEqual(hook('w-b'));
      expect(await webhooks.get('w-a')).toEqual({ name: 'w-a', provider: 'github', secrets: ['only'], createdAt: '2024-05-01T10:00:00.000Z' });
      expect((await webhooks.list()).map((w) => w.name)).toEqual(['w-a', 'w-b']);

      await webhooks.delete('w-b');
      expect(await webhooks.get('w-b')).toBeUndefined();
      expect((await webhooks.list()).map((w) => w.name)).toEqual(['w-a']);
      await webhooks.delete('w-b'); // already gone: harmless
    });

    it('replaces the secrets of a webhook, and says NotFound for a webhook that does not exist, creating none', async () => {
      const { webhooks } = await fresh();
      await webhooks.create(hook('w'));
      const secrets = ['new-one', 's3cr3t-one'];
      await webhooks.setSecrets('w', secrets);
      secrets.push('added-after');
      expect(await webhooks.get('w')).toEqual(hook('w', { secrets: ['new-one', 's3cr3t-one'] }));
      await expect(webhooks.setSecrets('missing', ['x'])).rejects.toThrow(NotFoundError);
      expect(await webhooks.get('missing')).toBeUndefined();
      expect((await webhooks.list()).map((w) => w.name)).toEqual(['w']);
    });
  });

  describe('NotificationStore', () => {
    const notification = (name: string, overrides: Partial<Notification> = {}): Notification => ({
      name,
      url: 'https://hooks.example.com/cascade',
      events: ['run.succeeded', 'run.failed'],
      format: 'json',
      secretRef: `ref:notification/${name}`,
      createdAt: '2090-06-01T11:00:00.000Z',
      ...overrides,
    });
    const delivery = (id: string, overrides: Partial<NotificationDelivery> = {}): NotificationDelivery => ({
      id,
      notification: 'ops',
      event: 'run.succeeded',
      runId: 'da1',
      task: 'app',
      status: 'pending',
      createdAt: START,
      attempts: [],
      body: '{"event":"run.succeeded"}',
      keepUntil: '2090-07-01T12:00:00.000Z',
      ...overrides,
    });
    const attempt = (number: number, overrides: Partial<DeliveryAttempt> = {}): DeliveryAttempt => ({ number, at: START, durationMs: 12, httpStatus: 500, ...overrides });

    it('creates, gets, lists by name, refuses a name that is taken, and deletes', async () => {
      const { notifications } = await fresh();
      await notifications.create(notification('ops', { task: 'app', events: ['base.deleted'], format: 'slack' }));
      await notifications.create(notification('alerts'));
      await expect(notifications.create(notification('ops', { url: 'https://other.example.com/' }))).rejects.toThrow(ConflictError);
      expect(await notifications.get('ops')).toEqual(notification('ops', { task: 'app', events: ['base.deleted'], format: 'slack' }));
      expect((await notifications.list()).map((n) => n.name)).toEqual(['alerts', 'ops']);
      await notifications.delete('ops');
      expect(await notifications.get('ops')).toBeUndefined();
      expect((await notifications.list()).map((n) => n.name)).toEqual(['alerts']);
      await notifications.delete('ops'); // already gone: harmless
    });

    it('writes a delivery once, and lists a notification\'s deliveries newest first, at most top', async () => {
      const { notifications } = await fresh();
      await notifications.create(notification('ops'));
      expect(await notifications.createDelivery(delivery('20900601T120000000Z-a'))).toBe(true);
      expect(await notifications.createDelivery(delivery('20900601T120000000Z-a', { body: 'another' }))).toBe(false);
      expect(await notifications.createDelivery(delivery('20900601T120001000Z-b', { runId: undefined, task: undefined, event: 'test' }))).toBe(true);
      expect(await notifications.createDelivery(delivery('20900601T115959000Z-c'))).toBe(true);
      // Another notification's delivery of the same id is its own.
      expect(await notifications.createDelivery(delivery('20900601T120000000Z-a', { notification: 'alerts' }))).toBe(true);
      expect(await notifications.getDelivery('ops', '20900601T120000000Z-a')).toEqual(delivery('20900601T120000000Z-a'));
      expect((await notifications.listDeliveries('ops', 10)).map((d) => d.id)).toEqual(['20900601T120001000Z-b', '20900601T120000000Z-a', '20900601T115959000Z-c']);
      expect((await notifications.listDeliveries('ops', 2)).map((d) => d.id)).toEqual(['20900601T120001000Z-b', '20900601T120000000Z-a']);
      expect(await notifications.listDeliveries('nobody', 10)).toEqual([]);
    });

    it('records each attempt once, in order, while the delivery is pending', async () => {
      const { notifications } = await fresh();
      await notifications.create(notification('ops'));
      await notifications.createDelivery(delivery('d1'));
      const retry = { status: 'pending' as const, nextAttemptAt: '2090-06-01T12:00:01.000Z', detail: 'HTTP 500; tried again' };
      expect(await notifications.recordAttempt('ops', 'd1', attempt(1), retry)).toBe(true);
      // The same attempt again, and one out of order, change nothing.
      expect(await notifications.recordAttempt('ops', 'd1', attempt(1, { httpStatus: 502 }), retry)).toBe(false);
      expect(await notifications.recordAttempt('ops', 'd1', attempt(3), retry)).toBe(false);
      expect(await notifications.getDelivery('ops', 'd1')).toEqual(delivery('d1', { attempts: [attempt(1)], ...retry }));
      // Delivered: the next attempt and the retry's detail are gone.
      expect(await notifications.recordAttempt('ops', 'd1', attempt(2, { httpStatus: undefined, error: 'connection refused' }), { status: 'delivered' })).toBe(true);
      expect(await notifications.getDelivery('ops', 'd1')).toEqual(delivery('d1', { attempts: [attempt(1), { number: 2, at: START, durationMs: 12, error: 'connection refused' }], status: 'delivered' }));
      // Once it is no longer pending, no attempt is recorded.
      expect(await notifications.recordAttempt('ops', 'd1', attempt(3), { status: 'failed', detail: 'late' })).toBe(false);
      expect(await notifications.recordAttempt('ops', 'nobody', attempt(1), retry)).toBe(false);
      expect(await notifications.getDelivery('ops', 'nobody')).toBeUndefined();
    });

    it('lets exactly one of 10 concurrent records of the same attempt win', async () => {
      const { notifications } = await fresh();
      await notifications.create(notification('ops'));
      await notifications.createDelivery(delivery('d1'));
      const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => notifications.recordAttempt('ops', 'd1', attempt(1, { durationMs: i }), { status: 'failed', detail: 'HTTP 404' })));
      expect(outcomes.filter(Boolean)).toHaveLength(1);
      expect((await notifications.getDelivery('ops', 'd1'))?.attempts).toHaveLength(1);
    });

    it('removes the deliveries with their notification, and no one else\'s', async () => {
      const { notifications } = await fresh();
      await notifications.create(notification('ops'));
      await notifications.create(notification('alerts'));
      for (let i = 0; i < 30; i += 1) await notifications.createDelivery(delivery(`d${String(i).padStart(2, '0')}`));
      await notifications.createDelivery(delivery('d00', { notification: 'alerts' }));
      await notifications.delete('ops');
      expect(await notifications.listDeliveries('ops', 100)).toEqual([]);
      expect((await notifications.listDeliveries('alerts', 100)).map((d) => d.id)).toEqual(['d00']);
    });

    it('a delivery past its keepUntil is gone for get and list', async () => {
      const { notifications } = await fresh();
      await notifications.create(notification('ops'));
      await notifications.createDelivery(delivery('d-old', { keepUntil: '2090-06-01T13:00:00.000Z' }));
      await notifications.createDelivery(delivery('d-new', { keepUntil: '2090-06-02T13:00:00.000Z' }));
      clock.set('2090-06-01T13:00:00.000Z');
      expect(await notifications.getDelivery('ops', 'd-old')).toBeUndefined();
      expect((await notifications.listDeliveries('ops', 10)).map((d) => d.id)).toEqual(['d-new']);
      expect((await notifications.listDeliveries('ops', 1)).map((d) => d.id)).toEqual(['d-new']);
    });

    it('keeps its own copy: changing what was given or read changes nothing stored', async () => {
      const { notifications } = await fresh();
      const given = notification('ops');
      await notifications.create(given);
      given.events.push('base.deleted');
      (await notifications.get('ops'))!.events.length = 0;
      expect(await notifications.get('ops')).toEqual(notification('ops'));
      const d = delivery('d1');
      await notifications.createDelivery(d);
      d.attempts.push(attempt(1));
      (await notifications.getDelivery('ops', 'd1'))!.attempts.push(attempt(1));
      expect((await notifications.getDelivery('ops', 'd1'))?.attempts).toEqual([]);
    });
  });

  describe('DeliveryStore', () => {
    it('says true to the first sighting of a key only, concurrent ones included', async () => {
      const { deliveries } = await fresh();
      const results = await Promise.all(Array.from({ length: 10 }, () => deliveries.markSeen('d-concurrent', 3600)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await deliveries.markSeen('d-concurrent', 3600)).toBe(false);
      expect(await deliveries.markSeen('d-another', 3600)).toBe(true);
    });

    it('treats a record past its time as unseen, and starts its time again', async () => {
      const { deliveries } = await fresh();
      expect(await deliveries.markSeen('d-expiring', 60)).toBe(true);
      clock.advance(59_000);
      expect(await deliveries.markSeen('d-expiring', 60)).toBe(false);
      clock.advance(1_000);
      expect(await deliveries.markSeen('d-expiring', 60)).toBe(true);
      clock.advance(59_999);
      expect(await deliveries.markSeen('d-expiring', 60)).toBe(false);
    });

    it('rounds a TTL up to whole seconds; none at all expires at once', async () => {
      const { deliveries } = await fresh();
      expect(await deliveries.markSeen('d-part', 0.2)).toBe(true);
      expect(await deliveries.markSeen('d-part', 0.2)).toBe(false);
      clock.advance(1_000);
      expect(await deliveries.markSeen('d-part', 0.2)).toBe(true);
      expect(await deliveries.markSeen('d-none', 0)).toBe(true);
      expect(await deliveries.markSeen('d-none', 0)).toBe(true);
    });

    it('forgets a key so that the provider’s retry gets through', async () => {
      const { deliveries } = await fresh();
      expect(await deliveries.markSeen('d-forget', 3600)).toBe(true);
      await deliveries.forget('d-forget');
      expect(await deliveries.markSeen('d-forget', 3600)).toBe(true);
      await deliveries.forget('never-seen'); // harmless
    });
  });

  describe('BuildSlotStore', () => {
    it('admits the first run to build, the next ones to wait, each taking the place of the one before', async () => {
      const { slots } = await fresh();
      expect(await slots.get('app')).toEqual({});
      expect(await slots.admit('app', 'da1')).toEqual({ admitted: 'build' });
      expect(await slots.admit('app', 'da2')).toEqual({ admitted: 'wait', behind: 'da1' });
      expect(await slots.admit('app', 'da3')).toEqual({ admitted: 'wait', behind: 'da1', superseded: 'da2' });
      // Admitted again while waiting: it keeps its place and supersedes no one.
      expect(await slots.admit('app', 'da3')).toEqual({ admitted: 'wait', behind: 'da1' });
      expect(await slots.get('app')).toEqual({ building: 'da1', waiting: 'da3' });
      expect(await slots.get('other')).toEqual({});
      expect(await slots.admit('other', 'da4')).toEqual({ admitted: 'build' });
      // Admitted again while building (a retried event, recovery after a crash): it still builds.
      expect(await slots.admit('other', 'da4')).toEqual({ admitted: 'build' });
      expect(await slots.get('other')).toEqual({ building: 'da4' });
    });

    it('release hands the place to the waiting run, then frees it', async () => {
      const { slots } = await fresh();
      await slots.admit('app', 'da1');
      await slots.admit('app', 'da2');
      expect(await slots.release('app', 'da1')).toBe('da2');
      expect(await slots.get('app')).toEqual({ building: 'da2' });
      expect(await slots.release('app', 'da2')).toBeUndefined();
      expect(await slots.get('app')).toEqual({});
      expect(await slots.admit('app', 'da3')).toEqual({ admitted: 'build' });
    });

    it('a waiting run that will not build gives its place back; a stranger’s release changes nothing', async () => {
      const { slots } = await fresh();
      await slots.admit('app', 'da1');
      await slots.admit('app', 'da2');
      expect(await slots.release('app', 'da9')).toBeUndefined();
      expect(await slots.get('app')).toEqual({ building: 'da1', waiting: 'da2' });
      expect(await slots.release('app', 'da2')).toBeUndefined();
      expect(await slots.get('app')).toEqual({ building: 'da1' });
      expect(await slots.release('app', 'da1')).toBeUndefined();
      expect(await slots.release('never', 'da1')).toBeUndefined();
      expect(await slots.get('app')).toEqual({});
    });

    it('of concurrent admissions, one builds and the others wait, each but the last superseded once', async () => {
      const { slots } = await fresh();
      const ids = Array.from({ length: 6 }, (_, i) => `r${i}`);
      const admissions = await Promise.all(ids.map((id) => slots.admit('burst', id)));
      const builders = ids.filter((_, i) => admissions[i]!.admitted === 'build');
      expect(builders).toHaveLength(1);
      const superseded = admissions.flatMap((a) => (a.admitted === 'wait' && a.superseded ? [a.superseded] : []));
      const { building, waiting } = await slots.get('burst');
      expect(building).toBe(builders[0]);
      expect([...superseded, waiting].sort()).toEqual(ids.filter((id) => id !== building).sort());
    });

  });

  describe('RunOpenings', () => {
    const TARGET = `${REGISTRY}/app/image:latest`;
    const ONCE = { key: `origin#${ROOT}#app`, ttlSeconds: 3600 };
    /** An Image Update run of `app` for the change ROOT, with everything that makes it count. */
    const whole = (run: Run): RunOpening => anOpening(run, { claim: claimOf('app'), once: ONCE, pushes: [TARGET], build: true });

    it('writes a run with its claim, its mark, its gate, its pushes and its building place', async () => {
      const stores = await fresh();
      const { openings, runs, dependencies, deliveries, gates, imageStates, slots } = stores;
      await dependencies.replaceForTask('app', [edge('app', 'base/node')]);
      const run = taskRun('da1', 1);
      expect(await openings.open([whole(run)])).toEqual([{ opened: true, building: true }]);
      expect(await runs.get('da1')).toEqual(run);
      expect((await runs.listUnfinished()).map((r) => r.id)).toEqual(['da1']);
      expect(await dependencies.listForTask('app')).toEqual([edge('app', 'base/node', { lastTriggeredDigest: B, lastTriggeredBy: 'd-1' })]);
      expect(await deliveries.markSeen(ONCE.key, 3600)).toBe(false);
      expect(await slots.get('app')).toEqual({ building: 'da1' });
      expect(await imageStates.recordPush(REGISTRY, 'app/image', 'latest', C, START)).toEqual({ age: 'newer', pushing: [{ runId: 'da1', taskName: 'app', root: ROOT }] });
      expect(await gates.hold(ROOT, 'app', held('d-9'))).toBe(true);
    });

    const claimedByAnother = (s: ContractStores) => s.dependencies.claimTrigger(edge('app', 'base/node'), { digest: B, at: START }, 'd-other');
    const markedByAnother = (s: ContractStores) => s.deliveries.markSeen(ONCE.key, 3600);
    it.each<[string, Array<(s: ContractStores) => Promise<unknown>>, 'claim' | 'once']>([
      ['its edge claimed by another for the digest', [claimedByAnother], 'claim'],
      ['its mark made by another', [markedByAnother], 'once'],
      ['both', [claimedByAnother, markedByAnother], 'claim'],
    ])('with %s, writes nothing and says what it lost to', async (_case, before, lost) => {
      const stores = await fresh();
      await stores.dependencies.replaceForTask('app', [edge('app', 'base/node')]);
      for (const step of before) await step(stores);
      const edges = await stores.dependencies.listForTask('app');
      expect(await stores.openings.open([whole(taskRun('da1', 1))])).toEqual([{ opened: false, lost }]);
      expect(await stores.runs.get('da1')).toBeUndefined();
      expect(await stores.dependencies.listForTask('app')).toEqual(edges);
      expect(await stores.slots.get('app')).toEqual({});
      expect(await stores.imageStates.pushers(REGISTRY, 'app/image', 'latest')).toEqual({ pushing: [] });
      expect(await stores.gates.hold(ROOT, 'app', held('d-9'))).toBe(false);
      // The mark is still free, unless another made it.
      expect(await stores.deliveries.markSeen(ONCE.key, 3600)).toBe(!before.includes(markedByAnother));
    });

    it('writes the run without the building place when another run builds', async () => {
      const stores = await fresh();
      await stores.dependencies.replaceForTask('app', [edge('app', 'base/node')]);
      await stores.slots.admit('app', 'da0');
      expect(await stores.openings.open([whole(taskRun('da1', 1))])).toEqual([{ opened: true, building: false }]);
      expect(await stores.runs.get('da1')).toEqual(taskRun('da1', 1));
      expect(await stores.slots.get('app')).toEqual({ building: 'da0' });
      expect(await stores.imageStates.pushers(REGISTRY, 'app/image', 'latest')).toEqual({ pushing: [{ runId: 'da1', taskName: 'app', root: ROOT }] });
    });

    it('gives the building place to the first opening of a task in one call', async () => {
      const { openings, slots } = await fresh();
      const outcomes = await openings.open([anOpening(taskRun('da1', 1), { build: true }), anOpening(taskRun('da2', 2, { taskName: 'other' }), { build: true }), anOpening(taskRun('da3', 3), { build: true })]);
      expect(outcomes).toEqual([
        { opened: true, building: true },
        { opened: true, building: true },
        { opened: true, building: false },
      ]);
      expect(await slots.get('app')).toEqual({ building: 'da1' });
      expect(await slots.get('other')).toEqual({ building: 'da2' });
    });

    it('opens runs entering one gate and pushing one tag in one call', async () => {
      const { openings, gates, imageStates } = await fresh();
      const runs = [taskRun('da1', 1), taskRun('da2', 2), taskRun('da3', 3)];
      expect(await openings.open(runs.map((run) => anOpening(run, { pushes: [TARGET, `${REGISTRY}/app/image:${run.id}`] })))).toEqual(runs.map(() => ({ opened: true, building: false })));
      expect((await imageStates.pushers(REGISTRY, 'app/image', 'latest')).pushing.map((p) => p.runId)).toEqual(['da1', 'da2', 'da3']);
      expect((await imageStates.pushers(REGISTRY, 'app/image', 'da2')).pushing.map((p) => p.runId)).toEqual(['da2']);
      expect(await gates.hold(ROOT, 'app', held('d-9'))).toBe(true);
      expect(await gates.leave(ROOT, 'app', 'da1')).toEqual([]);
      expect(await gates.leave(ROOT, 'app', 'da3')).toEqual([]);
      expect(await gates.leave(ROOT, 'app', 'da2')).toEqual([held('d-9')]);
    });

    it('opens the runs of a change without an origin, and runs without a task, in their own gates', async () => {
      const { openings, gates } = await fresh();
      const quick = taskRun('da2', 2, { taskName: undefined, origin: undefined });
      expect(await openings.open([anOpening(taskRun('da1', 1, { origin: undefined })), anOpening(quick)])).toEqual([
        { opened: true, building: false },
        { opened: true, building: false },
      ]);
      expect(await gates.hold('run:da1', 'app', held('d-9'))).toBe(true);
      expect(await gates.hold(ROOT, 'app', held('d-9'))).toBe(false);
    });

    it('opens 40 runs in several requests, answering each', async () => {
      const stores = await fresh();
      const tasks = Array.from({ length: 40 }, (_, i) => `t${String(i).padStart(2, '0')}`);
      for (const task of tasks) await stores.dependencies.replaceForTask(task, [edge(task, 'base/node')]);
      // Some lose their claim, one its mark, one finds its building place taken.
      for (const task of ['t05', 't20']) await stores.dependencies.claimTrigger(edge(task, 'base/node'), { digest: B, at: START }, 'd-other');
      await stores.deliveries.markSeen(`origin#${ROOT}#t33`, 3600);
      await stores.slots.admit('t12', 'da0');
      const opening = (task: string, i: number) =>
        anOpening(taskRun(`da${i + 1}`, i + 1, { taskName: task }), { claim: claimOf(task), once: { key: `origin#${ROOT}#${task}`, ttlSeconds: 3600 }, pushes: [`${REGISTRY}/${task}/image:latest`], build: true });
      const before = stores.requestCount();
      const outcomes = await stores.openings.open(tasks.map(opening));
      // Six writes an opening, 16 openings a transaction: three, each sent again once without its losers.
      expect(stores.requestCount() - before).toBe(6);
      const expected = (task: string): OpeningOutcome =>
        task === 't05' || task === 't20' ? { opened: false, lost: 'claim' } : task === 't33' ? { opened: false, lost: 'once' } : { opened: true, building: task !== 't12' };
      expect(outcomes).toEqual(tasks.map(expected));
      const unfinished = (await stores.runs.listUnfinished()).map((r) => r.taskName);
      expect(unfinished).toEqual(tasks.filter((task) => expected(task).opened));
      expect(await stores.slots.get('t12')).toEqual({ building: 'da0' });
      expect(await stores.slots.get('t13')).toEqual({ building: 'da14' });
    });

    it('refuses a run that exists already', async () => {
      const { openings, runs } = await fresh();
      await runs.create(taskRun('da1', 1, { status: 'Running' }));
      await expect(openings.open([anOpening(taskRun('da1', 1))])).rejects.toThrow(ConflictError);
      expect((await runs.get('da1'))?.status).toBe('Running');
    });

    it('refuses, writing nothing, a claim whose push time it cannot read', async () => {
      const { openings, runs } = await fresh();
      await expect(openings.open([anOpening(taskRun('da1', 1)), anOpening(taskRun('da2', 2), { claim: { ...claimOf('app'), at: 'yesterday' } })])).rejects.toThrow(ValidationError);
      expect(await runs.get('da1')).toBeUndefined();
    });

    it('of concurrent openings on one claim, one wins', async () => {
      const { openings, dependencies, runs } = await fresh();
      await dependencies.replaceForTask('app', [edge('app', 'base/node')]);
      const outcomes = (await Promise.all(Array.from({ length: 6 }, (_, i) => openings.open([anOpening(taskRun(`da${i + 1}`, i + 1), { claim: claimOf('app') })])))).flat();
      expect(outcomes.filter((o) => o.opened)).toHaveLength(1);
      expect(outcomes.filter((o) => !o.opened)).toEqual(Array.from({ length: 5 }, () => ({ opened: false, lost: 'claim' })));
      expect(await runs.listUnfinished()).toHaveLength(1);
    });
  });

  describe('GateStore', () => {
    it('holds nothing while no run is in the gate', async () => {
      const { gates } = await fresh();
      expect(await gates.hold(ROOT, 'app', held('d-1'))).toBe(false);
      expect(await gates.leave(ROOT, 'app', 'da1')).toEqual([]);
      expect(await gates.hold(ROOT, 'app', held('d-1'))).toBe(false);
    });

    it('holds while a run is in; the last run out takes what was held, by dependent then delivery', async () => {
      const { gates, openings } = await fresh();
      await openings.open([anOpening(taskRun('da1', 1)), anOpening(taskRun('da2', 2)), anOpening(taskRun('da3', 3, { taskName: 'other' }))]);
      expect(await gates.hold(ROOT, 'app', held('d-2', 'app-b'))).toBe(true);
      expect(await gates.hold(ROOT, 'app', held('d-1'))).toBe(true);
      expect(await gates.leave(ROOT, 'app', 'da1')).toEqual([]);
      expect(await gates.leave(ROOT, 'app', 'da9')).toEqual([]); // never in: changes nothing
      expect(await gates.hold(ROOT, 'app', held('d-1', 'app-a'))).toBe(true);
      expect(await gates.hold('another-root', 'app', held('d-3'))).toBe(false);
      expect(await gates.leave(ROOT, 'app', 'da2')).toEqual([held('d-1'), held('d-1', 'app-a'), held('d-2', 'app-b')]);
      // Taken once: a leave again (after a crash) finds nothing; the gate holds no more.
      expect(await gates.leave(ROOT, 'app', 'da2')).toEqual([]);
      expect(await gates.hold(ROOT, 'app', held('d-4'))).toBe(false);
      // Another task's gate for the same change is its own.
      expect(await gates.leave(ROOT, 'other', 'da3')).toEqual([]);
    });

    it('a redelivered hold is one entry, the last one', async () => {
      const { gates, openings } = await fresh();
      await openings.open([anOpening(taskRun('da1', 1))]);
      const again = { ...held('d-1', 'app'), event: { ...held('d-1').event, digest: C } };
      await gates.hold(ROOT, 'app', held('d-1', 'app'));
      await gates.hold(ROOT, 'app', again);
      expect(await gates.leave(ROOT, 'app', 'da1')).toEqual([again]);
    });

    it('a gate opened again after its last run left holds anew', async () => {
      const { gates, openings } = await fresh();
      await openings.open([anOpening(taskRun('da1', 1))]);
      await gates.hold(ROOT, 'app', held('d-1'));
      expect(await gates.leave(ROOT, 'app', 'da1')).toEqual([held('d-1')]);
      await openings.open([anOpening(taskRun('da2', 2))]);
      expect(await gates.hold(ROOT, 'app', held('d-2'))).toBe(true);
      expect(await gates.leave(ROOT, 'app', 'da2')).toEqual([held('d-2')]);
    });

    it('keeps held events past their week: only TTL, lazily, would remove them', async () => {
      const { gates, openings } = await fresh();
      await openings.open([anOpening(taskRun('da1', 1))]);
      await gates.hold(ROOT, 'app', held('d-1'));
      clock.advance(8 * 24 * 3600 * 1000);
      expect(await gates.leave(ROOT, 'app', 'da1')).toEqual([held('d-1')]);
    });

    it('of holds racing the last leave, each is taken by the leave or refused', async () => {
      const { gates, openings } = await fresh();
      await openings.open([anOpening(taskRun('da1', 1))]);
      const ids = Array.from({ length: 8 }, (_, i) => `d-${i}`);
      const [taken, ...holds] = await Promise.all([gates.leave(ROOT, 'app', 'da1'), ...ids.map((id) => gates.hold(ROOT, 'app', held(id)))]);
      const accepted = ids.filter((_, i) => holds[i]);
      expect((taken as DeferredEvent[]).map((d) => d.event.deliveryId).sort()).toEqual(accepted.sort());
      expect(await gates.leave(ROOT, 'app', 'da1')).toEqual([]);
    });
  });

  describe('TimerStateStore', () => {
    const O1 = '2026-11-28T03:00:00.000Z';
    const O2 = '2026-11-29T03:00:00.000Z';
    const O3 = '2026-11-30T03:00:00.000Z';

    it('fires an occurrence once, never an older one, and a newer one again', async () => {
      const { timerStates } = await fresh();
      expect(await timerStates.lastFired('t', 'nightly')).toBeUndefined();
      const steps: Array<[string, string, boolean, string]> = [
        ['first claim', O2, true, O2],
        ['the same occurrence again', O2, false, O2],
        ['an older occurrence', O1, false, O2],
        ['a newer occurrence', O3, true, O3],
        ['the newer one again', O3, false, O3],
      ];
      const seen: Array<[string, boolean, string | undefined]> = [];
      for (const [what, occurrence] of steps) {
        const claimed = await timerStates.claim('t', 'nightly', occurrence);
        seen.push([what, claimed, await timerStates.lastFired('t', 'nightly')]);
      }
      expect(seen).toEqual(steps.map(([what, , claimed, last]) => [what, claimed, last]));
    });

    it('of 10 concurrent claims of one occurrence, exactly one wins', async () => {
      const { timerStates } = await fresh();
      const results = await Promise.all(Array.from({ length: 10 }, () => timerStates.claim('t', 'nightly', O1)));
      expect(results.filter((won) => won)).toHaveLength(1);
      expect(await timerStates.lastFired('t', 'nightly')).toBe(O1);
    });

    it('of concurrent claims of several occurrences, the newest ends as the cursor', async () => {
      const { timerStates } = await fresh();
      const occurrences = [O2, O1, O3, O2, O1, O3];
      const results = await Promise.all(occurrences.map((o) => timerStates.claim('t', 'nightly', o)));
      // O3 can only be refused by O3 itself: one of its two claims wins.
      expect(results.filter((won, i) => won && occurrences[i] === O3)).toHaveLength(1);
      expect(await timerStates.lastFired('t', 'nightly')).toBe(O3);
    });

    it('keeps timers of different tasks and names apart', async () => {
      const { timerStates } = await fresh();
      expect(await timerStates.claim('a', 'nightly', O2)).toBe(true);
      expect(await timerStates.claim('a', 'weekly', O1)).toBe(true);
      expect(await timerStates.claim('b', 'nightly', O1)).toBe(true);
      expect(await timerStates.lastFired('a', 'nightly')).toBe(O2);
      expect(await timerStates.lastFired('a', 'weekly')).toBe(O1);
      expect(await timerStates.lastFired('b', 'nightly')).toBe(O1);
      expect(await timerStates.lastFired('b', 'weekly')).toBeUndefined();
    });

    it('release goes back to the previous occurrence, which can then be fired again', async () => {
      const { timerStates } = await fresh();
      expect(await timerStates.claim('t', 'nightly', O1)).toBe(true);
      expect(await timerStates.claim('t', 'nightly', O2)).toBe(true);
      await timerStates.release('t', 'nightly', O2, O1);
      expect(await timerStates.lastFired('t', 'nightly')).toBe(O1);
      expect(await timerStates.claim('t', 'nightly', O1)).toBe(false);
      expect(await timerStates.claim('t', 'nightly', O2)).toBe(true);
      expect(await timerStates.lastFired('t', 'nightly')).toBe(O2);
    });

    it('release of a first claim goes back to none: even an older occurrence fires then', async () => {
      const { timerStates } = await fresh();
      expect(await timerStates.claim('t', 'nightly', O2)).toBe(true);
      await timerStates.release('t', 'nightly', O2, undefined);
      expect(await timerStates.lastFired('t', 'nightly')).toBeUndefined();
      expect(await timerStates.claim('t', 'nightly', O1)).toBe(true);
    });

    it.each<[string, string | undefined]>([
      ['to none', undefined],
      ['to an older occurrence', O1],
    ])('release %s after a newer claim changes nothing', async (_label, previous) => {
      const { timerStates } = await fresh();
      expect(await timerStates.claim('t', 'nightly', O2)).toBe(true);
      expect(await timerStates.claim('t', 'nightly', O3)).toBe(true);
      await timerStates.release('t', 'nightly', O2, previous);
      expect(await timerStates.lastFired('t', 'nightly')).toBe(O3);
      expect(await timerStates.claim('t', 'nightly', O3)).toBe(false);
    });

    it('release of a timer never claimed is harmless', async () => {
      const { timerStates } = await fresh();
      await timerStates.release('t', 'nightly', O1, undefined);
      await timerStates.release('t', 'nightly', O2, O1);
      expect(await timerStates.lastFired('t', 'nightly')).toBeUndefined();
    });

    it('forget starts the timer afresh', async () => {
      const { timerStates } = await fresh();
      expect(await timerStates.claim('t', 'nightly', O3)).toBe(true);
      expect(await timerStates.claim('t', 'weekly', O3)).toBe(true);
      await timerStates.forget('t', 'nightly');
      expect(await timerStates.lastFired('t', 'nightly')).toBeUndefined();
      expect(await timerStates.lastFired('t', 'weekly')).toBe(O3);
      expect(await timerStates.claim('t', 'nightly', O1)).toBe(true);
      expect(await timerStates.lastFired('t', 'nightly')).toBe(O1);
      await timerStates.forget('never', 'nightly'); // harmless
      expect(await timerStates.lastFired('never', 'nightly')).toBeUndefined();
    });
  });

  // The memory stores take one atomic step per request the adapter sends, so that a test can
  // interleave other callers exactly where DynamoDB could: the counts must be the same.
  describe('requests per call', () => {
    type Scenario = [string, (s: Stores) => Promise<unknown>, (s: Stores) => Promise<unknown>, number];
    const expired = { status: 'Succeeded' as const, keepUntil: '2090-06-01T11:00:00.000Z' };
    it.each<Scenario>([
      ['tasks.create', async () => {}, (s) => s.tasks.create(aTask('a')), 1],
      ['tasks.getMany of 150 names, 20 of them twice', async () => {}, (s) => s.tasks.getMany([...Array.from({ length: 150 }, (_, i) => `t${i}`), ...Array.from({ length: 20 }, (_, i) => `t${i}`)]), 2],
      ['tasks.getMany of none', async () => {}, (s) => s.tasks.getMany([]), 0],
      ['runs.nextIds', async () => {}, (s) => s.runs.nextIds(5), 1],
      ['runs.createMany of 30', async () => {}, (s) => s.runs.createMany(Array.from({ length: 30 }, (_, i) => aRun(`r${i}`, i + 1))), 2],
      ['runs.transition that moves', (s) => s.runs.create(aRun('r1', 1)), (s) => s.runs.transition('r1', ['Queued'], { status: 'Running' }), 1],
      ['runs.transition refused (the run is read again to say why)', (s) => s.runs.create(aRun('r1', 1)), (s) => s.runs.transition('r1', ['Running'], { status: 'Failed' }).catch(() => {}), 2],
      ['runs.deleteExpired, none expired', (s) => s.runs.create(aRun('r1', 1)), (s) => s.runs.deleteExpired(), 1],
      ['runs.deleteExpired, 30 expired', (s) => s.runs.createMany(Array.from({ length: 30 }, (_, i) => aRun(`r${i}`, i + 1, expired))), (s) => s.runs.deleteExpired(), 3],
      ['dependencies.replaceForTask: 2 written, 1 removed', (s) => s.dependencies.replaceForTask('t', [edge('t', 'a'), edge('t', 'gone')]), (s) => s.dependencies.replaceForTask('t', [edge('t', 'a'), edge('t', 'b')]), 2],
      ['dependencies.replaceForTask of 130 (two transactions)', async () => {}, (s) => s.dependencies.replaceForTask('t', Array.from({ length: 130 }, (_, i) => edge('t', `b${i}`))), 3],
      ['dependencies.replaceForTask of none over none', async () => {}, (s) => s.dependencies.replaceForTask('t', []), 1],
      ['dependencies.claimTrigger', (s) => s.dependencies.replaceForTask('t', [edge('t', 'a')]), (s) => s.dependencies.claimTrigger(edge('t', 'a'), { digest: B, at: START }, 'r1'), 1],
      ['dependencies.markTagGone of 2 edges', (s) => Promise.all([s.dependencies.replaceForTask('t', [edge('t', 'a')]), s.dependencies.replaceForTask('u', [edge('u', 'a')])]), (s) => s.dependencies.markTagGone(REGISTRY, 'a', '9-alpine', START), 3],
      ['dependencies.deleteForTask of 30 edges', (s) => s.dependencies.replaceForTask('t', Array.from({ length: 30 }, (_, i) => edge('t', `b${i}`))), (s) => s.dependencies.deleteForTask('t'), 3],
      ['imageStates.recordPush of a newer push', async () => {}, (s) => s.imageStates.recordPush(REGISTRY, 'a', '1', A, START), 1],
      ['imageStates.recordPush of an older push (read again)', (s) => s.imageStates.recordPush(REGISTRY, 'a', '1', A, START), (s) => s.imageStates.recordPush(REGISTRY, 'a', '1', B, '2090-01-01T00:00:00.000Z'), 2],
      ['slots.admit to build', async () => {}, (s) => s.slots.admit('t', 'r1'), 1],
      ['slots.admit to wait', (s) => s.slots.admit('t', 'r1'), (s) => s.slots.admit('t', 'r2'), 2],
      ['slots.admit of the building run (it still builds)', (s) => s.slots.admit('t', 'r1'), (s) => s.slots.admit('t', 'r1'), 1],
      ['slots.release promoting the waiting run', (s) => s.slots.admit('t', 'r1').then(() => s.slots.admit('t', 'r2')), (s) => s.slots.release('t', 'r1'), 1],
      ['slots.release freeing the place', (s) => s.slots.admit('t', 'r1'), (s) => s.slots.release('t', 'r1'), 2],
      ['slots.release of the waiting run', (s) => s.slots.admit('t', 'r1').then(() => s.slots.admit('t', 'r2')), (s) => s.slots.release('t', 'r2'), 3],
      ['slots.release by a run that is in no place (read to be sure)', (s) => s.slots.admit('t', 'r1'), (s) => s.slots.release('t', 'r9'), 4],
      ['runs.transitionMany of 150 (two transactions)', (s) => s.runs.createMany(Array.from({ length: 150 }, (_, i) => aRun(`r${i}`, i + 1))), (s) => s.runs.transitionMany(Array.from({ length: 150 }, (_, i) => ({ id: `r${i}`, from: ['Queued'], changes: { status: 'Running' } }))), 2],
      ['runs.transitionMany of 150, refusals in both transactions (each sent again without them)', (s) => s.runs.createMany(Array.from({ length: 150 }, (_, i) => aRun(`r${i}`, i + 1, i % 70 === 0 ? { status: 'Failed' } : {}))), (s) => s.runs.transitionMany(Array.from({ length: 150 }, (_, i) => ({ id: `r${i}`, from: ['Queued'], changes: { status: 'Running' } }))), 4],
      ['runs.transitionMany from no status', async () => {}, (s) => s.runs.transitionMany([{ id: 'r1', from: [], changes: { status: 'Running' } }]), 0],
      ['runs.listUnfinished (one Query per key, at once)', async () => {}, (s) => s.runs.listUnfinished(), 9],
      ['openings.open of a run with everything', (s) => s.dependencies.replaceForTask('app', [edge('app', 'a')]), (s) => s.openings.open([anOpening(taskRun('r1', 1), { claim: claimOf('app', 'a'), once: { key: 'k', ttlSeconds: 60 }, pushes: ['r/x:1', 'r/y:1'], build: true })]), 1],
      ['openings.open of one that loses its claim', async () => {}, (s) => s.openings.open([anOpening(taskRun('r1', 1), { claim: claimOf('app', 'a') })]), 1],
      ['openings.open of two, one finding the building place taken (sent again without it)', (s) => s.slots.admit('app', 'r0'), (s) => s.openings.open([anOpening(taskRun('r1', 1), { build: true }), anOpening(taskRun('r2', 2, { taskName: 'b' }), { build: true })]), 2],
      ['openings.open of 60, 4 writes each (three transactions)', async () => {}, (s) => s.openings.open(Array.from({ length: 60 }, (_, i) => anOpening(taskRun(`r${i}`, i + 1, { taskName: `t${i}` }), { pushes: [`r/t${i}:1`], build: true }))), 3],
      ['openings.open of one with an unreadable push time', async () => {}, (s) => s.openings.open([anOpening(taskRun('r1', 1), { claim: { ...claimOf('app', 'a'), at: 'never' } })]).catch(() => {}), 0],
      ['gates.hold while a run is in', (s) => s.openings.open([anOpening(taskRun('r1', 1))]), (s) => s.gates.hold(ROOT, 'app', held('d1')), 1],
      ['gates.hold on an empty gate', async () => {}, (s) => s.gates.hold(ROOT, 'app', held('d1')), 1],
      ['gates.leave with another run still in', (s) => s.openings.open([anOpening(taskRun('r1', 1)), anOpening(taskRun('r2', 2))]), (s) => s.gates.leave(ROOT, 'app', 'r1'), 1],
      ['gates.leave by the last run (it takes what was held)', (s) => s.openings.open([anOpening(taskRun('r1', 1))]).then(() => s.gates.hold(ROOT, 'app', held('d1'))), (s) => s.gates.leave(ROOT, 'app', 'r1'), 2],
      ['gates.leave of a gate nobody is in', async () => {}, (s) => s.gates.leave(ROOT, 'app', 'r1'), 2],
      ['imageStates.pushers', async () => {}, (s) => s.imageStates.pushers(REGISTRY, 'a', '1'), 1],
      ['imageStates.stopPushing of 3 tags (one update each)', (s) => s.openings.open([anOpening(taskRun('r1', 1), { pushes: ['r/x:1'] })]), (s) => s.imageStates.stopPushing(['r/x:1', 'r/y:1', 'r/z:1'], 'r1'), 3],
      ['webhooks.setSecrets of a missing webhook', async () => {}, (s) => s.webhooks.setSecrets('w', ['x']).catch(() => {}), 1],
      ['deliveries.markSeen', async () => {}, (s) => s.deliveries.markSeen('k', 60), 1],
      ['timerStates.claim', async () => {}, (s) => s.timerStates.claim('t', 'n', START), 1],
    ])('%s', async (_what, setup, action, expected) => {
      const stores = await fresh();
      await setup(stores);
      const before = stores.requestCount();
      await action(stores);
      expect(stores.requestCount() - before).toBe(expected);
    });
  });

  describe('PollStateStore', () => {
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
      const { pollStates } = await fresh();
      await pollStates.put(state);
      expect(await pollStates.get(state.ref)).toEqual(state);
      expect(await pollStates.get('127.0.0.1:5000/never/polled:1')).toBeUndefined();
    });

    it('a put replaces the whole state: fields left out are gone', async () => {
      const { pollStates } = await fresh();
      await pollStates.put(full);
      const next: PollState = { ref: full.ref, digest: C, platforms: { 'linux/amd64': C }, polledAt: '2026-11-28T05:00:00.000Z', failures: 0, lastError: undefined };
      await pollStates.put(next);
      expect(await pollStates.get(full.ref)).toEqual({ ref: full.ref, digest: C, platforms: { 'linux/amd64': C }, polledAt: '2026-11-28T05:00:00.000Z', failures: 0 });
    });

    it('lists every state by ref, and not the hosts put off', async () => {
      const { pollStates } = await fresh();
      expect(await pollStates.list()).toEqual([]);
      const tool: PollState = { ref: 'ghcr.io/example/tool:latest', digest: B, platforms: {}, failures: 5, lastError: 'HTTP 429' };
      await pollStates.put(tool);
      await pollStates.put(full);
      await pollStates.put(bare);
      await pollStates.setHostNotBefore('ghcr.io', '2026-11-28T05:00:00.000Z', 'HTTP 429 Retry-After 600');
      expect(await pollStates.list()).toEqual([full, bare, tool]);
    });

    it('sets and reads when a host may be asked again, host by host', async () => {
      const { pollStates } = await fresh();
      expect(await pollStates.hostNotBefore('registry-1.docker.io')).toBeUndefined();
      await pollStates.setHostNotBefore('registry-1.docker.io', '2026-11-28T05:00:00.000Z', 'HTTP 429');
      await pollStates.setHostNotBefore('ghcr.io', '2026-11-28T04:50:00.000Z', 'HTTP 429 Retry-After 60');
      expect(await pollStates.hostNotBefore('registry-1.docker.io')).toBe('2026-11-28T05:00:00.000Z');
      expect(await pollStates.hostNotBefore('ghcr.io')).toBe('2026-11-28T04:50:00.000Z');
      // Set again: the newer answer replaces it, even an earlier time.
      await pollStates.setHostNotBefore('registry-1.docker.io', '2026-11-28T04:00:00.000Z', 'HTTP 429 again');
      expect(await pollStates.hostNotBefore('registry-1.docker.io')).toBe('2026-11-28T04:00:00.000Z');
      // A host is not a watched tag.
      expect(await pollStates.get('registry-1.docker.io')).toBeUndefined();
      expect(await pollStates.list()).toEqual([]);
    });
  });
}

const nightly: TaskTimer = { name: 'nightly', schedule: '0 3 * * *', enabled: true, createdAt: '2026-12-01T00:00:00.000Z', updatedAt: '2026-12-01T00:00:00.000Z' };

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
    createdAt: '2090-06-01T10:00:00.000Z',
    outputImages: [],
    baseImages: [],
    ...overrides,
  };
}

function edge(taskName: string, repository: string, overrides: Partial<Dependency> = {}): Dependency {
  return {
    taskName,
    registry: REGISTRY,
    repository,
    tag: '9-alpine',
    digest: A,
    stage: 'runtime',
    pinned: false,
    capturedAt: '2024-05-01T10:00:00.000Z',
    capturedByRun: 'da1',
    ...overrides,
  };
}

function hook(name: string, overrides: Partial<Webhook> = {}): Webhook {
  return { name, provider: 'distribution', secrets: ['s3cr3t-one', 's3cr3t-two'], loginServer: '127.0.0.1:5000', createdAt: '2024-05-01T10:00:00.000Z', ...overrides };
}

/** The change the runs of the opening and gate cases carry. */
const ROOT = `image:${REGISTRY}/base/node:9-alpine@${B}`;

/** A Queued Image Update run of `app` for the change ROOT. */
function taskRun(id: string, sequence: number, overrides: Partial<Run> = {}): Run {
  return aRun(id, sequence, { taskName: 'app', trigger: 'Image Update', origin: { root: ROOT, via: [] }, ...overrides });
}

function anOpening(run: Run, extra: Partial<RunOpening> = {}): RunOpening {
  return { run, pushes: [], ...extra };
}

/** The claim of `task`'s edge to REGISTRY/repository:9-alpine for B, by delivery d-1. */
function claimOf(task: string, repository = 'base/node'): NonNullable<RunOpening['claim']> {
  return { dep: { taskName: task, registry: REGISTRY, repository, tag: '9-alpine' }, digest: B, at: START, claimedBy: 'd-1' };
}

function held(deliveryId: string, forTask?: string): DeferredEvent {
  const event: ImageEvent = { kind: 'image', source: 'distribution', registry: REGISTRY, repository: 'base/node', tag: '9-alpine', digest: B, occurredAt: '2090-06-01T11:00:00.000Z', deliveryId };
  return forTask === undefined ? { event } : { event, forTask };
}
