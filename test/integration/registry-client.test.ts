// RegistryClient against real CNCF distribution registries started by startRegistry.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, sign } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryError } from '../../lib/domain/errors';
import { ManifestUnknownError, RegistryClient, type RegistryCredentials } from '../../lib/images/registry-client';
import { freePort } from '../../lib/local/free-port';
import { startRegistry, type RegistryProcess } from '../../lib/local/registry-process';
import { startHttpRecorder, type HttpRecorder } from '../support/http-recorder';
import { pushImage, pushIndex, sha256, type PushedImage } from '../support/registry';

const ALICE = { username: 'alice', password: 'pw-Alice-3141' };
const NOTIFY_TOKEN = 'notify-token-2718';

function clientFor(creds: RegistryCredentials | undefined, extra: { fetch?: typeof fetch; timeoutMs?: number } = {}) {
  return new RegistryClient({ credentials: async () => creds, ...extra });
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('RegistryClient against a registry with htpasswd users and notifications', () => {
  let recorder: HttpRecorder;
  let registry: RegistryProcess;
  let base: PushedImage;
  const env = ['PATH=/usr/local/bin:/usr/bin:/bin', 'NODE_VERSION=9.11.1'];

  beforeAll(async () => {
    recorder = await startHttpRecorder();
    registry = await startRegistry({
      users: { [ALICE.username]: ALICE.password, bob: 'pw-Bob-1618' },
      notify: { url: `${recorder.url}/webhooks/base`, headers: { Authorization: `Bearer ${NOTIFY_TOKEN}` } },
    });
    base = await pushImage(registry.url, 'baseimages/node', '9-alpine', { env }, ALICE);
  });

  afterAll(async () => {
    await registry?.stop();
    await recorder?.close();
  });

  const ref = (tag: string, repository = 'baseimages/node') => ({ registry: registry.host, repository, tag });

  it('resolves a tag to the sha256 of the manifest bytes that were pushed, with HEAD only', async () => {
    const methods: string[] = [];
    const recording: typeof fetch = (input, init) => {
      methods.push(`${init?.method ?? 'GET'} ${init?.headers && 'authorization' in init.headers ? 'auth' : 'anon'}`);
      return fetch(input, init);
    };
    const client = clientFor(ALICE, { fetch: recording });

    const first = await client.headManifestDigest(ref('9-alpine'));
    expect(first).toEqual({ digest: sha256(base.manifestBytes), mediaType: 'application/vnd.oci.image.manifest.v1+json' });
    expect(base.digest).toBe(first.digest);
    // The second call authenticates up front: the client remembered the Basic challenge.
    await client.headManifestDigest(ref('9-alpine'));
    expect(methods).toEqual(['HEAD anon', 'HEAD auth', 'HEAD auth']);
  });

  it('returns the manifest bytes and the image config that were pushed', async () => {
    const client = clientFor(ALICE);
    const manifest = await client.getManifest(ref('9-alpine'));
    expect(manifest.bytes.equals(base.manifestBytes)).toBe(true);
    expect(manifest.digest).toBe(base.digest);

    const config = await client.getImageConfig(ref('9-alpine'));
    expect(config.config?.Env).toEqual(env);
    const byDigest = await client.getImageConfig({ registry: registry.host, repository: 'baseimages/node', digest: base.digest });
    expect(byDigest).toEqual(config);
  });

  it('sees a new digest after the tag is pushed again (the base-image update)', async () => {
    const client = clientFor(ALICE);
    await pushImage(registry.url, 'baseimages/node', 'moving', { env: ['NODE_VERSION=9.11.1'] }, ALICE);
    const before = await client.headManifestDigest(ref('moving'));
    const again = await pushImage(registry.url, 'baseimages/node', 'moving', { env: ['NODE_VERSION=9.11.2a'] }, ALICE);
    const after = await client.headManifestDigest(ref('moving'));
    expect(after.digest).toBe(again.digest);
    expect(after.digest).not.toBe(before.digest);
    expect((await client.getImageConfig(ref('moving'))).config?.Env).toEqual(['NODE_VERSION=9.11.2a']);
  }, 20_000);

  it.each([
    ['a wrong password', { username: ALICE.username, password: 'not-the-Password-42' }, /unauthorized: authentication required \(the credentials for .* were refused\)/],
    ['an unknown user', { username: 'mallory', password: 'mallory-Pass-77' }, /unauthorized: authentication required/],
    ['no credentials', undefined, /unauthorized: authentication required \(no credentials are configured for /],
  ])('fails with the registry reason given %s', async (_case, creds, reason) => {
    for (const call of [
      (c: RegistryClient) => c.headManifestDigest(ref('9-alpine')),
      (c: RegistryClient) => c.getImageConfig(ref('9-alpine')),
      (c: RegistryClient) => c.ping(registry.host),
    ]) {
      const err = await rejection(call(clientFor(creds)));
      expect(err).toBeInstanceOf(RegistryError);
      expect(err.message).toMatch(reason);
      expect(err.message).toContain(registry.host);
      if (creds) expect(err.message).not.toContain(creds.password);
    }
  });

  it('accepts good credentials on ping', async () => {
    await expect(clientFor(ALICE).ping(registry.host)).resolves.toBeUndefined();
  });

  it.each([
    ['an unknown tag', { registry: '', repository: 'baseimages/node', tag: 'no-such-tag' }, /registry 127\.0\.0\.1:\d+: manifest unknown: baseimages\/node:no-such-tag$/],
    ['an unknown repository', { registry: '', repository: 'nobody/here', tag: 'x' }, /manifest unknown: nobody\/here:x$/],
    ['an unknown digest', { registry: '', repository: 'baseimages/node', digest: sha256('nothing') }, /manifest unknown: baseimages\/node@sha256:[a-f0-9]{64}$/],
  ])('fails with ManifestUnknownError for %s', async (_case, target, reason) => {
    const r = { ...target, registry: registry.host };
    const client = clientFor(ALICE);
    for (const err of [await rejection(client.headManifestDigest(r)), await rejection(client.getImageConfig(r))]) {
      expect(err).toBeInstanceOf(ManifestUnknownError);
      expect(err).toBeInstanceOf(RegistryError);
      expect(err.message).toMatch(reason);
    }
  });

  it('follows an index to the requested platform', async () => {
    const index = await pushIndex(
      registry.url,
      'multi/arch',
      'v1',
      [
        { os: 'linux', architecture: 'amd64', env: ['ARCH=amd64'] },
        { os: 'linux', architecture: 'arm64', variant: 'v8', env: ['ARCH=arm64'] },
      ],
      ALICE,
    );
    const client = clientFor(ALICE);
    const target = ref('v1', 'multi/arch');
    expect(await client.headManifestDigest(target)).toEqual({
      digest: sha256(index.manifestBytes),
      mediaType: 'application/vnd.oci.image.index.v1+json',
    });
    expect((await client.getImageConfig(target)).config?.Env).toEqual(['ARCH=amd64']);
    expect((await client.getImageConfig(target, 'linux/arm64')).config?.Env).toEqual(['ARCH=arm64']);
    expect((await client.getImageConfig(target, 'linux/arm64/v8')).config?.Env).toEqual(['ARCH=arm64']);
    const err = await rejection(client.getImageConfig(target, 'linux/s390x'));
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.message).toMatch(/no image for linux\/s390x \(available: linux\/amd64, linux\/arm64\/v8\)/);
  }, 20_000);

  it('notifies the configured endpoint of the tagged manifest push, with the configured header', async () => {
    const delivery = await recorder.waitFor((r) => {
      if (r.path !== '/webhooks/base') return false;
      const events = (JSON.parse(r.body.toString()) as { events: { action: string; target: { tag?: string } }[] }).events;
      return events.some((e) => e.action === 'push' && e.target.tag === '9-alpine');
    }, 15_000);
    expect(delivery.method).toBe('POST');
    expect(delivery.headers.authorization).toBe(`Bearer ${NOTIFY_TOKEN}`);
    const events = (JSON.parse(delivery.body.toString()) as {
      events: { action: string; target: { tag?: string; repository: string; digest: string; mediaType: string } }[];
    }).events;
    const push = events.find((e) => e.action === 'push' && e.target.tag === '9-alpine');
    expect(push?.target).toMatchObject({
      repository: 'baseimages/node',
      digest: base.digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
    });
  }, 20_000);

  it('keeps user passwords out of the files a reader of the data dir would see first', async () => {
    const { readFile } = await import('node:fs/promises');
    const htpasswd = await readFile(`${registry.dataDir}/htpasswd`, 'utf8');
    expect(htpasswd).toMatch(/^alice:\$2y\$/m);
    expect(htpasswd).not.toContain(ALICE.password);
    expect(await readFile(registry.logFile, 'utf8')).not.toContain(ALICE.password);
  });
});

describe('RegistryClient against an open registry', () => {
  let registry: RegistryProcess;
  let base: PushedImage;
  let silent: Server;

  beforeAll(async () => {
    registry = await startRegistry({});
    base = await pushImage(registry.url, 'library/busybox', 'latest', { env: ['HOME=/root'] });
    // Accepts connections and never answers.
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await registry?.stop();
    silent?.closeAllConnections();
    await new Promise((resolve) => (silent ? silent.close(resolve) : resolve(undefined)));
  });

  it('reads anonymously and never asks for credentials the registry does not want', async () => {
    const credentials = jest.fn(async () => ALICE);
    const client = new RegistryClient({ credentials });
    const target = { registry: registry.host, repository: 'library/busybox', tag: 'latest' };
    expect((await client.headManifestDigest(target)).digest).toBe(base.digest);
    expect((await client.getImageConfig(target)).config?.Env).toEqual(['HOME=/root']);
    await client.ping(registry.host);
    expect(credentials).not.toHaveBeenCalled();
  });

  it('takes a missing tag as "latest"', async () => {
    const digest = await new RegistryClient().headManifestDigest({ registry: registry.host, repository: 'library/busybox' });
    expect(digest.digest).toBe(base.digest);
  });

  it('fails with "connection refused" for a port nobody listens on', async () => {
    const port = await freePort();
    const err = await rejection(new RegistryClient().headManifestDigest({ registry: `127.0.0.1:${port}`, repository: 'a', tag: 'b' }));
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.message).toMatch(new RegExp(`registry 127\\.0\\.0\\.1:${port}: cannot reach http://127\\.0\\.0\\.1:${port}/v2/a/manifests/b: connection refused`));
  });

  it('fails with a timeout for a registry that never answers', async () => {
    const { port } = silent.address() as AddressInfo;
    const err = await rejection(new RegistryClient({ timeoutMs: 300 }).getManifest({ registry: `127.0.0.1:${port}`, repository: 'a', tag: 'b' }));
    expect(err).toBeInstanceOf(RegistryError);
    // The client's own timeout ended the wait, not the silence ending.
    expect(err.message).toMatch(/timed out after 300 ms/);
  });
});

