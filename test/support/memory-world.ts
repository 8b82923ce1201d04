// cascade's domain on the memory ports, and the few things a test of the exactly-once rules does
// with it: tasks on bases (and on each other's images), pushes told of by a registry, builds that
// end, the queue worked through. Every step runs through createCascade, as on either stack; only
// the stores are memory (test/support/memory-ports.ts), so a scenario runs in milliseconds.
//
//   const w = memoryWorld();
//   await w.task('app', { on: [BASE] });
//   await w.push(BASE, digest('2'));          // the dispatcher takes the registry's notification
//   await w.finishAll();                      // every open build succeeds, and pushes
//   expect(w.buildsOf('app')).toHaveLength(1);
import { createCascade, type Cascade } from '../../lib/domain/cascade';
import type { DispatchReport } from '../../lib/domain/dispatcher';
import type { QueueMessage } from '../../lib/domain/ports';
import type { BuildResult, ImageEvent, Run, Task } from '../../lib/domain/types';
import { actingAs, type Interleaver } from './interleaver';
import { memoryCascadePorts, type ManualClock, type MemoryCascadePorts } from './memory-ports';
import { RecordingBuilder } from './recording-builder';

export const BASE_REGISTRY = 'base.example:5000';
export const APP_REGISTRY = 'app.example:5000';

/** A digest made of one repeated character (or a short seed). */
export function digest(seed: string): string {
  return `sha256:${seed.repeat(Math.ceil(64 / seed.length)).slice(0, 64)}`;
}

/** `registry/repository:tag` parts of a full reference. */
export function splitRef(ref: string): { registry: string; repository: string; tag: string } {
  const slash = ref.indexOf('/');
  const colon = ref.lastIndexOf(':');
  return { registry: ref.slice(0, slash), repository: ref.slice(slash + 1, colon), tag: ref.slice(colon + 1) };
}

/** Where task `name` pushes its image. */
export function imageOf(name: string): string {
  return `${APP_REGISTRY}/${name}:latest`;
}

export interface MemoryWorld {
  cascade: Cascade;
  ports: MemoryCascadePorts;
  builder: RecordingBuilder;
  clock: ManualClock;
  /** A task whose captured dependencies are `on` (full references), each at `at`'s digest. */
  task(name: string, options: { on: string[]; at?: string; trigger?: 'Runtime' | 'All' }): Promise<Task>;
  /** The registry tells of a push: the event goes through the queue message the receiver would send. */
  push(ref: string, tagDigest: string, options?: { deliveryId?: string; occurredAt?: string }): Promise<DispatchReport | undefined>;
  /** The build of `runId` ends; success pushes the task's image (a digest made from the run id) and pulled `bases`. */
  finish(runId: string, options?: { status?: BuildResult['status']; pulled?: Array<{ ref: string; digest: string }>; tellPush?: boolean }): Promise<void>;
  /** Every open build ends in success, in the order they started, until none is open and the queue is empty. */
  finishAll(options?: { tellPushes?: boolean }): Promise<void>;
  /** Processes queued messages (held events let go, starts put off) until the queue is empty. */
  drain(): Promise<void>;
  /** Every run, oldest first. */
  runs(): Promise<Run[]>;
  /** The runs of a task that reached a builder. */
  buildsOf(task: string): Run[];
  /** The digest task `name`'s run `runId` pushes. */
  outputOf(runId: string): string;
  /** What each run pulled, by run id, as the builds reported it. */
  pulled: Map<string, Array<{ ref: string; digest: string }>>;
  /** What the registry holds for a tag now: the newest push it took. */
  current(ref: string): string | undefined;
  /** The run ids of a task's successful builds, in the order they finished. */
  finishedOf(task: string): string[];
}

let deliveries = 0;

