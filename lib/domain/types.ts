// The vocabulary of cascade. Plain data only: no SDK, no I/O.

/** A parsed image reference. `registry` is a host[:port]; Docker Hub is `docker.io`. */
export interface ImageRef {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export type Trigger = 'Manual' | 'Git Commit' | 'Image Update' | 'Timer';
export const TRIGGERS: readonly Trigger[] = ['Manual', 'Git Commit', 'Image Update', 'Timer'];

export type RunStatus = 'Queued' | 'Running' | 'Succeeded' | 'Failed' | 'Canceled' | 'Timeout' | 'Error';
export const RUN_STATUSES: readonly RunStatus[] = ['Queued', 'Running', 'Succeeded', 'Failed', 'Canceled', 'Timeout', 'Error'];
export const TERMINAL_STATUSES: readonly RunStatus[] = ['Succeeded', 'Failed', 'Canceled', 'Timeout', 'Error'];

/** `Runtime`: only the final stage's base triggers a rebuild. `All`: every base does. */
export type BaseImageTriggerType = 'Runtime' | 'All';

/** Where the sources come from: a git URL with branch and folder, or a local folder. */
export type BuildContext =
  | { kind: 'git'; url: string; branch: string; folder: string }
  | { kind: 'local'; path: string };

/** How a task authenticates to one registry. Secrets live in the SecretStore; only references here. */
export type RegistryCredential =
  | { kind: 'basic'; loginServer: string; username: string; secretRef: string }
  | { kind: 'identity'; loginServer: string; roleArn: string };

export interface Task {
  name: string;
  /** Login server the task pushes to, e.g. `127.0.0.1:5001` or `123.dkr.ecr.eu-west-1.amazonaws.com`. */
  registry: string;
  /** Image templates relative to `registry`, e.g. `helloworld:{{.Run.ID}}`. */
  images: string[];
  context: BuildContext;
  /** Path of the Dockerfile inside the context. */
  dockerfile: string;
  buildArgs: Record<string, string>;
  platform: string;
  status: 'Enabled' | 'Disabled';
  baseImageTrigger: { enabled: boolean; type: BaseImageTriggerType };
  commitTrigger: { enabled: boolean };
  credentials: RegistryCredential[];
  /** Set once the first run has recorded the task's base images. */
  dependenciesCapturedAt?: string;
  /** Sequence of the run that last recorded them: an older run's late result never overwrites a newer one's. */
  dependenciesCapturedBySequence?: number;
  /** Tasks whose builds push the bases this task was last built from (recorded with its dependencies). */
  upstream?: string[];
  /** Scheduled runs: several per task, each a 5-field cron in UTC. */
  timers?: TaskTimer[];
  /** How much of the task's past is kept. */
  history?: TaskHistory;
  createdAt: string;
  updatedAt: string;
}

/** A scheduled trigger of a task: `schedule` is a 5-field cron expression, evaluated in UTC. */
export interface TaskTimer {
  name: string;
  schedule: string;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface TaskHistory {
  /** Finished runs kept per task; older ones are removed. */
  keepRuns: number;
  /** Days a finished run's log is kept. */
  logRetentionDays: number;
}

export const DEFAULT_HISTORY: TaskHistory = { keepRuns: 50, logRetentionDays: 30 };

export type RunCause =
  | { kind: 'manual'; requestedBy?: string }
  | {
      kind: 'image-update';
      base: string;
      oldDigest?: string;
      newDigest: string;
      source: string;
      deliveryId: string;
      /** When the sender says the push happened. */
      occurredAt?: string;
      /** The run of cascade whose push this was: the previous link of the cause chain. */
      pushedByRun?: string;
    }
  | { kind: 'git-commit'; repoUrl: string; ref: string; commit: string; source: string; deliveryId: string }
  | { kind: 'timer'; timerName: string; occurrence: string; /** Earlier occurrences missed while cascade was down, folded into this run. */ missed?: number };

export interface OutputImage {
  /** Fully qualified reference that was pushed, e.g. `127.0.0.1:5001/helloworld:da2`. */
  reference: string;
  digest: string;
}

/** A base image as a build resolved it. */
export interface ResolvedBaseImage {
  registry: string;
  repository: string;
  tag?: string;
  digest: string;
  stage: DependencyStage;
  /** The FROM named a digest: it never triggers a rebuild. */
  pinned: boolean;
  /** The task file's build step that pulled it (a Dockerfile build has none). */
  step?: string;
}

/**
 * Where a run's change came from: the first event (`root`) and the tasks whose builds carried it
 * here (`via`, upstream first). A push made by cascade's own build carries its run's origin on,
 * so that a chain of tasks is one change, and a task met again in `via` is a loop.
 */
export interface RunOrigin {
  root: string;
  via: string[];
}

export interface Run {
  id: string;
  /** Position in the installation's sequence; orders runs. */
  sequence: number;
  /** Absent for a quick build (`cascade build`). */
  taskName?: string;
  platform: string;
  status: RunStatus;
  trigger: Trigger;
  cause: RunCause;
  /** What the run builds: enough to start it again after a crash. */
  spec: BuildSpec;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  outputImages: OutputImage[];
  baseImages: ResolvedBaseImage[];
  /** Builder-specific handle (CodeBuild build id, local process id). */
  buildId?: string;
  /** One sentence saying why a run did not succeed. */
  error?: string;
  /** A task file's steps, each with its status and duration. */
  steps?: RunStep[];
  commit?: string;
  branch?: string;
  origin?: RunOrigin;
  /** The task's history settings when the run was created: how long it is kept once finished. */
  retention?: TaskHistory;
  /** Set when it finishes: the run and its log are removed after this time. */
  keepUntil?: string;
}

/** Everything a builder needs to build and push one run. Holds secret references, never secrets. */
export interface BuildSpec {
  registry: string;
  /** Rendered image references relative to `registry`. */
  images: string[];
  context: BuildContext;
  dockerfile: string;
  buildArgs: Record<string, string>;
  platform: string;
  credentials: RegistryCredential[];
  /** A commit to check out instead of the branch head. */
  commit?: string;
  /** For a task file (`dockerfile` ending .yaml/.yml): the run's template values, which the builder renders it with. */
  values?: Partial<Record<'Run.ID' | 'Run.Registry' | 'Run.Date' | 'Run.TaskName' | 'Run.Commit' | 'Run.Branch', string>>;
}

export type DependencyStage = 'runtime' | 'build-time';

/** Edge of the graph: `taskName` is built from the base image `registry/repository:tag`. */
export interface Dependency {
  taskName: string;
  registry: string;
  repository: string;
  tag: string;
  /** Digest the task's last successful build used. */
  digest: string;
  stage: DependencyStage;
  pinned: boolean;
  /** The task file's build step that pulled it (a Dockerfile task has none). */
  step?: string;
  capturedAt: string;
  capturedByRun: string;
  /** Digest for which a build was last started by an image event (dedupes redeliveries). */
  lastTriggeredDigest?: string;
  /** The delivery whose event claimed that build. */
  lastTriggeredBy?: string;
  /** Set when the registry reported the tag deleted; cleared when the tag is pushed again. */
  tagGoneAt?: string;
}

/** The one image event every registry's notification becomes. */
export interface ImageEvent {
  kind: 'image';
  source: string;
  registry: string;
  repository: string;
  tag: string;
  digest: string;
  occurredAt: string;
  deliveryId: string;
  /**
   * Set by the poller: `digest` is that of the image for this platform (of an index), and only
   * tasks building for it are concerned.
   */
  platform?: string;
}

/** The one git event every git host's push becomes. */
export interface GitEvent {
  kind: 'git';
  source: string;
  /** The clone URL; with `repositoryPaths`, the repository's name as the sender gives it. */
  repoUrl: string;
  /** Set when the sender names the repository but gives no URL: its tasks are found by these instead. */
  repositoryPaths?: GitRepositoryPaths;
  /** Full ref, e.g. `refs/heads/main`. */
  ref: string;
  commit: string;
  deliveryId: string;
}

/**
 * A repository known by the paths its clone URLs can have (normalized as normalizeGitUrl does:
 * lower case, no `.git`), e.g. `scm/proj/app` and `proj/app`, and by its host when the webhook
 * says which server it speaks for. Without a host, a task on any host with such a path matches.
 */
export interface GitRepositoryPaths {
  host?: string;
  paths: string[];
}

/**
 * A tag was pushed but the sender did not say the digest (Docker Hub, Quay): the dispatcher asks
 * the registry for it, and only for a host cascade already knows.
 */
export interface ImageTagEvent {
  kind: 'image-tag';
  source: string;
  registry: string;
  repository: string;
  tag: string;
  occurredAt: string;
  deliveryId: string;
}

/** A tag (or a manifest) was deleted: no build, but the dependency is marked as gone. */
export interface ImageDeleteEvent {
  kind: 'image-delete';
  source: string;
  registry: string;
  repository: string;
  tag: string;
  digest?: string;
  occurredAt: string;
  deliveryId: string;
}

export type InboundEvent = ImageEvent | ImageTagEvent | ImageDeleteEvent | GitEvent;

export interface Webhook {
  name: string;
  provider: string;
  /** Current secrets; more than one only during rotation. */
  secrets: string[];
  /** The registry, or the git server, the webhook speaks for when the payload does not say. */
  loginServer?: string;
  createdAt: string;
}

/** The run whose build pushed a tag's digest: a push event carrying that digest is cascade's own. */
export interface ImageProducer {
  digest: string;
  taskName: string;
  runId: string;
  origin: RunOrigin;
}

/** What a builder reports when a build ends. */
export interface BuildResult {
  runId: string;
  status: Extract<RunStatus, 'Succeeded' | 'Failed' | 'Timeout' | 'Canceled' | 'Error'>;
  finishedAt: string;
  outputImages: OutputImage[];
  baseImages: ResolvedBaseImage[];
  error?: string;
  /** A task file's steps, in the order they started, then those never started. */
  steps?: RunStep[];
}

export type RunStepStatus = 'Succeeded' | 'Failed' | 'Timeout' | 'Canceled' | 'Skipped';

/** One step of a task file's run. */
export interface RunStep {
  id: string;
  kind: 'build' | 'cmd' | 'push';
  status: RunStepStatus;
  startedAt?: string;
  durationMs?: number;
  /** Why it did not succeed; with `ignoreErrors`, the run went on regardless. */
  error?: string;
  ignoredError?: boolean;
}
