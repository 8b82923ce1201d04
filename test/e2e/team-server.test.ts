// `cascade up` for a team: listening on every interface (the test still talks to it through
// 127.0.0.1 only), it asks API callers for a token, answers only for its own names, and a
// registry's notifications, which carry their webhook's own secret, still start builds.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Run } from '../../lib/domain/types';
import { apiRoutes, webhookRoutes } from '../../lib/http/api-routes';
import { freePort } from '../../lib/local/free-port';
import { startRegistry, type RegistryProcess } from '../../lib/local/registry-process';
import { tokenRoutes } from '../../lib/local/token-routes';
import { createAppRepository, writeBaseContext } from '../../lib/local/tutorial-files';
import { newSecret, rememberSecrets } from '../support/secrets';
import { waitFor } from '../support/wait-for';
import { runCli, succeeding, type CliResult } from '../unit/cli/api-double';

jest.setTimeout(300_000);

const CASCADE = resolve(__dirname, '../../bin/cascade');

let work: string;
let dataDir: string;
let port: number;
let api: string;
let up: ChildProcess | undefined;
let upOutput = '';
let base: RegistryProcess;
let app: RegistryProcess;
const password = { basePush: newSecret(), basePull: newSecret(), appPush: newSecret() };
rememberSecrets(...Object.values(password));

/** The CLI as a person on this machine runs it: CASCADE_TOKEN when given, and its own config folder. */
function cascade(args: string[], options: { token?: string; stdin?: string } = {}): Promise<CliResult> {
  const env: Record<string, string> = { XDG_CONFIG_HOME: join(work, 'config') };
  if (options.token !== undefined) env.CASCADE_TOKEN = options.token;
  return runCli(args, { api, stdin: options.stdin, env, pollIntervalMs: 100 });
}

const ok = succeeding(cascade);

/** `cascade up` as its own process, listening on all interfaces; resolves with its exit code if it ends within `settleMs`. */
async function startUp(extra: string[] = [], settleMs = 60_000): Promise<number | undefined> {
  upOutput = '';
  const child = spawn(CASCADE, ['up', '--host', '0.0.0.0', '--port', String(port), '--data-dir', dataDir, '--poll-interval', '0', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => (upOutput += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (upOutput += c.toString()));
  const exited = new Promise<number>((done) => child.once('exit', (code) => done(code ?? -1)));
  const deadline = Date.now() + settleMs;
  for (;;) {
    const code = await Promise.race([exited, sleep(200).then(() => undefined)]);
    if (code !== undefined) return code;
    if (/cascade is up at/.test(upOutput)) {
      up = child;
      return undefined;
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`cascade up did not start within ${settleMs} ms:\n${upOutput}`);
    }
  }
}

async function stopUp(): Promise<void> {
  const child = up;
  up = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(20_000).then(() => child.kill('SIGKILL'))]);
}

