// The HTTP sender against real receivers on 127.0.0.1: what it answers for an answer, a slow or
// silent receiver, a closed port and a redirect; never a throw.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { HttpNotificationSender, reasonOf, retryAfterOf } from '../../../lib/adapters/http-notification-sender';
import { freePort } from '../../../lib/local/free-port';

interface Receiver {
  url: string;
  requests: Array<{ method: string; headers: IncomingMessage['headers']; body: string }>;
  close(): Promise<void>;
}

async function receiver(answer: (res: ServerResponse) => void): Promise<Receiver> {
  const requests: Receiver['requests'] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      answer(res);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    requests,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((done) => server.close(() => done()));
    },
  };
}

const sender = new HttpNotificationSender();
const post = (url: string, timeoutMs = 2000) => sender.post({ url, headers: { 'content-type': 'application/json', 'x-cascade-delivery': 'd-1' }, body: '{"event":"test"}', timeoutMs });

let open: Receiver | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

it('POSTs the body and headers as given, and answers the status', async () => {
  open = await receiver((res) => res.writeHead(202).end('accepted'));
  expect(await post(open.url)).toEqual({ status: 202 });
  expect(open.requests).toEqual([{ method: 'POST', headers: expect.objectContaining({ 'content-type': 'application/json', 'x-cascade-delivery': 'd-1' }), body: '{"event":"test"}' }]);
});

it("answers a 5xx with the receiver's Retry-After", async () => {
  open = await receiver((res) => res.writeHead(503, { 'retry-after': '7' }).end());
  expect(await post(open.url)).toEqual({ status: 503, retryAfterMs: 7000 });
});

it('does not follow a redirect', async () => {
  open = await receiver((res) => res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end());
  expect(await post(open.url)).toEqual({ status: 302 });
  expect(open.requests).toHaveLength(1);
});

it('gives up on a receiver that never answers after the timeout', async () => {
  open = await receiver(() => undefined);
  expect(await post(open.url, 300)).toEqual({ error: 'no answer within 300 ms' });
  // The receiver still holds the request: it was the sender's timeout that ended the attempt.
  expect(open.requests).toHaveLength(1);
});

it('says a closed port refused the connection, without the URL', async () => {
  const port = await freePort();
  const outcome = await post(`http://127.0.0.1:${port}/secret-path-token`);
  expect(outcome).toEqual({ error: 'connection refused' });
});

it.each<[string, unknown, string]>([
  ['a timeout', Object.assign(new Error('aborted'), { name: 'TimeoutError' }), 'no answer within 10 s'],
  ['an unknown host', Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND x' } }), 'the host name could not be resolved'],
  ['a reset', Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } }), 'the connection was closed before an answer'],
  ['a certificate', Object.assign(new TypeError('fetch failed'), { cause: { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' } }), 'the request failed (DEPTH_ZERO_SELF_SIGNED_CERT)'],
  ['anything else', new Error('https://user@host/secret failed'), 'the request failed'],
])('says %s in a few words', (_what, error, reason) => {
  expect(reasonOf(error, 10_000)).toBe(reason);
});

it.each<[string | null, number | undefined]>([
  [null, undefined],
  ['120', 120_000],
  ['Wed, 21 Oct 2015 07:28:00 GMT', 0],
  ['Thu, 01 Jan 2099 00:00:10 GMT', Date.parse('2099-01-01T00:00:10Z') - Date.parse('2099-01-01T00:00:00Z')],
  ['soon', undefined],
])('reads Retry-After %s as %s ms', (value, ms) => {
  expect(retryAfterOf(value, Date.parse('2099-01-01T00:00:00Z'))).toBe(ms);
});

describe('addresses no delivery goes to', () => {
  const names: Record<string, string[]> = { 'metadata.example': ['169.254.169.254'], 'mixed.example': ['10.0.0.5', 'fe80::1'], 'lan.example': ['10.0.0.5'] };
  const fetched: string[] = [];
  const fake: typeof fetch = async (input) => {
    fetched.push(String(input));
    return new Response(null, { status: 204 });
  };
  const post = (s: HttpNotificationSender, url: string) => s.post({ url, headers: {}, body: '{}', timeoutMs: 1000 });
  const resolve = async (host: string) => names[host] ?? [];

  it.each([
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['http://[fe80::1]:8080/hook', 'fe80::1'],
    ['http://[fd00:ec2::254]/', 'fd00:ec2::254'],
    ['https://metadata.example/hook', '169.254.169.254'],
    ['https://mixed.example/hook', 'fe80::1'],
  ])('refuses %s (%s), without a request, and for good', async (url, address) => {
    fetched.length = 0;
    const outcome = await post(new HttpNotificationSender({ fetch: fake, resolve }), url);
    expect(outcome).toEqual({ refused: `the receiver's address ${address} is one notifications are not sent to (link-local)` });
    expect(fetched).toEqual([]);
  });

  it('sends to loopback and private addresses', async () => {
    const sender = new HttpNotificationSender({ fetch: fake, resolve });
    expect(await post(sender, 'http://127.0.0.1:9/hook')).toEqual({ status: 204 });
    expect(await post(sender, 'http://[::1]/hook')).toEqual({ status: 204 });
    expect(await post(sender, 'https://lan.example/hook')).toEqual({ status: 204 });
  });
});
