// A small client for the OCI distribution API: tag → digest, manifests and image configs,
// with the Basic and Bearer-token auth flows registries use. A 429 from the registry or its
// token server is a RegistryRateLimitedError carrying the registry's Retry-After.
import { createHash } from 'node:crypto';
import { InvalidImageReferenceError, RegistryError, RegistryRateLimitedError } from '../domain/errors';
import type { ImageRef } from '../domain/types';
import {
  DOCKER_HUB_API,
  isDockerHub,
  isLoopbackHost,
  isValidDigest,
  isValidRegistry,
  isValidRepository,
  isValidTag,
  qualifiedRepository,
} from './reference';

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface RegistryClientOptions {
  /** Called with the registry as written in the reference (`docker.io`, `127.0.0.1:5000`). */
  credentials?: (registry: string) => Promise<RegistryCredentials | undefined>;
  /** Registries (`host` or `host:port`) spoken to over plain HTTP besides loopback ones. */
  insecureHosts?: string[];
  fetch?: typeof fetch;
  /** Per HTTP request, body included. */
  timeoutMs?: number;
}

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.dockerManifest,
].join(', ');

const INDEX_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList]);
const IMAGE_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]);

/** What a tag points to, and the image a build for one platform would pull from it. */
export interface TagPlatformDigest {
  digest: string;
  mediaType: string;
  /** The platform's image manifest; equals `digest` for a single-image tag. */
  platformDigest: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface Manifest {
  /** sha256 of `bytes`, the manifest's identity. */
  digest: string;
  mediaType: string;
  bytes: Buffer;
  content: ImageIndex | ImageManifest;
}

/** The parts of an OCI image config cascade reads; the rest is kept as-is. */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  config?: {
    Env?: string[];
    Labels?: Record<string, string>;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    User?: string;
    [key: string]: unknown;
  };
  rootfs?: { type: string; diff_ids: string[] };
  [key: string]: unknown;
}

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024; // the distribution spec's limit
const MAX_CONFIG_BYTES = 32 * 1024 * 1024;
const MAX_INDEX_DEPTH = 3;

/** The tag or manifest does not exist in the registry (HTTP 404, MANIFEST_UNKNOWN / NAME_UNKNOWN). */
export class ManifestUnknownError extends RegistryError {
  constructor(registry: string, readonly reference: string, reason: string) {
    super(registry, `${reason}: ${reference}`);
  }
}

type Challenge =
  | { scheme: 'basic' }
  | { scheme: 'bearer'; realm: string; service?: string; scope?: string };

interface CachedToken {
  token: string;
  expiresAt: number;
}

export class RegistryClient {
  private readonly credentials: RegistryClientOptions['credentials'];
  private readonly insecureHosts: Set<string>;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;
  /** What each host asked for last time, so later requests authenticate up front. */
  private readonly challenges = new Map<string, Challenge>();
  private readonly tokens = new Map<string, CachedToken>();

