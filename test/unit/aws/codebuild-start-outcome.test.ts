// A StartBuild whose outcome is unknown is not a failed start: CodeBuildBuilder asks again with the
// same idempotency token, and a start made after CodeBuild's five-minute window first looks for
// the build an earlier attempt may have created. Errors are shaped as the SDK throws them.
import {
  BatchGetBuildsCommand,
  CodeBuildClient,
  ListBuildsForProjectCommand,
  StartBuildCommand,
  type Build,
} from '@aws-sdk/client-codebuild';
import { mockClient } from 'aws-sdk-client-mock';
import { CodeBuildBuilder } from '../../../lib/adapters/codebuild-builder';
import { mayHaveBeenCarriedOut } from '../../../lib/aws/sdk-errors';
import { RetryableError } from '../../../lib/domain/errors';
import type { BuildSpec } from '../../../lib/domain/types';

const NOW = Date.parse('2026-11-28T05:30:00Z');
const clock = { now: () => new Date(NOW) };
const minutesAgo = (minutes: number) => new Date(NOW - minutes * 60_000).toISOString();

const SPEC: BuildSpec = {
  registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
  images: ['helloworld:da20'],
  context: { kind: 'git', url: 'https://github.com/example/acr-build-helloworld-node.git', branch: 'main', folder: '.' },
  dockerfile: 'Dockerfile-app',
  buildArgs: {},
  platform: 'linux/amd64',
  credentials: [],
};

