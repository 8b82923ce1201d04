// Watching a base image whose registry sends no events: a real CNCF distribution registry with
// notifications off, the local stack's own poller on a short interval, and builds recorded.
// A new digest is found by the next poll and rebuilds the dependent task once; an unchanged one
// is polled without a build; an index whose other platforms change rebuilds only the tasks that
// build for the platform that changed.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { keys } from '../../lib/adapters/dynamodb-table';
import type { PollState } from '../../lib/domain/ports';
import type { BuildResult, Run } from '../../lib/domain/types';
import { startLocalStack, type LocalStack } from '../../lib/local/stack';
import { startRegistry, type RegistryProcess } from '../../lib/local/registry-process';
import { RecordingBuilder } from '../support/recording-builder';
import { entryFor, pushImage, pushIndexOver, type PushedImage } from '../support/registry';
import { rememberSecrets } from '../support/secrets';

jest.setTimeout(240_000);

const INTERVAL_S = 2;
const auth = { username: 'puller', password: 'poll-secret-7' };
rememberSecrets(auth.password);

let work: string;
let stack: LocalStack;
let registry: RegistryProcess;
let builder: RecordingBuilder;
/** What a pull of each tag gives each platform now: what the recording builder reports it built from. */
const pulled = new Map<string, Record<string, string>>();

const ref = (repo: string, tag: string) => `${registry.host}/${repo}:${tag}`;

/** Records the starts; each build reports it pulled what `pulled` says for its base and platform. */
function recordingBuilder(report: (result: BuildResult) => Promise<void>): RecordingBuilder {
  builder = new RecordingBuilder({
    report,
    finishEach: (request) => {
      const base = request.spec.buildArgs.BASE as string;
      const [repository, tag] = base.slice(registry.host.length + 1).split(':') as [string, string];
      const digest = pulled.get(base)?.[request.spec.platform] as string;
      return { baseImages: [{ registry: registry.host, repository, tag, digest, stage: 'runtime', pinned: false }] };
    },
  });
  return builder;
}

async function pollState(base: string): Promise<PollState | undefined> {
  const item = (await stack.dynamo.client.send(new GetCommand({ TableName: stack.dynamo.tableName, Key: keys.pollState(base) }))).Item;
  return item as PollState | undefined;
}

/** Resolves once the poller has completed `passes` more passes over `base`. */
async function passes(base: string, count: number): Promise<void> {
  let seen = (await pollState(base))?.polledAt;
  for (let done = 0; done < count; ) {
    await sleep(100);
    const now = (await pollState(base))?.polledAt;
    if (now !== seen) {
      done += 1;
      seen = now;
    }
  }
  await stack.idle();
}

async function imageUpdates(task: string): Promise<Run[]> {
  return (await stack.cascade.runs.list({ taskName: task, top: 50 })).filter((r) => r.trigger === 'Image Update').reverse();
}

async function createTask(name: string, base: string, platform = 'linux/amd64') {
  await stack.cascade.tasks.create({
    name, registry: '127.0.0.1:5998', images: [`${name}:{{.Run.ID}}`], context: 'https://example.com/app.git', file: 'Dockerfile',
    args: { BASE: base }, platform, status: 'Enabled', baseImageTriggerEnabled: true, baseImageTriggerType: 'Runtime', commitTriggerEnabled: false,
  });
  await stack.cascade.tasks.addCredential(name, { loginServer: registry.host, ...auth });
  await stack.cascade.runs.runTaskByName(name, { trigger: 'Manual', cause: { kind: 'manual' } });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cascade-poller-'));
  // No `notify`: this registry tells nobody of its pushes.
  registry = await startRegistry({ users: { [auth.username]: auth.password } });
  stack = await startLocalStack({ port: 0, dataDir: work, inMemory: true, log: (line) => console.log(line), sources: null, builder: recordingBuilder, pollIntervalSeconds: INTERVAL_S });
});

