// A task file's steps against a recording tool: the order `when` allows, a failed check that
// stops the push, ignoreErrors, timeouts, the bases of every build step with its id, and the
// log lines prefixed with the step's id.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuildRecord } from '../../../lib/build/build-steps';
import type { ContainerRunRequest, ToolIo } from '../../../lib/build/container-tool';
import { readTaskFilePlan, runTaskFileSteps } from '../../../lib/build/task-file-steps';
import type { RunStep } from '../../../lib/domain/types';
import { sampleValues } from '../../../lib/taskfile/task-file';
import { fakeDigest, RecordingTool, type Failures } from './recording-tool';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cascade-taskfile-steps-'));
  await writeFile(join(dir, 'Dockerfile'), 'FROM base.example.com/node:9-alpine\nRUN true\n');
  await mkdir(join(dir, 'tools'));
  await writeFile(join(dir, 'tools', 'Dockerfile'), 'FROM tools.example.com/golang:1 AS build\nFROM tools.example.com/distroless:1\n');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const REG = 'reg.example.com';
const values = sampleValues(REG, 'app');
const lines = (...l: string[]) => l.join('\n') + '\n';

async function run(taskFile: string, failures: Failures = {}, tool = new RecordingTool(failures)) {
  await writeFile(join(dir, 'acr-task.yaml'), taskFile);
  const plan = await readTaskFilePlan({ contextDir: dir, taskFile: 'acr-task.yaml', values });
  const record: BuildRecord = { baseImages: [], outputImages: [] };
  const steps: RunStep[] = [];
  const built: string[] = [];
  const log: string[] = [];
  let error: Error | undefined;
  try {
    await runTaskFileSteps(plan, tool, { localNamePrefix: 'localhost/cascade-build/t', log: (l) => log.push(l), record, steps, built });
  } catch (err) {
    error = err as Error;
  }
  return { tool, record, steps, built, log, error, statuses: steps.map((s) => `${s.id}:${s.status}`) };
}

const BUILD_CHECK_PUSH = lines(
  'version: v1.1.0',
  'steps:',
  '  - id: build',
  '    build: -t $Registry/app:$ID -t $Registry/app:latest .',
  '  - id: check',
  '    cmd: $Registry/app:$ID sh -c "test $NODE_VERSION = 9.11.2a"',
  '    env: [EXPECTED=9.11.2a]',
  '  - id: push',
  '    push: [$Registry/app:$ID, $Registry/app:latest]',
);

