// Notifications on the local stack's real parts (DynamoDB Local, the HTTP server and the CLI, the
// in-process queues, node's fetch) with receivers on 127.0.0.1, and a builder that records starts
// instead of building: one signed delivery per finished run with its cause, retries until a 200,
// a receiver that never answers holding nothing up, deleted bases, and the refusals.
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeliveryView } from '../../lib/domain/notifications/notification';
import type { RetrySchedule } from '../../lib/domain/notifications/retry';
import type { Run } from '../../lib/domain/types';
import { freePort } from '../../lib/local/free-port';
import { startLocalStack, type LocalStack } from '../../lib/local/stack';
import { runCli } from '../unit/cli/api-double';
import { RecordingBuilder } from '../support/recording-builder';
import { rememberSecrets } from '../support/secrets';

jest.setTimeout(120_000);

const BASE = '127.0.0.1:5999';
const BASE_REF = `${BASE}/baseimages/node:9-alpine`;
const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
// Seconds, not minutes: the schedule's shape as in production (doubling waits, a bound), shorter.
// A delivery to a silent receiver stays pending for at least 5 s: what the tests check meanwhile has that long.
const RETRY: RetrySchedule = { firstDelayMs: 100, maxDelayMs: 400, giveUpAfterMs: 5000, attemptTimeoutMs: 1500 };

let work: string;
let stack: LocalStack;
let builder: RecordingBuilder;
let registryHook: { url: string; secret: string };
/** Every line the stack logged, and every answer of its API read here: no secret may be in them. */
const said: string[] = [];
const secrets: string[] = [];

interface Received {
  headers: IncomingHttpHeaders;
  raw: Buffer;
  body: Record<string, unknown>;
}

