// Runs the rendered buildspec the way CodeBuild does (phases in order, one command at a time,
// only exported variables carried from one command to the next, the same phase transitions on
// failure), with fake docker, aws and git on the PATH that record what they were asked. The
// environment comes from CodeBuildBuilder itself, and the exported variables go through the
// build-events parser: builder, buildspec, helper and result reading are checked end to end.
import { CodeBuildClient, StartBuildCommand, type EnvironmentVariable } from '@aws-sdk/client-codebuild';
import { mockClient } from 'aws-sdk-client-mock';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CodeBuildBuilder } from '../../../lib/adapters/codebuild-builder';
import { buildResultFromEvent } from '../../../lib/aws/build-result';
import type { BuildSpec } from '../../../lib/domain/types';
import { eventFixture } from '../../support/event-fixtures';

const ROOT = join(__dirname, '..', '..', '..');
const ECR_APP = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const ECR_BASE = '210987654321.dkr.ecr.eu-west-1.amazonaws.com';
const PULL_ROLE = 'arn:aws:iam::210987654321:role/cascade-pull';
const HUB_PASSWORD = 'hub-password-never-logged';
const PHASES = ['install', 'pre_build', 'build', 'post_build'] as const;

interface Buildspec {
  env: { 'exported-variables': string[] };
  phases: Record<(typeof PHASES)[number], { commands?: string[]; finally?: string[] }>;
}

const FAKE_DOCKER = `#!/bin/bash
echo "docker $*" >> "$FAKE_CALLS"
case "$1" in
  login)
    shift
    while [ $# -gt 1 ]; do case "$1" in --username) user="$2"; shift 2;; *) shift;; esac; done
    printf '%s\\t%s\\t%s\\n' "$1" "$user" "$(cat)" >> "$FAKE_LOGINS"
    echo "Login Succeeded";;
  pull)
    ref="\${@: -1}"
    if [[ "$ref" == *missing* ]]; then echo "Error response from daemon: manifest for $ref not found: manifest unknown" >&2; exit 1; fi
    echo "Pulling from $ref"
    echo "Digest: sha256:$(printf %s "$ref" | sha256sum | cut -c1-64)"
    echo "Status: Downloaded newer image for $ref";;
  build)
    echo "build cwd=$PWD" >> "$FAKE_CALLS"
    if [ -n "$FAKE_BUILD_FAIL" ]; then echo 'ERROR: failed to solve: process "/bin/sh -c npm install" did not complete successfully: exit code: 1' >&2; exit 1; fi
    echo "Successfully tagged";;
  tag) ;;
  run)
    echo "run cwd=$PWD" >> "$FAKE_CALLS"
    if [ -n "$FAKE_RUN_FAIL" ]; then echo "NODE_VERSION is 10.0.0, expected 9.11.2" >&2; exit 1; fi
    echo "NODE_VERSION is 9.11.2a, as expected";;
  push)
    if [ -n "$FAKE_PUSH_FAIL" ]; then echo "denied: requested access to the resource is denied" >&2; exit 1; fi
    echo "The push refers to repository [$2]"
    echo "da1: digest: sha256:$(printf 'pushed:%s' "$2" | sha256sum | cut -c1-64) size: 528";;
esac
`;

const FAKE_AWS = `#!/bin/bash
echo "aws $* key=\${AWS_ACCESS_KEY_ID:-none}" >> "$FAKE_CALLS"
case "$1 $2" in
  "sts assume-role") printf 'ASIAFAKEKEY\\tassumed-secret-key\\tassumed-token\\n';;
  "ecr get-login-password") printf 'ecr-token-for-%s' "\${AWS_ACCESS_KEY_ID:-build-role}";;
  *) exit 2;;
esac
`;

const FAKE_GIT = `#!/bin/bash
echo "git $*" >> "$FAKE_CALLS"
if [ "$1" = clone ]; then dest="\${@: -1}"; mkdir -p "$dest"; cp -r "$FAKE_REPO/." "$dest/"; fi
if [ "$1" = -C ] && [ "$3" = rev-parse ]; then echo 0123456789abcdef0123456789abcdef01234567; fi
exit 0
`;

