// What the base-image poller asks a registry: a tag's digest and its image for one platform,
// against a real CNCF distribution registry; and how 429s come back, against a small node:http
// server that throttles (distribution itself never answers 429).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RegistryError, RegistryRateLimitedError } from '../../lib/domain/errors';
import { RegistryLogins } from '../../lib/domain/registry-logins';
import type { RegistryCredential } from '../../lib/domain/types';
import { RegistryDigestResolver } from '../../lib/adapters/registry-digest-resolver';
import { MEDIA_TYPES, RegistryClient } from '../../lib/images/registry-client';
import { startRegistry, type RegistryProcess } from '../../lib/local/registry-process';
import { entryFor, pushImage, pushIndexOver, sha256, type PushedImage } from '../support/registry';
import { rememberSecrets } from '../support/secrets';
import { MemorySecretStore } from '../support/memory-ports';

const AMD64 = { os: 'linux', architecture: 'amd64' };
const ARM64 = { os: 'linux', architecture: 'arm64' };
const S390X = { os: 'linux', architecture: 's390x' };

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/** A fetch that passes everything on and records `METHOD path` of each request. */
function countingFetch(): { fetch: typeof fetch; requests: string[] } {
  const requests: string[] = [];
  const recording: typeof fetch = (input, init) => {
    requests.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
    return fetch(input, init);
  };
  return { fetch: recording, requests };
}

