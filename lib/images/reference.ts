// Image reference grammar, after Docker's distribution/reference:
//   [registry[:port]/]path[:tag][@algorithm:hex]
// Docker Hub names are normalised (`node` → `docker.io/library/node:latest`) so the same image
// always gets the same key, whoever wrote it and however.
import { InvalidImageReferenceError, ValidationError } from '../domain/errors';
import type { ImageRef } from '../domain/types';

/** Docker Hub as references, logins and records name it. */
export const DOCKER_HUB = 'docker.io';
/** Where Docker Hub's registry API answers. */
export const DOCKER_HUB_API = 'registry-1.docker.io';
const DOCKER_HUB_ALIASES = new Set([DOCKER_HUB, 'index.docker.io', DOCKER_HUB_API]);
const OFFICIAL_NAMESPACE = 'library';
export const DEFAULT_TAG = 'latest';

const NAME_TOTAL_LENGTH_MAX = 255;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-*)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6_BRACKETED = /^\[[a-fA-F0-9:]+\]$/;
const IMAGE_ID = /^[a-f0-9]{64}$/;

/** Digest algorithms a registry may use, with the length of their lowercase hex encoding. */
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

export interface Digest {
  algorithm: string;
  hex: string;
}

/** Why `s` is not a valid digest, or undefined when it is. */
function digestProblem(s: string): string | undefined {
  if (s === '') return 'the digest after "@" is empty';
  const colon = s.indexOf(':');
  if (colon < 0) return `digest "${s}" must have the form algorithm:hex, e.g. sha256:<64 hex characters>`;
  const algorithm = s.slice(0, colon);
  const hex = s.slice(colon + 1);
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) {
    return `digest algorithm "${algorithm}" is not supported (use ${Object.keys(DIGEST_HEX_LENGTH).join(', ')})`;
  }
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
    return `${algorithm} digest must be exactly ${length} lowercase hexadecimal characters, got "${hex}"`;
  }
  return undefined;
}

export function isValidDigest(s: string): boolean {
  return digestProblem(s) === undefined;
}

/** Splits `sha256:…` into its parts; throws ValidationError (field `digest`) when it is not a digest. */
export function parseDigest(s: string): Digest {
  const problem = digestProblem(s);
  if (problem !== undefined) throw new ValidationError(`invalid digest: ${problem}`, 'digest');
  const colon = s.indexOf(':');
  return { algorithm: s.slice(0, colon), hex: s.slice(colon + 1) };
}

/** Why `registry` (host[:port]) is not a valid registry, or undefined. */
function registryProblem(registry: string): string | undefined {
  let host = registry;
  let port: string | undefined;
  if (registry.startsWith('[')) {
    const end = registry.indexOf(']');
    if (end < 0) return `registry "${registry}" has an unclosed "[" in its IPv6 address`;
    host = registry.slice(0, end + 1);
    const after = registry.slice(end + 1);
    if (after !== '') {
      if (!after.startsWith(':')) return `registry "${registry}" has unexpected characters after its IPv6 address`;
      port = after.slice(1);
    }
    if (!IPV6_BRACKETED.test(host)) return `registry "${registry}" has an invalid IPv6 address`;
  } else {
    const colon = registry.indexOf(':');
    if (colon >= 0) {
      host = registry.slice(0, colon);
      port = registry.slice(colon + 1);
    }
    if (host === '') return `registry "${registry}" has an empty host name`;
    const bad = host.split('.').find((c) => !DOMAIN_COMPONENT.test(c));
    if (bad !== undefined) {
      return `registry host "${host}" is invalid: each dot-separated part must be letters, digits and inner hyphens`;
    }
  }
  if (port !== undefined && (!/^[0-9]+$/.test(port) || Number(port) > 65535)) {
    return `registry "${registry}" has an invalid port "${port}"`;
  }
  return undefined;
}

function repositoryProblem(repository: string): string | undefined {
  for (const component of repository.split('/')) {
    if (component === '') return `repository "${repository}" has an empty path component (a leading, trailing or doubled "/")`;
    if (PATH_COMPONENT.test(component)) continue;
    if (PATH_COMPONENT.test(component.toLowerCase())) return `repository name must be lowercase ("${component}")`;
    return (
      `repository path component "${component}" is invalid: ` +
      'use lowercase letters and digits, separated by single ".", "_", "__" or "-" runs'
    );
  }
  return undefined;
}

export function isValidRegistry(registry: string): boolean {
  return registryProblem(registry) === undefined;
}

