// `cascade task timer …`, `cascade graph`, `cascade why`, `cascade explain` against a recording
// double of the API: what is sent, what is printed, exit codes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DependencyGraph } from '../../../lib/domain/graph';
import type { ExplainAnswer, WhyAnswer } from '../../../lib/domain/explain';
import type { TimerView } from '../../../lib/domain/timer-service';
import type { TaskTimer } from '../../../lib/domain/types';
import { runCli, startApiDouble, type ApiDouble, type ApiRequest } from './api-double';

let api: ApiDouble;
let cwd: string;

beforeAll(async () => {
  api = await startApiDouble();
  cwd = await mkdtemp(join(tmpdir(), 'cascade-cli-insight-'));
});

afterAll(async () => {
  await api.close();
  await rm(cwd, { recursive: true, force: true });
});

const cli = (argv: string[], stdin?: string) => runCli(argv, { api: api.url, cwd, stdin });
/** Method and target exactly as they arrived, query string and its escapes included. */
const targets = () => api.wire.map((w) => `${w.method} ${w.target}`);

const D1 = 'sha256:1111111111111111111111111111111111111111111111111111111111111111';
const D2 = 'sha256:2222222222222222222222222222222222222222222222222222222222222222';
const D3 = 'sha256:3333333333333333333333333333333333333333333333333333333333333333';
const NODE = '127.0.0.1:5000/baseimages/node:9-alpine';

const nightly: TaskTimer = { name: 'nightly', schedule: '0 3 * * *', enabled: true, createdAt: '2026-11-28T04:40:00.123Z', updatedAt: '2026-11-28T04:40:00.123Z' };

/** Usage errors: exit 2, one line on stderr, nothing on stdout, nothing sent. */
async function expectUsage(argv: string[], stderr: string) {
  api.reset(() => ({ status: 500, json: { error: { code: 'test', message: 'nothing should have been sent' } } }));
  const result = await cli(argv);
  expect(result).toEqual({ code: 2, stdout: '', stderr });
  expect(api.requests).toEqual([]);
}