describe('RegistryClient.tagDigest against a distribution registry', () => {
  let registry: RegistryProcess;
  let single: PushedImage;
  let amd64: PushedImage;
  let arm64: PushedImage;
  let attestation: PushedImage;
  let index: { digest: string; manifestBytes: Buffer };

  beforeAll(async () => {
    registry = await startRegistry({});
    single = await pushImage(registry.url, 'base/single', 'v1', { env: ['ONE=1'] });
    amd64 = await pushImage(registry.url, 'base/multi', 'part-amd64', { ...AMD64, env: ['ARCH=amd64'] });
    arm64 = await pushImage(registry.url, 'base/multi', 'part-arm64', { ...ARM64, env: ['ARCH=arm64'] });
    // As buildx writes provenance: an image manifest beside the platforms, as unknown/unknown.
    attestation = await pushImage(registry.url, 'base/multi', 'part-attestation', { os: 'unknown', architecture: 'unknown' });
    index = await pushIndexOver(registry.url, 'base/multi', 'v1', [
      entryFor(amd64, AMD64),
      entryFor(arm64, ARM64),
      {
        ...entryFor(attestation, { os: 'unknown', architecture: 'unknown' }),
        annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': amd64.digest },
      },
    ]);
  }, 30_000);

  afterAll(async () => {
    await registry?.stop();
  });

  const ref = (repository: string, tag: string) => ({ registry: registry.host, repository, tag });

  it('gives a single image as its own platform digest, with one HEAD', async () => {
    const counting = countingFetch();
    const got = await new RegistryClient({ fetch: counting.fetch }).tagDigest(ref('base/single', 'v1'), 'linux/amd64');
    expect(got).toEqual({ digest: single.digest, mediaType: MEDIA_TYPES.ociManifest, platformDigest: single.digest });
    expect(counting.requests).toEqual(['HEAD /v2/base/single/manifests/v1']);
  });

  it("picks each platform's image from an OCI index, with one HEAD and one GET of the index", async () => {
    expect(index.digest).toBe(sha256(index.manifestBytes));
    for (const [platform, image] of [['linux/amd64', amd64], ['linux/arm64', arm64], ['linux/arm64/v8', arm64]] as const) {
      const counting = countingFetch();
      const got = await new RegistryClient({ fetch: counting.fetch }).tagDigest(ref('base/multi', 'v1'), platform);
      expect(got).toEqual({ digest: index.digest, mediaType: MEDIA_TYPES.ociIndex, platformDigest: image.digest });
      expect(counting.requests).toEqual(['HEAD /v2/base/multi/manifests/v1', `GET /v2/base/multi/manifests/${index.digest}`]);
    }
  });

  it('changes the digest but not the platform digest when an architecture is added to the index', async () => {
    const client = new RegistryClient();
    const [x86, arm, ibm] = await Promise.all([AMD64, ARM64, S390X].map((p) => pushImage(registry.url, 'base/growing', p.architecture, p)));
    await pushIndexOver(registry.url, 'base/growing', 'v1', [entryFor(x86!, AMD64), entryFor(arm!, ARM64)]);
    const before = await client.tagDigest(ref('base/growing', 'v1'), 'linux/amd64');
    expect(before.platformDigest).toBe(x86!.digest);
    const grown = await pushIndexOver(registry.url, 'base/growing', 'v1', [entryFor(x86!, AMD64), entryFor(arm!, ARM64), entryFor(ibm!, S390X)]);

    const counting = countingFetch();
    const after = await new RegistryClient({ fetch: counting.fetch }).tagDigest(ref('base/growing', 'v1'), 'linux/amd64', before);
    expect(after.digest).toBe(grown.digest);
    expect(after.digest).not.toBe(before.digest);
    expect(after.platformDigest).toBe(before.platformDigest);
    // `known` was stale: the new index was read.
    expect(counting.requests).toEqual(['HEAD /v2/base/growing/manifests/v1', `GET /v2/base/growing/manifests/${grown.digest}`]);
    expect((await client.tagDigest(ref('base/growing', 'v1'), 'linux/s390x')).platformDigest).toBe(ibm!.digest);
  }, 20_000);

  it('reuses the known platform digest while the index is unchanged: one HEAD, no GET', async () => {
    const known = await new RegistryClient().tagDigest(ref('base/multi', 'v1'), 'linux/arm64');
    const counting = countingFetch();
    const again = await new RegistryClient({ fetch: counting.fetch }).tagDigest(ref('base/multi', 'v1'), 'linux/arm64', known);
    expect(again).toEqual({ ...known, mediaType: MEDIA_TYPES.ociIndex });
    expect(counting.requests).toEqual(['HEAD /v2/base/multi/manifests/v1']);
  });

  it('names the platform asked for and the ones the index has, leaving out the attestation', async () => {
    const err = await rejection(new RegistryClient().tagDigest(ref('base/multi', 'v1'), 'linux/ppc64le'));
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.message).toBe(`registry ${registry.host}: base/multi:v1 has no image for linux/ppc64le (available: linux/amd64, linux/arm64)`);
    const attestationAsked = await rejection(new RegistryClient().tagDigest(ref('base/multi', 'v1'), 'unknown/unknown'));
    expect(attestationAsked.message).toMatch(/has no image for unknown\/unknown/);
  });

  it('reads a Docker manifest list as an index, from the Content-Type of HEAD', async () => {
    const list = await pushIndexOver(registry.url, 'base/multi', 'docker-list', [entryFor(amd64, AMD64), entryFor(arm64, ARM64)], {
      mediaType: MEDIA_TYPES.dockerManifestList,
    });
    const got = await new RegistryClient().tagDigest(ref('base/multi', 'docker-list'), 'linux/arm64');
    expect(got).toEqual({ digest: list.digest, mediaType: MEDIA_TYPES.dockerManifestList, platformDigest: arm64.digest });
  });

  it('follows a nested index to the image, fetching each index once', async () => {
    const inner = await pushIndexOver(registry.url, 'base/multi', 'inner', [entryFor(amd64, AMD64), entryFor(arm64, ARM64)]);
    const outer = await pushIndexOver(registry.url, 'base/multi', 'outer', [
      { digest: inner.digest, size: inner.manifestBytes.length, mediaType: MEDIA_TYPES.ociIndex, platform: ARM64 },
    ]);
    const counting = countingFetch();
    const got = await new RegistryClient({ fetch: counting.fetch }).tagDigest(ref('base/multi', 'outer'), 'linux/arm64');
    expect(got).toEqual({ digest: outer.digest, mediaType: MEDIA_TYPES.ociIndex, platformDigest: arm64.digest });
    expect(counting.requests).toEqual([
      'HEAD /v2/base/multi/manifests/outer',
      `GET /v2/base/multi/manifests/${outer.digest}`,
      `GET /v2/base/multi/manifests/${inner.digest}`,
    ]);
  });
});

