// Both builders run one piece of code after their logins: the local BuildahBuilder and the
// CodeBuild helper's `run-steps` each call runBuildSteps, once, with their own tool, and given
// the same Dockerfile they pull, build, push and report the same. The real programs are replaced
// by fakes on disk (buildah through buildahPath, docker on the helper's PATH) that answer with
// digests derived from the references, as recording-tool.ts does.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildahBuilder } from '../../../lib/adapters/buildah-builder';
import { runHelper } from '../../../lib/aws/build-helper';
import * as steps from '../../../lib/build/build-steps';
import { BuildahTool } from '../../../lib/build/buildah-tool';
import { DockerTool } from '../../../lib/build/docker-tool';
import type { LogStore, SecretStore } from '../../../lib/domain/ports';
import type { BuildResult, OutputImage, ResolvedBaseImage } from '../../../lib/domain/types';
import { fakeDigest } from './recording-tool';

jest.mock('../../../lib/build/build-steps', () => {
  const actual = jest.requireActual<typeof steps>('../../../lib/build/build-steps');
  return { ...actual, runBuildSteps: jest.fn(actual.runBuildSteps) };
});
const runBuildSteps = jest.mocked(steps.runBuildSteps);

const DIGEST_OF = `sha256:$(printf %s "$1" | sha256sum | cut -c1-64)`;

// Global storage flags first, then the command; the reference is the last word.
const FAKE_BUILDAH = `#!/bin/bash
digest() { echo "${DIGEST_OF}"; }
shift 6
ref="\${@: -1}"
case "$1" in
  pull)
    if [[ "$ref" == *missing* ]]; then echo "Error: initializing source docker://$ref: reading manifest in $ref: manifest unknown" >&2; exit 125; fi;;
  inspect) digest "$ref";;
  build) if [ -n "$FAKE_BUILD_FAIL" ]; then echo 'Error: building at STEP "RUN false": exit status 1' >&2; exit 1; fi;;
  push)
    while [ "$1" != --digestfile ]; do shift; done
    digest "pushed:\${ref#docker://}" > "$2";;
esac
`;

const FAKE_DOCKER = `#!/bin/bash
digest() { echo "${DIGEST_OF}"; }
ref="\${@: -1}"
case "$1" in
  pull)
    if [[ "$ref" == *missing* ]]; then echo "Error response from daemon: manifest for $ref not found: manifest unknown" >&2; exit 1; fi
    echo "Digest: $(digest "$ref")";;
  build) if [ -n "$FAKE_BUILD_FAIL" ]; then echo 'ERROR: failed to solve: process "/bin/sh -c false" did not complete successfully: exit code: 1' >&2; exit 1; fi;;
  push) echo "latest: digest: $(digest "pushed:$ref") size: 528";;
esac
`;

const PINNED = `sha256:${'d'.repeat(64)}`;
const REGISTRY = 'registry.example.com';
const IMAGES = ['app:da1', 'app:latest'];

interface Report {
  baseImages: ResolvedBaseImage[];
  outputImages: OutputImage[];
  /** Up to the tool's reason, which each engine words its own way. */
  error?: string;
}

const cases: Array<{ name: string; dockerfile: string; env?: Record<string, string>; failure?: string }> = [
  { name: 'a tagged base', dockerfile: 'FROM base.example.com/node:9-alpine\nRUN true\n' },
  { name: 'a pinned base', dockerfile: `FROM alpine:3.20@${PINNED}\n` },
  { name: 'a multi-stage build with a build-time base', dockerfile: 'FROM golang:1.22 AS build\nFROM --platform=linux/arm64 base.example.com/node:9\nCOPY --from=build /a /a\n' },
  { name: 'a failed pull', dockerfile: 'FROM golang:1.22 AS build\nFROM base.example.com/missing:1\n', failure: 'pulling base.example.com/missing:1 failed:' },
  { name: 'a failed build', dockerfile: 'FROM node:20\nRUN false\n', env: { FAKE_BUILD_FAIL: '1' }, failure: 'building the image failed:' },
];

