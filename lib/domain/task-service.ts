// Tasks: what to build, where to push it, and when to build it again.
import { analyzeDockerfile } from '../dockerfile/analyze';
import { checkTaskFile } from '../taskfile/task-file-analysis';
import { isTaskFile } from '../taskfile/task-file';
import { parseImageReference } from '../images/reference';
import type { AddCredentialInput, CreateTaskInput, UpdateTaskInput } from './inputs';
import { parseBuildContext, validateContextPath } from './context';
import { ConflictError, NotFoundError, ValidationError } from './errors';
import { edgeTriggers } from './decisions';
import type { Clock, DependencyStore, ImageStateStore, PollStateStore, Queue, SecretStore, SourceReader, TaskStore } from './ports';
import { renderTemplate, runDate, validateTemplate } from './templates';
import type { BuildContext, Dependency, ImageEvent, RegistryCredential, Task } from './types';
import { DEFAULT_HISTORY } from './types';

export interface TaskServiceDeps {
  tasks: TaskStore;
  dependencies: DependencyStore;
  secrets: SecretStore;
  clock: Clock;
  /** When present, the Dockerfile is read and analysed at creation so a broken one is refused. */
  sources?: SourceReader;
  /** Where a resumed task's missed changes are sent, and how they are known. */
  queue: Queue;
  imageState: ImageStateStore;
  pollStates: PollStateStore;
  /** Called before a task is deleted: its timers go too. */
  onDelete?: (task: Task) => Promise<void>;
}

/** A base that moved on while a task was paused: it is rebuilt once resumed. */
export interface MissedChange {
  base: string;
  recordedDigest: string;
  currentDigest: string;
}

export interface TaskDetails {
  task: Task;
  dependencies: Dependency[];
  dependenciesCaptured: boolean;
}

export class TaskService {
  constructor(private readonly deps: TaskServiceDeps) {}

  async create(input: CreateTaskInput): Promise<Task> {
    const now = this.deps.clock.now().toISOString();
    const task: Task = {
      name: input.name,
      registry: input.registry,
      images: input.images,
      context: parseBuildContext(input.context),
      dockerfile: validateContextPath(input.file, 'file'),
      buildArgs: input.args,
      platform: input.platform,
      status: input.status,
      baseImageTrigger: { enabled: input.baseImageTriggerEnabled, type: input.baseImageTriggerType },
      commitTrigger: { enabled: input.commitTriggerEnabled },
      credentials: [],
      history: { keepRuns: input.keepRuns ?? DEFAULT_HISTORY.keepRuns, logRetentionDays: input.logRetentionDays ?? DEFAULT_HISTORY.logRetentionDays },
      createdAt: now,
      updatedAt: now,
    };
    validateImageTemplates(task.registry, task.images, task.name, this.deps.clock.now());
    if (await this.deps.tasks.get(task.name)) throw new ConflictError(`task "${task.name}" already exists`);
    task.images = await this.checkBuildFile(task, input.images);
    // A task file's push steps, checked as given images are.
    if (isTaskFile(task.dockerfile)) validateImageTemplates(task.registry, task.images, task.name, this.deps.clock.now());
    await this.deps.tasks.create(task);
    return task;
  }

  async update(name: string, input: UpdateTaskInput): Promise<Task> {
    const current = await this.get(name);
    const next: Task = {
      ...current,
      registry: input.registry ?? current.registry,
      images: input.images ?? current.images,
      context: input.context !== undefined ? parseBuildContext(input.context) : current.context,
      dockerfile: input.file !== undefined ? validateContextPath(input.file, 'file') : current.dockerfile,
      buildArgs: input.args ?? current.buildArgs,
      platform: input.platform ?? current.platform,
      status: input.status ?? current.status,
      baseImageTrigger: {
        enabled: input.baseImageTriggerEnabled ?? current.baseImageTrigger.enabled,
        type: input.baseImageTriggerType ?? current.baseImageTrigger.type,
      },
      commitTrigger: { enabled: input.commitTriggerEnabled ?? current.commitTrigger.enabled },
      history: {
        keepRuns: input.keepRuns ?? current.history?.keepRuns ?? DEFAULT_HISTORY.keepRuns,
        logRetentionDays: input.logRetentionDays ?? current.history?.logRetentionDays ?? DEFAULT_HISTORY.logRetentionDays,
      },
      updatedAt: this.deps.clock.now().toISOString(),
    };
    validateImageTemplates(next.registry, next.images, next.name, this.deps.clock.now());
    const fileChanged = input.context !== undefined || input.file !== undefined || input.args !== undefined;
    if (isTaskFile(next.dockerfile)) {
      // A task file's images are its push steps', rendered for the task's registry.
      if (fileChanged || input.images !== undefined || input.registry !== undefined) next.images = await this.checkBuildFile(next, input.images ?? []);
    } else if (fileChanged) {
      next.images = await this.checkBuildFile(next, input.images ?? (isTaskFile(current.dockerfile) ? [] : current.images));
    }
    validateImageTemplates(next.registry, next.images, next.name, this.deps.clock.now());
    await this.deps.tasks.put(next);
    if (!listensToBases(current) && listensToBases(next)) await this.catchUp(next);
    return next;
  }

