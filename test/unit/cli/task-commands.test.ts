// `cascade task …` against a recording double of the API: what is sent, what is printed, exit codes.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Run } from '../../../lib/domain/types';
import { makeRun, makeTask, runCli, startApiDouble, type ApiDouble, type ApiRequest } from './api-double';

let api: ApiDouble;
let cwd: string;

beforeAll(async () => {
  api = await startApiDouble();
  cwd = await mkdtemp(join(tmpdir(), 'cascade-cli-task-'));
  await mkdir(join(cwd, 'app'));
});

afterAll(async () => {
  await api.close();
  await rm(cwd, { recursive: true, force: true });
});

const cli = (argv: string[], stdin?: string) => runCli(argv, { api: api.url, cwd, stdin });
const calls = () => api.requests.map((r) => `${r.method} ${r.path}`);

describe('task create', () => {
  it('sends every flag in the API field names, with a local context made absolute', async () => {
    const task = makeTask();
    api.reset(() => ({ status: 201, json: task }));
    const result = await cli([
      'task', 'create', '--name', 'helloworld', '--registry', '127.0.0.1:5001',
      '--image', 'helloworld:{{.Run.ID}}', '--image', 'helloworld:latest',
      '--context', 'app', '--file', 'Dockerfile-app',
      '--arg', 'REGISTRY_NAME=127.0.0.1:5000', '--arg', 'EXTRA=a=b',
      '--platform', 'linux/arm64', '--status', 'disabled',
      '--base-image-trigger-enabled', 'false', '--base-image-trigger-type', 'All', '--commit-trigger-enabled', 'true',
    ]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(api.requests).toEqual<ApiRequest[]>([
      {
        method: 'POST',
        path: '/api/tasks',
        query: {},
        body: {
          name: 'helloworld',
          registry: '127.0.0.1:5001',
          images: ['helloworld:{{.Run.ID}}', 'helloworld:latest'],
          context: join(cwd, 'app'),
          file: 'Dockerfile-app',
          args: { REGISTRY_NAME: '127.0.0.1:5000', EXTRA: 'a=b' },
          platform: 'linux/arm64',
          status: 'Disabled',
          baseImageTriggerEnabled: false,
          baseImageTriggerType: 'All',
          commitTriggerEnabled: true,
        },
      },
    ]);
    expect(result.stdout).toContain('Name:                helloworld\n');
    expect(result.stdout).toContain('Context:             https://git.example.com/app.git#main\n');
  });

  it.each([
    'https://github.com/me/app.git#main:docker',
    'git@github.com:me/app.git#dev',
    'file:///srv/git/app.git',
  ])('passes the git context %s through as typed, and only the flags given', async (context) => {
    api.reset(() => ({ status: 201, json: makeTask() }));
    const result = await cli(['task', 'create', '--name', 'n', '--registry', 'r.example.com', '--image', 'i:1', '--context', context]);
    expect(result.code).toBe(0);
    expect(api.requests[0]?.body).toEqual({ name: 'n', registry: 'r.example.com', images: ['i:1'], context });
  });

  it('prints the server JSON with --output json', async () => {
    const task = makeTask();
    api.reset(() => ({ status: 201, json: task }));
    const result = await cli(['task', 'create', '--name', 'n', '--registry', 'r', '--image', 'i', '--context', 'app', '--output', 'json']);
    expect(JSON.parse(result.stdout)).toEqual(task);
  });

  it("prints the server's message on a 4xx and exits 1", async () => {
    api.reset(() => ({ status: 409, json: { error: { code: 'conflict', message: 'task "n" already exists' } } }));
    const result = await cli(['task', 'create', '--name', 'n', '--registry', 'r', '--image', 'i', '--context', 'app']);
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'error: task "n" already exists\n' });
  });
});