describe('the build steps both builders share', () => {
  let root: string;
  let context: string;
  let bin: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'cascade-shared-'));
    context = join(root, 'context');
    bin = join(root, 'bin');
    await Promise.all([mkdir(context), mkdir(bin)]);
    for (const [name, text] of Object.entries({ buildah: FAKE_BUILDAH, docker: FAKE_DOCKER })) {
      await writeFile(join(bin, name), text);
      await chmod(join(bin, name), 0o755);
    }
    runBuildSteps.mockClear();
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function localBuild(env: Record<string, string>): Promise<Report> {
    const secrets: SecretStore = { put: async () => '', get: async () => undefined, delete: async () => undefined, refFor: () => '' };
    const logs: LogStore = { append: async () => undefined, read: async () => '' };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      let report: BuildResult | undefined;
      const builder = new BuildahBuilder({
        workDir: join(root, 'work'),
        storageRoot: join(root, 'storage'),
        secrets,
        logs,
        buildahPath: join(bin, 'buildah'),
        onResult: async (result) => {
          report = result;
        },
      });
      await builder.start({
        runId: 'da1',
        spec: { registry: REGISTRY, images: IMAGES, context: { kind: 'local', path: context }, dockerfile: 'Dockerfile', buildArgs: {}, platform: 'linux/amd64', credentials: [] },
      });
      await builder.idle();
      if (!report) throw new Error('the local build reported nothing');
      if (report.status === 'Error') throw new Error(`the local build broke: ${report.error}`);
      return { baseImages: report.baseImages, outputImages: report.outputImages, ...(report.error !== undefined && { error: report.error }) };
    } finally {
      process.env = saved;
    }
  }

  async function codeBuild(env: Record<string, string>): Promise<Report> {
    const work = join(root, 'codebuild');
    await mkdir(work, { recursive: true });
    let error: string | undefined;
    await runHelper(['run-steps'], {
      env: {
        PATH: `${bin}:/usr/bin:/bin`,
        CASCADE_RUN_ID: 'da1',
        CASCADE_REGISTRY: REGISTRY,
        CASCADE_IMAGES: JSON.stringify(IMAGES.map((i) => `${REGISTRY}/${i}`)),
        CASCADE_DOCKERFILE: 'Dockerfile',
        CASCADE_PLATFORM: 'linux/amd64',
        ...env,
      },
      cwd: context,
      workDir: work,
      out: () => undefined,
      err: () => undefined,
    }).catch((err: Error) => {
      error = err.message;
    });
    const read = async (file: string) => JSON.parse(await readFile(join(work, file), 'utf8')) as never;
    return { baseImages: await read('base-images.json'), outputImages: await read('output-images.json'), ...(error !== undefined && { error }) };
  }

  it.each(cases)('$name: one runBuildSteps, each builder with its own tool, the same report', async ({ dockerfile, env = {}, failure }) => {
    await writeFile(join(context, 'Dockerfile'), dockerfile);

    const local = await localBuild(env);
    const aws = await codeBuild(env);

    expect(runBuildSteps).toHaveBeenCalledTimes(2);
    expect(runBuildSteps.mock.calls[0]?.[1]).toBeInstanceOf(BuildahTool);
    expect(runBuildSteps.mock.calls[1]?.[1]).toBeInstanceOf(DockerTool);

    const withoutReason = ({ error, ...rest }: Report) => ({ ...rest, error: error?.slice(0, failure?.length) });
    expect(withoutReason(aws)).toEqual(withoutReason(local));
    expect(local.error?.slice(0, failure?.length)).toBe(failure);
    if (!failure) expect(local.outputImages).toEqual(IMAGES.map((i) => ({ reference: `${REGISTRY}/${i}`, digest: fakeDigest(`pushed:${REGISTRY}/${i}`) })));
    for (const base of local.baseImages) {
      expect(base.digest).toBe(base.pinned ? PINNED : fakeDigest(`${base.registry}/${base.repository}:${base.tag}`));
    }
  });
});
