// Runs: created Queued, started on a builder, finished by the build's result. What a run's
// start and end mean for other runs (claims, holds, build slots) is lib/domain/coordination's;
// what its success means for its task (the bases it pulled) is DependencyCapture's.
import { analyzeDockerfile } from '../dockerfile/analyze';
import type { Admission, Coordinator, OpenRequest } from './coordination/coordinator';
import { settleEach, throwFirstFailure } from './concurrency';
import { parseBuildContext, validateContextPath } from './context';
import type { DependencyCapture } from './dependency-capture';
import type { NotificationService } from './notifications/notification-service';
import { ConflictError, NotFoundError, RetryableError, ValidationError } from './errors';
import type { QuickBuildInput } from './inputs';
import type { Builder, Clock, LogStore, OpeningOutcome, Queue, RunQuery, RunStore, SourceReader, TaskStore } from './ports';
import { renderTemplate, runDate } from './templates';
import { checkTaskFile } from '../taskfile/task-file-analysis';
import { isTaskFile } from '../taskfile/task-file';
import { validateImageTemplates } from './task-service';
import type { BuildResult, BuildSpec, Run, RunCause, RunOrigin, Task, TaskHistory, Trigger } from './types';
import { DEFAULT_HISTORY, TERMINAL_STATUSES } from './types';

export interface RunServiceDeps {
  tasks: TaskStore;
  runs: RunStore;
  builder: Builder;
  logs: LogStore;
  clock: Clock;
  sources?: SourceReader;
  queue: Queue;
  coordination: Coordinator;
  capture: DependencyCapture;
  /** Told of each run that starts or ends; it queues the notifications and never throws. */
  notify?: Pick<NotificationService, 'runChanged'>;
}

interface NewRun {
  taskName?: string;
  retention?: TaskHistory;
  trigger: Trigger;
  cause: RunCause;
  commit?: string;
  branch?: string;
  origin?: RunOrigin;
  spec: BuildSpec;
}

const DAY_MS = 24 * 3600 * 1000;
/** How many builds of a fan-out are asked to start at once. */
const START_CONCURRENCY = 16;
/** How far past its limit one pass of pruning looks. */
const PRUNE_WINDOW = 20;

export interface RunRequest {
  trigger: Trigger;
  cause: RunCause;
  commit?: string;
  branch?: string;
  /** The change this run carries on; a run of its own (`run:<id>`) when absent. */
  origin?: RunOrigin;
}

export class RunService {
  constructor(private readonly deps: RunServiceDeps) {}

  /**
   * Creates a run of `task` and starts its build; when the builder cannot take it now, or cannot
   * say whether it did, the run is returned Queued and its start is queued (startOrQueue).
   */
  async runTask(task: Task, request: RunRequest): Promise<Run> {
    return this.startOrQueue(await this.createTaskRun(task, request));
  }

  /** Run ids for runs about to be created, reserved with one request. */
  reserveIds(count: number): Promise<Array<{ id: string; sequence: number }>> {
    return this.deps.runs.nextIds(count);
  }

  /** Creates a Queued run of `task` without starting it, opened with what makes it count (lib/domain/coordination). */
  async createTaskRun(task: Task, request: RunRequest): Promise<Run> {
    const [opened] = await this.openTaskRuns([{ task, request, reserved: await this.deps.runs.nextId() }]);
    return (opened as { run: Run }).run;
  }

  /** createTaskRun, unless the mark `once` is another's already (then undefined, and nothing written). */
  async createTaskRunOnce(task: Task, request: RunRequest, once: NonNullable<OpenRequest['once']>): Promise<Run | undefined> {
    const [opened] = await this.openTaskRuns([{ task, request, reserved: await this.deps.runs.nextId(), once }]);
    return opened?.outcome.opened ? opened.run : undefined;
  }

  /**
   * Queued runs of many tasks, under ids reserved before (reserveIds), each opened with its
   * claim and mark (lib/domain/coordination): many in one request, each whole or not at all.
   */
  async openTaskRuns(
    entries: Array<{ task: Task; request: RunRequest; reserved: { id: string; sequence: number } } & Pick<OpenRequest, 'claim' | 'once'>>,
  ): Promise<Array<{ run: Run; outcome: OpeningOutcome }>> {
    const runs = entries.map(({ task, request, reserved }) => this.taskRun(task, request, reserved));
    const outcomes = await this.deps.coordination.open(runs.map((run, i) => ({ run, ...(entries[i]?.claim && { claim: entries[i].claim }), ...(entries[i]?.once && { once: entries[i].once }) })));
    return runs.map((run, i) => ({ run, outcome: outcomes[i] as OpeningOutcome }));
  }

