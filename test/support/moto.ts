// moto_server (moto 5.2, an AWS API emulator speaking the services' real wire protocols) on a
// free port, behind a small recording proxy: every request any process sends it is counted, and
// every one it refuses (an HTTP 4xx or 5xx) is kept with its operation and AWS error, so a test
// can show that nothing cascade sent was refused, and name what was.
//
//   const moto = await startMoto();
//   new SQSClient({ ...moto.clientConfig });          // in this process
//   { AWS_ENDPOINT_URL_SQS: moto.endpoint, … }        // in a child process (a Lambda handler)
//   expect(moto.refused).toEqual([]);
//   await moto.stop();
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '../../lib/local/free-port';
import { pythonTool } from './python-tools';

export const MOTO_REGION = 'eu-west-1';
/** moto's default account: what PutEvents, CreateQueue and the rest answer for. */
export const MOTO_ACCOUNT = '123456789012';
// Letters and digits only: DynamoDB Local refuses any other access key, and the functions use one set for all.
export const MOTO_CREDENTIALS = { accessKeyId: 'mototesting', secretAccessKey: 'mototesting' };

export interface Refusal {
  /** `AmazonSQS.ReceiveMessage`, `CreateRole`, `POST /schedules/…` */
  operation: string;
  status: number;
  /** The AWS error code and message, as moto answered them. */
  error: string;
}

export interface Moto {
  /** The proxy in front of moto: give it to SDK clients and AWS_ENDPOINT_URL_<SERVICE>. */
  endpoint: string;
  clientConfig: { endpoint: string; region: string; credentials: typeof MOTO_CREDENTIALS };
  /** Requests moto refused, in order. */
  refused: Refusal[];
  /** How many requests reached moto. */
  requests(): number;
  /** Forgets every resource (moto's reset), and the recorded refusals. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;
const PORT_ATTEMPTS = 3;

export async function startMoto(): Promise<Moto> {
  let server: { child: ChildProcess; port: number } | undefined;
  for (let attempt = 1; !server; attempt++) {
    try {
      server = await startServer(await freePort());
    } catch (error) {
      // Another process can take the port between freePort() and moto binding it.
      if (attempt >= PORT_ATTEMPTS || !/address already in use/i.test(String(error))) throw error;
    }
  }
  const { child, port } = server;
  const refused: Refusal[] = [];
  let requests = 0;
  const proxy: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests += 1;
      const upstream = request(
        { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers },
        (answer: IncomingMessage) => {
          const parts: Buffer[] = [];
          answer.on('data', (c: Buffer) => parts.push(c));
          answer.on('end', () => {
            const reply = Buffer.concat(parts);
            const status = answer.statusCode ?? 0;
            if (status >= 400) refused.push({ operation: operationOf(req.method ?? '', req.url ?? '', req.headers, body), status, error: errorOf(reply) });
            res.writeHead(status, answer.headers);
            res.end(reply);
          });
        },
      );
      upstream.on('error', (error) => {
        refused.push({ operation: operationOf(req.method ?? '', req.url ?? '', req.headers, body), status: 502, error: error.message });
        res.writeHead(502).end();
      });
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  return {
    endpoint,
    clientConfig: { endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS },
    refused,
    requests: () => requests,
    async reset() {
      const answer = await fetch(`http://127.0.0.1:${port}/moto-api/reset`, { method: 'POST' });
      if (!answer.ok) throw new Error(`moto's reset answered ${answer.status}`);
      refused.length = 0;
    },
    async stop() {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

async function startServer(port: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(pythonTool('moto_server'), ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Only what moto needs: no credentials of this machine, no proxy settings.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', MOTO_ACCOUNT_ID: MOTO_ACCOUNT },
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    // moto logs every request; keep only the start-up, where errors would be.
    if (stderr.length < 8000) stderr += c.toString();
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}: ${stderr.slice(-2000)}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/moto-api/`)).ok) return { child, port };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`moto_server did not answer on port ${port} within ${START_TIMEOUT_MS / 1000} s: ${stderr.slice(-2000)}`);
}

/** The operation a request asks for, in each protocol cascade's clients speak. */
function operationOf(method: string, url: string, headers: IncomingMessage['headers'], body: Buffer): string {
  const target = headers['x-amz-target'];
  if (typeof target === 'string') return target;
  const action = new URLSearchParams(body.toString('utf8')).get('Action') ?? new URL(url, 'http://x').searchParams.get('Action');
  if (action) return action;
  return `${method} ${url.split('?')[0]}`;
}

function errorOf(reply: Buffer): string {
  const text = reply.toString('utf8');
  try {
    const json = JSON.parse(text) as { __type?: string; message?: string; Message?: string };
    return `${json.__type ?? 'error'}: ${json.message ?? json.Message ?? ''}`.trim();
  } catch {
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
    const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
    return code ? `${code}: ${message ?? ''}` : text.slice(0, 300);
  }
}
