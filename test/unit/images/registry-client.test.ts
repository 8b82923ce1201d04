// The parts of RegistryClient a local distribution registry cannot show: the Bearer-token
// flow (against a fake registry + token server over real HTTP), URL and scheme choice,
// and the parsers.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidImageReferenceError, RegistryError, RegistryRateLimitedError } from '../../../lib/domain/errors';
import type { ImageRef } from '../../../lib/domain/types';
import {
  errorReason,
  MEDIA_TYPES,
  parseChallenge,
  pickPlatform,
  RegistryClient,
  retryAfterMs,
  type Descriptor,
} from '../../../lib/images/registry-client';

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

const MANIFEST = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256('{}'), size: 2 },
    layers: [],
  }),
);

/** A registry that only takes Bearer tokens, and the token server that issues them. */
class FakeTokenRegistry {
  readonly tokenRequests: { scope: string | null; service: string | null; authorization?: string }[] = [];
  readonly registryRequests: { method: string; path: string; authorization?: string }[] = [];
  expiresIn = 300;
  private tokens = new Map<string, { scopes: string[]; expiresAt: number }>();
  private issued = 0;
  private server!: Server;
  host = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.host = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  revokeAll(): void {
    this.tokens.clear();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', `http://${this.host}`);
    if (url.pathname === '/token') return this.token(req, url, res);
    this.registryRequests.push({ method: req.method ?? '', path: url.pathname, authorization: req.headers.authorization });
    const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    const scope = m ? `repository:${m[1]}:pull` : undefined;
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const grant = bearer ? this.tokens.get(bearer) : undefined;
    const allowed = grant !== undefined && grant.expiresAt > Date.now() && (scope === undefined || grant.scopes.includes(scope));
    if (!allowed) {
      const params = [`realm="http://${this.host}/token"`, 'service="fake-registry"', ...(scope ? [`scope="${scope}"`] : [])];
      res.writeHead(401, { 'www-authenticate': `Bearer ${params.join(',')}`, 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required', detail: null }] }));
      return;
    }
    if (!m) return void res.writeHead(200).end('{}');
    res.writeHead(200, {
      'content-type': 'application/vnd.oci.image.manifest.v1+json',
      'docker-content-digest': sha256(MANIFEST),
      'content-length': String(MANIFEST.length),
    });
    res.end(req.method === 'HEAD' ? undefined : MANIFEST);
  }

  private token(req: IncomingMessage, url: URL, res: ServerResponse): void {
    const authorization = req.headers.authorization;
    const scope = url.searchParams.get('scope');
    this.tokenRequests.push({ scope, service: url.searchParams.get('service'), authorization });
    let user: string | undefined;
    if (authorization) {
      const [name, password] = Buffer.from(authorization.replace(/^Basic /, ''), 'base64').toString().split(':');
      if (name !== 'alice' || password !== 'Alice-pw-1') {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
      user = name;
    }
    // As on Docker Hub: anonymous callers get a token, but it only opens public repositories.
    const scopes = scope && (user || scope.startsWith('repository:public/')) ? [scope] : [];
    const token = `tok-${++this.issued}-${user ?? 'anon'}`;
    this.tokens.set(token, { scopes, expiresAt: Date.now() + this.expiresIn * 1000 });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token, expires_in: this.expiresIn, issued_at: new Date().toISOString() }));
  }
}

