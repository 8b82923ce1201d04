// Every port cascade's domain uses, in memory, for unit tests of the rules that make each change
// build each task once: the stores behave as their DynamoDB adapters (lib/adapters/dynamodb-*.ts)
// do, request for request, and test/support/store-contract.ts runs the same cases against both.
//
// What "as the adapter does" means here:
// - each DynamoDB request the adapter sends is one atomic step, taken when the Interleaver says
//   (interleaver.ts); a method that sends several requests (slot admission, the failure path of a
//   conditional write, a gate's last leave, each transaction of run openings) is several steps,
//   so a test can run other callers between them exactly where DynamoDB could;
// - a transaction (run openings, runs.transitionMany) is one step that reads every condition
//   before it writes anything, and writes all or nothing, as DynamoDB's TransactWriteItems; which
//   openings go in one, and what is done with a cancelled one, is the adapters' own code;
// - conditions, errors and `false` answers are the adapter's, and so are the orders of listings
//   (items are keyed with lib/adapters/dynamodb-table.ts's keys and sorted as DynamoDB sorts them);
// - records are copied on the way in (dropping undefined fields, as the adapters' marshalling
//   does) and on the way out, so no caller can change stored state but through a method;
// - time-to-live counts where the adapter reads it: runs past `keepUntil` are gone for get and
//   list, a delivery past its TTL is unseen; nothing is deleted behind the caller's back (on AWS,
//   TTL deletes lazily, up to days late).
// A listing is one step although DynamoDB may page it: it is a snapshot, where a long DynamoDB
// listing is not. The other ports (secrets, logs, queue, digests) go through the Interleaver too,
// one step a call. memoryStores() gives the stores as createDynamoDbStores does; memoryCascadePorts()
// gives everything createCascade takes (the builder is test/support/recording-builder.ts's).
import { RecordingBuilder } from './recording-builder';
import { currentActor, immediately, type Interleaver } from './interleaver';
import { keys, sequenceKey } from '../../lib/adapters/dynamodb-table';
import { moveInTransactions, refusal, type Move, type Standing } from '../../lib/adapters/dynamodb-run-store';
import { openInTransactions, type OpeningWrite } from '../../lib/adapters/dynamodb-run-openings';
import type { DynamoDbStores } from '../../lib/adapters/dynamodb-stores';
import type { CascadePorts } from '../../lib/domain/cascade';
import { ConflictError, NotFoundError, RegistryError, ValidationError } from '../../lib/domain/errors';
import { normalizeGitUrl as defaultNormalizeGitUrl, gitUrlParts } from '../../lib/domain/git-url';
import type {
  BuildSlotStore,
  Clock,
  DeferredEvent,
  DeliveryStore,
  DependencyCapture,
  DependencyKey,
  DependencyStore,
  DigestResolver,
  GateStore,
  ImageStateStore,
  LogStore,
  NotificationSender,
  NotificationStore,
  OpeningOutcome,
  PollState,
  PollStateStore,
  Queue,
  QueueMessage,
  SendOptions,
  Pusher,
  RunOpening,
  RunOpenings,
  RunQuery,
  RunStore,
  SecretStore,
  SlotAdmission,
  TagDigest,
  TagPushers,
  TaskStore,
  TimerStateStore,
  WebhookStore,
} from '../../lib/domain/ports';
import { TERMINAL_STATUSES, type Dependency, type ImageProducer, type Run, type RunStatus, type Task, type TaskTimer, type Webhook } from '../../lib/domain/types';
import { getProvider } from '../../lib/events';
import type { DeliveryAttempt, DeliveryStatus, Notification, NotificationDelivery } from '../../lib/domain/notifications/notification';
import type { SendOutcome } from '../../lib/domain/notifications/retry';

export { actingAs, Gates, fromScheduler, immediately, type Interleaver, type PortCall } from './interleaver';

/** What the table is read and written with: the store ports, named as createDynamoDbStores names them. */
export interface Stores {
  tasks: TaskStore;
  runs: RunStore;
  dependencies: DependencyStore;
  imageStates: ImageStateStore;
  webhooks: WebhookStore;
  deliveries: DeliveryStore;
  slots: BuildSlotStore;
  openings: RunOpenings;
  gates: GateStore;
  timerStates: TimerStateStore;
  pollStates: PollStateStore;
  notifications: NotificationStore;
}

// Fails to compile when createDynamoDbStores gains or loses a store that Stores does not follow.
type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false;
const _storesMatchDynamoDb: SameKeys<Stores, DynamoDbStores> & (DynamoDbStores extends Stores ? true : false) = true;