  private taskRun(task: Task, request: RunRequest, reserved: { id: string; sequence: number }): Run {
    const branch = request.branch ?? (task.context.kind === 'git' ? task.context.branch : undefined);
    return this.newRun(
      {
        taskName: task.name,
        trigger: request.trigger,
        cause: request.cause,
        commit: request.commit,
        branch,
        origin: request.origin,
        retention: task.history ?? DEFAULT_HISTORY,
        spec: {
          registry: task.registry,
          images: task.images,
          context: task.context,
          dockerfile: task.dockerfile,
          buildArgs: task.buildArgs,
          platform: task.platform,
          credentials: task.credentials,
          commit: request.commit,
        },
      },
      reserved,
    );
  }

  async runTaskByName(name: string, request: RunRequest): Promise<Run> {
    const task = await this.deps.tasks.get(name);
    if (!task) throw new NotFoundError('task', name);
    // A paused task is paused for people too: they are told how to resume it.
    if (task.status !== 'Enabled') throw new ConflictError(`task "${name}" is disabled: enable it with "cascade task update --name ${name} --status Enabled" to run it`);
    return this.runTask(task, request);
  }

  /** `cascade build`: a run with no task. Its Dockerfile is checked before anything is written. */
  async quickBuild(input: QuickBuildInput): Promise<Run> {
    const context = parseBuildContext(input.context);
    const dockerfile = validateContextPath(input.file, 'file');
    let images = input.images;
    if (isTaskFile(dockerfile)) {
      if (images.length > 0) throw new ValidationError(`the task file ${dockerfile} names the images its push steps push: leave out --image`, 'images');
      const sources = this.deps.sources;
      if (sources) images = (await checkTaskFile((path) => sources.readFile(context, path), dockerfile, input.registry, '')).images;
    } else {
      if (images.length === 0) throw new ValidationError('at least one --image is required', 'images');
      if (this.deps.sources) analyzeDockerfile(await this.deps.sources.readFile(context, dockerfile), input.args);
    }
    validateImageTemplates(input.registry, images, '', this.deps.clock.now());
    const run = await this.createRun({
      trigger: 'Manual',
      cause: { kind: 'manual' },
      branch: context.kind === 'git' ? context.branch : undefined,
      spec: {
        registry: input.registry,
        images,
        context,
        dockerfile,
        buildArgs: input.args,
        platform: input.platform,
        credentials: [],
      },
    });
    return this.start(run.id);
  }

  /**
   * Starts a Queued run's build. Idempotent: a run that is no longer Queued is returned as it is.
   * Given the run just created, it is not read again. `retry` says an earlier start of the run
   * may have reached the builder without its build being recorded (a start queued after a
   * RetryableError, a run resumed after a crash): the builder then adopts that build if it
   * exists rather than starting a second one.
   */
  async start(runOrId: string | Run, options: { retry?: boolean } = {}): Promise<Run> {
    const run = typeof runOrId === 'string' ? await this.get(runOrId) : runOrId;
    const runId = run.id;
    if (run.status !== 'Queued' || run.buildId) return run;
    let buildId: string;
    try {
      ({ buildId } = await this.deps.builder.start({ runId, spec: run.spec, ...(options.retry && { earlierAttemptsSince: run.createdAt }) }));
    } catch (error) {
      if (error instanceof RetryableError) throw error;
      return this.failToStart(run, error);
    }
    try {
      const running = await this.deps.runs.transition(runId, ['Queued'], {
        status: 'Running',
        buildId,
        startedAt: this.deps.clock.now().toISOString(),
      });
      await this.deps.notify?.runChanged(running);
      return running;
    } catch (error) {
      // The build may already have reported its result; that result wins.
      if (error instanceof ConflictError) return this.get(runId);
      throw error;
    }
  }

