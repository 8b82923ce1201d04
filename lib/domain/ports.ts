// Narrow interfaces the domain needs from the outside world. Adapters in lib/adapters implement them.
import type { ConflictError } from './errors';
import type { WebhookDeliveryRef } from './webhook-delivery-log';
import type { Notification, NotificationDelivery, NotificationSubject, DeliveryAttempt, DeliveryStatus } from './notifications/notification';
import type { SendOutcome } from './notifications/retry';
import type {
  BuildContext,
  TaskTimer,
  RegistryCredential,
  BuildResult,
  BuildSpec,
  Dependency,
  ImageEvent,
  ImageProducer,
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
  /** The tasks of these names that exist, in batches rather than one request each. */
  getMany(names: string[]): Promise<Map<string, Task>>;
  /** Writes the task's settings; its captured dependencies and its timers have writers of their own and stay as stored. */
  put(task: Task): Promise<void>;
  delete(name: string): Promise<void>;
  list(): Promise<Task[]>;
  /** Tasks whose context is this git repository (normalized URL) and branch. */
  listByGitContext(repoUrl: string, branch: string): Promise<Task[]>;
  /** Tasks on this branch whose context is a git URL with one of these paths (gitUrlParts), on any host. */
  listByGitPath(paths: string[], branch: string): Promise<Task[]>;
  /**
   * Records that a run captured the task's dependencies, changing nothing else of the task (a
   * whole put from an earlier read could undo a change made meanwhile). False when a newer run
   * captured them already, or the task is gone.
   */
  recordCapture(name: string, capture: DependencyCapture): Promise<boolean>;
  /** Replaces the task's timers alone. NotFoundError when the task does not exist. */
  setTimers(name: string, timers: TaskTimer[], updatedAt: string): Promise<void>;
}

export interface DependencyCapture {
  capturedAt: string;
  /** The run's sequence: an older run's capture never replaces a newer one's. */
  bySequence: number;
  /** Tasks whose builds push the bases (see Task.upstream). */
  upstream: string[];
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
  /** The next `count` run ids, in order, with one request. */
  nextIds(count: number): Promise<Array<{ id: string; sequence: number }>>;
  create(run: Run): Promise<void>;
  /** Runs under ids from nextIds, which no other writer can hold: written in batches. */
  createMany(runs: Run[]): Promise<void>;
  get(id: string): Promise<Run | undefined>;
  /**
   * Moves a run forward. Fails with ConflictError when the run is not in one of `from`
   * (a late or duplicated state change never moves a run backwards).
   */
  transition(id: string, from: RunStatus[], changes: Partial<Run> & { status: RunStatus }): Promise<Run>;
  /** Many transitions, in batches (one request for up to 100): for each, 'moved', or the ConflictError transition would throw. */
  transitionMany(moves: Array<{ id: string; from: RunStatus[]; changes: Partial<Run> & { status: RunStatus } }>): Promise<Array<'moved' | ConflictError>>;
  list(query: RunQuery): Promise<Run[]>;
  /** Runs still Queued or Running, oldest first, for recovery after a crash. */
  listUnfinished(): Promise<Run[]>;
  /** Removes these runs (finished ones past their task's history limit). */
  deleteMany(ids: string[]): Promise<void>;
  /**
   * Removes the runs whose `keepUntil` has passed and returns their ids. On AWS DynamoDB's TTL
   * does this on its own; DynamoDB Local has no TTL, so the local stack sweeps.
   */
  deleteExpired(): Promise<string[]>;
}

export type DependencyKey = Pick<Dependency, 'taskName' | 'registry' | 'repository' | 'tag'>;

