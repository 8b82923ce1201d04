// Narrow interfaces the domain needs from the outside world. Adapters in lib/adapters implement them.
import type {
  BuildContext,
  RegistryCredential,
  BuildResult,
  BuildSpec,
  Dependency,
  InboundEvent,
  Run,
  RunStatus,
  Task,
  Webhook,
} from './types';

export interface TaskStore {
  /** Fails with ConflictError when the name is taken. */
  create(task: Task): Promise<void>;
  get(name: string): Promise<Task | undefined>;
  put(task: Task): Promise<void>;
  delete(name: string): Promise<void>;
  list(): Promise<Task[]>;
  /** Tasks whose context is this git repository (normalized URL) and branch. */
  listByGitContext(repoUrl: string, branch: string): Promise<Task[]>;
}

export interface RunQuery {
  taskName?: string;
  status?: RunStatus;
  /** Newest first; at most this many. */
  top: number;
}

export interface RunStore {
  /** Next run id from the installation's atomic counter: `da1`, `da2`, … */
  nextId(): Promise<{ id: string; sequence: number }>;
  create(run: Run): Promise<void>;
  get(id: string): Promise<Run | undefined>;
  /**
   * Moves a run forward. Fails with ConflictError when the run is not in one of `from`
   * (a late or duplicated state change never moves a run backwards).
   */
  transition(id: string, from: RunStatus[], changes: Partial<Run> & { status: RunStatus }): Promise<Run>;
  list(query: RunQuery): Promise<Run[]>;
  /** Runs still Queued or Running, oldest first, for recovery after a crash. */
  listUnfinished(): Promise<Run[]>;
}

export type DependencyKey = Pick<Dependency, 'taskName' | 'registry' | 'repository' | 'tag'>;

export interface DependencyStore {
  /** Every task that depends on `registry/repository:tag`: one Query. */
  listDependents(registry: string, repository: string, tag: string): Promise<Dependency[]>;
  listForTask(taskName: string): Promise<Dependency[]>;
  /** Replaces the task's edges with these (the bases its latest successful build used). */
  replaceForTask(taskName: string, dependencies: Dependency[]): Promise<void>;
  /**
   * Claims the right to build `taskName` for `digest` of this base. Returns false when a build
   * for that digest was already claimed or recorded: the atomic guard against duplicate builds.
   */
  claimTrigger(dep: DependencyKey, digest: string, claimedBy: string): Promise<boolean>;
  /** Gives a claim back when the build it was for could not be created, so a retry can claim again. */
  releaseTrigger(dep: DependencyKey, digest: string, claimedBy: string): Promise<void>;
  deleteForTask(taskName: string): Promise<void>;
  /** Marks every edge to this base as gone (the registry deleted the tag). Returns how many. */
  markTagGone(registry: string, repository: string, tag: string, at: string): Promise<number>;
}

/** Asks a registry for a tag's current digest (a manifest HEAD request). */
export interface DigestResolver {
  /** `credentials` are the dependent tasks' credentials for that host, tried before cascade's own login. */
  resolve(ref: { registry: string; repository: string; tag: string }, credentials: RegistryCredential[]): Promise<string>;
}

/** The newest digest seen for a tag, so that a late, older event never wins. */
export interface ImageStateStore {
  /** Records the digest if `occurredAt` is newer than what is stored. Returns whether it was recorded or equal. */
  recordIfNewer(registry: string, repository: string, tag: string, digest: string, occurredAt: string): Promise<'newer' | 'same' | 'older'>;
}

export interface WebhookStore {
  create(webhook: Webhook): Promise<void>;
  get(name: string): Promise<Webhook | undefined>;
  list(): Promise<Webhook[]>;
  /** Replaces the accepted secrets (rotation). NotFoundError when the webhook does not exist. */
  setSecrets(name: string, secrets: string[]): Promise<void>;
  delete(name: string): Promise<void>;
}

/** Delivery records with an expiry: the first `markSeen` of a key returns true, later ones false. */
export interface DeliveryStore {
  markSeen(key: string, ttlSeconds: number): Promise<boolean>;
  /** Undoes markSeen when the delivery could not be handed on, so the provider's retry is not dropped. */
  forget(key: string): Promise<void>;
}

export interface SecretStore {
  /** Stores a secret and returns the reference to keep in records. */
  put(name: string, value: string): Promise<string>;
  get(ref: string): Promise<string | undefined>;
  delete(ref: string): Promise<void>;
  /** The reference `put(name, …)` returns, without storing anything. */
  refFor(name: string): string;
}

/** Build logs live outside run records (they can be large). */
export interface LogStore {
  append(runId: string, text: string): Promise<void>;
  read(runId: string): Promise<string>;
}

export type QueueMessage =
  | { type: 'event'; event: InboundEvent }
  | { type: 'start-run'; runId: string }
  | { type: 'build-result'; result: BuildResult };

export interface Queue {
  send(message: QueueMessage): Promise<void>;
}

export interface BuildRequest {
  runId: string;
  spec: BuildSpec;
}

/** What a builder says of a build it was asked about. */
export type BuildState =
  | { buildId: string; state: 'running' }
  | { buildId: string; state: 'finished'; result: BuildResult }
  /** The builder has no record of it that cascade can use (expired, never started, not cascade's). */
  | { buildId: string; state: 'missing'; reason: string };

/** Starts builds. Completion is reported later, as a BuildResult, through the queue or an event. */
export interface Builder {
  start(request: BuildRequest): Promise<{ buildId: string }>;
  cancel?(buildId: string): Promise<void>;
  /** Asks for the state of builds, for runs whose completion report may have been lost. */
  describe?(buildIds: string[]): Promise<BuildState[]>;
}

/** Reads files from a build context before any build, so that bad input is refused up front. */
export interface SourceReader {
  /** The file's text; throws ValidationError when the context cannot be read or the file is missing. */
  readFile(context: BuildContext, path: string): Promise<string>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
