// `cascade console` for a deployed stack: the console on loopback, its API calls forwarded to
// CASCADE_API and signed with the user's AWS credentials (SigV4, as every CLI command signs).
// CASCADE_API here is the signature-checking gateway the CLI's own tests use (it recomputes each
// signature and refuses what does not verify), in front of a real local stack: the browser shows
// the stack's runs, holds no AWS key, and another origin cannot use the console's forwarding.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { Browser } from 'playwright-core';
import { FileLogStore } from '../../../lib/adapters/file-log-store';
import { CliContext } from '../../../lib/cli/cli-context';
import { startConsoleServer, type ConsoleServer } from '../../../lib/console/console-server';
import type { Run } from '../../../lib/domain/types';
import { startLocalStack, type LocalStack } from '../../../lib/local/stack';
import { launchChromium } from '../../support/chromium';
import { RecordingBuilder } from '../../support/recording-builder';
import { rememberSecrets } from '../../support/secrets';
import { waitFor } from '../../support/wait-for';
import { runCli, startApiDouble, type ApiDouble, type Handler } from '../../unit/cli/api-double';
import { behindIamAuthorization, verifySigV4 } from '../../unit/cli/iam-gateway';

jest.setTimeout(120_000);

const REGION = 'eu-west-1';
const credentials: AwsCredentialIdentity = {
  accessKeyId: 'AKIDCASCADECONSOLE01',
  secretAccessKey: 'cascade-console-secret/0123456789abcdef',
  sessionToken: 'cascade-console-session-token-0123456789',
};
rememberSecrets(credentials.secretAccessKey, credentials.sessionToken ?? '');

let work: string;
let stack: LocalStack;
let gateway: ApiDouble;
let server: ConsoleServer;
let browser: Browser;
let runs: Run[];

/** The local stack, as API Gateway would pass a verified request on to the API function. */
const toStack: Handler = async (req, wire) => {
  const answer = await fetch(`${stack.url}${wire.target}`, {
    method: wire.method,
    headers: wire.headers['content-type'] ? { 'content-type': wire.headers['content-type'] } : {},
    body: wire.bytes.length > 0 ? new Uint8Array(wire.bytes) : undefined,
  });
  const text = await answer.text();
  return (answer.headers.get('content-type') ?? '').startsWith('application/json') ? { status: answer.status, json: text === '' ? undefined : JSON.parse(text) } : { status: answer.status, text };
};

