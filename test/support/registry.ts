// Pushes small but real OCI images to a registry with plain distribution API calls: faster
// than buildah, and every byte (hence every digest) is known to the test.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export interface BasicAuth {
  username: string;
  password: string;
}

/** Basic credentials, or a token already obtained from a token server. */
export type PushAuth = BasicAuth | { bearer: string };

export interface PushedImage {
  /** sha256 of the manifest bytes, what the tag now points to. */
  digest: string;
  manifestBytes: Buffer;
  config: Record<string, unknown>;
  configDigest: string;
  layerDigest: string;
}

export interface ImageSpec {
  env?: string[];
  os?: string;
  architecture?: string;
  variant?: string;
  /** Files in the single layer; default one marker file. */
  files?: Record<string, string>;
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function authHeader(auth?: PushAuth): Record<string, string> {
  if (!auth) return {};
  if ('bearer' in auth) return { authorization: `Bearer ${auth.bearer}` };
  return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
}

/** POST then a monolithic PUT; answers the blob's digest. */
export async function pushBlob(baseUrl: string, repository: string, bytes: Buffer, auth?: PushAuth): Promise<string> {
  const digest = sha256(bytes);
  const start = await fetch(`${baseUrl}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers: authHeader(auth) });
  await start.arrayBuffer();
  const location = start.headers.get('location');
  if (start.status !== 202 || !location) throw new Error(`blob upload start: HTTP ${start.status}`);
  const url = new URL(location, baseUrl);
  url.searchParams.set('digest', digest);
  const put = await fetch(url, {
    method: 'PUT',
    headers: { ...authHeader(auth), 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
    body: new Uint8Array(bytes),
  });
  const text = await put.text();
  if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status} ${text}`);
  return digest;
}

export async function pushManifest(
  baseUrl: string,
  repository: string,
  reference: string,
  bytes: Buffer,
  mediaType: string,
  auth?: PushAuth,
): Promise<string> {
  const res = await fetch(`${baseUrl}/v2/${repository}/manifests/${reference}`, {
    method: 'PUT',
    headers: { ...authHeader(auth), 'content-type': mediaType },
    body: new Uint8Array(bytes),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`manifest push: HTTP ${res.status} ${text}`);
  return res.headers.get('docker-content-digest') ?? sha256(bytes);
}

/** One OCI image (config + one gzipped tar layer + manifest), tagged `reference`. */
export async function pushImage(
  baseUrl: string,
  repository: string,
  reference: string,
  spec: ImageSpec = {},
  auth?: PushAuth,
): Promise<PushedImage> {
  const tar = tarOf(spec.files ?? { 'etc/cascade-test': `${repository}:${reference}\n` });
  const layer = gzipSync(tar);
  const config: Record<string, unknown> = {
    architecture: spec.architecture ?? 'amd64',
    os: spec.os ?? 'linux',
    ...(spec.variant ? { variant: spec.variant } : {}),
    config: { Env: spec.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
    history: [{ created_by: 'test/support/registry.ts' }],
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = await pushBlob(baseUrl, repository, configBytes, auth);
  const layerDigest = await pushBlob(baseUrl, repository, layer, auth);
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: configBytes.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
    }),
  );
  const digest = await pushManifest(baseUrl, repository, reference, manifestBytes, 'application/vnd.oci.image.manifest.v1+json', auth);
  return { digest, manifestBytes, config, configDigest, layerDigest };
}

/** Pushes one image per platform by digest, then an OCI index over them tagged `tag`. */
export async function pushIndex(
  baseUrl: string,
  repository: string,
  tag: string,
  images: (ImageSpec & { os: string; architecture: string })[],
  auth?: PushAuth,
): Promise<{ digest: string; manifestBytes: Buffer; images: PushedImage[] }> {
  const pushed: PushedImage[] = [];
  for (const [i, spec] of images.entries()) {
    // Push under a throwaway tag first: only the index should carry `tag`.
    const image = await pushImage(baseUrl, repository, `${tag}-part${i}`, spec, auth);
    pushed.push(image);
  }
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: pushed.map((p, i) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: p.digest,
        size: p.manifestBytes.length,
        platform: {
          os: images[i]!.os,
          architecture: images[i]!.architecture,
          ...(images[i]!.variant ? { variant: images[i]!.variant } : {}),
        },
      })),
    }),
  );
  const digest = await pushManifest(baseUrl, repository, tag, manifestBytes, 'application/vnd.oci.image.index.v1+json', auth);
  return { digest, manifestBytes, images: pushed };
}

/** A ustar archive of regular files with fixed metadata, so the bytes are reproducible. */
export function tarOf(files: Record<string, string>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.from(content);
    const header = Buffer.alloc(512);
    const field = (offset: number, length: number, value: string) => header.write(value, offset, length, 'ascii');
    const octal = (n: number, width: number) => n.toString(8).padStart(width - 1, '0') + '\0';
    if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name too long: ${name}`);
    field(0, 100, name);
    field(100, 8, octal(0o644, 8));
    field(108, 8, octal(0, 8));
    field(116, 8, octal(0, 8));
    field(124, 12, octal(data.length, 12));
    field(136, 12, octal(0, 12));
    field(148, 8, '        ');
    field(156, 1, '0');
    field(257, 6, 'ustar\0');
    field(263, 2, '00');
    let sum = 0;
    for (const b of header) sum += b;
    field(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export interface IndexEntry {
  /** A manifest already in the repository (an image, or an index for nesting). */
  digest: string;
  size: number;
  /** Defaults to an OCI image manifest. */
  mediaType?: string;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

/** The index entry for an image pushImage pushed. */
export function entryFor(image: PushedImage, platform: { os: string; architecture: string; variant?: string }): IndexEntry {
  return { digest: image.digest, size: image.manifestBytes.length, platform };
}

/**
 * PUTs an index over manifests already pushed, tagged `reference`: an OCI index, or a Docker
 * manifest list with `mediaType`. Unlike pushIndex, entries can be anything (attestations, nested indexes).
 */
export async function pushIndexOver(
  baseUrl: string,
  repository: string,
  reference: string,
  entries: IndexEntry[],
  opts: { mediaType?: string; auth?: PushAuth } = {},
): Promise<{ digest: string; manifestBytes: Buffer }> {
  const mediaType = opts.mediaType ?? 'application/vnd.oci.image.index.v1+json';
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      manifests: entries.map((e) => ({
        mediaType: e.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
        digest: e.digest,
        size: e.size,
        ...(e.platform ? { platform: e.platform } : {}),
        ...(e.annotations ? { annotations: e.annotations } : {}),
      })),
    }),
  );
  const digest = await pushManifest(baseUrl, repository, reference, manifestBytes, mediaType, opts.auth);
  return { digest, manifestBytes };
}