describe('RegistryDigestResolver.resolveForPlatform against a registry with users', () => {
  const alice = { username: 'alice', password: 'pw-Alice-Poll-5' };
  rememberSecrets(alice.password, 'pw-Wrong-Poll-6');
  let registry: RegistryProcess;
  let amd64: PushedImage;
  let index: { digest: string };
  const secrets = new MemorySecretStore();

  beforeAll(async () => {
    registry = await startRegistry({ users: { [alice.username]: alice.password } });
    amd64 = await pushImage(registry.url, 'base/app', 'amd64', AMD64, alice);
    const arm64 = await pushImage(registry.url, 'base/app', 'arm64', ARM64, alice);
    index = await pushIndexOver(registry.url, 'base/app', 'v1', [entryFor(amd64, AMD64), entryFor(arm64, ARM64)], { auth: alice });
    await secrets.put('wrong', 'pw-Wrong-Poll-6');
    await secrets.put('right', alice.password);
  }, 30_000);

  afterAll(async () => {
    await registry?.stop();
  });

  const credential = (name: string): RegistryCredential => ({ kind: 'basic', loginServer: registry.host, username: 'alice', secretRef: secrets.refFor(name) });

  it('falls back to the next credential when one is refused, and reuses what it knew', async () => {
    const counting = countingFetch();
    const resolver = new RegistryDigestResolver({ secrets, logins: new RegistryLogins(secrets), fetch: counting.fetch });
    const ref = { registry: registry.host, repository: 'base/app', tag: 'v1' };
    const got = await resolver.resolveForPlatform(ref, 'linux/amd64', [credential('wrong'), credential('right')]);
    expect(got).toEqual({ digest: index.digest, platformDigest: amd64.digest });

    counting.requests.length = 0;
    expect(await resolver.resolveForPlatform(ref, 'linux/amd64', [credential('right')], got)).toEqual(got);
    // A fresh client per call: the anonymous HEAD learns the challenge, the second carries the credentials.
    expect(counting.requests).toEqual(['HEAD /v2/base/app/manifests/v1', 'HEAD /v2/base/app/manifests/v1']);
  });

  it('fails with the refusal when no credential opens the repository', async () => {
    const resolver = new RegistryDigestResolver({ secrets, logins: new RegistryLogins(secrets) });
    const err = await rejection(resolver.resolveForPlatform({ registry: registry.host, repository: 'base/app', tag: 'v1' }, 'linux/amd64', [credential('wrong')]));
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.message).toMatch(/unauthorized: authentication required/);
    expect(err.message).not.toContain('pw-Wrong-Poll-6');
  });
});