describe('task update, show, list, delete', () => {
  it('update PATCHes only the flags given', async () => {
    api.reset(() => ({ status: 200, json: makeTask({ status: 'Disabled' }) }));
    const result = await cli(['task', 'update', '--name', 'hello world', '--status', 'Disabled', '--commit-trigger-enabled', 'false']);
    expect(result.code).toBe(0);
    expect(api.requests).toEqual([
      { method: 'PATCH', path: '/api/tasks/hello%20world', query: {}, body: { status: 'Disabled', commitTriggerEnabled: false } },
    ]);
    expect(result.stdout).toContain('Status:              Disabled');
  });

  it('show prints the task and its dependency table', async () => {
    const detail = {
      task: makeTask(),
      dependenciesCaptured: true,
      dependencies: [
        { taskName: 'helloworld', registry: '127.0.0.1:5000', repository: 'baseimages/node', tag: '9-alpine', digest: 'sha256:1111', stage: 'runtime', pinned: false, capturedAt: '2026-11-28T04:41:23.400Z', capturedByRun: 'da1', lastRun: 'da7' },
        { taskName: 'helloworld', registry: 'docker.io', repository: 'library/golang', tag: '1.22', digest: 'sha256:2222', stage: 'build-time', pinned: true, capturedAt: '2026-11-28T04:41:23.400Z', capturedByRun: 'da1' },
      ],
    };
    api.reset(() => ({ status: 200, json: detail }));
    const result = await cli(['task', 'show', '--name', 'helloworld']);
    expect(calls()).toEqual(['GET /api/tasks/helloworld']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      [
        'REGISTRY/REPOSITORY:TAG                  DIGEST       STAGE       CAPTURED              LAST RUN',
        '---------------------------------------  -----------  ----------  --------------------  --------',
        '127.0.0.1:5000/baseimages/node:9-alpine  sha256:1111  runtime     2026-11-28T04:41:23Z  da7',
        'docker.io/library/golang:1.22 (pinned)   sha256:2222  build-time  2026-11-28T04:41:23Z',
      ].join('\n'),
    );
    const json = await cli(['task', 'show', '--name', 'helloworld', '--output', 'json']);
    expect(JSON.parse(json.stdout)).toEqual(detail);
  });

  it('show says how to capture dependencies before the first run', async () => {
    api.reset(() => ({ status: 200, json: { task: makeTask(), dependencies: [], dependenciesCaptured: false } }));
    const result = await cli(['task', 'show', '--name', 'helloworld']);
    expect(result.stdout).toContain('Dependencies not captured yet: run the task once (cascade task run --name helloworld).\n');
  });

  it('show of a missing task prints the 404 message and exits 1', async () => {
    api.reset(() => ({ status: 404, json: { error: { code: 'not_found', message: 'task "nope" was not found' } } }));
    expect(await cli(['task', 'show', '--name', 'nope'])).toEqual({ code: 1, stdout: '', stderr: 'error: task "nope" was not found\n' });
  });

  it('list prints a table, and the array of tasks with --output json', async () => {
    const tasks = [makeTask(), makeTask({ name: 'other', platform: 'linux/arm64', status: 'Disabled', context: { kind: 'local', path: '/src/other' } })];
    api.reset(() => ({ status: 200, json: { tasks } }));
    const table = await cli(['task', 'list']);
    expect(table.stdout).toBe(
      [
        'NAME        PLATFORM     STATUS    CONTEXT                               TRIGGERS',
        '----------  -----------  --------  ------------------------------------  ----------------------------',
        'helloworld  linux        Enabled   https://git.example.com/app.git#main  base image (Runtime), commit',
        'other       linux/arm64  Disabled  /src/other                            base image (Runtime)',
        '',
      ].join('\n'),
    );
    const json = await cli(['task', 'list', '--output', 'json']);
    expect(JSON.parse(json.stdout)).toEqual(tasks);
  });

  it.each([
    ['--yes', ['--yes'], undefined, true],
    ['a "y" answer', [], 'y\n', true],
    ['a "yes" answer', [], 'YES\n', true],
    ['an "n" answer', [], 'n\n', false],
    ['no answer at all', [], '', false],
  ])('delete with %s', async (_label, extra, stdin, deleted) => {
    api.reset(() => ({ status: 204 }));
    const result = await cli(['task', 'delete', '--name', 'helloworld', ...extra], stdin);
    if (deleted) {
      expect(result.code).toBe(0);
      expect(calls()).toEqual(['DELETE /api/tasks/helloworld']);
      expect(result.stdout).toBe('Deleted task "helloworld".\n');
    } else {
      expect(result.code).toBe(1);
      expect(api.requests).toEqual([]);
      expect(result.stderr).toContain('Task "helloworld" was not deleted: answer y, or pass --yes');
    }
  });
});

