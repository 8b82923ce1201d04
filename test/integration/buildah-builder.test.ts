// The local builder against real registries (CNCF distribution with htpasswd auth) and real
// buildah, in a private storage root. The base image is built by the builder itself from a
// local folder (FROM scratch + the host's static busybox), then an app is built on it from a
// git repository, as in the tutorial.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildahBuilder, type BuildahBuilderOptions } from '../../lib/adapters/buildah-builder';
import { FileLogStore } from '../../lib/adapters/file-log-store';
import { FileSecretStore } from '../../lib/adapters/file-secret-store';
import { analyzeDockerfile } from '../../lib/dockerfile/analyze';
import type { BuildResult, BuildSpec } from '../../lib/domain/types';
import { parseImageReference } from '../../lib/images/reference';
import { RegistryClient } from '../../lib/images/registry-client';
import { freePort } from '../../lib/local/free-port';
import { startRegistry, type RegistryProcess } from '../../lib/local/registry-process';

jest.setTimeout(60_000);

const BASE_ADMIN = { username: 'admin', password: 'base-admin-Pw-7f3a9c' };
const BASE_READER = { username: 'reader', password: 'base-reader-Pw-2b8e41' };
const APP_PUSHER = { username: 'app', password: 'app-pusher-Pw-91d0c5' };
const BASE_TAG = 'baseimages/node:9-alpine';

let root: string;
let baseRegistry: RegistryProcess;
let appRegistry: RegistryProcess;
let secrets: FileSecretStore;
let logs: FileLogStore;
let builder: BuildahBuilder;
let workDir: string;
let storageRoot: string;
let gitRepo: string;
let readerRef: string;
let baseDigest: string;
const results = new Map<string, BuildResult[]>();
const waiters = new Map<string, (r: BuildResult) => void>();
let runCounter = 0;

const registryClient = new RegistryClient({
  credentials: async (host) => {
    if (host === baseRegistry.host) return BASE_ADMIN;
    if (host === appRegistry.host) return APP_PUSHER;
    return undefined;
  },
});

function builderOptions(overrides: Partial<BuildahBuilderOptions> = {}): BuildahBuilderOptions {
  return {
    workDir,
    storageRoot,
    secrets,
    logs,
    onResult: async (result) => {
      results.set(result.runId, [...(results.get(result.runId) ?? []), result]);
      waiters.get(result.runId)?.(result);
    },
    pushCredentials: async (host) => (host === baseRegistry.host ? BASE_ADMIN : host === appRegistry.host ? APP_PUSHER : undefined),
    ...overrides,
  };
}

function nextRunId(): string {
  runCounter += 1;
  return `t${runCounter}`;
}

/** Starts a build and waits for its one result. */
async function build(spec: BuildSpec, on: BuildahBuilder = builder): Promise<{ runId: string; result: BuildResult; log: string }> {
  const runId = nextRunId();
  const done = new Promise<BuildResult>((resolve) => waiters.set(runId, resolve));
  await on.start({ runId, spec });
  const result = await done;
  await on.idle();
  return { runId, result, log: await logs.read(runId) };
}

function appSpec(overrides: Partial<BuildSpec> = {}): BuildSpec {
  return {
    registry: appRegistry.host,
    images: [`helloworld:${runCounter + 1}`],
    context: { kind: 'git', url: `file://${gitRepo}`, branch: 'main', folder: '.' },
    dockerfile: 'Dockerfile-app',
    buildArgs: { REGISTRY_NAME: baseRegistry.host },
    platform: 'linux/amd64',
    credentials: [{ kind: 'basic', loginServer: baseRegistry.host, username: BASE_READER.username, secretRef: readerRef }],
    ...overrides,
  };
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' }).trim();
}

