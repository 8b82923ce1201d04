import {
  formatClockDuration,
  formatContext,
  formatKeyValues,
  formatPlatform,
  formatRunSummary,
  formatRunsTable,
  formatShortDuration,
  formatTable,
  formatTaskDetail,
  formatTime,
  runDurationMs,
} from '../../../lib/cli/format';
import type { BuildContext, RunStatus } from '../../../lib/domain/types';
import { makeRun, makeTask } from './api-double';

describe('formatTime', () => {
  it.each([
    ['2026-11-28T04:41:11.000Z', '2026-11-28T04:41:11Z'],
    ['2026-11-28T04:41:11.999Z', '2026-11-28T04:41:11Z'],
    ['2026-11-28T05:41:11+01:00', '2026-11-28T04:41:11Z'],
    ['2026-11-28T04:41:11Z', '2026-11-28T04:41:11Z'],
    [undefined, ''],
    ['', ''],
    ['not a time', ''],
  ])('%p → %p', (input, expected) => {
    expect(formatTime(input)).toBe(expected);
  });
});

describe('formatClockDuration', () => {
  it.each([
    [0, '00:00:00'],
    [999, '00:00:00'],
    [12_000, '00:00:12'],
    [12_999, '00:00:12'],
    [61_000, '00:01:01'],
    [3_600_000, '01:00:00'],
    [3_600_000 * 100 + 5_000, '100:00:05'],
    [undefined, ''],
    [-1, ''],
    [Number.NaN, ''],
  ])('%p ms → %p', (ms, expected) => {
    expect(formatClockDuration(ms)).toBe(expected);
  });
});

describe('formatShortDuration', () => {
  it.each([
    [0, '0s'],
    [12_000, '12s'],
    [12_600, '12s'],
    [65_000, '1m5s'],
    [3_600_000 + 7_000, '1h0m7s'],
  ])('%p ms → %p', (ms, expected) => {
    expect(formatShortDuration(ms)).toBe(expected);
  });
});

describe('formatPlatform', () => {
  it.each([
    ['linux/amd64', 'linux'],
    ['windows/amd64', 'windows'],
    ['linux/arm64', 'linux/arm64'],
    ['linux/arm/v7', 'linux/arm/v7'],
    ['linux/amd64/v3', 'linux/amd64/v3'],
  ])('%p → %p', (platform, expected) => {
    expect(formatPlatform(platform)).toBe(expected);
  });
});

describe('formatContext', () => {
  it.each<[BuildContext, string]>([
    [{ kind: 'git', url: 'https://github.com/o/r.git', branch: 'main', folder: '' }, 'https://github.com/o/r.git#main'],
    [{ kind: 'git', url: 'https://github.com/o/r.git', branch: 'dev', folder: 'app' }, 'https://github.com/o/r.git#dev:app'],
    [{ kind: 'git', url: 'file:///srv/r', branch: 'main', folder: '.' }, 'file:///srv/r#main'],
    [{ kind: 'local', path: '/home/me/app' }, '/home/me/app'],
  ])('%j → %p', (context, expected) => {
    expect(formatContext(context)).toBe(expected);
  });
});

describe('formatTable', () => {
  it('pads every column to its widest cell, two spaces apart, with a dashed rule and no trailing blanks', () => {
    expect(formatTable(['A', 'LONG HEADER', 'C'], [['wide cell', 'x', ''], ['y', 'z', 'last']])).toBe(
      ['A          LONG HEADER  C', '---------  -----------  ----', 'wide cell  x', 'y          z            last', ''].join('\n'),
    );
  });

  it('prints the header alone when there are no rows', () => {
    expect(formatTable(['RUN ID', 'TASK'], [])).toBe('RUN ID  TASK\n------  ----\n');
  });
});

describe('formatKeyValues', () => {
  it('aligns values and leaves out empty ones', () => {
    expect(formatKeyValues([['Name', 'x'], ['Long label', 'y'], ['Empty', ''], ['Missing', undefined]])).toBe('Name:        x\nLong label:  y\n');
  });
});

