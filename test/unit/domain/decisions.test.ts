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
    { why: 'a new digest of a runtime base', code: 'build', t: task, d: dep, build: true, reason: `base.example.com/baseimages/node:9-alpine changed from ${D1} to ${D2}` },
    { why: 'a deleted task', code: 'task-missing', t: undefined, d: dep, build: false, reason: 'task app no longer exists' },
    { why: 'a disabled task', code: 'disabled', t: { ...task, status: 'Disabled' as const }, d: dep, build: false, reason: 'task app is disabled' },
    { why: 'a disabled base image trigger', code: 'trigger-disabled', t: { ...task, baseImageTrigger: { enabled: false, type: 'Runtime' as const } }, d: dep, build: false, reason: 'base image trigger of app is disabled' },
    { why: 'a pinned base', code: 'pinned', t: task, d: { ...dep, pinned: true }, build: false, reason: 'app pins base.example.com/baseimages/node:9-alpine by digest' },
    { why: 'a build-time base under Runtime', code: 'trigger-type', t: task, d: { ...dep, stage: 'build-time' as const }, build: false, reason: 'base.example.com/baseimages/node:9-alpine is a build-time base of app and its trigger type is Runtime' },
    { why: 'a build-time base under All', code: 'build', t: { ...task, baseImageTrigger: { enabled: true, type: 'All' as const } }, d: { ...dep, stage: 'build-time' as const }, build: true, reason: `base.example.com/baseimages/node:9-alpine changed from ${D1} to ${D2}` },
    { why: 'the digest already built', code: 'same-digest', t: task, d: { ...dep, digest: D2 }, build: false, reason: `app was already built from base.example.com/baseimages/node:9-alpine@${D2}` },
    { why: 'the digest already triggered', code: 'already-started', t: task, d: { ...dep, lastTriggeredDigest: D2, lastTriggeredBy: 'd-0' }, build: false, reason: `a build of app for base.example.com/baseimages/node:9-alpine@${D2} was already started (delivery d-0)` },
    {
      why: 'an event for another platform of an index',
      code: 'other-platform',
      t: task,
      d: dep,
      e: { ...event, platform: 'linux/arm64' },
      build: false,
      reason: 'the change of base.example.com/baseimages/node:9-alpine is to its linux/arm64 image and app builds for linux/amd64',
    },
    { why: 'an event for its own platform', code: 'build', t: task, d: dep, e: { ...event, platform: 'linux/amd64' }, build: true, reason: `base.example.com/baseimages/node:9-alpine changed from ${D1} to ${D2}` },
  ])('$why → $code', ({ t, d, e, build, code, reason }) => {
    expect(decideImageUpdate(t, d, e ?? event)).toEqual({ build, code, reason });
  });
});

describe('decideGitCommit', () => {
  const push: GitEvent = { kind: 'git', source: 'github', repoUrl: 'https://github.com/o/app.git', ref: 'refs/heads/main', commit: 'abc', deliveryId: 'g-1' };
  it.each([
    { why: 'an enabled task', code: 'build', t: task, build: true, reason: 'refs/heads/main of https://github.com/o/app.git moved to abc' },
    { why: 'a disabled task', code: 'disabled', t: { ...task, status: 'Disabled' as const }, build: false, reason: 'task app is disabled' },
    { why: 'a disabled commit trigger', code: 'trigger-disabled', t: { ...task, commitTrigger: { enabled: false } }, build: false, reason: 'commit trigger of app is disabled' },
  ])('$why → $code', ({ t, build, code, reason }) => {
    expect(decideGitCommit(t, push)).toEqual({ build, code, reason });
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