interface Receiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** A receiver on 127.0.0.1 whose n-th request (from 0) is answered by `answer`; `undefined` leaves it unanswered. */
async function startReceiver(answer: (n: number, res: ServerResponse) => void | undefined = (_n, res) => void res.writeHead(200).end('ok')): Promise<Receiver> {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      received.push({ headers: req.headers, raw, body: JSON.parse(raw.toString('utf8')) as Record<string, unknown> });
      answer(received.length - 1, res);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((done) => server.close(() => done()));
    },
  };
}

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const answer = await fetch(`${stack.url}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await answer.text();
  said.push(`${method} ${path} ${answer.status} ${text}`);
  return { status: answer.status, body: (text ? JSON.parse(text) : undefined) as T };
}

const cli = async (argv: string[]) => {
  const result = await runCli(argv, { api: stack.url });
  said.push(`cascade ${argv.join(' ')}: ${result.code} ${result.stderr}`);
  return result;
};

/** `notification add` through the CLI: its JSON answer, the secret remembered for the scans. */
async function addNotification(name: string, url: string, ...flags: string[]): Promise<{ secret: string }> {
  const result = await cli(['notification', 'add', '--name', name, '--url', url, ...flags, '--output', 'json']);
  expect(result.code).toBe(0);
  const added = JSON.parse(result.stdout) as { secret: string };
  secrets.push(added.secret);
  rememberSecrets(added.secret);
  return added;
}

async function deliveriesOf(name: string): Promise<DeliveryView[]> {
  return (await api<{ deliveries: DeliveryView[] }>('GET', `/api/notifications/${name}/deliveries?top=100`)).body.deliveries;
}

async function eventually<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every queue quiet: builds' messages and notifications'. */
async function settled(): Promise<void> {
  await stack.idle();
  await stack.notificationQueue.idle();
  await stack.idle();
}

function pushed(id: string, tagDigest: string, action = 'push'): string {
  return JSON.stringify({
    events: [
      {
        id,
        timestamp: new Date().toISOString(),
        action,
        target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: tagDigest, repository: 'baseimages/node', tag: '9-alpine', size: 500 },
        request: { id: `r-${id}`, addr: '127.0.0.1:1', host: BASE, method: action === 'push' ? 'PUT' : 'DELETE', useragent: 'test' },
        actor: { name: 'basepush' },
        source: { addr: 'test:5000', instanceID: 'i' },
      },
    ],
  });
}

async function notifyRegistry(body: string): Promise<void> {
  const answer = await fetch(registryHook.url, { method: 'POST', headers: { authorization: `Bearer ${registryHook.secret}`, 'content-type': 'application/vnd.docker.distribution.events.v1+json' }, body });
  expect(answer.status).toBe(202);
}

/** The open build of the task's newest run, finished as a build of `base` would. */
async function finishNewest(task: string, base: string, status: 'Succeeded' | 'Failed' = 'Succeeded', error?: string): Promise<Run> {
  const [run] = (await api<{ runs: Run[] }>('GET', `/api/runs?task=${task}&top=1`)).body.runs;
  await builder.finish(run!.id, {
    status,
    ...(error !== undefined && { error }),
    outputImages: status === 'Succeeded' ? [{ reference: `127.0.0.1:5998/${task}:${run!.id}`, digest: digest(9) }] : [],
    baseImages: [{ registry: BASE, repository: 'baseimages/node', tag: '9-alpine', digest: base, stage: 'runtime', pinned: false }],
  });
  await stack.idle();
  return (await api<Run>('GET', `/api/runs/${run!.id}`)).body;
}

function verifySignature(secret: string, request: Received): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(request.raw).digest('hex')}`);
  const got = Buffer.from(String(request.headers['x-cascade-signature-256'] ?? ''));
  return got.length === expected.length && timingSafeEqual(got, expected);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cascade-notify-'));
  stack = await startLocalStack({
    port: 0,
    dataDir: work,
    inMemory: true,
    log: (line) => {
      said.push(line);
      console.log(line);
    },
    builder: (report) => (builder = new RecordingBuilder({ report })),
    sources: null,
    notificationRetry: RETRY,
  });
  registryHook = (await api<{ url: string; secret: string }>('POST', '/api/webhooks', { name: 'base', provider: 'distribution' })).body;
  rememberSecrets(registryHook.secret);
  const task = { name: 'app', registry: '127.0.0.1:5998', images: ['app:{{.Run.ID}}'], context: 'https://github.com/example/app.git#main', file: 'Dockerfile', args: {} };
  expect((await api('POST', '/api/tasks', task)).status).toBe(201);
  expect((await api('POST', '/api/tasks', { ...task, name: 'web' })).status).toBe(201);
  // The first runs record the base each task is built from.
  for (const name of ['app', 'web']) {
    expect((await api('POST', `/api/tasks/${name}/runs`, {})).status).toBe(202);
    expect((await finishNewest(name, digest(1))).status).toBe('Succeeded');
  }
});

