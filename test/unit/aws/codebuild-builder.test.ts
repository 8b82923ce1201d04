import { CodeBuildClient, StartBuildCommand, StopBuildCommand, type EnvironmentVariable, type StartBuildCommandInput } from '@aws-sdk/client-codebuild';
import { mockClient } from 'aws-sdk-client-mock';
import { CodeBuildBuilder } from '../../../lib/adapters/codebuild-builder';
import { RetryableError, ValidationError } from '../../../lib/domain/errors';
import type { BuildSpec, RegistryCredential } from '../../../lib/domain/types';

const ECR_APP = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const ECR_BASE = '210987654321.dkr.ecr.eu-west-1.amazonaws.com';
const BUILD_ID = 'cascade-dev:8745a7a9-c340-456a-9166-edf953571b2e';

function spec(overrides: Partial<BuildSpec> = {}): BuildSpec {
  return {
    registry: ECR_APP,
    images: ['helloworld:da3', 'helloworld:latest'],
    context: { kind: 'git', url: 'https://github.com/example/acr-build-helloworld-node.git', branch: 'main', folder: '.' },
    dockerfile: 'Dockerfile-app',
    buildArgs: { REGISTRY_NAME: ECR_BASE },
    platform: 'linux/amd64',
    credentials: [],
    ...overrides,
  };
}

const identity: RegistryCredential = { kind: 'identity', loginServer: ECR_BASE, roleArn: 'arn:aws:iam::210987654321:role/cascade-pull' };
const dockerHub: RegistryCredential = { kind: 'basic', loginServer: 'docker.io', username: 'cascadebot', secretRef: '/cascade/dev/task/helloworld/docker.io' };
const quay: RegistryCredential = { kind: 'basic', loginServer: 'quay.io', username: 'robot+ci', secretRef: '/cascade/dev/task/helloworld/quay.io' };

function variables(input: StartBuildCommandInput | undefined): Map<string, EnvironmentVariable> {
  return new Map((input?.environmentVariablesOverride ?? []).map((v) => [v.name as string, v]));
}

