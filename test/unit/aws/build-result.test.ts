import { buildResultFromEvent, type BuildEventOutcome } from '../../../lib/aws/build-result';
import type { BuildResult } from '../../../lib/domain/types';
import { eventFixture } from '../../support/event-fixtures';

type Event = ReturnType<typeof succeeded>;
const succeeded = () =>
  eventFixture<{
    time: string;
    detail: {
      'build-status': string;
      'project-name': string;
      'additional-information': {
        environment: { 'environment-variables': Array<{ name: string; value: string; type?: string }> };
        'exported-environment-variables'?: Array<{ name: string; value: string }>;
        phases: Array<Record<string, unknown>>;
      };
    };
  }>('buildEvents.json');

function result(outcome: BuildEventOutcome): BuildResult {
  if (outcome.kind !== 'result') throw new Error(`ignored: ${outcome.reason}`);
  return outcome.result;
}

function setExported(event: Event, name: string, value: string | undefined): void {
  const info = event.detail['additional-information'];
  const rest = (info['exported-environment-variables'] ?? []).filter((v) => v.name !== name);
  info['exported-environment-variables'] = value === undefined ? rest : [...rest, { name, value }];
}

describe('buildResultFromEvent', () => {
  it('reads a succeeded build: run id, time, pushed images and the bases it pulled', () => {
    expect(result(buildResultFromEvent(succeeded(), { projectName: 'cascade-dev' }))).toEqual({
      runId: 'da1',
      status: 'Succeeded',
      finishedAt: '2026-11-28T05:01:40.000Z',
      outputImages: [{ reference: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/helloworld:da1', digest: `sha256:${'c'.repeat(64)}` }],
      baseImages: [
        {
          registry: '210987654321.dkr.ecr.eu-west-1.amazonaws.com',
          repository: 'baseimages/node',
          tag: '9-alpine',
          digest: `sha256:${'a'.repeat(64)}`,
          stage: 'runtime',
          pinned: false,
        },
      ],
    });
  });

  it('reads a failed build with the reason the buildspec exported', () => {
    const outcome = result(buildResultFromEvent(eventFixture('codebuild-failed.json')));
    expect(outcome.status).toBe('Failed');
    expect(outcome.error).toBe('building the image failed: ERROR: failed to solve: process "/bin/sh -c npm install" did not complete successfully: exit code: 1');
    expect(outcome.outputImages).toEqual([]);
    expect(outcome.baseImages).toHaveLength(1);
  });

  it('falls back to the failed phase CodeBuild reports when the buildspec exported no reason', () => {
    const event = eventFixture<Event>('codebuild-failed.json');
    setExported(event, 'CASCADE_ERROR', '');
    expect(result(buildResultFromEvent(event)).error).toMatch(/^the CodeBuild build failed in its BUILD phase: COMMAND_EXECUTION_ERROR: Error while executing command/);
  });

  it.each([
    ['SUCCEEDED', 'Succeeded', undefined],
    ['FAILED', 'Failed', 'the CodeBuild build failed'],
    ['FAULT', 'Error', 'CodeBuild had an internal fault running the build'],
    ['TIMED_OUT', 'Timeout', 'the CodeBuild build did not finish within 60 minutes'],
    ['STOPPED', 'Canceled', 'the CodeBuild build was stopped'],
  ])('maps build status %s to %s', (buildStatus, status, error) => {
    const event = succeeded();
    event.detail['build-status'] = buildStatus;
    event.detail['additional-information'].phases = [];
    const outcome = result(buildResultFromEvent(event));
    expect(outcome.status).toBe(status);
    expect(outcome.error).toBe(error);
  });

  it('ignores a build still in progress', () => {
    expect(buildResultFromEvent(eventFixture('codebuild-in-progress.json'))).toEqual({
      kind: 'ignored',
      reason: 'build arn:aws:codebuild:eu-west-1:123456789012:build/cascade-dev:8745a7a9-c340-456a-9166-edf953571b2e is IN_PROGRESS, not finished',
    });
  });

  it("ignores another project's builds", () => {
    const outcome = buildResultFromEvent(succeeded(), { projectName: 'cascade-prod' });
    expect(outcome).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('belongs to project cascade-dev, not cascade-prod') });
  });

  it('ignores a build cascade did not start', () => {
    const event = succeeded();
    event.detail['additional-information'].environment['environment-variables'] = [];
    setExported(event, 'CASCADE_RUN_ID', undefined);
    expect(buildResultFromEvent(event)).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('not started by cascade') });
  });

  it('finds the run id among the exported variables when the environment does not list it', () => {
    const event = succeeded();
    event.detail['additional-information'].environment['environment-variables'] = [];
    expect(result(buildResultFromEvent(event)).runId).toBe('da1');
  });

  it('does not take a run id from a PARAMETER_STORE variable', () => {
    const event = succeeded();
    event.detail['additional-information'].environment['environment-variables'] = [{ name: 'CASCADE_RUN_ID', value: '/x/y', type: 'PARAMETER_STORE' }];
    expect(result(buildResultFromEvent(event)).runId).toBe('da1');
  });

  it.each([
    ['not JSON', 'CASCADE_OUTPUT_IMAGES', '[{', /an exported image list is not JSON/],
    ['a bad digest', 'CASCADE_OUTPUT_IMAGES', JSON.stringify([{ reference: 'r/a:1', digest: 'sha256:short' }]), /malformed/],
    ['a bad stage', 'CASCADE_BASE_IMAGES', JSON.stringify([{ registry: 'r', repository: 'a', digest: `sha256:${'a'.repeat(64)}`, stage: 'final', pinned: false }]), /malformed/],
    ['nothing exported', 'CASCADE_BASE_IMAGES', undefined, /it exported no image list/],
  ])('records a success whose report has %s as an Error, not a success', (_case, name, value, problem) => {
    const event = succeeded();
    setExported(event, name, value);
    const outcome = result(buildResultFromEvent(event));
    expect(outcome.status).toBe('Error');
    expect(outcome.error).toMatch(/^the build succeeded but its report cannot be read/);
    expect(outcome.error).toMatch(problem);
  });

  it('keeps a base without a tag (FROM by digest) without a tag field', () => {
    const event = succeeded();
    const digest = `sha256:${'d'.repeat(64)}`;
    setExported(event, 'CASCADE_BASE_IMAGES', JSON.stringify([{ registry: 'docker.io', repository: 'library/alpine', digest, stage: 'build-time', pinned: true }]));
    expect(result(buildResultFromEvent(event)).baseImages).toEqual([{ registry: 'docker.io', repository: 'library/alpine', digest, stage: 'build-time', pinned: true }]);
  });

  it.each([
    ['an SQS event', eventFixture('sqs-start-run.json')],
    ['a phase change', { ...succeeded(), 'detail-type': 'CodeBuild Build Phase Change' }],
    ['nothing', undefined],
  ])('ignores %s', (_case, event) => {
    expect(buildResultFromEvent(event)).toMatchObject({ kind: 'ignored', reason: expect.stringMatching(/^not a CodeBuild build state change/) });
  });
});