  /**
   * Starts the builds of many Queued runs (a fan-out), and records them Running in batches
   * rather than one request each. Each is started as start() would; a run the builder cannot
   * take now is queued to start later (startOrQueue).
   */
  async startMany(runs: Run[]): Promise<void> {
    const started = await settleEach(runs, START_CONCURRENCY, async (run): Promise<{ id: string; buildId: string } | undefined> => {
      try {
        return { id: run.id, buildId: (await this.deps.builder.start({ runId: run.id, spec: run.spec })).buildId };
      } catch (error) {
        if (error instanceof RetryableError) await this.deps.queue.send({ type: 'start-run', runId: run.id });
        else await this.failToStart(run, error);
        return undefined;
      }
    });
    const builds = started.flatMap((s) => (s.status === 'fulfilled' && s.value ? [s.value] : []));
    const startedAt = this.deps.clock.now().toISOString();
    // A build may already have reported its result: a refused move leaves that result standing.
    const moved = await this.deps.runs.transitionMany(builds.map(({ id, buildId }) => ({ id, from: ['Queued'], changes: { status: 'Running', buildId, startedAt } })));
    if (this.deps.notify) {
      const byId = new Map(runs.map((run) => [run.id, run]));
      for (const [i, { id, buildId }] of builds.entries()) {
        const run = byId.get(id);
        if (moved[i] === 'moved' && run) await this.deps.notify.runChanged({ ...run, status: 'Running', buildId, startedAt });
      }
    }
    throwFirstFailure(started);
  }

  /**
   * Starts a run now, or, when the builder is throttled or its answer was lost, later from the
   * queue (a start-run message, which starts it as a retry). Returns the run as it now is.
   */
  async startOrQueue(runOrId: string | Run): Promise<Run> {
    try {
      return await this.start(runOrId);
    } catch (error) {
      if (!(error instanceof RetryableError)) throw error;
      const runId = typeof runOrId === 'string' ? runOrId : runOrId.id;
      await this.deps.queue.send({ type: 'start-run', runId });
      return typeof runOrId === 'string' ? this.get(runId) : runOrId;
    }
  }

  /** The builder refused the run: it ends in Error, saying why, in its log too. */
  private async failToStart(run: Run, error: unknown): Promise<Run> {
    const message = error instanceof Error ? error.message : String(error);
    await this.deps.logs.append(run.id, `cascade: the build could not be started: ${message}\n`);
    return this.finish(run, { status: 'Error', error: `the build could not be started: ${message}` });
  }

  /** Records a build's result once; a duplicate or late result changes nothing. */
  async recordResult(result: BuildResult): Promise<Run> {
    const run = await this.get(result.runId);
    if (TERMINAL_STATUSES.includes(run.status)) return run;
    const finished = await this.finish(run, result);
    if (finished.status === 'Succeeded' && finished.taskName) await this.deps.capture.capture(finished);
    return finished;
  }

  async get(id: string): Promise<Run> {
    const run = await this.deps.runs.get(id);
    if (!run) throw new NotFoundError('run', id);
    return run;
  }

  list(query: RunQuery): Promise<Run[]> {
    return this.deps.runs.list(query);
  }

  async log(id: string, offset = 0): Promise<string> {
    await this.get(id);
    const text = await this.deps.logs.read(id);
    return Buffer.from(text).subarray(offset).toString();
  }

  /**
   * Admits a Queued Image Update run to its task's build slots (lib/domain/coordination) and does
   * what that says: start it, or the run found waiting behind a build that had ended; cancel the
   * run it took the place of.
   */
  async admit(run: Run): Promise<Admission> {
    const admission = await this.deps.coordination.admit(run);
    for (const id of admission.start) await this.startOrQueue(id === run.id ? run : id);
    if (admission.admitted === 'wait' && admission.superseded) await this.supersede(admission.superseded, run, admission.behind);
    return admission;
  }

  /**
   * A waiting Image Update run that a newer one took the place of (lib/domain/coordination): it
   * will never build, and says which run builds the newer change instead, after which.
   */
  private async supersede(runId: string, by: Run, behind: string): Promise<void> {
    const run = await this.deps.runs.get(runId);
    if (!run) return;
    await this.finish(run, { status: 'Canceled', error: `superseded by ${by.id}, which builds the newer change (${describeCause(by.cause)}) once ${behind} is done` });
  }

  /** A run whose build is lost or unknown ends in Error, saying why. */
  abandon(run: Run, reason: string): Promise<Run> {
    return this.finish(run, { status: 'Error', error: reason });
  }

  async cancel(id: string): Promise<Run> {
    const run = await this.get(id);
    if (TERMINAL_STATUSES.includes(run.status)) throw new ConflictError(`run ${id} has already finished (${run.status})`);
    if (run.buildId && this.deps.builder.cancel) await this.deps.builder.cancel(run.buildId);
    return this.finish(run, { status: 'Canceled', error: 'canceled on request' });
  }

  private async createRun(input: NewRun): Promise<Run> {
    const run = this.newRun(input, await this.deps.runs.nextId());
    await this.deps.runs.create(run);
    return run;
  }

