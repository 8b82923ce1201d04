// The local stack serves the web console: `/` redirects to it, every view's URL is the app's page
// (with a Content-Security-Policy that allows no inline script), the bundle's files come with
// their content types and long cache lifetimes, and all of it sits behind the same Host check as
// the API, with no token asked for (the API still asks for one when tokens are on); the API takes
// no call a browser made from another site's page.
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../../../lib/local/stack';
import { rememberSecrets } from '../../support/secrets';

jest.setTimeout(120_000);

let work: string;
let stack: LocalStack;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cascade-console-serving-'));
  stack = await startLocalStack({ port: 0, dataDir: join(work, 'data'), inMemory: true, sources: null, pollIntervalSeconds: 0, timerTickMs: 0, log: () => undefined });
});

afterAll(async () => {
  await stack?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with the headers given, Host included (fetch would not let a test set it). */
function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${stack.url}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The script and style sheet the page loads. */
function assetsOf(html: string): { script: string; styles: string } {
  const script = /<script type="module" src="([^"]+)"><\/script>/.exec(html)?.[1];
  const styles = /<link rel="stylesheet" href="([^"]+)">/.exec(html)?.[1];
  if (!script || !styles) throw new Error(`the page names no script or style sheet:\n${html}`);
  return { script, styles };
}

describe('where the console is', () => {
  it.each([
    ['/', '/console/'],
    ['/console', '/console/'],
  ])('%s redirects to %s', async (path, location) => {
    const answer = await get(path);
    expect(answer.status).toBe(302);
    expect(answer.headers.location).toBe(location);
  });

  it.each(['/console/', '/console/runs', '/console/runs/da12', '/console/tasks/helloworld', '/console/graph?image=x', '/console/webhooks', '/console/no/such/view'])(
    '%s is the app page, with a policy that allows only its own files',
    async (path) => {
      const answer = await get(path);
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(answer.headers['cache-control']).toBe('no-cache');
      const csp = String(answer.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      // Nothing inline: every script has a src, and no element carries a style or an on* handler.
      expect(answer.body.match(/<script[^>]*>/g)).toEqual([expect.stringMatching(/ src="\/console\/assets\/main-[A-Z0-9]+\.js"/)]);
      expect(answer.body).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
      assetsOf(answer.body);
    },
  );

  it('serves the bundle with its content types, cached for good, and HEAD too', async () => {
    const { script, styles } = assetsOf((await get('/console/')).body);
    const js = await get(script);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.body.length).toBeGreaterThan(10_000);
    const css = await get(styles);
    expect(css.status).toBe(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.body).toContain('.graph-canvas');
    const head = await get(script, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('answers an unknown file with a JSON 404, and a write with a JSON 405', async () => {
    const missing = await get('/console/assets/main-NOSUCH.js');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({ error: { code: 'not_found', message: 'console file "/console/assets/main-NOSUCH.js" was not found' } });
    const traversal = await get('/console/assets/..%2f..%2fpackage.json');
    expect(traversal.status).toBe(404);
    const post = await get('/console/runs', { 'content-type': 'application/json' }, 'POST');
    expect(post.status).toBe(405);
    expect(JSON.parse(post.body).error.message).toMatch(/the console answers GET and HEAD, not POST/);
  });
});

describe('who may load it', () => {
  it('refuses the page and its files to a request naming another host (DNS rebinding), as the API', async () => {
    const { script } = assetsOf((await get('/console/')).body);
    for (const path of ['/', '/console/runs', script, '/api/runs']) {
      const answer = await get(path, { host: 'rebound.example:80' });
      expect([path, answer.status]).toEqual([path, 421]);
      expect(JSON.parse(answer.body).error.code).toBe('misdirected_request');
    }
    expect((await get('/console/runs', { host: `localhost:${stack.port}` })).status).toBe(200);
  });

  it('refuses API calls a browser made from another site’s page, and takes the console’s own', async () => {
    const before = await stack.cascade.runs.list({ top: 100 });
    const refused = await get('/api/runs/da1/cancel', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, 'POST');
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).error.code).toBe('cross_origin_request');
    expect(await stack.cascade.runs.list({ top: 100 })).toEqual(before);
    expect((await get('/api/runs', { origin: stack.url, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
  });

  it('asks no token for the console, while the API asks for one once tokens are on', async () => {
    const { token } = await stack.tokens.create('console-test');
    rememberSecrets(token);
    try {
      const { script } = assetsOf((await get('/console/runs')).body);
      expect((await get('/console/runs')).status).toBe(200);
      expect((await get(script)).status).toBe(200);
      const refused = await get('/api/runs');
      expect(refused.status).toBe(401);
      expect(refused.headers['www-authenticate']).toBe('Bearer realm="cascade"');
      expect((await get('/api/runs', { authorization: `Bearer ${token}` })).status).toBe(200);
    } finally {
      await stack.tokens.revoke('console-test');
    }
  });
});
