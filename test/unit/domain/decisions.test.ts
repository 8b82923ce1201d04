import { branchOf, decideGitCommit, decideImageUpdate } from '../../../lib/domain/decisions';
import type { Dependency, GitEvent, ImageEvent, Task } from '../../../lib/domain/types';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

const task: Task = {
  name: 'app',
  registry: 'app.example.com',
  images: ['app:{{.Run.ID}}'],
  context: { kind: 'git', url: 'https://github.com/o/app.git', branch: 'main', folder: '.' },
  dockerfile: 'Dockerfile',
  buildArgs: {},
  platform: 'linux/amd64',
  status: 'Enabled',
  baseImageTrigger: { enabled: true, type: 'Runtime' },
  commitTrigger: { enabled: true },
  credentials: [],
  createdAt: '2026-11-28T00:00:00.000Z',
  updatedAt: '2026-11-28T00:00:00.000Z',
};

const dep: Dependency = {
  taskName: 'app',
  registry: 'base.example.com',
  repository: 'baseimages/node',
  tag: '9-alpine',
  digest: D1,
  stage: 'runtime',
  pinned: false,
  capturedAt: '2026-11-28T00:00:00.000Z',
  capturedByRun: 'da1',
};

const event: ImageEvent = {
  kind: 'image',
  source: 'distribution',
  registry: 'base.example.com',
  repository: 'baseimages/node',
  tag: '9-alpine',
  digest: D2,
  occurredAt: '2026-11-28T01:00:00.000Z',
  deliveryId: 'd-1',
};

describe('decideImageUpdate', () => {
  it.each([
    { why: 'a new digest of a runtime base', t: task, d: dep, build: true, reason: `base.example.com/baseimages/node:9-alpine changed from ${D1} to ${D2}` },
    { why: 'a deleted task', t: undefined, d: dep, build: false, reason: 'task app no longer exists' },
    { why: 'a disabled task', t: { ...task, status: 'Disabled' as const }, d: dep, build: false, reason: 'task app is disabled' },
    { why: 'a disabled base image trigger', t: { ...task, baseImageTrigger: { enabled: false, type: 'Runtime' as const } }, d: dep, build: false, reason: 'base image trigger of app is disabled' },
    { why: 'a pinned base', t: task, d: { ...dep, pinned: true }, build: false, reason: 'app pins base.example.com/baseimages/node:9-alpine by digest' },
    { why: 'a build-time base under Runtime', t: task, d: { ...dep, stage: 'build-time' as const }, build: false, reason: 'base.example.com/baseimages/node:9-alpine is a build-time base of app and its trigger type is Runtime' },
    { why: 'a build-time base under All', t: { ...task, baseImageTrigger: { enabled: true, type: 'All' as const } }, d: { ...dep, stage: 'build-time' as const }, build: true, reason: `base.example.com/baseimages/node:9-alpine changed from ${D1} to ${D2}` },
    { why: 'the digest already built', t: task, d: { ...dep, digest: D2 }, build: false, reason: `app was already built from base.example.com/baseimages/node:9-alpine@${D2}` },
    { why: 'the digest already triggered', t: task, d: { ...dep, lastTriggeredDigest: D2, lastTriggeredBy: 'd-0' }, build: false, reason: `a build of app for base.example.com/baseimages/node:9-alpine@${D2} was already started (delivery d-0)` },
  ])('$why → build $build', ({ t, d, build, reason }) => {
    expect(decideImageUpdate(t, d, event)).toEqual({ build, reason });
  });
});

describe('decideGitCommit', () => {
  const push: GitEvent = { kind: 'git', source: 'github', repoUrl: 'https://github.com/o/app.git', ref: 'refs/heads/main', commit: 'abc', deliveryId: 'g-1' };
  it.each([
    { why: 'an enabled task', t: task, build: true, reason: 'refs/heads/main of https://github.com/o/app.git moved to abc' },
    { why: 'a disabled task', t: { ...task, status: 'Disabled' as const }, build: false, reason: 'task app is disabled' },
    { why: 'a disabled commit trigger', t: { ...task, commitTrigger: { enabled: false } }, build: false, reason: 'commit trigger of app is disabled' },
  ])('$why → build $build', ({ t, build, reason }) => {
    expect(decideGitCommit(t, push)).toEqual({ build, reason });
  });

  it.each([
    ['refs/heads/main', 'main'],
    ['refs/heads/feature/x', 'feature/x'],
    ['refs/tags/v1', undefined],
    ['main', undefined],
  ])('branchOf(%s) is %s', (ref, branch) => {
    expect(branchOf(ref)).toBe(branch);
  });
});