const sdk = (name: string, status: number | undefined, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} (as the SDK throws it)`), { name, $metadata: status === undefined ? { attempts: 3 } : { httpStatusCode: status, attempts: 1 }, ...extra });
const node = (code: string, message: string) => Object.assign(new Error(message), { code, $metadata: { attempts: 3 } });

/** What the request's fate was, known or not, for each way a StartBuild can fail. */
const FAILURES: Array<[string, Error, 'unknown' | 'refused' | 'refused for now']> = [
  ['a connection reset after the request was sent', Object.assign(node('ECONNRESET', 'socket hang up'), { name: 'TimeoutError' }), 'unknown'],
  ["the same, as the SDK wraps Node's error under jest", new Error('AWS SDK error wrapper for TimeoutError: socket hang up'), 'unknown'],
  ['a socket timeout', Object.assign(new Error('@smithy/node-http-handler - the request socket timed out after 120000 ms of inactivity'), { name: 'TimeoutError', $metadata: {} }), 'unknown'],
  ['a broken pipe', node('EPIPE', 'write EPIPE'), 'unknown'],
  ['an answer that is not HTTP', node('HPE_INVALID_CONSTANT', 'Parse Error: Expected HTTP/'), 'unknown'],
  ['a 200 whose JSON is cut short', sdk('SyntaxError', 200, { $response: {} }), 'unknown'],
  ['an internal failure (500)', sdk('InternalFailure', 500), 'unknown'],
  ['a 503', sdk('ServiceUnavailableException', 503), 'unknown'],
  ['InvalidInputException', sdk('InvalidInputException', 400), 'refused'],
  ['ResourceNotFoundException', sdk('ResourceNotFoundException', 400), 'refused'],
  ['a request the model refuses (ValidationException)', sdk('ValidationException', 400), 'refused'],
  ['AccessDeniedException', sdk('AccessDeniedException', 400), 'refused'],
  ['a request that never reached CodeBuild', node('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:443'), 'refused'],
  ['AccountLimitExceededException', sdk('AccountLimitExceededException', 400), 'refused for now'],
  ['ThrottlingException', sdk('ThrottlingException', 400), 'refused for now'],
];

describe('mayHaveBeenCarriedOut', () => {
  it.each(FAILURES)('%s: %#', (_what, error, fate) => {
    expect(mayHaveBeenCarriedOut(error)).toBe(fate === 'unknown');
  });

  it.each([undefined, 'socket hang up', 42])('is false for %p, which no SDK call throws', (value) => {
    expect(mayHaveBeenCarriedOut(value)).toBe(false);
  });
});

function runBuild(id: string, runId: string, startedMinutesAgo: number): Build {
  return {
    id,
    projectName: 'cascade-dev',
    buildStatus: 'IN_PROGRESS',
    startTime: new Date(NOW - startedMinutesAgo * 60_000),
    environment: {
      type: 'LINUX_CONTAINER',
      image: 'aws/codebuild/amazonlinux-x86_64-standard:6.0',
      computeType: 'BUILD_GENERAL1_SMALL',
      environmentVariables: [
        { name: 'CASCADE_RUN_ID', value: runId, type: 'PLAINTEXT' },
        { name: 'CASCADE_REGISTRY', value: SPEC.registry, type: 'PLAINTEXT' },
      ],
    },
  };
}

describe('CodeBuildBuilder.start when the outcome is unknown', () => {
  const codebuild = mockClient(CodeBuildClient);
  const client = new CodeBuildClient({ region: 'eu-west-1' });
  const builder = (options: { startAttempts?: number } = {}) => new CodeBuildBuilder({ projectName: 'cascade-dev', client, clock, ...options });
  const startInputs = () => codebuild.commandCalls(StartBuildCommand).map((c) => c.args[0].input);
  beforeEach(() => codebuild.reset());
  afterAll(() => codebuild.restore());

  it.each(FAILURES)('after %s', async (_what, error, fate) => {
    codebuild.on(StartBuildCommand).rejectsOnce(error).resolves({ build: { id: 'cascade-dev:b-1' } });
    const start = builder().start({ runId: 'da20', spec: SPEC });
    if (fate === 'unknown') {
      // Asked again with the same token and the same request: CodeBuild answers with the build the first call created.
      await expect(start).resolves.toEqual({ buildId: 'cascade-dev:b-1' });
      const [first, second] = startInputs();
      expect(second).toEqual(first);
      expect(second?.idempotencyToken).toBe('da20');
    } else if (fate === 'refused for now') {
      await expect(start).rejects.toBeInstanceOf(RetryableError);
      expect(startInputs()).toHaveLength(1);
    } else {
      await expect(start).rejects.toBe(error);
      expect(startInputs()).toHaveLength(1);
    }
  });

  it('leaves a start whose every answer was lost for later (RetryableError), saying why', async () => {
    codebuild.on(StartBuildCommand).rejects(sdk('SyntaxError', 200));
    const start = builder({ startAttempts: 3 }).start({ runId: 'da21', spec: SPEC });
    await expect(start).rejects.toBeInstanceOf(RetryableError);
    await expect(start).rejects.toThrow(/CodeBuild may or may not have started the build of run da21 \(its answer was lost 3 times: SyntaxError/);
    expect(startInputs()).toHaveLength(3);
  });

  it('takes a refusal after a lost answer as the answer', async () => {
    const refusal = sdk('InvalidInputException', 400);
    codebuild.on(StartBuildCommand).rejectsOnce(sdk('InternalFailure', 500)).rejects(refusal);
    await expect(builder().start({ runId: 'da22', spec: SPEC })).rejects.toBe(refusal);
    expect(startInputs()).toHaveLength(2);
  });
});

describe('CodeBuildBuilder.start after an earlier attempt', () => {
  const codebuild = mockClient(CodeBuildClient);
  const client = new CodeBuildClient({ region: 'eu-west-1' });
  const builder = () => new CodeBuildBuilder({ projectName: 'cascade-dev', client, clock });
  const count = (command: Parameters<typeof codebuild.commandCalls>[0]) => codebuild.commandCalls(command).length;
  beforeEach(() => {
    codebuild.reset();
    codebuild.on(StartBuildCommand).resolves({ build: { id: 'cascade-dev:new' } });
  });
  afterAll(() => codebuild.restore());

  /** A project's builds, newest first, as ListBuildsForProject pages and BatchGetBuilds describe them. */
  function project(pages: Build[][]) {
    codebuild.on(ListBuildsForProjectCommand).callsFake(({ nextToken }: { nextToken?: string }) => {
      const i = nextToken === undefined ? 0 : Number(nextToken.replace('page-', ''));
      return { ids: (pages[i] ?? []).map((b) => b.id as string), ...(i < pages.length - 1 && { nextToken: `page-${i + 1}` }) };
    });
    const all = new Map(pages.flat().map((b) => [b.id as string, b]));
    codebuild.on(BatchGetBuildsCommand).callsFake(({ ids }: { ids: string[] }) => ({ builds: ids.flatMap((id) => all.get(id) ?? []) }));
  }

  it.each<[string, string | undefined, number]>([
    ['a first start', undefined, 0],
    ['a start 2 minutes after the run was created (the token still holds)', minutesAgo(2), 0],
    ['a start 11 minutes after (the reconciler, past its grace)', minutesAgo(11), 1],
  ])('%s searches %i time(s) before starting', async (_what, earlierAttemptsSince, searches) => {
    project([[runBuild('cascade-dev:other', 'da19', 9)]]);
    await expect(builder().start({ runId: 'da20', spec: SPEC, earlierAttemptsSince })).resolves.toEqual({ buildId: 'cascade-dev:new' });
    expect(count(ListBuildsForProjectCommand)).toBe(searches);
    expect(count(BatchGetBuildsCommand)).toBe(searches);
    expect(count(StartBuildCommand)).toBe(1);
  });

  it("adopts the build an earlier attempt created, found by its run id, and starts none", async () => {
    project([[runBuild('cascade-dev:c', 'da22', 1), runBuild('cascade-dev:b', 'da20', 10), runBuild('cascade-dev:a', 'da19', 12)]]);
    await expect(builder().start({ runId: 'da20', spec: SPEC, earlierAttemptsSince: minutesAgo(11) })).resolves.toEqual({ buildId: 'cascade-dev:b' });
    expect(count(StartBuildCommand)).toBe(0);
    // Newest first is the default; naming an order fails once the project has over 100 builds.
    expect(codebuild.commandCalls(ListBuildsForProjectCommand)[0]?.args[0].input).toEqual({ projectName: 'cascade-dev' });
  });

  it('looks no further back than the run (with a minute for clocks), and then starts the build', async () => {
    project([[runBuild('cascade-dev:c', 'da22', 1), runBuild('cascade-dev:b', 'da21', 30)], [runBuild('cascade-dev:a', 'da20', 40)]]);
    await expect(builder().start({ runId: 'da20', spec: SPEC, earlierAttemptsSince: minutesAgo(11) })).resolves.toEqual({ buildId: 'cascade-dev:new' });
    expect(count(ListBuildsForProjectCommand)).toBe(1);
    expect(count(StartBuildCommand)).toBe(1);
  });

  it('turns the pages while the builds are newer than the run, asking BatchGetBuilds for at most 100 at a time', async () => {
    const busy = Array.from({ length: 100 }, (_, i) => runBuild(`cascade-dev:busy-${i}`, `db${i}`, 1));
    project([busy, [runBuild('cascade-dev:mine', 'da20', 10)]]);
    await expect(builder().start({ runId: 'da20', spec: SPEC, earlierAttemptsSince: minutesAgo(11) })).resolves.toEqual({ buildId: 'cascade-dev:mine' });
    expect(codebuild.commandCalls(BatchGetBuildsCommand).map((c) => c.args[0].input.ids?.length)).toEqual([100, 1]);
    expect(count(StartBuildCommand)).toBe(0);
  });

  it('does not take a build whose run id is only a secret reference for this run', async () => {
    const lookalike = runBuild('cascade-dev:x', 'da20', 10);
    lookalike.environment!.environmentVariables = [{ name: 'CASCADE_RUN_ID', value: 'da20', type: 'PARAMETER_STORE' }];
    project([[lookalike]]);
    await expect(builder().start({ runId: 'da20', spec: SPEC, earlierAttemptsSince: minutesAgo(11) })).resolves.toEqual({ buildId: 'cascade-dev:new' });
  });

  it.each<[string, Error, 'retry later' | 'as is']>([
    ['a lost answer', new Error('AWS SDK error wrapper for TimeoutError: socket hang up'), 'retry later'],
    ['throttling', sdk('ThrottlingException', 400), 'retry later'],
    ['a missing permission', sdk('AccessDeniedException', 400), 'as is'],
  ])('fails the search on %s: %s, and starts nothing', async (_what, error, outcome) => {
    codebuild.on(ListBuildsForProjectCommand).rejects(error);
    const start = builder().start({ runId: 'da20', spec: SPEC, earlierAttemptsSince: minutesAgo(11) });
    if (outcome === 'retry later') await expect(start).rejects.toBeInstanceOf(RetryableError);
    else await expect(start).rejects.toBe(error);
    expect(count(StartBuildCommand)).toBe(0);
  });
});
