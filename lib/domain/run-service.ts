// Runs: created Queued, started on a builder, finished by the build's result, which also
// records the base images the build pulled (the task's dependencies).
import { analyzeDockerfile } from '../dockerfile/analyze';
import type { QuickBuildInput } from './inputs';
import { parseBuildContext, validateContextPath } from './context';
import { ConflictError, NotFoundError, RetryableError } from './errors';
import { parseImageReference } from '../images/reference';
import type { Builder, BuildSlotStore, Clock, DeferralStore, DependencyStore, ImageStateStore, LogStore, Queue, RunQuery, RunStore, SourceReader, TaskStore } from './ports';
import { renderTemplate, runDate } from './templates';
import { validateImageTemplates } from './task-service';
import type { BuildResult, BuildSpec, Dependency, Run, RunCause, RunOrigin, Task, TaskHistory, Trigger } from './types';
import { DEFAULT_HISTORY, TERMINAL_STATUSES } from './types';

export interface RunServiceDeps {
  tasks: TaskStore;
  runs: RunStore;
  dependencies: DependencyStore;
  builder: Builder;
  logs: LogStore;
  clock: Clock;
  sources?: SourceReader;
  slots: BuildSlotStore;
  deferrals: DeferralStore;
  imageState: ImageStateStore;
  queue: Queue;
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

/** What one pass of the reconciler found and did. */
export interface ReconcileReport {
  /** Unfinished runs looked at. */
  checked: number;
  /** Runs whose finished build had not been recorded: recorded now. */
  recorded: Array<{ runId: string; status: Run['status'] }>;
  /** Runs left Queued without a build (a crash before the start): started now. */
  started: string[];
  /** Runs that could not be healed this time; the next pass tries again. */
  deferred: Array<{ runId: string; reason: string }>;
}

const DAY_MS = 24 * 3600 * 1000;
/** How far past its limit one pass of pruning looks. */
const PRUNE_WINDOW = 20;

/** A Queued run younger than this is still on its way to a builder, not stuck. */
export const QUEUED_GRACE_MS = 10 * 60 * 1000;

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
    const run = await this.createTaskRun(task, request);
    return this.startOrQueue(run);
  }

  /** Run ids for runs about to be created, reserved with one request. */
  reserveIds(count: number): Promise<Array<{ id: string; sequence: number }>> {
    return this.deps.runs.nextIds(count);
  }

  /** Creates a Queued run of `task` without starting it. */
  async createTaskRun(task: Task, request: RunRequest): Promise<Run> {
    const { id, sequence } = await this.deps.runs.nextId();
    const run = this.taskRun(task, request, { id, sequence });
    await this.deps.runs.create(run);
    return run;
  }

  /** Queued runs of many tasks, under ids reserved before (reserveIds), written in batches. */
  async createTaskRuns(entries: Array<{ task: Task; request: RunRequest; reserved: { id: string; sequence: number } }>): Promise<Run[]> {
    const runs = entries.map(({ task, request, reserved }) => this.taskRun(task, request, reserved));
    await this.deps.runs.createMany(runs);
    return runs;
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
    validateImageTemplates(input.registry, input.images, '', this.deps.clock.now());
    if (this.deps.sources) analyzeDockerfile(await this.deps.sources.readFile(context, dockerfile), input.args);
    const run = await this.createRun({
      trigger: 'Manual',
      cause: { kind: 'manual' },
      branch: context.kind === 'git' ? context.branch : undefined,
      spec: {
        registry: input.registry,
        images: input.images,
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
      const message = error instanceof Error ? error.message : String(error);
      await this.deps.logs.append(runId, `cascade: the build could not be started: ${message}\n`);
      return this.finish(run, { status: 'Error', error: `the build could not be started: ${message}` });
    }
    try {
      return await this.deps.runs.transition(runId, ['Queued'], {
        status: 'Running',
        buildId,
        startedAt: this.deps.clock.now().toISOString(),
      });
    } catch (error) {
      // The build may already have reported its result; that result wins.
      if (error instanceof ConflictError) return this.get(runId);
      throw error;
    }
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

  /**
   * An Image Update run builds only when no other Image Update run of its task is building;
   * otherwise it waits, taking the place of any run that waited before it (now superseded).
   */
  async admit(run: Run): Promise<{ admitted: 'build' } | { admitted: 'wait'; behind: string; superseded?: string }> {
    const taskName = run.taskName as string;
    const admission = await this.deps.slots.admit(taskName, run.id);
    if (admission.admitted === 'build') {
      await this.startOrQueue(run);
      return admission;
    }
    // A building run that ended without giving its place back (a crash in between) gives it now.
    const behind = await this.deps.runs.get(admission.behind);
    if (!behind || TERMINAL_STATUSES.includes(behind.status)) {
      const next = await this.deps.slots.release(taskName, admission.behind);
      if (next) await this.startOrQueue(next);
      if (next === run.id) return { admitted: 'build' };
    }
    if (admission.superseded) {
      const superseded = await this.deps.runs.get(admission.superseded);
      if (superseded) {
        await this.finish(superseded, {
          status: 'Canceled',
          error: `superseded by ${run.id}, which builds the newer change (${describeCause(run.cause)}) once ${admission.behind} is done`,
        });
      }
    }
    return admission;
  }

  /** Records a build's result once; a duplicate or late result changes nothing. */
  async recordResult(result: BuildResult): Promise<Run> {
    const run = await this.get(result.runId);
    if (TERMINAL_STATUSES.includes(run.status)) return run;
    const finished = await this.finish(run, result);
    if (finished.status === 'Succeeded' && finished.taskName) await this.captureDependencies(finished);
    return finished;
  }

  async get(id: string): Promise<Run> {
    const run = await this.deps.runs.get(id);
    if (!run) throw new NotFoundError('run', id);
    return run;
  }

  /** Runs still Queued or Running, oldest first. */
  unfinished(): Promise<Run[]> {
    return this.deps.runs.listUnfinished();
  }

  list(query: RunQuery): Promise<Run[]> {
    return this.deps.runs.list(query);
  }

  async log(id: string, offset = 0): Promise<string> {
    await this.get(id);
    const text = await this.deps.logs.read(id);
    return Buffer.from(text).subarray(offset).toString();
  }

  async cancel(id: string): Promise<Run> {
    const run = await this.get(id);
    if (TERMINAL_STATUSES.includes(run.status)) throw new ConflictError(`run ${id} has already finished (${run.status})`);
    if (run.buildId && this.deps.builder.cancel) await this.deps.builder.cancel(run.buildId);
    return this.finish(run, { status: 'Canceled', error: 'canceled on request' });
  }

  /**
   * After a restart of the local stack nothing is building: Queued runs are started again and
   * Running ones, whose builder process died with the old stack, are marked Error with the reason.
   */
  async recoverAfterRestart(): Promise<{ restarted: string[]; failed: string[] }> {
    const restarted: string[] = [];
    const failed: string[] = [];
    for (const run of await this.deps.runs.listUnfinished()) {
      if (run.status === 'Queued' && !run.buildId) {
        if ((await this.resumeQueued(run)) === 'started') restarted.push(run.id);
      } else {
        await this.finish(run, { status: 'Error', error: 'the build was interrupted by a restart of cascade' });
        failed.push(run.id);
      }
    }
    return { restarted, failed };
  }

  /**
   * Heals runs whose progress report was lost: a Running run whose build has finished gets that
   * build's result (the state change event never came); a run whose build the builder has no
   * record of is marked Error; a run Queued for longer than `queuedGraceMs` without a build
   * (a crash between creating it and starting it) is started, once, by the idempotent start.
   */
  async reconcile(options: { queuedGraceMs?: number } = {}): Promise<ReconcileReport> {
    const grace = options.queuedGraceMs ?? QUEUED_GRACE_MS;
    const now = this.deps.clock.now().getTime();
    const unfinished = await this.deps.runs.listUnfinished();
    const report: ReconcileReport = { checked: unfinished.length, recorded: [], started: [], deferred: [] };

    for (const run of unfinished.filter((r) => r.status === 'Queued' && !r.buildId)) {
      if (now - Date.parse(run.createdAt) < grace) continue;
      try {
        const outcome = await this.resumeQueued(run);
        if (outcome === 'started') report.started.push(run.id);
        else if (outcome !== 'waiting' && outcome !== 'Queued') report.recorded.push({ runId: run.id, status: outcome });
      } catch (error) {
        if (!(error instanceof RetryableError)) throw error;
        report.deferred.push({ runId: run.id, reason: error.message });
      }
    }

    const building = new Map(unfinished.filter((r) => r.buildId).map((r) => [r.buildId as string, r]));
    if (building.size === 0 || !this.deps.builder.describe) return report;
    for (const state of await this.deps.builder.describe([...building.keys()])) {
      const run = building.get(state.buildId);
      if (!run || state.state === 'running') continue;
      // The build is matched to its run by build id: what the build says its run is does not decide.
      const finished =
        state.state === 'finished'
          ? await this.recordResult({ ...state.result, runId: run.id })
          : await this.finish(run, { status: 'Error', error: `${state.reason}; its result is unknown` });
      report.recorded.push({ runId: run.id, status: finished.status });
    }
    return report;
  }

  /**
   * A Queued run found without a build, after a crash or a restart: started once, unless it is
   * an Image Update run whose place is to wait behind another. Says what became of it.
   */
  private async resumeQueued(run: Run): Promise<'started' | 'waiting' | Run['status']> {
    if (run.trigger === 'Image Update' && run.taskName) {
      const slot = await this.deps.slots.get(run.taskName);
      if (slot.waiting === run.id) return 'waiting';
      // Not in its task's places at all: the crash came before it was admitted.
      if (slot.building !== run.id && (await this.admit(run)).admitted === 'wait') return 'waiting';
      if (slot.building !== run.id) {
        const now = await this.get(run.id);
        return now.status === 'Running' ? 'started' : now.status;
      }
    }
    const started = await this.start(run.id, { retry: true });
    return started.status === 'Running' ? 'started' : started.status;
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
    return {
      id,
      sequence,
      origin: input.origin ?? { root: `run:${id}`, via: [] },
      retention: input.retention ?? DEFAULT_HISTORY,
      platform: input.spec.platform,
      status: 'Queued',
      trigger: input.trigger,
      cause: input.cause,
      spec: { ...input.spec, images },
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
    if (result.status === 'Succeeded') await this.recordPushes(run, result.outputImages ?? []);
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
        keepUntil: new Date(Date.parse(finishedAt) + (run.retention ?? DEFAULT_HISTORY).logRetentionDays * DAY_MS).toISOString(),
      });
    } catch (error) {
      // Another caller finished it, and did what follows.
      if (error instanceof ConflictError) return this.get(run.id);
      throw error;
    }
    await this.afterFinish(finished);
    return finished;
  }

  /** A successful run's pushes are its own: their push events carry its origin on, and cannot loop back to it. */
  private async recordPushes(run: Run, outputs: BuildResult['outputImages']): Promise<void> {
    if (!run.taskName) return;
    const origin = run.origin ?? { root: `run:${run.id}`, via: [] };
    for (const output of outputs) {
      const ref = parseImageReference(output.reference);
      if (!ref.tag) continue;
      await this.deps.imageState.recordProducer(ref.registry, ref.repository, ref.tag, {
        digest: output.digest,
        taskName: run.taskName,
        runId: run.id,
        origin: { root: origin.root, via: [...origin.via, run.taskName] },
      });
    }
  }

  /**
   * What a run's end sets off: the events held until it ended are queued again (after the
   * transition, so that an event held concurrently is either taken here or released by its
   * holder, see Dispatcher), and the Image Update run waiting behind it builds.
   */
  private async afterFinish(run: Run): Promise<void> {
    if (!run.taskName) return;
    await this.prune(run.taskName, (run.retention ?? DEFAULT_HISTORY).keepRuns);
    const root = run.origin?.root ?? `run:${run.id}`;
    await this.requeueHeld(root, run.taskName);
    if (run.trigger === 'Image Update') {
      const next = await this.deps.slots.release(run.taskName, run.id);
      if (next) await this.startOrQueue(next);
    }
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

  /** Queues again every event held behind `upstreamTask` for the change `root`. */
  async requeueHeld(root: string, upstreamTask: string): Promise<void> {
    for (const held of await this.deps.deferrals.take(root, upstreamTask)) {
      await this.deps.queue.send({ type: 'event', event: held.event, ...(held.forTask !== undefined && { forTask: held.forTask }) });
    }
  }

  /** The bases a successful build actually pulled become the task's dependencies. */
  private async captureDependencies(run: Run): Promise<void> {
    const task = run.taskName ? await this.deps.tasks.get(run.taskName) : undefined;
    if (!task) return;
    if ((task.dependenciesCapturedBySequence ?? 0) > run.sequence) return;
    const capturedAt = run.finishedAt ?? this.deps.clock.now().toISOString();
    const byKey = new Map<string, Dependency>();
    for (const base of run.baseImages) {
      if (!base.tag) continue; // a FROM by digest alone has no tag to watch
      const key = `${base.registry}/${base.repository}:${base.tag}`;
      const known = byKey.get(key);
      if (known && known.stage === 'runtime') continue;
      byKey.set(key, {
        taskName: task.name,
        registry: base.registry,
        repository: base.repository,
        tag: base.tag,
        digest: base.digest,
        stage: base.stage,
        pinned: base.pinned,
        capturedAt,
        capturedByRun: run.id,
      });
    }
    await this.deps.dependencies.replaceForTask(task.name, [...byKey.values()]);
    // Which tasks push those bases: a change reaching several of them is built here after them.
    const upstream = new Set<string>();
    for (const dep of byKey.values()) {
      const producer = await this.deps.imageState.producer(dep.registry, dep.repository, dep.tag);
      if (producer && producer.taskName !== task.name) upstream.add(producer.taskName);
    }
    await this.deps.tasks.recordCapture(task.name, { capturedAt, bySequence: run.sequence, upstream: [...upstream].sort() });
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
