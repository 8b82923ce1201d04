import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildInputError, planLogins, runHelper } from '../../../lib/aws/build-helper';

const ECR_APP = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const ECR_BASE = '210987654321.dkr.ecr.us-east-2.amazonaws.com';
const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

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

  function run(argv: string[], env: Record<string, string>): { out: string; err: string } {
    let out = '';
    let err = '';
    runHelper(argv, { env, cwd: dir, workDir: work, out: (t) => (out += t), err: (t) => (err += t) });
    return { out, err };
  }

  describe('plan-logins', () => {
    it('assumes pull roles, logs in with task passwords, and lets the build role log in to an uncovered ECR push registry', () => {
      const env = {
        CASCADE_REGISTRY: ECR_APP,
        CASCADE_PULL_ROLES: JSON.stringify([{ loginServer: ECR_BASE, roleArn: 'arn:aws:iam::210987654321:role/cascade-pull' }]),
        CASCADE_BASIC_LOGINS: JSON.stringify([{ loginServer: 'docker.io', username: 'bot', passwordVariable: 'CASCADE_REGISTRY_PASSWORD_0' }]),
      };
      expect(run(['plan-logins'], env).out).toBe(
        [
          `ecr\t${ECR_BASE}\tus-east-2\tarn:aws:iam::210987654321:role/cascade-pull`,
          'basic\tdocker.io\tbot\tCASCADE_REGISTRY_PASSWORD_0\traw',
          `ecr\t${ECR_APP}\teu-west-1\t-`,
          '',
        ].join('\n'),
      );
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
      expect(planLogins({ CASCADE_REGISTRY: 'registry.example.com' })).toEqual([]);
    });

    it.each([
      [{ CASCADE_REGISTRY: ECR_APP, CASCADE_PULL_ROLES: JSON.stringify([{ loginServer: 'quay.io', roleArn: 'arn:aws:iam::1:role/x' }]) }, /quay.io is not an Amazon ECR registry/],
      [{ CASCADE_REGISTRY: ECR_APP, CASCADE_PULL_ROLES: '{' }, /CASCADE_PULL_ROLES is not valid JSON/],
      [{}, /CASCADE_REGISTRY is not set/],
      [{ CASCADE_REGISTRY: 'r.example.com', CASCADE_PUSH_LOGIN: 'plain-password' }, /CASCADE_PUSH_LOGIN is not a stored registry login/],
    ])('refuses %j', (env, message) => {
      expect(() => run(['plan-logins'], env)).toThrow(BuildInputError);
      expect(() => run(['plan-logins'], env)).toThrow(message);
      expect(() => run(['plan-logins'], env)).not.toThrow(/plain-password/);
    });
  });

  describe('password', () => {
    it('prints a raw password, or the password of a stored login, with no newline', () => {
      expect(run(['password', 'CASCADE_REGISTRY_PASSWORD_0', 'raw'], { CASCADE_REGISTRY_PASSWORD_0: 'hunter2' }).out).toBe('hunter2');
      expect(run(['password', 'CASCADE_PUSH_LOGIN', 'json'], { CASCADE_PUSH_LOGIN: JSON.stringify({ username: 'u', password: 'p w' }) }).out).toBe('p w');
    });

    it('reads only CASCADE_ variables', () => {
      expect(() => run(['password', 'AWS_SECRET_ACCESS_KEY', 'raw'], { AWS_SECRET_ACCESS_KEY: 'x' })).toThrow(/CASCADE_ variable/);
      expect(() => run(['password', 'CASCADE_REGISTRY_PASSWORD_0', 'raw'], {})).toThrow(/missing from Parameter Store/);
    });
  });

  describe('bases', () => {
    it('plans the tutorial: the base named through a build arg, pulled by the role, so no extra login', async () => {
      await writeFile(join(dir, 'Dockerfile-app'), 'ARG REGISTRY_NAME\nFROM ${REGISTRY_NAME}/baseimages/node:9-alpine\nCOPY . /app\n');
      const env = {
        CASCADE_REGISTRY: ECR_APP,
        CASCADE_DOCKERFILE: 'Dockerfile-app',
        CASCADE_BUILD_ARGS: JSON.stringify({ REGISTRY_NAME: ECR_BASE }),
        CASCADE_PLATFORM: 'linux/amd64',
        CASCADE_PULL_ROLES: JSON.stringify([{ loginServer: ECR_BASE, roleArn: 'arn:aws:iam::210987654321:role/cascade-pull' }]),
      };
      expect(run(['bases'], env).out).toBe(`${ECR_BASE}/baseimages/node:9-alpine\tlinux/amd64\t-\n`);
      expect(JSON.parse(await readFile(join(work, 'bases.json'), 'utf8'))).toEqual([
        {
          reference: `${ECR_BASE}/baseimages/node:9-alpine`,
          platform: 'linux/amd64',
          resolved: { registry: ECR_BASE, repository: 'baseimages/node', tag: '9-alpine', stage: 'runtime', pinned: false },
        },
      ]);
    });

    it('plans a multi-stage build: build-time and runtime bases, pinned ones by digest, stage platforms, ECR bases nobody logs in to', async () => {
      await writeFile(
        join(dir, 'Dockerfile'),
        [
          'FROM --platform=$BUILDPLATFORM golang:1.22 AS build',
          `FROM ${ECR_BASE}/tools/lint:2 AS lint`,
          `FROM alpine:3.20@${A} AS certs`,
          'FROM build AS test',
          'FROM --platform=linux/arm64 gcr.io/distroless/static',
          'COPY --from=build /out /app',
          '',
        ].join('\n'),
      );
      const { out, err } = run(['bases'], { CASCADE_REGISTRY: ECR_APP, CASCADE_DOCKERFILE: 'Dockerfile' });
      expect(err).toBe('');
      expect(out.trim().split('\n')).toEqual([
        'docker.io/library/golang:1.22\t-\t-',
        `${ECR_BASE}/tools/lint:2\t-\tus-east-2`,
        `docker.io/library/alpine@${A}\t-\t-`,
        'gcr.io/distroless/static:latest\tlinux/arm64\t-',
      ]);
      const planned = JSON.parse(await readFile(join(work, 'bases.json'), 'utf8')) as Array<{ resolved: Record<string, unknown> }>;
      expect(planned.map((p) => p.resolved)).toEqual([
        { registry: 'docker.io', repository: 'library/golang', tag: '1.22', stage: 'build-time', pinned: false },
        { registry: ECR_BASE, repository: 'tools/lint', tag: '2', stage: 'build-time', pinned: false },
        { registry: 'docker.io', repository: 'library/alpine', tag: '3.20', digest: A, stage: 'build-time', pinned: true },
        { registry: 'gcr.io', repository: 'distroless/static', tag: 'latest', stage: 'runtime', pinned: false },
      ]);
    });

    it('warns about a build arg with no value', async () => {
      await writeFile(join(dir, 'Dockerfile'), 'ARG VARIANT\nFROM node:20${VARIANT}\n');
      expect(run(['bases'], { CASCADE_REGISTRY: ECR_APP, CASCADE_DOCKERFILE: 'Dockerfile' }).err).toBe(
        'warning: the Dockerfile uses build arguments with no value: VARIANT\n',
      );
    });

    it('says when the Dockerfile is missing', () => {
      expect(() => run(['bases'], { CASCADE_REGISTRY: ECR_APP, CASCADE_DOCKERFILE: 'Dockerfile-app' })).toThrow(
        'the Dockerfile Dockerfile-app was not found in the build context',
      );
    });
  });

  it('build-args prints NUL-separated --build-arg words, values untouched', () => {
    expect(run(['build-args'], { CASCADE_BUILD_ARGS: JSON.stringify({ A: 'x y', B: 'a=b"c' }) }).out).toBe('--build-arg\0A=x y\0--build-arg\0B=a=b"c\0');
    expect(run(['build-args'], {}).out).toBe('');
    expect(() => run(['build-args'], { CASCADE_BUILD_ARGS: '{"A":1}' })).toThrow(/JSON object of strings/);
  });

  it('targets prints one reference per line and refuses an empty list', () => {
    expect(run(['targets'], { CASCADE_IMAGES: JSON.stringify([`${ECR_APP}/app:da1`, `${ECR_APP}/app:latest`]) }).out).toBe(
      `${ECR_APP}/app:da1\n${ECR_APP}/app:latest\n`,
    );
    expect(() => run(['targets'], { CASCADE_IMAGES: '[]' })).toThrow(/non-empty JSON array/);
  });

  it('base-images joins the plan with the pulled digests; a pinned base keeps its own', async () => {
    await writeFile(join(dir, 'Dockerfile'), `FROM alpine:3.20@${A} AS certs\nFROM node:20\n`);
    run(['bases'], { CASCADE_REGISTRY: ECR_APP, CASCADE_DOCKERFILE: 'Dockerfile' });
    await writeFile(join(work, 'pulled.tsv'), `docker.io/library/alpine@${A}\t${A}\ndocker.io/library/node:20\t${B}\n`);
    expect(JSON.parse(run(['base-images', join(work, 'pulled.tsv')], {}).out)).toEqual([
      { registry: 'docker.io', repository: 'library/alpine', tag: '3.20', digest: A, stage: 'build-time', pinned: true },
      { registry: 'docker.io', repository: 'library/node', tag: '20', digest: B, stage: 'runtime', pinned: false },
    ]);
  });

  it('base-images leaves out a base that was never pulled, and is [] before any plan', async () => {
    expect(run(['base-images', join(work, 'pulled.tsv')], {}).out).toBe('[]');
    await writeFile(join(dir, 'Dockerfile'), 'FROM golang:1.22 AS build\nFROM node:20\n');
    run(['bases'], { CASCADE_REGISTRY: ECR_APP, CASCADE_DOCKERFILE: 'Dockerfile' });
    await writeFile(join(work, 'pulled.tsv'), `docker.io/library/golang:1.22\t${A}\n`);
    expect(JSON.parse(run(['base-images', join(work, 'pulled.tsv')], {}).out)).toEqual([
      { registry: 'docker.io', repository: 'library/golang', tag: '1.22', digest: A, stage: 'build-time', pinned: false },
    ]);
  });

  it('output-images reads the pushed references and ignores lines that carry no digest', async () => {
    await writeFile(join(work, 'pushed.tsv'), `${ECR_APP}/app:da1\t${A}\n${ECR_APP}/app:latest\tnot-a-digest\n\n`);
    expect(JSON.parse(run(['output-images', join(work, 'pushed.tsv')], {}).out)).toEqual([{ reference: `${ECR_APP}/app:da1`, digest: A }]);
    expect(run(['output-images', join(work, 'missing.tsv')], {}).out).toBe('[]');
  });

  it('refuses an unknown command', () => {
    expect(() => run(['deploy'], {})).toThrow('unknown helper command "deploy"');
  });
});