describe('runTaskFileSteps', () => {
  it('build, check, push: the check runs the image the build made, then both tags are pushed', async () => {
    const r = await run(BUILD_CHECK_PUSH);
    expect(r.error).toBeUndefined();
    const local = 'localhost/cascade-build/t-1-build:latest';
    expect(r.tool.calls).toEqual([
      'pull base.example.com/node:9-alpine',
      `build Dockerfile -> ${local}`,
      `run -e EXPECTED=9.11.2a ${local} sh -c test $NODE_VERSION = 9.11.2a`,
      `push ${local} -> ${REG}/app:da1`,
      `push ${local} -> ${REG}/app:latest`,
    ]);
    expect(r.statuses).toEqual(['build:Succeeded', 'check:Succeeded', 'push:Succeeded']);
    expect(r.record.baseImages).toEqual([
      { registry: 'base.example.com', repository: 'node', tag: '9-alpine', digest: fakeDigest('base.example.com/node:9-alpine'), stage: 'runtime', pinned: false, step: 'build' },
    ]);
    expect(r.record.outputImages.map((o) => o.reference)).toEqual([`${REG}/app:da1`, `${REG}/app:latest`]);
    expect(r.built).toEqual([local]);
    // Every line of a step, the tool's output too, carries its id.
    expect(r.log).toContain('[check] ran ' + local);
    expect(r.log.every((l) => /^\[(build|check|push)\] /.test(l))).toBe(true);
  });

  it('a failing check: no push runs, the push is Skipped, and the error names the step', async () => {
    const r = await run(BUILD_CHECK_PUSH, { run: { 'cascade-build': 3 } });
    expect(r.error?.message).toBe(`step "check" (cmd) failed: ${REG}/app:da1 exited with code 3`);
    expect(r.tool.calls.some((c) => c.startsWith('push'))).toBe(false);
    expect(r.record.outputImages).toEqual([]);
    expect(r.statuses).toEqual(['build:Succeeded', 'check:Failed', 'push:Skipped']);
    expect(r.steps[1]?.error).toBe(`${REG}/app:da1 exited with code 3`);
    // The bases pulled are still recorded.
    expect(r.record.baseImages).toHaveLength(1);
  });

  it('ignoreErrors: the failed step is recorded and the run goes on', async () => {
    const r = await run(BUILD_CHECK_PUSH.replace('    env: [EXPECTED=9.11.2a]', '    env: [EXPECTED=9.11.2a]\n    ignoreErrors: true'), { run: { 'cascade-build': 1 } });
    expect(r.error).toBeUndefined();
    expect(r.statuses).toEqual(['build:Succeeded', 'check:Failed', 'push:Succeeded']);
    expect(r.steps[1]?.ignoredError).toBe(true);
    expect(r.record.outputImages).toHaveLength(2);
  });

  it('two build steps on two bases: both captured, each with its step, by the step stage rules', async () => {
    const r = await run(
      lines(
        'steps:',
        '  - id: app',
        '    build: -t $Registry/app:$ID .',
        '    when: ["-"]',
        '  - id: tools',
        '    build: -t $Registry/tools:$ID -f tools/Dockerfile tools',
        '    when: ["-"]',
        '  - push: [$Registry/app:$ID, $Registry/tools:$ID]',
        '    when: [app, tools]',
      ),
    );
    expect(r.error).toBeUndefined();
    expect(r.record.baseImages.map((b) => `${b.registry}/${b.repository}:${b.tag} ${b.stage} ${b.step}`)).toEqual(
      expect.arrayContaining([
        'base.example.com/node:9-alpine runtime app',
        'tools.example.com/golang:1 build-time tools',
        'tools.example.com/distroless:1 runtime tools',
      ]),
    );
    expect(r.record.baseImages).toHaveLength(3);
    expect(r.tool.builds.map((b) => b.contextDir.endsWith('tools') ? `tools:${b.dockerfile}` : `root:${b.dockerfile}`).sort()).toEqual(['root:Dockerfile', 'tools:Dockerfile']);
    expect(r.statuses.at(-1)).toBe('acb_step_2:Succeeded');
  });

  it('a build FROM an image an earlier step built uses it as built: not pulled, not a dependency', async () => {
    await writeFile(join(dir, 'Dockerfile-app'), `FROM ${REG}/base:da1\nRUN true\n`);
    const file = (appWhen: string) =>
      lines(
        'steps:',
        '  - id: base',
        '    build: -t $Registry/base:$ID tools',
        '    when: ["-"]',
        '  - id: app',
        '    build: -t $Registry/app:$ID -f Dockerfile-app .',
        `    when: ${appWhen}`,
        '  - push: [$Registry/app:$ID]',
        '    when: [app]',
      );
    const r = await run(file('[base]'));
    expect(r.error).toBeUndefined();
    const baseLocal = 'localhost/cascade-build/t-1-base:latest';
    expect(r.tool.calls).toEqual([
      'pull tools.example.com/golang:1',
      'pull tools.example.com/distroless:1',
      `build Dockerfile -> ${baseLocal}`, // -f, from the step's context folder (tools)
      `tag ${baseLocal} -> ${REG}/base:da1`,
      'build Dockerfile-app -> localhost/cascade-build/t-2-app:latest',
      `push localhost/cascade-build/t-2-app:latest -> ${REG}/app:da1`,
    ]);
    expect(r.record.baseImages.map((b) => `${b.repository} ${b.step}`)).toEqual(['golang base', 'distroless base']);
    expect(r.log).toContain(`[app] ==> ${REG}/base:da1 was built by step base of this run`);
    // The extra name goes with the image.
    expect(r.built).toEqual([`${REG}/base:da1`, baseLocal, 'localhost/cascade-build/t-2-app:latest']);

    // Not waiting for the step that builds it is a failure that says what to do, not a pull of an old image.
    const early = await run(file('["-"]'));
    expect(early.error?.message).toMatch(/step "app" \(build\) failed: .*base:da1 is built by step "base" of this run, which has not run yet: make this step wait for it \(when: \[base\]\)/);
    expect(early.tool.calls.some((c) => c.includes(`pull ${REG}/base`))).toBe(false);
  });

  it('a cmd of an image the run did not build pulls it first', async () => {
    const r = await run(lines('steps:', '  - cmd: bash echo hello', '    workingDirectory: /tmp', '    entryPoint: /bin/sh'));
    expect(r.error).toBeUndefined();
    expect(r.tool.calls).toEqual(['pull bash', 'run --entrypoint /bin/sh -w /tmp bash echo hello']);
  });

  it('a step over its timeout is stopped, named Timeout, and fails the run', async () => {
    class SlowTool extends RecordingTool {
      override async run(_request: ContainerRunRequest, io: ToolIo = {}): Promise<number> {
        // Ends only when the step's signal stops it, as a killed process does.
        await new Promise<void>((resolve) => io.signal?.addEventListener('abort', () => resolve(), { once: true }));
        return 137;
      }
    }
    // A real one-second timeout: the step's own timer is what must stop it.
    const r = await run(lines('steps:', '  - id: slow', '    cmd: bash sleep 100', '    timeout: 1', '  - id: after', '    cmd: bash true'), {}, new SlowTool());
    expect(r.statuses).toEqual(['slow:Timeout', 'after:Skipped']);
    expect(r.error?.message).toBe('step "slow" (cmd) failed: did not finish within its timeout of 1 s');
  });
});
