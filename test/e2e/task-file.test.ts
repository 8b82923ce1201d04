// A multi-step task file end to end (issue 15): real registries (CNCF distribution, with the base
// registry's notifications), real buildah (the check runs the built image with buildah from +
// run), DynamoDB Local, the local stack and the `cascade` command line. The task builds the app
// and a tool image from two bases, checks NODE_VERSION in the built app, and pushes only then.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Run } from '../../lib/domain/types';
import { ManifestUnknownError, RegistryClient } from '../../lib/images/registry-client';
import { startRegistry, type RegistryProcess } from '../../lib/local/registry-process';
import { startLocalStack, type LocalStack } from '../../lib/local/stack';
import { APP_DOCKERFILE, writeBaseContext } from '../../lib/local/tutorial-files';
import { startForwardingRecorder, type ForwardingRecorder } from '../support/forwarding-recorder';
import { newSecret, rememberSecrets } from '../support/secrets';
import { waitFor } from '../support/wait-for';
import { runCli, succeeding, type CliResult } from '../unit/cli/api-double';

jest.setTimeout(300_000);

let work: string;
let stack: LocalStack;
let recorder: ForwardingRecorder;
let base: RegistryProcess;
let app: RegistryProcess;
let appContext: string;
let nodeContext: string;
let toolsContext: string;
const password = { basePush: newSecret(), basePull: newSecret(), appPush: newSecret() };
rememberSecrets(...Object.values(password));

function cascade(args: string[], stdin = ''): Promise<CliResult> {
  return runCli(args, { api: stack.url, stdin, pollIntervalMs: 100 });
}

const ok = succeeding(cascade);

async function taskRuns(): Promise<Run[]> {
  return JSON.parse(await ok(['task', 'list-runs', '--name', 'checked', '--top', '100', '--output', 'json'])) as Run[];
}

const CHECK_SCRIPT = [
  '# Fails unless the base is the NODE_VERSION line the app is tested on.',
  'case "$NODE_VERSION" in',
  '  "$EXPECTED"*) echo "NODE_VERSION is $NODE_VERSION, as expected" ;;',
  '  *) echo "NODE_VERSION is $NODE_VERSION, expected $EXPECTED" >&2; exit 1 ;;',
  'esac',
  '',
].join('\n');

const taskFile = (baseHost: string) =>
  [
    'version: v1.1.0',
    'steps:',
    '  - id: app',
    `    build: -t $Registry/helloworld:$ID -t $Registry/helloworld:latest -f Dockerfile-app --build-arg REGISTRY_NAME=${baseHost} .`,
    '    when: ["-"]',
    '  - id: tools',
    `    build: -t {{.Run.Registry}}/tools:{{.Run.ID}} --build-arg REGISTRY_NAME=${baseHost} tools`,
    '    when: ["-"]',
    '  - id: check',
    '    cmd: $Registry/helloworld:$ID sh /app/check.sh',
    '    env: [EXPECTED=9.11.2]',
    '    when: [app, tools]',
    '  - id: push',
    '    push:',
    '      - $Registry/helloworld:$ID',
    '      - $Registry/helloworld:latest',
    '      - $Registry/tools:$ID',
    '',
  ].join('\n');

const baseRef = (repository: string, tag: string) => ({ registry: base.host, repository, tag });
const pullClient = () => new RegistryClient({ credentials: async () => ({ username: 'basepull', password: password.basePull }) });
const appClient = () => new RegistryClient({ credentials: async () => ({ username: 'apppush', password: password.appPush }) });
const appDigest = async (tag: string) => (await appClient().headManifestDigest({ registry: app.host, repository: 'helloworld', tag })).digest;

async function pushBase(context: string, repository: string, tag: string, nodeVersion: string): Promise<string> {
  await writeBaseContext(context, nodeVersion);
  await ok(['build', '--registry', base.host, '--image', `${repository}:${tag}`, '--file', 'Dockerfile-base', context]);
  return (await pullClient().headManifestDigest(baseRef(repository, tag))).digest;
}