describe('task timer', () => {
  it.each<{ label: string; extra: string[]; answer: TaskTimer; body: unknown; stdout: string }>([
    {
      label: 'enabled by default',
      extra: [],
      answer: nightly,
      body: { name: 'nightly', schedule: '0 3 * * *' },
      stdout: 'Timer "nightly" of task "helloworld" runs it at "0 3 * * *" (UTC).\n',
    },
    {
      label: 'with --enabled false',
      extra: ['--enabled', 'false'],
      answer: { ...nightly, enabled: false },
      body: { name: 'nightly', schedule: '0 3 * * *', enabled: false },
      stdout: 'Timer "nightly" of task "helloworld" runs it at "0 3 * * *" (UTC), once enabled.\n',
    },
    {
      label: 'with --enabled true',
      extra: ['--enabled', 'true'],
      answer: nightly,
      body: { name: 'nightly', schedule: '0 3 * * *', enabled: true },
      stdout: 'Timer "nightly" of task "helloworld" runs it at "0 3 * * *" (UTC).\n',
    },
  ])('add POSTs the timer ($label)', async ({ extra, answer, body, stdout }) => {
    api.reset(() => ({ status: 201, json: answer }));
    const result = await cli(['task', 'timer', 'add', '--name', 'helloworld', '--timer-name', 'nightly', '--schedule', '0 3 * * *', ...extra]);
    expect(result).toEqual({ code: 0, stdout, stderr: '' });
    expect(api.requests).toEqual<ApiRequest[]>([{ method: 'POST', path: '/api/tasks/helloworld/timers', query: {}, body }]);
  });

  it('add prints the server JSON with --output json', async () => {
    api.reset(() => ({ status: 201, json: nightly }));
    const result = await cli(['task', 'timer', 'add', '--name', 'helloworld', '--timer-name', 'nightly', '--schedule', '0 3 * * *', '--output', 'json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ name: 'nightly', schedule: '0 3 * * *', enabled: true, createdAt: '2026-11-28T04:40:00.123Z', updatedAt: '2026-11-28T04:40:00.123Z' });
  });

  it("add shows the server's refusal of a schedule and exits 1", async () => {
    api.reset(() => ({ status: 400, json: { error: { code: 'invalid_input', message: 'schedule: "61 * * * *" has minute 61, which is not 0-59', field: 'schedule' } } }));
    const result = await cli(['task', 'timer', 'add', '--name', 'helloworld', '--timer-name', 'nightly', '--schedule', '61 * * * *']);
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'error: schedule: "61 * * * *" has minute 61, which is not 0-59\n' });
  });

  it.each<{ label: string; extra: string[]; answer: TaskTimer; body: unknown; stdout: string }>([
    {
      label: 'the schedule',
      extra: ['--schedule', '30 4 * * 1'],
      answer: { ...nightly, schedule: '30 4 * * 1', updatedAt: '2026-11-28T05:00:00.000Z' },
      body: { schedule: '30 4 * * 1' },
      stdout: 'Timer "nightly" of task "helloworld": "30 4 * * 1" (UTC), enabled.\n',
    },
    {
      label: 'enabled',
      extra: ['--enabled', 'false'],
      answer: { ...nightly, enabled: false },
      body: { enabled: false },
      stdout: 'Timer "nightly" of task "helloworld": "0 3 * * *" (UTC), disabled.\n',
    },
    {
      label: 'both',
      extra: ['--schedule', '0 4 * * *', '--enabled', 'true'],
      answer: { ...nightly, schedule: '0 4 * * *' },
      body: { schedule: '0 4 * * *', enabled: true },
      stdout: 'Timer "nightly" of task "helloworld": "0 4 * * *" (UTC), enabled.\n',
    },
  ])('update PATCHes only $label', async ({ extra, answer, body, stdout }) => {
    api.reset(() => ({ status: 200, json: answer }));
    const result = await cli(['task', 'timer', 'update', '--name', 'helloworld', '--timer-name', 'nightly', ...extra]);
    expect(result).toEqual({ code: 0, stdout, stderr: '' });
    expect(api.requests).toEqual<ApiRequest[]>([{ method: 'PATCH', path: '/api/tasks/helloworld/timers/nightly', query: {}, body }]);
  });

  it('update of a timer the task lacks prints the 404 message and exits 1', async () => {
    api.reset(() => ({ status: 404, json: { error: { code: 'not_found', message: 'timer "helloworld/weekly" was not found' } } }));
    const result = await cli(['task', 'timer', 'update', '--name', 'helloworld', '--timer-name', 'weekly', '--enabled', 'false']);
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'error: timer "helloworld/weekly" was not found\n' });
  });

  it('remove DELETEs the timer', async () => {
    api.reset(() => ({ status: 204 }));
    const result = await cli(['task', 'timer', 'remove', '--name', 'helloworld', '--timer-name', 'nightly']);
    expect(result).toEqual({ code: 0, stdout: 'Removed timer "nightly" of task "helloworld".\n', stderr: '' });
    expect(api.requests).toEqual<ApiRequest[]>([{ method: 'DELETE', path: '/api/tasks/helloworld/timers/nightly', query: {}, body: undefined }]);
  });

  it.each([
    ['update', ['task', 'timer', 'update', '--name', 'hello world', '--timer-name', 'night ly/2:00?#', '--enabled', 'true'], 'PATCH /api/tasks/hello%20world/timers/night%20ly%2F2%3A00%3F%23'],
    ['remove', ['task', 'timer', 'remove', '--name', 'hello world', '--timer-name', 'night ly/2:00?#'], 'DELETE /api/tasks/hello%20world/timers/night%20ly%2F2%3A00%3F%23'],
    ['add', ['task', 'timer', 'add', '--name', 'a/b', '--timer-name', 'night ly/2:00?#', '--schedule', '0 3 * * *'], 'POST /api/tasks/a%2Fb/timers'],
    ['list', ['task', 'timer', 'list', '--name', 'a/b?c'], 'GET /api/tasks/a%2Fb%3Fc/timers'],
  ])('%s escapes the task and timer names in the path', async (_label, argv, target) => {
    api.reset((request) => ({ status: request.method === 'DELETE' ? 204 : 200, json: request.method === 'GET' ? { timers: [] } : request.method === 'DELETE' ? undefined : nightly }));
    const result = await cli(argv);
    expect(result.code).toBe(0);
    expect(targets()).toEqual([target]);
  });

  it('add sends the timer name as typed in the body', async () => {
    api.reset(() => ({ status: 201, json: nightly }));
    await cli(['task', 'timer', 'add', '--name', 'a/b', '--timer-name', 'night ly/2:00?#', '--schedule', '0 3 * * *']);
    expect(api.requests[0]?.body).toEqual({ name: 'night ly/2:00?#', schedule: '0 3 * * *' });
  });

  const timers: TimerView[] = [
    { ...nightly, next: '2026-11-29T03:00:00.000Z', lastFired: '2026-11-28T03:00:00.000Z' },
    { name: 'weekly', schedule: '30 4 * * 1', enabled: false, createdAt: '2026-11-28T04:40:00.123Z', updatedAt: '2026-11-28T04:40:00.123Z', next: '2026-11-30T04:30:00.000Z' },
  ];

  it('list GETs the timers and prints a table; a disabled timer shows no next time', async () => {
    api.reset(() => ({ status: 200, json: { timers } }));
    const result = await cli(['task', 'timer', 'list', '--name', 'helloworld']);
    expect(api.requests).toEqual<ApiRequest[]>([{ method: 'GET', path: '/api/tasks/helloworld/timers', query: {}, body: undefined }]);
    expect(result).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        'TIMER    SCHEDULE (UTC)  ENABLED  NEXT                  LAST FIRED',
        '-------  --------------  -------  --------------------  --------------------',
        'nightly  0 3 * * *       true     2026-11-29T03:00:00Z  2026-11-28T03:00:00Z',
        'weekly   30 4 * * 1      false',
        '',
      ].join('\n'),
    });
  });

  it('list prints the array of timers with --output json', async () => {
    api.reset(() => ({ status: 200, json: { timers } }));
    const result = await cli(['task', 'timer', 'list', '--name', 'helloworld', '--output', 'json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      { name: 'nightly', schedule: '0 3 * * *', enabled: true, createdAt: '2026-11-28T04:40:00.123Z', updatedAt: '2026-11-28T04:40:00.123Z', next: '2026-11-29T03:00:00.000Z', lastFired: '2026-11-28T03:00:00.000Z' },
      { name: 'weekly', schedule: '30 4 * * 1', enabled: false, createdAt: '2026-11-28T04:40:00.123Z', updatedAt: '2026-11-28T04:40:00.123Z', next: '2026-11-30T04:30:00.000Z' },
    ]);
  });

  it('list of a task without timers says how to add one', async () => {
    api.reset(() => ({ status: 200, json: { timers: [] } }));
    const result = await cli(['task', 'timer', 'list', '--name', 'helloworld']);
    expect(result).toEqual({
      code: 0,
      stderr: '',
      stdout: 'Task "helloworld" has no timers: add one with cascade task timer add --name helloworld --timer-name nightly --schedule "0 3 * * *"\n',
    });
  });

  it('list with --output json of a task without timers prints an empty array', async () => {
    api.reset(() => ({ status: 200, json: { timers: [] } }));
    const result = await cli(['task', 'timer', 'list', '--name', 'helloworld', '--output', 'json']);
    expect(JSON.parse(result.stdout)).toEqual([]);
  });

  it.each<[string, string[], string]>([
    [
      'add with --enabled maybe',
      ['task', 'timer', 'add', '--name', 'helloworld', '--timer-name', 'nightly', '--schedule', '0 3 * * *', '--enabled', 'maybe'],
      'error: --enabled takes true or false, such as --enabled false\n',
    ],
    [
      'update with --enabled maybe',
      ['task', 'timer', 'update', '--name', 'helloworld', '--timer-name', 'nightly', '--enabled', 'maybe'],
      'error: --enabled takes true or false, such as --enabled false\n',
    ],
    [
      'add without --schedule',
      ['task', 'timer', 'add', '--name', 'helloworld', '--timer-name', 'nightly'],
      'error: required option \'--schedule <cron>\' not specified; run "cascade task timer add --help" to see its options\n',
    ],
    [
      'add without --timer-name',
      ['task', 'timer', 'add', '--name', 'helloworld', '--schedule', '0 3 * * *'],
      'error: required option \'--timer-name <name>\' not specified; run "cascade task timer add --help" to see its options\n',
    ],
    [
      'update with nothing to change',
      ['task', 'timer', 'update', '--name', 'helloworld', '--timer-name', 'nightly'],
      'error: nothing to update: add --schedule "CRON" or --enabled true|false\n',
    ],
    [
      'list without --name',
      ['task', 'timer', 'list'],
      'error: required option \'--name <name>\' not specified; run "cascade task timer list --help" to see its options\n',
    ],
  ])('%s is a usage error', async (_label, argv, stderr) => {
    await expectUsage(argv, stderr);
  });
});

