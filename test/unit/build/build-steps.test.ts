// The build steps both builders run, against a recording tool: what is pulled (for which
// platform), built and pushed, what is recorded, and the one sentence a failure gives.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildStepError, readBuildPlan, runBuildSteps, type BuildRecord } from '../../../lib/build/build-steps';
import type { ResolvedBaseImage } from '../../../lib/domain/types';
import { fakeDigest, RecordingTool, type Failures } from './recording-tool';

const PINNED = `sha256:${'c'.repeat(64)}`;
const TARGETS = ['registry.example.com/app:da1', 'registry.example.com/app:latest'];
const LOCAL = 'localhost/cascade-build/test:latest';

const base = (reference: string, fields: Omit<ResolvedBaseImage, 'digest'> & { digest?: string }): ResolvedBaseImage => ({
  digest: fakeDigest(reference),
  ...fields,
});
const pushes = TARGETS.map((t) => `push ${LOCAL} -> ${t}`);
const outputs = TARGETS.map((reference) => ({ reference, digest: fakeDigest(`pushed:${reference}`) }));

interface Case {
  name: string;
  dockerfile?: string;
  platform?: string;
  buildArgs?: Record<string, string>;
  failures?: Failures;
  calls: string[];
  baseImages: ResolvedBaseImage[];
  outputImages?: typeof outputs;
  error?: string;
}

const cases: Case[] = [
  {
    name: 'a tagged base',
    dockerfile: 'FROM node:20\nRUN true\n',
    calls: ['pull docker.io/library/node:20', 'build Dockerfile -> ' + LOCAL, ...pushes],
    baseImages: [base('docker.io/library/node:20', { registry: 'docker.io', repository: 'library/node', tag: '20', stage: 'runtime', pinned: false })],
    outputImages: outputs,
  },
  {
    name: 'an untagged base, as latest',
    dockerfile: 'FROM quay.io/team/tool\n',
    calls: ['pull quay.io/team/tool:latest', 'build Dockerfile -> ' + LOCAL, ...pushes],
    baseImages: [base('quay.io/team/tool:latest', { registry: 'quay.io', repository: 'team/tool', tag: 'latest', stage: 'runtime', pinned: false })],
    outputImages: outputs,
  },
  {
    name: 'a pinned base: pulled by digest, recorded with the digest the FROM names',
    dockerfile: `FROM alpine:3.20@${PINNED}\n`,
    calls: [`pull docker.io/library/alpine@${PINNED}`, 'build Dockerfile -> ' + LOCAL, ...pushes],
    baseImages: [{ registry: 'docker.io', repository: 'library/alpine', tag: '3.20', digest: PINNED, stage: 'runtime', pinned: true }],
    outputImages: outputs,
  },
  {
    name: 'a multi-stage build with a build-time base, named through a build arg, each base once',
    dockerfile: 'ARG REGISTRY\nFROM golang:1.22 AS build\nFROM build AS test\nFROM golang:1.22 AS again\nFROM ${REGISTRY}/base/node:9\nCOPY --from=build /out /app\n',
    buildArgs: { REGISTRY: 'base.example.com' },
    platform: 'linux/amd64',
    calls: [
      'pull docker.io/library/golang:1.22 --platform linux/amd64',
      'pull base.example.com/base/node:9 --platform linux/amd64',
      `build Dockerfile -> ${LOCAL} --platform linux/amd64`,
      ...pushes,
    ],
    baseImages: [
      base('docker.io/library/golang:1.22', { registry: 'docker.io', repository: 'library/golang', tag: '1.22', stage: 'build-time', pinned: false }),
      base('base.example.com/base/node:9', { registry: 'base.example.com', repository: 'base/node', tag: '9', stage: 'runtime', pinned: false }),
    ],
    outputImages: outputs,
  },
  {
    name: "FROM --platform: a stage's own platform wins, $BUILDPLATFORM means this machine",
    dockerfile: 'FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM --platform=linux/arm64 gcr.io/distroless/static\n',
    platform: 'linux/amd64',
    calls: ['pull docker.io/library/golang:1.22', 'pull gcr.io/distroless/static:latest --platform linux/arm64', `build Dockerfile -> ${LOCAL} --platform linux/amd64`, ...pushes],
    baseImages: [
      base('docker.io/library/golang:1.22', { registry: 'docker.io', repository: 'library/golang', tag: '1.22', stage: 'build-time', pinned: false }),
      base('gcr.io/distroless/static:latest', { registry: 'gcr.io', repository: 'distroless/static', tag: 'latest', stage: 'runtime', pinned: false }),
    ],
    outputImages: outputs,
  },
  {
    name: 'scratch: nothing to pull',
    dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\n',
    calls: ['build Dockerfile -> ' + LOCAL, ...pushes],
    baseImages: [],
    outputImages: outputs,
  },
  {
    name: 'a failed pull: nothing built, the bases pulled before it recorded',
    dockerfile: 'FROM golang:1.22 AS build\nFROM base.example.com/base/missing:1\n',
    failures: { pull: 'missing' },
    calls: ['pull docker.io/library/golang:1.22', 'pull base.example.com/base/missing:1'],
    baseImages: [base('docker.io/library/golang:1.22', { registry: 'docker.io', repository: 'library/golang', tag: '1.22', stage: 'build-time', pinned: false })],
    error: 'pulling base.example.com/base/missing:1 failed: manifest unknown',
  },
  {
    name: 'a failed pull of a base with tag and digest, named with both',
    dockerfile: `FROM alpine:3.20@${PINNED}\n`,
    failures: { pull: 'alpine' },
    calls: [`pull docker.io/library/alpine@${PINNED}`],
    baseImages: [],
    error: `pulling docker.io/library/alpine:3.20@${PINNED} failed: manifest unknown`,
  },
  {
    name: 'a failed build: nothing pushed',
    dockerfile: 'FROM node:20\nRUN false\n',
    failures: { build: true },
    calls: ['pull docker.io/library/node:20', 'build Dockerfile -> ' + LOCAL],
    baseImages: [base('docker.io/library/node:20', { registry: 'docker.io', repository: 'library/node', tag: '20', stage: 'runtime', pinned: false })],
    error: 'building the image failed: building at STEP "RUN false": exit status 1',
  },
  {
    name: 'a failed push: the targets pushed before it recorded',
    dockerfile: 'FROM node:20\n',
    failures: { push: 'latest' },
    calls: ['pull docker.io/library/node:20', 'build Dockerfile -> ' + LOCAL, ...pushes],
    baseImages: [base('docker.io/library/node:20', { registry: 'docker.io', repository: 'library/node', tag: '20', stage: 'runtime', pinned: false })],
    outputImages: outputs.slice(0, 1),
    error: 'pushing registry.example.com/app:latest failed: denied: requested access to the resource is denied',
  },
];