  constructor(opts: RegistryClientOptions = {}) {
    this.credentials = opts.credentials;
    this.insecureHosts = new Set((opts.insecureHosts ?? []).map((h) => h.toLowerCase()));
    this.fetch = opts.fetch ?? globalThis.fetch;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /**
   * The digest a tag points to now. HEAD first (registries do not count it as a pull);
   * GET and hash the body when HEAD gives no digest or fails, which also yields the
   * registry's own error reason, since HEAD responses have no body.
   */
  async headManifestDigest(ref: ImageRef): Promise<{ digest: string; mediaType: string }> {
    const head = await this.head(this.target(ref), ref);
    if (head) return { digest: head.digest, mediaType: head.mediaType ?? '' };
    const manifest = await this.getManifest(ref);
    return { digest: manifest.digest, mediaType: manifest.mediaType };
  }

  /**
   * The tag's digest and the digest of its image for `platform` (`os/arch[/variant]`), for a
   * poller: a new architecture added to an index changes `digest` but not `platformDigest`.
   * When HEAD still names `known.digest`, `known.platformDigest` is returned after that one HEAD.
   * A single image is not fetched at all; an index is fetched once per level of nesting.
   */
  async tagDigest(ref: ImageRef, platform: string, known?: { digest: string; platformDigest: string }): Promise<TagPlatformDigest> {
    const target = this.target(ref);
    const head = await this.head(target, ref);
    let manifest: Manifest;
    if (head) {
      const mediaType = head.mediaType ?? '';
      if (known && head.digest === known.digest) return { digest: head.digest, mediaType, platformDigest: known.platformDigest };
      if (IMAGE_TYPES.has(mediaType)) return { digest: head.digest, mediaType, platformDigest: head.digest };
      // By digest, so the index read is the one HEAD named even if the tag moves meanwhile.
      manifest = await this.getManifest({ registry: ref.registry, repository: ref.repository, digest: head.digest });
    } else {
      manifest = await this.getManifest(ref);
      if (known && manifest.digest === known.digest) {
        return { digest: manifest.digest, mediaType: manifest.mediaType, platformDigest: known.platformDigest };
      }
    }
    const platformDigest = isIndex(manifest.content) ? await this.platformDigest(target, ref, manifest.content, platform) : manifest.digest;
    return { digest: manifest.digest, mediaType: manifest.mediaType, platformDigest };
  }

  async getManifest(ref: ImageRef): Promise<Manifest> {
    const target = this.target(ref);
    const res = await this.request(target, 'GET', `/v2/${target.repository}/manifests/${target.reference}`, MANIFEST_ACCEPT);
    if (!res.ok) throw await this.failure(target, res, `manifest ${target.display}`);
    const bytes = await this.readBody(target, res, MAX_MANIFEST_BYTES, `manifest ${target.display}`);
    const digest = ref.digest?.startsWith('sha512:') ? digestOf(bytes, 'sha512') : digestOf(bytes, 'sha256');
    if (ref.digest && ref.digest !== digest) {
      throw new RegistryError(target.registry, `manifest ${target.display} has digest ${digest}, not the one asked for`);
    }
    let content: ImageIndex | ImageManifest;
    try {
      content = JSON.parse(bytes.toString('utf8')) as ImageIndex | ImageManifest;
    } catch {
      throw new RegistryError(target.registry, `manifest ${target.display} is not valid JSON`);
    }
    const mediaType = content.mediaType ?? mediaTypeOf(res) ?? '';
    if (!isIndex(content) && !isImageManifest(content)) {
      throw new RegistryError(target.registry, `manifest ${target.display} has unsupported type ${mediaType || 'unknown'}`);
    }
    return { digest, mediaType, bytes, content };
  }

  /**
   * The image's config blob (Env, Labels, …). An index is followed to the manifest for
   * `platform` (`os/arch[/variant]`).
   */
  async getImageConfig(ref: ImageRef, platform = 'linux/amd64'): Promise<ImageConfig> {
    const target = this.target(ref);
    let manifest = await this.getManifest(ref);
    for (let depth = 0; isIndex(manifest.content); depth++) {
      if (depth >= MAX_INDEX_DEPTH) throw new RegistryError(target.registry, `index ${target.display} nests too deeply`);
      const chosen = this.choosePlatform(target, manifest.content, platform);
      manifest = await this.getManifest({ registry: ref.registry, repository: ref.repository, digest: chosen.digest });
    }
    const configDigest = manifest.content.config.digest;
    if (!/^sha256:[a-f0-9]{64}$/.test(configDigest)) {
      throw new RegistryError(target.registry, `manifest ${target.display} names an unsupported config digest`);
    }
    const res = await this.request(target, 'GET', `/v2/${target.repository}/blobs/${configDigest}`, '*/*');
    if (!res.ok) throw await this.failure(target, res, `config blob ${configDigest} of ${target.display}`);
    const bytes = await this.readBody(target, res, MAX_CONFIG_BYTES, `config of ${target.display}`);
    if (digestOf(bytes, 'sha256') !== configDigest) {
      throw new RegistryError(target.registry, `config blob of ${target.display} does not match its digest ${configDigest}`);
    }
    try {
      return JSON.parse(bytes.toString('utf8')) as ImageConfig;
    } catch {
      throw new RegistryError(target.registry, `config blob of ${target.display} is not valid JSON`);
    }
  }

  /** Checks the registry answers and accepts our credentials (as `docker login` does). */
  async ping(registry: string): Promise<void> {
    const target = { ...this.endpoint(registry), display: registry };
    const res = await this.request(target, 'GET', '/v2/', 'application/json');
    if (!res.ok) throw await this.failure(target, res, 'API check');
    await res.arrayBuffer().catch(() => undefined);
  }

  /**
   * HEAD's digest when HEAD gave a usable one; undefined when a GET should be tried instead,
   * which also yields the registry's own error reason (HEAD responses have no body).
   */
  private async head(target: Target, ref: ImageRef): Promise<{ digest: string; mediaType?: string } | undefined> {
    const res = await this.request(target, 'HEAD', `/v2/${target.repository}/manifests/${target.reference}`, MANIFEST_ACCEPT);
    const digest = res.headers.get('docker-content-digest');
    if (res.ok && digest && /^sha256:[a-f0-9]{64}$/.test(digest) && (!ref.digest || digest === ref.digest)) {
      return { digest, mediaType: mediaTypeOf(res) };
    }
    // A GET counts as a pull against rate limits: do not add one to a throttled or failing registry.
    if (res.status === 429 || res.status >= 500) throw await this.failure(target, res, `manifest ${target.display}`);
    return undefined;
  }

  /** Follows `index` to the image manifest for `platform`; a nested index is fetched, an image is not. */
  private async platformDigest(target: Target, ref: ImageRef, index: ImageIndex, platform: string): Promise<string> {
    for (let depth = 0; ; depth++) {
      if (depth >= MAX_INDEX_DEPTH) throw new RegistryError(target.registry, `index ${target.display} nests too deeply`);
      const chosen = this.choosePlatform(target, index, platform);
      if (!INDEX_TYPES.has(chosen.mediaType)) return chosen.digest;
      const nested = await this.getManifest({ registry: ref.registry, repository: ref.repository, digest: chosen.digest });
      if (!isIndex(nested.content)) return nested.digest;
      index = nested.content;
    }
  }

  /** The index entry for `platform`, or an error naming the platforms the index has. */
  private choosePlatform(target: Scoped, index: ImageIndex, platform: string): Descriptor {
    const chosen = pickPlatform(index.manifests, platform);
    if (!chosen) {
      const available = index.manifests
        .map((m) => m.platform && [m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join('/'))
        .filter((p) => p && !p.startsWith('unknown'))
        .join(', ');
      throw new RegistryError(target.registry, `${target.display} has no image for ${platform} (available: ${available || 'none'})`);
    }
    // The digest is handed on (recorded, put in URLs): refuse one outside the reference grammar.
    if (typeof chosen.digest !== 'string' || !isValidDigest(chosen.digest)) {
      throw new RegistryError(target.registry, `index ${target.display} names an invalid digest for ${platform}`);
    }
    return chosen;
  }

  private target(ref: ImageRef): Target {
    const ep = this.endpoint(ref.registry);
    // Checked again here, whatever parsed it: these go into URL paths.
    const repository = qualifiedRepository(ref.registry, ref.repository);
    if (!isValidRepository(repository)) {
      throw new InvalidImageReferenceError(`${ref.registry}/${ref.repository}`, 'repository name is not valid');
    }
    if (ref.digest !== undefined && !isValidDigest(ref.digest)) {
      throw new InvalidImageReferenceError(`${ref.registry}/${ref.repository}@${ref.digest}`, 'digest is not valid');
    }
    if (ref.tag !== undefined && !isValidTag(ref.tag)) {
      throw new InvalidImageReferenceError(`${ref.registry}/${ref.repository}:${ref.tag}`, 'tag is not valid');
    }
    const reference = ref.digest ?? ref.tag ?? 'latest';
    return {
      ...ep,
      repository,
      reference,
      scope: `repository:${repository}:pull`,
      display: `${ref.repository}${ref.digest ? '@' : ':'}${reference}`,
    };
  }

  private endpoint(registry: string): Endpoint {
    if (!isValidRegistry(registry)) throw new InvalidImageReferenceError(registry, 'registry host is not valid');
    const name = registry.toLowerCase();
    const host = isDockerHub(name) ? DOCKER_HUB_API : name;
    const plain = isLoopbackHost(host) || this.insecureHosts.has(name) || this.insecureHosts.has(hostnameOf(name));
    return { registry, host, base: `${plain ? 'http' : 'https'}://${host}` };
  }

  /** One API call, answering at most one auth challenge. The caller reads or discards the body. */
  private async request(t: Scoped, method: string, path: string, accept: string): Promise<Response> {
    const url = `${t.base}${path}`;
    const known = this.challenges.get(t.host);
    let authorization = known ? await this.authorization(t, known, false) : undefined;
    let res = await this.send(t, url, method, accept, authorization);
    if (res.status !== 401) return res;

    const challenge = parseChallenge(res.headers.get('www-authenticate'), t.scope);
    if (!challenge) return res;
    this.challenges.set(t.host, challenge);
    // Retrying with what was just refused cannot help, unless a cached token merely expired.
    const retryable = authorization === undefined || challenge.scheme === 'bearer';
    if (!retryable) return res;
    authorization = await this.authorization(t, challenge, true);
    if (authorization === undefined) return res;
    await res.arrayBuffer().catch(() => undefined);
    res = await this.send(t, url, method, accept, authorization);
    return res;
  }

  private async send(t: Endpoint, url: string, method: string, accept: string, authorization?: string): Promise<Response> {
    const headers: Record<string, string> = { accept, 'user-agent': 'cascade' };
    if (authorization) headers.authorization = authorization;
    try {
      return await this.fetch(url, { method, headers, redirect: 'follow', signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw new RegistryError(t.registry, `cannot reach ${url}: ${networkReason(err, this.timeoutMs)}`, { cause: err });
    }
  }

  /** `fresh`: answering a 401, so use the scope the registry just named and skip the cache. */
  private async authorization(t: Scoped, challenge: Challenge, fresh: boolean): Promise<string | undefined> {
    const creds = await this.credentials?.(t.registry);
    if (challenge.scheme === 'basic') {
      return creds ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` : undefined;
    }
    const scope = fresh ? (challenge.scope ?? t.scope) : t.scope;
    const key = [challenge.realm, challenge.service ?? '', scope ?? '', creds?.username ?? ''].join('|');
    const cached = this.tokens.get(key);
    if (cached && !fresh && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
    this.tokens.delete(key);
    const token = await this.fetchToken(t, challenge, scope, creds);
    this.tokens.set(key, token);
    return `Bearer ${token.token}`;
  }

  private async fetchToken(
    t: Endpoint,
    challenge: Extract<Challenge, { scheme: 'bearer' }>,
    scope: string | undefined,
    creds: RegistryCredentials | undefined,
  ): Promise<CachedToken> {
    let realm: URL;
    try {
      realm = new URL(challenge.realm);
    } catch {
      throw new RegistryError(t.registry, `token realm "${challenge.realm}" is not a URL`);
    }
    if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && (isLoopbackHost(realm.hostname) || this.insecureHosts.has(realm.host)))) {
      throw new RegistryError(t.registry, `token realm ${realm.origin} is not HTTPS; refusing to send credentials there`);
    }
    if (challenge.service) realm.searchParams.set('service', challenge.service);
    if (scope) realm.searchParams.set('scope', scope);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'cascade' };
    if (creds) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    let res: Response;
    try {
      res = await this.fetch(realm, { headers, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw new RegistryError(t.registry, `cannot reach token server ${realm.origin}: ${networkReason(err, this.timeoutMs)}`, { cause: err });
    }
    const text = await res.text().catch(() => '');
    if (res.status === 429) {
      const reason = errorReason(text) ?? `HTTP 429${res.statusText ? ` ${res.statusText}` : ''}`;
      throw new RegistryRateLimitedError(t.registry, `token server ${realm.origin} is rate limiting: ${reason}`, retryAfterMs(res.headers.get('retry-after')));
    }
    if (!res.ok) {
      const reason = errorReason(text) ?? `HTTP ${res.status}`;
      throw new RegistryError(t.registry, `token server ${realm.origin} refused ${creds ? 'the credentials' : 'anonymous access'}: ${reason}`);
    }
    let body: { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new RegistryError(t.registry, `token server ${realm.origin} answered something that is not JSON`);
    }
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(t.registry, `token server ${realm.origin} answered without a token`);
    // The spec's default lifetime is 60 s; renew a little early so a token never expires in flight.
    const issued = body.issued_at ? Date.parse(body.issued_at) : NaN;
    const start = Number.isFinite(issued) ? Math.min(issued, Date.now()) : Date.now();
    const lifetime = (typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60) * 1000;
    return { token, expiresAt: start + lifetime - Math.min(10_000, lifetime / 10) };
  }

  private async failure(t: Scoped, res: Response, what: string): Promise<RegistryError> {
    const text = await res.text().catch(() => '');
    const reason = errorReason(text) ?? `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    if (res.status === 429) return new RegistryRateLimitedError(t.registry, `${what}: ${reason}`, retryAfterMs(res.headers.get('retry-after')));
    if (res.status === 404 && what.startsWith('manifest')) {
      return new ManifestUnknownError(t.registry, t.display, reason.startsWith('HTTP') ? 'manifest unknown' : reason);
    }
    let hint = '';
    if (res.status === 401 || res.status === 403) {
      const creds = await this.credentials?.(t.registry).catch(() => undefined);
      hint = creds ? ` (the credentials for ${t.registry} were refused)` : ` (no credentials are configured for ${t.registry})`;
    }
    return new RegistryError(t.registry, `${what}: ${reason}${hint}`);
  }

  private async readBody(t: Endpoint, res: Response, limit: number, what: string): Promise<Buffer> {
    const declared = Number(res.headers.get('content-length'));
    if (declared > limit) throw new RegistryError(t.registry, `${what} is larger than ${limit} bytes`);
    let bytes: Buffer;
    try {
      bytes = Buffer.from(await res.arrayBuffer());
    } catch (err) {
      throw new RegistryError(t.registry, `reading ${what}: ${networkReason(err, this.timeoutMs)}`, { cause: err });
    }
    if (bytes.length > limit) throw new RegistryError(t.registry, `${what} is larger than ${limit} bytes`);
    return bytes;
  }
}

interface Endpoint {
  /** As written in the reference. */
  registry: string;
  /** Where requests go. */
  host: string;
  base: string;
}

interface Scoped extends Endpoint {
  /** Token scope for requests about one repository. */
  scope?: string;
  /** How errors name what was asked for. */
  display: string;
}

interface Target extends Scoped {
  repository: string;
  reference: string;
}

function hostnameOf(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

function isIndex(m: ImageIndex | ImageManifest): m is ImageIndex {
  return Array.isArray((m as ImageIndex).manifests);
}

function isImageManifest(m: ImageIndex | ImageManifest): m is ImageManifest {
  const config = (m as ImageManifest).config;
  return typeof config === 'object' && config !== null && typeof config.digest === 'string';
}

function mediaTypeOf(res: Response): string | undefined {
  return res.headers.get('content-type')?.split(';')[0]?.trim() || undefined;
}

function digestOf(bytes: Buffer, algorithm: 'sha256' | 'sha512'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** `os/arch[/variant]`; an entry without a variant matches any asked variant of arm64/v8's default. */
export function pickPlatform(manifests: Descriptor[], platform: string): Descriptor | undefined {
  const [os, architecture, variant] = platform.split('/');
  const candidates = manifests.filter(
    // buildx attestations sit in the index beside the images (as unknown/unknown); they are never what a build pulls.
    (m) => m.platform?.os === os && m.platform?.architecture === architecture && m.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest',
  );
  if (variant) {
    return (
      candidates.find((m) => m.platform?.variant === variant) ??
      (architecture === 'arm64' && variant === 'v8' ? candidates.find((m) => !m.platform?.variant) : undefined)
    );
  }
  return candidates.find((m) => !m.platform?.variant) ?? candidates[0];
}

/**
 * A Retry-After header in milliseconds from `now`: delta-seconds or an HTTP-date (a date in the
 * past is 0). Undefined when absent or unreadable, so the caller falls back to its own backoff.
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // Date.parse reads nearly anything ("1.5" is a day in 2001): insist on an HTTP-date's leading weekday.
  if (!/^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s/i.test(value)) return undefined;
  // The asctime form has no zone, and HTTP-dates are always GMT.
  const at = Date.parse(/(?:GMT|UTC|[+-]\d{4})$/i.test(value) ? value : `${value} GMT`);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/** `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. */
export function parseChallenge(header: string | null, fallbackScope?: string): Challenge | undefined {
  if (!header) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase();
  const params: Record<string, string> = {};
  for (const p of (match[2] ?? '').matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  }
  if (scheme === 'basic') return { scheme: 'basic' };
  if (scheme === 'bearer' && params.realm) {
    return { scheme: 'bearer', realm: params.realm, service: params.service, scope: params.scope ?? fallbackScope };
  }
  return undefined;
}

/** The registry's own words from an `errors[]` body (or a token server's `details`/`error`). */
export function errorReason(body: string): string | undefined {
  if (!body) return undefined;
  try {
    const json = JSON.parse(body) as {
      errors?: { code?: string; message?: string }[];
      details?: string;
      error?: string;
      error_description?: string;
    };
    if (Array.isArray(json.errors) && json.errors.length > 0) {
      return json.errors
        .map((e) => {
          // As docker prints them: `UNAUTHORIZED` + `authentication required` → `unauthorized: authentication required`.
          const code = e.code?.toLowerCase().replace(/_/g, ' ');
          return code && e.message && code !== e.message.toLowerCase() ? `${code}: ${e.message}` : (e.message ?? code ?? '');
        })
        .filter(Boolean)
        .join('; ');
    }
    const text = json.details ?? json.error_description ?? json.error;
    return typeof text === 'string' && text ? text : undefined;
  } catch {
    const line = body.trim().split('\n')[0]?.trim() ?? '';
    // An HTML error page says nothing useful in one line.
    return line && !line.startsWith('<') ? line.slice(0, 200) : undefined;
  }
}

function networkReason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string; errors?: { code?: string }[] } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  const code = e?.cause?.code ?? e?.cause?.errors?.[0]?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection reset';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connection timed out';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
  }
  if (code && (/CERT|SSL|TLS/.test(code) || code === 'ERR_SSL_WRONG_VERSION_NUMBER')) {
    return `TLS failed (${code}); if the registry speaks plain HTTP, list it as insecure`;
  }
  return code ? `${code}` : (e?.cause?.message ?? e?.message ?? 'network error');
}