describe('graph', () => {
  // 127.0.0.1:5000/baseimages/node:9-alpine → app-base, which pushes app-base:latest → app.
  const graph: DependencyGraph = {
    images: [
      { ref: NODE, pushedBy: [] },
      { ref: '127.0.0.1:5001/app-base:latest', pushedBy: ['app-base'] },
    ],
    tasks: [
      { name: 'app-base', enabled: true, baseImageTrigger: { enabled: true, type: 'Runtime' }, captured: true, pushes: ['127.0.0.1:5001/app-base:latest', '127.0.0.1:5001/app-base:{{.Run.ID}}'] },
      { name: 'app', enabled: true, baseImageTrigger: { enabled: true, type: 'All' }, captured: true, pushes: ['127.0.0.1:5001/app:{{.Run.ID}}'] },
    ],
    edges: [
      { image: NODE, task: 'app-base', stage: 'runtime', pinned: false, digest: D1, capturedAt: '2026-11-28T04:41:23.400Z', capturedByRun: 'da1', triggers: true },
      { image: '127.0.0.1:5001/app-base:latest', task: 'app', stage: 'build-time', pinned: false, digest: D2, capturedAt: '2026-11-28T04:42:23.400Z', capturedByRun: 'da2', triggers: true },
    ],
    rebuildOrder: [['app-base'], ['app']],
    cycles: [],
  };

  it.each([
    ['the whole graph', [], 'GET /api/graph'],
    ['around an image, escaped', ['--image', NODE], 'GET /api/graph?image=127.0.0.1%3A5000%2Fbaseimages%2Fnode%3A9-alpine'],
    ['around a task, escaped', ['--task', 'app base&x=1'], 'GET /api/graph?task=app%20base%26x%3D1'],
  ])('asks for %s', async (_label, extra, target) => {
    api.reset(() => ({ status: 200, json: graph }));
    const result = await cli(['graph', '--output', 'json', ...extra]);
    expect(result.code).toBe(0);
    expect(targets()).toEqual([target]);
  });

  it('prints the graph as JSON with --output json', async () => {
    api.reset(() => ({ status: 200, json: graph }));
    const result = await cli(['graph', '--output', 'json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({
      images: [
        { ref: '127.0.0.1:5000/baseimages/node:9-alpine', pushedBy: [] },
        { ref: '127.0.0.1:5001/app-base:latest', pushedBy: ['app-base'] },
      ],
      tasks: [
        { name: 'app-base', enabled: true, baseImageTrigger: { enabled: true, type: 'Runtime' }, captured: true, pushes: ['127.0.0.1:5001/app-base:latest', '127.0.0.1:5001/app-base:{{.Run.ID}}'] },
        { name: 'app', enabled: true, baseImageTrigger: { enabled: true, type: 'All' }, captured: true, pushes: ['127.0.0.1:5001/app:{{.Run.ID}}'] },
      ],
      edges: [
        { image: '127.0.0.1:5000/baseimages/node:9-alpine', task: 'app-base', stage: 'runtime', pinned: false, digest: D1, capturedAt: '2026-11-28T04:41:23.400Z', capturedByRun: 'da1', triggers: true },
        { image: '127.0.0.1:5001/app-base:latest', task: 'app', stage: 'build-time', pinned: false, digest: D2, capturedAt: '2026-11-28T04:42:23.400Z', capturedByRun: 'da2', triggers: true },
      ],
      rebuildOrder: [['app-base'], ['app']],
      cycles: [],
    });
  });

  const mermaid = [
    'flowchart TD',
    '  i1[("127.0.0.1:5000/baseimages/node:9-alpine")]',
    '  i2[("127.0.0.1:5001/app-base:latest")]',
    '  t1["app-base"]',
    '  t2["app"]',
    '  i1 -->|runtime| t1',
    '  i2 -->|build-time| t2',
    '  t1 ==> i2',
    '',
  ].join('\n');

  const tree = [
    '127.0.0.1:5000/baseimages/node:9-alpine',
    '└─ app-base  runtime  sha256:111111111111  pushes 127.0.0.1:5001/app-base:latest, 127.0.0.1:5001/app-base:{{.Run.ID}}',
    '   └─ 127.0.0.1:5001/app-base:latest',
    '      └─ app  build-time  sha256:222222222222  pushes 127.0.0.1:5001/app:{{.Run.ID}}',
    'rebuild order: 1. app-base  2. app',
    '',
  ].join('\n');

  const dot = [
    'digraph cascade {',
    '  rankdir=LR;',
    '  i1 [shape=ellipse, label="127.0.0.1:5000/baseimages/node:9-alpine"];',
    '  i2 [shape=ellipse, label="127.0.0.1:5001/app-base:latest"];',
    '  t1 [shape=box, label="app-base"];',
    '  t2 [shape=box, label="app"];',
    '  i1 -> t1 [label="runtime"];',
    '  i2 -> t2 [label="build-time"];',
    '  t1 -> i2 [style=bold];',
    '}',
    '',
  ].join('\n');

  it.each([
    ['--output mermaid', ['--output', 'mermaid'], mermaid],
    ['--output MERMAID (any case)', ['--output', 'MERMAID'], mermaid],
    ['--output dot', ['--output', 'dot'], dot],
    ['--output tree', ['--output', 'tree'], tree],
    ['no --output (a tree)', [], tree],
  ])('draws it with %s', async (_label, extra, expected) => {
    api.reset(() => ({ status: 200, json: graph }));
    const result = await cli(['graph', ...extra]);
    expect(result).toEqual({ code: 0, stdout: expected, stderr: '' });
  });

  it('a focus the server does not know prints its 404 and exits 1', async () => {
    api.reset(() => ({ status: 404, json: { error: { code: 'not_found', message: 'task "nope" was not found' } } }));
    expect(await cli(['graph', '--task', 'nope'])).toEqual({ code: 1, stdout: '', stderr: 'error: task "nope" was not found\n' });
  });

  it.each<[string, string[], string]>([
    ['both --image and --task', ['graph', '--image', NODE, '--task', 'app'], 'error: give --image or --task, not both\n'],
    ['--output svg', ['graph', '--output', 'svg'], 'error: --output takes one of tree, json, mermaid, dot, such as --output tree\n'],
    ['--output table', ['graph', '--output', 'table'], 'error: --output takes one of tree, json, mermaid, dot, such as --output tree\n'],
  ])('%s is a usage error', async (_label, argv, stderr) => {
    await expectUsage(argv, stderr);
  });
});

