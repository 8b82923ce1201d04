import { InvalidImageReferenceError, ValidationError } from '../../../lib/domain/errors';
import type { ImageRef } from '../../../lib/domain/types';
import {
  baseKey,
  familiarImageReference,
  formatImageReference,
  isDockerHub,
  isLoopbackHost,
  isValidDigest,
  isValidRegistry,
  isValidRepository,
  isValidTag,
  normalizeRegistry,
  parseDigest,
  parseImageReference,
  qualifiedRepository,
} from '../../../lib/images/reference';

const SHA256 = 'sha256:' + 'a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4';
const SHA512 = 'sha512:' + 'ab'.repeat(64);

describe('parseImageReference', () => {
  test.each<[string, ImageRef]>([
    ['node', { registry: 'docker.io', repository: 'library/node', tag: 'latest' }],
    ['node:9-alpine', { registry: 'docker.io', repository: 'library/node', tag: '9-alpine' }],
    ['node:20.11.1-bookworm-slim', { registry: 'docker.io', repository: 'library/node', tag: '20.11.1-bookworm-slim' }],
    ['user/app', { registry: 'docker.io', repository: 'user/app', tag: 'latest' }],
    ['user/app:v1.2', { registry: 'docker.io', repository: 'user/app', tag: 'v1.2' }],
    ['docker.io/node', { registry: 'docker.io', repository: 'library/node', tag: 'latest' }],
    ['docker.io/library/node:18', { registry: 'docker.io', repository: 'library/node', tag: '18' }],
    ['index.docker.io/node', { registry: 'docker.io', repository: 'library/node', tag: 'latest' }],
    ['index.docker.io/user/app:1', { registry: 'docker.io', repository: 'user/app', tag: '1' }],
    ['registry-1.docker.io/library/alpine:3.19', { registry: 'docker.io', repository: 'library/alpine', tag: '3.19' }],
    ['DOCKER.IO/library/alpine', { registry: 'docker.io', repository: 'library/alpine', tag: 'latest' }],
    ['127.0.0.1:5000/a/b:tag', { registry: '127.0.0.1:5000', repository: 'a/b', tag: 'tag' }],
    ['127.0.0.1:5001/baseimages/node:9-alpine', { registry: '127.0.0.1:5001', repository: 'baseimages/node', tag: '9-alpine' }],
    ['localhost/foo', { registry: 'localhost', repository: 'foo', tag: 'latest' }],
    ['localhost:5000/foo/bar', { registry: 'localhost:5000', repository: 'foo/bar', tag: 'latest' }],
    // Without a path after it, "localhost:5000" is an image named localhost with tag 5000, as in Docker.
    ['localhost:5000', { registry: 'docker.io', repository: 'library/localhost', tag: '5000' }],
    ['[::1]:5000/a/b', { registry: '[::1]:5000', repository: 'a/b', tag: 'latest' }],
    ['[2001:db8::1]/app:1', { registry: '[2001:db8::1]', repository: 'app', tag: '1' }],
    ['myregistry.azurecr.io/baseimages/node:9-alpine', { registry: 'myregistry.azurecr.io', repository: 'baseimages/node', tag: '9-alpine' }],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:2024.01', { registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', repository: 'team/app', tag: '2024.01' }],
    ['ghcr.io/owner/repo/sub/image:sha-abc123', { registry: 'ghcr.io', repository: 'owner/repo/sub/image', tag: 'sha-abc123' }],
    ['Registry.Example.COM:443/x', { registry: 'registry.example.com:443', repository: 'x', tag: 'latest' }],
    ['a-b_c__d--e/f', { registry: 'docker.io', repository: 'a-b_c__d--e/f', tag: 'latest' }],
    ['my_org/a-b_c__d--e.f', { registry: 'docker.io', repository: 'my_org/a-b_c__d--e.f', tag: 'latest' }],
    ['node:_private', { registry: 'docker.io', repository: 'library/node', tag: '_private' }],
    [`node:${'t'.repeat(128)}`, { registry: 'docker.io', repository: 'library/node', tag: 't'.repeat(128) }],
    [`node@${SHA256}`, { registry: 'docker.io', repository: 'library/node', digest: SHA256 }],
    [`node:20@${SHA256}`, { registry: 'docker.io', repository: 'library/node', tag: '20', digest: SHA256 }],
    [`127.0.0.1:5000/a@${SHA512}`, { registry: '127.0.0.1:5000', repository: 'a', digest: SHA512 }],
  ])('%s', (input, expected) => {
    expect(parseImageReference(input)).toStrictEqual(expected);
  });

  test.each<[string, string, RegExp]>([
    ['empty', '', /it is empty/],
    ['uppercase single name', 'Node', /repository name must be lowercase \("Node"\)/],
    ['uppercase namespace', 'MyOrg/app', /repository name must be lowercase \("MyOrg"\)/],
    ['uppercase path on a registry', 'ghcr.io/Owner/app', /must be lowercase \("Owner"\)/],
    ['leading slash (empty ARG)', '/baseimages/node:9-alpine', /empty path component/],
    ['double slash', 'a//b', /empty path component/],
    ['trailing slash', 'user/', /empty path component/],
    ['empty tag', 'node:', /the tag after ":" is empty/],
    ['tag starting with dash', 'node:-x', /tag "-x" is invalid/],
    ['tag with plus', 'node:1+2', /tag "1\+2" is invalid/],
    ['tag too long', `node:${'t'.repeat(129)}`, /at most 128 characters/],
    ['bad separator', 'a..b', /path component "a..b" is invalid/],
    ['separator at end', 'app-', /path component "app-" is invalid/],
    ['whitespace', 'node 20', /contains whitespace/],
    ['empty repository', ':tag', /repository name is empty/],
    ['registry only', 'ghcr.io/', /empty path component/],
    ['empty digest', 'node@', /digest after "@" is empty/],
    ['short sha256', 'node@sha256:abc', /sha256 digest must be exactly 64 lowercase hexadecimal characters/],
    ['uppercase sha256', `node@sha256:${'A'.repeat(64)}`, /64 lowercase hexadecimal/],
    ['sha512 with 64 chars', `node@sha512:${'a'.repeat(64)}`, /sha512 digest must be exactly 128/],
    ['unknown algorithm', `node@md5:${'a'.repeat(32)}`, /digest algorithm "md5" is not supported/],
    ['digest without algorithm', `node@${'a'.repeat(64)}`, /must have the form algorithm:hex/],
    ['two @', `node@${SHA256}@${SHA256}`, /64 lowercase hexadecimal/],
    ['image id', 'a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4', /image ID, not a repository name/],
    ['bad port', 'localhost:50a0/app', /invalid port "50a0"/],
    ['port out of range', 'localhost:70000/app', /invalid port "70000"/],
    // A first component with a dot is a registry host, and "_" is not allowed in one.
    ['dotted namespace read as a host', 'my_org.v2/app', /registry host "my_org.v2" is invalid/],
    ['host part starting with dash', '-bad.example.com/app', /registry host "-bad.example.com" is invalid/],
    ['unclosed IPv6', '[::1/app', /unclosed "\["/],
    ['junk after IPv6', '[::1]x/app', /unexpected characters after its IPv6 address/],
    ['name too long', `example.com/${'a'.repeat(250)}`, /is 262 characters long; at most 255/],
    ['hub name too long after normalisation', 'a'.repeat(240), /is 258 characters long/],
  ])('rejects %s', (_label, input, reason) => {
    let caught: unknown;
    try {
      parseImageReference(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidImageReferenceError);
    expect((caught as InvalidImageReferenceError).reference).toBe(input);
    expect((caught as Error).message).toMatch(reason);
  });
});