function expectNoSecrets(text: string): void {
  for (const { username, password } of [BASE_ADMIN, BASE_READER, APP_PUSHER]) {
    expect(text).not.toContain(password);
    expect(text).not.toContain(Buffer.from(`${username}:${password}`).toString('base64'));
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cascade-buildah-'));
  workDir = join(root, 'work');
  storageRoot = join(root, 'storage');
  [baseRegistry, appRegistry] = await Promise.all([
    startRegistry({ users: { [BASE_ADMIN.username]: BASE_ADMIN.password, [BASE_READER.username]: BASE_READER.password } }),
    startRegistry({ users: { [APP_PUSHER.username]: APP_PUSHER.password } }),
  ]);
  secrets = new FileSecretStore({ dataDir: join(root, 'data') });
  logs = new FileLogStore({ dataDir: join(root, 'data') });
  readerRef = await secrets.put(`task/hello/${baseRegistry.host}`, BASE_READER.password);
  builder = new BuildahBuilder(builderOptions());

  const baseDir = join(root, 'base');
  mkdirSync(baseDir);
  copyFileSync('/bin/busybox', join(baseDir, 'busybox'));
  writeFileSync(
    join(baseDir, 'Dockerfile'),
    'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox","--install","-s","/bin"]\nENV NODE_VERSION 9.11.1\n',
  );
  const base = await build({
    registry: baseRegistry.host,
    images: [BASE_TAG],
    context: { kind: 'local', path: baseDir },
    dockerfile: 'Dockerfile',
    buildArgs: {},
    platform: 'linux/amd64',
    credentials: [],
  });
  if (base.result.status !== 'Succeeded') throw new Error(`base build: ${base.result.error}\n${base.log}`);
  baseDigest = (await registryClient.headManifestDigest(parseImageReference(`${baseRegistry.host}/${BASE_TAG}`))).digest;
  expect(base.result.outputImages).toEqual([{ reference: `${baseRegistry.host}/${BASE_TAG}`, digest: baseDigest }]);
  expect(base.result.baseImages).toEqual([]);

  gitRepo = join(root, 'app-repo');
  mkdirSync(gitRepo);
  writeFileSync(
    join(gitRepo, 'Dockerfile-app'),
    'ARG REGISTRY_NAME\nFROM ${REGISTRY_NAME}/baseimages/node:9-alpine\nRUN echo hello > /hello.txt\n',
  );
  writeFileSync(join(gitRepo, 'Dockerfile-nofrom'), 'ARG X\nRUN true\n');
  writeFileSync(join(gitRepo, 'Dockerfile-slow'), 'ARG REGISTRY_NAME\nFROM ${REGISTRY_NAME}/baseimages/node:9-alpine\nRUN sleep 600\n');
  git(gitRepo, 'init', '--quiet', '--initial-branch', 'main');
  git(gitRepo, 'add', '.');
  git(gitRepo, 'commit', '--quiet', '-m', 'app');
});

afterAll(async () => {
  await builder?.stop();
  await Promise.all([baseRegistry?.stop(), appRegistry?.stop()]);
  if (root) await rm(root, { recursive: true, force: true });
});

