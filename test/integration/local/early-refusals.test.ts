// A request refused before its body is read is answered, and its sender reads that answer: the
// rest of the body is read and thrown away before the connection closes, so a client that writes
// the whole body before it reads (node's http.request here, Python's urllib) sees the status,
// never a reset.
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { startHttpServer, type LocalServer } from '../../../lib/local/http-server';
import { MAX_WEBHOOK_BODY_BYTES } from '../../../lib/domain/webhook-service';
import { json } from '../../../lib/http/types';

jest.setTimeout(300_000);

const OVERSIZED = Buffer.alloc(MAX_WEBHOOK_BODY_BYTES + 200_000, 0x61);

let server: LocalServer;
let handled = 0;

beforeAll(async () => {
  server = await startHttpServer(
    async () => {
      handled++;
      return json(202, { accepted: true });
    },
    {
      port: 0,
      screen: async (head) => (head.headers.host?.startsWith('evil.example') ? json(421, { error: { code: 'misdirected_request', message: 'not this host' } }) : undefined),
    },
  );
});
afterAll(() => server.close());

/** Writes the whole body, then reads; the length is declared or (chunked) not. */
function deliver(body: Buffer, options: { chunked?: boolean; host?: string } = {}): Promise<{ status?: number; error?: string; body: string }> {
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { 'content-type': 'application/json' };
    if (!options.chunked) headers['content-length'] = body.length;
    if (options.host) headers.host = options.host;
    const req = request(`${server.url}/webhooks/hub`, { method: 'POST', headers, agent: false });
    let answer: { status?: number; body: string } | undefined;
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        answer = { status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') };
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ status: answer?.status, error: error.code ?? error.message, body: answer?.body ?? '' }));
    req.on('close', () => resolve(answer ?? { error: 'closed without an answer', body: '' }));
    // In 64 KiB pieces, as a client streaming a body does: most of it goes after the refusal.
    for (let at = 0; at < body.length; at += 65_536) req.write(body.subarray(at, at + 65_536));
    req.end();
  });
}

async function deliverMany(count: number, concurrency: number, options: Parameters<typeof deliver>[1]) {
  const outcomes = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        const outcome = await deliver(OVERSIZED, options);
        const key = outcome.error ? `error ${outcome.error}` : `status ${outcome.status}`;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }
    }),
  );
  return Object.fromEntries(outcomes);
}

test("node's http.request, writing all of 200 oversized bodies with a declared length, reads 413 each time", async () => {
  expect(await deliverMany(200, 8, {})).toEqual({ 'status 413': 200 });
  expect(handled).toBe(0);
});

test('oversized chunked deliveries (no declared length) are cut at the limit and read 413', async () => {
  expect(await deliverMany(100, 4, { chunked: true })).toEqual({ 'status 413': 100 });
});

test('a refusal by the screen (a foreign Host) is read the same way, body and all', async () => {
  const answer = await deliver(OVERSIZED, { host: 'evil.example' });
  expect(answer).toEqual({ status: 421, body: JSON.stringify({ error: { code: 'misdirected_request', message: 'not this host' } }) });
  expect(await deliverMany(100, 4, { host: 'evil.example:80' })).toEqual({ 'status 421': 100 });
});

// Before the refusal waited for the body, 124 of these 1,000 saw a reset (URLError) on this machine.
test("1,000 oversized deliveries through Python's urllib, which reads only after sending everything, all read 413", async () => {
  const script = `
import sys, urllib.request, urllib.error
url, n = sys.argv[1], int(sys.argv[2])
body = b"a" * ${OVERSIZED.length}
seen = {}
for _ in range(n):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}), timeout=30) as r:
            key = "status %d" % r.status
    except urllib.error.HTTPError as e:
        key = "status %d" % e.code
    except Exception as e:
        key = "error %s" % type(e).__name__
    seen[key] = seen.get(key, 0) + 1
print(seen)
`;
  const child = spawn('python3', ['-c', script, `${server.url}/webhooks/hub`, '1000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  expect(code).toBe(0);
  expect(out.trim()).toBe("{'status 413': 1000}");
});

test('a body within the limit still reaches the handler', async () => {
  const before = handled;
  expect(await deliver(Buffer.from('{"ok":true}'))).toEqual({ status: 202, body: '{"accepted":true}' });
  expect(handled).toBe(before + 1);
});