describe('RegistryClient Bearer-token flow', () => {
  let fake: FakeTokenRegistry;
  const alice = { username: 'alice', password: 'Alice-pw-1' };

  beforeEach(async () => {
    fake = new FakeTokenRegistry();
    await fake.start();
  });
  afterEach(() => fake.stop());

  const ref = (repository: string): ImageRef => ({ registry: fake.host, repository, tag: 'latest' });

  it('gets a token for the scope with basic credentials, retries, then reuses the token', async () => {
    const client = new RegistryClient({ credentials: async () => alice });

    expect(await client.headManifestDigest(ref('private/app'))).toEqual({
      digest: sha256(MANIFEST),
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
    });
    expect(fake.tokenRequests).toEqual([
      {
        scope: 'repository:private/app:pull',
        service: 'fake-registry',
        authorization: `Basic ${Buffer.from('alice:Alice-pw-1').toString('base64')}`,
      },
    ]);
    expect(fake.registryRequests.map((r) => [r.method, r.authorization?.replace(/tok-\d+/, 'TOKEN')])).toEqual([
      ['HEAD', undefined],
      ['HEAD', 'Bearer TOKEN-alice'],
    ]);

    await client.getManifest(ref('private/app'));
    expect(fake.tokenRequests).toHaveLength(1);
    expect(fake.registryRequests.at(-1)).toMatchObject({ method: 'GET', authorization: 'Bearer tok-1-alice' });

    // Another repository is another scope: a new token, asked for up front.
    await client.headManifestDigest(ref('private/other'));
    expect(fake.tokenRequests.map((t) => t.scope)).toEqual(['repository:private/app:pull', 'repository:private/other:pull']);
    expect(fake.registryRequests).toHaveLength(4);
    expect(fake.registryRequests[3]).toMatchObject({ method: 'HEAD', authorization: 'Bearer tok-2-alice' });
  });

  it('asks for an anonymous token when it has no credentials', async () => {
    const client = new RegistryClient();
    expect((await client.headManifestDigest(ref('public/app'))).digest).toBe(sha256(MANIFEST));
    expect(fake.tokenRequests).toEqual([{ scope: 'repository:public/app:pull', service: 'fake-registry', authorization: undefined }]);
  });

  it('reports the registry reason when an anonymous token does not open the repository', async () => {
    const err = await rejection(new RegistryClient().headManifestDigest(ref('private/app')));
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.message).toMatch(/unauthorized: authentication required \(no credentials are configured for 127\.0\.0\.1:\d+\)/);
    expect(err.message).not.toMatch(/tok-/);
  });

  it("reports the token server's reason for a wrong password, without the password", async () => {
    const client = new RegistryClient({ credentials: async () => ({ username: 'alice', password: 'Wrong-pw-9' }) });
    const err = await rejection(client.getImageConfig(ref('private/app')));
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.message).toMatch(/token server http:\/\/127\.0\.0\.1:\d+ refused the credentials: incorrect username or password/);
    expect(err.message).not.toContain('Wrong-pw-9');
  });

  it('renews an expired token before using it', async () => {
    fake.expiresIn = 1;
    const client = new RegistryClient({ credentials: async () => alice });
    await client.headManifestDigest(ref('private/app'));
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await client.headManifestDigest(ref('private/app'));
    expect(fake.tokenRequests).toHaveLength(2);
    // The renewal happened before the request, so the registry never refused the second call.
    expect(fake.registryRequests.map((r) => r.authorization?.slice(0, 10))).toEqual([undefined, 'Bearer tok', 'Bearer tok']);
    expect(fake.registryRequests[2]?.authorization).toBe('Bearer tok-2-alice');
  });

  it('gets a new token when the registry refuses a cached one', async () => {
    const client = new RegistryClient({ credentials: async () => alice });
    await client.headManifestDigest(ref('private/app'));
    fake.revokeAll();
    expect((await client.headManifestDigest(ref('private/app'))).digest).toBe(sha256(MANIFEST));
    expect(fake.tokenRequests).toHaveLength(2);
    expect(fake.registryRequests.map((r) => r.authorization)).toEqual([undefined, 'Bearer tok-1-alice', 'Bearer tok-1-alice', 'Bearer tok-2-alice']);
  });

  it('pings through a scope-less challenge', async () => {
    await new RegistryClient({ credentials: async () => alice }).ping(fake.host);
    expect(fake.tokenRequests).toEqual([expect.objectContaining({ scope: null, service: 'fake-registry' })]);
  });
});

/** A fetch that answers from a table and records what was asked. */
function scriptedFetch(answer: (url: string, init: RequestInit) => Response) {
  const calls: { url: string; method: string; headers: Record<string, string> }[] = [];
  const fn = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = String(input);
    calls.push({ url, method: init.method ?? 'GET', headers: (init.headers ?? {}) as Record<string, string> });
    return answer(url, init);
  }) as typeof fetch;
  return { fn, calls };
}