afterAll(async () => {
  await stack?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('a finished run', () => {
  it('gets exactly one signed delivery, with the base that moved from which digest to which', async () => {
    const receiver = await startReceiver();
    try {
      const { secret } = await addNotification('ops', receiver.url, '--task', 'app');
      await notifyRegistry(pushed('push-2', digest(2)));
      await stack.idle();
      const run = await finishNewest('app', digest(2));
      expect(run).toMatchObject({ trigger: 'Image Update', status: 'Succeeded' });
      // web is built from the base too: its run is not one the notification (of app) hears of.
      expect(await finishNewest('web', digest(2))).toMatchObject({ trigger: 'Image Update', status: 'Succeeded' });
      await settled();
      // Later looks find no second delivery.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await settled();

      expect(receiver.received).toHaveLength(1);
      const [request] = receiver.received as [Received];
      expect(verifySignature(secret, request)).toBe(true);
      expect(verifySignature(`${secret}x`, request)).toBe(false);
      expect(request.headers).toMatchObject({ 'content-type': 'application/json', 'x-cascade-event': 'run.succeeded', 'x-cascade-delivery': request.body.deliveryId });
      expect(request.body).toMatchObject({
        event: 'run.succeeded',
        notification: 'ops',
        task: 'app',
        run: { id: run.id, status: 'Succeeded', trigger: 'Image Update', outputImages: [{ reference: `127.0.0.1:5998/app:${run.id}`, digest: digest(9) }], startedAt: run.startedAt, finishedAt: run.finishedAt },
        cause: { kind: 'image-update', base: BASE_REF, oldDigest: digest(1), newDigest: digest(2), source: 'distribution', deliveryId: 'push-2' },
      });

      const listed = await cli(['notification', 'deliveries', '--name', 'ops']);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(new RegExp(`^${String(request.body.deliveryId)}\\s+run\\.succeeded\\s+${run.id}\\s+delivered\\s+1\\s+\\S+Z\\s+HTTP 200\\s+delivered on attempt 1$`, 'm'));
    } finally {
      await receiver.close();
    }
  });

  it('that failed gets one delivery that says why', async () => {
    const receiver = await startReceiver();
    try {
      await api('DELETE', '/api/notifications/ops');
      await addNotification('ops', receiver.url);
      expect((await api('POST', '/api/tasks/web/runs', {})).status).toBe(202);
      const run = await finishNewest('web', digest(2), 'Failed', 'the build failed: exit 1');
      await settled();
      expect(receiver.received.map((r) => r.body)).toEqual([
        expect.objectContaining({ event: 'run.failed', task: 'web', run: expect.objectContaining({ id: run.id, status: 'Failed', statusDetail: 'the build failed: exit 1' }), cause: expect.objectContaining({ kind: 'manual' }) }),
      ]);
      expect(receiver.received[0]?.headers['x-cascade-event']).toBe('run.failed');
    } finally {
      expect((await cli(['notification', 'remove', '--name', 'ops'])).code).toBe(0);
      await receiver.close();
    }
  });
});

describe('a receiver that fails', () => {
  it('answering 500 three times and then 200 gets the delivery again until it is delivered, 4 attempts listed', async () => {
    const receiver = await startReceiver((n, res) => void res.writeHead(n < 3 ? 500 : 200).end());
    try {
      const { secret } = await addNotification('flaky', receiver.url, '--events', 'run.succeeded');
      expect((await api('POST', '/api/tasks/app/runs', {})).status).toBe(202);
      const run = await finishNewest('app', digest(2));
      const [delivery] = await eventually('the delivery', () => deliveriesOf('flaky'), (d) => d[0]?.status !== undefined && d[0].status !== 'pending');
      expect(delivery).toMatchObject({ event: 'run.succeeded', runId: run.id, status: 'delivered', detail: 'delivered on attempt 4' });
      expect(delivery?.attempts.map((a) => [a.number, a.httpStatus])).toEqual([[1, 500], [2, 500], [3, 500], [4, 200]]);
      const times = delivery!.attempts.map((a) => Date.parse(a.at));
      // The waits double: 100, 200 and 400 ms (at least), as the schedule says.
      expect(times.slice(1).map((t, i) => t - times[i]! >= [100, 200, 400][i]!)).toEqual([true, true, true]);
      // One delivery, four times the same bytes, signed.
      await settled();
      expect(receiver.received).toHaveLength(4);
      expect(new Set(receiver.received.map((r) => r.raw.toString('base64'))).size).toBe(1);
      expect(new Set(receiver.received.map((r) => r.headers['x-cascade-delivery'])).size).toBe(1);
      expect(receiver.received.every((r) => verifySignature(secret, r))).toBe(true);

      const json = await cli(['notification', 'deliveries', '--name', 'flaky', '--output', 'json']);
      expect((JSON.parse(json.stdout) as DeliveryView[])[0]?.attempts).toHaveLength(4);

      // No record holds the secret: the notification keeps a reference to it, its deliveries nothing of it.
      const { Items = [] } = await stack.dynamo.client.send(new ScanCommand({ TableName: stack.dynamo.tableName }));
      const records = JSON.stringify(Items);
      expect(records).toMatch(/"secretRef":"local:notification\/flaky\//);
      expect(records).toContain('"attempts"');
      expect(records.includes(secret)).toBe(false);
    } finally {
      await cli(['notification', 'remove', '--name', 'flaky']);
      await receiver.close();
    }
  });

  it('that never answers holds neither the build nor the run up, and its deliveries end failed with their attempts', async () => {
    const receiver = await startReceiver(() => undefined);
    try {
      await addNotification('silent', receiver.url, '--events', 'run.started,run.succeeded');
      const started = await api<Run>('POST', '/api/tasks/app/runs', {});
      expect(started.body.status).toBe('Running');
      expect(builder.building()).toContain(started.body.id);
      // The start was answered while its delivery is queued or still waits on the receiver: it was not waited for.
      expect((await deliveriesOf('silent')).filter((d) => d.status !== 'pending')).toEqual([]);

      const run = await finishNewest('app', digest(2));
      expect(run.status).toBe('Succeeded');
      // Recorded while the deliveries are still being tried: a waited-for delivery would have ended first.
      expect((await deliveriesOf('silent')).filter((d) => d.status !== 'pending')).toEqual([]);

      const deliveries = await eventually('the deliveries', () => deliveriesOf('silent'), (ds) => ds.length === 2 && ds.every((d) => d.status !== 'pending'));
      expect(deliveries.map((d) => d.event).sort()).toEqual(['run.started', 'run.succeeded']);
      for (const delivery of deliveries) {
        expect(delivery.status).toBe('failed');
        expect(delivery.attempts.length).toBeGreaterThanOrEqual(2);
        expect(delivery.attempts.every((a) => a.error === 'no answer within 1500 ms' && a.durationMs >= 1400)).toBe(true);
        expect(delivery.detail).toMatch(new RegExp(`^no answer within 1500 ms; given up after ${delivery.attempts.length} attempt\\(s\\)`));
      }
      const table = (await cli(['notification', 'deliveries', '--name', 'silent'])).stdout;
      // One row per attempt, its time and its error.
      expect(table.match(/Z {2}no answer within 1500 ms/g)?.length).toBe(deliveries.reduce((n, d) => n + d.attempts.length, 0));
    } finally {
      await cli(['notification', 'remove', '--name', 'silent']);
      await receiver.close();
    }
  });
});

describe('a deleted base', () => {
  it('tells the notifications of the tasks built from it', async () => {
    const receiver = await startReceiver();
    try {
      await addNotification('bases', receiver.url, '--events', 'base.deleted', '--task', 'web');
      await notifyRegistry(pushed('delete-1', digest(2), 'delete'));
      await settled();
      expect(receiver.received.map((r) => r.body)).toEqual([
        expect.objectContaining({ event: 'base.deleted', base: expect.objectContaining({ ref: BASE_REF }), tasks: ['web'], source: 'distribution', sourceDeliveryId: 'delete-1' }),
      ]);
      expect(receiver.received[0]?.headers['x-cascade-event']).toBe('base.deleted');
    } finally {
      await cli(['notification', 'remove', '--name', 'bases']);
      await receiver.close();
    }
  });
});

describe('the command line and the API', () => {
  it('adds, lists without the secret, tests, lists deliveries and removes', async () => {
    const receiver = await startReceiver();
    try {
      const added = await cli(['notification', 'add', '--name', 'chat', '--url', `${receiver.url}/services/T0/B0/SECRETPART`, '--format', 'slack', '--events', 'run.failed']);
      expect(added.code).toBe(0);
      expect(added.stdout).toContain(`URL:      ${receiver.url}/***`);
      const listed = await cli(['notification', 'list']);
      expect(listed.stdout).toMatch(/^chat {2}slack {3}run\.failed/m);
      expect(listed.stdout).not.toContain('SECRETPART');
      const tested = await cli(['notification', 'test', '--name', 'chat']);
      expect(tested.code).toBe(0);
      expect(tested.stdout).toMatch(/^Test delivery \S+ delivered: HTTP 200 after \d+ ms\.\n$/);
      expect(receiver.received.map((r) => r.body)).toEqual([{ text: 'cascade: test delivery of notification chat: it reaches its receiver' }]);
      expect(receiver.received[0]?.headers).not.toHaveProperty('x-cascade-signature-256');
      expect((await cli(['notification', 'deliveries', '--name', 'chat'])).stdout).toMatch(/^\S+\s+test\s+delivered\s+1\s/m);
      expect(await cli(['notification', 'remove', '--name', 'chat'])).toEqual({ code: 0, stdout: 'Removed notification "chat".\n', stderr: '' });
      expect((await cli(['notification', 'list'])).stdout).not.toContain('chat');
    } finally {
      await receiver.close();
    }
  });

  it('says a test that reached nobody failed, and exits 1', async () => {
    await addNotification('nobody', `http://127.0.0.1:${await freePort()}/hook`);
    const tested = await cli(['notification', 'test', '--name', 'nobody']);
    expect(tested).toMatchObject({ code: 1, stdout: '' });
    expect(tested.stderr).toMatch(/^Test delivery \S+ failed: connection refused; a test is tried once\.\n$/);
    await cli(['notification', 'remove', '--name', 'nobody']);
  });

  it.each<[string, unknown, number, RegExp]>([
    ['a name outside the grammar', { name: 'bad name', url: 'https://a.example.com/' }, 400, /^name: must be 1-50 letters/],
    ['an ftp URL', { name: 'n1', url: 'ftp://a.example.com/' }, 400, /^url: cascade posts to http or https URLs, not "ftp:"/],
    ['a URL with a password', { name: 'n1', url: 'https://u:pw@a.example.com/' }, 400, /^url: must not carry a user or password/],
    ['an unknown event', { name: 'n1', url: 'https://a.example.com/', events: ['run.succeeded', 'run.exploded'] }, 400, /^events: unknown event "run\.exploded"/],
    ['a format it does not know', { name: 'n1', url: 'https://a.example.com/', format: 'xml' }, 400, /^format: /],
    ['a field it does not know', { name: 'n1', url: 'https://a.example.com/', secret: 'mine' }, 400, /unknown field\(s\): secret/],
    ['a task that does not exist', { name: 'n1', url: 'https://a.example.com/', task: 'nobody' }, 404, /task "nobody" was not found/],
  ])('refuses %s, adding nothing', async (_what, body, status, message) => {
    const answer = await api<{ error: { message: string } }>('POST', '/api/notifications', body);
    expect(answer.status).toBe(status);
    expect(answer.body.error.message).toMatch(message);
    expect((await api<{ notifications: unknown[] }>('GET', '/api/notifications')).body.notifications).toEqual([]);
  });

  it('refuses a second notification of one name, and says what it does not know', async () => {
    await addNotification('once', 'https://a.example.com/');
    expect((await api('POST', '/api/notifications', { name: 'once', url: 'https://b.example.com/' })).status).toBe(409);
    for (const [method, path] of [['DELETE', '/api/notifications/nobody'], ['POST', '/api/notifications/nobody/test'], ['GET', '/api/notifications/nobody/deliveries']] as const) {
      expect((await api(method, path)).status).toBe(404);
    }
    expect((await api('GET', '/api/notifications/once/deliveries?top=0')).status).toBe(400);
    const missing = await cli(['notification', 'deliveries', '--name', 'nobody']);
    expect(missing).toEqual({ code: 1, stdout: '', stderr: 'error: notification "nobody" was not found\n' });
    await cli(['notification', 'remove', '--name', 'once']);
  });
});

describe('the secrets', () => {
  it('appear nowhere but in the answer that made each: not in logs, lists, deliveries or errors', async () => {
    expect(secrets.length).toBeGreaterThanOrEqual(6);
    const readBack = said.filter((line) => !/^POST \/api\/notifications 201 /.test(line)).join('\n');
    for (const secret of secrets) expect({ leaked: readBack.includes(secret) }).toEqual({ leaked: false });
    // The log is not empty of what happened: the check above read something.
    expect(readBack).toMatch(/POST \/api\/notifications 201/);
  });
});
