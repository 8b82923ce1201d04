import { buildReason, lastErrorLine, registryReason } from '../../../lib/adapters/buildah-errors';

// stderr as buildah 1.28 and git 2.39 print it.
const H = '127.0.0.1:5055';
describe('registryReason', () => {
  it.each([
    [
      'wrong credentials',
      `Trying to pull ${H}/baseimages/node:9-alpine...\nError: initializing source docker://${H}/baseimages/node:9-alpine: reading manifest 9-alpine in ${H}/baseimages/node: unauthorized: authentication required\n`,
      'unauthorized: authentication required',
    ],
    [
      'unknown tag (distribution repeats the code)',
      `Error: initializing source docker://${H}/baseimages/node:nope: reading manifest nope in ${H}/baseimages/node: manifest unknown: manifest unknown\n`,
      'manifest unknown',
    ],
    [
      'unreachable, after retry warnings',
      'time="2026-11-28T04:49:28Z" level=warning msg="Failed, retrying in 2s ... (1/1). Error: x"\n' +
        `Error: initializing source docker://127.0.0.1:5999/a:1: pinging container registry 127.0.0.1:5999: Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused\n`,
      'cannot reach 127.0.0.1:5999: connection refused',
    ],
    [
      'plain HTTP registry spoken to over TLS',
      'Error: initializing source docker://r.example:5000/a:1: pinging container registry r.example:5000: Get "https://r.example:5000/v2/": http: server gave HTTP response to HTTPS client\n',
      'r.example:5000 speaks plain HTTP; list it as an insecure registry',
    ],
    [
      'push denied',
      `Error: writing blob: initiating layer upload to /v2/app/blobs/uploads/ in ${H}: denied: requested access to the resource is denied\n`,
      'denied: requested access to the resource is denied',
    ],
    ['unknown shape: the last error line', 'noise\nError: something odd happened\n', 'something odd happened'],
    ['no output', '', 'no error output'],
  ])('%s', (_name, stderr, reason) => {
    expect(registryReason(stderr)).toBe(reason);
  });
});

describe('buildReason and lastErrorLine', () => {
  it.each([
    ['buildah step failure', 'STEP 2/2: RUN false\nError: building at STEP "RUN false": while running runtime: exit status 1\n', 'building at STEP "RUN false": while running runtime: exit status 1'],
    ['git fatal', "Cloning...\nwarning: x\nfatal: Remote branch nope not found in upstream origin\n", 'Remote branch nope not found in upstream origin'],
    ['no marker: the last line', 'one\ntwo\n\n', 'two'],
  ])('%s', (_name, stderr, line) => {
    expect(lastErrorLine(stderr)).toBe(line);
    expect(buildReason(stderr)).toBe(line);
  });
});