describe('RegistryClient endpoints', () => {
  const ok = () =>
    new Response(null, {
      status: 200,
      headers: { 'docker-content-digest': sha256(MANIFEST), 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    });

  it.each([
    [{ registry: 'docker.io', repository: 'node', tag: '9-alpine' }, 'https://registry-1.docker.io/v2/library/node/manifests/9-alpine'],
    [{ registry: 'docker.io', repository: 'bitnami/redis', tag: '7' }, 'https://registry-1.docker.io/v2/bitnami/redis/manifests/7'],
    [{ registry: 'index.docker.io', repository: 'library/node' }, 'https://registry-1.docker.io/v2/library/node/manifests/latest'],
    [{ registry: 'ghcr.io', repository: 'org/app', tag: 'v1' }, 'https://ghcr.io/v2/org/app/manifests/v1'],
    [{ registry: 'ghcr.io', repository: 'org/app', tag: 'v1', digest: sha256(MANIFEST) }, `https://ghcr.io/v2/org/app/manifests/${sha256(MANIFEST)}`],
    [{ registry: '127.0.0.1:5000', repository: 'app', tag: 'v1' }, 'http://127.0.0.1:5000/v2/app/manifests/v1'],
    [{ registry: '127.1.2.3:5000', repository: 'app', tag: 'v1' }, 'http://127.1.2.3:5000/v2/app/manifests/v1'],
    [{ registry: 'localhost:5000', repository: 'app', tag: 'v1' }, 'http://localhost:5000/v2/app/manifests/v1'],
    [{ registry: 'localhost', repository: 'app', tag: 'v1' }, 'http://localhost/v2/app/manifests/v1'],
    [{ registry: '[::1]:5000', repository: 'app', tag: 'v1' }, 'http://[::1]:5000/v2/app/manifests/v1'],
    [{ registry: 'registry.lan:5000', repository: 'app', tag: 'v1' }, 'http://registry.lan:5000/v2/app/manifests/v1'],
    [{ registry: 'other.lan', repository: 'app', tag: 'v1' }, 'http://other.lan/v2/app/manifests/v1'],
    [{ registry: 'other.lan:8443', repository: 'app', tag: 'v1' }, 'http://other.lan:8443/v2/app/manifests/v1'],
    [{ registry: 'registry.lan', repository: 'app', tag: 'v1' }, 'https://registry.lan/v2/app/manifests/v1'],
    [{ registry: '128.0.0.1:5000', repository: 'app', tag: 'v1' }, 'https://128.0.0.1:5000/v2/app/manifests/v1'],
  ])('%j → %s', async (ref, url) => {
    const { fn, calls } = scriptedFetch(ok);
    await new RegistryClient({ fetch: fn, insecureHosts: ['registry.lan:5000', 'other.lan'] }).headManifestDigest(ref);
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([`HEAD ${url}`]);
    expect(calls[0]?.headers.accept).toContain('application/vnd.oci.image.index.v1+json');
    expect(calls[0]?.headers.accept).toContain('application/vnd.docker.distribution.manifest.v2+json');
  });

  it.each([
    ['a repository that climbs out of the path', { registry: 'ghcr.io', repository: '../admin' }],
    ['an upper-case repository', { registry: 'ghcr.io', repository: 'Org/App' }],
    ['a tag with a slash', { registry: 'ghcr.io', repository: 'app', tag: 'a/b' }],
    ['a malformed digest', { registry: 'ghcr.io', repository: 'app', digest: 'sha256' }],
    ['a registry with a path', { registry: 'ghcr.io/x', repository: 'app' }],
    ['a registry with user info', { registry: 'user@ghcr.io', repository: 'app' }],
  ])('refuses %s before any request', async (_case, ref) => {
    const { fn, calls } = scriptedFetch(ok);
    const err = await rejection(new RegistryClient({ fetch: fn }).headManifestDigest(ref));
    expect(err).toBeInstanceOf(InvalidImageReferenceError);
    expect(calls).toHaveLength(0);
  });

  it('hashes the body when HEAD gives no digest', async () => {
    const { fn, calls } = scriptedFetch((_url, init) =>
      init.method === 'HEAD'
        ? new Response(null, { status: 200 })
        : new Response(MANIFEST, { status: 200, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } }),
    );
    const got = await new RegistryClient({ fetch: fn }).headManifestDigest({ registry: 'ghcr.io', repository: 'app', tag: 'v1' });
    expect(got).toEqual({ digest: sha256(MANIFEST), mediaType: 'application/vnd.oci.image.manifest.v1+json' });
    expect(calls.map((c) => c.method)).toEqual(['HEAD', 'GET']);
  });

  it.each([
    [429, 'Too Many Requests'],
    [503, 'Service Unavailable'],
  ])('does not retry a HEAD answered %i with a GET', async (status, statusText) => {
    const { fn, calls } = scriptedFetch(() => new Response(null, { status, statusText }));
    const err = await rejection(new RegistryClient({ fetch: fn }).headManifestDigest({ registry: 'ghcr.io', repository: 'app', tag: 'v1' }));
    expect(err).toBeInstanceOf(RegistryError);
    expect(err instanceof RegistryRateLimitedError).toBe(status === 429);
    expect(err.message).toBe(`registry ghcr.io: manifest app:v1: HTTP ${status} ${statusText}`);
    expect(calls.map((c) => c.method)).toEqual(['HEAD']);
  });

  it.each([
    ['ping', (c: RegistryClient) => c.ping('ghcr.io')],
    ['getManifest', (c: RegistryClient) => c.getManifest({ registry: 'ghcr.io', repository: 'app', tag: 'v1' })],
    ['getImageConfig', (c: RegistryClient) => c.getImageConfig({ registry: 'ghcr.io', repository: 'app', tag: 'v1' })],
  ])('%s answered 429 is rate limited, with the Retry-After', async (_case, call) => {
    const { fn, calls } = scriptedFetch(() => new Response(null, { status: 429, headers: { 'retry-after': '120' } }));
    const err = await rejection(call(new RegistryClient({ fetch: fn })));
    expect(err).toBeInstanceOf(RegistryRateLimitedError);
    expect((err as RegistryRateLimitedError).retryAfterMs).toBe(120_000);
    expect(calls).toHaveLength(1);
  });

  it('refuses a manifest whose bytes do not match the digest asked for', async () => {
    const { fn } = scriptedFetch(() => new Response(MANIFEST, { status: 200 }));
    const err = await rejection(new RegistryClient({ fetch: fn }).getManifest({ registry: 'ghcr.io', repository: 'app', digest: sha256('other') }));
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.message).toMatch(/has digest sha256:[a-f0-9]{64}, not the one asked for/);
  });

  it('refuses to send credentials to a plain-HTTP token realm on another host', async () => {
    const { fn, calls } = scriptedFetch(
      () => new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer realm="http://auth.example.com/token",service="x"' } }),
    );
    const client = new RegistryClient({ fetch: fn, credentials: async () => ({ username: 'u', password: 'Secret-pw-5' }) });
    const err = await rejection(client.headManifestDigest({ registry: 'registry.example.com', repository: 'app' }));
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.message).toMatch(/token realm http:\/\/auth\.example\.com is not HTTPS/);
    expect(calls.every((c) => !c.url.startsWith('http://auth.example.com'))).toBe(true);
  });

  it('names TLS failures and suggests the insecure setting', async () => {
    const fn = (async () => {
      throw Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('wrong version'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }) });
    }) as typeof fetch;
    const err = await rejection(new RegistryClient({ fetch: fn }).headManifestDigest({ registry: 'registry.lan:5000', repository: 'app' }));
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.message).toMatch(/TLS failed \(ERR_SSL_WRONG_VERSION_NUMBER\); if the registry speaks plain HTTP, list it as insecure/);
  });
});