/** A clock the test sets. */
export class ManualClock implements Clock {
  private current: number;
  constructor(start: string | Date = '2026-11-28T05:00:00.000Z') {
    this.current = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  set(to: string | Date): void {
    this.current = new Date(to).getTime();
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/** A deep copy without undefined fields: what a record looks like once the adapters have stored it. */
function stored<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => stored(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = stored(v);
    return out as T;
  }
  return value;
}

const copy = <T>(value: T): T => structuredClone(value);

/** DynamoDB orders string keys by their UTF-8 bytes, which is not always JavaScript's order. */
function byKey(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** BatchWriteItem refuses a batch that names one item twice, whatever the requests are. */
function refuseDuplicateKeys(batch: string[]): void {
  if (new Set(batch).size !== batch.length) throw new Error('ValidationException: Provided list of item keys contains duplicates');
}

/** TransactWriteItems refuses a transaction that names one item twice. */
function refuseTwoWritesOfOneItem(items: string[]): void {
  if (new Set(items).size !== items.length) throw new Error('ValidationException: Transaction request cannot include multiple operations on one item');
}

const BATCH_WRITE_LIMIT = 25;
const BATCH_GET_LIMIT = 100;
const TRANSACTION_LIMIT = 100;

/**
 * One write of a transaction: its condition, and its change. DynamoDB reads every condition of
 * a transaction before it changes anything; a single conditional request is a transaction of one.
 */
interface MemoryWrite {
  holds(): boolean;
  apply(): void;
}

/** Writes all of them if every condition holds; else nothing, and the reason of each, as a cancelled transaction says. */
function transact(writes: MemoryWrite[]): Array<{ code: string }> | undefined {
  const codes = writes.map((write) => (write.holds() ? 'None' : 'ConditionalCheckFailed'));
  if (codes.every((code) => code === 'None')) {
    for (const write of writes) write.apply();
    return undefined;
  }
  return codes.map((code) => ({ code }));
}

/** One conditional request: true and written, or false and nothing written. */
function writeIfHolds(write: MemoryWrite): boolean {
  return transact([write]) === undefined;
}

export interface MemoryPortOptions {
  /** Decides when each request happens; at once by default. */
  interleaver?: Interleaver;
}

/** The memory ports' common part: each request goes through the interleaver. */
abstract class MemoryPort {
  private readonly interleaver: Interleaver;
  protected constructor(
    private readonly port: string,
    options: MemoryPortOptions,
  ) {
    this.interleaver = options.interleaver ?? immediately;
  }

  /** One call of a method: each `request(act)` is its next request, `act` done atomically. */
  protected call(method: string, ...args: unknown[]): <T>(act: () => T) => Promise<T> {
    let request = 0;
    const actor = currentActor();
    return (act) => this.interleaver({ port: this.port, method, request: ++request, args, ...(actor !== undefined && { actor }) }, act);
  }
}

// ---------------------------------------------------------------------------------------------
// tasks

/** Fields of a task with writers of their own (recordCapture, setTimers), never written by put. */
const OWN_WRITERS = ['dependenciesCapturedAt', 'dependenciesCapturedBySequence', 'upstream', 'timers'] as const;

interface TaskItem {
  task: Task;
  gitContext?: string;
  gitPath?: string;
}

export class MemoryTaskStore extends MemoryPort implements TaskStore {
  /** By task name; `gitContext` and `gitPath` are the git index keys, absent for a local context. */
  private readonly items = new Map<string, TaskItem>();
  private readonly normalizeGitUrl: (url: string) => string;

  constructor(options: MemoryPortOptions & { normalizeGitUrl?: (url: string) => string } = {}) {
    super('tasks', options);
    this.normalizeGitUrl = options.normalizeGitUrl ?? defaultNormalizeGitUrl;
  }

  async create(task: Task): Promise<void> {
    const item = this.toItem(task);
    await this.call('create', task)(() => {
      if (this.items.has(task.name)) throw new ConflictError(`task "${task.name}" already exists`);
      this.items.set(task.name, item);
    });
  }

  async get(name: string): Promise<Task | undefined> {
    return this.call('get', name)(() => {
      const item = this.items.get(name);
      return item && copy(item.task);
    });
  }

  async getMany(names: string[]): Promise<Map<string, Task>> {
    const request = this.call('getMany', names);
    const found = new Map<string, Task>();
    for (const batch of chunks([...new Set(names)], BATCH_GET_LIMIT)) {
      await request(() => {
        for (const name of batch) {
          const item = this.items.get(name);
          if (item) found.set(name, copy(item.task));
        }
      });
    }
    return found;
  }

  async put(task: Task): Promise<void> {
    const item = this.toItem(task);
    await this.call('put', task)(() => {
      // An update, not a replacement: what builds and timers wrote stays; an absent history goes.
      const next: Record<string, unknown> = { ...this.items.get(task.name)?.task };
      for (const [field, value] of Object.entries(item.task)) {
        if (!(OWN_WRITERS as readonly string[]).includes(field)) next[field] = value;
      }
      if (item.task.history === undefined) delete next.history;
      this.items.set(task.name, { ...item, task: next as unknown as Task });
    });
  }

  async delete(name: string): Promise<void> {
    await this.call('delete', name)(() => void this.items.delete(name));
  }

  async list(): Promise<Task[]> {
    return this.call('list')(() => [...this.items.values()].map((item) => copy(item.task)).sort((a, b) => byKey(a.name, b.name)));
  }

  async listByGitContext(repoUrl: string, branch: string): Promise<Task[]> {
    const key = keys.gitContext(this.normalizeGitUrl(repoUrl), branch);
    return this.call('listByGitContext', repoUrl, branch)(() =>
      [...this.items.values()]
        .filter((item) => item.gitContext === key)
        .map((item) => copy(item.task))
        .sort((a, b) => byKey(a.name, b.name)),
    );
  }

  async listByGitPath(paths: string[], branch: string): Promise<Task[]> {
    const wanted = paths.map((path) => keys.gitPath(path, branch));
    return this.call('listByGitPath', paths, branch)(() =>
      [...this.items.values()]
        .filter((item) => item.gitPath !== undefined && wanted.includes(item.gitPath))
        .map((item) => copy(item.task))
        .sort((a, b) => byKey(a.name, b.name)),
    );
  }

  async recordCapture(name: string, capture: DependencyCapture): Promise<boolean> {
    return this.call('recordCapture', name, capture)(() => {
      const task = this.items.get(name)?.task;
      // An older run than the one that captured last loses: its bases are not the newest.
      if (!task || (task.dependenciesCapturedBySequence !== undefined && task.dependenciesCapturedBySequence > capture.bySequence)) return false;
      task.dependenciesCapturedAt = capture.capturedAt;
      task.dependenciesCapturedBySequence = capture.bySequence;
      if (capture.upstream.length > 0) task.upstream = [...capture.upstream];
      else delete task.upstream;
      return true;
    });
  }

  async setTimers(name: string, timers: TaskTimer[], updatedAt: string): Promise<void> {
    const kept = stored(timers);
    await this.call('setTimers', name, timers, updatedAt)(() => {
      const task = this.items.get(name)?.task;
      if (!task) throw new NotFoundError('task', name);
      if (kept.length > 0) task.timers = kept;
      else delete task.timers;
      task.updatedAt = updatedAt;
    });
  }

  private toItem(task: Task): TaskItem {
    const kept = stored(task);
    if (task.context.kind !== 'git') return { task: kept };
    const url = this.normalizeGitUrl(task.context.url);
    const path = gitUrlParts(url)?.path;
    return { task: kept, gitContext: keys.gitContext(url, task.context.branch), ...(path !== undefined && { gitPath: keys.gitPath(path, task.context.branch) }) };
  }
}

// ---------------------------------------------------------------------------------------------
// runs

/** Fixed when a run is created; a transition may repeat them but not change them. */
const IDENTITY_FIELDS = ['id', 'sequence', 'taskName'] as const;

export class MemoryRunStore extends MemoryPort implements RunStore {
  /** By run id; `expiresAt` is the TTL attribute, epoch seconds of `keepUntil`. */
  private readonly items = new Map<string, { run: Run; expiresAt?: number }>();
  private counter = 0;
  private readonly prefix: string;
  private readonly clock: Clock;

  constructor(options: MemoryPortOptions & { runIdPrefix?: string; clock?: Clock } = {}) {
    super('runs', options);
    this.prefix = options.runIdPrefix ?? 'da';
    this.clock = options.clock ?? new ManualClock();
  }

  async nextId(): Promise<{ id: string; sequence: number }> {
    return (await this.nextIds(1))[0] as { id: string; sequence: number };
  }

  async nextIds(count: number): Promise<Array<{ id: string; sequence: number }>> {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`cannot reserve ${count} run ids`);
    const last = await this.call('nextIds', count)(() => (this.counter += count));
    return Array.from({ length: count }, (_, i) => ({ id: `${this.prefix}${last - count + 1 + i}`, sequence: last - count + 1 + i }));
  }

  async create(run: Run): Promise<void> {
    const write = this.putNew(run);
    await this.call('create', run)(() => {
      // An expired run not yet swept still holds its id, as an item TTL has not removed does.
      if (!writeIfHolds(write)) throw new ConflictError(`run "${run.id}" already exists`);
    });
  }

  /** The run written under its id, which nobody holds yet: a write of create, and of a run opening. */
  putNew(run: Run): MemoryWrite {
    const item = this.toItem(run);
    return { holds: () => !this.items.has(run.id), apply: () => void this.items.set(run.id, item) };
  }

  async createMany(runs: Run[]): Promise<void> {
    const items = runs.map((run) => this.toItem(run));
    const request = this.call('createMany', runs);
    for (const batch of chunks(items, BATCH_WRITE_LIMIT)) {
      await request(() => {
        refuseDuplicateKeys(batch.map((item) => item.run.id));
        for (const item of batch) this.items.set(item.run.id, item);
      });
    }
  }

  async get(id: string): Promise<Run | undefined> {
    return this.call('get', id)(() => {
      const item = this.items.get(id);
      return item && !this.expired(item) ? copy(item.run) : undefined;
    });
  }

  async transition(id: string, from: RunStatus[], changes: Partial<Run> & { status: RunStatus }): Promise<Run> {
    const move = { id, from, changes };
    if (from.length === 0) throw refusal(move, undefined);
    const request = this.call('transition', id, from, changes);
    const moved = await request(() => (writeIfHolds(this.moveWrite(move)) ? copy((this.items.get(id) as { run: Run }).run) : undefined));
    if (moved) return moved;
    // The adapter reads the run again to say why the condition failed: a second request.
    return request(() => {
      const item = this.items.get(id);
      throw refusal(move, item && !this.expired(item) ? item.run : undefined);
    });
  }

  async transitionMany(moves: Move[]): Promise<Array<'moved' | ConflictError>> {
    const request = this.call('transitionMany', moves);
    return moveInTransactions(moves, (chunk) =>
      request(() => {
        refuseTwoWritesOfOneItem(chunk.map((move) => move.id));
        // A failed condition answers with the run as it stood (ReturnValuesOnConditionCheckFailure).
        const standing = chunk.map((move): Standing | undefined => this.items.get(move.id)?.run);
        return transact(chunk.map((move) => this.moveWrite(move)))?.map((reason, i) => ({ ...reason, ...(reason.code !== 'None' && standing[i] && { current: copy(standing[i]) }) }));
      }),
    );
  }

  /** The adapter's conditional update: the run exists (expired or not), its status is one of `from`, and the identity fields given are its own. */
  private moveWrite({ id, from, changes }: Move): MemoryWrite {
    const given = stored(changes) as Partial<Run> & { status: RunStatus };
    return {
      holds: () => {
        const item = this.items.get(id);
        return !!item && from.includes(item.run.status) && IDENTITY_FIELDS.every((field) => given[field] === undefined || given[field] === item.run[field]);
      },
      apply: () => {
        const item = this.items.get(id) as { run: Run; expiresAt?: number };
        const run = item.run as unknown as Record<string, unknown>;
        for (const [field, value] of Object.entries(given)) {
          if (!(IDENTITY_FIELDS as readonly string[]).includes(field)) run[field] = value;
        }
        if (given.keepUntil !== undefined) item.expiresAt = ttlOf(given.keepUntil);
      },
    };
  }

  async list(query: RunQuery): Promise<Run[]> {
    if (query.top <= 0) return [];
    return this.call('list', query)(() =>
      this.byNewest()
        .filter((item) => (query.taskName === undefined || item.run.taskName === query.taskName) && (query.status === undefined || item.run.status === query.status))
        .filter((item) => !this.expired(item))
        .slice(0, query.top)
        .map((item) => copy(item.run)),
    );
  }

  async listUnfinished(): Promise<Run[]> {
    // As the sparse index: every run not finished, expired or not, oldest first; one Query per
    // key, at once (this store writes none under the legacy key, which is read all the same).
    const request = this.call('listUnfinished');
    const shards = await Promise.all(
      keys.everyUnfinishedRuns.map((shard) =>
        request(() =>
          this.byNewest()
            .filter((item) => !TERMINAL_STATUSES.includes(item.run.status) && keys.unfinishedRuns(item.run.sequence) === shard)
            .map((item) => copy(item.run)),
        ),
      ),
    );
    return shards.flat().sort((a, b) => a.sequence - b.sequence);
  }

  async deleteMany(ids: string[]): Promise<void> {
    const request = this.call('deleteMany', ids);
    for (const batch of chunks(ids, BATCH_WRITE_LIMIT)) {
      await request(() => {
        refuseDuplicateKeys(batch);
        for (const id of batch) this.items.delete(id);
      });
    }
  }

  async deleteExpired(): Promise<string[]> {
    const request = this.call('deleteExpired');
    const ids = await request(() =>
      this.byNewest()
        .reverse()
        .filter((item) => this.expired(item))
        .map((item) => item.run.id),
    );
    for (const batch of chunks(ids, BATCH_WRITE_LIMIT)) {
      await request(() => {
        for (const id of batch) this.items.delete(id);
      });
    }
    return ids;
  }

  /** Newest first, as the run indexes' sort key (the sequence) orders them. */
  private byNewest() {
    return [...this.items.values()].sort((a, b) => b.run.sequence - a.run.sequence || byKey(b.run.id, a.run.id));
  }

  private expired(item: { expiresAt?: number }): boolean {
    return item.expiresAt !== undefined && item.expiresAt <= epochSeconds(this.clock.now());
  }

  private toItem(run: Run): { run: Run; expiresAt?: number } {
    sequenceKey(run.sequence); // the adapter's index key: refuses a sequence it cannot sort
    const kept = stored(run);
    return run.keepUntil !== undefined ? { run: kept, expiresAt: ttlOf(run.keepUntil) } : { run: kept };
  }
}

/** DynamoDB's TTL attribute: epoch seconds. */
function ttlOf(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

// ---------------------------------------------------------------------------------------------
// dependencies

/** An edge as stored: the record, and when the claimed push happened (bookkeeping of claims). */
interface Edge {
  dep: Dependency;
  lastTriggeredAtMs?: number;
}

export class MemoryDependencyStore extends MemoryPort implements DependencyStore {
  /** By the edge's table key: `BASE#registry/repository:tag` and `TASK#name`. */
  private readonly edges = new Map<string, Edge>();

  constructor(options: MemoryPortOptions = {}) {
    super('dependencies', options);
  }

  async listDependents(registry: string, repository: string, tag: string): Promise<Dependency[]> {
    return this.call('listDependents', registry, repository, tag)(() => this.dependents(registry, repository, tag));
  }

  async listForTask(taskName: string): Promise<Dependency[]> {
    return this.call('listForTask', taskName)(() => this.ofTask(taskName));
  }

  async replaceForTask(taskName: string, dependencies: Dependency[]): Promise<void> {
    const wanted = mergeByBase(taskName, dependencies);
    const request = this.call('replaceForTask', taskName, dependencies);
    const existing = await request(() => this.ofTask(taskName));
    const stale = existing.filter((dep) => !wanted.has(baseOf(dep)));
    // Updates of the fields a capture owns: an edge that stays keeps its claim and tagGoneAt.
    const writes = [...wanted.values()].map((dep) => () => {
      const key = edgeKey(dep.registry, dep.repository, dep.tag, taskName);
      const edge = this.edges.get(key) ?? { dep: {} as Dependency };
      const { registry, repository, tag, digest, stage, pinned, step, capturedAt, capturedByRun } = dep;
      const { step: _previous, ...kept } = edge.dep;
      edge.dep = stored({ ...kept, taskName, registry, repository, tag, digest, stage, pinned, ...(step !== undefined && { step }), capturedAt, capturedByRun });
      this.edges.set(key, edge);
    });
    const deletes = stale.map((dep) => () => void this.edges.delete(edgeKey(dep.registry, dep.repository, dep.tag, taskName)));
    // One transaction per 100 writes: atomic per chunk only.
    for (const transaction of chunks([...writes, ...deletes], TRANSACTION_LIMIT)) {
      await request(() => transaction.forEach((write) => write()));
    }
  }

  async claimTrigger(dep: DependencyKey, push: { digest: string; at: string }, claimedBy: string): Promise<boolean> {
    const write = this.claimWrite(dep, push, claimedBy);
    return this.call('claimTrigger', dep, push, claimedBy)(() => writeIfHolds(write));
  }

  /** The claim of the edge for the push: a write of claimTrigger, and of a run opening. */
  claimWrite(dep: DependencyKey, push: { digest: string; at: string }, claimedBy: string): MemoryWrite {
    const at = Date.parse(push.at);
    if (Number.isNaN(at)) throw new ValidationError(`the push time "${push.at}" is not a date`, 'occurredAt');
    const key = edgeKey(dep.registry, dep.repository, dep.tag, dep.taskName);
    return {
      holds: () => {
        const edge = this.edges.get(key);
        if (!edge || edge.dep.digest === push.digest || edge.dep.lastTriggeredDigest === push.digest) return false;
        // Of two pushes at one instant the greater digest wins, as the image state decides.
        const claimedAt = edge.lastTriggeredAtMs;
        const claimed = edge.dep.lastTriggeredDigest;
        return claimedAt === undefined || claimedAt < at || (claimedAt === at && claimed !== undefined && byKey(claimed, push.digest) < 0);
      },
      apply: () => {
        const edge = this.edges.get(key) as Edge;
        edge.dep.lastTriggeredDigest = push.digest;
        edge.dep.lastTriggeredBy = claimedBy;
        edge.lastTriggeredAtMs = at;
        delete edge.dep.tagGoneAt;
      },
    };
  }

  async releaseTrigger(dep: DependencyKey, digest: string, claimedBy: string): Promise<void> {
    await this.call('releaseTrigger', dep, digest, claimedBy)(() => {
      const edge = this.edges.get(edgeKey(dep.registry, dep.repository, dep.tag, dep.taskName));
      // Someone else's claim since, or the edge is gone: nothing of ours to give back.
      if (!edge || edge.dep.lastTriggeredDigest !== digest || edge.dep.lastTriggeredBy !== claimedBy) return;
      delete edge.dep.lastTriggeredDigest;
      delete edge.dep.lastTriggeredBy;
      delete edge.lastTriggeredAtMs;
    });
  }

  async deleteForTask(taskName: string): Promise<void> {
    const request = this.call('deleteForTask', taskName);
    const existing = await request(() => this.ofTask(taskName));
    for (const batch of chunks(existing, BATCH_WRITE_LIMIT)) {
      await request(() => batch.forEach((dep) => this.edges.delete(edgeKey(dep.registry, dep.repository, dep.tag, taskName))));
    }
  }

  async markTagGone(registry: string, repository: string, tag: string, at: string): Promise<number> {
    const request = this.call('markTagGone', registry, repository, tag, at);
    const edges = await request(() => this.dependents(registry, repository, tag));
    // One update per edge, all at once; an edge gone meanwhile is not created again.
    await Promise.all(
      edges.map((dep) =>
        request(() => {
          const edge = this.edges.get(edgeKey(registry, repository, tag, dep.taskName));
          if (edge) edge.dep.tagGoneAt = at;
        }),
      ),
    );
    return edges.length;
  }

  private dependents(registry: string, repository: string, tag: string): Dependency[] {
    const pk = keys.dependents(registry, repository, tag);
    return [...this.edges.entries()]
      .filter(([key]) => key.startsWith(`${pk}\n`))
      .sort(([a], [b]) => byKey(a, b))
      .map(([, edge]) => copy(edge.dep));
  }

  private ofTask(taskName: string): Dependency[] {
    return [...this.edges.values()]
      .filter((edge) => edge.dep.taskName === taskName)
      .map((edge) => ({ sortKey: keys.dependencyInTask(edge.dep.registry, edge.dep.repository, edge.dep.tag), dep: edge.dep }))
      .sort((a, b) => byKey(a.sortKey, b.sortKey))
      .map(({ dep }) => copy(dep));
  }
}

/** The table's PK and SK, joined by a character neither can hold. */
function edgeKey(registry: string, repository: string, tag: string, taskName: string): string {
  const { PK, SK } = keys.dependency(registry, repository, tag, taskName);
  return `${PK}\n${SK}`;
}

function baseOf(dep: Pick<Dependency, 'registry' | 'repository' | 'tag'>): string {
  return keys.dependents(dep.registry, dep.repository, dep.tag);
}

/** One edge per base: the use that triggers most (unpinned, then runtime), as the adapter keeps. */
function mergeByBase(taskName: string, dependencies: Dependency[]): Map<string, Dependency> {
  const rank = (dep: Dependency) => (dep.pinned ? 0 : 2) + (dep.stage === 'runtime' ? 1 : 0);
  const byBase = new Map<string, Dependency>();
  for (const dep of dependencies) {
    if (dep.taskName !== taskName) {
      throw new ValidationError(`dependency on ${baseOf(dep)} belongs to task "${dep.taskName}", not "${taskName}"`, 'taskName');
    }
    const kept = byBase.get(baseOf(dep));
    if (!kept || rank(dep) > rank(kept)) byBase.set(baseOf(dep), dep);
  }
  return byBase;
}

// ---------------------------------------------------------------------------------------------
// image states

interface ImageStateItem {
  digest?: string;
  occurredAt?: string;
  occurredAtMs?: number;
  producedBy?: ImageProducer;
  /** By run id: the unfinished runs that push the tag (the adapter's `pushing:<run>` attributes). */
  pushing?: Record<string, Pusher>;
}

export class MemoryImageStateStore extends MemoryPort implements ImageStateStore {
  private readonly items = new Map<string, ImageStateItem>();

  constructor(options: MemoryPortOptions = {}) {
    super('imageStates', options);
  }

  async recordIfNewer(registry: string, repository: string, tag: string, digest: string, occurredAt: string): Promise<'newer' | 'same' | 'older'> {
    return (await this.recordPush(registry, repository, tag, digest, occurredAt)).age;
  }

  async recordPush(registry: string, repository: string, tag: string, digest: string, occurredAt: string): Promise<{ age: 'newer' | 'same' | 'older' } & TagPushers> {
    const time = Date.parse(occurredAt);
    if (Number.isNaN(time)) throw new ValidationError(`occurredAt "${occurredAt}" is not a date`, 'occurredAt');
    const key = stateKey(registry, repository, tag);
    const request = this.call('recordPush', registry, repository, tag, digest, occurredAt);
    const recorded = await request(() => {
      const before = this.items.get(key);
      // A newer time records even the digest already stored (the tag may have moved and come
      // back); at one instant the greater digest wins.
      const newer =
        before?.occurredAtMs === undefined ||
        before.occurredAtMs < time ||
        (before.occurredAtMs === time && before.digest !== undefined && byKey(before.digest, digest) < 0);
      if (!newer) return undefined;
      this.items.set(key, { ...before, digest, occurredAt, occurredAtMs: time });
      return { age: before?.digest === digest ? ('same' as const) : ('newer' as const), ...tagPushers(before) };
    });
    if (recorded) return recorded;
    // The adapter reads the state again to tell `same` from `older`: a second request.
    return request(() => {
      const now = this.items.get(key);
      return { age: now?.digest === digest ? ('same' as const) : ('older' as const), ...tagPushers(now) };
    });
  }

  async pushers(registry: string, repository: string, tag: string): Promise<TagPushers> {
    return this.call('pushers', registry, repository, tag)(() => tagPushers(this.items.get(stateKey(registry, repository, tag))));
  }

  /** These runs will push `target`: a write of a run opening, which has no condition. */
  pushingWrite(target: string, pushers: Pusher[]): MemoryWrite {
    const kept = stored(pushers);
    const key = keys.imageStateOf(target).PK;
    return {
      holds: () => true,
      apply: () => {
        const item = this.items.get(key) ?? {};
        item.pushing = { ...item.pushing, ...Object.fromEntries(kept.map((pusher) => [pusher.runId, pusher])) };
        this.items.set(key, item);
      },
    };
  }

  async stopPushing(targets: string[], runId: string): Promise<void> {
    const request = this.call('stopPushing', targets, runId);
    // One update per tag, at once; a tag the run does not push is left as it is.
    await Promise.all(targets.map((target) => request(() => void delete this.items.get(keys.imageStateOf(target).PK)?.pushing?.[runId])));
  }

  async recordProducer(registry: string, repository: string, tag: string, producer: ImageProducer): Promise<void> {
    const kept = stored(producer);
    await this.call('recordProducer', registry, repository, tag, producer)(() => {
      const key = stateKey(registry, repository, tag);
      this.items.set(key, { ...this.items.get(key), producedBy: kept });
    });
  }

  async current(registry: string, repository: string, tag: string): Promise<{ digest: string; occurredAt: string } | undefined> {
    return this.call('current', registry, repository, tag)(() => {
      const item = this.items.get(stateKey(registry, repository, tag));
      return item?.digest !== undefined && item.occurredAt !== undefined ? { digest: item.digest, occurredAt: item.occurredAt } : undefined;
    });
  }

  async producer(registry: string, repository: string, tag: string): Promise<ImageProducer | undefined> {
    return this.call('producer', registry, repository, tag)(() => {
      const producer = this.items.get(stateKey(registry, repository, tag))?.producedBy;
      return producer && copy(producer);
    });
  }
}

/** The producer and the pushers of a tag's state, the pushers by run id as the adapter orders their attributes. */
function tagPushers(item: ImageStateItem | undefined): TagPushers {
  const pushing = Object.entries(item?.pushing ?? {})
    .sort(([a], [b]) => byKey(a, b))
    .map(([, pusher]) => copy(pusher));
  return { ...(item?.producedBy && { producer: copy(item.producedBy) }), pushing };
}

const stateKey = (registry: string, repository: string, tag: string) => keys.imageState(registry, repository, tag).PK;

// ---------------------------------------------------------------------------------------------
// webhooks and deliveries

export class MemoryWebhookStore extends MemoryPort implements WebhookStore {
  private readonly items = new Map<string, Webhook>();

  constructor(options: MemoryPortOptions = {}) {
    super('webhooks', options);
  }

  async create(webhook: Webhook): Promise<void> {
    const kept = stored(webhook);
    await this.call('create', webhook)(() => {
      if (this.items.has(webhook.name)) throw new ConflictError(`webhook "${webhook.name}" already exists`);
      this.items.set(webhook.name, kept);
    });
  }

  async get(name: string): Promise<Webhook | undefined> {
    return this.call('get', name)(() => {
      const found = this.items.get(name);
      return found && copy(found);
    });
  }

  async list(): Promise<Webhook[]> {
    return this.call('list')(() => [...this.items.values()].sort((a, b) => byKey(a.name, b.name)).map((w) => copy(w)));
  }

  async setSecrets(name: string, secrets: string[]): Promise<void> {
    const kept = [...secrets];
    await this.call('setSecrets', name, secrets)(() => {
      const found = this.items.get(name);
      if (!found) throw new NotFoundError('webhook', name);
      found.secrets = kept;
    });
  }

  async delete(name: string): Promise<void> {
    await this.call('delete', name)(() => void this.items.delete(name));
  }
}

export class MemoryDeliveryStore extends MemoryPort implements DeliveryStore {
  /** By delivery key: when its record expires, in epoch seconds. */
  private readonly expiries = new Map<string, number>();
  private readonly clock: Clock;

  constructor(options: MemoryPortOptions & { clock?: Clock } = {}) {
    super('deliveries', options);
    this.clock = options.clock ?? new ManualClock();
  }

  async markSeen(key: string, ttlSeconds: number): Promise<boolean> {
    return this.call('markSeen', key, ttlSeconds)(() => writeIfHolds(this.markWrite(key, ttlSeconds)));
  }

  /** The mark that the key was seen, now: a write of markSeen, and of a run opening. */
  markWrite(key: string, ttlSeconds: number): MemoryWrite {
    const now = epochSeconds(this.clock.now());
    return {
      // A record past its time counts as unseen, as one TTL has not yet removed does.
      holds: () => {
        const expiresAt = this.expiries.get(key);
        return expiresAt === undefined || expiresAt <= now;
      },
      apply: () => void this.expiries.set(key, now + Math.max(0, Math.ceil(ttlSeconds))),
    };
  }

  async forget(key: string): Promise<void> {
    await this.call('forget', key)(() => void this.expiries.delete(key));
  }
}

// ---------------------------------------------------------------------------------------------
// build slots and gates

/** As the adapter: each attempt loses only to a concurrent change of the same item. */
const MAX_ADMIT_ATTEMPTS = 8;

export class MemoryBuildSlotStore extends MemoryPort implements BuildSlotStore {
  private readonly items = new Map<string, { building?: string; waiting?: string }>();

  constructor(options: MemoryPortOptions = {}) {
    super('slots', options);
  }

  async admit(taskName: string, runId: string): Promise<SlotAdmission> {
    const request = this.call('admit', taskName, runId);
    for (let attempt = 0; attempt < MAX_ADMIT_ATTEMPTS; attempt += 1) {
      const builds = await request(() => writeIfHolds(this.buildingWrite(taskName, runId)));
      if (builds) return { admitted: 'build' };
      const waits = await request((): SlotAdmission | undefined => {
        const slot = this.slot(taskName);
        if (slot.building === undefined || slot.building === runId) return undefined;
        const superseded = slot.waiting !== undefined && slot.waiting !== runId ? slot.waiting : undefined;
        slot.waiting = runId;
        return { admitted: 'wait', behind: slot.building, ...(superseded && { superseded }) };
      });
      if (waits) return waits;
    }
    throw new Error(`the build slots of task ${taskName} kept changing; admitting run ${runId} was given up`);
  }

  async release(taskName: string, runId: string): Promise<string | undefined> {
    const request = this.call('release', taskName, runId);
    // The adapter's steps, each one conditional update; others may act between them.
    for (let attempt = 0; attempt < MAX_ADMIT_ATTEMPTS; attempt += 1) {
      const promoted = await request(() => {
        const slot = this.items.get(taskName);
        if (slot?.building !== runId || slot.waiting === undefined) return undefined;
        slot.building = slot.waiting;
        delete slot.waiting;
        return slot.building;
      });
      if (promoted) return promoted;
      const freed = await request(() => {
        const slot = this.items.get(taskName);
        if (slot?.building !== runId || slot.waiting !== undefined) return false;
        delete slot.building;
        return true;
      });
      if (freed) return undefined;
      const gaveBack = await request(() => {
        const slot = this.items.get(taskName);
        if (slot?.waiting !== runId) return false;
        delete slot.waiting;
        return true;
      });
      if (gaveBack) return undefined;
      const stillBuilding = await request(() => this.items.get(taskName)?.building === runId);
      if (!stillBuilding) return undefined;
    }
    throw new Error(`the build slots of task ${taskName} kept changing; releasing run ${runId} was given up`);
  }

  async get(taskName: string): Promise<{ building?: string; waiting?: string }> {
    return this.call('get', taskName)(() => ({ ...this.items.get(taskName) }));
  }

  /** The run takes the building place if it is free (or its own already): a write of admit, and of a run opening. */
  buildingWrite(taskName: string, runId: string): MemoryWrite {
    return {
      holds: () => [undefined, runId].includes(this.items.get(taskName)?.building),
      apply: () => void (this.slot(taskName).building = runId),
    };
  }

  private slot(taskName: string): { building?: string; waiting?: string } {
    const slot = this.items.get(taskName) ?? {};
    this.items.set(taskName, slot);
    return slot;
  }
}

/**
 * Per change and task, the runs in the gate and the events held until the last is out. The
 * adapter gives the item a week's TTL, which no read looks at: here it is kept until emptied.
 */
export class MemoryGateStore extends MemoryPort implements GateStore {
  /** By the gate's table key. An empty `runs` is the adapter's absent attribute. */
  private readonly items = new Map<string, { runs: Set<string>; held: Map<string, DeferredEvent> }>();

  constructor(options: MemoryPortOptions = {}) {
    super('gates', options);
  }

  async hold(root: string, taskName: string, deferred: DeferredEvent): Promise<boolean> {
    const kept = stored(deferred);
    return this.call('hold', root, taskName, deferred)(() => {
      const gate = this.items.get(keys.gate(root, taskName).PK);
      if (!gate?.runs.size) return false;
      // One entry per event and dependent: a redelivered hold replaces itself.
      gate.held.set(`${deferred.forTask ?? '*'}#${deferred.event.deliveryId}`, kept);
      return true;
    });
  }

  async leave(root: string, taskName: string, runId: string): Promise<DeferredEvent[]> {
    const pk = keys.gate(root, taskName).PK;
    const request = this.call('leave', root, taskName, runId);
    // The adapter's steps: out of the set; then, when nobody is left in, the item taken whole.
    const othersIn = await request(() => {
      const gate = this.items.get(pk);
      gate?.runs.delete(runId);
      return !!gate?.runs.size;
    });
    if (othersIn) return [];
    return request(() => {
      const gate = this.items.get(pk);
      if (!gate || gate.runs.size > 0) return [];
      this.items.delete(pk);
      return [...gate.held.entries()].sort(([a], [b]) => byKey(a, b)).map(([, deferred]) => copy(deferred));
    });
  }

  /** These runs enter the gate: a write of a run opening, which has no condition. */
  enterWrite(root: string, taskName: string, runIds: string[]): MemoryWrite {
    const pk = keys.gate(root, taskName).PK;
    return {
      holds: () => true,
      apply: () => {
        const gate = this.items.get(pk) ?? { runs: new Set<string>(), held: new Map<string, DeferredEvent>() };
        for (const id of runIds) gate.runs.add(id);
        this.items.set(pk, gate);
      },
    };
  }
}

// ---------------------------------------------------------------------------------------------
// run openings

/** The stores whose items a run opening writes. */
export interface OpenedStores {
  runs: MemoryRunStore;
  dependencies: MemoryDependencyStore;
  deliveries: MemoryDeliveryStore;
  gates: MemoryGateStore;
  imageStates: MemoryImageStateStore;
  slots: MemoryBuildSlotStore;
}

/** Each transaction the adapter sends is one step, on the items of the stores it writes. */
export class MemoryRunOpenings extends MemoryPort implements RunOpenings {
  constructor(
    private readonly stores: OpenedStores,
    options: MemoryPortOptions = {},
  ) {
    super('openings', options);
  }

  async open(openings: RunOpening[]): Promise<OpeningOutcome[]> {
    const request = this.call('open', openings);
    return openInTransactions(openings, (writes) => request(() => transact(writes.map((write) => this.writeOf(write)))));
  }

  private writeOf(write: OpeningWrite): MemoryWrite {
    switch (write.kind) {
      case 'run':
        return this.stores.runs.putNew(write.run);
      case 'claim': {
        const { dep, digest, at, claimedBy } = write.claim;
        return this.stores.dependencies.claimWrite(dep, { digest, at }, claimedBy);
      }
      case 'once':
        return this.stores.deliveries.markWrite(write.once.key, write.once.ttlSeconds);
      case 'gate':
        return this.stores.gates.enterWrite(write.root, write.taskName, write.runIds);
      case 'pushing':
        return this.stores.imageStates.pushingWrite(write.target, write.pushers);
      case 'slot':
        return this.stores.slots.buildingWrite(write.taskName, write.runId);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// timers and the poller

export class MemoryTimerStateStore extends MemoryPort implements TimerStateStore {
  /** By `TIMER#task#timer`: the newest occurrence fired. */
  private readonly firedThrough = new Map<string, string>();

  constructor(options: MemoryPortOptions = {}) {
    super('timerStates', options);
  }

  async lastFired(taskName: string, timerName: string): Promise<string | undefined> {
    return this.call('lastFired', taskName, timerName)(() => this.firedThrough.get(timerKey(taskName, timerName)));
  }

  async claim(taskName: string, timerName: string, occurrence: string): Promise<boolean> {
    return this.call('claim', taskName, timerName, occurrence)(() => {
      const key = timerKey(taskName, timerName);
      const fired = this.firedThrough.get(key);
      // Occurrences share one ISO format, so they compare as strings, as the adapter compares them.
      if (fired !== undefined && byKey(fired, occurrence) >= 0) return false;
      this.firedThrough.set(key, occurrence);
      return true;
    });
  }

  async release(taskName: string, timerName: string, occurrence: string, previous: string | undefined): Promise<void> {
    await this.call('release', taskName, timerName, occurrence, previous)(() => {
      const key = timerKey(taskName, timerName);
      // A later occurrence was fired since: the cursor has moved on and stays.
      if (this.firedThrough.get(key) !== occurrence) return;
      if (previous === undefined) this.firedThrough.delete(key);
      else this.firedThrough.set(key, previous);
    });
  }

  async forget(taskName: string, timerName: string): Promise<void> {
    await this.call('forget', taskName, timerName)(() => void this.firedThrough.delete(timerKey(taskName, timerName)));
  }
}

const timerKey = (taskName: string, timerName: string) => keys.timerState(taskName, timerName).PK;

export class MemoryPollStateStore extends MemoryPort implements PollStateStore {
  private readonly states = new Map<string, PollState>();
  private readonly hosts = new Map<string, { notBefore: string; reason: string }>();

  constructor(options: MemoryPortOptions = {}) {
    super('pollStates', options);
  }

  async get(ref: string): Promise<PollState | undefined> {
    return this.call('get', ref)(() => {
      const state = this.states.get(ref);
      return state && copy(state);
    });
  }

  async put(state: PollState): Promise<void> {
    const kept = stored(state);
    // Only the poller writes these, one pass at a time: last write wins, whole.
    await this.call('put', state)(() => void this.states.set(state.ref, kept));
  }

  async list(): Promise<PollState[]> {
    return this.call('list')(() => [...this.states.values()].sort((a, b) => byKey(a.ref, b.ref)).map((s) => copy(s)));
  }

  async hostNotBefore(host: string): Promise<string | undefined> {
    return this.call('hostNotBefore', host)(() => this.hosts.get(host)?.notBefore);
  }

  async setHostNotBefore(host: string, until: string, reason: string): Promise<void> {
    await this.call('setHostNotBefore', host, until, reason)(() => void this.hosts.set(host, { notBefore: until, reason }));
  }

  /** Why the host is put off, as the adapter keeps it next to the time (nothing reads it but people). */
  hostReason(host: string): string | undefined {
    return this.hosts.get(host)?.reason;
  }
}

// ---------------------------------------------------------------------------------------------
// notifications

export class MemoryNotificationStore extends MemoryPort implements NotificationStore {
  private readonly items = new Map<string, Notification>();
  /** By notification name (the adapter's partition), then delivery id. */
  private readonly deliveries = new Map<string, Map<string, NotificationDelivery>>();
  private readonly clock: Clock;

  constructor(options: MemoryPortOptions & { clock?: Clock } = {}) {
    super('notifications', options);
    this.clock = options.clock ?? new ManualClock();
  }

  async create(notification: Notification): Promise<void> {
    const kept = stored(notification);
    await this.call('create', notification.name)(() => {
      if (this.items.has(notification.name)) throw new ConflictError(`notification "${notification.name}" already exists`);
      this.items.set(notification.name, kept);
    });
  }

  async get(name: string): Promise<Notification | undefined> {
    return this.call('get', name)(() => {
      const found = this.items.get(name);
      return found && copy(found);
    });
  }

  async list(): Promise<Notification[]> {
    return this.call('list')(() => [...this.items.values()].sort((a, b) => byKey(a.name, b.name)).map((n) => copy(n)));
  }

  async delete(name: string): Promise<void> {
    // As the adapter: a Query of the partition's keys, then deletes of those (what was written between stays).
    const call = this.call('delete', name);
    const ids = await call(() => [...(this.deliveries.get(name)?.keys() ?? [])]);
    await call(() => {
      this.items.delete(name);
      const partition = this.deliveries.get(name);
      for (const id of ids) partition?.delete(id);
    });
  }

  async createDelivery(delivery: NotificationDelivery): Promise<boolean> {
    const kept = stored(delivery);
    return this.call('createDelivery', delivery.notification, delivery.id)(() => {
      const partition = this.deliveries.get(delivery.notification) ?? new Map<string, NotificationDelivery>();
      if (partition.has(delivery.id)) return false;
      partition.set(delivery.id, kept);
      this.deliveries.set(delivery.notification, partition);
      return true;
    });
  }

  async getDelivery(notification: string, id: string): Promise<NotificationDelivery | undefined> {
    return this.call('getDelivery', notification, id)(() => {
      const found = this.deliveries.get(notification)?.get(id);
      return found && !this.expired(found) ? copy(found) : undefined;
    });
  }

  async recordAttempt(notification: string, id: string, attempt: DeliveryAttempt, after: { status: DeliveryStatus; nextAttemptAt?: string; detail?: string }): Promise<boolean> {
    const kept = stored(attempt);
    return this.call('recordAttempt', notification, id, attempt.number, after.status)(() => {
      const found = this.deliveries.get(notification)?.get(id);
      if (!found || found.status !== 'pending' || found.attempts.length !== attempt.number - 1) return false;
      found.attempts.push(kept);
      found.status = after.status;
      for (const field of ['nextAttemptAt', 'detail'] as const) {
        const value = after[field];
        if (value === undefined) delete found[field];
        else found[field] = value;
      }
      return true;
    });
  }

  async listDeliveries(notification: string, top: number): Promise<NotificationDelivery[]> {
    return this.call('listDeliveries', notification, top)(() =>
      [...(this.deliveries.get(notification)?.values() ?? [])]
        .sort((a, b) => byKey(b.id, a.id))
        .filter((d) => !this.expired(d))
        .slice(0, top)
        .map((d) => copy(d)),
    );
  }

  private expired(delivery: NotificationDelivery): boolean {
    return epochSeconds(new Date(delivery.keepUntil)) <= epochSeconds(this.clock.now());
  }
}

/** A receiver of notification deliveries: records each POST and answers from a script (a 204 when it runs out). */
export class MemoryNotificationSender extends MemoryPort implements NotificationSender {
  readonly requests: Array<{ url: string; headers: Record<string, string>; body: string; timeoutMs: number }> = [];
  /** Answers for the next POSTs, in order. */
  readonly answers: SendOutcome[] = [];
  otherwise: SendOutcome = { status: 204 };

  constructor(options: MemoryPortOptions = {}) {
    super('notificationSender', options);
  }

  async post(request: { url: string; headers: Record<string, string>; body: string; timeoutMs: number }): Promise<SendOutcome> {
    const kept = copy(request);
    return this.call('post', request.url)(() => {
      this.requests.push(kept);
      return copy(this.answers.shift() ?? this.otherwise);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// the other ports

// As FileSecretStore: names of visible ASCII, references with a prefix of their own.
const SECRET_NAME = /^[\x21-\x7e]{1,256}$/;
const SECRET_REF_PREFIX = 'memory:';

export class MemorySecretStore extends MemoryPort implements SecretStore {
  /** By name; a test may look, the domain only sees references. */
  readonly values = new Map<string, string>();

  constructor(options: MemoryPortOptions = {}) {
    super('secrets', options);
  }

  async put(name: string, value: string): Promise<string> {
    const ref = this.refFor(name);
    // The value stays out of the call's arguments: a printed trace must not show it.
    await this.call('put', name)(() => void this.values.set(name, value));
    return ref;
  }

  async get(ref: string): Promise<string | undefined> {
    const name = secretName(ref);
    return this.call('get', ref)(() => this.values.get(name));
  }

  async delete(ref: string): Promise<void> {
    const name = secretName(ref);
    await this.call('delete', ref)(() => void this.values.delete(name));
  }

  refFor(name: string): string {
    if (!SECRET_NAME.test(name)) throw new ValidationError(`secret name "${name}" must be 1 to 256 visible ASCII characters, without spaces`, 'name');
    return SECRET_REF_PREFIX + name;
  }
}

function secretName(ref: string): string {
  const name = ref.startsWith(SECRET_REF_PREFIX) ? ref.slice(SECRET_REF_PREFIX.length) : '';
  if (!SECRET_NAME.test(name)) throw new ValidationError(`secret reference "${ref}" is not a memory secret (expected memory:<name>)`, 'secretRef');
  return name;
}

// As FileLogStore: run ids become file names there, so the same ids are refused here.
const LOG_RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export class MemoryLogStore extends MemoryPort implements LogStore {
  readonly logs = new Map<string, string>();

  constructor(options: MemoryPortOptions = {}) {
    super('logs', options);
  }

  async append(runId: string, text: string): Promise<void> {
    checkLogRunId(runId);
    if (text.length === 0) return;
    await this.call('append', runId, text)(() => void this.logs.set(runId, (this.logs.get(runId) ?? '') + text));
  }

  async read(runId: string): Promise<string> {
    checkLogRunId(runId);
    return this.call('read', runId)(() => this.logs.get(runId) ?? '');
  }

  async delete(runId: string): Promise<void> {
    checkLogRunId(runId);
    await this.call('delete', runId)(() => void this.logs.delete(runId));
  }
}

function checkLogRunId(runId: string): void {
  if (!LOG_RUN_ID.test(runId)) throw new ValidationError(`run id "${runId}" must be letters, digits, _ and - (at most 128)`, 'runId');
}

/** Keeps what is sent, in order, as a queue body would carry it (no undefined fields). */
export class MemoryQueue extends MemoryPort implements Queue {
  /** Sent and not yet drained, oldest first. */
  readonly messages: QueueMessage[] = [];
  /** The messages sent with a delay, and their delay, in order (also in `messages`, at once). */
  readonly delayed: Array<{ message: QueueMessage; delayMs: number }> = [];

  constructor(options: MemoryPortOptions = {}) {
    super('queue', options);
  }

  async send(message: QueueMessage, options: SendOptions = {}): Promise<void> {
    const kept = stored(message);
    await this.call('send', message)(() => {
      this.messages.push(kept);
      if (options.delayMs !== undefined && options.delayMs > 0) this.delayed.push({ message: copy(kept), delayMs: options.delayMs });
    });
  }

  /** Removes and returns every message sent so far, oldest first (to hand them to cascade.process). */
  drain(): QueueMessage[] {
    return this.messages.splice(0);
  }
}

/** What a registry answers for tags: set digests per tag and, for an index, per platform. */
export class MemoryDigestResolver extends MemoryPort implements DigestResolver {
  private readonly tags = new Map<string, { digest: string; platforms: Record<string, string> }>();

  constructor(options: MemoryPortOptions = {}) {
    super('digests', options);
  }

  /** The tag now points to `digest`; `platforms` maps `os/arch` to its image when it is an index. */
  set(ref: string, digest: string, platforms: Record<string, string> = {}): void {
    this.tags.set(ref, { digest, platforms: { ...platforms } });
  }

  async resolve(ref: { registry: string; repository: string; tag: string }): Promise<string> {
    return this.call('resolve', ref)(() => this.lookUp(ref).digest);
  }

  async resolveForPlatform(ref: { registry: string; repository: string; tag: string }, platform: string, _credentials: unknown[], known?: TagDigest): Promise<TagDigest> {
    return this.call('resolveForPlatform', ref, platform)(() => {
      const found = this.lookUp(ref);
      if (known && known.digest === found.digest) return { ...known };
      if (Object.keys(found.platforms).length === 0) return { digest: found.digest, platformDigest: found.digest };
      const platformDigest = found.platforms[platform];
      if (platformDigest === undefined) throw new RegistryError(ref.registry, `${ref.repository}:${ref.tag} has no image for ${platform}`);
      return { digest: found.digest, platformDigest };
    });
  }

  private lookUp(ref: { registry: string; repository: string; tag: string }) {
    const found = this.tags.get(`${ref.registry}/${ref.repository}:${ref.tag}`);
    if (!found) throw new RegistryError(ref.registry, `manifest unknown: ${ref.repository}:${ref.tag} (HTTP 404)`);
    return found;
  }
}

// ---------------------------------------------------------------------------------------------
// sets of ports

export interface MemoryStoresOptions extends MemoryPortOptions {
  runIdPrefix?: string;
  /** Decides what has expired: runs past keepUntil, deliveries past their TTL. */
  clock?: Clock;
  normalizeGitUrl?: (url: string) => string;
}

export interface MemoryStores extends Stores {
  tasks: MemoryTaskStore;
  runs: MemoryRunStore;
  dependencies: MemoryDependencyStore;
  imageStates: MemoryImageStateStore;
  webhooks: MemoryWebhookStore;
  deliveries: MemoryDeliveryStore;
  slots: MemoryBuildSlotStore;
  openings: MemoryRunOpenings;
  gates: MemoryGateStore;
  timerStates: MemoryTimerStateStore;
  pollStates: MemoryPollStateStore;
  notifications: MemoryNotificationStore;
}

/** Every store, as createDynamoDbStores gives them, in memory. */
export function memoryStores(options: MemoryStoresOptions = {}): MemoryStores {
  const { interleaver, clock = new ManualClock() } = options;
  const opened: OpenedStores = {
    runs: new MemoryRunStore({ interleaver, runIdPrefix: options.runIdPrefix, clock }),
    dependencies: new MemoryDependencyStore({ interleaver }),
    deliveries: new MemoryDeliveryStore({ interleaver, clock }),
    gates: new MemoryGateStore({ interleaver }),
    imageStates: new MemoryImageStateStore({ interleaver }),
    slots: new MemoryBuildSlotStore({ interleaver }),
  };
  return {
    ...opened,
    tasks: new MemoryTaskStore({ interleaver, normalizeGitUrl: options.normalizeGitUrl }),
    webhooks: new MemoryWebhookStore({ interleaver }),
    openings: new MemoryRunOpenings(opened, { interleaver }),
    timerStates: new MemoryTimerStateStore({ interleaver }),
    pollStates: new MemoryPollStateStore({ interleaver }),
    notifications: new MemoryNotificationStore({ interleaver, clock }),
  };
}

export type MemoryCascadePorts = CascadePorts &
  MemoryStores & {
    stores: MemoryStores;
    secrets: MemorySecretStore;
    logs: MemoryLogStore;
    queue: MemoryQueue;
    builder: RecordingBuilder;
    digests: MemoryDigestResolver;
    notificationSender: MemoryNotificationSender;
    clock: ManualClock;
    /** The queue's messages (the same array as `queue.messages`). */
    sent: QueueMessage[];
  };

/** Every port of createCascade in memory: the stores, a recording queue and builder, a set clock. */
export function memoryCascadePorts(options: Omit<MemoryStoresOptions, 'clock'> & { clock?: ManualClock; builder?: RecordingBuilder } = {}): MemoryCascadePorts {
  const clock = options.clock ?? new ManualClock('2026-11-28T05:00:00.000Z');
  const { interleaver } = options;
  const stores = memoryStores({ ...options, clock });
  const queue = new MemoryQueue({ interleaver });
  return {
    ...stores,
    stores,
    imageState: stores.imageStates,
    secrets: new MemorySecretStore({ interleaver }),
    logs: new MemoryLogStore({ interleaver }),
    queue,
    sent: queue.messages,
    builder: options.builder ?? new RecordingBuilder(),
    digests: new MemoryDigestResolver({ interleaver }),
    notificationSender: new MemoryNotificationSender({ interleaver }),
    clock,
    publicUrl: 'http://127.0.0.1:3000',
    webhookProviders: getProvider,
  };
}
