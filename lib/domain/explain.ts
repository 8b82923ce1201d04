// Answers to "why did it (not) rebuild?": a run's cause chain back to the first event, and, for
// an image and a digest, what an event would do to every task that tracks the image. Both use
// the dispatcher's own decisions (decisions.ts), so the answer is what cascade would really do.
import { analyzeDockerfile } from '../dockerfile/analyze';
import { checkTaskFile } from '../taskfile/task-file-analysis';
import { isTaskFile } from '../taskfile/task-file';
import { baseKey, parseImageReference } from '../images/reference';
import { decideImageUpdate, type Decision } from './decisions';
import { settleEach, throwFirstFailure } from './concurrency';
import { buildGraph, type DependencyGraph, type GraphFocus } from './graph';
import { NotFoundError, ValidationError } from './errors';
import type { DependencyStore, ImageStateStore, PollStateStore, RunStore, SourceReader, TaskStore } from './ports';
import type { Dependency, Run, RunCause, Task } from './types';

export interface ExplainDeps {
  tasks: TaskStore;
  runs: RunStore;
  dependencies: DependencyStore;
  imageState: ImageStateStore;
  pollStates?: PollStateStore;
  sources?: SourceReader;
}

/** One link of a run's cause chain, newest first. */
export interface WhyLink {
  runId: string;
  task?: string;
  trigger: Run['trigger'];
  status: Run['status'];
  createdAt: string;
  /** In words: what this run was started for. */
  because: string;
  /** Set on the last link: the event outside cascade that started the chain. */
  firstEvent?: { kind: string; source?: string; deliveryId?: string; occurredAt?: string; text: string };
  /** The run whose push this run builds on, when the chain goes on but that run is no longer kept. */
  missing?: string;
}

export interface WhyAnswer {
  runId: string;
  /** The change the run belongs to (`image:…`, `git:…`, `timer:…`, `run:…`). */
  root: string;
  /** Tasks the change went through before this run, upstream first. */
  via: string[];
  chain: WhyLink[];
}

export interface ExplainEntry {
  task: string;
  build: boolean;
  code: Decision['code'];
  reason: string;
  /** The digest the task was last built from, when it has built on the image. */
  recordedDigest?: string;
  stage?: Dependency['stage'];
}

export interface ExplainAnswer {
  image: string;
  digest: string;
  /** The newest digest cascade has seen of the tag, from events or the poller. */
  currentDigest?: string;
  tasks: ExplainEntry[];
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;
/** A chain longer than this is a loop in the records, not a real chain of builds. */
const MAX_CHAIN = 50;

export class ExplainService {
  constructor(private readonly deps: ExplainDeps) {}

  /** The whole graph, or the part around one image or task. An image or task it does not know is a 404. */
  async graph(focus: GraphFocus = {}): Promise<DependencyGraph> {
    const tasks = await this.deps.tasks.list();
    if (focus.task !== undefined && !tasks.some((t) => t.name === focus.task)) throw new NotFoundError('task', focus.task);
    const edges = await settleEach(tasks, 8, (task) => this.deps.dependencies.listForTask(task.name));
    throwFirstFailure(edges);
    const dependencies = edges.flatMap((e) => (e.status === 'fulfilled' ? e.value : []));
    let image: string | undefined;
    if (focus.image !== undefined) {
      const ref = parseImageReference(focus.image);
      if (ref.digest) throw new ValidationError(`image "${focus.image}" must name a tag, not a digest`, 'image');
      image = baseKey({ ...ref, tag: ref.tag ?? 'latest' });
      if (!dependencies.some((d) => `${d.registry}/${d.repository}:${d.tag}` === image)) throw new NotFoundError('tracked image', image);
    }
    return buildGraph(tasks, dependencies, { ...(image !== undefined && { image }), ...(focus.task !== undefined && { task: focus.task }) });
  }

  /** Per base of the task, the newest of its recent runs that a change of that base started. */
  async lastRunsByBase(taskName: string): Promise<Record<string, string>> {
    const runs = await this.deps.runs.list({ taskName, top: 100 });
    const last: Record<string, string> = {};
    for (const run of runs) {
      if (run.cause.kind === 'image-update' && !(run.cause.base in last)) last[run.cause.base] = run.id;
    }
    return last;
  }

  async why(runId: string): Promise<WhyAnswer> {
    const run = await this.deps.runs.get(runId);
    if (!run) throw new NotFoundError('run', runId);
    const chain: WhyLink[] = [];
    const seen = new Set<string>();
    let current: Run | undefined = run;
    while (current && chain.length < MAX_CHAIN && !seen.has(current.id)) {
      seen.add(current.id);
      const link = linkOf(current);
      chain.push(link);
      const parentId = current.cause.kind === 'image-update' ? await this.parentOf(current) : undefined;
      if (!parentId) {
        link.firstEvent = firstEventOf(current);
        break;
      }
      const parent = await this.deps.runs.get(parentId);
      if (!parent) {
        link.missing = parentId;
        break;
      }
      current = parent;
    }
    return { runId: run.id, root: run.origin?.root ?? `run:${run.id}`, via: run.origin?.via ?? [], chain };
  }