/** Waits for `count` runs of the task with trigger Image Update, all finished; then for the stack to be idle. */
async function imageUpdates(count: number): Promise<Run[]> {
  const updates = async () => (await taskRuns()).filter((r) => r.trigger === 'Image Update');
  await waitFor(
    `${count} finished Image Update runs`,
    async () => {
      const found = await updates();
      return found.length >= count && found.every((r) => r.status !== 'Queued' && r.status !== 'Running') ? found : undefined;
    },
    90_000,
  );
  // Read again once nothing is left to do: a second run for the same change would show here.
  await stack.idle();
  return updates();
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cascade-e2e-taskfile-'));
  stack = await startLocalStack({ port: 0, dataDir: join(work, 'cascade'), log: (line) => console.log(line) });
  recorder = await startForwardingRecorder(() => stack.url);
  const webhook = JSON.parse(await ok(['webhook', 'create', '--name', 'baseregistry', '--provider', 'distribution', '--output', 'json'])) as { url: string; secret: string };
  rememberSecrets(webhook.secret);
  base = await startRegistry({
    users: { basepush: password.basePush, basepull: password.basePull },
    notify: { url: webhook.url.replace(stack.url, recorder.url), headers: { Authorization: `Bearer ${webhook.secret}` } },
  });
  app = await startRegistry({ users: { apppush: password.appPush } });
  await ok(['registry', 'login', base.host, '--username', 'basepush', '--password-stdin'], password.basePush);
  await ok(['registry', 'login', app.host, '--username', 'apppush', '--password-stdin'], password.appPush);

  nodeContext = join(work, 'node-base');
  toolsContext = join(work, 'tools-base');
  await pushBase(nodeContext, 'baseimages/node', '9-alpine', '9.11.2');
  await pushBase(toolsContext, 'baseimages/tools', '1', 'tools-1');

  appContext = join(work, 'app');
  await mkdir(join(appContext, 'tools'), { recursive: true });
  await writeFile(join(appContext, 'Dockerfile-app'), APP_DOCKERFILE);
  await writeFile(join(appContext, 'check.sh'), CHECK_SCRIPT);
  await writeFile(join(appContext, 'tools', 'Dockerfile'), 'ARG REGISTRY_NAME\nFROM ${REGISTRY_NAME}/baseimages/tools:1\nCMD ["sh"]\n');
  await writeFile(join(appContext, 'acr-task.yaml'), taskFile(base.host));
});

