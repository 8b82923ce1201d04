// CodeBuildBuilder.describe: BatchGetBuilds in calls of at most 100 ids, each build read as its
// state change event would be (the reconciler's view of builds whose event was lost).
import { BatchGetBuildsCommand, CodeBuildClient, type Build } from '@aws-sdk/client-codebuild';
import { mockClient } from 'aws-sdk-client-mock';
import { CodeBuildBuilder } from '../../../lib/adapters/codebuild-builder';
import { RetryableError } from '../../../lib/domain/errors';

const ECR_APP = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const ECR_BASE = '210987654321.dkr.ecr.eu-west-1.amazonaws.com';
const BASE_DIGEST = `sha256:${'a'.repeat(64)}`;
const PUSHED_DIGEST = `sha256:${'c'.repeat(64)}`;

/** A build as BatchGetBuilds returns it, with the variables CodeBuildBuilder set and the buildspec exported. */
function build(id: string, overrides: Partial<Build> = {}, runId = 'da1'): Build {
  return {
    id,
    arn: `arn:aws:codebuild:eu-west-1:123456789012:build/${id}`,
    projectName: 'cascade-dev',
    buildStatus: 'SUCCEEDED',
    startTime: new Date('2026-11-28T05:00:01Z'),
    endTime: new Date('2026-11-28T05:01:40Z'),
    timeoutInMinutes: 60,
    environment: {
      type: 'LINUX_CONTAINER',
      image: 'aws/codebuild/amazonlinux-x86_64-standard:6.0',
      computeType: 'BUILD_GENERAL1_SMALL',
      environmentVariables: [
        { name: 'CASCADE_RUN_ID', value: runId, type: 'PLAINTEXT' },
        { name: 'CASCADE_REGISTRY_PASSWORD_0', value: '/cascade/dev/task/helloworld/docker.io', type: 'PARAMETER_STORE' },
      ],
    },
    exportedEnvironmentVariables: [
      { name: 'CASCADE_RUN_ID', value: runId },
      {
        name: 'CASCADE_BASE_IMAGES',
        value: JSON.stringify([{ registry: ECR_BASE, repository: 'baseimages/node', tag: '9-alpine', digest: BASE_DIGEST, stage: 'runtime', pinned: false }]),
      },
      { name: 'CASCADE_OUTPUT_IMAGES', value: JSON.stringify([{ reference: `${ECR_APP}/helloworld:${runId}`, digest: PUSHED_DIGEST }]) },
      { name: 'CASCADE_ERROR', value: '' },
    ],
    phases: [
      { phaseType: 'SUBMITTED', phaseStatus: 'SUCCEEDED', contexts: [] },
      { phaseType: 'BUILD', phaseStatus: 'SUCCEEDED', contexts: [{ statusCode: '', message: '' }] },
      { phaseType: 'COMPLETED' },
    ],
    ...overrides,
  };
}

describe('CodeBuildBuilder.describe', () => {
  const codebuild = mockClient(CodeBuildClient);
  const client = new CodeBuildClient({ region: 'eu-west-1' });
  const builder = new CodeBuildBuilder({ projectName: 'cascade-dev', client });
  beforeEach(() => codebuild.reset());
  afterAll(() => codebuild.restore());

  it('asks for at most 100 builds a call', async () => {
    codebuild.on(BatchGetBuildsCommand).callsFake(async (input: { ids: string[] }) => ({ builds: input.ids.map((id) => build(id, { buildStatus: 'IN_PROGRESS' })) }));
    const ids = Array.from({ length: 250 }, (_, i) => `cascade-dev:build-${i}`);
    const states = await builder.describe(ids);
    expect(codebuild.commandCalls(BatchGetBuildsCommand).map((c) => c.args[0].input.ids?.length)).toEqual([100, 100, 50]);
    expect(codebuild.commandCalls(BatchGetBuildsCommand).flatMap((c) => c.args[0].input.ids)).toEqual(ids);
    expect(states.map((s) => s.state)).toEqual(Array(250).fill('running'));
  });

  it('reads each build the way its state change event is read', async () => {
    codebuild.on(BatchGetBuildsCommand).resolves({
      builds: [
        build('cascade-dev:ok'),
        build(
          'cascade-dev:failed',
          {
            buildStatus: 'FAILED',
            exportedEnvironmentVariables: [],
            phases: [
              { phaseType: 'PRE_BUILD', phaseStatus: 'SUCCEEDED', contexts: [] },
              { phaseType: 'BUILD', phaseStatus: 'FAILED', contexts: [{ statusCode: 'COMMAND_EXECUTION_ERROR', message: 'Error while executing command: docker build. Reason: exit status 1' }] },
            ],
          },
          'da2',
        ),
        build('cascade-dev:timed-out', { buildStatus: 'TIMED_OUT', exportedEnvironmentVariables: [], timeoutInMinutes: 45 }, 'da3'),
        build('cascade-dev:running', { buildStatus: 'IN_PROGRESS', endTime: undefined }, 'da4'),
        build('other-project:x', { projectName: 'other-project' }, 'da5'),
      ],
      buildsNotFound: ['cascade-dev:expired'],
    });
    const states = await builder.describe(['cascade-dev:ok', 'cascade-dev:failed', 'cascade-dev:timed-out', 'cascade-dev:running', 'other-project:x', 'cascade-dev:expired']);
    expect(states).toEqual([
      {
        buildId: 'cascade-dev:ok',
        state: 'finished',
        result: {
          runId: 'da1',
          status: 'Succeeded',
          finishedAt: '2026-11-28T05:01:40.000Z',
          outputImages: [{ reference: `${ECR_APP}/helloworld:da1`, digest: PUSHED_DIGEST }],
          baseImages: [{ registry: ECR_BASE, repository: 'baseimages/node', tag: '9-alpine', digest: BASE_DIGEST, stage: 'runtime', pinned: false }],
        },
      },
      {
        buildId: 'cascade-dev:failed',
        state: 'finished',
        result: {
          runId: 'da2',
          status: 'Failed',
          finishedAt: '2026-11-28T05:01:40.000Z',
          outputImages: [],
          baseImages: [],
          error: 'the CodeBuild build failed in its BUILD phase: COMMAND_EXECUTION_ERROR: Error while executing command: docker build. Reason: exit status 1',
        },
      },
      {
        buildId: 'cascade-dev:timed-out',
        state: 'finished',
        result: expect.objectContaining({ runId: 'da3', status: 'Timeout', error: 'the CodeBuild build did not finish within 45 minutes' }),
      },
      { buildId: 'cascade-dev:running', state: 'running' },
      { buildId: 'other-project:x', state: 'missing', reason: 'build other-project:x belongs to project other-project, not cascade-dev' },
      { buildId: 'cascade-dev:expired', state: 'missing', reason: 'CodeBuild has no record of build cascade-dev:expired' },
    ]);
  });

  it('turns throttling into a retryable error', async () => {
    codebuild.on(BatchGetBuildsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    await expect(builder.describe(['cascade-dev:ok'])).rejects.toThrow(RetryableError);
    await expect(builder.describe(['cascade-dev:ok'])).rejects.toThrow('asking CodeBuild about 1 build(s) failed for now (ThrottlingException); it will be tried again');
  });

  it('makes no call for no builds', async () => {
    await expect(builder.describe([])).resolves.toEqual([]);
    expect(codebuild.commandCalls(BatchGetBuildsCommand)).toHaveLength(0);
  });
});