/** A request with a Host header of our choosing (fetch does not allow one). */
function send(method: string, path: string, headers: Record<string, string>, body = ''): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request(`${api}${path}`, { method, agent: false, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => done({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cascade-team-'));
  dataDir = join(work, 'cascade');
  port = await freePort('0.0.0.0');
  api = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await stopUp();
  await base?.stop();
  await app?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('cascade up --host 0.0.0.0', () => {
  let token: string;

  it('refuses to start while no API token exists, and says how to make one', async () => {
    expect(await startUp()).toBe(1);
    expect(upOutput).toContain('reachable from other machines, and no API token exists');
    expect(upOutput).toContain(`cascade token create --name NAME --data-dir ${dataDir}`);
  });

  it('starts with --insecure-no-auth, and then asks nobody for a token', async () => {
    expect(await startUp(['--insecure-no-auth'])).toBeUndefined();
    expect(upOutput).toContain('--insecure-no-auth: anyone who can reach');
    expect(JSON.parse(await ok(['task', 'list', '--output', 'json']))).toEqual([]);
    await stopUp();
  });

  it('starts once a token exists in the data folder', async () => {
    const created = JSON.parse(await ok(['token', 'create', '--name', 'ci', '--data-dir', dataDir, '--output', 'json'])) as { token: string; name: string };
    token = created.token;
    rememberSecrets(token);
    expect(created.name).toBe('ci');
    expect(await startUp()).toBeUndefined();
  });

  it('answers 401 without a token, and the CLI says what to do', async () => {
    expect(await send('GET', '/api/tasks', { host: `127.0.0.1:${port}` })).toEqual({
      status: 401,
      body: expect.stringContaining('"code":"unauthorized"'),
    });
    const refused = await cascade(['task', 'list']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/requires an API token: set CASCADE_TOKEN, or save one with "cascade login --token-stdin"/);
    expect(await send('GET', '/api/tasks', { host: `127.0.0.1:${port}`, authorization: 'Bearer cascade_not-a-real-token' })).toEqual({
      status: 401,
      body: expect.stringContaining('not recognized'),
    });
  });

  it('works with the token, from CASCADE_TOKEN or from cascade login', async () => {
    expect(JSON.parse(await ok(['task', 'list', '--output', 'json'], { token }))).toEqual([]);
    expect(await ok(['login', '--token-stdin'], { stdin: `${token}\n` })).toMatch(/^Login Succeeded/);
    expect(JSON.parse(await ok(['token', 'list', '--output', 'json']))).toEqual([expect.objectContaining({ name: 'ci', hint: token.slice(0, 12) })]);
  });

  it('a registry webhook, with its own secret and no API token, still triggers a build', async () => {
    const webhook = JSON.parse(await ok(['webhook', 'create', '--name', 'baseregistry', '--provider', 'distribution', '--output', 'json'], { token })) as { url: string; secret: string };
    rememberSecrets(webhook.secret);
    expect(webhook.url.startsWith(`${api}/webhooks/baseregistry`)).toBe(true);
    base = await startRegistry({ users: { basepush: password.basePush, basepull: password.basePull }, notify: { url: webhook.url, headers: { Authorization: `Bearer ${webhook.secret}` } } });
    app = await startRegistry({ users: { apppush: password.appPush } });
    await ok(['registry', 'login', base.host, '--username', 'basepush', '--password-stdin'], { token, stdin: password.basePush });
    await ok(['registry', 'login', app.host, '--username', 'apppush', '--password-stdin'], { token, stdin: password.appPush });
    const repo = await createAppRepository(join(work, 'git'));
    const baseContext = await writeBaseContext(join(work, 'base'), '9.11.2');
    await ok(['build', '--registry', base.host, '--image', 'baseimages/node:9-alpine', '--file', 'Dockerfile-base', baseContext], { token });
    await ok(['task', 'create', '--name', 'helloworld', '--registry', app.host, '--image', 'helloworld:{{.Run.ID}}', '--context', `${repo}#main`, '--file', 'Dockerfile-app', '--arg', `REGISTRY_NAME=${base.host}`], { token });
    await ok(['task', 'credential', 'add', '--name', 'helloworld', '--login-server', base.host, '--username', 'basepull', '--password-stdin'], { token, stdin: password.basePull });
    await ok(['task', 'run', '--name', 'helloworld'], { token });

    await writeBaseContext(baseContext, '9.11.2a');
    await ok(['build', '--registry', base.host, '--image', 'baseimages/node:9-alpine', '--file', 'Dockerfile-base', baseContext], { token });
    const update = await waitFor(
      'a finished Image Update run',
      async () => {
        const runs = JSON.parse(await ok(['task', 'list-runs', '--name', 'helloworld', '--output', 'json'], { token })) as Run[];
        return runs.find((r) => r.trigger === 'Image Update' && r.status !== 'Queued' && r.status !== 'Running');
      },
      120_000,
    );
    expect(update.status).toBe('Succeeded');
    expect(update.cause).toEqual(expect.objectContaining({ kind: 'image-update', base: `${base.host}/baseimages/node:9-alpine` }));
  });

  it('answers 421 on every route but /health for Host: evil.example, even with the token', async () => {
    const routes = [...apiRoutes, ...webhookRoutes, ...tokenRoutes].map((r) => ({ method: r.method, path: r.path.replace(/\{(\w+)\}/g, 'x') }));
    expect(routes.length).toBeGreaterThan(30);
    const answers = await Promise.all(
      routes.map(async ({ method, path }) => {
        const answer = await send(method, path, { host: 'evil.example', authorization: `Bearer ${token}`, 'content-type': 'application/json' }, '{}');
        return `${method} ${path} ${answer.status}`;
      }),
    );
    expect(answers).toEqual(routes.map(({ method, path }) => `${method} ${path} ${path === '/health' ? 200 : 421}`));
    expect((await send('GET', '/api/tasks', { host: `evil.example:${port}`, authorization: `Bearer ${token}` })).status).toBe(421);
    expect((await send('GET', '/api/tasks', { host: `localhost:${port}`, authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it('a revoked token is refused at once, while the stack runs', async () => {
    await ok(['token', 'revoke', '--name', 'ci', '--data-dir', dataDir]);
    const refused = await cascade(['task', 'list'], { token });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/not recognized: it may have been revoked/);
    expect((await send('GET', '/api/tasks', { host: `127.0.0.1:${port}`, authorization: `Bearer ${token}` })).status).toBe(401);
    expect((await send('GET', '/health', { host: `127.0.0.1:${port}` })).status).toBe(200);
    // What the stack printed the whole time names the token nowhere.
    expect(upOutput).toContain('GET /api/tasks 401');
    expect(upOutput).not.toContain(token);
  });
});