export interface DependencyStore {
  /** Every task that depends on `registry/repository:tag`: one Query. */
  listDependents(registry: string, repository: string, tag: string): Promise<Dependency[]>;
  listForTask(taskName: string): Promise<Dependency[]>;
  /** Replaces the task's edges with these (the bases its latest successful build used). */
  replaceForTask(taskName: string, dependencies: Dependency[]): Promise<void>;
  /**
   * Claims the right to build `taskName` for `push.digest` of this base. Returns false when a
   * build for that digest was already claimed or recorded, or a push newer than `push.at` was
   * claimed: the atomic guard against duplicate builds and against an older digest winning late.
   */
  claimTrigger(dep: DependencyKey, push: { digest: string; at: string }, claimedBy: string): Promise<boolean>;
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
  /**
   * For the poller: the tag's digest and, when it is an index, the digest of the image for
   * `platform` (`os/arch[/variant]`); for a single image both are the same. When the tag's digest
   * still equals `known.digest`, `known.platformDigest` is reused without fetching the index
   * (a HEAD request only, which registries do not count as a pull). A 429 is thrown as
   * RegistryRateLimitedError.
   */
  resolveForPlatform(ref: { registry: string; repository: string; tag: string }, platform: string, credentials: RegistryCredential[], known?: TagDigest): Promise<TagDigest>;
}

export interface TagDigest {
  /** What the tag points to: an index or a single image. */
  digest: string;
  /** The image the platform's build would pull. */
  platformDigest: string;
}

/** A run of cascade's that pushes a tag and has not finished: events for the tag wait for its result. */
export interface Pusher {
  runId: string;
  taskName: string;
  /** The change it builds for (its origin's root). */
  root: string;
}

/** What a tag's state says of who pushes it: the run that last did, and the runs that will. */
export interface TagPushers {
  producer?: ImageProducer;
  pushing: Pusher[];
}

/** Per tag: the newest digest seen, so that a late, older event never wins; and who pushed it. */
export interface ImageStateStore {
  /** Records the digest if `occurredAt` is newer than what is stored. Returns whether it was recorded or equal. */
  recordIfNewer(registry: string, repository: string, tag: string, digest: string, occurredAt: string): Promise<'newer' | 'same' | 'older'>;
  /** recordIfNewer, and the tag's producer and unfinished pushers read in the same request. */
  recordPush(registry: string, repository: string, tag: string, digest: string, occurredAt: string): Promise<{ age: 'newer' | 'same' | 'older' } & TagPushers>;
  /** The tag's producer and unfinished pushers, without recording anything. */
  pushers(registry: string, repository: string, tag: string): Promise<TagPushers>;
  /** Records that a run of cascade's pushed `producer.digest` to the tag. */
  recordProducer(registry: string, repository: string, tag: string, producer: ImageProducer): Promise<void>;
  /** The run will push no more to these tags (`registry/repository:tag`): it has finished. */
  stopPushing(targets: string[], runId: string): Promise<void>;
  /** The newest digest seen for the tag, from any sender. */
  current(registry: string, repository: string, tag: string): Promise<{ digest: string; occurredAt: string } | undefined>;
  /** The run that last pushed the tag, if cascade did. */
  producer(registry: string, repository: string, tag: string): Promise<ImageProducer | undefined>;
}

/**
 * A task run written with everything that makes it count, at once: the claim that triggered it,
 * the mark that its change was built for its task, its place among the runs its change waits on
 * (the gate: its task × its change), the tags it will push (so that their events wait for its
 * result), and, for an Image Update run, its place in its task's build slots.
 */
export interface RunOpening {
  /** Queued, under an id from RunStore.nextIds. */
  run: Run;
  /** The edge claim (DependencyStore.claimTrigger's rule); the opening fails when another holds it. */
  claim?: { dep: DependencyKey; digest: string; at: string; claimedBy: string };
  /** DeliveryStore.markSeen's rule on this key; the opening fails when it is seen. */
  once?: { key: string; ttlSeconds: number };
  /** Where the run pushes, `registry/repository:tag`. */
  pushes: string[];
  /** Take the building place in the task's slots if it is free (Image Update runs). */
  build?: boolean;
}

export type OpeningOutcome =
  /** Written. `building`: it took the building place; false when it was taken (admit it to wait). */
  | { opened: true; building: boolean }
  /** Nothing written: the claim or the mark belongs to another. */
  | { opened: false; lost: 'claim' | 'once' };