export function memoryWorld(options: { interleaver?: Interleaver } = {}): MemoryWorld {
  const builder = new RecordingBuilder();
  const ports = memoryCascadePorts({ builder, ...(options.interleaver && { interleaver: options.interleaver }) });
  const cascade = createCascade(ports);
  const clock = ports.clock;
  /** Per tag, what the registry holds now (the newest push it took): a build pulls that. */
  const registry = new Map<string, string>();
  const pushedAt = new Map<string, string>();
  const pulled = new Map<string, Array<{ ref: string; digest: string }>>();
  const tasks = new Map<string, Task>();
  const outputOf = (runId: string) => digest(Buffer.from(runId).toString('hex'));

  const process = (message: QueueMessage) => cascade.process(message);

  const world: MemoryWorld = {
    cascade,
    ports,
    builder,
    clock,
    pulled,
    outputOf,
    current: (ref) => registry.get(ref),
    finishedOf: (task) => builder.results.filter((r) => r.status === 'Succeeded' && tasks.get(task) && builder.started.find((b) => b.runId === r.runId)?.spec.images[0]?.startsWith(`${task}:`)).map((r) => r.runId),
    async task(name, { on, at, trigger = 'Runtime' }) {
      const now = clock.now().toISOString();
      const task: Task = {
        name,
        registry: APP_REGISTRY,
        images: [`${name}:latest`],
        context: { kind: 'git', url: `https://git.example/${name}.git`, branch: 'main', folder: '.' },
        dockerfile: 'Dockerfile',
        buildArgs: {},
        platform: 'linux/amd64',
        status: 'Enabled',
        baseImageTrigger: { enabled: true, type: trigger },
        commitTrigger: { enabled: true },
        credentials: [],
        createdAt: now,
        updatedAt: now,
      };
      await ports.tasks.create(task);
      const dependencies = on.map((ref) => {
        const current = registry.get(ref) ?? at ?? digest('0');
        registry.set(ref, current);
        return { taskName: name, ...splitRef(ref), digest: current, stage: 'runtime' as const, pinned: false, capturedAt: now, capturedByRun: 'da0' };
      });
      await ports.dependencies.replaceForTask(name, dependencies);
      const upstream = on.filter((ref) => ref.startsWith(`${APP_REGISTRY}/`)).map((ref) => splitRef(ref).repository);
      await ports.tasks.recordCapture(name, { capturedAt: now, bySequence: 0, upstream });
      const stored = (await ports.tasks.get(name)) as Task;
      tasks.set(name, stored);
      return stored;
    },
    async push(ref, tagDigest, { deliveryId = `d${(deliveries += 1)}`, occurredAt } = {}) {
      clock.advance(1000);
      const at = occurredAt ?? clock.now().toISOString();
      // The registry holds the newest push; one told of late was overwritten long ago.
      if (!(pushedAt.get(ref)! > at)) {
        registry.set(ref, tagDigest);
        pushedAt.set(ref, at);
      }
      const event: ImageEvent = { kind: 'image', source: 'distribution', ...splitRef(ref), digest: tagDigest, occurredAt: at, deliveryId };
      await process({ type: 'event', event });
      return undefined;
    },
    async finish(runId, { status = 'Succeeded', pulled: given, tellPush = true } = {}) {
      const request = builder.started.find((r) => r.runId === runId);
      if (!request) throw new Error(`run ${runId} never reached the builder`);
      const run = await cascade.runs.get(runId);
      const task = run.taskName ? tasks.get(run.taskName) : undefined;
      // A build pulls what its bases are now, and pushes an image of its own.
      const bases = given ?? (await ports.dependencies.listForTask(run.taskName ?? '')).map((dep) => {
        const ref = `${dep.registry}/${dep.repository}:${dep.tag}`;
        return { ref, digest: registry.get(ref) ?? dep.digest };
      });
      pulled.set(runId, bases);
      const output = status === 'Succeeded' && task ? [{ reference: imageOf(task.name), digest: outputOf(runId) }] : [];
      const result = await builder.finish(runId, {
        status,
        outputImages: output,
        baseImages: bases.map(({ ref, digest: d }) => ({ ...splitRef(ref), digest: d, stage: 'runtime' as const, pinned: false })),
      });
      await process({ type: 'build-result', result });
      // The registry tells of the build's push, after cascade has its result.
      if (tellPush && output[0]) await world.push(output[0].reference, output[0].digest);
      await world.drain();
    },
    async finishAll({ tellPushes = true } = {}) {
      for (let guard = 0; guard < 1000; guard += 1) {
        await world.drain();
        const [next] = builder.building();
        if (!next) return;
        await world.finish(next, { tellPush: tellPushes });
      }
      throw new Error('builds kept coming: a loop');
    },
    async drain() {
      for (let guard = 0; guard < 10_000; guard += 1) {
        const message = ports.queue.messages.shift();
        if (!message) return;
        await actingAs(`queue ${message.type}`, () => process(message));
      }
      throw new Error('the queue never emptied');
    },
    async runs() {
      return (await ports.runs.list({ top: 10_000 })).reverse();
    },
    buildsOf(task) {
      return builder.started.filter((r) => r.spec.images.some((image) => image.startsWith(`${task}:`))).map((r) => ({ id: r.runId }) as Run);
    },
  };
  return world;
}
