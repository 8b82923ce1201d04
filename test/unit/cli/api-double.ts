// A test double of the cascade API for CLI parsing tests: a real HTTP server on a free port that
// records each request and answers with whatever the test's handler returns.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import type { Run, Task } from '../../../lib/domain/types';
import { main } from '../../../lib/cli/main';

export interface ApiRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON, or undefined when the request had no body. */
  body: unknown;
}

export type Answer = { status: number; json?: unknown; text?: string };
export type Handler = (request: ApiRequest) => Answer;

export interface ApiDouble {
  url: string;
  requests: ApiRequest[];
  /** Replaces the handler and forgets earlier requests. */
  reset(handler?: Handler): void;
  close(): Promise<void>;
}

const notRouted: Handler = (request) => ({
  status: 500,
  json: { error: { code: 'test', message: `the test did not expect ${request.method} ${request.path}` } },
});

export async function startApiDouble(): Promise<ApiDouble> {
  const requests: ApiRequest[] = [];
  let handler: Handler = notRouted;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://double');
      const raw = Buffer.concat(chunks).toString('utf8');
      const request: ApiRequest = {
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body: raw === '' ? undefined : (JSON.parse(raw) as unknown),
      };
      requests.push(request);
      let answer: Answer;
      try {
        answer = handler(request);
      } catch (err) {
        answer = { status: 500, json: { error: { code: 'test', message: String(err) } } };
      }
      if (answer.json !== undefined) {
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.json));
      } else {
        res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.text ?? '');
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reset(next = notRouted) {
      handler = next;
      requests.length = 0;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cascade ARGV` in-process with `stdin` as its input and captures both outputs. */
export async function runCli(argv: string[], options: { api: string; stdin?: string; cwd?: string }): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const code = await main(argv, {
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    stdout,
    stderr,
    env: { CASCADE_API: options.api },
    cwd: options.cwd,
    pollIntervalMs: 5,
  });
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

export function makeTask(overrides: Partial<Task> = {}): Task {
  return {
    name: 'helloworld',
    registry: '127.0.0.1:5001',
    images: ['helloworld:{{.Run.ID}}'],
    context: { kind: 'git', url: 'https://git.example.com/app.git', branch: 'main', folder: '' },
    dockerfile: 'Dockerfile-app',
    buildArgs: { REGISTRY_NAME: '127.0.0.1:5000' },
    platform: 'linux/amd64',
    status: 'Enabled',
    baseImageTrigger: { enabled: true, type: 'Runtime' },
    commitTrigger: { enabled: true },
    credentials: [],
    createdAt: '2026-11-28T04:40:00.123Z',
    updatedAt: '2026-11-28T04:40:00.123Z',
    ...overrides,
  };
}

export function makeRun(overrides: Partial<Run> = {}): Run {
  return {
    id: 'da1',
    sequence: 1,
    taskName: 'helloworld',
    platform: 'linux/amd64',
    status: 'Succeeded',
    trigger: 'Manual',
    cause: { kind: 'manual' },
    spec: {
      registry: '127.0.0.1:5001',
      images: ['helloworld:da1'],
      context: { kind: 'git', url: 'https://git.example.com/app.git', branch: 'main', folder: '' },
      dockerfile: 'Dockerfile-app',
      buildArgs: {},
      platform: 'linux/amd64',
      credentials: [],
    },
    createdAt: '2026-11-28T04:41:10.500Z',
    startedAt: '2026-11-28T04:41:11.250Z',
    finishedAt: '2026-11-28T04:41:23.400Z',
    durationMs: 12_150,
    outputImages: [],
    baseImages: [],
    ...overrides,
  };
}