afterAll(async () => {
  await stack?.stop();
  await recorder?.close();
  await base?.stop();
  await app?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('a task file: build, check, push', () => {
  let lastGood: string;

  it('is refused at task create with the line at fault', async () => {
    const bad = join(work, 'bad');
    await mkdir(bad, { recursive: true });
    await writeFile(join(bad, 'Dockerfile'), 'FROM scratch\n');
    await writeFile(join(bad, 'acr-task.yaml'), 'version: v1.1.0\nsteps:\n  - build: -t $Registry/a:$ID .\n  - push: [$Registry/b:$ID]\n');
    const result = await cascade(['task', 'create', '--name', 'bad', '--registry', app.host, '--context', bad, '--file', 'acr-task.yaml']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/task file line 4: push of .*\/b:da1, which no build step builds/);
    expect((await cascade(['task', 'show', '--name', 'bad'])).code).toBe(1);
  });

  it('runs once by hand, capturing the bases of both build steps with their step ids', async () => {
    await ok(['task', 'create', '--name', 'checked', '--registry', app.host, '--context', appContext, '--file', 'acr-task.yaml']);
    await ok(['task', 'credential', 'add', '--name', 'checked', '--login-server', base.host, '--username', 'basepull', '--password-stdin'], password.basePull);
    const task = JSON.parse(await ok(['task', 'show', '--name', 'checked', '--output', 'json'])) as { task: { images: string[] } };
    expect(task.task.images).toEqual(['helloworld:{{.Run.ID}}', 'helloworld:latest', 'tools:{{.Run.ID}}']);

    const manual = await cascade(['task', 'run', '--name', 'checked']);
    const [run] = await taskRuns();
    // The log says why, when it did not succeed.
    expect([manual.code, run?.status, run?.error]).toEqual([0, 'Succeeded', undefined]);
    expect(run?.steps?.map((s) => `${s.id}:${s.kind}:${s.status}`).sort()).toEqual(['app:build:Succeeded', 'check:cmd:Succeeded', 'push:push:Succeeded', 'tools:build:Succeeded']);
    expect(run?.outputImages.map((o) => o.reference)).toEqual([`${app.host}/helloworld:${run?.id}`, `${app.host}/helloworld:latest`, `${app.host}/tools:${run?.id}`]);

    // The run is answered finished before its result's message is done with: capture comes after.
    await stack.idle();
    const shown = JSON.parse(await ok(['task', 'show', '--name', 'checked', '--output', 'json'])) as { dependencies: Array<{ repository: string; step?: string; stage: string; digest: string }> };
    expect(shown.dependencies.map((d) => `${d.repository} ${d.stage} ${d.step}`).sort()).toEqual(['baseimages/node runtime app', 'baseimages/tools runtime tools']);
    const log = await ok(['task', 'logs', '--run-id', run?.id ?? '']);
    expect(log).toMatch(/^\[check\] NODE_VERSION is 9\.11\.2, as expected$/m);
    lastGood = await appDigest('latest');
    expect(lastGood).toBe(run?.outputImages[1]?.digest);
  });

  it('a base change the check accepts: one Image Update run passes the check and pushes', async () => {
    await pushBase(nodeContext, 'baseimages/node', '9-alpine', '9.11.2a');
    const [update, ...more] = await imageUpdates(1);
    expect(more).toEqual([]);
    expect(update?.status).toBe('Succeeded');
    expect(update?.cause).toEqual(expect.objectContaining({ kind: 'image-update', base: `${base.host}/baseimages/node:9-alpine` }));
    const config = await appClient().getImageConfig({ registry: app.host, repository: 'helloworld', tag: 'latest' });
    expect(config.config?.Env).toContain('NODE_VERSION=9.11.2a');
    expect(await appDigest('latest')).not.toBe(lastGood);
    lastGood = await appDigest('latest');
    expect(await ok(['task', 'logs', '--run-id', update?.id ?? ''])).toMatch(/^\[check\] NODE_VERSION is 9\.11\.2a, as expected$/m);
  });

  it('a push of the other build step\'s base rebuilds the task once', async () => {
    const tools = await pushBase(toolsContext, 'baseimages/tools', '1', 'tools-2');
    const updates = await imageUpdates(2);
    expect(updates).toHaveLength(2);
    const [newest] = updates;
    expect(newest?.status).toBe('Succeeded');
    expect(newest?.cause).toEqual(expect.objectContaining({ base: `${base.host}/baseimages/tools:1`, newDigest: tools }));
    lastGood = await appDigest('latest');
  });

  it('a base change the check rejects: the run fails at the check, nothing is pushed, and a redelivery starts nothing', async () => {
    const before = recorder.deliveries.length;
    const rejected = await pushBase(nodeContext, 'baseimages/node', '9-alpine', '10.0.0');
    const updates = await imageUpdates(3);
    expect(updates).toHaveLength(3);
    const [failed] = updates;
    expect(failed?.status).toBe('Failed');
    expect(failed?.error).toBe(`step "check" (cmd) failed: ${app.host}/helloworld:${failed?.id} exited with code 1`);
    expect(failed?.outputImages).toEqual([]);
    expect(failed?.steps?.find((s) => s.id === 'push')?.status).toBe('Skipped');
    expect(failed?.steps?.find((s) => s.id === 'check')?.status).toBe('Failed');

    // The registry says so too: latest is the previous image, and the run's own tag was never pushed.
    expect(await appDigest('latest')).toBe(lastGood);
    await expect(appDigest(failed?.id ?? '')).rejects.toBeInstanceOf(ManifestUnknownError);

    const log = await ok(['task', 'logs', '--run-id', failed?.id ?? '']);
    expect(log).toMatch(/^\[check\] NODE_VERSION is 10\.0\.0, expected 9\.11\.2$/m);
    expect(log).not.toMatch(/^\[push\]/m);
    const shown = await ok(['task', 'show-run', '--run-id', failed?.id ?? '']);
    expect(shown).toMatch(/^check\s+cmd\s+Failed\s+\d\d:\d\d:\d\d\s+.*exited with code 1$/m);
    expect(shown).toMatch(/^push\s+push\s+Skipped\s*$/m);

    // The digest was tried: the same notification again, five times, starts no run.
    const manifestPush = recorder.deliveries.slice(before).find((d) => d.body.toString().includes('"9-alpine"') && d.body.toString().includes(rejected));
    expect(manifestPush).toBeDefined();
    const count = (await taskRuns()).length;
    for (let i = 0; i < 5; i += 1) {
      const answer = await fetch(`${stack.url}${manifestPush?.path}`, { method: 'POST', headers: manifestPush?.headers, body: new Uint8Array(manifestPush?.body ?? Buffer.alloc(0)) });
      expect(answer.status).toBe(202);
    }
    await stack.idle();
    expect((await taskRuns()).length).toBe(count);
    const edge = (JSON.parse(await ok(['task', 'show', '--name', 'checked', '--output', 'json'])) as { dependencies: Array<{ repository: string; lastTriggeredDigest?: string }> }).dependencies.find(
      (d) => d.repository === 'baseimages/node',
    );
    expect(edge?.lastTriggeredDigest).toBe(rejected);
  });
});