describe('why', () => {
  // da7 (app) built on app-base:latest, which da5 (app-base) pushed; da5 was started by a
  // distribution push of the node base.
  const twoLinks: WhyAnswer = {
    runId: 'da7',
    root: `image:${NODE}@${D3}`,
    via: ['app-base'],
    chain: [
      {
        runId: 'da7',
        task: 'app',
        trigger: 'Image Update',
        status: 'Succeeded',
        createdAt: '2026-11-28T04:45:10.500Z',
        because: `127.0.0.1:5001/app-base:latest changed from ${D1} to ${D2}`,
      },
      {
        runId: 'da5',
        task: 'app-base',
        trigger: 'Image Update',
        status: 'Succeeded',
        createdAt: '2026-11-28T04:41:10.250Z',
        because: `${NODE} was pushed as ${D3}`,
        firstEvent: {
          kind: 'image push',
          source: 'distribution',
          deliveryId: 'ev-42',
          occurredAt: '2026-11-28T04:41:09.999Z',
          text: `distribution reported ${NODE} at ${D3} (delivery ev-42)`,
        },
      },
    ],
  };

  // A run whose parent is no longer kept.
  const missingParent: WhyAnswer = {
    runId: 'da9',
    root: `image:${NODE}@${D3}`,
    via: ['app-base'],
    chain: [
      {
        runId: 'da9',
        task: 'app',
        trigger: 'Image Update',
        status: 'Running',
        createdAt: '2026-11-28T05:00:00.000Z',
        because: `127.0.0.1:5001/app-base:latest was pushed as ${D2}`,
        missing: 'da3',
      },
    ],
  };

  it.each<{ label: string; id: string; answer: WhyAnswer; expected: string[] }>([
    {
      label: 'a two-link chain back to the distribution push',
      id: 'da7',
      answer: twoLinks,
      expected: [
        'da7  app  Image Update  Succeeded  2026-11-28T04:45:10Z',
        '  because 127.0.0.1:5001/app-base:latest changed from sha256:1111111111111111111111111111111111111111111111111111111111111111 to sha256:2222222222222222222222222222222222222222222222222222222222222222',
        '  which da5 (app-base) pushed:',
        '  da5  app-base  Image Update  Succeeded  2026-11-28T04:41:10Z',
        '    because 127.0.0.1:5000/baseimages/node:9-alpine was pushed as sha256:3333333333333333333333333333333333333333333333333333333333333333',
        '    first event: distribution reported 127.0.0.1:5000/baseimages/node:9-alpine at sha256:3333333333333333333333333333333333333333333333333333333333333333 (delivery ev-42) at 2026-11-28T04:41:09Z',
        'change image:127.0.0.1:5000/baseimages/node:9-alpine@sha256:3333333333333333333333333333333333333333333333333333333333333333 went through app-base',
        '',
      ],
    },
    {
      label: 'a chain cut short by a run no longer kept',
      id: 'da9',
      answer: missingParent,
      expected: [
        'da9  app  Image Update  Running  2026-11-28T05:00:00Z',
        '  because 127.0.0.1:5001/app-base:latest was pushed as sha256:2222222222222222222222222222222222222222222222222222222222222222',
        '  which da3 pushed (that run is no longer kept)',
        'change image:127.0.0.1:5000/baseimages/node:9-alpine@sha256:3333333333333333333333333333333333333333333333333333333333333333 went through app-base',
        '',
      ],
    },
    {
      label: 'a manual run, the whole chain in one link',
      id: 'da1',
      answer: {
        runId: 'da1',
        root: 'run:da1',
        via: [],
        chain: [
          {
            runId: 'da1',
            task: 'helloworld',
            trigger: 'Manual',
            status: 'Failed',
            createdAt: '2026-11-28T04:41:10.500Z',
            because: 'it was run by hand',
            firstEvent: { kind: 'manual', text: 'a manual run' },
          },
        ],
      },
      expected: ['da1  helloworld  Manual  Failed  2026-11-28T04:41:10Z', '  because it was run by hand', '  first event: a manual run', ''],
    },
  ])('prints $label', async ({ id, answer, expected }) => {
    api.reset(() => ({ status: 200, json: answer }));
    const result = await cli(['why', id]);
    expect(targets()).toEqual([`GET /api/runs/${id}/why`]);
    expect(result).toEqual({ code: 0, stdout: expected.join('\n'), stderr: '' });
  });

  it('prints the answer as JSON with --output json', async () => {
    api.reset(() => ({ status: 200, json: twoLinks }));
    const result = await cli(['why', 'da7', '--output', 'json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      runId: 'da7',
      root: 'image:127.0.0.1:5000/baseimages/node:9-alpine@sha256:3333333333333333333333333333333333333333333333333333333333333333',
      via: ['app-base'],
      chain: [
        {
          runId: 'da7',
          task: 'app',
          trigger: 'Image Update',
          status: 'Succeeded',
          createdAt: '2026-11-28T04:45:10.500Z',
          because: '127.0.0.1:5001/app-base:latest changed from sha256:1111111111111111111111111111111111111111111111111111111111111111 to sha256:2222222222222222222222222222222222222222222222222222222222222222',
        },
        {
          runId: 'da5',
          task: 'app-base',
          trigger: 'Image Update',
          status: 'Succeeded',
          createdAt: '2026-11-28T04:41:10.250Z',
          because: '127.0.0.1:5000/baseimages/node:9-alpine was pushed as sha256:3333333333333333333333333333333333333333333333333333333333333333',
          firstEvent: {
            kind: 'image push',
            source: 'distribution',
            deliveryId: 'ev-42',
            occurredAt: '2026-11-28T04:41:09.999Z',
            text: 'distribution reported 127.0.0.1:5000/baseimages/node:9-alpine at sha256:3333333333333333333333333333333333333333333333333333333333333333 (delivery ev-42)',
          },
        },
      ],
    });
  });

  it('escapes the run id in the path', async () => {
    api.reset(() => ({ status: 200, json: twoLinks }));
    await cli(['why', 'da 7/x', '--output', 'json']);
    expect(targets()).toEqual(['GET /api/runs/da%207%2Fx/why']);
  });

  it('an unknown run prints the 404 message and exits 1', async () => {
    api.reset(() => ({ status: 404, json: { error: { code: 'not_found', message: 'run "da99" was not found' } } }));
    const result = await cli(['why', 'da99']);
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'error: run "da99" was not found\n' });
    expect(targets()).toEqual(['GET /api/runs/da99/why']);
  });

  it('without a run id is a usage error', async () => {
    await expectUsage(['why'], 'error: missing required argument \'RUN_ID\'; run "cascade why --help" to see its options\n');
  });
});

