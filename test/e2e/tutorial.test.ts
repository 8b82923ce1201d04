// The tutorial end to end: real registries (CNCF distribution), real buildah, DynamoDB Local,
// the local stack's HTTP server and the `cascade` command line.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Run } from '../../lib/domain/types';
import { RegistryClient } from '../../lib/images/registry-client';
import { startLocalStack, type LocalStack } from '../../lib/local/stack';
import { runCli, succeeding, type CliResult } from '../unit/cli/api-double';
import { startRegistry, type RegistryProcess } from '../../lib/local/registry-process';
import { createAppRepository, writeBaseContext } from '../../lib/local/tutorial-files';
import { startForwardingRecorder, type ForwardingRecorder } from '../support/forwarding-recorder';
import { newSecret, rememberSecrets } from '../support/secrets';
import { waitFor } from '../support/wait-for';

jest.setTimeout(240_000);

let work: string;
let stack: LocalStack;
let recorder: ForwardingRecorder;
let base: RegistryProcess;
let app: RegistryProcess;
let repo: string;
let baseContext: string;
const password = { basePush: newSecret(), basePull: newSecret(), appPush: newSecret() };
const logLines: string[] = [];
rememberSecrets(...Object.values(password));

function cascade(args: string[], stdin = ''): Promise<CliResult> {
  return runCli(args, { api: stack.url, stdin, pollIntervalMs: 100 });
}

const ok = succeeding(cascade);

async function runs(): Promise<Run[]> {
  return JSON.parse(await ok(['task', 'list-runs', '--top', '100', '--output', 'json'])) as Run[];
}

function createTask(name: string, extra: string[] = []): Promise<string> {
  return ok([
    'task', 'create', '--name', name, '--registry', app.host, '--image', 'helloworld:{{.Run.ID}}',
    '--context', `${repo}#main`, '--file', 'Dockerfile-app', '--arg', `REGISTRY_NAME=${base.host}`, ...extra,
  ]);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cascade-e2e-'));
  stack = await startLocalStack({ port: 0, dataDir: join(work, 'cascade'), log: (line) => {
    logLines.push(line);
    console.log(line);
  } });
  recorder = await startForwardingRecorder(() => stack.url);
  const webhook = JSON.parse(await ok(['webhook', 'create', '--name', 'baseregistry', '--provider', 'distribution', '--output', 'json'])) as {
    url: string;
    secret: string;
  };
  rememberSecrets(webhook.secret);
  base = await startRegistry({
    users: { basepush: password.basePush, basepull: password.basePull },
    notify: { url: webhook.url.replace(stack.url, recorder.url), headers: { Authorization: `Bearer ${webhook.secret}` } },
  });
  app = await startRegistry({ users: { apppush: password.appPush } });
  await ok(['registry', 'login', base.host, '--username', 'basepush', '--password-stdin'], password.basePush);
  await ok(['registry', 'login', app.host, '--username', 'apppush', '--password-stdin'], password.appPush);
  repo = await createAppRepository(join(work, 'git'));
  baseContext = await writeBaseContext(join(work, 'base'), '9.11.2');
  await ok(['build', '--registry', base.host, '--image', 'baseimages/node:9-alpine', '--file', 'Dockerfile-base', baseContext]);
});

afterAll(async () => {
  await stack?.stop();
  await recorder?.close();
  await base?.stop();
  await app?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the tutorial', () => {
  const baseRef = () => ({ registry: base.host, repository: 'baseimages/node', tag: '9-alpine' });
  const pullClient = () => new RegistryClient({ credentials: async () => ({ username: 'basepull', password: password.basePull }) });
  let manualRuns: Run[];

  it('runs each task once by hand and records its dependency on the base', async () => {
    for (const name of ['helloworld', 'helloworld2']) {
      await createTask(name);
      await ok(['task', 'credential', 'add', '--name', name, '--login-server', base.host, '--username', 'basepull', '--password-stdin'], password.basePull);
      expect(await ok(['task', 'show', '--name', name])).toMatch(/not captured yet/);
      expect((await cascade(['task', 'run', '--name', name])).code).toBe(0);
    }
    const baseDigest = (await pullClient().headManifestDigest(baseRef())).digest;
    manualRuns = (await runs()).filter((r) => r.taskName);
    expect(manualRuns.map((r) => [r.taskName, r.trigger, r.status])).toEqual([
      ['helloworld2', 'Manual', 'Succeeded'],
      ['helloworld', 'Manual', 'Succeeded'],
    ]);
    for (const run of manualRuns) {
      expect(run.baseImages).toEqual([
        { registry: base.host, repository: 'baseimages/node', tag: '9-alpine', digest: baseDigest, stage: 'runtime', pinned: false },
      ]);
    }
    const shown = JSON.parse(await ok(['task', 'show', '--name', 'helloworld', '--output', 'json'])) as {
      dependenciesCaptured: boolean;
      dependencies: Array<{ digest: string; stage: string }>;
    };
    expect(shown.dependenciesCaptured).toBe(true);
    expect(shown.dependencies).toEqual([expect.objectContaining({ digest: baseDigest, stage: 'runtime', tag: '9-alpine' })]);
  });

  it('rebuilds every dependent task once, with trigger Image Update, when the base is pushed again', async () => {
    const oldDigest = (await pullClient().headManifestDigest(baseRef())).digest;
    await writeBaseContext(baseContext, '9.11.2a');
    const before = recorder.deliveries.length;
    await ok(['build', '--registry', base.host, '--image', 'baseimages/node:9-alpine', '--file', 'Dockerfile-base', baseContext]);
    const newDigest = (await pullClient().headManifestDigest(baseRef())).digest;
    expect(newDigest).not.toBe(oldDigest);

    const updates = await waitFor(
      'two finished Image Update runs',
      async () => {
        const found = (await runs()).filter((r) => r.trigger === 'Image Update');
        return found.length === 2 && found.every((r) => r.status !== 'Queued' && r.status !== 'Running') ? found : undefined;
      },
      30_000,
    );
    expect(updates.map((r) => [r.taskName, r.status]).sort()).toEqual([
      ['helloworld', 'Succeeded'],
      ['helloworld2', 'Succeeded'],
    ]);
    for (const run of updates) {
      expect(run.cause).toEqual(
        expect.objectContaining({ kind: 'image-update', base: `${base.host}/baseimages/node:9-alpine`, oldDigest, newDigest }),
      );
      const output = run.outputImages[0];
      expect(output?.reference).toBe(`${app.host}/helloworld:${run.id}`);
      const appClient = new RegistryClient({ credentials: async () => ({ username: 'apppush', password: password.appPush }) });
      const config = await appClient.getImageConfig({ registry: app.host, repository: 'helloworld', tag: run.id });
      expect(config.config?.Env).toContain('NODE_VERSION=9.11.2a');
    }

    // The same notification, delivered five more times, starts nothing.
    const manifestPush = recorder.deliveries
      .slice(before)
      .find((d) => d.body.toString().includes('"9-alpine"') && d.body.toString().includes('manifest'));
    expect(manifestPush).toBeDefined();
    const count = (await runs()).length;
    for (let i = 0; i < 5; i += 1) {
      const answer = await fetch(`${stack.url}${manifestPush?.path}`, { method: 'POST', headers: manifestPush?.headers, body: new Uint8Array(manifestPush?.body ?? Buffer.alloc(0)) });
      expect(answer.status).toBe(202);
    }
    await stack.idle();
    expect((await runs()).length).toBe(count);

    const table = await ok(['task', 'list-runs']);
    expect(table.split('\n')[0]).toMatch(/^RUN ID\s+TASK\s+PLATFORM\s+STATUS\s+TRIGGER\s+STARTED\s+DURATION\s*$/);
  });
});

