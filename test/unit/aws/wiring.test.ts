import { CloudWatchLogsClient, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { ConfigurationError, type AwsConfig } from '../../../lib/aws/config';
import { createAwsPorts, lazy } from '../../../lib/aws/wiring';
import { createCascade } from '../../../lib/domain/cascade';
import type { BuildSpec } from '../../../lib/domain/types';

const CONFIG: AwsConfig = {
  tableName: 'cascade-dev',
  queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/cascade-dev',
  codeBuildProject: 'cascade-dev',
  secretsPrefix: '/cascade/dev',
  publicUrl: 'https://r4nd0m1d.execute-api.eu-west-1.amazonaws.com',
  runIdPrefix: 'da',
  buildLogGroup: '/aws/codebuild/cascade-dev',
  pollIntervalSeconds: 300,
};

const ENV = {
  TABLE_NAME: 'cascade-dev',
  QUEUE_URL: CONFIG.queueUrl,
  CODEBUILD_PROJECT: 'cascade-dev',
  SECRETS_PREFIX: '/cascade/dev',
  PUBLIC_URL: CONFIG.publicUrl,
};

describe('createAwsPorts', () => {
  const sqs = mockClient(SQSClient);
  const ssm = mockClient(SSMClient);
  const codebuild = mockClient(CodeBuildClient);
  const logs = mockClient(CloudWatchLogsClient);
  const region = { region: 'eu-west-1' };
  const clients = { sqs: new SQSClient(region), ssm: new SSMClient(region), codebuild: new CodeBuildClient(region), logs: new CloudWatchLogsClient(region) };
  afterEach(() => [sqs, ssm, codebuild, logs].forEach((m) => m.reset()));
  afterAll(() => [sqs, ssm, codebuild, logs].forEach((m) => m.restore()));

  it('sends queue messages to QUEUE_URL, builds on CODEBUILD_PROJECT, keeps secrets under SECRETS_PREFIX, reads logs from the build group', async () => {
    const ports = createAwsPorts(CONFIG, clients);
    sqs.on(SendMessageCommand).resolves({});
    await ports.queue.send({ type: 'start-run', runId: 'da1' });
    expect(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.QueueUrl).toBe(CONFIG.queueUrl);

    codebuild.on(StartBuildCommand).resolves({ build: { id: 'cascade-dev:uuid' } });
    const spec: BuildSpec = {
      registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      images: ['app:da1'],
      context: { kind: 'git', url: 'https://github.com/o/app', branch: 'main', folder: '.' },
      dockerfile: 'Dockerfile',
      buildArgs: {},
      platform: 'linux/amd64',
      credentials: [],
    };
    await expect(ports.builder.start({ runId: 'da1', spec })).resolves.toEqual({ buildId: 'cascade-dev:uuid' });
    expect(codebuild.commandCalls(StartBuildCommand)[0]?.args[0].input.projectName).toBe('cascade-dev');

    expect(ports.secrets.refFor('task/app/docker.io')).toBe('/cascade/dev/task/app/docker.io');
    expect(ports.publicUrl).toBe(CONFIG.publicUrl);
    expect(ports.sources).toBeUndefined();
    expect(ports.digests.constructor.name).toBe('RegistryDigestResolver');

    logs.on(PutLogEventsCommand).resolves({});
    await ports.logs.append('da1', 'cascade: note\n');
    expect(logs.commandCalls(PutLogEventsCommand)[0]?.args[0].input).toMatchObject({ logGroupName: '/aws/codebuild/cascade-dev', logStreamName: 'cascade/da1' });
  });

  it('hands a build the same parameter `cascade registry login` stored the push login in', async () => {
    const cascade = createCascade(createAwsPorts(CONFIG, clients));
    const stored = new Map<string, string>();
    ssm.on(PutParameterCommand).callsFake((input: { Name: string; Value: string }) => {
      stored.set(input.Name, input.Value);
      return {};
    });
    ssm.on(GetParameterCommand).callsFake((input: { Name: string }) => {
      const value = stored.get(input.Name);
      if (value === undefined) throw new ParameterNotFound({ message: 'missing', $metadata: {} });
      return { Parameter: { Name: input.Name, Value: value } };
    });
    codebuild.on(StartBuildCommand).resolves({ build: { id: 'cascade-dev:uuid' } });

    await cascade.registryLogins.login('registry.example.com:5000', { username: 'ci', password: 'hunter2' });
    const [name] = [...stored.keys()];
    expect(name).toBe('/cascade/dev/registry-login/registry.example.com_3A5000');

    const ports = createAwsPorts(CONFIG, clients);
    const spec: BuildSpec = {
      registry: 'registry.example.com:5000',
      images: ['app:da1'],
      context: { kind: 'git', url: 'https://github.com/o/app', branch: 'main', folder: '.' },
      dockerfile: 'Dockerfile',
      buildArgs: {},
      platform: 'linux/amd64',
      credentials: [],
    };
    await ports.builder.start({ runId: 'da1', spec });
    const env = codebuild.commandCalls(StartBuildCommand)[0]?.args[0].input.environmentVariablesOverride ?? [];
    expect(env.find((v) => v.name === 'CASCADE_PUSH_LOGIN')).toEqual({ name: 'CASCADE_PUSH_LOGIN', type: 'PARAMETER_STORE', value: name });
    expect(JSON.stringify(env)).not.toContain('hunter2');

    // Without a stored login the build gets no such variable.
    await ports.builder.start({ runId: 'da2', spec: { ...spec, registry: 'other.example.com' } });
    const env2 = codebuild.commandCalls(StartBuildCommand)[1]?.args[0].input.environmentVariablesOverride ?? [];
    expect(env2.some((v) => v.name === 'CASCADE_PUSH_LOGIN')).toBe(false);
  });
});

describe('lazy', () => {
  it('computes once and keeps the value', () => {
    let calls = 0;
    const value = lazy(() => ({ n: ++calls }));
    expect(value()).toBe(value());
    expect(calls).toBe(1);
  });

  it('tries again after a failure instead of keeping it', () => {
    let calls = 0;
    const value = lazy(() => {
      calls += 1;
      if (calls === 1) throw new Error('first');
      return calls;
    });
    expect(() => value()).toThrow('first');
    expect(value()).toBe(2);
    expect(value()).toBe(2);
  });
});

describe('awsCascade', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  type Wiring = typeof import('../../../lib/aws/wiring');
  function freshWiring(): Wiring {
    let module: Wiring | undefined;
    jest.isolateModules(() => {
      module = jest.requireActual<Wiring>('../../../lib/aws/wiring');
    });
    if (!module) throw new Error('the wiring module did not load');
    return module;
  }

  it('fails at first use with a ConfigurationError naming what is missing', () => {
    for (const name of Object.keys(ENV)) delete process.env[name];
    const wiring = freshWiring();
    let error: unknown;
    try {
      wiring.awsCascade();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('ConfigurationError');
    expect((error as ConfigurationError).problems).toEqual(Object.keys(ENV).map((name) => `${name} is not set`));
  });

  it('builds one Cascade per container from the environment', () => {
    Object.assign(process.env, ENV, { AWS_REGION: 'eu-west-1' });
    const wiring = freshWiring();
    const cascade = wiring.awsCascade();
    expect(wiring.awsCascade()).toBe(cascade);
    expect(wiring.awsConfig()).toMatchObject({ tableName: 'cascade-dev', codeBuildProject: 'cascade-dev', buildLogGroup: '/aws/codebuild/cascade-dev' });
    expect(typeof cascade.process).toBe('function');
  });
});