describe('RegistryClient.tagDigest', () => {
  const image = (n: number) => Buffer.from(JSON.stringify({ ...JSON.parse(MANIFEST.toString()), annotations: { n: String(n) } }));
  const index = (manifests: Partial<Descriptor>[]) =>
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests }));
  const ref = { registry: 'ghcr.io', repository: 'org/base', tag: 'v1' };
  const amd64 = image(1);
  const arm64 = image(2);
  const multi = index([
    { mediaType: MEDIA_TYPES.ociManifest, digest: sha256(amd64), size: amd64.length, platform: { os: 'linux', architecture: 'amd64' } },
    { mediaType: MEDIA_TYPES.ociManifest, digest: sha256(arm64), size: arm64.length, platform: { os: 'linux', architecture: 'arm64' } },
  ]);

  /** A registry holding `manifests` by digest and `tag` → `tagged`; `head` shapes HEAD's headers. */
  const registry = (manifests: Buffer[], tagged: Buffer, head: (m: Buffer) => Record<string, string>) =>
    scriptedFetch((url, init) => {
      const reference = url.slice(url.lastIndexOf('/') + 1);
      const found = reference === 'v1' ? tagged : manifests.find((m) => sha256(m) === reference);
      if (!found) return new Response(null, { status: 404 });
      if (init.method === 'HEAD') return new Response(null, { status: 200, headers: head(found) });
      return new Response(new Uint8Array(found), { status: 200 });
    });

  it('reads an index HEAD did not name the type of, once, by the digest HEAD gave', async () => {
    const { fn, calls } = registry([multi, amd64, arm64], multi, (m) => ({ 'docker-content-digest': sha256(m) }));
    const got = await new RegistryClient({ fetch: fn }).tagDigest(ref, 'linux/arm64');
    expect(got).toEqual({ digest: sha256(multi), mediaType: MEDIA_TYPES.ociIndex, platformDigest: sha256(arm64) });
    expect(calls.map((c) => `${c.method} ${c.url.slice(c.url.lastIndexOf('/') + 1)}`)).toEqual(['HEAD v1', `GET ${sha256(multi)}`]);
  });

  it('takes an image HEAD did not name the type of as its own platform digest', async () => {
    const { fn } = registry([amd64], amd64, (m) => ({ 'docker-content-digest': sha256(m), 'content-type': 'application/octet-stream' }));
    expect(await new RegistryClient({ fetch: fn }).tagDigest(ref, 'linux/arm64')).toEqual({
      digest: sha256(amd64),
      mediaType: MEDIA_TYPES.ociManifest,
      platformDigest: sha256(amd64),
    });
  });

  it('falls back to a GET of the tag when HEAD gives no digest, and still reuses what it knew', async () => {
    const { fn, calls } = registry([multi, amd64, arm64], multi, () => ({}));
    const known = { digest: sha256(multi), platformDigest: sha256(arm64) };
    expect(await new RegistryClient({ fetch: fn }).tagDigest(ref, 'linux/arm64', known)).toEqual({ ...known, mediaType: MEDIA_TYPES.ociIndex });
    expect(calls.map((c) => c.method)).toEqual(['HEAD', 'GET']);
    const fresh = await new RegistryClient({ fetch: fn }).tagDigest(ref, 'linux/amd64', { digest: sha256('older'), platformDigest: sha256('older') });
    expect(fresh.platformDigest).toBe(sha256(amd64));
  });

  it('gives up on indexes nested deeper than the limit', async () => {
    let inner = index([{ mediaType: MEDIA_TYPES.ociManifest, digest: sha256(amd64), size: amd64.length, platform: { os: 'linux', architecture: 'amd64' } }]);
    const all = [amd64, inner];
    for (let i = 0; i < 3; i++) {
      inner = index([{ mediaType: MEDIA_TYPES.ociIndex, digest: sha256(inner), size: inner.length, platform: { os: 'linux', architecture: 'amd64' } }]);
      all.push(inner);
    }
    const { fn } = registry(all, inner, (m) => ({ 'docker-content-digest': sha256(m), 'content-type': MEDIA_TYPES.ociIndex }));
    const err = await rejection(new RegistryClient({ fetch: fn }).tagDigest(ref, 'linux/amd64'));
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.message).toBe('registry ghcr.io: index org/base:v1 nests too deeply');
  });

  it('refuses an index entry whose digest is not a digest', async () => {
    const bad = index([{ mediaType: MEDIA_TYPES.ociManifest, digest: '../../admin', size: 1, platform: { os: 'linux', architecture: 'amd64' } }]);
    const { fn } = registry([bad], bad, (m) => ({ 'docker-content-digest': sha256(m), 'content-type': MEDIA_TYPES.ociIndex }));
    const err = await rejection(new RegistryClient({ fetch: fn }).tagDigest(ref, 'linux/amd64'));
    expect(err.message).toBe('registry ghcr.io: index org/base:v1 names an invalid digest for linux/amd64');
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  it.each([
    ['7', 7_000],
    [' 120 ', 120_000],
    ['0', 0],
    ['Sun, 01 Mar 2026 12:00:07 GMT', 7_000],
    ['Sunday, 01-Mar-26 12:00:30 GMT', 30_000],
    ['Sun Mar  1 12:01:00 2026', 60_000],
    ['Sun, 01 Mar 2026 11:00:00 GMT', 0],
    ['-5', undefined],
    ['1.5', undefined],
    ['7s', undefined],
    ['soon', undefined],
    ['Sun, 99 Foo 2026', undefined],
    ['', undefined],
    [null, undefined],
  ])('%j → %s', (header, expected) => {
    expect(retryAfterMs(header, now)).toBe(expected);
  });
});