describe('task credential', () => {
  it.each([
    ['s3cret\n', 's3cret'],
    ['s3cret\r\n', 's3cret'],
    ['s3cret', 's3cret'],
    ['two newlines\n\n', 'two newlines\n'],
  ])('add reads the password from stdin (%j) and never prints it', async (stdin, password) => {
    api.reset(() => ({ status: 200, json: makeTask({ credentials: [{ kind: 'basic', loginServer: '127.0.0.1:5000', username: 'puller', secretRef: 'ref' }] }) }));
    const result = await cli(['task', 'credential', 'add', '--name', 'helloworld', '--login-server', '127.0.0.1:5000', '--username', 'puller', '--password-stdin'], stdin);
    expect(result.code).toBe(0);
    expect(api.requests).toEqual([
      { method: 'POST', path: '/api/tasks/helloworld/credentials', query: {}, body: { loginServer: '127.0.0.1:5000', username: 'puller', password } },
    ]);
    expect(result.stdout).toBe('Task "helloworld" can now log in to 127.0.0.1:5000.\n');
    expect(result.stderr).not.toContain(password.trim());
  });

  it('add with an IAM role sends the identity', async () => {
    api.reset(() => ({ status: 200, json: makeTask() }));
    const arn = 'arn:aws:iam::123456789012:role/base-pull';
    const result = await cli(['task', 'credential', 'add', '--name', 'helloworld', '--login-server', 'base.example.com', '--use-identity', arn]);
    expect(result.code).toBe(0);
    expect(api.requests[0]?.body).toEqual({ loginServer: 'base.example.com', identity: arn });
  });

  it('a rejected credential shows the server message but not the password', async () => {
    api.reset(() => ({ status: 400, json: { error: { code: 'invalid_input', message: 'loginServer: must be a registry host', field: 'loginServer' } } }));
    const result = await cli(['task', 'credential', 'add', '--name', 'helloworld', '--login-server', 'bad host', '--username', 'u', '--password-stdin'], 'topsecretpw\n');
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'error: loginServer: must be a registry host\n' });
  });

  it('remove DELETEs the login server, escaped in the path', async () => {
    api.reset(() => ({ status: 200, json: makeTask() }));
    const result = await cli(['task', 'credential', 'remove', '--name', 'helloworld', '--login-server', '127.0.0.1:5000']);
    expect(result.code).toBe(0);
    expect(calls()).toEqual(['DELETE /api/tasks/helloworld/credentials/127.0.0.1%3A5000']);
  });
});

/** A run that goes Queued → Running → `final` while its log grows, served at byte offsets. */
function runLifecycle(final: Partial<Run>, logParts: string[]) {
  let polls = 0;
  return (request: ApiRequest) => {
    if (request.method === 'POST' && request.path === '/api/tasks/helloworld/runs') {
      return { status: 202, json: makeRun({ status: 'Queued', startedAt: undefined, finishedAt: undefined, durationMs: undefined }) };
    }
    if (request.method === 'GET' && request.path === '/api/runs/da1') {
      polls += 1;
      return { status: 200, json: polls < 3 ? makeRun({ status: 'Running', finishedAt: undefined, durationMs: undefined }) : makeRun(final) };
    }
    if (request.method === 'GET' && request.path === '/api/runs/da1/log') {
      // Reveal one more part per poll, as a build writing its log would.
      const shown = Buffer.from(logParts.slice(0, polls).join(''));
      return { status: 200, text: shown.subarray(Number(request.query.offset)).toString() };
    }
    return { status: 404, json: { error: { code: 'not_found', message: `no route ${request.path}` } } };
  };
}