describe('formatImageReference and familiarImageReference', () => {
  test.each<[string, string, string]>([
    ['node', 'docker.io/library/node:latest', 'node:latest'],
    ['node:9-alpine', 'docker.io/library/node:9-alpine', 'node:9-alpine'],
    ['user/app:1', 'docker.io/user/app:1', 'user/app:1'],
    ['library/a/b', 'docker.io/library/a/b:latest', 'library/a/b:latest'],
    ['127.0.0.1:5001/baseimages/node:9-alpine', '127.0.0.1:5001/baseimages/node:9-alpine', '127.0.0.1:5001/baseimages/node:9-alpine'],
    [`node:20@${SHA256}`, `docker.io/library/node:20@${SHA256}`, `node:20@${SHA256}`],
    [`ghcr.io/o/r@${SHA256}`, `ghcr.io/o/r@${SHA256}`, `ghcr.io/o/r@${SHA256}`],
  ])('%s', (input, canonical, familiar) => {
    const ref = parseImageReference(input);
    expect(formatImageReference(ref)).toBe(canonical);
    expect(familiarImageReference(ref)).toBe(familiar);
    expect(formatImageReference(ref, { familiar: true })).toBe(familiar);
    // The canonical form parses back to the same reference.
    expect(parseImageReference(canonical)).toStrictEqual(ref);
  });
});

