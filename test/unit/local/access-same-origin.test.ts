// The local stack's API refuses what a browser says comes from another site's page: with no
// token on loopback, such a page could otherwise start or cancel runs (a body-less POST needs no
// CORS preflight). The CLI and curl say nothing of where they come from and are let through, as
// is the web console, which calls from the stack's own origin.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAccessGuard, type AccessOptions } from '../../../lib/local/access';
import { ApiTokens } from '../../../lib/local/api-tokens';

let dir: string;
let tokens: ApiTokens;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cascade-access-origin-'));
  tokens = new ApiTokens({ dataDir: dir });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function answer(headers: Record<string, string>, options: Partial<AccessOptions> = {}, path = '/api/tasks/app/runs') {
  const guard = createAccessGuard({ host: '127.0.0.1', tokens, ...options });
  return guard({ method: 'POST', path, headers: { host: '127.0.0.1:3000', ...headers } });
}

it.each([
  ['the CLI (says nothing)', {}, 200],
  ['the console, same origin', { origin: 'http://127.0.0.1:3000', 'sec-fetch-site': 'same-origin' }, 200],
  ['the console, by localhost', { host: 'localhost:3000', origin: 'http://localhost:3000', 'sec-fetch-site': 'same-origin' }, 200],
  ['a URL typed by the user', { 'sec-fetch-site': 'none' }, 200],
  ['another site’s page', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, 403],
  ['another site’s page, by Origin alone', { origin: 'https://evil.example' }, 403],
  ['another site’s page, by Sec-Fetch-Site alone', { 'sec-fetch-site': 'cross-site' }, 403],
  ['a page of another port on this machine', { origin: 'http://localhost:8080', 'sec-fetch-site': 'same-site' }, 403],
  ['a sandboxed page (Origin null)', { origin: 'null' }, 403],
])('%s: %i', async (_who, headers, status) => {
  expect((await answer(headers))?.status ?? 200).toBe(status);
});

it('takes the console’s calls through the public URL, and says what was wrong in JSON', async () => {
  const publicUrl = new URL('https://cascade.example.com');
  expect(await answer({ host: 'cascade.example.com', origin: 'https://cascade.example.com', 'sec-fetch-site': 'same-origin' }, { publicUrl })).toBeUndefined();
  const refused = await answer({ origin: 'https://evil.example' });
  expect(JSON.parse(refused?.body ?? '')).toEqual({ error: { code: 'cross_origin_request', message: 'cascade takes API calls from its own pages only, not from https://evil.example' } });
});

it('leaves the webhooks and the console’s own files to their own checks', async () => {
  const crossSite = { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' };
  expect(await answer(crossSite, {}, '/webhooks/hub')).toBeUndefined();
  expect(await answer(crossSite, {}, '/console/assets/main-X.js')).toBeUndefined();
});
