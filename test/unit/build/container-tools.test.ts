// The two container tools, each against a runner that records the command lines and answers as
// the real program would: the flags each engine needs, and how its output becomes a digest or a reason.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildahTool } from '../../../lib/build/buildah-tool';
import { ContainerToolError, type ToolRunner } from '../../../lib/build/container-tool';
import { DockerTool } from '../../../lib/build/docker-tool';
import type { CommandResult } from '../../../lib/build/run-command';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

type Answer = Partial<CommandResult> | ((args: string[]) => Partial<CommandResult> | Promise<Partial<CommandResult>>);

/** A runner that records each call and gives the first answer whose key the command line contains. */
function recordingRunner(answers: Record<string, Answer> = {}) {
  const calls: Array<{ args: string[]; cwd?: string; env?: Record<string, string>; quiet?: boolean }> = [];
  const run: ToolRunner = async (args, options = {}) => {
    calls.push({ args, ...options });
    const line = args.join(' ');
    const key = Object.keys(answers).find((k) => line.includes(k));
    const answer = key === undefined ? {} : answers[key];
    const result = typeof answer === 'function' ? await answer(args) : (answer ?? {});
    return { code: 0, signal: null, stdout: '', stderr: '', ...result };
  };
  return { run, calls };
}

describe('BuildahTool', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cascade-buildah-tool-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const create = (run: ToolRunner) =>
    BuildahTool.create({ run, storageRoot: join(dir, 'storage'), workDir: dir, authFile: join(dir, 'auth.json'), registriesConf: join(dir, 'registries.conf') });
  const storage = () => ['--storage-driver', 'vfs', '--root', join(dir, 'storage', 'root'), '--runroot', join(dir, 'storage', 'runroot')];

  it('runs with vfs storage, its own storage.conf, registries.conf and TMPDIR', async () => {
    const { run, calls } = recordingRunner({ inspect: { stdout: `${A}\n` } });
    const tool = await create(run);
    await tool.pull({ reference: 'docker.io/library/node:20' });
    expect(calls[0]?.args.slice(0, 6)).toEqual(storage());
    expect(calls[0]?.cwd).toBe(dir);
    expect(calls[0]?.env).toEqual({
      CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'),
      CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
      TMPDIR: join(dir, 'tmp'),
    });
    expect(await readFile(join(dir, 'storage.conf'), 'utf8')).toBe(
      `[storage]\ndriver = "vfs"\ngraphroot = "${join(dir, 'storage', 'root')}"\nrunroot = "${join(dir, 'storage', 'runroot')}"\n`,
    );
  });

  it('pulls always, with one quick retry and the authfile, then reads the digest it pulled', async () => {
    const { run, calls } = recordingRunner({ inspect: { stdout: `${A}\n` } });
    const tool = await create(run);
    expect(await tool.pull({ reference: 'base.example.com/node:9', platform: 'linux/arm64' })).toBe(A);
    expect(calls.map((c) => c.args.slice(6))).toEqual([
      ['pull', '--policy', 'always', '--retry', '1', '--retry-delay', '500ms', '--authfile', join(dir, 'auth.json'), '--platform', 'linux/arm64', 'base.example.com/node:9'],
      ['inspect', '--type', 'image', '--format', '{{.FromImageDigest}}', 'base.example.com/node:9'],
    ]);
    expect(calls[1]?.quiet).toBe(true);
  });

  it('does not look up a digest the reference pins', async () => {
    const { run, calls } = recordingRunner();
    const tool = await create(run);
    expect(await tool.pull({ reference: `docker.io/library/alpine@${A}`, digest: A })).toBe(A);
    expect(calls).toHaveLength(1);
  });

  it.each([
    ['pull', { code: 125, stderr: 'Error: initializing source docker://x/y:1: reading manifest 1 in x/y: unauthorized: authentication required\n' }, 'unauthorized: authentication required'],
    ['inspect', { stdout: 'not-a-digest\n' }, 'reading its digest failed: buildah printed "not-a-digest"'],
  ])('turns a failed %s into the reason', async (step, answer, reason) => {
    const tool = await create(recordingRunner({ [step]: answer }).run);
    await expect(tool.pull({ reference: 'x/y:1' })).rejects.toEqual(new ContainerToolError(reason));
  });

  it('builds with chroot isolation from the pulled images only, with the platform and build args', async () => {
    const { run, calls } = recordingRunner();
    const tool = await create(run);
    await tool.build({ contextDir: '/ctx', dockerfile: 'docker/Dockerfile', tag: 'localhost/cascade-build/x:latest', platform: 'linux/amd64', buildArgs: { A: 'x y', B: 'a=b' } });
    expect(calls[0]?.args.slice(6)).toEqual([
      'build', '--isolation', 'chroot', '--pull=never', '--authfile', join(dir, 'auth.json'),
      '-f', '/ctx/docker/Dockerfile', '-t', 'localhost/cascade-build/x:latest', '--platform', 'linux/amd64',
      '--build-arg', 'A=x y', '--build-arg', 'B=a=b', '/ctx',
    ]);
    const failing = await create(recordingRunner({ build: { code: 1, stderr: 'STEP 2/2: RUN false\nError: building at STEP "RUN false": exit status 1\n' } }).run);
    await expect(failing.build({ contextDir: '/ctx', dockerfile: 'Dockerfile', tag: 't', buildArgs: {} })).rejects.toThrow('building at STEP "RUN false": exit status 1');
  });

  it('pushes with a digest file and reads the digest from it', async () => {
    const { run, calls } = recordingRunner({
      push: async (args) => {
        await writeFile(args[args.indexOf('--digestfile') + 1] as string, B);
        return {};
      },
    });
    const tool = await create(run);
    expect(await tool.push('localhost/cascade-build/x:latest', 'app.example.com/app:da1')).toBe(B);
    const args = calls[0]?.args.slice(6) ?? [];
    expect(args).toEqual(['push', '--authfile', join(dir, 'auth.json'), '--digestfile', expect.stringMatching(/^\//), 'localhost/cascade-build/x:latest', 'docker://app.example.com/app:da1']);
    const silent = await create(recordingRunner().run);
    await expect(silent.push('l', 'app.example.com/app:da1')).rejects.toThrow('buildah wrote no digest');
  });

  it('removes a built image quietly, whatever buildah says', async () => {
    const { run, calls } = recordingRunner({ rmi: { code: 1, stderr: 'Error: image not known' } });
    await (await create(run)).remove('localhost/cascade-build/x:latest');
    expect(calls.map((c) => [c.args.slice(6), c.quiet])).toEqual([[['rmi', 'localhost/cascade-build/x:latest'], true]]);
  });
});

describe('DockerTool', () => {
  it('pulls for the platform and reads the digest docker prints; a pinned reference keeps its digest', async () => {
    const { run, calls } = recordingRunner({ pull: { stdout: `9-alpine: Pulling from baseimages/node\nDigest: ${A}\nStatus: Downloaded newer image\n` } });
    const tool = new DockerTool(run);
    expect(await tool.pull({ reference: 'base.example.com/node:9', platform: 'linux/amd64' })).toBe(A);
    expect(await tool.pull({ reference: `base.example.com/node@${B}`, digest: B })).toBe(B);
    expect(calls.map((c) => c.args)).toEqual([
      ['pull', '--platform', 'linux/amd64', 'base.example.com/node:9'],
      ['pull', `base.example.com/node@${B}`],
    ]);
  });

  it.each([
    [{ code: 1, stdout: 'Pulling\n', stderr: 'Error response from daemon: manifest for x:1 not found: manifest unknown\n\n' }, 'Error response from daemon: manifest for x:1 not found: manifest unknown'],
    [{ stdout: 'Status: Image is up to date\n' }, 'docker printed no digest'],
    [{ code: 1 }, 'no error output'],
  ])('turns a failed pull into a reason: %j', async (answer, reason) => {
    await expect(new DockerTool(recordingRunner({ pull: answer }).run).pull({ reference: 'x:1' })).rejects.toEqual(new ContainerToolError(reason));
  });

  it('builds in the context with the Dockerfile, tag, platform and build args', async () => {
    const { run, calls } = recordingRunner();
    await new DockerTool(run).build({ contextDir: '/ctx', dockerfile: 'Dockerfile-app', tag: 'cascade-build/da1:latest', platform: 'linux/amd64', buildArgs: { REGISTRY_NAME: 'r.example.com' } });
    expect(calls).toEqual([
      { args: ['build', '--file', 'Dockerfile-app', '--tag', 'cascade-build/da1:latest', '--platform', 'linux/amd64', '--build-arg', 'REGISTRY_NAME=r.example.com', '.'], cwd: '/ctx' },
    ]);
  });

  it('tags and pushes, reading the digest docker prints', async () => {
    const { run, calls } = recordingRunner({ push: { stdout: `The push refers to repository [app]\nda1: digest: ${B} size: 528\n` } });
    expect(await new DockerTool(run).push('cascade-build/da1:latest', 'app.example.com/app:da1')).toBe(B);
    expect(calls.map((c) => c.args)).toEqual([
      ['tag', 'cascade-build/da1:latest', 'app.example.com/app:da1'],
      ['push', 'app.example.com/app:da1'],
    ]);
    const denied = new DockerTool(recordingRunner({ push: { code: 1, stderr: 'denied: requested access to the resource is denied\n' } }).run);
    await expect(denied.push('l', 'app.example.com/app:da1')).rejects.toThrow('denied: requested access to the resource is denied');
  });
});

// A task file's cmd step (issue 15): a container of the image run to its end.
describe('running a container', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cascade-run-tool-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const create = (run: ToolRunner) =>
    BuildahTool.create({ run, storageRoot: join(dir, 'storage'), workDir: dir, authFile: join(dir, 'auth.json'), registriesConf: join(dir, 'registries.conf') });
  const config = (Entrypoint: string[] | null, Cmd: string[] | null) => ({ stdout: JSON.stringify({ OCIv1: { config: { Entrypoint, Cmd } } }) });

  it.each([
    ["the image's ENTRYPOINT and CMD when the step gives nothing", {}, config(['/entry'], ['serve']), ['/entry', 'serve']],
    ["the step's args replace CMD, after the ENTRYPOINT", { args: ['check', '--fast'] }, config(['/entry'], ['serve']), ['/entry', 'check', '--fast']],
    ["the step's entryPoint replaces both", { entryPoint: 'sh', args: ['/app/check.sh'] }, config(['/entry'], ['serve']), ['sh', '/app/check.sh']],
    ['CMD alone', {}, config(null, ['sh', '-c', 'true']), ['sh', '-c', 'true']],
  ])('buildah: from, run under chroot isolation with env and working directory, rm: %s', async (_what, step, inspect, command) => {
    const { run, calls } = recordingRunner({ ' from ': { stdout: 'working-container-1\n' }, ' inspect ': inspect, ' run ': { code: 3 } });
    const tool = await create(run);
    const code = await tool.run({ image: 'localhost/cascade-build/x:latest', args: [], env: ['EXPECTED=9'], workingDirectory: '/srv', ...step });
    expect(code).toBe(3);
    const verbs = calls.map((c) => c.args.slice(6));
    expect(verbs).toEqual([
      ['from', '--pull=never', '--quiet', 'localhost/cascade-build/x:latest'],
      ['inspect', '--type', 'container', 'working-container-1'],
      ['run', '--isolation', 'chroot', '--env', 'EXPECTED=9', '--workingdir', '/srv', 'working-container-1', '--', ...command],
      ['rm', 'working-container-1'],
    ]);
  });

  it('buildah: an image with no command and a step with none is an error, and the container is still removed', async () => {
    const { run, calls } = recordingRunner({ ' from ': { stdout: 'c1\n' }, ' inspect ': config(null, null) });
    const tool = await create(run);
    await expect(tool.run({ image: 'x', args: [], env: [] })).rejects.toThrow('x has no ENTRYPOINT or CMD and the step gives no command');
    expect(calls.at(-1)?.args.slice(6)).toEqual(['rm', 'c1']);
  });

  it('buildah: tags an image for a later build step', async () => {
    const { run, calls } = recordingRunner();
    await (await create(run)).tag('localhost/cascade-build/x:latest', 'reg.example.com/base:da1');
    expect(calls.map((c) => c.args.slice(6))).toEqual([['tag', 'localhost/cascade-build/x:latest', 'reg.example.com/base:da1']]);
  });

  it('docker: run --rm with env, entrypoint and workdir; its exit code; 125 is docker failing, not the command', async () => {
    const { run, calls } = recordingRunner({ run: { code: 1 } });
    expect(await new DockerTool(run).run({ image: 'cascade-build/da1-1-app:latest', args: ['/app/check.sh'], env: ['A=1'], entryPoint: 'sh', workingDirectory: '/app' })).toBe(1);
    expect(calls.map((c) => c.args)).toEqual([['run', '--rm', '--pull', 'never', '--env', 'A=1', '--entrypoint', 'sh', '--workdir', '/app', 'cascade-build/da1-1-app:latest', '/app/check.sh']]);
    const failing = new DockerTool(recordingRunner({ run: { code: 125, stderr: 'docker: Error response from daemon: No such image: x.\n' } }).run);
    await expect(failing.run({ image: 'x', args: [], env: [] })).rejects.toThrow('docker: Error response from daemon: No such image: x.');
  });
});