describe('bad input', () => {
  it('refuses a run of an unknown task', async () => {
    const result = await cascade(['task', 'run', '--name', 'nosuchtask']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/task "nosuchtask" was not found/);
  });

  it.each([
    ['an invalid image reference', ['--image', 'Hello World:1'], /invalid image reference/],
    ['an unknown template variable', ['--image', 'helloworld:{{.Run.Nope}}'], /unknown template variable \{\{\.Run\.Nope\}\}/],
  ])('refuses a task with %s and writes nothing', async (_what, flags, message) => {
    const before = await ok(['task', 'list', '--output', 'json']);
    const result = await cascade([
      'task', 'create', '--name', 'badtask', '--registry', app.host, ...flags, '--context', `${repo}#main`, '--file', 'Dockerfile-app',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(await ok(['task', 'list', '--output', 'json'])).toBe(before);
  });

  it('refuses a Dockerfile without FROM, for a task and for a quick build, and writes nothing', async () => {
    const dir = join(work, 'nofrom');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'Dockerfile'), 'RUN echo hello\n');
    const runsBefore = (await runs()).length;
    const task = await cascade(['task', 'create', '--name', 'nofrom', '--registry', app.host, '--image', 'x:1', '--context', dir]);
    expect(task.code).toBe(1);
    expect(task.stderr).toMatch(/FROM/);
    const build = await cascade(['build', '--registry', app.host, '--image', 'x:1', dir]);
    expect(build.code).toBe(1);
    expect(build.stderr).toMatch(/FROM/);
    expect((await cascade(['task', 'show', '--name', 'nofrom'])).code).toBe(1);
    expect((await runs()).length).toBe(runsBefore);
  });

  it('fails the run with the reason when the base registry is unreachable', async () => {
    await ok([
      'task', 'create', '--name', 'unreachable', '--registry', app.host, '--image', 'helloworld:{{.Run.ID}}',
      '--context', `${repo}#main`, '--file', 'Dockerfile-app', '--arg', 'REGISTRY_NAME=127.0.0.1:9',
    ]);
    const result = await cascade(['task', 'run', '--name', 'unreachable']);
    expect(result.code).toBe(1);
    const [run] = (JSON.parse(await ok(['task', 'list-runs', '--name', 'unreachable', '--output', 'json'])) as Run[]);
    expect(run?.status).toBe('Failed');
    expect(run?.error).toMatch(/127\.0\.0\.1:9.*(connection refused|cannot reach)/);
    expect(await ok(['task', 'logs', '--run-id', run?.id ?? ''])).toMatch(/connection refused/);
  });

  it('fails the run with the registry reason when the base credentials are wrong', async () => {
    await createTask('wrongcreds');
    await ok(['task', 'credential', 'add', '--name', 'wrongcreds', '--login-server', base.host, '--username', 'basepull', '--password-stdin'], 'not-the-password');
    const result = await cascade(['task', 'run', '--name', 'wrongcreds']);
    expect(result.code).toBe(1);
    const [run] = (JSON.parse(await ok(['task', 'list-runs', '--name', 'wrongcreds', '--output', 'json'])) as Run[]);
    expect(run?.status).toBe('Failed');
    expect(run?.error).toMatch(/unauthorized/);
    const log = await ok(['task', 'logs', '--run-id', run?.id ?? '']);
    expect(log).toMatch(/unauthorized/);
    expect(log).not.toContain('not-the-password');
  });

  it('never wrote a configured secret into a log line of the stack', () => {
    const all = logLines.join('\n');
    for (const value of Object.values(password)) expect(all).not.toContain(value);
  });
});
