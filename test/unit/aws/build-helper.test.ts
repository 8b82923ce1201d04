import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildInputError, planLogins, runHelper } from '../../../lib/aws/build-helper';
import { fakeDigest, RecordingTool } from '../build/recording-tool';

const ECR_APP = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const ECR_BASE = '210987654321.dkr.ecr.us-east-2.amazonaws.com';
const A = `sha256:${'a'.repeat(64)}`;

describe('build helper', () => {
  let dir: string;
  let work: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cascade-helper-ctx-'));
    work = await mkdtemp(join(tmpdir(), 'cascade-helper-work-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  async function run(argv: string[], env: Record<string, string>, tool?: RecordingTool): Promise<{ out: string; err: string }> {
    let out = '';
    let err = '';
    await runHelper(argv, { env, cwd: dir, workDir: work, out: (t) => (out += t), err: (t) => (err += t), ...(tool && { tool }) });
    return { out, err };
  }

  const results = async () => ({
    baseImages: JSON.parse(await readFile(join(work, 'base-images.json'), 'utf8')) as unknown[],
    outputImages: JSON.parse(await readFile(join(work, 'output-images.json'), 'utf8')) as unknown[],
  });

  describe('plan-logins', () => {
    it('assumes pull roles, logs in with task passwords, and lets the build role log in to an uncovered ECR push registry', async () => {
      await writeFile(join(dir, 'Dockerfile'), 'FROM node:20\n');
      const env = {
        CASCADE_REGISTRY: ECR_APP,
        CASCADE_DOCKERFILE: 'Dockerfile',
        CASCADE_PULL_ROLES: JSON.stringify([{ loginServer: ECR_BASE, roleArn: 'arn:aws:iam::210987654321:role/cascade-pull' }]),
        CASCADE_BASIC_LOGINS: JSON.stringify([{ loginServer: 'docker.io', username: 'bot', passwordVariable: 'CASCADE_REGISTRY_PASSWORD_0' }]),
      };
      expect((await run(['plan-logins'], env)).out).toBe(
        [
          `ecr\t${ECR_BASE}\tus-east-2\tarn:aws:iam::210987654321:role/cascade-pull`,
          'basic\tdocker.io\tbot\tCASCADE_REGISTRY_PASSWORD_0\traw',
          `ecr\t${ECR_APP}\teu-west-1\t-`,
          '',
        ].join('\n'),
      );
    });

    it('lets the build role log in to ECR bases no credential covers, once each, after the task credentials', async () => {
      await writeFile(
        join(dir, 'Dockerfile'),
        [
          'FROM --platform=$BUILDPLATFORM golang:1.22 AS build',
          `FROM ${ECR_BASE}/tools/lint:2 AS lint`,
          `FROM ${ECR_BASE}/tools/test:1 AS test`,
          `FROM ${ECR_APP}/base/runtime:3`,
          '',
        ].join('\n'),
      );
      const env = { CASCADE_REGISTRY: ECR_APP, CASCADE_DOCKERFILE: 'Dockerfile' };
      expect((await run(['plan-logins'], env)).out.trim().split('\n')).toEqual([`ecr\t${ECR_APP}\teu-west-1\t-`, `ecr\t${ECR_BASE}\tus-east-2\t-`]);

      const covered = { ...env, CASCADE_PULL_ROLES: JSON.stringify([{ loginServer: ECR_BASE, roleArn: 'arn:aws:iam::210987654321:role/cascade-pull' }]) };
      expect((await run(['plan-logins'], covered)).out.trim().split('\n')).toEqual([
        `ecr\t${ECR_BASE}\tus-east-2\tarn:aws:iam::210987654321:role/cascade-pull`,
        `ecr\t${ECR_APP}\teu-west-1\t-`,
      ]);
    });

    it("uses the push registry's stored login (never printing its password), unless a task credential covers it", () => {
      const stored = JSON.stringify({ username: 'ci', password: 'pw-never-printed' });
      expect(planLogins({ CASCADE_REGISTRY: 'registry.example.com', CASCADE_PUSH_LOGIN: stored })).toEqual([
        ['basic', 'registry.example.com', 'ci', 'CASCADE_PUSH_LOGIN', 'json'],
      ]);
      expect(JSON.stringify(planLogins({ CASCADE_REGISTRY: 'registry.example.com', CASCADE_PUSH_LOGIN: stored }))).not.toContain('pw-never-printed');
      const covered = {
        CASCADE_REGISTRY: 'Registry.Example.com',
        CASCADE_PUSH_LOGIN: stored,
        CASCADE_BASIC_LOGINS: JSON.stringify([{ loginServer: 'registry.example.com', username: 'task', passwordVariable: 'CASCADE_REGISTRY_PASSWORD_0' }]),
      };
      expect(planLogins(covered)).toEqual([['basic', 'registry.example.com', 'task', 'CASCADE_REGISTRY_PASSWORD_0', 'raw']]);
      const hub = {
        CASCADE_REGISTRY: 'docker.io',
        CASCADE_PUSH_LOGIN: stored,
        CASCADE_BASIC_LOGINS: JSON.stringify([{ loginServer: 'index.docker.io', username: 'task', passwordVariable: 'CASCADE_REGISTRY_PASSWORD_0' }]),
      };
      expect(planLogins(hub)).toEqual([['basic', 'index.docker.io', 'task', 'CASCADE_REGISTRY_PASSWORD_0', 'raw']]);
      expect(planLogins({ CASCADE_REGISTRY: 'registry.example.com' })).toEqual([]);
    });

    it.each([
      [{ CASCADE_REGISTRY: ECR_APP, CASCADE_PULL_ROLES: JSON.stringify([{ loginServer: 'quay.io', roleArn: 'arn:aws:iam::1:role/x' }]) }, /quay.io is not an Amazon ECR registry/],
      [{ CASCADE_REGISTRY: ECR_APP, CASCADE_PULL_ROLES: '{' }, /CASCADE_PULL_ROLES is not valid JSON/],
      [{}, /CASCADE_REGISTRY is not set/],
      [{ CASCADE_REGISTRY: 'r.example.com', CASCADE_PUSH_LOGIN: 'plain-password' }, /CASCADE_PUSH_LOGIN is not a stored registry login/],
    ])('refuses %j', (env, message) => {
      expect(() => planLogins(env)).toThrow(BuildInputError);
      expect(() => planLogins(env)).toThrow(message);
      expect(() => planLogins(env)).not.toThrow(/plain-password/);
    });

    it('says when the Dockerfile is missing, before any login', async () => {
      await expect(run(['plan-logins'], { CASCADE_REGISTRY: ECR_APP, CASCADE_DOCKERFILE: 'Dockerfile-app' })).rejects.toThrow(
        'the Dockerfile Dockerfile-app was not found in the build context',
      );
    });
  });

  describe('password', () => {
    it('prints a raw password, or the password of a stored login, with no newline', async () => {
      expect((await run(['password', 'CASCADE_REGISTRY_PASSWORD_0', 'raw'], { CASCADE_REGISTRY_PASSWORD_0: 'hunter2' })).out).toBe('hunter2');
      expect((await run(['password', 'CASCADE_PUSH_LOGIN', 'json'], { CASCADE_PUSH_LOGIN: JSON.stringify({ username: 'u', password: 'p w' }) })).out).toBe('p w');
    });

    it('reads only CASCADE_ variables', async () => {
      await expect(run(['password', 'AWS_SECRET_ACCESS_KEY', 'raw'], { AWS_SECRET_ACCESS_KEY: 'x' })).rejects.toThrow(/CASCADE_ variable/);
      await expect(run(['password', 'CASCADE_REGISTRY_PASSWORD_0', 'raw'], {})).rejects.toThrow(/missing from Parameter Store/);
    });
  });

  describe('run-steps', () => {
    const env = {
      CASCADE_RUN_ID: 'da7',
      CASCADE_REGISTRY: ECR_APP,
      CASCADE_IMAGES: JSON.stringify([`${ECR_APP}/app:da7`, `${ECR_APP}/app:latest`]),
      CASCADE_DOCKERFILE: 'Dockerfile-app',
      CASCADE_BUILD_ARGS: JSON.stringify({ REGISTRY_NAME: ECR_BASE, A: 'x y' }),
      CASCADE_PLATFORM: 'linux/amd64',
    };

    it('runs the tutorial: pulls the base named through a build arg, builds with the args, pushes every target, writes both lists', async () => {
      await writeFile(join(dir, 'Dockerfile-app'), `ARG REGISTRY_NAME\nFROM alpine:3.20@${A} AS certs\nFROM \${REGISTRY_NAME}/baseimages/node:9-alpine\n`);
      const tool = new RecordingTool();
      const { out } = await run(['run-steps'], env, tool);
      expect(tool.calls).toEqual([
        `pull docker.io/library/alpine@${A} --platform linux/amd64`,
        `pull ${ECR_BASE}/baseimages/node:9-alpine --platform linux/amd64`,
        'build Dockerfile-app -> cascade-build/da7:latest --platform linux/amd64',
        `push cascade-build/da7:latest -> ${ECR_APP}/app:da7`,
        `push cascade-build/da7:latest -> ${ECR_APP}/app:latest`,
      ]);
      expect(tool.builds[0]?.buildArgs).toEqual({ REGISTRY_NAME: ECR_BASE, A: 'x y' });
      expect(await results()).toEqual({
        baseImages: [
          { registry: 'docker.io', repository: 'library/alpine', tag: '3.20', digest: A, stage: 'build-time', pinned: true },
          { registry: ECR_BASE, repository: 'baseimages/node', tag: '9-alpine', digest: fakeDigest(`${ECR_BASE}/baseimages/node:9-alpine`), stage: 'runtime', pinned: false },
        ],
        outputImages: [
          { reference: `${ECR_APP}/app:da7`, digest: fakeDigest(`pushed:${ECR_APP}/app:da7`) },
          { reference: `${ECR_APP}/app:latest`, digest: fakeDigest(`pushed:${ECR_APP}/app:latest`) },
        ],
      });
      expect(out).toContain(`==> pulling ${ECR_BASE}/baseimages/node:9-alpine (runtime)`);
      expect(out).toContain(`${ECR_APP}/app:latest is ${fakeDigest(`pushed:${ECR_APP}/app:latest`)}\n`);
    });

    it('writes what a failed build produced before it failed, and rejects with the reason', async () => {
      await writeFile(join(dir, 'Dockerfile-app'), 'FROM golang:1.22 AS build\nFROM node:20\n');
      await expect(run(['run-steps'], env, new RecordingTool({ pull: 'node:20' }))).rejects.toThrow('pulling docker.io/library/node:20 failed: manifest unknown');
      expect(await results()).toEqual({
        baseImages: [{ registry: 'docker.io', repository: 'library/golang', tag: '1.22', digest: fakeDigest('docker.io/library/golang:1.22'), stage: 'build-time', pinned: false }],
        outputImages: [],
      });
    });

    it('warns in the log about a build arg with no value', async () => {
      await writeFile(join(dir, 'Dockerfile-app'), 'ARG VARIANT\nFROM node:20${VARIANT}\n');
      expect((await run(['run-steps'], env, new RecordingTool())).out).toContain('warning: the Dockerfile uses build arguments with no value: VARIANT\n');
    });

    it.each([
      [{ CASCADE_IMAGES: '[]' }, /CASCADE_IMAGES must be a non-empty JSON array/],
      [{ CASCADE_BUILD_ARGS: '{"A":1}' }, /CASCADE_BUILD_ARGS must be a JSON object of strings/],
      [{ CASCADE_DOCKERFILE: '' }, /CASCADE_DOCKERFILE is not set/],
      [{ CASCADE_DOCKERFILE: '../Dockerfile' }, /\.\.\/Dockerfile is outside the build context/],
    ])('refuses %j before pulling anything', async (change, message) => {
      await writeFile(join(dir, 'Dockerfile-app'), 'FROM node:20\n');
      const tool = new RecordingTool();
      await expect(run(['run-steps'], { ...env, ...change }, tool)).rejects.toThrow(message);
      expect(tool.calls).toEqual([]);
    });
  });

  it('refuses an unknown command', async () => {
    await expect(run(['deploy'], {})).rejects.toThrow('unknown helper command "deploy"');
  });
});
