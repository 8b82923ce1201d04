// The world the failure drills run in: the local stack's real parts (DynamoDB Local, the HTTP
// server, the in-process queue, the dispatcher) and, in place of buildah, a builder that records
// each start and builds only when told. A build resolves its bases from a simulated registry,
// pushes new digests of its task's images there, and the registry notifies cascade through a
// real distribution webhook, before or after the build's result, as a real registry might.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuildResult, ResolvedBaseImage, Run, Task } from '../../lib/domain/types';
import { startLocalStack, type LocalStack } from '../../lib/local/stack';
import { RecordingBuilder } from '../support/recording-builder';
import { rememberSecrets } from '../support/secrets';

export const REGISTRY = 'registry.test:5000';

/** When the registry tells of a build's pushes: after the build's result, before it, or not at all. */
export type PushTiming = 'after-result' | 'before-result' | 'silent';

/** The registry cascade watches: tag → digest, and a notification for every push. */
export class SimulatedRegistry {
  private readonly digests = new Map<string, string>();
  private pushes = 0;
  /** One clock for every notification, so that later pushes always carry later times. */
  private time = Date.parse('2026-11-28T05:00:00.000Z');

  constructor(private readonly notify: (body: string) => Promise<void>) {}

  digestOf(repositoryAndTag: string): string {
    const found = this.digests.get(repositoryAndTag);
    if (!found) throw new Error(`${repositoryAndTag} was never pushed in this drill`);
    return found;
  }

  /** Pushes a new digest of `repository:tag`; notifies cascade unless told not to. */
  async push(repositoryAndTag: string, options: { notify?: boolean } = {}): Promise<string> {
    this.pushes += 1;
    const digest = `sha256:${createHash('sha256').update(`${repositoryAndTag}#${this.pushes}`).digest('hex')}`;
    this.digests.set(repositoryAndTag, digest);
    if (options.notify ?? true) await this.notifyPush(repositoryAndTag, digest);
    return digest;
  }

  /** A notification of a push of `digest`, as distribution sends it (a redelivery repeats `id`). */
  notification(repositoryAndTag: string, digest: string, id = `n-${createHash('sha1').update(`${repositoryAndTag}@${digest}`).digest('hex').slice(0, 12)}`): string {
    const [repository, tag] = repositoryAndTag.split(':') as [string, string];
    this.time += 1000;
    return JSON.stringify({
      events: [
        {
          id,
          timestamp: new Date(this.time).toISOString(),
          action: 'push',
          target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, repository, tag, size: 500, length: 500 },
          request: { id: `r-${id}`, addr: '127.0.0.1:1', host: REGISTRY, method: 'PUT', useragent: 'drill' },
          actor: { name: 'drill' },
          source: { addr: 'registry.test:5000', instanceID: 'drill' },
        },
      ],
    });
  }

  async notifyPush(repositoryAndTag: string, digest: string): Promise<void> {
    await this.notify(this.notification(repositoryAndTag, digest));
  }
}

export interface DrillFinish {
  /** When the registry tells of the build's pushes; `after-result` when not given. */
  pushes?: PushTiming;
  status?: BuildResult['status'];
}