export function isValidRepository(repository: string): boolean {
  return repositoryProblem(repository) === undefined;
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/**
 * One spelling per registry (host[:port]): host names are case-insensitive and Docker Hub's
 * aliases are one registry, so that storage keys, logins and event matches line up.
 */
export function normalizeRegistry(registry: string): string {
  const lower = registry.toLowerCase();
  return DOCKER_HUB_ALIASES.has(lower) ? DOCKER_HUB : lower;
}

export function isDockerHub(registry: string): boolean {
  return normalizeRegistry(registry) === DOCKER_HUB;
}

/** The repository as its registry names it: Docker Hub keeps official images under `library/`. */
export function qualifiedRepository(registry: string, repository: string): string {
  return isDockerHub(registry) && !repository.includes('/') ? `${OFFICIAL_NAMESPACE}/${repository}` : repository;
}

/** Docker's rule: the first component names a registry only if it looks like a host. */
function looksLikeRegistry(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost' || component.startsWith('[');
}

/**
 * Parses a reference as `docker pull` would. Without a tag or digest the tag is `latest`.
 * Throws InvalidImageReferenceError saying what is wrong.
 */
export function parseImageReference(input: string): ImageRef {
  const fail = (reason: string): never => {
    throw new InvalidImageReferenceError(input, reason);
  };
  if (input === '') fail('it is empty');
  if (/\s/.test(input)) fail('it contains whitespace');
  if (IMAGE_ID.test(input)) fail('a 64-character hexadecimal string is an image ID, not a repository name');

  let name = input;
  let digest: string | undefined;
  const at = name.indexOf('@');
  if (at >= 0) {
    digest = name.slice(at + 1);
    name = name.slice(0, at);
    const problem = digestProblem(digest);
    if (problem !== undefined) fail(problem);
  }

  let tag: string | undefined;
  const lastColon = name.lastIndexOf(':');
  if (lastColon > name.lastIndexOf('/')) {
    tag = name.slice(lastColon + 1);
    name = name.slice(0, lastColon);
    if (tag === '') fail('the tag after ":" is empty');
    if (!TAG.test(tag)) {
      fail(`tag "${tag}" is invalid: it must start with a letter, digit or "_", contain only letters, digits, "_", "." and "-", and be at most 128 characters`);
    }
  }
  if (name === '') fail('the repository name is empty');

  let registry = DOCKER_HUB;
  let repository = name;
  const slash = name.indexOf('/');
  if (slash >= 0 && looksLikeRegistry(name.slice(0, slash))) {
    const host = name.slice(0, slash);
    const problem = registryProblem(host);
    if (problem !== undefined) fail(problem);
    registry = normalizeRegistry(host);
    repository = name.slice(slash + 1);
  }
  const problem = repositoryProblem(repository);
  if (problem !== undefined) fail(problem);
  repository = qualifiedRepository(registry, repository);

  const fullName = `${registry}/${repository}`;
  if (fullName.length > NAME_TOTAL_LENGTH_MAX) {
    fail(`the name "${fullName}" is ${fullName.length} characters long; at most ${NAME_TOTAL_LENGTH_MAX} are allowed`);
  }

  const ref: ImageRef = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (tag === undefined && digest === undefined) ref.tag = DEFAULT_TAG;
  return ref;
}

/** The Docker Hub short form of the name: `docker.io/library/node` → `node`, `docker.io/user/app` → `user/app`. */
function familiarName(ref: ImageRef): string {
  if (ref.registry !== DOCKER_HUB) return `${ref.registry}/${ref.repository}`;
  const officialPrefix = `${OFFICIAL_NAMESPACE}/`;
  if (ref.repository.startsWith(officialPrefix) && !ref.repository.slice(officialPrefix.length).includes('/')) {
    return ref.repository.slice(officialPrefix.length);
  }
  return ref.repository;
}

export interface FormatOptions {
  /** Shorten Docker Hub names as `docker` prints them. */
  familiar?: boolean;
}

/** `docker.io/library/node:9-alpine`, `127.0.0.1:5001/app:1@sha256:…`. */
export function formatImageReference(ref: ImageRef, opts: FormatOptions = {}): string {
  let s = opts.familiar ? familiarName(ref) : `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

export function familiarImageReference(ref: ImageRef): string {
  return formatImageReference(ref, { familiar: true });
}

/**
 * The storage key of a base image: `registry/repository:tag`. A reference with only a digest
 * has no tag to watch, so its key carries the digest instead.
 */
export function baseKey(ref: ImageRef): string {
  const name = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) return `${name}:${ref.tag}`;
  if (ref.digest !== undefined) return `${name}@${ref.digest}`;
  return `${name}:${DEFAULT_TAG}`;
}

function isLoopbackIPv4(host: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return false;
  const octets = m.slice(1).map(Number);
  return octets.every((o) => o <= 255) && octets[0] === 127;
}

/** Expands an IPv6 address to its eight 16-bit groups, or undefined when it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text.slice(lastColon + 1));
  if (v4) {
    const octets = v4.slice(1).map(Number);
    if (octets.some((o) => o > 255)) return undefined;
    tail.push(((octets[0] ?? 0) << 8) | (octets[1] ?? 0), ((octets[2] ?? 0) << 8) | (octets[3] ?? 0));
    // Drop the IPv4 part, keeping a "::" that directly precedes it.
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups = part.split(':');
    if (groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
    return groups.map((g) => parseInt(g, 16));
  };
  const head = parse(halves[0] ?? '');
  const rest = halves.length === 2 ? parse(halves[1] ?? '') : [];
  if (head === undefined || rest === undefined) return undefined;
  const explicit = head.length + rest.length + tail.length;
  if (halves.length === 1) return explicit === 8 ? [...head, ...tail] : undefined;
  if (explicit > 7) return undefined;
  return [...head, ...new Array<number>(8 - explicit).fill(0), ...rest, ...tail];
}

function isLoopbackIPv6(address: string): boolean {
  const g = ipv6Groups(address);
  if (g === undefined) return false;
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return true;
  // IPv4-mapped (::ffff:127.x.y.z)
  return g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff && (g[6] ?? 0) >> 8 === 127;
}

/**
 * Whether a host (with or without port; a registry, a URL's host) is on the loopback interface:
 * 127.0.0.0/8, `localhost` or `::1`. Docker speaks plain HTTP to those without being told.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end < 0) return false;
    const after = h.slice(end + 1);
    if (after !== '' && !/^:\d+$/.test(after)) return false;
    return isLoopbackIPv6(h.slice(1, end));
  }
  // More than one colon and no brackets: a bare IPv6 address, which cannot carry a port.
  if (h.indexOf(':') !== h.lastIndexOf(':')) return isLoopbackIPv6(h);
  const colon = h.indexOf(':');
  let name = h;
  if (colon >= 0) {
    if (!/^\d+$/.test(h.slice(colon + 1))) return false;
    name = h.slice(0, colon);
  }
  return name === 'localhost' || isLoopbackIPv4(name);
}