describe('BuildahBuilder', () => {
  it('builds the app from git on the pulled base, records the base digest and pushes', async () => {
    const commit = git(gitRepo, 'rev-parse', 'HEAD');
    const { runId, result, log } = await build(appSpec());

    expect(result).toMatchObject({ runId, status: 'Succeeded' });
    expect(result.error).toBeUndefined();
    expect(result.baseImages).toEqual([
      { registry: baseRegistry.host, repository: 'baseimages/node', tag: '9-alpine', digest: baseDigest, stage: 'runtime', pinned: false },
    ]);
    const [output] = result.outputImages;
    const outputRef = parseImageReference(output?.reference ?? '');
    expect(output?.reference).toBe(`${appRegistry.host}/helloworld:${runId.slice(1)}`);
    expect(output?.digest).toBe((await registryClient.headManifestDigest(outputRef)).digest);
    // The base's ENV reaches the app: it was built on that base.
    expect((await registryClient.getImageConfig(outputRef)).config?.Env).toContain('NODE_VERSION=9.11.1');

    expect(log).toContain(`commit: ${commit}`);
    expect(log).toContain(`${baseRegistry.host}/${BASE_TAG} is ${baseDigest}`);
    expectNoSecrets(log);
    expect(results.get(runId)).toHaveLength(1);
    expect(await readdir(workDir)).toEqual([]);
  });

  it('runs two builds at once in one storage root', async () => {
    const [a, b] = await Promise.all([build(appSpec({ images: ['together:a'] })), build(appSpec({ images: ['together:b'] }))]);
    for (const { result } of [a, b]) {
      expect(result.status).toBe('Succeeded');
      expect(result.baseImages.map((i) => i.digest)).toEqual([baseDigest]);
    }
    expect(a.result.outputImages[0]?.reference).toBe(`${appRegistry.host}/together:a`);
    expect(b.result.outputImages[0]?.reference).toBe(`${appRegistry.host}/together:b`);
    expect(await readdir(workDir)).toEqual([]);
  });

  it('builds on a pinned base: the digest in the FROM is the one recorded', async () => {
    const spec = appSpec({ context: { kind: 'local', path: join(root, 'pinned') } });
    mkdirSync(join(root, 'pinned'));
    writeFileSync(join(root, 'pinned', 'Dockerfile-app'), `FROM ${baseRegistry.host}/${BASE_TAG}@${baseDigest}\nRUN true\n`);
    const { result } = await build(spec);
    expect(result.status).toBe('Succeeded');
    expect(result.baseImages).toEqual([
      { registry: baseRegistry.host, repository: 'baseimages/node', tag: '9-alpine', digest: baseDigest, stage: 'runtime', pinned: true },
    ]);
  });

  it('fails with the registry reason when the pull credential is wrong', async () => {
    const wrongRef = await secrets.put('task/wrong', 'not-the-Password-55');
    const { runId, result, log } = await build(
      appSpec({ credentials: [{ kind: 'basic', loginServer: baseRegistry.host, username: 'reader', secretRef: wrongRef }] }),
    );
    expect(result.status).toBe('Failed');
    expect(result.error).toBe(`pulling ${baseRegistry.host}/${BASE_TAG} failed: unauthorized: authentication required`);
    expect(result.outputImages).toEqual([]);
    expect(log).toContain('unauthorized');
    expect(log).not.toContain('not-the-Password-55');
    expectNoSecrets(log);
    expect(results.get(runId)).toHaveLength(1);
  });

  it('fails naming the host when the base registry cannot be reached', async () => {
    const unreachable = `127.0.0.1:${await freePort()}`;
    // That it gives up after one quick retry is container-tools.test.ts's check of the pull's arguments.
    const { result } = await build(appSpec({ buildArgs: { REGISTRY_NAME: unreachable } }));
    expect(result.status).toBe('Failed');
    expect(result.error).toBe(`pulling ${unreachable}/${BASE_TAG} failed: cannot reach ${unreachable}: connection refused`);
  });

  it('fails with the Dockerfile error when the Dockerfile has no FROM', async () => {
    let expected = '';
    try {
      analyzeDockerfile('ARG X\nRUN true\n', {});
    } catch (err) {
      expected = (err as Error).message;
    }
    expect(expected).not.toBe('');
    const { result, log } = await build(appSpec({ dockerfile: 'Dockerfile-nofrom' }));
    expect(result).toMatchObject({ status: 'Failed', error: expected });
    expect(log).toContain(expected);
  });

  it.each([
    ['a Dockerfile outside the context', { dockerfile: '../../etc/passwd' }, /outside the build context/],
    ['a missing branch', { context: { kind: 'git' as const, url: '', branch: 'nope', folder: '.' } }, /^cloning .* \(branch nope\) failed: /],
    ['a missing folder', { context: { kind: 'git' as const, url: '', branch: 'main', folder: 'sub' } }, /the folder sub does not exist/],
    [
      'an AWS identity credential',
      { credentials: [{ kind: 'identity' as const, loginServer: 'x.example', roleArn: 'arn:aws:iam::1:role/pull' }] },
      /uses the AWS role arn:aws:iam::1:role\/pull, which only builds on AWS CodeBuild can assume/,
    ],
    [
      'a credential whose secret is gone',
      { credentials: [{ kind: 'basic' as const, loginServer: 'x.example', username: 'u', secretRef: 'local:gone' }] },
      /missing from the secret store/,
    ],
  ])('fails before building with %s', async (_name, overrides, error) => {
    const spec = appSpec(overrides);
    if (spec.context.kind === 'git' && spec.context.url === '') spec.context.url = `file://${gitRepo}`;
    const { runId, result } = await build(spec);
    expect(result.status).toBe('Failed');
    expect(result.error).toMatch(error);
    expect(results.get(runId)).toHaveLength(1);
  });

  it('reports Error, once, when buildah is not installed', async () => {
    const broken = new BuildahBuilder(builderOptions({ buildahPath: join(root, 'no-such-buildah') }));
    const { runId, result } = await build(appSpec(), broken);
    expect(result.status).toBe('Error');
    expect(result.error).toMatch(/cannot run .*no-such-buildah: not found/);
    expect(results.get(runId)).toHaveLength(1);
  });

  it('times out, killing the build, and cancels on request', async () => {
    const slow = new BuildahBuilder(builderOptions({ timeoutMs: 3_000 }));
    try {
      // Dockerfile-slow sleeps longer than this test may take: only a build that is killed ends in time.
      const timedOut = await build(appSpec({ dockerfile: 'Dockerfile-slow' }), slow);
      expect(timedOut.result).toMatchObject({ status: 'Timeout', error: 'the build did not finish within 3 seconds' });

      const runId = `t${runCounter + 1}`;
      runCounter += 1;
      const done = new Promise<BuildResult>((resolve) => waiters.set(runId, resolve));
      const { buildId } = await builder.start({ runId, spec: appSpec({ dockerfile: 'Dockerfile-slow' }) });
      // Cancel once the slow RUN step is under way.
      while (!(await logs.read(runId)).includes('sleep 600')) await new Promise((r) => setTimeout(r, 100));
      await builder.cancel(buildId);
      expect(await done).toMatchObject({ status: 'Canceled', error: 'the build was canceled' });
      await builder.idle();
      expect(results.get(runId)).toHaveLength(1);
      expect(await readdir(workDir)).toEqual([]);
    } finally {
      await slow.stop();
    }
  });
});