/** Answers every registry and token request with whatever `answer` says; records them all. */
class ThrottlingServer {
  readonly requests: string[] = [];
  answer: (req: IncomingMessage, res: ServerResponse, host: string) => void = (_req, res) => res.writeHead(429).end();
  private server!: Server;
  host = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.requests.push(`${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`);
      this.answer(req, res, this.host);
    });
    // Port 0: the kernel hands out a free port, with no window for another process to take it.
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.host = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe('429 from a registry or its token server', () => {
  let server: ThrottlingServer;

  beforeEach(async () => {
    server = new ThrottlingServer();
    await server.start();
  });
  afterEach(() => server.stop());

  const ref = () => ({ registry: server.host, repository: 'library/node', tag: '20' });

  it.each([
    ['delta-seconds', () => '7', 7_000, 7_000],
    // toUTCString drops the milliseconds, and the request takes a moment.
    ['an HTTP-date', () => new Date(Date.now() + 7_000).toUTCString(), 5_000, 7_000],
    ['an HTTP-date in the past', () => new Date(Date.now() - 60_000).toUTCString(), 0, 0],
  ])('a HEAD answered 429 with Retry-After as %s: rate limited, and no GET after it', async (_case, retryAfter, min, max) => {
    server.answer = (_req, res) => res.writeHead(429, { 'retry-after': retryAfter() }).end();
    for (const call of [
      (c: RegistryClient) => c.tagDigest(ref(), 'linux/amd64'),
      (c: RegistryClient) => c.headManifestDigest(ref()),
    ]) {
      server.requests.length = 0;
      const err = await rejection(call(new RegistryClient()));
      expect(err).toBeInstanceOf(RegistryRateLimitedError);
      const limited = err as RegistryRateLimitedError;
      expect(limited.retryAfterMs).toBeGreaterThanOrEqual(min);
      expect(limited.retryAfterMs).toBeLessThanOrEqual(max);
      expect(limited.code).toBe('registry_rate_limited');
      expect(limited.registry).toBe(server.host);
      expect(err.message).toBe(`registry ${server.host}: manifest library/node:20: HTTP 429 Too Many Requests`);
      expect(server.requests).toEqual(['HEAD /v2/library/node/manifests/20']);
    }
  });

  it('gives no retry time for a Retry-After it cannot read, or none', async () => {
    for (const header of ['soon', undefined]) {
      server.answer = (_req, res) => res.writeHead(429, header ? { 'retry-after': header } : {}).end();
      const err = await rejection(new RegistryClient().tagDigest(ref(), 'linux/amd64'));
      expect(err).toBeInstanceOf(RegistryRateLimitedError);
      expect((err as RegistryRateLimitedError).retryAfterMs).toBeUndefined();
    }
  });

  it("keeps the registry's words from a 429 on a GET (the index after a good HEAD)", async () => {
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] }));
    server.answer = (req, res) => {
      if (req.method === 'HEAD') {
        res.writeHead(200, { 'content-type': MEDIA_TYPES.ociIndex, 'docker-content-digest': sha256(index) }).end();
        return;
      }
      res.writeHead(429, { 'retry-after': '7', 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'You have reached your pull rate limit.' }] }));
    };
    const err = await rejection(new RegistryClient().tagDigest(ref(), 'linux/amd64'));
    expect(err).toBeInstanceOf(RegistryRateLimitedError);
    expect((err as RegistryRateLimitedError).retryAfterMs).toBe(7_000);
    expect(err.message).toBe(`registry ${server.host}: manifest library/node@${sha256(index)}: toomanyrequests: You have reached your pull rate limit.`);
    expect(server.requests).toEqual(['HEAD /v2/library/node/manifests/20', `GET /v2/library/node/manifests/${sha256(index)}`]);
  });

  it('a token endpoint answering 429: rate limited, and nothing more is asked', async () => {
    server.answer = (req, res, host) => {
      if (req.url?.startsWith('/token')) {
        res.writeHead(429, { 'retry-after': '7' }).end();
        return;
      }
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="throttled"` }).end();
    };
    const err = await rejection(new RegistryClient().tagDigest(ref(), 'linux/amd64'));
    expect(err).toBeInstanceOf(RegistryRateLimitedError);
    expect((err as RegistryRateLimitedError).retryAfterMs).toBe(7_000);
    expect(err.message).toBe(`registry ${server.host}: token server http://${server.host} is rate limiting: HTTP 429 Too Many Requests`);
    expect(server.requests).toEqual(['HEAD /v2/library/node/manifests/20', 'GET /token']);
  });

  it('the resolver hands a 429 back at once instead of trying the next credential', async () => {
    const secrets = new MemorySecretStore();
    const logins = new RegistryLogins(secrets);
    await logins.login(server.host, { username: 'cascade', password: 'pw-Login-Poll-7' });
    const ref = await secrets.put('task', 'pw-Task-Poll-8');
    rememberSecrets('pw-Login-Poll-7', 'pw-Task-Poll-8');
    server.answer = (_req, res) => res.writeHead(429, { 'retry-after': '7' }).end();
    const resolver = new RegistryDigestResolver({ secrets, logins });
    const err = await rejection(
      resolver.resolveForPlatform({ registry: server.host, repository: 'library/node', tag: '20' }, 'linux/amd64', [
        { kind: 'basic', loginServer: server.host, username: 'task', secretRef: ref },
      ]),
    );
    expect(err).toBeInstanceOf(RegistryRateLimitedError);
    expect((err as RegistryRateLimitedError).retryAfterMs).toBe(7_000);
    expect(server.requests).toEqual(['HEAD /v2/library/node/manifests/20']);
  });
});
