// The dispatcher on the memory ports: which tasks each kind of event concerns, and what it says
// of those it does not build. (Image events' exactly-once rules: coordination*.test.ts.)
import type { DispatchReport } from '../../../lib/domain/dispatcher';
import type { GitEvent, ImageDeleteEvent, ImageTagEvent } from '../../../lib/domain/types';
import { BASE_REGISTRY, digest, memoryWorld } from '../../support/memory-world';

const BASE = `${BASE_REGISTRY}/baseimages/node:9-alpine`;
const COMMIT = 'fd489864e7642b48eaad6e3f155c10e46810ec72';

function gitPush(deliveryId: string, ref = 'refs/heads/main', repoUrl = 'https://git.example/app.git'): GitEvent {
  return { kind: 'git', source: 'github', repoUrl, ref, commit: COMMIT, deliveryId };
}

describe('the dispatcher', () => {
  it('builds a commit of a task’s branch once, whatever the URL form and however often it is told', async () => {
    const w = memoryWorld();
    await w.task('app', { on: [BASE] });
    const reports: DispatchReport[] = [];
    for (const event of [gitPush('g1'), gitPush('g2', 'refs/heads/main', 'git@git.example:app.git'), gitPush('g3', 'refs/tags/v1'), gitPush('g4', 'refs/heads/other')]) {
      reports.push(await w.cascade.dispatcher.dispatch(event));
    }
    expect(reports.map((r) => [r.started.map((s) => s.task), r.skipped.map((s) => s.reason)])).toEqual([
      [['app'], []],
      [[], [`a build of app for commit ${COMMIT} was already started`]],
      [[], ['refs/tags/v1 is not a branch']],
      [[], ['no task builds https://git.example/app.git branch other']],
    ]);
    expect((await w.runs()).map((r) => [r.trigger, r.commit, r.status])).toEqual([['Git Commit', COMMIT, 'Running']]);
  });

  it('asks the registry for the digest of a tag told without one, and builds on it', async () => {
    const w = memoryWorld();
    await w.task('app', { on: [BASE] });
    w.ports.digests.set(BASE, digest('5'));
    const event: ImageTagEvent = { kind: 'image-tag', source: 'dockerhub', registry: BASE_REGISTRY, repository: 'baseimages/node', tag: '9-alpine', occurredAt: w.clock.now().toISOString(), deliveryId: 't1' };
    const report = await w.cascade.dispatcher.dispatch(event);
    expect(report.started).toEqual([expect.objectContaining({ task: 'app' })]);
    expect((await w.runs())[0]?.cause).toMatchObject({ newDigest: digest('5') });
  });

  it('never asks a registry about a tag no task depends on', async () => {
    const w = memoryWorld();
    const event: ImageTagEvent = { kind: 'image-tag', source: 'dockerhub', registry: 'elsewhere.example', repository: 'x', tag: '1', occurredAt: w.clock.now().toISOString(), deliveryId: 't1' };
    expect((await w.cascade.dispatcher.dispatch(event)).skipped).toEqual([{ reason: 'no task depends on elsewhere.example/x:1' }]);
  });

  it('marks a deleted base tag gone on the tasks that use it, and builds nothing', async () => {
    const w = memoryWorld();
    await w.task('app', { on: [BASE] });
    const event: ImageDeleteEvent = { kind: 'image-delete', source: 'ecr', registry: BASE_REGISTRY, repository: 'baseimages/node', tag: '9-alpine', occurredAt: w.clock.now().toISOString(), deliveryId: 'x1' };
    expect((await w.cascade.dispatcher.dispatch(event)).skipped).toEqual([{ reason: `${BASE} was deleted; 1 dependent task(s) marked` }]);
    expect(await w.ports.dependencies.listForTask('app')).toEqual([expect.objectContaining({ tagGoneAt: event.occurredAt })]);
    expect(await w.runs()).toEqual([]);
  });

  it('says why it builds no task: disabled, trigger off, build-time base under Runtime, pinned', async () => {
    const w = memoryWorld();
    for (const name of ['paused', 'off', 'buildtime', 'pinned', 'ok']) await w.task(name, { on: [BASE] });
    const paused = (await w.ports.tasks.get('paused'))!;
    await w.ports.tasks.put({ ...paused, status: 'Disabled' });
    const off = (await w.ports.tasks.get('off'))!;
    await w.ports.tasks.put({ ...off, baseImageTrigger: { enabled: false, type: 'Runtime' } });
    const [buildtime] = await w.ports.dependencies.listForTask('buildtime');
    await w.ports.dependencies.replaceForTask('buildtime', [{ ...buildtime!, stage: 'build-time' }]);
    const [pinned] = await w.ports.dependencies.listForTask('pinned');
    await w.ports.dependencies.replaceForTask('pinned', [{ ...pinned!, pinned: true }]);
    const report = await w.cascade.dispatcher.dispatch({ kind: 'image', source: 'distribution', registry: BASE_REGISTRY, repository: 'baseimages/node', tag: '9-alpine', digest: digest('2'), occurredAt: w.clock.now().toISOString(), deliveryId: 'p1' });
    expect(report.started.map((s) => s.task)).toEqual(['ok']);
    expect(Object.fromEntries(report.skipped.map((s) => [s.task, s.reason]))).toEqual({
      paused: expect.stringMatching(/disabled/),
      off: expect.stringMatching(/trigger/),
      buildtime: expect.stringMatching(/build-time/),
      pinned: expect.stringMatching(/pinned/),
    });
  });
});
