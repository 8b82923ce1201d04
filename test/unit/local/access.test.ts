// Who reaches the local stack's routes: the Host check and API tokens, decided from a request's head.
import { mkdtemp, rm } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkExposure, createAccessGuard, ExposedWithoutAuthError, parsePublicUrl, type AccessOptions } from '../../../lib/local/access';
import { ApiTokens } from '../../../lib/local/api-tokens';

let dir: string;
let tokens: ApiTokens;
let token: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cascade-access-'));
  tokens = new ApiTokens({ dataDir: dir });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function status(options: Partial<AccessOptions>, head: { method?: string; path: string; host?: string; authorization?: string }): Promise<number> {
  const guard = createAccessGuard({ host: '127.0.0.1', tokens, ...options });
  const refusal = await guard({ method: head.method ?? 'GET', path: head.path, headers: { host: head.host, authorization: head.authorization } });
  return refusal?.status ?? 200;
}

describe('the Host check', () => {
  const machineAddress = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && !a.internal && a.family === 'IPv4')?.address;

  it.each([
    ['127.0.0.1:3000', {}, 200],
    ['localhost:3000', {}, 200],
    ['LOCALHOST', {}, 200],
    ['[::1]:3000', {}, 200],
    ['127.8.9.10', {}, 200],
    ['evil.example:3000', {}, 421],
    ['evil.example', {}, 421],
    ['127.0.0.1.evil.example', {}, 421],
    ['localhost.evil.example:3000', {}, 421],
    [undefined, {}, 421],
    ['cascade.example.com', { publicUrl: new URL('https://cascade.example.com/hooks') }, 200],
    ['CASCADE.example.com:443', { publicUrl: new URL('https://cascade.example.com') }, 200],
    ['other.example.com', { publicUrl: new URL('https://cascade.example.com') }, 421],
    ['10.1.2.3:3000', { host: '10.1.2.3', insecureNoAuth: true }, 200],
    ['10.1.2.4:3000', { host: '10.1.2.3', insecureNoAuth: true }, 421],
  ] as const)('Host %s with %o: %i', async (host, options, expected) => {
    expect(await status(options, { path: '/webhooks/hub', host })).toBe(expected);
  });

  it('on 0.0.0.0, answers for each of the machine\'s own addresses', async () => {
    if (machineAddress === undefined) return;
    expect(await status({ host: '0.0.0.0', insecureNoAuth: true }, { path: '/webhooks/hub', host: `${machineAddress}:3000` })).toBe(200);
    expect(await status({ host: '0.0.0.0', insecureNoAuth: true }, { path: '/webhooks/hub', host: 'evil.example' })).toBe(421);
  });

  it('leaves /health open to any host', async () => {
    expect(await status({}, { path: '/health', host: 'evil.example' })).toBe(200);
  });

  it('says what was wrong, in JSON', async () => {
    const guard = createAccessGuard({ host: '127.0.0.1', tokens });
    const refusal = await guard({ method: 'GET', path: '/api/tasks', headers: { host: 'evil.example' } });
    expect(JSON.parse(refusal?.body ?? '')).toEqual({
      error: { code: 'misdirected_request', message: expect.stringContaining('does not answer for the host "evil.example"') },
    });
  });
});

describe('API tokens', () => {
  it('on loopback with no token, asks for none', async () => {
    expect(await status({}, { path: '/api/tasks', host: 'localhost' })).toBe(200);
  });

  it('beyond loopback, asks for one even when none exists', async () => {
    expect(await status({ host: '0.0.0.0' }, { path: '/api/tasks', host: '127.0.0.1' })).toBe(401);
    expect(await status({ host: '0.0.0.0', insecureNoAuth: true }, { path: '/api/tasks', host: '127.0.0.1' })).toBe(200);
  });

  describe('once a token exists', () => {
    beforeAll(async () => {
      token = (await tokens.create('alice')).token;
    });

    const cases: Array<[string, (t: string) => string | undefined, number]> = [
      ['no Authorization', () => undefined, 401],
      ['the token', (t) => `Bearer ${t}`, 200],
      ['the token, scheme in lower case', (t) => `bearer ${t}`, 200],
      ['a Basic credential', (t) => `Basic ${Buffer.from(`x:${t}`).toString('base64')}`, 401],
      ['a token of the right shape that is not one', () => `Bearer cascade_${'A'.repeat(43)}`, 401],
      ['the token with one character changed', (t) => `Bearer ${t.slice(0, -1)}${t.endsWith('A') ? 'B' : 'A'}`, 401],
      ['garbage', () => 'Bearer', 401],
    ];
    it.each(cases)('on loopback, %s: %i', async (_what, authorization, expected) => {
      expect(await status({}, { path: '/api/tasks', host: '127.0.0.1', authorization: authorization(token) })).toBe(expected);
    });

    it('asks nothing of webhooks (they have their own secrets) nor of /health', async () => {
      expect(await status({ host: '0.0.0.0' }, { method: 'POST', path: '/webhooks/hub/secret', host: '127.0.0.1' })).toBe(200);
      expect(await status({ host: '0.0.0.0' }, { path: '/health', host: '127.0.0.1' })).toBe(200);
    });

    it('a 401 says how to authenticate', async () => {
      const guard = createAccessGuard({ host: '127.0.0.1', tokens });
      const refusal = await guard({ method: 'GET', path: '/api/runs', headers: { host: '127.0.0.1' } });
      expect(refusal?.headers['www-authenticate']).toBe('Bearer realm="cascade"');
      expect(refusal?.body).toContain('CASCADE_TOKEN');
    });
  });
});

describe('starting beyond loopback', () => {
  it('is refused with no token and no --insecure-no-auth, and allowed with either', async () => {
    const empty = new ApiTokens({ dataDir: join(dir, 'empty') });
    await expect(checkExposure({ host: '0.0.0.0', tokens: empty }, '/data')).rejects.toThrow(ExposedWithoutAuthError);
    await expect(checkExposure({ host: '192.168.1.5', tokens: empty }, '/data')).rejects.toThrow(/cascade token create --name NAME --data-dir \/data/);
    await expect(checkExposure({ host: '0.0.0.0', tokens: empty, insecureNoAuth: true }, '/data')).resolves.toBeUndefined();
    await expect(checkExposure({ host: '127.0.0.1', tokens: empty }, '/data')).resolves.toBeUndefined();
    await expect(checkExposure({ host: '0.0.0.0', tokens }, '/data')).resolves.toBeUndefined();
  });
});

describe('--public-url', () => {
  it.each([
    ['https://cascade.example.com', 'https://cascade.example.com/'],
    ['http://10.0.0.5:3000/cascade', 'http://10.0.0.5:3000/cascade'],
  ])('takes %s', (value, href) => {
    expect(parsePublicUrl(value).href).toBe(href);
  });

  it.each([
    ['cascade.example.com', /is not a URL/],
    ['ftp://cascade.example.com', /must be http or https, not ftp/],
    ['https://user:pw@cascade.example.com', /must not carry a user name or password/],
    ['https://cascade.example.com/?a=1', /must not carry a query or a fragment/],
  ])('refuses %s', (value, message) => {
    expect(() => parsePublicUrl(value)).toThrow(message);
  });
});
