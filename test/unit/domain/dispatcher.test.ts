// The dispatcher on the memory ports: which tasks each kind of event concerns, and what it says
// of those it does not build. (Image events' exactly-once rules: coordination*.test.ts.)
import type { DispatchReport } from '../../../lib/domain/dispatcher';
import type { GitEvent, ImageDeleteEvent, ImageTagEvent, Webhook } from '../../../lib/domain/types';
import { bitbucketProvider } from '../../../lib/events/bitbucket';
import { BASE_REGISTRY, digest, memoryWorld, type MemoryWorld } from '../../support/memory-world';
import { fixtureJson, jsonRequest } from '../events/fixtures';

const BASE = `${BASE_REGISTRY}/baseimages/node:9-alpine`;
const COMMIT = 'fd489864e7642b48eaad6e3f155c10e46810ec72';

function gitPush(deliveryId: string, ref = 'refs/heads/main', repoUrl = 'https://git.example/app.git'): GitEvent {
  return { kind: 'git', source: 'github', repoUrl, ref, commit: COMMIT, deliveryId };
}

/** A Bitbucket Server push of `feature/wip` without links (the saved delivery, its change made an update), as `webhook` normalizes it. */
function serverPushWithoutLinks(webhook: Webhook): GitEvent {
  const body = fixtureJson('bitbucket', 'goplayground-server-repo-refs-changed-branch-delete-no-links.json');
  body.changes = [{ ref: { id: 'refs/heads/feature/wip', type: 'BRANCH' }, toHash: COMMIT, type: 'UPDATE' }];
  const { events } = bitbucketProvider.normalize(jsonRequest(body, { 'x-event-key': 'repo:refs_changed', 'x-request-id': 'bb-1' }), webhook);
  return events[0] as GitEvent;
}

async function gitTask(w: MemoryWorld, name: string, url: string, branch = 'feature/wip'): Promise<void> {
  const task = await w.task(name, { on: [] });
  await w.ports.tasks.put({ ...task, context: { kind: 'git', url, branch, folder: '.' } });
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

  const bitbucketHook: Webhook = { name: 'bb', provider: 'bitbucket', secrets: ['s'], createdAt: '2026-11-28T00:00:00.000Z' };
  it.each<[string, Webhook, string[], Array<{ task?: string; reason: string }>]>([
    [
      'the webhook names the server: that server’s https and ssh tasks',
      { ...bitbucketHook, loginServer: 'server.bitbucket.local' },
      ['bb-https', 'bb-ssh'],
      [{ task: 'other-server', reason: 'https://bitbucket.other.example/scm/~gopher/webhook-test.git is not on server.bitbucket.local, the server the webhook speaks for' }],
    ],
    ['the webhook names no server: every host’s, by path alone', bitbucketHook, ['bb-https', 'bb-ssh', 'other-server'], []],
  ])('builds a Bitbucket Server push without links by project and slug when %s', async (_name, webhook, started, skipped) => {
    const w = memoryWorld();
    await gitTask(w, 'bb-https', 'https://server.bitbucket.local/scm/~gopher/webhook-test.git');
    await gitTask(w, 'bb-ssh', 'ssh://git@server.bitbucket.local:7999/~GOPHER/webhook-test.git');
    await gitTask(w, 'other-server', 'https://bitbucket.other.example/scm/~gopher/webhook-test.git');
    await gitTask(w, 'other-branch', 'https://server.bitbucket.local/scm/~gopher/webhook-test.git', 'main');
    await gitTask(w, 'other-repo', 'https://server.bitbucket.local/scm/~gopher/webhook-test-2.git');
    await gitTask(w, 'other-path', 'https://server.bitbucket.local/mirror/~gopher/webhook-test.git');
    const report = await w.cascade.dispatcher.dispatch(serverPushWithoutLinks(webhook));
    expect(report.started.map((s) => s.task)).toEqual(started);
    expect(report.skipped).toEqual(skipped);
    expect((await w.runs()).map((r) => [r.taskName, r.trigger, r.commit, r.branch])).toEqual(started.map((task) => [task, 'Git Commit', COMMIT, 'feature/wip']));
  });

  it('says which repository, and on which server, no task builds', async () => {
    const w = memoryWorld();
    const report = await w.cascade.dispatcher.dispatch(serverPushWithoutLinks({ ...bitbucketHook, loginServer: 'server.bitbucket.local' }));
    expect(report.skipped).toEqual([{ reason: 'no task builds ~gopher/webhook-test on server.bitbucket.local branch feature/wip' }]);
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
