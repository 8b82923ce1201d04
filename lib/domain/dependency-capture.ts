// What a successful build pulled becomes its task's dependencies: the edges from each base to
// the task that the dispatcher follows when a base changes, and the tasks upstream of it (those
// whose builds push its bases), which a change reaching several of them is built after.
import type { Clock, DependencyStore, ImageStateStore, TaskStore } from './ports';
import type { Dependency, Run } from './types';

export interface DependencyCaptureDeps {
  tasks: TaskStore;
  dependencies: DependencyStore;
  imageState: ImageStateStore;
  clock: Clock;
}

export class DependencyCapture {
  constructor(private readonly deps: DependencyCaptureDeps) {}

  /** The bases `run` pulled become its task's dependencies, unless a newer run captured them already. */
  async capture(run: Run): Promise<void> {
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
        ...(base.step !== undefined && { step: base.step }),
        capturedAt,
        capturedByRun: run.id,
      });
    }
    await this.deps.dependencies.replaceForTask(task.name, [...byKey.values()]);
    const upstream = new Set<string>();
    for (const dep of byKey.values()) {
      const producer = await this.deps.imageState.producer(dep.registry, dep.repository, dep.tag);
      if (producer && producer.taskName !== task.name) upstream.add(producer.taskName);
    }
    await this.deps.tasks.recordCapture(task.name, { capturedAt, bySequence: run.sequence, upstream: [...upstream].sort() });
  }
}