  /**
   * What an event of `image` at `digest` would do to each task that tracks it. Tasks that have
   * not run yet have no recorded bases: those whose Dockerfile names the image are listed as
   * not captured (when the Dockerfile can be read here).
   */
  async explainImage(image: string, digest: string): Promise<ExplainAnswer> {
    if (!DIGEST.test(digest)) throw new ValidationError(`digest "${digest}" must be sha256: followed by 64 hex digits`, 'digest');
    const ref = parseImageReference(image);
    if (ref.digest) throw new ValidationError(`image "${image}" must name a tag, not a digest`, 'image');
    const tag = ref.tag ?? 'latest';
    const key = baseKey({ ...ref, tag });
    const [dependents, tasks, current] = await Promise.all([
      this.deps.dependencies.listDependents(ref.registry, ref.repository, tag),
      this.deps.tasks.list(),
      this.deps.imageState.current(ref.registry, ref.repository, tag),
    ]);
    const byName = new Map(tasks.map((t) => [t.name, t]));
    const entries: ExplainEntry[] = dependents.map((dep) => {
      const task = byName.get(dep.taskName);
      const decision = decideImageUpdate(task, dep, { digest });
      return { task: dep.taskName, build: decision.build, code: decision.code, reason: decision.reason, recordedDigest: dep.digest, stage: dep.stage };
    });
    const tracked = new Set(dependents.map((d) => d.taskName));
    for (const task of tasks) {
      if (tracked.has(task.name) || task.dependenciesCapturedAt !== undefined) continue;
      const uses = await this.dockerfileUses(task, key);
      if (uses === false) continue;
      entries.push({
        task: task.name,
        build: false,
        code: 'not-captured',
        reason:
          uses === true
            ? `${task.name} has not run yet: its Dockerfile names ${key}, but its bases are recorded by its first run; run it once`
            : `${task.name} has not run yet: its bases are recorded by its first run, and whether it uses ${key} is known then`,
      });
    }
    entries.sort((a, b) => a.task.localeCompare(b.task));
    return { image: key, digest, ...(current && { currentDigest: current.digest }), tasks: entries };
  }

  /** true/false when the Dockerfile could be read; undefined when it could not be here. */
  private async dockerfileUses(task: Task, key: string): Promise<boolean | undefined> {
    const sources = this.deps.sources;
    if (!sources) return undefined;
    try {
      // A task file: the bases of every build step's Dockerfile.
      const analyses = isTaskFile(task.dockerfile)
        ? (await checkTaskFile((path) => sources.readFile(task.context, path), task.dockerfile, task.registry, task.name)).builds.map((b) => b.analysis)
        : [analyzeDockerfile(await sources.readFile(task.context, task.dockerfile), task.buildArgs)];
      return analyses.some((analysis) => analysis.bases.some((base) => baseKey({ ...base.image, tag: base.image.tag ?? 'latest' }) === key));
    } catch {
      return undefined;
    }
  }

  /** The run whose push an Image Update run builds on: recorded with the run, else the tag's producer. */
  private async parentOf(run: Run): Promise<string | undefined> {
    if (run.cause.kind !== 'image-update') return undefined;
    if (run.cause.pushedByRun) return run.cause.pushedByRun;
    // Runs recorded before the link was kept: the tag's producer tells, if it pushed that digest.
    if ((run.origin?.via.length ?? 0) === 0) return undefined;
    const ref = parseImageReference(run.cause.base);
    const producer = await this.deps.imageState.producer(ref.registry, ref.repository, ref.tag ?? 'latest');
    return producer?.digest === run.cause.newDigest && producer.runId !== run.id ? producer.runId : undefined;
  }
}

function linkOf(run: Run): WhyLink {
  return { runId: run.id, ...(run.taskName !== undefined && { task: run.taskName }), trigger: run.trigger, status: run.status, createdAt: run.createdAt, because: becauseOf(run.cause) };
}

/** In words, what a run was started for (`cascade why`, and the notifications). */
export function becauseOf(cause: RunCause): string {
  switch (cause.kind) {
    case 'image-update':
      return cause.oldDigest
        ? `${cause.base} changed from ${cause.oldDigest} to ${cause.newDigest}`
        : `${cause.base} was pushed as ${cause.newDigest}`;
    case 'git-commit':
      return `${cause.ref} of ${cause.repoUrl} moved to ${cause.commit}`;
    case 'timer':
      return `timer ${cause.timerName} fired for ${cause.occurrence}${cause.missed ? ` (and ${cause.missed} earlier occurrence(s) missed while cascade was down)` : ''}`;
    case 'manual':
      return cause.requestedBy ? `${cause.requestedBy} ran it by hand` : 'it was run by hand';
  }
}

function firstEventOf(run: Run): WhyLink['firstEvent'] {
  const cause = run.cause;
  switch (cause.kind) {
    case 'image-update':
      return {
        kind: 'image push',
        source: cause.source,
        deliveryId: cause.deliveryId,
        ...(cause.occurredAt !== undefined && { occurredAt: cause.occurredAt }),
        text: `${cause.source === 'poller' ? 'the poller saw' : `${cause.source} reported`} ${cause.base} at ${cause.newDigest} (delivery ${cause.deliveryId})`,
      };
    case 'git-commit':
      return { kind: 'git push', source: cause.source, deliveryId: cause.deliveryId, text: `${cause.source} reported a push of ${cause.commit} to ${cause.ref} (delivery ${cause.deliveryId})` };
    case 'timer':
      return { kind: 'timer', occurredAt: cause.occurrence, text: `timer ${cause.timerName}, occurrence ${cause.occurrence}` };
    case 'manual':
      return { kind: 'manual', text: 'a manual run' };
  }
}
