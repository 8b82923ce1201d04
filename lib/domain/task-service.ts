// Tasks: what to build, where to push it, and when to build it again.
import { analyzeDockerfile } from '../dockerfile/analyze';
import { parseImageReference } from '../images/reference';
import type { AddCredentialInput, CreateTaskInput, UpdateTaskInput } from '../http/api-schemas';
import { parseBuildContext, validateContextPath } from './context';
import { ConflictError, NotFoundError, ValidationError } from './errors';
import type { Clock, DependencyStore, SecretStore, SourceReader, TaskStore } from './ports';
import { renderTemplate, runDate, validateTemplate } from './templates';
import type { BuildContext, Dependency, RegistryCredential, Task } from './types';

export interface TaskServiceDeps {
  tasks: TaskStore;
  dependencies: DependencyStore;
  secrets: SecretStore;
  clock: Clock;
  /** When present, the Dockerfile is read and analysed at creation so a broken one is refused. */
  sources?: SourceReader;
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
      createdAt: now,
      updatedAt: now,
    };
    validateImageTemplates(task.registry, task.images, task.name, this.deps.clock.now());
    if (await this.deps.tasks.get(task.name)) throw new ConflictError(`task "${task.name}" already exists`);
    await this.checkDockerfile(task.context, task.dockerfile, task.buildArgs);
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
      updatedAt: this.deps.clock.now().toISOString(),
    };
    validateImageTemplates(next.registry, next.images, next.name, this.deps.clock.now());
    if (input.context !== undefined || input.file !== undefined || input.args !== undefined) {
      await this.checkDockerfile(next.context, next.dockerfile, next.buildArgs);
    }
    await this.deps.tasks.put(next);
    return next;
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

  private async checkDockerfile(context: BuildContext, file: string, args: Record<string, string>): Promise<void> {
    if (!this.deps.sources) return;
    const text = await this.deps.sources.readFile(context, file);
    analyzeDockerfile(text, args);
  }
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