describe('task run', () => {
  it('streams the log by byte offset until the run succeeds, then prints the ACR summary', async () => {
    api.reset(runLifecycle({ status: 'Succeeded', durationMs: 12_150 }, ['Step 1/2 : FROM base ✓\n', 'Step 2/2 : RUN make\n', 'pushed\n']));
    const result = await cli(['task', 'run', '--name', 'helloworld']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      'Queued a run with ID: da1\nWaiting for an agent...\nStep 1/2 : FROM base ✓\nStep 2/2 : RUN make\npushed\nRun ID: da1 was successful after 12s\n',
    );
    expect(api.requests[0]).toEqual({ method: 'POST', path: '/api/tasks/helloworld/runs', query: {}, body: {} });
    const offsets = api.requests.filter((r) => r.path.endsWith('/log')).map((r) => Number(r.query.offset));
    const first = Buffer.byteLength('Step 1/2 : FROM base ✓\n');
    expect(offsets).toEqual([0, first, first + Buffer.byteLength('Step 2/2 : RUN make\n')]);
  });

  it('exits 1 and prints the error when the run fails', async () => {
    api.reset(runLifecycle({ status: 'Failed', durationMs: 3_000, error: 'RUN make exited with 2' }, ['make: *** error', '', '']));
    const result = await cli(['task', 'run', '--name', 'helloworld']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('Queued a run with ID: da1\nWaiting for an agent...\nmake: *** error\n');
    expect(result.stderr).toBe('Run ID: da1 failed after 3s: RUN make exited with 2\n');
  });

  it('with --output json keeps stdout to the final run and sends progress to stderr', async () => {
    api.reset(runLifecycle({ status: 'Succeeded' }, ['log line\n', '', '']));
    const result = await cli(['task', 'run', '--name', 'helloworld', '--output', 'json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(makeRun({ status: 'Succeeded' }));
    expect(result.stderr).toContain('log line\nRun ID: da1 was successful after 12s\n');
  });

  it('with --no-wait only queues the run', async () => {
    api.reset(runLifecycle({}, []));
    const result = await cli(['task', 'run', '--name', 'helloworld', '--no-wait']);
    expect(result.code).toBe(0);
    expect(calls()).toEqual(['POST /api/tasks/helloworld/runs']);
    expect(result.stdout).toBe('Queued a run with ID: da1\nFollow it with: cascade task logs --run-id da1\n');
  });
});

describe('runs', () => {
  const runs = [
    makeRun({ id: 'da2', trigger: 'Image Update', status: 'Running', durationMs: undefined, finishedAt: undefined }),
    makeRun({ id: 'da1' }),
  ];

  it('list-runs sends the filters and prints the ACR table', async () => {
    api.reset(() => ({ status: 200, json: { runs } }));
    const result = await cli(['task', 'list-runs', '--name', 'helloworld', '--run-status', 'running', '--top', '5']);
    expect(result.code).toBe(0);
    expect(api.requests).toEqual([{ method: 'GET', path: '/api/runs', query: { task: 'helloworld', status: 'Running', top: '5' }, body: undefined }]);
    expect(result.stdout).toBe(
      [
        'RUN ID  TASK        PLATFORM  STATUS     TRIGGER       STARTED               DURATION',
        '------  ----------  --------  ---------  ------------  --------------------  --------',
        'da2     helloworld  linux     Running    Image Update  2026-11-28T04:41:11Z',
        'da1     helloworld  linux     Succeeded  Manual        2026-11-28T04:41:11Z  00:00:12',
        '',
      ].join('\n'),
    );
  });

  it('list-runs asks for 15 by default and prints the array with --output json', async () => {
    api.reset(() => ({ status: 200, json: { runs } }));
    const result = await cli(['task', 'list-runs', '--output', 'json']);
    expect(api.requests[0]?.query).toEqual({ top: '15' });
    expect(JSON.parse(result.stdout)).toEqual(runs);
  });

  it('show-run prints the run', async () => {
    api.reset(() => ({ status: 200, json: makeRun({ status: 'Failed', error: 'no space left' }) }));
    const result = await cli(['task', 'show-run', '--run-id', 'da1']);
    expect(calls()).toEqual(['GET /api/runs/da1']);
    expect(result.stdout).toContain('Run ID:    da1\n');
    expect(result.stdout).toContain('Duration:  00:00:12\n');
    expect(result.stdout).toContain('Error:     no space left\n');
  });

  it('logs --run-id prints a finished run log', async () => {
    api.reset((r) => (r.path.endsWith('/log') ? { status: 200, text: 'all of it\n' } : { status: 200, json: makeRun() }));
    const result = await cli(['task', 'logs', '--run-id', 'da1']);
    expect(result).toEqual({ code: 0, stdout: 'all of it\n', stderr: '' });
    expect(api.requests.map((r) => `${r.method} ${r.path} ${JSON.stringify(r.query)}`)).toEqual(['GET /api/runs/da1 {}', 'GET /api/runs/da1/log {"offset":"0"}']);
  });

  it("logs --name prints the task's newest run", async () => {
    api.reset((r) => {
      if (r.path === '/api/runs') return { status: 200, json: { runs: [makeRun({ id: 'da7' })] } };
      if (r.path === '/api/runs/da7/log') return { status: 200, text: 'newest' };
      return { status: 200, json: makeRun({ id: 'da7' }) };
    });
    const result = await cli(['task', 'logs', '--name', 'helloworld']);
    expect(result).toEqual({ code: 0, stdout: 'newest\n', stderr: '' });
    expect(api.requests[0]).toMatchObject({ path: '/api/runs', query: { task: 'helloworld', top: '1' } });
  });

  it('logs --name of a task that never ran says how to start one', async () => {
    api.reset(() => ({ status: 200, json: { runs: [] } }));
    const result = await cli(['task', 'logs', '--name', 'helloworld']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('error: task "helloworld" has no runs yet: start one with "cascade task run --name helloworld"\n');
  });

  it('cancel-run POSTs the cancel', async () => {
    api.reset(() => ({ status: 200, json: makeRun({ status: 'Canceled' }) }));
    const result = await cli(['task', 'cancel-run', '--run-id', 'da1']);
    expect(api.requests).toEqual([{ method: 'POST', path: '/api/runs/da1/cancel', query: {}, body: {} }]);
    expect(result).toEqual({ code: 0, stdout: 'Run ID: da1 was canceled.\n', stderr: '' });
  });
});