const deployedEnv = (api: string) => ({ CASCADE_API: api, CASCADE_API_AUTH: 'aws-iam', AWS_REGION: REGION });

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cascade-console-command-'));
  stack = await startLocalStack({
    port: 0,
    dataDir: join(work, 'stack'),
    inMemory: true,
    sources: null,
    pollIntervalSeconds: 0,
    timerTickMs: 0,
    log: () => undefined,
    builder: (onResult) => new RecordingBuilder({ report: onResult, finishEach: () => ({}) }),
  });
  const cli = async (args: string[]) => {
    const result = await runCli(args, { api: stack.url });
    if (result.code !== 0) throw new Error(`cascade ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  await cli(['task', 'create', '--name', 'app', '--registry', '127.0.0.1:5999', '--image', 'app:{{.Run.ID}}', '--context', 'https://git.example/app.git']);
  for (let i = 0; i < 2; i += 1) await cli(['task', 'run', '--name', 'app', '--no-wait']);
  runs = await waitFor('both runs to end', async () => {
    const listed = JSON.parse(await cli(['task', 'list-runs', '--output', 'json'])) as Run[];
    return listed.length === 2 && listed.every((r) => r.status === 'Succeeded') ? listed : undefined;
  }, 30_000);
  await new FileLogStore({ dataDir: join(work, 'stack') }).append(runs[0]?.id ?? '', 'step one\nstep two\n');

  gateway = await startApiDouble();
  gateway.reset(behindIamAuthorization({ credentials, region: REGION }, toStack));
  const ctx = new CliContext({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: deployedEnv(gateway.url), awsCredentials: async () => credentials });
  server = await startConsoleServer({ port: 0, api: ctx.api() });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await gateway?.close();
  await stack?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

function raw(path: string, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the console shows the stack’s runs through the signing forwarder; every call the gateway took was signed, and the page held no AWS key', async () => {
  gateway.wire.length = 0;
  const page = await browser.newPage();
  const pageRequests: Array<Record<string, string>> = [];
  page.on('request', (r) => pageRequests.push(r.headers()));
  try {
    await page.goto(`${server.url}/console/runs`);
    for (const run of runs) await page.locator(`tr[data-run-id="${run.id}"] .status-succeeded`).waitFor();
    const shown = await page.$$eval('table.runs-table tbody tr', (rows) => rows.map((row) => row.getAttribute('data-run-id')));
    expect(shown).toEqual(runs.map((r) => r.id));

    await page.goto(`${server.url}/console/runs/${runs[0]?.id}`);
    await page.waitForFunction(() => document.querySelector('pre.log')?.textContent === 'step one\nstep two\n');

    // A write goes through too, its body signed: the task page's run button.
    await page.goto(`${server.url}/console/tasks/app`);
    await page.getByRole('button', { name: 'Run task' }).click();
    await page.waitForURL(/\/console\/runs\/da3$/);
    await page.locator('h1 .status-succeeded').waitFor();
  } finally {
    await page.close();
  }
  expect(gateway.wire.length).toBeGreaterThan(3);
  for (const wire of gateway.wire) await expect(verifySigV4(wire, { credentials, region: REGION })).resolves.toMatchObject({ ok: true });
  expect(gateway.wire.some((w) => w.method === 'POST' && w.target === '/api/tasks/app/runs')).toBe(true);
  const leaked = pageRequests.filter((h) => Object.keys(h).some((name) => name === 'authorization' || name.startsWith('x-amz-')));
  expect(leaked).toEqual([]);
});

test('refuses API calls from another origin, and requests naming another host, before forwarding them', async () => {
  gateway.wire.length = 0;
  const host = `127.0.0.1:${server.port}`;
  const cases: Array<[string, Record<string, string>, string, number]> = [
    ['another site’s page (Origin)', { host, origin: 'http://evil.example' }, 'POST', 403],
    ['another site’s page (Sec-Fetch-Site)', { host, 'sec-fetch-site': 'cross-site' }, 'GET', 403],
    ['a sibling site', { host, 'sec-fetch-site': 'same-site' }, 'GET', 403],
    ['a DNS name rebound to 127.0.0.1', { host: `rebound.example:${server.port}` }, 'GET', 421],
    ['another port', { host: `127.0.0.1:${server.port + 1}` }, 'GET', 421],
  ];
  for (const [what, headers, method, status] of cases) {
    const answer = await raw(method === 'POST' ? '/api/tasks/app/runs' : '/api/runs', headers, method);
    expect([what, answer.status]).toEqual([what, status]);
    expect(JSON.parse(answer.body).error.message).toMatch(/cascade console/);
  }
  expect(gateway.wire).toEqual([]);
  // The page itself is refused to a rebound name too; its own origin is let through.
  expect((await raw('/console/runs', { host: `rebound.example:${server.port}` })).status).toBe(421);
  expect((await raw('/api/runs', { host: `localhost:${server.port}`, origin: `http://localhost:${server.port}`, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
  expect(gateway.wire).toHaveLength(1);
});

test('cascade console, run as a command: says where it is, serves until SIGTERM, and listens on loopback only', async () => {
  const child = spawn(join(__dirname, '..', '..', '..', 'bin', 'cascade'), ['console', '--port', '0', '--output', 'json'], {
    env: { ...process.env, ...deployedEnv(gateway.url), AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_SESSION_TOKEN: credentials.sessionToken, AWS_PROFILE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const said = await waitFor('the console to say where it is', async () => (/\{[\s\S]*\}/.exec(stdout)?.[0] ? (JSON.parse(/\{[\s\S]*?\n\}/.exec(stdout)?.[0] ?? 'null') as { url: string; api: string; auth: string } | null) ?? undefined : undefined), 60_000, 100);
    expect(said).toEqual({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/console\/$/), api: gateway.url, auth: 'aws-iam' });
    const page = await fetch(said.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    // Not reachable on this machine's other addresses.
    const port = Number(new URL(said.url).port);
    const outside = Object.values(networkInterfaces()).flatMap((addresses) => addresses ?? []).find((a) => a.family === 'IPv4' && !a.internal);
    if (outside) await expect(fetch(`http://${outside.address}:${port}/console/`)).rejects.toThrow();
    const listed = (await (await fetch(new URL('/api/runs', said.url))).json()) as { runs: Run[] };
    expect(listed.runs.map((r) => r.id)).toEqual(expect.arrayContaining(runs.map((r) => r.id)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  expect(stderr).not.toContain(credentials.secretAccessKey);
  expect(stderr).toMatch(/Stopping the console \(SIGTERM\)/);
});
