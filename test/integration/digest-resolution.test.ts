// Senders that name a tag but no digest (Docker Hub, Quay): the dispatcher asks the registry,
// with the dependent task's pull credentials, and only for a tag some task depends on.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageTagEvent } from '../../lib/domain/types';
import { startLocalStack, type LocalStack } from '../../lib/local/stack';
import { startRegistry, type RegistryProcess } from '../../lib/local/registry-process';
import { startHttpRecorder, type HttpRecorder } from '../support/http-recorder';
import { RecordingBuilder } from '../support/recording-builder';
import { pushImage } from '../support/registry';
import { rememberSecrets } from '../support/secrets';

jest.setTimeout(120_000);

let work: string;
let stack: LocalStack;
let registry: RegistryProcess;
let recorder: HttpRecorder;
let current = '';
let builder: RecordingBuilder;
const auth = { username: 'puller', password: 'pull-secret-1' };
rememberSecrets(auth.password);

function tagEvent(registryHost: string, deliveryId: string): ImageTagEvent {
  return { kind: 'image-tag', source: 'dockerhub', registry: registryHost, repository: 'baseimages/node', tag: '9-alpine', occurredAt: new Date().toISOString(), deliveryId };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cascade-digests-'));
  registry = await startRegistry({ users: { [auth.username]: auth.password } });
  recorder = await startHttpRecorder(200);
  current = (await pushImage(registry.url, 'baseimages/node', '9-alpine', { env: ['NODE_VERSION=1'] }, auth)).digest;
  stack = await startLocalStack({
    port: 0,
    dataDir: work,
    inMemory: true,
    log: (line) => console.log(line),
    sources: null,
    builder: (report) =>
      (builder = new RecordingBuilder({
        report,
        finishEach: () => ({ baseImages: [{ registry: registry.host, repository: 'baseimages/node', tag: '9-alpine', digest: current, stage: 'runtime', pinned: false }] }),
      })),
  });
  const { cascade } = stack;
  await cascade.tasks.create({
    name: 'app', registry: '127.0.0.1:5998', images: ['app:{{.Run.ID}}'], context: 'https://example.com/app.git', file: 'Dockerfile',
    args: {}, platform: 'linux/amd64', status: 'Enabled', baseImageTriggerEnabled: true, baseImageTriggerType: 'Runtime', commitTriggerEnabled: true,
  });
  await cascade.tasks.addCredential('app', { loginServer: registry.host, ...auth });
  await cascade.runs.runTaskByName('app', { trigger: 'Manual', cause: { kind: 'manual' } });
  await stack.idle();
});

afterAll(async () => {
  await stack?.stop();
  await registry?.stop();
  await recorder?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

it('resolves the digest with the task credentials and rebuilds once', async () => {
  const before = builder.started.length;
  current = (await pushImage(registry.url, 'baseimages/node', '9-alpine', { env: ['NODE_VERSION=2'] }, auth)).digest;
  const report = await stack.cascade.dispatcher.dispatch(tagEvent(registry.host, 'hub-1'));
  expect(report.started.map((s) => s.task)).toEqual(['app']);
  await stack.idle();
  expect(builder.started.length).toBe(before + 1);
  const [run] = await stack.cascade.runs.list({ taskName: 'app', top: 1 });
  expect(run?.cause).toEqual(expect.objectContaining({ kind: 'image-update', newDigest: current }));

  const again = await stack.cascade.dispatcher.dispatch(tagEvent(registry.host, 'hub-2'));
  expect(again.started).toEqual([]);
  expect(again.skipped).toEqual([{ task: 'app', reason: `app was already built from ${registry.host}/baseimages/node:9-alpine@${current}` }]);
});

it('never contacts a host no task depends on', async () => {
  const host = recorder.url.replace('http://', '');
  const report = await stack.cascade.dispatcher.dispatch(tagEvent(host, 'hub-3'));
  expect(report.skipped).toEqual([{ reason: `no task depends on ${host}/baseimages/node:9-alpine` }]);
  expect(recorder.requests).toEqual([]);
});
