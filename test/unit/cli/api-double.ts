// A test double of the cascade API for CLI parsing tests: a real HTTP server on a free port that
// records each request (parsed, and as it arrived on the wire) and answers with whatever the test's
// handler returns.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import type { Run, Task } from '../../../lib/domain/types';
import { main, type CliIo } from '../../../lib/cli/main';

export interface ApiRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON, or undefined when the request had no body. */
  body: unknown;
}

/** The request as it arrived, for tests that check what a signature covers. */
export interface WireRequest {
  method: string;
  /** The Host the client addressed: `x-forwarded-host` when a test's fetch routed another host here. */
  host: string;
  /** Path and query exactly as received. */
  target: string;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  bytes: Buffer;
}

export type Answer = { status: number; json?: unknown; text?: string };
export type Handler = (request: ApiRequest, wire: WireRequest) => Answer | Promise<Answer>;

export interface ApiDouble {
  url: string;
  requests: ApiRequest[];
  /** The same requests as they arrived. */
  wire: WireRequest[];
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
  const wire: WireRequest[] = [];
  let handler: Handler = notRouted;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const url = new URL(req.url ?? '/', 'http://double');
      const bytes = Buffer.concat(chunks);
      const raw = bytes.toString('utf8');
      const request: ApiRequest = {
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body: raw === '' ? undefined : (JSON.parse(raw) as unknown),
      };
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      const arrived: WireRequest = {
        method: request.method,
        host: headers['x-forwarded-host'] ?? headers.host ?? '',
        target: req.url ?? '/',
        headers,
        bytes,
      };
      requests.push(request);
      wire.push(arrived);
      let answer: Answer;
      try {
        answer = await handler(request, arrived);
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
    wire,
    reset(next = notRouted) {
      handler = next;
      requests.length = 0;
      wire.length = 0;
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

export interface CliOptions extends Pick<CliIo, 'awsCredentials' | 'fetch'> {
  api: string;
  stdin?: string;
  cwd?: string;
  /** More environment besides CASCADE_API. */
  env?: NodeJS.ProcessEnv;
  /** How often a followed run is polled; 5 ms unless given (a real build takes seconds). */
  pollIntervalMs?: number;
}

/** Runs `cascade ARGV` in-process with `stdin` as its input and captures both outputs. */
export async function runCli(argv: string[], options: CliOptions): Promise<CliResult> {
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
    env: { CASCADE_API: options.api, ...options.env },
    cwd: options.cwd,
    pollIntervalMs: options.pollIntervalMs ?? 5,
    awsCredentials: options.awsCredentials,
    fetch: options.fetch,
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

/** `cascade`, expected to succeed: its stdout, or an error naming the command and its stderr. */
export function succeeding<A extends unknown[]>(cascade: (args: string[], ...rest: A) => Promise<CliResult>): (args: string[], ...rest: A) => Promise<string> {
  return async (args, ...rest) => {
    const result = await cascade(args, ...rest);
    if (result.code !== 0) throw new Error(`cascade ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  };
}
