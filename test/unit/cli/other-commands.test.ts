// `cascade build`, `registry login`, `webhook …`, and how the client reports an unreachable or odd server.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../lib/local/free-port';
import { makeRun, runCli, startApiDouble, type ApiDouble, type ApiRequest } from './api-double';

let api: ApiDouble;
let cwd: string;

beforeAll(async () => {
  api = await startApiDouble();
  cwd = await mkdtemp(join(tmpdir(), 'cascade-cli-other-'));
  await mkdir(join(cwd, 'base'));
});

afterAll(async () => {
  await api.close();
  await rm(cwd, { recursive: true, force: true });
});

const cli = (argv: string[], stdin?: string) => runCli(argv, { api: api.url, cwd, stdin });

describe('build', () => {
  const quickBuild = makeRun({ id: 'da3', taskName: undefined, status: 'Queued', startedAt: undefined, finishedAt: undefined, durationMs: undefined });

  it('sends a local folder as an absolute path, with the optional flags given', async () => {
    api.reset(() => ({ status: 202, json: quickBuild }));
    const result = await cli([
      'build', '--registry', '127.0.0.1:5000', '--image', 'baseimages/node:9-alpine', '--image', 'baseimages/node:latest',
      '--file', 'Dockerfile-base', '--arg', 'NODE_VERSION=9.11.2', '--platform', 'linux/arm64', '--no-wait', './base',
    ]);
    expect(result.code).toBe(0);
    expect(api.requests).toEqual<ApiRequest[]>([
      {
        method: 'POST',
        path: '/api/builds',
        query: {},
        body: {
          registry: '127.0.0.1:5000',
          images: ['baseimages/node:9-alpine', 'baseimages/node:latest'],
          context: join(cwd, 'base'),
          file: 'Dockerfile-base',
          args: { NODE_VERSION: '9.11.2' },
          platform: 'linux/arm64',
        },
      },
    ]);
    expect(result.stdout).toBe('Queued a run with ID: da3\nFollow it with: cascade task logs --run-id da3\n');
  });

  it('sends a git URL as typed and follows the build to its end', async () => {
    let polls = 0;
    api.reset((request) => {
      if (request.path === '/api/builds') return { status: 202, json: quickBuild };
      if (request.path === '/api/runs/da3/log') return { status: 200, text: polls === 1 ? 'building\n' : '' };
      polls += 1;
      return { status: 200, json: polls === 1 ? { ...quickBuild, status: 'Running' } : makeRun({ id: 'da3', taskName: undefined, status: 'Error', durationMs: 1_000, error: 'git clone failed' }) };
    });
    const result = await cli(['build', '--registry', 'r.example.com', '--image', 'a:1', 'https://git.example.com/a.git#main:src']);
    expect(api.requests[0]?.body).toEqual({ registry: 'r.example.com', images: ['a:1'], context: 'https://git.example.com/a.git#main:src' });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('Queued a run with ID: da3\nWaiting for an agent...\nbuilding\n');
    expect(result.stderr).toBe('Run ID: da3 failed after 1s: git clone failed\n');
  });
});