/** Writes runs with what makes them count, each whole or not at all, many in one request where it can. */
export interface RunOpenings {
  open(openings: RunOpening[]): Promise<OpeningOutcome[]>;
}

/**
 * Per change and task, the runs of that task for that change not yet finished (entered by
 * RunOpenings.open), and the events that wait for them: an event for a tag such a run pushes,
 * or a task that builds on it too, waits until the last of them has finished.
 */
export interface GateStore {
  /** Holds `deferred` while a run is in the gate: true; false (nothing written) when none is. */
  hold(root: string, taskName: string, deferred: DeferredEvent): Promise<boolean>;
  /** The run has finished: it leaves the gate. The last to leave takes what was held (returned, and gone). */
  leave(root: string, taskName: string, runId: string): Promise<DeferredEvent[]>;
}

/**
 * Per task, the Image Update run that builds and the one that waits: a burst of pushes of a base
 * gives one build now and one after it, of the newest digest, whatever the burst's length.
 */
export interface BuildSlotStore {
  /** Admits a Queued Image Update run: it builds now, or waits behind the building one (taking the place of any run waiting before). */
  admit(taskName: string, runId: string): Promise<SlotAdmission>;
  /** The run has finished, or will never build: frees its place. Returns the waiting run, which builds next. */
  release(taskName: string, runId: string): Promise<string | undefined>;
  get(taskName: string): Promise<{ building?: string; waiting?: string }>;
}

export type SlotAdmission = { admitted: 'build' } | { admitted: 'wait'; behind: string; superseded?: string };

/** An image event held back for one task (or every dependent) until an upstream run has finished. */
export interface DeferredEvent {
  event: ImageEvent;
  /** Only this dependent is to see it again; every dependent when absent. */
  forTask?: string;
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
  /** Removes a run's log; on AWS CodeBuild's log group keeps its own retention. */
  delete?(runId: string): Promise<void>;
}

export type QueueMessage =
  /** `forTask`: a deferred event seen again by one dependent only. `via`: the webhook delivery it came in, whose record is told what became of it. */
  | { type: 'event'; event: InboundEvent; forTask?: string; via?: WebhookDeliveryRef }
  | { type: 'start-run'; runId: string }
  | { type: 'build-result'; result: BuildResult }
  /** A run's transition or a deleted base, for the notifications it concerns (NotificationService.fanOut). */
  | { type: 'notify'; subject: NotificationSubject }
  /** Attempt `attempt` of a notification's delivery (NotificationService.attempt). */
  | { type: 'notify-attempt'; notification: string; deliveryId: string; attempt: number };

export interface SendOptions {
  /** Handed to a receiver no sooner than this (SQS DelaySeconds: whole seconds, at most 900). */
  delayMs?: number;
}

export interface Queue {
  send(message: QueueMessage, options?: SendOptions): Promise<void>;
}

export interface BuildRequest {
  runId: string;
  spec: BuildSpec;
  /**
   * Set when this is not the run's first start: an earlier attempt (whose answer never came
   * back, or a crash before it was recorded) may have reached the builder and begun a build.
   * The value is the earliest time such an attempt can have been made, the run's creation (ISO
   * 8601). A builder that cannot always recognise a repeated start by itself looks for a build
   * of this run begun since then and returns it instead of starting a second one. Absent on a
   * first start, which must cost no more than starting.
   */
  earlierAttemptsSince?: string;
}

/** What a builder says of a build it was asked about. */
export type BuildState =
  | { buildId: string; state: 'running' }
  | { buildId: string; state: 'finished'; result: BuildResult }
  /** The builder has no record of it that cascade can use (expired, never started, not cascade's). */
  | { buildId: string; state: 'missing'; reason: string };

