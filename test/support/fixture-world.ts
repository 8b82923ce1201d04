// What the Lambda event fixtures (test/fixtures/events/) refer to, written into a table: the
// webhook the GitHub push is signed for, the tutorial's task with its dependency on the base
// image captured and its nightly timer, and run da1 building on CodeBuild. Tests that hand the
// fixtures to the functions start from here.
import type { DynamoDbStores } from '../../lib/adapters/dynamodb-stores';
import type { Run, Task } from '../../lib/domain/types';

export const ECR_APP = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
export const ECR_BASE = '210987654321.dkr.ecr.eu-west-1.amazonaws.com';
/** The signing secret of test/fixtures/webhooks/github/goplayground-push-branch.json (SOURCES.md). */
export const GITHUB_FIXTURE_SECRET = 'IsWishesWereHorsesWedAllBeEatingSteak!';
/** The build of run da1, as buildEvents.json names it. */
export const DA1_BUILD_ID = 'arn:aws:codebuild:eu-west-1:123456789012:build/cascade-dev:8745a7a9-c340-456a-9166-edf953571b2e';
/** The base's digest when the task captured it; dispatcher.json brings a newer one. */
export const CAPTURED_DIGEST = `sha256:${'a'.repeat(64)}`;

const AT = { webhook: '2026-11-28T00:00:00.000Z', task: '2026-11-28T03:00:00.000Z', captured: '2026-11-28T04:00:00.000Z', run: '2026-11-28T05:00:00.000Z' };

/** The tutorial's task as api.json creates it, with its dependency already captured. */
export function fixtureTask(): Task {
  return {
    name: 'helloworld',
    registry: ECR_APP,
    images: ['helloworld:{{.Run.ID}}'],
    context: { kind: 'git', url: 'https://github.com/example/acr-build-helloworld-node.git', branch: 'main', folder: '.' },
    dockerfile: 'Dockerfile-app',
    buildArgs: { REGISTRY_NAME: ECR_BASE },
    platform: 'linux/amd64',
    status: 'Enabled',
    baseImageTrigger: { enabled: true, type: 'Runtime' },
    commitTrigger: { enabled: true },
    credentials: [{ kind: 'identity', loginServer: ECR_BASE, roleArn: 'arn:aws:iam::210987654321:role/cascade-pull' }],
    dependenciesCapturedAt: AT.captured,
    dependenciesCapturedBySequence: 0,
    createdAt: AT.task,
    updatedAt: AT.task,
  };
}

/** The nightly timer timer.json fires. */
export const FIXTURE_TIMER = { name: 'nightly', schedule: '0 3 * * *', enabled: true, createdAt: AT.task, updatedAt: AT.task };

export async function seedFixtureWorld(stores: DynamoDbStores): Promise<{ task: Task; da1: Run }> {
  await stores.webhooks.create({ name: 'github-push', provider: 'github', secrets: [GITHUB_FIXTURE_SECRET], createdAt: AT.webhook });
  const task = fixtureTask();
  await stores.tasks.create(task);
  await stores.tasks.setTimers(task.name, [FIXTURE_TIMER], AT.task);
  await stores.dependencies.replaceForTask(task.name, [
    {
      taskName: task.name,
      registry: ECR_BASE,
      repository: 'baseimages/node',
      tag: '9-alpine',
      digest: CAPTURED_DIGEST,
      stage: 'runtime',
      pinned: false,
      capturedAt: AT.captured,
      capturedByRun: 'da0',
    },
  ]);
  const { id, sequence } = await stores.runs.nextId();
  const da1: Run = {
    id,
    sequence,
    taskName: task.name,
    platform: 'linux/amd64',
    status: 'Queued',
    trigger: 'Manual',
    cause: { kind: 'manual' },
    spec: { registry: ECR_APP, images: [`helloworld:${id}`], context: task.context, dockerfile: task.dockerfile, buildArgs: task.buildArgs, platform: task.platform, credentials: task.credentials },
    createdAt: AT.run,
    outputImages: [],
    baseImages: [],
    branch: 'main',
  };
  await stores.runs.create(da1);
  return { task, da1: await stores.runs.transition(id, ['Queued'], { status: 'Running', buildId: DA1_BUILD_ID, startedAt: '2026-11-28T05:00:01.000Z' }) };
}