  /** A Queued run under `reserved`, its image templates rendered. */
  private newRun(input: NewRun, { id, sequence }: { id: string; sequence: number }): Run {
    const now = this.deps.clock.now();
    const values = {
      'Run.ID': id,
      'Run.Registry': input.spec.registry,
      'Run.Date': runDate(now),
      'Run.TaskName': input.taskName ?? '',
      'Run.Commit': input.commit ?? '',
      'Run.Branch': input.branch ?? '',
    };
    const images = input.spec.images.map((template) => renderTemplate(template, values));
    // A task file is rendered by the builder, with the run's values.
    const taskFileValues = isTaskFile(input.spec.dockerfile) ? { values } : {};
    return {
      id,
      sequence,
      origin: input.origin ?? { root: `run:${id}`, via: [] },
      retention: input.retention ?? DEFAULT_HISTORY,
      platform: input.spec.platform,
      status: 'Queued',
      trigger: input.trigger,
      cause: input.cause,
      spec: { ...input.spec, images, ...taskFileValues },
      createdAt: now.toISOString(),
      outputImages: [],
      baseImages: [],
      ...(input.taskName !== undefined && { taskName: input.taskName }),
      ...(input.commit !== undefined && { commit: input.commit }),
      ...(input.branch !== undefined && { branch: input.branch }),
    };
  }

  private async finish(run: Run, result: Partial<BuildResult> & Pick<BuildResult, 'status'>): Promise<Run> {
    const finishedAt = result.finishedAt ?? this.deps.clock.now().toISOString();
    const startedAt = run.startedAt ?? run.createdAt;
    // Before the run counts as finished: a push event read after that must find its producer.
    if (result.status === 'Succeeded') await this.deps.coordination.runSucceeding(run, result.outputImages ?? []);
    let finished: Run;
    try {
      finished = await this.deps.runs.transition(run.id, ['Queued', 'Running'], {
        status: result.status,
        finishedAt,
        startedAt,
        durationMs: Math.max(0, Date.parse(finishedAt) - Date.parse(startedAt)),
        outputImages: result.outputImages ?? [],
        baseImages: result.baseImages ?? [],
        ...(result.error !== undefined && { error: result.error }),
        ...(result.steps !== undefined && { steps: result.steps }),
        keepUntil: new Date(Date.parse(finishedAt) + (run.retention ?? DEFAULT_HISTORY).logRetentionDays * DAY_MS).toISOString(),
      });
    } catch (error) {
      // Another caller finished it, and did what follows.
      if (error instanceof ConflictError) return this.get(run.id);
      throw error;
    }
    await this.deps.notify?.runChanged(finished);
    await this.afterFinish(finished);
    return finished;
  }

  /** What a run's end sets off: its task's history is trimmed, and what the coordination rules say starts next, starts. */
  private async afterFinish(run: Run): Promise<void> {
    if (!run.taskName) return;
    await this.prune(run.taskName, (run.retention ?? DEFAULT_HISTORY).keepRuns);
    const { start } = await this.deps.coordination.runFinished(run);
    if (start) await this.startOrQueue(start);
  }

  /**
   * Keeps a task's newest `keep` finished runs: older ones go, with their logs. Looks a little
   * past the limit each time, so that a lowered limit is reached over the next few runs.
   */
  private async prune(taskName: string, keep: number): Promise<void> {
    const runs = await this.deps.runs.list({ taskName, top: keep + PRUNE_WINDOW });
    // Only finished runs count and go: a run still building is never removed under it.
    const old = runs.filter((r) => TERMINAL_STATUSES.includes(r.status)).slice(keep).map((r) => r.id);
    if (old.length === 0) return;
    await this.deps.runs.deleteMany(old);
    for (const id of old) await this.deps.logs.delete?.(id);
  }

  /** Runs past their task's log retention, with their logs (DynamoDB Local has no TTL to do it). */
  async sweepExpired(): Promise<string[]> {
    const ids = await this.deps.runs.deleteExpired();
    for (const id of ids) await this.deps.logs.delete?.(id);
    return ids;
  }

}

function describeCause(cause: RunCause): string {
  switch (cause.kind) {
    case 'image-update':
      return `${cause.base}@${cause.newDigest}`;
    case 'git-commit':
      return `commit ${cause.commit}`;
    case 'timer':
      return `timer ${cause.timerName}`;
    case 'manual':
      return 'a manual run';
  }
}