  /**
   * A task resumed (enabled again, or its base image trigger turned back on) is rebuilt for each
   * base that moved on while it was paused: the newest digest cascade saw of the tag (from an
   * event or the poller) differs from the one the task was built from. The change goes through
   * the dispatcher like any event, for this task only, so every rule of a rebuild applies.
   */
  async catchUp(task: Task): Promise<MissedChange[]> {
    const missed: MissedChange[] = [];
    for (const dep of await this.deps.dependencies.listForTask(task.name)) {
      if (!edgeTriggers(task, dep).build) continue;
      const base = `${dep.registry}/${dep.repository}:${dep.tag}`;
      const [polled, seen] = await Promise.all([this.deps.pollStates.get(base), this.deps.imageState.current(dep.registry, dep.repository, dep.tag)]);
      const platformDigest = polled?.platforms[task.platform];
      // The poller's word is about this task's platform; an event's is the tag's own digest.
      const event: Omit<ImageEvent, 'deliveryId'> | undefined =
        platformDigest !== undefined && polled?.polledAt && (!seen || Date.parse(polled.polledAt) >= Date.parse(seen.occurredAt))
          ? { kind: 'image', source: 'resume', registry: dep.registry, repository: dep.repository, tag: dep.tag, digest: platformDigest, platform: task.platform, occurredAt: polled.polledAt }
          : seen && { kind: 'image', source: 'resume', registry: dep.registry, repository: dep.repository, tag: dep.tag, digest: seen.digest, occurredAt: seen.occurredAt };
      if (!event || event.digest === dep.digest || event.digest === polled?.digest) continue;
      missed.push({ base, recordedDigest: dep.digest, currentDigest: event.digest });
      await this.deps.queue.send({ type: 'event', event: { ...event, deliveryId: `resume:${task.name}:${task.updatedAt}:${base}` }, forTask: task.name });
    }
    return missed;
  }

  async get(name: string): Promise<Task> {
    const task = await this.deps.tasks.get(name);
    if (!task) throw new NotFoundError('task', name);
    return task;
  }

  async show(name: string): Promise<TaskDetails> {
    const task = await this.get(name);
    const dependencies = await this.deps.dependencies.listForTask(name);
    return { task, dependencies, dependenciesCaptured: task.dependenciesCapturedAt !== undefined };
  }

  list(): Promise<Task[]> {
    return this.deps.tasks.list();
  }

  async delete(name: string): Promise<void> {
    const task = await this.get(name);
    await this.deps.onDelete?.(task);
    await this.deps.dependencies.deleteForTask(name);
    await this.deps.tasks.delete(name);
    for (const credential of task.credentials) {
      if (credential.kind === 'basic') await this.deps.secrets.delete(credential.secretRef);
    }
  }

  async addCredential(name: string, input: AddCredentialInput): Promise<Task> {
    const task = await this.get(name);
    let credential: RegistryCredential;
    if ('password' in input) {
      const secretRef = await this.deps.secrets.put(`task/${name}/${input.loginServer}`, input.password);
      credential = { kind: 'basic', loginServer: input.loginServer, username: input.username, secretRef };
    } else {
      credential = { kind: 'identity', loginServer: input.loginServer, roleArn: input.identity };
    }
    const others = task.credentials.filter((c) => c.loginServer !== input.loginServer);
    const next = { ...task, credentials: [...others, credential], updatedAt: this.deps.clock.now().toISOString() };
    await this.deps.tasks.put(next);
    return next;
  }

  async removeCredential(name: string, loginServer: string): Promise<Task> {
    const task = await this.get(name);
    const removed = task.credentials.find((c) => c.loginServer === loginServer);
    if (!removed) throw new NotFoundError('credential', `${name}/${loginServer}`);
    const next = { ...task, credentials: task.credentials.filter((c) => c !== removed), updatedAt: this.deps.clock.now().toISOString() };
    await this.deps.tasks.put(next);
    if (removed.kind === 'basic') await this.deps.secrets.delete(removed.secretRef);
    return next;
  }

  /**
   * Checks the Dockerfile, or the task file and each build step's Dockerfile, and answers the
   * images the task pushes: those given for a Dockerfile, the push steps' for a task file.
   */
  private async checkBuildFile(task: Task, images: string[]): Promise<string[]> {
    if (!isTaskFile(task.dockerfile)) {
      if (images.length === 0) throw new ValidationError('at least one --image is required', 'images');
      await this.checkDockerfile(task.context, task.dockerfile, task.buildArgs);
      return images;
    }
    if (images.length > 0) throw new ValidationError(`the task file ${task.dockerfile} names the images its push steps push: leave out --image`, 'images');
    const sources = this.deps.sources;
    if (!sources) return [];
    const checked = await checkTaskFile((path) => sources.readFile(task.context, path), task.dockerfile, task.registry, task.name);
    return checked.images;
  }

  private async checkDockerfile(context: BuildContext, file: string, args: Record<string, string>): Promise<void> {
    if (!this.deps.sources) return;
    const text = await this.deps.sources.readFile(context, file);
    analyzeDockerfile(text, args);
  }
}

/** Whether image events can build the task at all. */
function listensToBases(task: Task): boolean {
  return task.status === 'Enabled' && task.baseImageTrigger.enabled;
}

/**
 * Renders every template with sample values and parses the result, so an unknown variable or a
 * name that can never be a valid image reference is refused when the task is created.
 */
export function validateImageTemplates(registry: string, images: string[], taskName: string, now: Date): void {
  for (const image of images) {
    validateTemplate(image);
    const rendered = renderTemplate(image, {
      'Run.ID': 'da1',
      'Run.Registry': registry,
      'Run.Date': runDate(now),
      'Run.TaskName': taskName,
      'Run.Commit': '0123456789abcdef0123456789abcdef01234567',
      'Run.Branch': 'main',
    });
    const ref = parseImageReference(`${registry}/${rendered}`);
    if (ref.digest) throw new ValidationError(`image "${image}" must name a tag, not a digest`, 'image');
    if (ref.registry !== registry) {
      throw new ValidationError(`image "${image}" must be a repository in ${registry}, without a registry host`, 'image');
    }
  }
}