const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

interface BuildRun {
  exported: Record<string, string>;
  log: string;
  calls: string[];
  logins: string[][];
  failedPhases: string[];
}

describe('infra/buildspec.yml', () => {
  let buildspec: Buildspec;
  let dir: string;
  const codebuild = mockClient(CodeBuildClient);

  beforeAll(() => {
    // Rendered in a child process, as serverless does: esbuild's API does not run inside jest's VM.
    buildspec = parse(execFileSync(process.execPath, [join(ROOT, 'infra', 'buildspec.cjs')], { encoding: 'utf8', cwd: ROOT })) as Buildspec;
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cascade-buildspec-'));
    codebuild.reset();
    codebuild.on(StartBuildCommand).resolves({ build: { id: 'cascade-dev:8745a7a9-c340-456a-9166-edf953571b2e' } });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  afterAll(() => codebuild.restore());

  /** The variables CodeBuild would give the build: the builder's, PARAMETER_STORE ones resolved. */
  async function environmentFor(spec: BuildSpec, parameters: Record<string, string>): Promise<Record<string, string>> {
    await new CodeBuildBuilder({ projectName: 'cascade-dev', client: new CodeBuildClient({ region: 'eu-west-1' }) }).start({ runId: 'da1', spec });
    const variables = (codebuild.commandCalls(StartBuildCommand)[0]?.args[0].input.environmentVariablesOverride ?? []) as EnvironmentVariable[];
    const env: Record<string, string> = {};
    for (const v of variables) {
      const value = v.type === 'PARAMETER_STORE' ? parameters[v.value as string] : v.value;
      if (value === undefined) throw new Error(`parameter ${v.value} is not in the test's store`);
      env[v.name as string] = value;
    }
    return env;
  }

  async function runBuild(env: Record<string, string>, files: Record<string, string>): Promise<BuildRun> {
    const bin = join(dir, 'bin');
    const src = join(dir, 'src');
    const repo = join(dir, 'repo');
    for (const d of [bin, src, repo, join(dir, 'home')]) await mkdir(d, { recursive: true });
    for (const [name, text] of Object.entries({ docker: FAKE_DOCKER, aws: FAKE_AWS, git: FAKE_GIT })) {
      await writeFile(join(bin, name), text);
      await chmod(join(bin, name), 0o755);
    }
    for (const [path, text] of Object.entries(files)) {
      for (const root of [src, repo]) {
        await mkdir(join(root, path, '..'), { recursive: true });
        await writeFile(join(root, path), text);
      }
    }
    const envFile = join(dir, 'env.sh');
    const initial: Record<string, string> = {
      PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`,
      HOME: join(dir, 'home'),
      TMPDIR: dir,
      CODEBUILD_SRC_DIR: src,
      FAKE_CALLS: join(dir, 'calls'),
      FAKE_LOGINS: join(dir, 'logins'),
      FAKE_REPO: repo,
      ...env,
    };
    const quote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
    await writeFile(envFile, Object.entries(initial).map(([k, v]) => `export ${k}=${quote(v)}\n`).join(''));

    // Nothing of this machine's environment leaks into the build but what CodeBuild would set.
    const BARE_ENV = { PATH: '/usr/bin:/bin', HOME: join(dir, 'home') };
    let log = '';
    let succeeding = true;
    const failedPhases: string[] = [];
    const runCommand = (command: string): boolean => {
      const commandFile = join(dir, 'command.sh');
      writeFileSync(commandFile, command);
      const driver = `source ${quote(envFile)}\nexport CODEBUILD_BUILD_SUCCEEDING=${succeeding ? 1 : 0}\ncd "$CODEBUILD_SRC_DIR"\nsource ${quote(commandFile)}\nstatus=$?\nexport -p > ${quote(envFile)}\nexit $status\n`;
      const result = spawnSync('/usr/bin/bash', ['--noprofile', '--norc', '-c', driver], { env: BARE_ENV, encoding: 'utf8' });
      log += result.stdout + result.stderr;
      return result.status === 0;
    };
    for (const phase of PHASES) {
      const { commands = [], finally: cleanup = [] } = buildspec.phases[phase];
      let failed = false;
      for (const command of commands) {
        if (!runCommand(command)) {
          failed = true;
          break;
        }
      }
      for (const command of cleanup) if (!runCommand(command)) failed = true;
      if (failed) {
        failedPhases.push(phase);
        succeeding = false;
        // CodeBuild goes on to POST_BUILD only after a failed BUILD; any other failure ends the build.
        if (phase !== 'build') break;
      }
    }

    const finalEnv = spawnSync('/usr/bin/bash', ['--noprofile', '--norc', '-c', `source ${quote(envFile)}; env -0`], { env: BARE_ENV, encoding: 'utf8' }).stdout;
    const all = new Map(finalEnv.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    const exported = Object.fromEntries(buildspec.env['exported-variables'].map((name) => [name, all.get(name) ?? '']));
    const read = async (file: string) => (await readFile(join(dir, file), 'utf8').catch(() => '')).split('\n').filter(Boolean);
    return { exported, log, calls: await read('calls'), logins: (await read('logins')).map((l) => l.split('\t')), failedPhases };
  }

  /** The build state change CodeBuild would send with these exported values. */
  function stateChange(status: string, exported: Record<string, string>) {
    const event = eventFixture<{ detail: { 'build-status': string; 'additional-information': Record<string, unknown> } }>('buildEvents.json');
    event.detail['build-status'] = status;
    event.detail['additional-information']['exported-environment-variables'] = Object.entries(exported).map(([name, value]) => ({ name, value }));
    return event;
  }

  const tutorial: BuildSpec = {
    registry: ECR_APP,
    images: ['helloworld:da1'],
    context: { kind: 'git', url: 'https://github.com/example/acr-build-helloworld-node.git', branch: 'main', folder: '.' },
    dockerfile: 'Dockerfile-app',
    buildArgs: { REGISTRY_NAME: ECR_BASE },
    platform: 'linux/amd64',
    credentials: [
      { kind: 'identity', loginServer: ECR_BASE, roleArn: PULL_ROLE },
      { kind: 'basic', loginServer: 'docker.io', username: 'cascadebot', secretRef: '/cascade/dev/task/helloworld/docker.io' },
    ],
  };
  const dockerfile = 'ARG REGISTRY_NAME\nFROM golang:1.22 AS tools\nFROM ${REGISTRY_NAME}/baseimages/node:9-alpine\nCOPY --from=tools /usr/local/go/bin/go /usr/local/bin/go\n';
  const parameters = { '/cascade/dev/task/helloworld/docker.io': HUB_PASSWORD };

  it('exports only the variables the build-events function reads', () => {
    expect(buildspec.env['exported-variables']).toEqual(['CASCADE_RUN_ID', 'CASCADE_BASE_IMAGES', 'CASCADE_OUTPUT_IMAGES', 'CASCADE_ERROR', 'CASCADE_STEPS']);
  });

  it('builds the tutorial: assumes the pull role for the base, logs in, pulls, builds, pushes, exports the digests', async () => {
    const env = await environmentFor(tutorial, parameters);
    const run = await runBuild(env, { 'Dockerfile-app': dockerfile });
    expect(run.failedPhases).toEqual([]);

    const base = `${ECR_BASE}/baseimages/node:9-alpine`;
    expect(JSON.parse(run.exported.CASCADE_BASE_IMAGES as string)).toEqual([
      { registry: 'docker.io', repository: 'library/golang', tag: '1.22', digest: sha('docker.io/library/golang:1.22'), stage: 'build-time', pinned: false },
      { registry: ECR_BASE, repository: 'baseimages/node', tag: '9-alpine', digest: sha(base), stage: 'runtime', pinned: false },
    ]);
    expect(JSON.parse(run.exported.CASCADE_OUTPUT_IMAGES as string)).toEqual([
      { reference: `${ECR_APP}/helloworld:da1`, digest: sha(`pushed:${ECR_APP}/helloworld:da1`) },
    ]);
    expect(run.exported.CASCADE_ERROR).toBe('');
    expect(run.exported.CASCADE_RUN_ID).toBe('da1');

    // The base registry through the assumed role, Docker Hub with the task's password, the push
    // registry with the build's own role.
    expect(run.logins).toEqual([
      [ECR_BASE, 'AWS', 'ecr-token-for-ASIAFAKEKEY'],
      ['docker.io', 'cascadebot', HUB_PASSWORD],
      [ECR_APP, 'AWS', 'ecr-token-for-build-role'],
    ]);
    expect(run.calls).toContain(
      `aws sts assume-role --role-arn ${PULL_ROLE} --role-session-name cascade-da1 --query Credentials.[AccessKeyId,SecretAccessKey,SessionToken] --output text key=none`,
    );
    expect(run.calls).toContain('aws ecr get-login-password --region eu-west-1 key=ASIAFAKEKEY');
    expect(run.calls).toContain('aws ecr get-login-password --region eu-west-1 key=none');
    expect(run.calls.filter((c) => c.startsWith('docker pull'))).toEqual([
      'docker pull --platform linux/amd64 docker.io/library/golang:1.22',
      `docker pull --platform linux/amd64 ${base}`,
    ]);
    expect(run.calls).toContain(
      `docker build --file Dockerfile-app --tag cascade-build/da1:latest --platform linux/amd64 --build-arg REGISTRY_NAME=${ECR_BASE} .`,
    );
    expect(run.calls).toContain(`build cwd=${join(dir, 'src')}`);
    expect(run.calls).toContain(`docker push ${ECR_APP}/helloworld:da1`);

    // Nothing secret reaches the build log.
    for (const secret of [HUB_PASSWORD, 'assumed-secret-key', 'assumed-token', 'ecr-token-for']) expect(run.log).not.toContain(secret);

    // And the build-events function reads the exported values back as the run's result.
    const outcome = buildResultFromEvent(stateChange('SUCCEEDED', run.exported), { projectName: 'cascade-dev' });
    expect(outcome).toMatchObject({
      kind: 'result',
      result: {
        runId: 'da1',
        status: 'Succeeded',
        outputImages: JSON.parse(run.exported.CASCADE_OUTPUT_IMAGES as string),
        baseImages: JSON.parse(run.exported.CASCADE_BASE_IMAGES as string),
      },
    });
  });

  describe('a task file (issue 15): build, check with docker run, push only when the check passes', () => {
    const taskFile = [
      'version: v1.1.0',
      'steps:',
      '  - id: app',
      `    build: -t $Registry/helloworld:$ID -f Dockerfile-app --build-arg REGISTRY_NAME=${ECR_BASE} .`,
      '  - id: check',
      '    cmd: $Registry/helloworld:$ID sh /app/check.sh',
      '    env: [EXPECTED=9.11.2]',
      '  - id: push',
      '    push: [$Registry/helloworld:$ID]',
      '',
    ].join('\n');
    const spec: BuildSpec = {
      ...tutorial,
      images: ['helloworld:da1'],
      dockerfile: 'acr-task.yaml',
      buildArgs: {},
      values: { 'Run.ID': 'da1', 'Run.Registry': ECR_APP, 'Run.Date': '20261206-150000z', 'Run.TaskName': 'checked', 'Run.Commit': '', 'Run.Branch': 'main' },
    };
    const files = { 'acr-task.yaml': taskFile, 'Dockerfile-app': dockerfile };
    const local = 'cascade-build/da1-1-app:latest';

    it('passes the check, then pushes; each line of a step carries its id; the steps reach the run', async () => {
      const run = await runBuild(await environmentFor(spec, parameters), files);
      expect(run.failedPhases).toEqual([]);
      expect(run.calls.filter((c) => /^docker (pull|build|run|push)/.test(c))).toEqual([
        'docker pull --platform linux/amd64 docker.io/library/golang:1.22',
        `docker pull --platform linux/amd64 ${ECR_BASE}/baseimages/node:9-alpine`,
        `docker build --file Dockerfile-app --tag ${local} --platform linux/amd64 --build-arg REGISTRY_NAME=${ECR_BASE} .`,
        `docker run --rm --pull never --env EXPECTED=9.11.2 ${local} sh /app/check.sh`,
        `docker push ${ECR_APP}/helloworld:da1`,
      ]);
      expect(run.log).toMatch(/^\[check\] NODE_VERSION is 9\.11\.2a, as expected$/m);
      expect(JSON.parse(run.exported.CASCADE_BASE_IMAGES as string).map((b: { step?: string }) => b.step)).toEqual(['app', 'app']);
      const outcome = buildResultFromEvent(stateChange('SUCCEEDED', run.exported), { projectName: 'cascade-dev' });
      expect(outcome.kind === 'result' && outcome.result.steps?.map((s) => `${s.id}:${s.status}`)).toEqual(['app:Succeeded', 'check:Succeeded', 'push:Succeeded']);
      expect(outcome.kind === 'result' && outcome.result.outputImages.map((o) => o.reference)).toEqual([`${ECR_APP}/helloworld:da1`]);
    });

    it('a failing check: no push, the build fails naming the step, the bases are still reported', async () => {
      const run = await runBuild({ ...(await environmentFor(spec, parameters)), FAKE_RUN_FAIL: '1' }, files);
      expect(run.failedPhases).toEqual(['build']);
      expect(run.calls.some((c) => c.startsWith('docker push') || c.startsWith('docker tag'))).toBe(false);
      expect(run.exported.CASCADE_ERROR).toBe(`step "check" (cmd) failed: ${ECR_APP}/helloworld:da1 exited with code 1`);
      expect(run.log).toMatch(/^\[check\] NODE_VERSION is 10\.0\.0, expected 9\.11\.2$/m);
      const outcome = buildResultFromEvent(stateChange('FAILED', run.exported), { projectName: 'cascade-dev' });
      expect(outcome).toMatchObject({ kind: 'result', result: { status: 'Failed', error: run.exported.CASCADE_ERROR, outputImages: [] } });
      expect(outcome.kind === 'result' && outcome.result.steps?.map((s) => `${s.id}:${s.status}`)).toEqual(['app:Succeeded', 'check:Failed', 'push:Skipped']);
      expect(outcome.kind === 'result' && outcome.result.baseImages).toHaveLength(2);
    });
  });

  it('clones hosts CodeBuild cannot, at the given commit, and stops before building when a base cannot be pulled', async () => {
    const spec: BuildSpec = {
      ...tutorial,
      registry: 'registry.example.com',
      context: { kind: 'git', url: 'https://gitlab.example.com/team/app.git', branch: 'release', folder: 'docker/app' },
      commit: 'fd489864e7642b48eaad6e3f155c10e46810ec72',
      dockerfile: 'Dockerfile',
      credentials: [],
      buildArgs: {},
    };
    const run = await runBuild(await environmentFor(spec, {}), { 'docker/app/Dockerfile': 'FROM registry.example.com/base/missing:1\n' });

    expect(run.failedPhases).toEqual(['build']);
    const clone = run.calls.find((c) => c.startsWith('git clone'));
    expect(clone).toMatch(/^git clone --quiet --single-branch --branch release -- https:\/\/gitlab\.example\.com\/team\/app\.git \S+\/source$/);
    expect(run.calls.some((c) => c.includes('checkout --quiet fd489864e7642b48eaad6e3f155c10e46810ec72'))).toBe(true);
    expect(run.calls.some((c) => c.startsWith('docker build') || c.startsWith('docker push'))).toBe(false);
    expect(run.exported.CASCADE_ERROR).toBe(
      'pulling registry.example.com/base/missing:1 failed: Error response from daemon: manifest for registry.example.com/base/missing:1 not found: manifest unknown',
    );
    expect(run.exported.CASCADE_BASE_IMAGES).toBe('[]');
    expect(run.exported.CASCADE_OUTPUT_IMAGES).toBe('[]');

    const outcome = buildResultFromEvent(stateChange('FAILED', run.exported));
    expect(outcome).toMatchObject({ kind: 'result', result: { status: 'Failed', error: run.exported.CASCADE_ERROR, outputImages: [], baseImages: [] } });
  });

  it('pushes nothing when the docker build fails, and reports its last error line and the bases it pulled', async () => {
    const run = await runBuild({ ...(await environmentFor(tutorial, parameters)), FAKE_BUILD_FAIL: '1' }, { 'Dockerfile-app': dockerfile });
    expect(run.failedPhases).toEqual(['build']);
    expect(run.calls.some((c) => c.startsWith('docker push'))).toBe(false);
    expect(run.log).toContain('cascade: building the image failed: ');
    expect(run.exported.CASCADE_ERROR).toBe(
      'building the image failed: ERROR: failed to solve: process "/bin/sh -c npm install" did not complete successfully: exit code: 1',
    );
    expect(JSON.parse(run.exported.CASCADE_BASE_IMAGES as string)).toHaveLength(2);
    expect(run.exported.CASCADE_OUTPUT_IMAGES).toBe('[]');
  });

  it('logs the build role in to an ECR base no credential covers before pulling it, and records a pinned base by its own digest', async () => {
    const pinned = `sha256:${'a'.repeat(64)}`;
    const spec: BuildSpec = { ...tutorial, registry: 'registry.example.com', credentials: [], buildArgs: {} };
    const run = await runBuild(await environmentFor(spec, {}), {
      'Dockerfile-app': `FROM ${ECR_BASE}/tools/lint:2 AS lint\nFROM --platform=linux/arm64 alpine:3.20@${pinned}\n`,
    });
    expect(run.failedPhases).toEqual([]);
    expect(run.logins).toEqual([[ECR_BASE, 'AWS', 'ecr-token-for-build-role']]);
    const login = run.calls.indexOf('aws ecr get-login-password --region eu-west-1 key=none');
    const firstPull = run.calls.findIndex((c) => c.startsWith('docker pull'));
    expect(login).toBeGreaterThanOrEqual(0);
    expect(login).toBeLessThan(firstPull);
    expect(run.calls.filter((c) => c.startsWith('docker pull'))).toEqual([
      `docker pull --platform linux/amd64 ${ECR_BASE}/tools/lint:2`,
      `docker pull --platform linux/arm64 docker.io/library/alpine@${pinned}`,
    ]);
    expect(JSON.parse(run.exported.CASCADE_BASE_IMAGES as string)).toEqual([
      { registry: ECR_BASE, repository: 'tools/lint', tag: '2', digest: sha(`${ECR_BASE}/tools/lint:2`), stage: 'build-time', pinned: false },
      { registry: 'docker.io', repository: 'library/alpine', tag: '3.20', digest: pinned, stage: 'runtime', pinned: true },
    ]);
  });

  it('reports the registry reason when a push is refused, with the bases it built on', async () => {
    const run = await runBuild({ ...(await environmentFor(tutorial, parameters)), FAKE_PUSH_FAIL: '1' }, { 'Dockerfile-app': dockerfile });
    expect(run.failedPhases).toEqual(['build']);
    expect(run.exported.CASCADE_ERROR).toBe(`pushing ${ECR_APP}/helloworld:da1 failed: denied: requested access to the resource is denied`);
    expect(JSON.parse(run.exported.CASCADE_BASE_IMAGES as string)).toHaveLength(2);
    expect(run.exported.CASCADE_OUTPUT_IMAGES).toBe('[]');
    const outcome = buildResultFromEvent(stateChange('FAILED', run.exported));
    expect(outcome).toMatchObject({ kind: 'result', result: { status: 'Failed', error: run.exported.CASCADE_ERROR, outputImages: [] } });
  });

  it('fails with the reason when the Dockerfile is not in the context', async () => {
    const run = await runBuild(await environmentFor(tutorial, parameters), { Dockerfile: 'FROM node:20\n' });
    expect(run.failedPhases).toEqual(['pre_build']);
    expect(run.exported.CASCADE_ERROR).toBe('the Dockerfile Dockerfile-app was not found in the build context');
    expect(run.calls.some((c) => c.startsWith('docker pull'))).toBe(false);
  });
});
