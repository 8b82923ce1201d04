// `cascade up --tls-cert --tls-key --public-url`: the stack speaks HTTPS with the given files,
// the webhook URLs it hands out name the public URL, and it answers for that host.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startLocalStack, type LocalStack } from '../../../lib/local/stack';
import { rememberSecrets } from '../../support/secrets';

jest.setTimeout(120_000);

let work: string;
let ca: Buffer;
let stack: LocalStack;
const lines: string[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cascade-tls-'));
  const [cert, key] = [join(work, 'cert.pem'), join(work, 'key.pem')];
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=cascade test',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:cascade.example.com', '-keyout', key, '-out', cert,
  ]);
  ca = await readFile(cert);
  stack = await startLocalStack({
    port: 0,
    dataDir: join(work, 'data'),
    inMemory: true,
    sources: null,
    pollIntervalSeconds: 0,
    timerTickMs: 0,
    tls: { certFile: cert, keyFile: key },
    publicUrl: 'https://cascade.example.com/',
    log: (line) => lines.push(line),
  });
});

afterAll(async () => {
  await stack?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

function send(method: string, path: string, host: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const bytes = body === undefined ? '' : JSON.stringify(body);
  return new Promise((done, fail) => {
    const req = request(
      `${stack.url}${path}`,
      { method, ca, agent: false, servername: 'cascade.example.com', headers: { host, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(bytes)) } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => done({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as unknown) : undefined }));
      },
    );
    req.on('error', fail);
    req.end(bytes);
  });
}

it('serves HTTPS at its own URL, with the certificate given', async () => {
  expect(stack.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  expect(stack.publicUrl).toBe('https://cascade.example.com');
  expect(await send('GET', '/health', `127.0.0.1:${stack.port}`)).toEqual({ status: 200, json: { status: 'ok' } });
  // Plain HTTP on the same port is not served.
  await expect(fetch(stack.url.replace('https:', 'http:') + '/health')).rejects.toThrow();
});

it('hands out webhook URLs on the public URL, and answers for that host', async () => {
  const created = await send('POST', '/api/webhooks', 'cascade.example.com', { name: 'hub', provider: 'dockerhub' });
  expect(created.status).toBe(201);
  const hook = created.json as { url: string; secret?: string };
  if (hook.secret) rememberSecrets(hook.secret);
  expect(hook.url.startsWith('https://cascade.example.com/webhooks/hub')).toBe(true);
  expect((await send('GET', '/api/webhooks', 'cascade.example.com:443')).status).toBe(200);
  expect((await send('GET', '/api/webhooks', 'evil.example')).status).toBe(421);
});

it('on loopback with no token, says how to require one', () => {
  expect(lines.join('\n')).toContain('the API asks for no token: anyone on this machine may use it. To require one, run "cascade token create --name NAME --data-dir');
});