describe('build steps', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cascade-steps-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function runSteps(dockerfileName: string, input: Partial<Case> = {}, signal?: AbortSignal) {
    const tool = new RecordingTool(input.failures);
    const record: BuildRecord = { baseImages: [], outputImages: [] };
    const log: string[] = [];
    let error: unknown;
    try {
      const plan = await readBuildPlan({ contextDir: dir, dockerfile: dockerfileName, buildArgs: input.buildArgs ?? {}, platform: input.platform ?? '' });
      await runBuildSteps(plan, tool, { targets: TARGETS, localName: LOCAL, log: (line) => log.push(line), record, ...(signal && { signal }) });
    } catch (err) {
      error = err;
    }
    return { tool, record, log, error };
  }

  it.each(cases)('$name', async (c) => {
    await writeFile(join(dir, 'Dockerfile'), c.dockerfile ?? '');
    const { tool, record, log, error } = await runSteps('Dockerfile', c);
    expect(tool.calls).toEqual(c.calls);
    expect(record).toEqual({ baseImages: c.baseImages, outputImages: c.outputImages ?? [] });
    if (c.error === undefined) {
      expect(error).toBeUndefined();
    } else {
      expect(error).toBeInstanceOf(BuildStepError);
      expect((error as Error).message).toBe(c.error);
    }
    for (const image of record.baseImages) expect(log.some((l) => l.endsWith(` is ${image.digest}`))).toBe(true);
  });

  it('builds with the build args and the Dockerfile path inside the resolved context, and logs each step', async () => {
    await mkdir(join(dir, 'docker'));
    await writeFile(join(dir, 'docker', 'Dockerfile.real'), 'ARG V\nFROM node:20${V}\n');
    await symlink('Dockerfile.real', join(dir, 'docker', 'Dockerfile'));
    const { tool, log } = await runSteps('./docker/Dockerfile', { buildArgs: { V: '-alpine', OTHER: 'a=b c' } });
    expect(tool.builds).toEqual([{ contextDir: dir, dockerfile: 'docker/Dockerfile.real', tag: LOCAL, buildArgs: { V: '-alpine', OTHER: 'a=b c' } }]);
    expect(log).toEqual([
      '==> pulling docker.io/library/node:20-alpine (runtime)',
      `docker.io/library/node:20-alpine is ${fakeDigest('docker.io/library/node:20-alpine')}`,
      '==> building ./docker/Dockerfile',
      ...TARGETS.flatMap((t) => [`==> pushing ${t}`, `${t} is ${fakeDigest(`pushed:${t}`)}`]),
    ]);
  });

  it('says the Dockerfile was not found, and pulls nothing', async () => {
    const { tool, error } = await runSteps('Dockerfile-app');
    expect(error).toBeInstanceOf(BuildStepError);
    expect((error as Error).message).toBe('the Dockerfile Dockerfile-app was not found in the build context');
    expect(tool.calls).toEqual([]);
  });

  it.each(['../Dockerfile', '/etc/passwd', 'escape/Dockerfile'])('refuses %s, outside the context', async (name) => {
    const outside = await mkdtemp(join(tmpdir(), 'cascade-outside-'));
    try {
      await writeFile(join(outside, 'Dockerfile'), 'FROM node:20\n');
      await symlink(outside, join(dir, 'escape'));
      const { tool, error } = await runSteps(name);
      expect((error as Error).message).toBe(`${name} is outside the build context`);
      expect(tool.calls).toEqual([]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('stops at the next step once the signal is aborted, with the reason it was aborted for', async () => {
    await writeFile(join(dir, 'Dockerfile'), 'FROM node:20\n');
    const controller = new AbortController();
    const stop = new Error('the build was canceled');
    controller.abort(stop);
    const { tool, error } = await runSteps('Dockerfile', {}, controller.signal);
    expect(error).toBe(stop);
    expect(tool.calls).toEqual([]);
  });
});