describe('parseChallenge', () => {
  it.each([
    ['Basic realm="basic-realm"', { scheme: 'basic' }],
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/node:pull"',
      { scheme: 'bearer', realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/node:pull' },
    ],
    [
      'bearer realm=https://ghcr.io/token, service=ghcr.io',
      { scheme: 'bearer', realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'FALLBACK' },
    ],
    [
      'Bearer realm="https://r/t",error="insufficient_scope",scope="repository:a:pull,push"',
      { scheme: 'bearer', realm: 'https://r/t', service: undefined, scope: 'repository:a:pull,push' },
    ],
    ['Bearer service="no-realm"', undefined],
    ['Negotiate', undefined],
    [null, undefined],
  ])('%s', (header, expected) => {
    expect(parseChallenge(header, 'FALLBACK')).toEqual(expected);
  });
});

describe('errorReason', () => {
  it.each([
    ['{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}', 'unauthorized: authentication required'],
    ['{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}', 'manifest unknown'],
    ['{"errors":[{"code":"DENIED","message":"a"},{"code":"TOOMANYREQUESTS","message":"b"}]}', 'denied: a; toomanyrequests: b'],
    ['{"details":"incorrect username or password"}', 'incorrect username or password'],
    ['{"error":"invalid_grant","error_description":"bad token"}', 'bad token'],
    ['upstream connect error\nmore', 'upstream connect error'],
    ['<html><body>502</body></html>', undefined],
    ['', undefined],
    ['{}', undefined],
  ])('%s → %s', (body, expected) => {
    expect(errorReason(body)).toBe(expected);
  });
});

describe('pickPlatform', () => {
  const d = (os: string, architecture: string, variant?: string): Descriptor => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: sha256(`${os}/${architecture}/${variant ?? ''}`),
    size: 1,
    platform: { os, architecture, ...(variant ? { variant } : {}) },
  });
  const list = [d('linux', 'amd64'), d('linux', 'arm', 'v6'), d('linux', 'arm', 'v7'), d('linux', 'arm64'), d('unknown', 'unknown')];

  it('never picks an attestation, whatever platform it claims', () => {
    const attestation = { ...d('linux', 'amd64'), annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } };
    expect(pickPlatform([attestation, list[0]!], 'linux/amd64')).toBe(list[0]);
    expect(pickPlatform([attestation], 'linux/amd64')).toBeUndefined();
  });

  it.each([
    ['linux/amd64', list[0]],
    ['linux/arm/v7', list[2]],
    ['linux/arm', list[1]],
    ['linux/arm64', list[3]],
    ['linux/arm64/v8', list[3]],
    ['linux/arm/v5', undefined],
    ['windows/amd64', undefined],
    ['linux/s390x', undefined],
  ])('%s', (platform, expected) => {
    expect(pickPlatform(list, platform)).toBe(expected);
  });
});