describe('runDurationMs', () => {
  it.each<[string, Partial<Parameters<typeof runDurationMs>[0]>, number | undefined]>([
    ['uses the server duration', { status: 'Succeeded', durationMs: 4_000 }, 4_000],
    ['is empty while running', { status: 'Running', durationMs: 4_000 }, undefined],
    ['is empty while queued', { status: 'Queued', durationMs: undefined }, undefined],
    [
      'falls back to start and finish',
      { status: 'Failed', durationMs: undefined, startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:03Z' },
      3_000,
    ],
    ['is unknown without a finish time', { status: 'Error', durationMs: undefined, finishedAt: undefined }, undefined],
  ])('%s', (_label, overrides, expected) => {
    expect(runDurationMs(makeRun(overrides))).toBe(expected);
  });
});

describe('formatRunsTable', () => {
  it('prints the ACR columns, newest first as given, with quick builds and running runs', () => {
    const runs = [
      makeRun({ id: 'da3', taskName: undefined, status: 'Running', durationMs: undefined, finishedAt: undefined, startedAt: '2026-11-28T04:45:00.000Z' }),
      makeRun({ id: 'da2', trigger: 'Image Update', platform: 'linux/arm64', status: 'Failed', durationMs: 3_400 }),
      makeRun({ id: 'da1', status: 'Queued', startedAt: undefined, durationMs: undefined, finishedAt: undefined }),
    ];
    expect(formatRunsTable(runs)).toBe(
      [
        'RUN ID  TASK        PLATFORM     STATUS   TRIGGER       STARTED               DURATION',
        '------  ----------  -----------  -------  ------------  --------------------  --------',
        'da3                 linux        Running  Manual        2026-11-28T04:45:00Z',
        'da2     helloworld  linux/arm64  Failed   Image Update  2026-11-28T04:41:11Z  00:00:03',
        'da1     helloworld  linux        Queued   Manual        2026-11-28T04:41:10Z',
        '',
      ].join('\n'),
    );
  });
});

describe('formatRunSummary', () => {
  it.each<[RunStatus, string | undefined, string]>([
    ['Succeeded', undefined, 'Run ID: da1 was successful after 12s'],
    ['Failed', 'the Dockerfile has no FROM', 'Run ID: da1 failed after 12s: the Dockerfile has no FROM'],
    ['Failed', undefined, 'Run ID: da1 failed after 12s'],
    ['Error', 'buildah is not installed', 'Run ID: da1 failed after 12s: buildah is not installed'],
    ['Canceled', undefined, 'Run ID: da1 was canceled after 12s'],
    ['Timeout', 'the build took over 1h', 'Run ID: da1 timed out after 12s: the build took over 1h'],
  ])('%s with error %p', (status, error, expected) => {
    expect(formatRunSummary(makeRun({ status, error }))).toBe(expected);
  });
});

describe('formatTaskDetail', () => {
  it('tells how to capture dependencies when the task never ran', () => {
    const text = formatTaskDetail({ task: makeTask(), dependencies: [], dependenciesCaptured: false });
    expect(text).toContain('Dependencies not captured yet: run the task once (cascade task run --name helloworld).');
    expect(text).not.toContain('REGISTRY/REPOSITORY:TAG');
  });

  it('lists captured base images and never shows a secret reference', () => {
    const task = makeTask({ credentials: [{ kind: 'basic', loginServer: '127.0.0.1:5000', username: 'puller', secretRef: 'secret/ref/123' }] });
    const text = formatTaskDetail({
      task,
      dependenciesCaptured: true,
      dependencies: [
        {
          taskName: 'helloworld',
          registry: '127.0.0.1:5000',
          repository: 'baseimages/node',
          tag: '9-alpine',
          digest: 'sha256:abc',
          stage: 'runtime',
          pinned: false,
          capturedAt: '2026-11-28T04:41:23.400Z',
          capturedByRun: 'da1',
        },
      ],
    });
    expect(text).toContain('Credentials:         127.0.0.1:5000 (username puller)');
    expect(text).not.toContain('secret/ref/123');
    expect(text).toContain(
      [
        'REGISTRY/REPOSITORY:TAG                  DIGEST      STAGE    CAPTURED              LAST RUN',
        '---------------------------------------  ----------  -------  --------------------  --------',
        '127.0.0.1:5000/baseimages/node:9-alpine  sha256:abc  runtime  2026-11-28T04:41:23Z',
      ].join('\n'),
    );
  });
});