describe('CodeBuildBuilder', () => {
  const codebuild = mockClient(CodeBuildClient);
  const client = new CodeBuildClient({ region: 'eu-west-1' });
  beforeEach(() => {
    codebuild.reset();
    codebuild.on(StartBuildCommand).resolves({ build: { id: BUILD_ID, arn: `arn:aws:codebuild:eu-west-1:123456789012:build/${BUILD_ID}` } });
  });
  afterAll(() => codebuild.restore());

  const lastInput = () => codebuild.commandCalls(StartBuildCommand).at(-1)?.args[0].input;

  it('starts one build of the project with the run id as idempotency token and the spec in its environment', async () => {
    const builder = new CodeBuildBuilder({ projectName: 'cascade-dev', client });
    await expect(builder.start({ runId: 'da3', spec: spec({ credentials: [identity, dockerHub, quay] }) })).resolves.toEqual({ buildId: BUILD_ID });

    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(1);
    const input = lastInput();
    expect(input?.projectName).toBe('cascade-dev');
    expect(input?.idempotencyToken).toBe('da3');
    expect(input?.sourceTypeOverride).toBe('GITHUB');
    expect(input?.sourceLocationOverride).toBe('https://github.com/example/acr-build-helloworld-node.git');
    expect(input?.sourceVersion).toBe('main');
    expect(input?.gitCloneDepthOverride).toBe(1);

    const plain = (value: string) => ({ type: 'PLAINTEXT', value });
    const env = variables(input);
    expect(Object.fromEntries(env)).toEqual({
      CASCADE_RUN_ID: { name: 'CASCADE_RUN_ID', ...plain('da3') },
      CASCADE_REGISTRY: { name: 'CASCADE_REGISTRY', ...plain(ECR_APP) },
      CASCADE_IMAGES: { name: 'CASCADE_IMAGES', ...plain(JSON.stringify([`${ECR_APP}/helloworld:da3`, `${ECR_APP}/helloworld:latest`])) },
      CASCADE_DOCKERFILE: { name: 'CASCADE_DOCKERFILE', ...plain('Dockerfile-app') },
      CASCADE_BUILD_ARGS: { name: 'CASCADE_BUILD_ARGS', ...plain(JSON.stringify({ REGISTRY_NAME: ECR_BASE })) },
      CASCADE_CONTEXT_FOLDER: { name: 'CASCADE_CONTEXT_FOLDER', ...plain('.') },
      CASCADE_CLONE: { name: 'CASCADE_CLONE', ...plain('false') },
      CASCADE_PULL_ROLES: { name: 'CASCADE_PULL_ROLES', ...plain(JSON.stringify([{ loginServer: ECR_BASE, roleArn: identity.roleArn }])) },
      CASCADE_BASIC_LOGINS: {
        name: 'CASCADE_BASIC_LOGINS',
        ...plain(
          JSON.stringify([
            { loginServer: 'docker.io', username: 'cascadebot', passwordVariable: 'CASCADE_REGISTRY_PASSWORD_0' },
            { loginServer: 'quay.io', username: 'robot+ci', passwordVariable: 'CASCADE_REGISTRY_PASSWORD_1' },
          ]),
        ),
      },
      CASCADE_REGISTRY_PASSWORD_0: { name: 'CASCADE_REGISTRY_PASSWORD_0', type: 'PARAMETER_STORE', value: dockerHub.secretRef },
      CASCADE_REGISTRY_PASSWORD_1: { name: 'CASCADE_REGISTRY_PASSWORD_1', type: 'PARAMETER_STORE', value: quay.secretRef },
      CASCADE_PLATFORM: { name: 'CASCADE_PLATFORM', ...plain('linux/amd64') },
      CASCADE_GIT_URL: { name: 'CASCADE_GIT_URL', ...plain('https://github.com/example/acr-build-helloworld-node.git') },
      CASCADE_GIT_BRANCH: { name: 'CASCADE_GIT_BRANCH', ...plain('main') },
    });
  });

  it('never puts a secret reference or a password in a PLAINTEXT variable', async () => {
    const password = 'hunter2-very-secret';
    const stored = new Map([['/cascade/dev/registry-login/registry.example.com', JSON.stringify({ username: 'ci', password })]]);
    const builder = new CodeBuildBuilder({
      projectName: 'cascade-dev',
      client,
      pushLoginRef: async (host) => (stored.has(`/cascade/dev/registry-login/${host}`) ? `/cascade/dev/registry-login/${host}` : undefined),
    });
    await builder.start({ runId: 'da4', spec: spec({ registry: 'registry.example.com', credentials: [dockerHub, quay] }) });
    const input = lastInput();
    expect(JSON.stringify(input)).not.toContain(password);
    const refs = new Set([dockerHub.secretRef, quay.secretRef, '/cascade/dev/registry-login/registry.example.com']);
    for (const variable of input?.environmentVariablesOverride ?? []) {
      if (refs.has(variable.value as string)) expect(variable.type).toBe('PARAMETER_STORE');
      else expect(variable.type).toBe('PLAINTEXT');
      if (variable.type === 'PLAINTEXT') for (const ref of refs) expect(variable.value).not.toContain(ref);
    }
    expect(variables(input).get('CASCADE_PUSH_LOGIN')).toEqual({
      name: 'CASCADE_PUSH_LOGIN',
      type: 'PARAMETER_STORE',
      value: '/cascade/dev/registry-login/registry.example.com',
    });
  });

  it.each([
    ['an ECR push registry (the build role pushes)', spec(), false],
    ['a registry a task credential covers', spec({ registry: 'DOCKER.io', credentials: [dockerHub] }), false],
    ['Docker Hub covered under another of its names', spec({ registry: 'index.docker.io', credentials: [dockerHub] }), false],
    ['any other registry', spec({ registry: 'registry.example.com' }), true],
  ])('asks for a stored push login only for %s', async (_case, buildSpec, asked) => {
    const hosts: string[] = [];
    const builder = new CodeBuildBuilder({
      projectName: 'cascade-dev',
      client,
      pushLoginRef: async (host) => {
        hosts.push(host);
        return undefined;
      },
    });
    await builder.start({ runId: 'da5', spec: buildSpec });
    expect(hosts).toEqual(asked ? [buildSpec.registry] : []);
    // No stored login: no variable, the build pushes anonymously and says so if refused.
    expect(variables(lastInput()).has('CASCADE_PUSH_LOGIN')).toBe(false);
  });

  it('checks out a given commit with a full clone', async () => {
    await new CodeBuildBuilder({ projectName: 'cascade-dev', client }).start({ runId: 'da6', spec: spec({ commit: 'fd489864e7642b48eaad6e3f155c10e46810ec72' }) });
    const input = lastInput();
    expect(input?.sourceVersion).toBe('fd489864e7642b48eaad6e3f155c10e46810ec72');
    expect(input?.gitCloneDepthOverride).toBe(0);
    expect(variables(input).get('CASCADE_GIT_COMMIT')?.value).toBe('fd489864e7642b48eaad6e3f155c10e46810ec72');
  });

  it.each([
    ['https://bitbucket.org/team/app.git', 'BITBUCKET'],
    ['https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/app', 'CODECOMMIT'],
    ['https://GitHub.com/example/app', 'GITHUB'],
  ])('lets CodeBuild clone %s as %s', async (url, type) => {
    await new CodeBuildBuilder({ projectName: 'cascade-dev', client }).start({
      runId: 'da7',
      spec: spec({ context: { kind: 'git', url, branch: 'release', folder: 'docker/app' } }),
    });
    const input = lastInput();
    expect(input?.sourceTypeOverride).toBe(type);
    expect(input?.sourceLocationOverride).toBe(url);
    expect(input?.sourceVersion).toBe('release');
    expect(variables(input).get('CASCADE_CONTEXT_FOLDER')?.value).toBe('docker/app');
    expect(variables(input).get('CASCADE_CLONE')?.value).toBe('false');
  });

  it.each(['https://gitlab.example.com/team/app.git', 'git@gitlab.com:team/app.git', 'ssh://git@example.com/app.git', 'http://git.internal/app.git'])(
    'has the buildspec clone %s itself',
    async (url) => {
      await new CodeBuildBuilder({ projectName: 'cascade-dev', client }).start({
        runId: 'da8',
        spec: spec({ context: { kind: 'git', url, branch: 'main', folder: '.' }, commit: 'abc1234' }),
      });
      const input = lastInput();
      expect(input?.sourceTypeOverride).toBe('NO_SOURCE');
      expect(input).not.toHaveProperty('sourceLocationOverride');
      expect(input).not.toHaveProperty('sourceVersion');
      expect(input).not.toHaveProperty('gitCloneDepthOverride');
      const env = variables(input);
      expect(env.get('CASCADE_CLONE')?.value).toBe('true');
      expect(env.get('CASCADE_GIT_URL')?.value).toBe(url);
      expect(env.get('CASCADE_GIT_BRANCH')?.value).toBe('main');
      expect(env.get('CASCADE_GIT_COMMIT')?.value).toBe('abc1234');
    },
  );

  it.each([
    ['a local folder', spec({ context: { kind: 'local', path: '/home/me/app' } }), /\/home\/me\/app is a folder on this machine, which builds on AWS cannot reach/],
    ['a file:// repository', spec({ context: { kind: 'git', url: 'file:///srv/git/app.git', branch: 'main', folder: '.' } }), /file:\/\/ repository/],
    [
      'a git URL with a password',
      spec({ context: { kind: 'git', url: 'https://bot:s3cr3t-token@github.com/o/app.git', branch: 'main', folder: '.' } }),
      /carries a password/,
    ],
    ['an IAM role for a registry that is not ECR', spec({ credentials: [{ ...identity, loginServer: 'quay.io' }] }), /roles only log in to Amazon ECR registries/],
  ])('refuses %s with a ValidationError and starts nothing', async (_case, buildSpec, message) => {
    const start = new CodeBuildBuilder({ projectName: 'cascade-dev', client }).start({ runId: 'da9', spec: buildSpec });
    await expect(start).rejects.toBeInstanceOf(ValidationError);
    await expect(start).rejects.toThrow(message);
    await expect(start).rejects.not.toThrow(/s3cr3t-token/);
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(0);
  });

  it.each(['ThrottlingException', 'AccountLimitExceededException'])('turns %s into RetryableError', async (name) => {
    codebuild.on(StartBuildCommand).rejects(Object.assign(new Error('try later'), { name, $metadata: { httpStatusCode: 400 } }));
    const start = new CodeBuildBuilder({ projectName: 'cascade-dev', client }).start({ runId: 'da10', spec: spec() });
    await expect(start).rejects.toBeInstanceOf(RetryableError);
    await expect(start).rejects.toThrow(`starting the CodeBuild build of run da10 failed for now (${name})`);
  });

  it('passes a missing project through as it is: retrying cannot fix it', async () => {
    codebuild.on(StartBuildCommand).rejects(Object.assign(new Error('Project cannot be found: cascade-dev'), { name: 'ResourceNotFoundException', $metadata: {} }));
    const start = new CodeBuildBuilder({ projectName: 'cascade-dev', client }).start({ runId: 'da11', spec: spec() });
    await expect(start).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(start).rejects.not.toBeInstanceOf(RetryableError);
  });

  it('takes an answer without a build id for an unknown outcome: asked again, then left for later', async () => {
    codebuild.on(StartBuildCommand).resolves({});
    const start = new CodeBuildBuilder({ projectName: 'cascade-dev', client }).start({ runId: 'da12', spec: spec() });
    await expect(start).rejects.toBeInstanceOf(RetryableError);
    await expect(start).rejects.toThrow(/answered without a build id/);
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(2);
  });

  describe('cancel', () => {
    it('stops the build', async () => {
      codebuild.on(StopBuildCommand).resolves({ build: { id: BUILD_ID, buildStatus: 'STOPPED' } });
      await new CodeBuildBuilder({ projectName: 'cascade-dev', client }).cancel(BUILD_ID);
      expect(codebuild.commandCalls(StopBuildCommand).map((c) => c.args[0].input)).toEqual([{ id: BUILD_ID }]);
    });

    it.each(['InvalidInputException', 'ResourceNotFoundException'])('treats %s (build already over or gone) as done', async (name) => {
      codebuild.on(StopBuildCommand).rejects(Object.assign(new Error('Build already completed'), { name, $metadata: {} }));
      await expect(new CodeBuildBuilder({ projectName: 'cascade-dev', client }).cancel(BUILD_ID)).resolves.toBeUndefined();
    });

    it('turns throttling into RetryableError', async () => {
      codebuild.on(StopBuildCommand).rejects(Object.assign(new Error('slow'), { name: 'ThrottlingException', $metadata: {} }));
      await expect(new CodeBuildBuilder({ projectName: 'cascade-dev', client }).cancel(BUILD_ID)).rejects.toBeInstanceOf(RetryableError);
    });
  });
});