describe('baseKey', () => {
  test.each<[ImageRef, string]>([
    [{ registry: 'docker.io', repository: 'library/node', tag: '9-alpine' }, 'docker.io/library/node:9-alpine'],
    [{ registry: '127.0.0.1:5001', repository: 'baseimages/node', tag: '9-alpine', digest: SHA256 }, '127.0.0.1:5001/baseimages/node:9-alpine'],
    [{ registry: 'ghcr.io', repository: 'o/r', digest: SHA256 }, `ghcr.io/o/r@${SHA256}`],
    [{ registry: 'ghcr.io', repository: 'o/r' }, 'ghcr.io/o/r:latest'],
  ])('%j → %s', (ref, key) => {
    expect(baseKey(ref)).toBe(key);
  });
});

describe('digests', () => {
  test.each<[string, boolean]>([
    [SHA256, true],
    [SHA512, true],
    ['sha384:' + 'c'.repeat(96), true],
    ['sha256:' + 'a'.repeat(63), false],
    ['sha256:' + 'a'.repeat(65), false],
    ['sha256:' + 'G'.repeat(64), false],
    ['SHA256:' + 'a'.repeat(64), false],
    ['sha1:' + 'a'.repeat(40), false],
    ['', false],
    ['sha256', false],
  ])('isValidDigest(%s) is %s', (digest, valid) => {
    expect(isValidDigest(digest)).toBe(valid);
  });

  it('parseDigest splits a valid digest', () => {
    expect(parseDigest(SHA256)).toStrictEqual({
      algorithm: 'sha256',
      hex: 'a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4',
    });
  });

  it('parseDigest throws a ValidationError on the digest field', () => {
    let caught: unknown;
    try {
      parseDigest('sha256:abc');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).field).toBe('digest');
    expect((caught as Error).message).toMatch(/exactly 64 lowercase hexadecimal/);
  });
});

describe('one spelling per registry', () => {
  test.each<[string, string, boolean]>([
    ['docker.io', 'docker.io', true],
    ['index.docker.io', 'docker.io', true],
    ['Registry-1.Docker.IO', 'docker.io', true],
    ['Registry.Example.com:5000', 'registry.example.com:5000', false],
    ['docker.io:443', 'docker.io:443', false],
    ['hub.docker.com', 'hub.docker.com', false],
  ])('%s → %s', (registry, normalized, dockerHub) => {
    expect([normalizeRegistry(registry), isDockerHub(registry)]).toEqual([normalized, dockerHub]);
  });

  test.each([
    ['index.docker.io', 'node', 'library/node'],
    ['docker.io', 'bitnami/redis', 'bitnami/redis'],
    ['ghcr.io', 'node', 'node'],
  ])('%s keeps %s as %s', (registry, repository, qualified) => {
    expect(qualifiedRepository(registry, repository)).toBe(qualified);
  });
});

describe('the grammar, part by part (what the registry client checks before a URL)', () => {
  test.each<[(s: string) => boolean, string, boolean]>([
    [isValidRegistry, '127.0.0.1:5000', true],
    [isValidRegistry, '[::1]:5000', true],
    [isValidRegistry, 'Registry.Example.com', true],
    [isValidRegistry, 'registry..example.com', false],
    [isValidRegistry, 'registry.example.com:70000', false],
    [isValidRegistry, 'a/b', false],
    [isValidRepository, 'library/node', true],
    [isValidRepository, 'a__b/c--d/e.f', true],
    [isValidRepository, 'Node', false],
    [isValidRepository, '../etc', false],
    [isValidTag, '9-alpine', true],
    [isValidTag, '.hidden', false],
    [isValidTag, 'a'.repeat(129), false],
  ])('%p(%s) → %s', (check, text, valid) => {
    expect(check(text)).toBe(valid);
  });
});

describe('isLoopbackHost', () => {
  test.each<[string, boolean]>([
    ['127.0.0.1', true],
    ['127.0.0.1:5001', true],
    ['127.255.10.3:80', true],
    ['127.255.0.9', true],
    ['localhost', true],
    ['LOCALHOST', true],
    ['LocalHost:5000', true],
    ['[::1]', true],
    ['[::1]:5000', true],
    ['::1', true],
    ['[0:0:0:0:0:0:0:1]:443', true],
    ['[::ffff:127.0.0.1]:5000', true],
    ['128.0.0.1', false],
    ['126.255.255.255:5000', false],
    ['127.0.0.256', false],
    ['127.0.0', false],
    ['10.0.0.1:5000', false],
    ['0.0.0.0:5000', false],
    ['[::2]', false],
    ['[::]:5000', false],
    ['[::ffff:10.0.0.1]', false],
    ['localhost.example.com', false],
    ['mylocalhost', false],
    ['docker.io', false],
    ['127.0.0.1.nip.io', false],
    ['127.0.0.1.example.com', false],
    ['localhost:abc', false],
    ['[::1', false],
    ['', false],
  ])('%s → %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});
