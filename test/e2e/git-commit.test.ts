// A GitHub push delivery starts a Git Commit run that really clones and builds the pushed
// commit. The task's context names a GitHub URL; git's `url.<base>.insteadOf` sends the clone to
// a local bare repository, so nothing leaves the machine.
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import type { Run } from '../../lib/domain/types';
import { RegistryClient } from '../../lib/images/registry-client';
import { startLocalStack, type LocalStack } from '../../lib/local/stack';
import { startRegistry, type RegistryProcess } from '../../lib/local/registry-process';
import { BUSYBOX } from '../../lib/local/tutorial-files';
import { rememberSecrets } from '../support/secrets';

jest.setTimeout(180_000);

const exec = promisify(execFile);
const REPO_URL = 'https://github.com/example/hello-app.git';

let work: string;
let stack: LocalStack;
let registry: RegistryProcess;
let checkout: string;
let savedGitConfig: string | undefined;
let hook: { url: string; secret: string };

const gitEnv = () => ({
  ...process.env,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.com',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.com',
});
const git = async (args: string[], cwd: string) => (await exec('git', args, { cwd, env: gitEnv() })).stdout.trim();

async function commit(version: string): Promise<string> {
  await writeFile(join(checkout, 'VERSION'), `${version}\n`);
  await git(['commit', '--quiet', '-am', `version ${version}`], checkout);
  await git(['push', '--quiet', 'origin', 'main'], checkout);
  return git(['rev-parse', 'HEAD'], checkout);
}

/** The content of `path` in the image's last layer (the `COPY . /app`). */
async function fileInImage(tag: string, path: string): Promise<string | undefined> {
  const client = new RegistryClient();
  const manifest = await client.getManifest({ registry: registry.host, repository: 'hello', tag });
  const layers = (manifest.content as { layers: Array<{ digest: string }> }).layers;
  const last = layers[layers.length - 1] as { digest: string };
  const blob = await fetch(`${registry.url}/v2/hello/blobs/${last.digest}`);
  const tar = gunzipSync(Buffer.from(await blob.arrayBuffer()));
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const name = tar.subarray(offset, offset + 100).toString().replace(/\0.*$/s, '');
    if (!name) break;
    const size = parseInt(tar.subarray(offset + 124, offset + 136).toString().replace(/\0.*$/s, '').trim() || '0', 8);
    if (name.replace(/^\.?\//, '') === path) return tar.subarray(offset + 512, offset + 512 + size).toString();
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return undefined;
}

function push(after: string, delivery: string, ref = 'refs/heads/main'): Promise<Response> {
  const body = JSON.stringify({
    ref,
    before: '0'.repeat(40),
    after,
    deleted: false,
    repository: { full_name: 'example/hello-app', clone_url: REPO_URL, html_url: 'https://github.com/example/hello-app' },
  });
  return fetch(hook.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': delivery,
      'x-hub-signature-256': `sha256=${createHmac('sha256', hook.secret).update(body).digest('hex')}`,
    },
    body,
  });
}

async function gitCommitRuns(): Promise<Run[]> {
  return (await stack.cascade.runs.list({ taskName: 'hello', top: 50 })).filter((r) => r.trigger === 'Git Commit');
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cascade-git-'));
  const bare = join(work, 'hello-app.git');
  checkout = join(work, 'checkout');
  await exec('git', ['init', '--quiet', '--bare', '--initial-branch', 'main', bare]);
  await exec('git', ['clone', '--quiet', bare, checkout]);
  await git(['checkout', '--quiet', '-b', 'main'], checkout);
  await exec('cp', [BUSYBOX, join(checkout, 'busybox')]);
  await writeFile(join(checkout, 'Dockerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY VERSION /app/VERSION\n');
  await writeFile(join(checkout, 'VERSION'), 'v1\n');
  await git(['add', '.'], checkout);
  await git(['commit', '--quiet', '-m', 'first'], checkout);
  await git(['push', '--quiet', 'origin', 'main'], checkout);

  // The clone of the GitHub URL, by cascade and by buildah's builder, lands on the local repository.
  const gitconfig = join(work, 'gitconfig');
  await writeFile(gitconfig, `[url "file://${bare}"]\n\tinsteadOf = ${REPO_URL}\n`);
  savedGitConfig = process.env.GIT_CONFIG_GLOBAL;
  process.env.GIT_CONFIG_GLOBAL = gitconfig;

  registry = await startRegistry();
  stack = await startLocalStack({ port: 0, dataDir: join(work, 'cascade'), inMemory: true, log: (line) => console.log(line) });
  hook = await stack.cascade.webhooks.create({ name: 'github', provider: 'github' });
  rememberSecrets(hook.secret);
  await stack.cascade.tasks.create({
    name: 'hello', registry: registry.host, images: ['hello:{{.Run.Commit}}'], context: `${REPO_URL}#main`, file: 'Dockerfile',
    args: {}, platform: 'linux/amd64', status: 'Enabled', baseImageTriggerEnabled: true, baseImageTriggerType: 'Runtime', commitTriggerEnabled: true,
  });
});

afterAll(async () => {
  await stack?.stop();
  await registry?.stop();
  if (savedGitConfig === undefined) delete process.env.GIT_CONFIG_GLOBAL;
  else process.env.GIT_CONFIG_GLOBAL = savedGitConfig;
  if (work) await rm(work, { recursive: true, force: true });
});

it('builds the pushed commit, tagged with {{.Run.Commit}}, once per commit', async () => {
  const first = await git(['rev-parse', 'HEAD'], checkout);
  const second = await commit('v2');
  // The branch has moved on past the commit the delivery names: the run must build that commit.
  await commit('v3');

  const answer = await push(second, 'delivery-1');
  expect(answer.status).toBe(202);
  expect(await answer.json()).toEqual({ accepted: 1, ignored: [] });
  expect((await push(second, 'delivery-1-again')).status).toBe(202);
  expect((await push(first, 'delivery-tag', 'refs/tags/v1')).status).toBe(202);
  await stack.idle();

  const runs = await gitCommitRuns();
  expect(runs.map((r) => [r.commit, r.branch, r.status])).toEqual([[second, 'main', 'Succeeded']]);
  const [run] = runs as [Run];
  expect(run.outputImages.map((o) => o.reference)).toEqual([`${registry.host}/hello:${second}`]);
  expect(await fileInImage(second, 'app/VERSION')).toBe('v2\n');
  expect(await stack.cascade.runs.log(run.id)).toContain(second);
});

it('answers a ping with 200 and starts nothing', async () => {
  const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1, hook: { type: 'Repository', id: 1, events: ['push'] } });
  const answer = await fetch(hook.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'ping',
      'x-hub-signature-256': `sha256=${createHmac('sha256', hook.secret).update(body).digest('hex')}`,
    },
    body,
  });
  expect(answer.status).toBe(200);
  expect(await answer.json()).toEqual({ accepted: 0, ignored: [{ reason: 'ping' }] });
});