afterAll(async () => {
  await stack?.stop();
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('a single-platform base', () => {
  let v1: PushedImage;
  const base = () => ref('baseimages/node', '9-alpine');

  beforeAll(async () => {
    v1 = await pushImage(registry.url, 'baseimages/node', '9-alpine', { env: ['NODE_VERSION=9.11.1'] }, auth);
    pulled.set(base(), { 'linux/amd64': v1.digest });
    await createTask('app', base());
    await stack.idle();
  });

  it('polls an unchanged digest without any build', async () => {
    const before = builder.started.length;
    await passes(base(), 2);
    expect(builder.started.length).toBe(before);
    expect(await pollState(base())).toMatchObject({ ref: base(), digest: v1.digest, platforms: { 'linux/amd64': v1.digest }, failures: 0 });
    expect(await imageUpdates('app')).toEqual([]);
  });

  it('finds a new digest at the first poll begun after the push and rebuilds the task once', async () => {
    const before = builder.started.length;
    const v2 = await pushImage(registry.url, 'baseimages/node', '9-alpine', { env: ['NODE_VERSION=9.11.2a'] }, auth);
    pulled.set(base(), { 'linux/amd64': v2.digest });
    // A pass under way during the push may miss it; the next one, begun after it, may not.
    await passes(base(), 2);
    const [run] = await imageUpdates('app');
    expect(run?.cause).toMatchObject({ kind: 'image-update', base: base(), oldDigest: v1.digest, newDigest: v2.digest, source: 'poller' });
    await passes(base(), 2);
    expect(builder.started.length).toBe(before + 1);
    expect((await imageUpdates('app')).map((r) => r.status)).toEqual(['Succeeded']);
    expect((await stack.cascade.tasks.show('app')).dependencies.map((d) => d.digest)).toEqual([v2.digest]);
  });
});

describe('a multi-platform base (an OCI index)', () => {
  const base = () => ref('baseimages/runtime', '1');
  let amd: PushedImage;
  let arm: PushedImage;

  async function publish(entries: Array<[PushedImage, string]>) {
    const index = await pushIndexOver(
      registry.url,
      'baseimages/runtime',
      '1',
      entries.map(([image, platform]) => {
        const [os, architecture] = platform.split('/') as [string, string];
        return entryFor(image, { os, architecture });
      }),
      { auth },
    );
    pulled.set(base(), Object.fromEntries(entries.map(([image, platform]) => [platform, image.digest])));
    return index;
  }

  beforeAll(async () => {
    amd = await pushImage(registry.url, 'baseimages/runtime', 'amd64-1', { architecture: 'amd64' }, auth);
    arm = await pushImage(registry.url, 'baseimages/runtime', 'arm64-1', { architecture: 'arm64' }, auth);
    await publish([[amd, 'linux/amd64'], [arm, 'linux/arm64']]);
    await createTask('on-amd', base(), 'linux/amd64');
    await createTask('on-arm', base(), 'linux/arm64');
    await stack.idle();
    await passes(base(), 1);
  });

  it('does not rebuild anything when a platform is added to the index', async () => {
    const before = builder.started.length;
    const s390 = await pushImage(registry.url, 'baseimages/runtime', 's390x-1', { architecture: 's390x' }, auth);
    const index = await publish([[amd, 'linux/amd64'], [arm, 'linux/arm64'], [s390, 'linux/s390x']]);
    await passes(base(), 2);
    expect((await pollState(base()))?.digest).toBe(index.digest);
    expect(builder.started.length).toBe(before);
  });

  it('rebuilds only the task whose platform image changed', async () => {
    const before = builder.started.length;
    const arm2 = await pushImage(registry.url, 'baseimages/runtime', 'arm64-2', { architecture: 'arm64', env: ['PATCHED=1'] }, auth);
    await publish([[amd, 'linux/amd64'], [arm2, 'linux/arm64']]);
    await passes(base(), 2);
    expect(builder.started.slice(before).map((r) => [r.spec.images[0]?.split(':')[0], r.spec.platform])).toEqual([['on-arm', 'linux/arm64']]);
    expect((await imageUpdates('on-arm')).map((r) => r.cause)).toMatchObject([{ base: base(), oldDigest: arm.digest, newDigest: arm2.digest, source: 'poller' }]);
    expect(await imageUpdates('on-amd')).toEqual([]);
  });
});