describe('explain', () => {
  const every: ExplainAnswer = {
    image: NODE,
    digest: D2,
    currentDigest: D3,
    tasks: [
      { task: 'api', build: true, code: 'build', reason: `${NODE} changed from ${D1} to ${D2}`, recordedDigest: D1, stage: 'runtime' },
      { task: 'batch', build: false, code: 'disabled', reason: 'task batch is disabled', recordedDigest: D1, stage: 'runtime' },
      { task: 'cron', build: false, code: 'trigger-disabled', reason: 'base image trigger of cron is disabled', recordedDigest: D1, stage: 'runtime' },
      { task: 'docs', build: false, code: 'trigger-type', reason: `${NODE} is a build-time base of docs and its trigger type is Runtime`, recordedDigest: D1, stage: 'build-time' },
      { task: 'edge', build: false, code: 'pinned', reason: `edge pins ${NODE} by digest`, recordedDigest: D1, stage: 'runtime' },
      { task: 'feed', build: false, code: 'same-digest', reason: `feed was already built from ${NODE}@${D2}`, recordedDigest: D2, stage: 'runtime' },
      { task: 'gate', build: false, code: 'not-captured', reason: `gate has not run yet: its Dockerfile names ${NODE}, but its bases are recorded by its first run; run it once` },
    ],
  };

  it('GETs the explanation with the image and digest percent-encoded', async () => {
    api.reset(() => ({ status: 200, json: every }));
    const result = await cli(['explain', '--image', NODE, '--digest', D2]);
    expect(result.code).toBe(0);
    expect(targets()).toEqual([
      'GET /api/explain?image=127.0.0.1%3A5000%2Fbaseimages%2Fnode%3A9-alpine&digest=sha256%3A2222222222222222222222222222222222222222222222222222222222222222',
    ]);
    expect(api.requests[0]?.query).toEqual({ image: '127.0.0.1:5000/baseimages/node:9-alpine', digest: D2 });
  });

  it('escapes "@" too, and shows the server refusing a digest reference', async () => {
    const ref = `127.0.0.1:5000/baseimages/node@${D1}`;
    api.reset(() => ({ status: 400, json: { error: { code: 'invalid_input', message: `image "${ref}" must name a tag, not a digest`, field: 'image' } } }));
    const result = await cli(['explain', '--image', ref, '--digest', D2]);
    expect(targets()).toEqual([
      'GET /api/explain?image=127.0.0.1%3A5000%2Fbaseimages%2Fnode%40sha256%3A1111111111111111111111111111111111111111111111111111111111111111&digest=sha256%3A2222222222222222222222222222222222222222222222222222222222222222',
    ]);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: image "127.0.0.1:5000/baseimages/node@sha256:1111111111111111111111111111111111111111111111111111111111111111" must name a tag, not a digest\n',
    });
  });

  it('prints a line per task with whether it builds and why', async () => {
    api.reset(() => ({ status: 200, json: every }));
    const result = await cli(['explain', '--image', NODE, '--digest', D2]);
    expect(result).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        '127.0.0.1:5000/baseimages/node:9-alpine at sha256:2222222222222222222222222222222222222222222222222222222222222222 (newest seen: sha256:3333333333333333333333333333333333333333333333333333333333333333)',
        'TASK   BUILDS                 WHY',
        '-----  ---------------------  ' + '-'.repeat(199),
        'api    yes                    127.0.0.1:5000/baseimages/node:9-alpine changed from sha256:1111111111111111111111111111111111111111111111111111111111111111 to sha256:2222222222222222222222222222222222222222222222222222222222222222',
        'batch  no (disabled)          task batch is disabled',
        'cron   no (trigger-disabled)  base image trigger of cron is disabled',
        'docs   no (trigger-type)      127.0.0.1:5000/baseimages/node:9-alpine is a build-time base of docs and its trigger type is Runtime',
        'edge   no (pinned)            edge pins 127.0.0.1:5000/baseimages/node:9-alpine by digest',
        'feed   no (same-digest)       feed was already built from 127.0.0.1:5000/baseimages/node:9-alpine@sha256:2222222222222222222222222222222222222222222222222222222222222222',
        'gate   no (not-captured)      gate has not run yet: its Dockerfile names 127.0.0.1:5000/baseimages/node:9-alpine, but its bases are recorded by its first run; run it once',
        '',
      ].join('\n'),
    });
  });

  it('leaves out the newest digest when cascade has seen none', async () => {
    api.reset(() => ({
      status: 200,
      json: { image: NODE, digest: D2, tasks: [{ task: 'api', build: true, code: 'build', reason: `api rebuilds`, recordedDigest: D1, stage: 'runtime' }] },
    }));
    const result = await cli(['explain', '--image', NODE, '--digest', D2]);
    expect(result.stdout).toBe(
      [
        '127.0.0.1:5000/baseimages/node:9-alpine at sha256:2222222222222222222222222222222222222222222222222222222222222222',
        'TASK  BUILDS  WHY',
        '----  ------  ------------',
        'api   yes     api rebuilds',
        '',
      ].join('\n'),
    );
  });

  it('says when no task tracks the image', async () => {
    api.reset(() => ({ status: 200, json: { image: 'docker.io/library/alpine:3.20', digest: D2, tasks: [] } }));
    const result = await cli(['explain', '--image', 'alpine:3.20', '--digest', D2]);
    expect(result).toEqual({
      code: 0,
      stderr: '',
      stdout: 'docker.io/library/alpine:3.20 at sha256:2222222222222222222222222222222222222222222222222222222222222222\nNo task tracks docker.io/library/alpine:3.20.\n',
    });
  });

  it('prints the answer as JSON with --output json', async () => {
    api.reset(() => ({ status: 200, json: every }));
    const result = await cli(['explain', '--image', NODE, '--digest', D2, '--output', 'json']);
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as ExplainAnswer;
    expect(printed.image).toBe('127.0.0.1:5000/baseimages/node:9-alpine');
    expect(printed.currentDigest).toBe(D3);
    expect(printed.tasks.map((t) => [t.task, t.build, t.code])).toEqual([
      ['api', true, 'build'],
      ['batch', false, 'disabled'],
      ['cron', false, 'trigger-disabled'],
      ['docs', false, 'trigger-type'],
      ['edge', false, 'pinned'],
      ['feed', false, 'same-digest'],
      ['gate', false, 'not-captured'],
    ]);
    expect(printed.tasks[6]).toEqual({
      task: 'gate',
      build: false,
      code: 'not-captured',
      reason: 'gate has not run yet: its Dockerfile names 127.0.0.1:5000/baseimages/node:9-alpine, but its bases are recorded by its first run; run it once',
    });
  });

  it.each<[string, string[], string]>([
    ['without --digest', ['explain', '--image', NODE], 'error: required option \'--digest <digest>\' not specified; run "cascade explain --help" to see its options\n'],
    ['without --image', ['explain', '--digest', D2], 'error: required option \'--image <ref>\' not specified; run "cascade explain --help" to see its options\n'],
  ])('%s is a usage error', async (_label, argv, stderr) => {
    await expectUsage(argv, stderr);
  });
});
