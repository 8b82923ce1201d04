// The builder most tests and the bench stand on: what it records, when its builds end, and that
// a build's outcome is worked out when the test (or the build itself) says so.
import { RetryableError } from '../../../lib/domain/errors';
import type { BuildRequest } from '../../../lib/domain/ports';
import type { BuildResult } from '../../../lib/domain/types';
import { RecordingBuilder } from '../../support/recording-builder';

const request = (runId: string): BuildRequest => ({
  runId,
  spec: {
    registry: 'reg.io',
    images: [`app:${runId}`],
    context: { kind: 'git', url: 'https://git.example.com/app.git', branch: 'main', folder: '.' },
    dockerfile: 'Dockerfile',
    buildArgs: {},
    platform: 'linux/amd64',
    credentials: [],
  },
});
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('RecordingBuilder', () => {
  it('records each start as it was, holds the build open, and reports the result the test finishes it with', async () => {
    const reported: BuildResult[] = [];
    const builder = new RecordingBuilder({ report: async (result) => void reported.push(result) });
    const asked = request('da1');
    expect(await builder.start(asked)).toEqual({ buildId: 'build-da1' });
    asked.spec.images.push('changed-later');
    expect(builder.started.map((s) => s.spec.images)).toEqual([['app:da1']]);
    expect(builder.building()).toEqual(['da1']);

    const result = await builder.finish('da1', { status: 'Failed', error: 'no space left' });
    expect(result).toMatchObject({ runId: 'da1', status: 'Failed', error: 'no space left', outputImages: [], baseImages: [] });
    expect(reported).toEqual([result]);
    expect(builder.results).toEqual([result]);
    expect(builder.building()).toEqual([]);
    await expect(builder.finish('da1')).rejects.toThrow('run da1 is not building');
  });

  it('works a finish out from the request, once the build is no longer open', async () => {
    const builder = new RecordingBuilder();
    await builder.start(request('da1'));
    const result = await builder.finish('da1', async (asked) => {
      expect(builder.building()).toEqual([]);
      return { outputImages: [{ reference: `${asked.spec.registry}/${asked.spec.images[0]}`, digest: `sha256:${'1'.repeat(64)}` }] };
    });
    expect(result.outputImages).toEqual([{ reference: 'reg.io/app:da1', digest: `sha256:${'1'.repeat(64)}` }]);
  });

  it('with finishEach, ends each build in the turn after its start, with what was true at the start', async () => {
    let base = 'sha256:old';
    const reported: BuildResult[] = [];
    const builder = new RecordingBuilder({
      report: async (result) => void reported.push(result),
      finishEach: () => ({ baseImages: [{ registry: 'reg.io', repository: 'base', tag: '1', digest: base, stage: 'runtime', pinned: false }] }),
    });
    await builder.start(request('da1'));
    base = 'sha256:new';
    expect(reported).toEqual([]);
    expect(builder.isIdle()).toBe(false);
    await builder.idle();
    expect(reported.map((r) => [r.runId, r.baseImages[0]?.digest])).toEqual([['da1', 'sha256:old']]);
  });

  it('runs whenStarted within the start call when told to, else after it', async () => {
    const builder = new RecordingBuilder();
    const seen: string[] = [];
    builder.whenStarted = { run: async (asked) => void seen.push(`in ${asked.runId}`), inStart: true };
    await builder.start(request('da1'));
    expect(seen).toEqual(['in da1']);
    builder.whenStarted = { run: async (asked) => void seen.push(`after ${asked.runId}`) };
    await builder.start(request('da2'));
    expect(seen).toEqual(['in da1']);
    await nextTurn();
    expect(seen).toEqual(['in da1', 'after da2']);
  });

  it('keeps what a later whenStarted run threw, instead of leaving it unhandled', async () => {
    const builder = new RecordingBuilder();
    builder.whenStarted = { run: async () => Promise.reject(new Error('the drill broke')) };
    await builder.start(request('da1'));
    await builder.idle();
    expect(builder.failures).toEqual([new Error('the drill broke')]);
  });

  it('fails starts while failWith is set, recording none of them', async () => {
    const builder = new RecordingBuilder();
    builder.failWith = new RetryableError('CodeBuild is throttling');
    await expect(builder.start(request('da1'))).rejects.toThrow('CodeBuild is throttling');
    delete builder.failWith;
    await builder.start(request('da1'));
    expect(builder.started.map((s) => s.runId)).toEqual(['da1']);
  });

  it('names builds as told, answers describe from its states, and records cancels', async () => {
    const builder = new RecordingBuilder({ buildId: (_asked, nth) => `project:${nth}` });
    expect(await builder.start(request('da1'))).toEqual({ buildId: 'project:1' });
    builder.states.set('project:1', { buildId: 'project:1', state: 'running' });
    expect(await builder.describe(['project:1', 'project:9'])).toEqual([
      { buildId: 'project:1', state: 'running' },
      { buildId: 'project:9', state: 'missing', reason: 'no build project:9 in this test' },
    ]);
    await builder.cancel('project:1');
    expect([builder.described, builder.canceled]).toEqual([[['project:1', 'project:9']], ['project:1']]);
  });

  it('tells when a number of builds have started, or how many did in time', async () => {
    const builder = new RecordingBuilder();
    const two = builder.startedCount(2);
    await builder.start(request('da1'));
    await builder.start(request('da2'));
    await expect(two).resolves.toBeUndefined();
    await expect(builder.startedCount(3, 10)).rejects.toThrow('2 of 3 builds started within 10 ms');
    expect(builder.startedAt).toHaveLength(2);
  });
});