export interface Drill {
  stack: LocalStack;
  /** Builds only when the drill says so (`finish`), or at once after `finishEach`. */
  builder: RecordingBuilder;
  registry: SimulatedRegistry;
  /** Builds one run: resolves its bases now, pushes its images, reports its result. */
  finish(runId: string, options?: DrillFinish): Promise<void>;
  /**
   * From now on, finishes every build as soon as it starts (graph drills: let a change run its
   * course). `beforeStarted`: within the start call itself, so the build's push is told of
   * before cascade has recorded the run as Running.
   */
  finishEach(options: { pushes: PushTiming; beforeStarted?: boolean }): void;
  hook: { url: string; secret: string };
  /**
   * Declares a task building `name:latest` FROM `bases` (each `repository:tag` in the drill's
   * registry), and runs it once by hand so that it records them. Bases must exist (pushed).
   */
  task(name: string, bases: string[], options?: { trigger?: 'Runtime' | 'All' }): Promise<Task>;
  /** POSTs a registry notification body to the webhook; resolves with its status. */
  post(body: string, hook?: { url: string; secret: string }): Promise<number>;
  webhook(name: string): Promise<{ url: string; secret: string }>;
  runsOf(task: string): Promise<Run[]>;
  /** Waits until no message is queued, no build is in flight and a pass finds both quiet. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startDrill(): Promise<Drill> {
  const work = await mkdtemp(join(tmpdir(), 'cascade-drill-'));
  const bases = new Map<string, string[]>();
  // The registry notifies through the webhook, which exists once the stack is up.
  const late: { post?: (body: string) => Promise<number> } = {};
  const registry = new SimulatedRegistry(async (body) => {
    const status = await late.post!(body);
    if (status !== 202) throw new Error(`the webhook answered ${status}`);
  });
  let made: RecordingBuilder | undefined;
  const stack = await startLocalStack({
    port: 0,
    dataDir: work,
    inMemory: true,
    log: (line) => console.log(line),
    sources: null,
    builder: (report) => (made = new RecordingBuilder({ report })),
  });
  const builder = made!;
  const finish = async (runId: string, { pushes = 'after-result', status = 'Succeeded' }: DrillFinish = {}) => {
    const outputs: Array<{ reference: string; digest: string; target: string }> = [];
    const notifyAll = () => Promise.all(outputs.map((o) => registry.notifyPush(o.target, o.digest)));
    await builder.finish(runId, async (request) => {
      const image = request.spec.images[0] as string;
      const baseImages: ResolvedBaseImage[] = (bases.get(image.split(':')[0] as string) ?? []).map((ref) => {
        const [repository, tag] = ref.split(':') as [string, string];
        return { registry: REGISTRY, repository, tag, digest: registry.digestOf(ref), stage: 'runtime', pinned: false };
      });
      if (status === 'Succeeded') {
        for (const target of request.spec.images) {
          const digest = await registry.push(target, { notify: false });
          outputs.push({ reference: `${request.spec.registry}/${target}`, digest, target });
        }
      }
      const outcome = {
        status,
        finishedAt: new Date().toISOString(),
        outputImages: outputs.map(({ reference, digest }) => ({ reference, digest })),
        baseImages,
        ...(status !== 'Succeeded' && { error: 'the drill failed this build' }),
      };
      if (pushes === 'before-result') await notifyAll();
      return outcome;
    });
    if (pushes === 'after-result') await notifyAll();
  };
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const answer = await fetch(`${stack.url}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await answer.text();
    if (answer.status >= 300) throw new Error(`${method} ${path} answered ${answer.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const webhook = async (name: string) => {
    const created = await api<{ url: string; secret: string }>('POST', '/api/webhooks', { name, provider: 'distribution' });
    rememberSecrets(created.secret);
    return created;
  };
  const hook = await webhook('registry');
  const post = async (body: string, to = hook) => {
    const answer = await fetch(to.url, { method: 'POST', headers: { authorization: `Bearer ${to.secret}`, 'content-type': 'application/vnd.docker.distribution.events.v1+json' }, body });
    await answer.text();
    return answer.status;
  };
  late.post = post;
  const settle = async () => {
    for (;;) {
      await stack.idle();
      await builder.idle();
      await stack.idle();
      if (stack.queue.isIdle() && builder.isIdle()) return;
    }
  };
  return {
    stack,
    builder,
    registry,
    finish,
    finishEach({ pushes, beforeStarted }) {
      builder.whenStarted = { run: (request) => finish(request.runId, { pushes }), inStart: beforeStarted };
    },
    hook,
    post,
    webhook,
    async task(name, taskBases, options = {}) {
      bases.set(name, taskBases);
      const task = await stack.cascade.tasks.create({
        name,
        registry: REGISTRY,
        images: [`${name}:latest`],
        context: `https://git.example.com/drills/${name}.git#main`,
        file: 'Dockerfile',
        args: {},
        platform: 'linux/amd64',
        status: 'Enabled',
        baseImageTriggerEnabled: true,
        baseImageTriggerType: options.trigger ?? 'Runtime',
        commitTriggerEnabled: false,
      });
      if (builder.whenStarted) throw new Error('declare the tasks before finishEach');
      const run = await stack.cascade.runs.runTask(task, { trigger: 'Manual', cause: { kind: 'manual' } });
      // Its image exists once it was built; nobody is told of this first push.
      if (builder.building().includes(run.id)) await finish(run.id, { pushes: 'silent' });
      await settle();
      return task;
    },
    async runsOf(task) {
      return (await api<{ runs: Run[] }>('GET', `/api/runs?task=${task}&top=100`)).runs;
    },
    settle,
    async stop() {
      await stack.stop();
      await rm(work, { recursive: true, force: true });
    },
  };
}

/** The common drill: tasks `app` and `other`, each built once FROM `base/node:20`. */
export async function startDrillOnOneBase(): Promise<Drill> {
  const drill = await startDrill();
  await drill.registry.push('base/node:20', { notify: false });
  await drill.task('app', ['base/node:20']);
  await drill.task('other', ['base/node:20']);
  return drill;
}
