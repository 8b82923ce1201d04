// The CodeBuild emulator, driven by the real CodeBuildClient (and CodeBuildBuilder): what it
// refuses, what it answers, its five-minute idempotency, lost answers, and the state change event
// it gives for a finished build, which must be the real event's shape.
import {
  BatchGetBuildsCommand,
  CodeBuildClient,
  ListBuildsForProjectCommand,
  StartBuildCommand,
  StopBuildCommand,
  type StartBuildCommandInput,
} from '@aws-sdk/client-codebuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CodeBuildBuilder } from '../../../lib/adapters/codebuild-builder';
import { buildResultFromEvent } from '../../../lib/aws/build-result';
import type { BuildSpec } from '../../../lib/domain/types';
import { startCodeBuildEmulator, type CodeBuildEmulator } from '../../support/codebuild-emulator';

const ECR_APP = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const ECR_BASE = '210987654321.dkr.ecr.eu-west-1.amazonaws.com';
const fixtureEvent = () => JSON.parse(readFileSync(join(__dirname, '..', '..', 'fixtures', 'events', 'buildEvents.json'), 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The tutorial's build of run da1, as in test/fixtures/events/buildEvents.json. */
const DA1: BuildSpec = {
  registry: ECR_APP,
  images: ['helloworld:da1'],
  context: { kind: 'git', url: 'https://github.com/example/acr-build-helloworld-node.git', branch: 'main', folder: '.' },
  dockerfile: 'Dockerfile-app',
  buildArgs: { REGISTRY_NAME: ECR_BASE },
  platform: 'linux/amd64',
  credentials: [{ kind: 'identity', loginServer: ECR_BASE, roleArn: 'arn:aws:iam::210987654321:role/cascade-pull' }],
};

let now = Date.parse('2026-11-28T05:00:01.482Z');
const clock = { now: () => new Date(now) };
let codebuild: CodeBuildEmulator;
let client: CodeBuildClient;
const request = (overrides: Partial<StartBuildCommandInput> = {}): StartBuildCommandInput => ({
  projectName: 'cascade-dev',
  idempotencyToken: 'da1',
  environmentVariablesOverride: [{ name: 'CASCADE_RUN_ID', value: 'da1', type: 'PLAINTEXT' }],
  ...overrides,
});

beforeEach(async () => {
  now = Date.parse('2026-11-28T05:00:01.482Z');
  codebuild = await startCodeBuildEmulator({ clock });
  // One attempt: each lost answer here is one the caller sees.
  client = new CodeBuildClient({ endpoint: codebuild.url, region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'emulator' }, maxAttempts: 1 });
});
afterEach(async () => {
  client.destroy();
  await codebuild.close();
});

describe('CodeBuild emulator', () => {
  it("fills the recorded StartBuild answer with what CodeBuildBuilder's request decides, in the JSON protocol's shapes", async () => {
    const { buildId } = await new CodeBuildBuilder({ projectName: 'cascade-dev', client }).start({ runId: 'da1', spec: { ...DA1, commit: 'fd489864e7642b48eaad6e3f155c10e46810ec72' } });
    expect(buildId).toMatch(/^cascade-dev:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const { builds } = await client.send(new BatchGetBuildsCommand({ ids: [buildId] }));
    expect(builds?.[0]).toMatchObject({
      id: buildId,
      arn: `arn:aws:codebuild:eu-west-1:123456789012:build/${buildId}`,
      buildNumber: 1,
      projectName: 'cascade-dev',
      buildStatus: 'IN_PROGRESS',
      startTime: new Date('2026-11-28T05:00:01.482Z'),
      sourceVersion: 'fd489864e7642b48eaad6e3f155c10e46810ec72',
      source: { type: 'GITHUB', location: DA1.context.kind === 'git' ? DA1.context.url : '', gitCloneDepth: 0 },
    });
    expect(builds?.[0]?.environment?.environmentVariables).toContainEqual({ name: 'CASCADE_GIT_COMMIT', value: 'fd489864e7642b48eaad6e3f155c10e46810ec72', type: 'PLAINTEXT' });
    expect(codebuild.refused).toEqual([]);
    expect(codebuild.answerProblems).toEqual([]);
  });

  it.each<[string, Partial<StartBuildCommandInput>, RegExp]>([
    ['a variable type not in the enum', { environmentVariablesOverride: [{ name: 'A', value: 'b', type: 'SECRET' as never }] }, /at 'environmentVariablesOverride\.1\.member\.type' failed to satisfy constraint: Member must satisfy enum value set/],
    ['an empty project name', { projectName: '' }, /at 'projectName' failed to satisfy constraint: Member must have length greater than or equal to 1/],
    ['a timeout of 3 minutes', { timeoutInMinutesOverride: 3 }, /at 'timeoutInMinutesOverride' failed to satisfy constraint: Member must have value greater than or equal to 5/],
  ])('refuses %s as AWS would (400 ValidationException), and records it', async (_what, overrides, message) => {
    const sent = client.send(new StartBuildCommand(request(overrides)));
    await expect(sent).rejects.toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    await expect(sent).rejects.toThrow(message);
    expect(codebuild.refused).toEqual([expect.objectContaining({ operation: 'StartBuild', error: 'ValidationException' })]);
    expect(codebuild.created).toEqual([]);
  });

  it('refuses a request the SDK never sends: unsigned, for another service, or not JSON', async () => {
    const post = (headers: Record<string, string>, body = '{}') => fetch(codebuild.url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', ...headers }, body });
    expect((await post({ 'x-amz-target': 'CodeBuild_20161006.ListProjects' })).status).toBe(403);
    const sqsSigned = 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/eu-west-1/sqs/aws4_request, SignedHeaders=host, Signature=0';
    expect((await post({ 'x-amz-target': 'CodeBuild_20161006.StartBuild', authorization: sqsSigned })).status).toBe(403);
    const signed = sqsSigned.replace('/sqs/', '/codebuild/');
    expect((await post({ 'x-amz-target': 'CodeBuild_20161006.StartBuild', authorization: signed }, '{"projectName":')).status).toBe(400);
    expect((await post({ 'x-amz-target': 'CodeBuild_20161006.DeleteProject', authorization: signed }, '{"name":"cascade-dev"}')).status).toBe(400);
    expect(codebuild.refused.map((r) => r.error)).toEqual(['IncompleteSignatureException', 'IncompleteSignatureException', 'SerializationException', 'UnknownOperationException']);
  });

  it('answers a project that does not exist with ResourceNotFoundException', async () => {
    await expect(client.send(new StartBuildCommand(request({ projectName: 'elsewhere' })))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(codebuild.refused).toEqual([]);
  });

  describe('idempotency', () => {
    it('gives the same build for the same token and request for five minutes, and a new one after', async () => {
      const first = await client.send(new StartBuildCommand(request()));
      now += 4 * 60_000 + 59_000;
      const again = await client.send(new StartBuildCommand(request()));
      expect(again.build?.id).toBe(first.build?.id);
      expect(codebuild.created).toHaveLength(1);
      now += 1000;
      const later = await client.send(new StartBuildCommand(request()));
      expect(later.build?.id).not.toBe(first.build?.id);
      expect(codebuild.created).toHaveLength(2);
    });

    it('refuses the same token with other parameters within the five minutes (InvalidInputException)', async () => {
      await client.send(new StartBuildCommand(request()));
      await expect(client.send(new StartBuildCommand(request({ sourceVersion: 'main' })))).rejects.toMatchObject({ name: 'InvalidInputException', message: expect.stringMatching(/parameter mismatch/) });
      expect(codebuild.created).toHaveLength(1);
    });
  });

  describe('lost answers', () => {
    it.each<['reset' | 'garbled', RegExp]>([
      ['reset', /socket hang up|ECONNRESET/],
      ['garbled', /JSON|Deserialization/],
    ])('%s: creates the build, and the caller cannot tell', async (how, error) => {
      codebuild.dropAnswers('StartBuild', how);
      await expect(client.send(new StartBuildCommand(request()))).rejects.toThrow(error);
      expect(codebuild.created).toHaveLength(1);
      // The token gives the lost build back.
      const again = await client.send(new StartBuildCommand(request()));
      expect(again.build?.id).toBe(codebuild.created[0]?.id);
      expect(codebuild.buildsWith('CASCADE_RUN_ID', 'da1')).toHaveLength(1);
    });

    it('injects a definite refusal, and does nothing', async () => {
      codebuild.refuseNext('StartBuild', 'AccountLimitExceededException');
      await expect(client.send(new StartBuildCommand(request()))).rejects.toMatchObject({ name: 'AccountLimitExceededException' });
      expect(codebuild.created).toEqual([]);
    });
  });

  describe('finishing a build', () => {
    it('gives the event EventBridge delivers, in the shape of the recorded one (test/fixtures/events/buildEvents.json)', async () => {
      const { buildId } = await new CodeBuildBuilder({ projectName: 'cascade-dev', client }).start({ runId: 'da1', spec: DA1 });
      const recorded = fixtureEvent();
      const exported = Object.fromEntries((recorded.detail['additional-information']['exported-environment-variables'] as Array<{ name: string; value: string }>).map((v) => [v.name, v.value]));
      now = Date.parse('2026-11-28T05:01:40Z');
      const event = codebuild.finish(buildId, { status: 'SUCCEEDED', exported }) as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

      const arn = `arn:aws:codebuild:eu-west-1:123456789012:build/${buildId}`;
      const stream = buildId.split(':')[1];
      // What differs is what CodeBuild makes up per build: ids, and how long each phase took.
      const recordedArn = recorded.resources[0] as string;
      const normalized = JSON.parse(
        JSON.stringify(recorded).replaceAll(recordedArn, arn).replaceAll(recordedArn.split(':build/')[1]!.split(':')[1]!, stream!),
      ) as typeof recorded;
      const withoutTimes = (e: typeof recorded) => ({
        ...e,
        id: undefined,
        detail: { ...e.detail, 'additional-information': { ...e.detail['additional-information'], phases: undefined } },
      });
      expect(withoutTimes(event)).toEqual(withoutTimes(normalized));
      const phases = (e: typeof recorded) => (e.detail['additional-information'].phases as Array<Record<string, unknown>>).map((p) => [p['phase-type'], p['phase-status'], Object.keys(p).sort()]);
      expect(phases(event)).toEqual(phases(recorded));
      expect(event.id).toMatch(/^[0-9a-f-]{36}$/);

      expect(buildResultFromEvent(event, { projectName: 'cascade-dev' })).toMatchObject({ kind: 'result', result: { runId: 'da1', status: 'Succeeded' } });
      expect(codebuild.events).toEqual([event]);
    });

    it('shows the end in BatchGetBuilds, exported variables and all', async () => {
      const { build } = await client.send(new StartBuildCommand(request()));
      now += 90_000;
      codebuild.finish(build!.id!, { status: 'FAILED', exported: { CASCADE_ERROR: 'the base image was not found' } });
      const { builds } = await client.send(new BatchGetBuildsCommand({ ids: [build!.id!, 'cascade-dev:gone'] }));
      expect(builds?.[0]).toMatchObject({ buildStatus: 'FAILED', buildComplete: true, currentPhase: 'COMPLETED', endTime: new Date(now) });
      expect(builds?.[0]?.exportedEnvironmentVariables).toEqual([
        { name: 'CASCADE_RUN_ID', value: 'da1' },
        { name: 'CASCADE_BASE_IMAGES', value: '' },
        { name: 'CASCADE_OUTPUT_IMAGES', value: '' },
        { name: 'CASCADE_ERROR', value: 'the base image was not found' },
        { name: 'CASCADE_STEPS', value: '' },
      ]);
      expect(builds?.[0]?.phases?.find((p) => p.phaseType === 'BUILD')).toMatchObject({ phaseStatus: 'FAILED', contexts: [{ statusCode: 'COMMAND_EXECUTION_ERROR' }] });
      expect(codebuild.answerProblems).toEqual([]);
    });

    it('refuses a variable the buildspec does not export', async () => {
      const { build } = await client.send(new StartBuildCommand(request()));
      expect(() => codebuild.finish(build!.id!, { status: 'SUCCEEDED', exported: { CASCADE_SECRET: 'x' } })).toThrow(/infra\/buildspec\.yml does not export CASCADE_SECRET/);
    });

    it('stops a running build, with its event, and refuses to stop it twice', async () => {
      const { build } = await client.send(new StartBuildCommand(request()));
      await expect(client.send(new StopBuildCommand({ id: build!.id! }))).resolves.toMatchObject({ build: { buildStatus: 'STOPPED' } });
      await expect(client.send(new StopBuildCommand({ id: build!.id! }))).rejects.toMatchObject({ name: 'InvalidInputException' });
      await expect(client.send(new StopBuildCommand({ id: 'cascade-dev:gone' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      expect(codebuild.events.map((e) => e.detail['build-status'])).toEqual(['STOPPED']);
    });
  });

  it('lists builds newest first, 100 a page, and refuses an order once a project has more than 100', async () => {
    for (let i = 0; i < 101; i += 1) await client.send(new StartBuildCommand(request({ idempotencyToken: `db${i}` })));
    const first = await client.send(new ListBuildsForProjectCommand({ projectName: 'cascade-dev' }));
    expect(first.ids).toHaveLength(100);
    expect(first.ids?.[0]).toBe(codebuild.created[100]?.id);
    const second = await client.send(new ListBuildsForProjectCommand({ projectName: 'cascade-dev', nextToken: first.nextToken }));
    expect(second).toMatchObject({ ids: [codebuild.created[0]?.id] });
    expect(second.nextToken).toBeUndefined();
    await expect(client.send(new ListBuildsForProjectCommand({ projectName: 'cascade-dev', sortOrder: 'DESCENDING' }))).rejects.toMatchObject({ name: 'InvalidInputException' });
    expect(codebuild.refused).toEqual([]);
  });

  it('frees its port when closed', async () => {
    const url = codebuild.url;
    await codebuild.close();
    await expect(fetch(url, { method: 'POST' })).rejects.toThrow();
    codebuild = await startCodeBuildEmulator({ clock });
  });
});
