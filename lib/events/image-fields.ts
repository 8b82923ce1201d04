// Checks on the image fields registries send, shared by the registry providers. Each returns
// a reason when the value is unusable, so a bad event is skipped with an explanation.

/** Media types of an image manifest or index: what a registry reports for a pushed image (not a blob, chart or artifact). */
export const IMAGE_MANIFEST_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);

const DIGEST = /^sha256:[0-9a-f]{64}$/;
// Tag and repository grammars of the OCI distribution spec.
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
// host[:port], with IPv6 literals in brackets.
const REGISTRY_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;

export function digestProblem(digest: string): string | undefined {
  return DIGEST.test(digest) ? undefined : `invalid digest "${digest}" (expected sha256: and 64 hex digits)`;
}

export function tagProblem(tag: string): string | undefined {
  return TAG.test(tag) ? undefined : `invalid tag "${tag}"`;
}

export function repositoryProblem(repository: string): string | undefined {
  return repository.length <= 255 && REPOSITORY.test(repository) ? undefined : `invalid repository name "${repository}"`;
}

export function registryHostProblem(host: string): string | undefined {
  return REGISTRY_HOST.test(host) ? undefined : `invalid registry host "${host}"`;
}

/**
 * An RFC 3339 timestamp as UTC ISO-8601 with milliseconds. One fixed form, because occurredAt
 * values from different sources and offsets are compared to keep the newest digest of a tag.
 */
export function toUtcIso(timestamp: string): string | undefined {
  if (!RFC3339.test(timestamp)) return undefined;
  const ms = Date.parse(timestamp);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}