describe('registry login', () => {
  it('PUTs the credentials with the password from stdin and never prints it', async () => {
    api.reset(() => ({ status: 204 }));
    const result = await cli(['registry', 'login', '127.0.0.1:5000', '--username', 'pusher', '--password-stdin'], 'pa55word\n');
    expect(result).toEqual({ code: 0, stdout: 'Login Succeeded\n', stderr: '' });
    expect(api.requests).toEqual([
      { method: 'PUT', path: '/api/registries/127.0.0.1%3A5000/login', query: {}, body: { username: 'pusher', password: 'pa55word' } },
    ]);
  });

  it('prints nothing on stdout with --output json (the API answers 204)', async () => {
    api.reset(() => ({ status: 204 }));
    const result = await cli(['registry', 'login', 'r.example.com', '--username', 'u', '--password-stdin', '--output', 'json'], 'pw');
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});

describe('webhook', () => {
  const created = {
    name: 'base',
    provider: 'distribution',
    loginServer: '127.0.0.1:5000',
    url: 'http://127.0.0.1:3000/hooks/base',
    secret: 'whsec-0123456789',
    createdAt: '2026-11-28T04:00:00.000Z',
  };
  const { secret: _secret, ...listed } = created;

  it('create sends name, provider and login server and prints the URL and secret', async () => {
    api.reset(() => ({ status: 201, json: created }));
    const result = await cli(['webhook', 'create', '--name', 'base', '--provider', 'distribution', '--login-server', '127.0.0.1:5000']);
    expect(result.code).toBe(0);
    expect(api.requests).toEqual([
      { method: 'POST', path: '/api/webhooks', query: {}, body: { name: 'base', provider: 'distribution', loginServer: '127.0.0.1:5000' } },
    ]);
    expect(result.stdout).toContain('URL:           http://127.0.0.1:3000/hooks/base\n');
    expect(result.stdout).toContain('Secret:        whsec-0123456789\n');
  });

  it('create with --output json prints the server object, url and secret included', async () => {
    api.reset(() => ({ status: 201, json: created }));
    const result = await cli(['webhook', 'create', '--name', 'base', '--provider', 'github', '--output', 'json']);
    expect(api.requests[0]?.body).toEqual({ name: 'base', provider: 'github' });
    expect(JSON.parse(result.stdout)).toEqual(created);
  });

  it('list, show and delete', async () => {
    api.reset((request) => {
      if (request.method === 'DELETE') return { status: 204 };
      return request.path === '/api/webhooks' ? { status: 200, json: { webhooks: [listed] } } : { status: 200, json: listed };
    });
    const list = await cli(['webhook', 'list']);
    expect(list.stdout).toBe(
      [
        'NAME  PROVIDER      LOGIN SERVER    URL                               CREATED',
        '----  ------------  --------------  --------------------------------  --------------------',
        'base  distribution  127.0.0.1:5000  http://127.0.0.1:3000/hooks/base  2026-11-28T04:00:00Z',
        '',
      ].join('\n'),
    );
    const show = await cli(['webhook', 'show', '--name', 'base']);
    expect(show.stdout).toContain('Provider:      distribution\n');
    expect(show.stdout).not.toContain('Secret');
    const removed = await cli(['webhook', 'delete', '--name', 'base']);
    expect(removed).toEqual({ code: 0, stdout: 'Deleted webhook "base".\n', stderr: '' });
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/webhooks', 'GET /api/webhooks/base', 'DELETE /api/webhooks/base']);
  });
});

describe('talking to the server', () => {
  it('says how to start cascade when nothing listens', async () => {
    const port = await freePort();
    const result = await runCli(['task', 'list'], { api: `http://127.0.0.1:${port}`, cwd });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: cannot reach cascade at http://127.0.0.1:${port}: start it with "cascade up" or set CASCADE_API\n`,
    });
  });

  it('says to check the URL, not to start cascade, when a deployed (signed) API cannot be reached', async () => {
    const port = await freePort();
    const result = await runCli(['task', 'list'], {
      api: `http://127.0.0.1:${port}`,
      cwd,
      env: { CASCADE_API_AUTH: 'aws-iam', AWS_REGION: 'eu-west-1' },
      awsCredentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-real-secret-key' }),
    });
    expect(result).toEqual({ code: 1, stdout: '', stderr: `error: cannot reach cascade at http://127.0.0.1:${port}: check the URL in CASCADE_API and your network\n` });
  });

  it('keeps the path of CASCADE_API (an API Gateway stage) in front of every route', async () => {
    api.reset(() => ({ status: 200, json: { tasks: [] } }));
    const result = await runCli(['task', 'list'], { api: `${api.url}/dev/`, cwd });
    expect(result.code).toBe(0);
    expect(api.requests.map((r) => r.path)).toEqual(['/dev/api/tasks']);
  });

  it('reports an error answer that is not the API error shape by its status', async () => {
    api.reset(() => ({ status: 502, text: 'Bad Gateway\n<html>' }));
    const result = await cli(['task', 'list']);
    expect(result).toEqual({ code: 1, stdout: '', stderr: `error: cascade at ${api.url} answered HTTP 502: Bad Gateway\n` });
  });

  it('reports a success answer that is not JSON', async () => {
    api.reset(() => ({ status: 200, text: '<html>hello</html>' }));
    const result = await cli(['task', 'list']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`error: cascade at ${api.url} answered GET /api/tasks with something that is not JSON: check CASCADE_API points at cascade\n`);
  });
});