/** Starts builds. Completion is reported later, as a BuildResult, through the queue or an event. */
export interface Builder {
  /**
   * Starts the run's build; idempotent per run: a start of a run whose build is under way answers
   * that build. Throws RetryableError when the build cannot start for now, or when it
   * is not known whether the builder took the request: the run stays Queued, and a later start
   * (with `earlierAttemptsSince`) carries on with the build if one was begun. Any other error is
   * a refusal, and the run ends in Error.
   */
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

/**
 * Where timers live outside cascade's records. On AWS each timer is an EventBridge Scheduler
 * schedule that invokes the dispatcher; the local stack runs timers itself and needs none.
 */
export interface TimerScheduler {
  /** Creates the timer's schedule, or replaces it (schedule or enabled changed). */
  put(taskName: string, timer: TaskTimer): Promise<void>;
  /** Removes it; removing one that does not exist is not an error. */
  remove(taskName: string, timerName: string): Promise<void>;
}

/** Per timer, the newest occurrence fired: each occurrence fires once, across restarts and redeliveries. */
export interface TimerStateStore {
  lastFired(taskName: string, timerName: string): Promise<string | undefined>;
  /** Records `occurrence` as fired unless it, or a later one, already was: true for the one caller that fires it. */
  claim(taskName: string, timerName: string, occurrence: string): Promise<boolean>;
  /** Undoes a claim whose run could not be created, so a retry can fire it. */
  release(taskName: string, timerName: string, occurrence: string, previous: string | undefined): Promise<void>;
  /** The timer was removed: a timer added again under its name starts afresh. */
  forget(taskName: string, timerName: string): Promise<void>;
}

/** What the poller knows of one watched tag. */
export interface PollState {
  /** `registry/repository:tag`. */
  ref: string;
  /** What the tag pointed to at the last poll. */
  digest?: string;
  /** Per platform (`linux/amd64`), the digest of its image at the last poll. */
  platforms: Record<string, string>;
  polledAt?: string;
  /** When a change was last seen. */
  changedAt?: string;
  /** Polls in a row that failed; the next is put off longer each time. */
  failures: number;
  /** No poll before this (a 429's Retry-After, or the back-off after failures). */
  notBefore?: string;
  lastError?: string;
}

export interface PollStateStore {
  get(ref: string): Promise<PollState | undefined>;
  put(state: PollState): Promise<void>;
  list(): Promise<PollState[]>;
  /** Per registry host: no request before this time (the host answered 429). */
  hostNotBefore(host: string): Promise<string | undefined>;
  setHostNotBefore(host: string, until: string, reason: string): Promise<void>;
}

/** Notifications and their deliveries (a delivery lives under its notification, and goes with it). */
export interface NotificationStore {
  /** Fails with ConflictError when the name is taken. */
  create(notification: Notification): Promise<void>;
  get(name: string): Promise<Notification | undefined>;
  /** Every notification, by name. */
  list(): Promise<Notification[]>;
  /** Removes the notification and its deliveries; removing one that does not exist is not an error. */
  delete(name: string): Promise<void>;
  /** Writes a new delivery: false, and nothing written, when the notification has one of that id. */
  createDelivery(delivery: NotificationDelivery): Promise<boolean>;
  /** undefined once past its `keepUntil`. */
  getDelivery(notification: string, id: string): Promise<NotificationDelivery | undefined>;
  /**
   * Adds attempt `attempt.number` and the delivery's state after it, only while the delivery is
   * pending with `attempt.number - 1` attempts: false, and nothing written, otherwise (another
   * receive of the same attempt recorded it, or the delivery is gone).
   */
  recordAttempt(notification: string, id: string, attempt: DeliveryAttempt, after: { status: DeliveryStatus; nextAttemptAt?: string; detail?: string }): Promise<boolean>;
  /** The notification's deliveries, newest first, at most `top`. */
  listDeliveries(notification: string, top: number): Promise<NotificationDelivery[]>;
}

/** POSTs one delivery. It never throws for what the receiver does: a status, or why none came. */
export interface NotificationSender {
  post(request: { url: string; headers: Record<string, string>; body: string; timeoutMs: number }): Promise<SendOutcome>;
}