describe('startRegistry', () => {
  it('removes the data dir it created when stopped, and stop() can be called twice', async () => {
    const registry = await startRegistry({});
    expect(existsSync(registry.dataDir)).toBe(true);
    const res = await fetch(`${registry.url}/v2/`);
    expect(res.status).toBe(200);
    await Promise.all([registry.stop(), registry.stop()]);
    expect(existsSync(registry.dataDir)).toBe(false);
    await expect(fetch(`${registry.url}/v2/`)).rejects.toThrow();
  });

  describe('with a stand-in binary that misbehaves', () => {
    let bin: string;
    beforeAll(() => {
      bin = mkdtempSync(join(tmpdir(), 'cascade-fake-registry-'));
    });
    afterAll(() => rmSync(bin, { recursive: true, force: true }));

    const script = (name: string, body: string) => {
      const path = join(bin, name);
      writeFileSync(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
      return path;
    };

    it('gives up after the ready timeout, with the log tail', async () => {
      const err = await rejection(
        startRegistry({ binary: script('hangs', 'echo "loading $2"; exec sleep 60'), readyTimeoutMs: 500 }),
      );
      expect(err.message).toMatch(/did not answer GET \/v2\/ within 500 ms; last log lines:\nloading .*config\.yml/);
    });

    it('reports an early exit without the secrets it was configured with', async () => {
      const err = await rejection(
        startRegistry({
          binary: script('dies', 'grep -h -o "Bearer [^\\"]*" "$2"; exit 3'),
          notify: { url: 'http://127.0.0.1:9/hook', headers: { Authorization: 'Bearer Notify-Secret-77' } },
        }),
      );
      expect(err.message).toMatch(/exited during start-up \(code 3\); last log lines:\n\*\*\*$/);
      expect(err.message).not.toContain('Notify-Secret-77');
    });

    it('says how to install the registry when the binary is missing', async () => {
      const err = await rejection(startRegistry({ binary: join(bin, 'absent') }));
      expect(err.message).toMatch(/not found \(install it with apt-get install docker-registry\)/);
    });
  });

  it('fails with the registry log tail when its port is taken', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    try {
      const err = await rejection(startRegistry({ port }));
      expect(err.message).toMatch(new RegExp(`docker-registry on 127\\.0\\.0\\.1:${port} exited during start-up`));
      expect(err.message).toMatch(/address already in use/);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});

/**
 * distribution in token mode: it only checks JWTs, so the test is the token server. It signs
 * with a self-signed certificate the registry trusts, carried in the JWT's x5c header.
 */
describe('RegistryClient against a registry in token-auth mode', () => {
  let dir: string;
  let tokenServer: Server;
  let registry: RegistryProcess;
  let base: PushedImage;
  const tokenRequests: { scope: string | null; user?: string }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cascade-token-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=cascade-test-token',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    const key = createPrivateKey(readFileSync(join(dir, 'key.pem')));
    const certDer = readFileSync(join(dir, 'cert.pem'), 'utf8').replace(/-----[^-]+-----|\s/g, '');
    const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

    tokenServer = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://token');
      const scope = url.searchParams.get('scope');
      let user: string | undefined;
      if (req.headers.authorization) {
        const [name, password] = Buffer.from(req.headers.authorization.replace(/^Basic /, ''), 'base64').toString().split(':');
        if (name !== ALICE.username || password !== ALICE.password) {
          res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ details: 'incorrect username or password' }));
          return;
        }
        user = name;
      }
      tokenRequests.push({ scope, user });
      // alice may pull and push anything; anonymous callers may pull public/* only.
      const [type, name, actions] = (scope ?? '').split(':');
      const granted = (actions ?? '').split(',').filter((a) => (user ? ['pull', 'push'] : name?.startsWith('public/') ? ['pull'] : []).includes(a));
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: 'cascade-test-issuer',
        sub: user ?? '',
        aud: 'cascade-test-registry',
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: `${now}-${tokenRequests.length}`,
        access: scope && type && name ? [{ type, name, actions: granted }] : [],
      };
      const unsigned = `${b64url({ alg: 'RS256', typ: 'JWT', x5c: [certDer] })}.${b64url(claims)}`;
      const token = `${unsigned}.${sign('sha256', Buffer.from(unsigned), key).toString('base64url')}`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
    });
    await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', resolve));
    const { port } = tokenServer.address() as AddressInfo;

    registry = await startRegistry({
      tokenAuth: {
        realm: `http://127.0.0.1:${port}/token`,
        service: 'cascade-test-registry',
        issuer: 'cascade-test-issuer',
        rootCertBundle: join(dir, 'cert.pem'),
      },
    });

    // Push as alice, with a token for push rights.
    const push = await (await fetch(
      `http://127.0.0.1:${port}/token?service=cascade-test-registry&scope=repository:private/app:pull,push`,
      { headers: { authorization: `Basic ${Buffer.from(`${ALICE.username}:${ALICE.password}`).toString('base64')}` } },
    )).json() as { token: string };
    base = await pushImage(registry.url, 'private/app', 'v1', { env: ['FROM_TOKEN_REGISTRY=1'] }, { bearer: push.token });
    tokenRequests.length = 0;
  }, 30_000);

  afterAll(async () => {
    await registry?.stop();
    tokenServer?.closeAllConnections();
    await new Promise((resolve) => (tokenServer ? tokenServer.close(resolve) : resolve(undefined)));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gets a pull token with the credentials and reads the image', async () => {
    const client = clientFor(ALICE);
    const target = { registry: registry.host, repository: 'private/app', tag: 'v1' };
    expect((await client.headManifestDigest(target)).digest).toBe(base.digest);
    expect((await client.getImageConfig(target)).config?.Env).toEqual(['FROM_TOKEN_REGISTRY=1']);
    // One token for the repository's pull scope serves all three requests.
    expect(tokenRequests).toEqual([{ scope: 'repository:private/app:pull', user: 'alice' }]);
  });

  it('fails with the registry reason when an anonymous token does not open the repository', async () => {
    const err = await rejection(clientFor(undefined).headManifestDigest({ registry: registry.host, repository: 'private/app', tag: 'v1' }));
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.message).toMatch(/manifest private\/app:v1: unauthorized: authentication required/);
    expect(err.message).toMatch(/no credentials are configured/);
  });

  it("fails with the token server's reason for a wrong password", async () => {
    const err = await rejection(
      clientFor({ username: ALICE.username, password: 'Wrong-Password-1' }).headManifestDigest({ registry: registry.host, repository: 'private/app', tag: 'v1' }),
    );
    expect(err).toBeInstanceOf(RegistryError);
    expect(err.message).toMatch(/refused the credentials: incorrect username or password/);
    expect(err.message).not.toContain('Wrong-Password-1');
  });
});
