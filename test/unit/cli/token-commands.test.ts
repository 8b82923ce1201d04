// `cascade token …`, `login` and `logout`, and the token every request then carries.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startApiDouble, type ApiDouble } from './api-double';

let api: ApiDouble;
let config: string;
const TOKEN = `cascade_${'a'.repeat(43)}`;
const OTHER = `cascade_${'b'.repeat(43)}`;
const view = { name: 'ci', createdAt: '2026-12-06T10:00:00.000Z', hint: 'cascade_aaaa' };

beforeAll(async () => {
  api = await startApiDouble();
});
afterAll(() => api.close());
beforeEach(async () => {
  config = await mkdtemp(join(tmpdir(), 'cascade-cli-config-'));
});
afterEach(() => rm(config, { recursive: true, force: true }));

function cli(args: string[], env: NodeJS.ProcessEnv = {}, stdin?: string) {
  return runCli(args, { api: api.url, env: { XDG_CONFIG_HOME: config, ...env }, stdin });
}

/** Answers token routes; GET /api/tasks needs `accepted` as the bearer token. */
function server(accepted = TOKEN) {
  api.reset((request, wire) => {
    if (wire.headers.authorization !== `Bearer ${accepted}`) return { status: 401, json: { error: { code: 'unauthorized', message: 'the API token was not recognized: it may have been revoked' } } };
    if (request.method === 'POST' && request.path === '/api/tokens') return { status: 201, json: { ...view, name: (request.body as { name: string }).name, token: OTHER } };
    if (request.method === 'GET' && request.path === '/api/tokens') return { status: 200, json: { tokens: [view] } };
    if (request.method === 'DELETE' && request.path === '/api/tokens/ci') return { status: 204 };
    if (request.method === 'GET' && request.path === '/api/tasks') return { status: 200, json: { tasks: [] } };
    return { status: 404, json: { error: { code: 'not_found', message: 'no' } } };
  });
}

it('sends CASCADE_TOKEN as a bearer token on every request', async () => {
  server();
  expect((await cli(['task', 'list'], { CASCADE_TOKEN: TOKEN })).code).toBe(0);
  expect(api.wire.map((w) => w.headers.authorization)).toEqual([`Bearer ${TOKEN}`]);
});

it('sends nothing when there is no token, and shows the server\'s 401 sentence', async () => {
  server();
  const result = await cli(['task', 'list']);
  expect(result.code).toBe(1);
  expect(result.stderr).toBe('error: the API token was not recognized: it may have been revoked\n');
  expect(api.wire[0]?.headers.authorization).toBeUndefined();
});

it('creates, lists and revokes through the API, printing the token once', async () => {
  server();
  const created = await cli(['token', 'create', '--name', 'ci'], { CASCADE_TOKEN: TOKEN });
  expect(created).toEqual({ code: 0, stderr: '', stdout: expect.stringContaining(`(shown this once; only its hash is kept):\n${OTHER}\n`) });
  expect(api.requests.at(-1)).toEqual({ method: 'POST', path: '/api/tokens', query: {}, body: { name: 'ci' } });
  const listed = await cli(['token', 'list'], { CASCADE_TOKEN: TOKEN });
  expect(listed.stdout).toMatch(/^NAME\s+CREATED\s+STARTS WITH\n-+\s+-+\s+-+\nci\s+2026-12-06T10:00:00Z\s+cascade_aaaa…\n$/);
  expect(listed.stdout).not.toContain(TOKEN);
  expect(await cli(['token', 'revoke', '--name', 'ci'], { CASCADE_TOKEN: TOKEN })).toEqual({ code: 0, stderr: '', stdout: 'Revoked token "ci".\n' });
});

it('login tries the token, then saves it for this API only, mode 0600; logout forgets it', async () => {
  server();
  const login = await cli(['login', '--token-stdin'], {}, `${TOKEN}\n`);
  const file = join(config, 'cascade', 'logins.json');
  expect(login).toEqual({ code: 0, stderr: '', stdout: `Login Succeeded: the token for ${api.url} is saved in ${file}\n` });
  expect((await stat(file)).mode & 0o777).toBe(0o600);
  expect(Object.keys(JSON.parse(await readFile(file, 'utf8')) as object)).toEqual([api.url]);

  expect((await cli(['task', 'list'])).code).toBe(0);
  expect(api.wire.at(-1)?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  // CASCADE_TOKEN, when set, is what is sent.
  expect((await cli(['task', 'list'], { CASCADE_TOKEN: OTHER })).code).toBe(1);
  expect(api.wire.at(-1)?.headers.authorization).toBe(`Bearer ${OTHER}`);
  // Another API is not sent this one's token.
  const elsewhere = await runCli(['task', 'list'], { api: `${api.url.replace('127.0.0.1', 'localhost')}`, env: { XDG_CONFIG_HOME: config } });
  expect(elsewhere.code).toBe(1);
  expect(api.wire.at(-1)?.headers.authorization).toBeUndefined();

  expect((await cli(['logout'])).stdout).toBe(`Removed the token saved for ${api.url}\n`);
  expect((await cli(['logout'])).stdout).toBe(`No token was saved for ${api.url}\n`);
  expect((await cli(['task', 'list'])).code).toBe(1);
});

it('login keeps nothing when the server refuses the token', async () => {
  server();
  const login = await cli(['login', '--token-stdin'], {}, OTHER);
  expect(login.code).toBe(1);
  expect(login.stderr).toMatch(/not recognized/);
  await expect(stat(join(config, 'cascade', 'logins.json'))).rejects.toThrow(/ENOENT/);
});

it.each([
  [['login'], /add --token-stdin and pipe the token in/],
  [['login', '--token-stdin'], /no token arrived on stdin/],
  [['token', 'create'], /required option '--name <name>' not specified/],
])('cascade %j is a usage error, sending nothing', async (args, message) => {
  server();
  const result = await cli(args, {}, '');
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(message);
  expect(api.requests).toEqual([]);
});

it('with --data-dir, works on the data folder itself, with no server', async () => {
  server();
  const dataDir = join(config, 'data');
  const created = JSON.parse((await cli(['token', 'create', '--name', 'first', '--data-dir', dataDir, '--output', 'json'])).stdout) as { token: string };
  expect(created.token).toMatch(/^cascade_/);
  expect(JSON.parse((await cli(['token', 'list', '--data-dir', dataDir, '--output', 'json'])).stdout)).toEqual([expect.objectContaining({ name: 'first' })]);
  expect((await cli(['token', 'revoke', '--name', 'first', '--data-dir', dataDir])).code).toBe(0);
  expect((await cli(['token', 'revoke', '--name', 'first', '--data-dir', dataDir])).stderr).toBe('error: token "first" was not found\n');
  expect(api.requests).toEqual([]);
});
