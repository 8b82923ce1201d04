// Secrets stay secret through failure and success alike: registry passwords (right and wrong),
// a stored push login, webhook secrets and a notification's signing secret never appear in a log
// line, an error, a run record, a delivery, a run's build log or any answer of the API (nor in
// the deliveries signed with it). Real buildah and a real registry with passwords;
// what the drill reads is also logged, so the suite-wide scan (test/global-teardown.cjs) sees it.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Run } from '../../lib/domain/types';
import { startLocalStack, type LocalStack } from '../../lib/local/stack';
import { startRegistry, type RegistryProcess } from '../../lib/local/registry-process';
import { pushImage } from '../support/registry';
import { rememberSecrets } from '../support/secrets';

jest.setTimeout(180_000);

const secret = () => `${randomBytes(9).toString('base64url')}-s3cr3t`;
const PASSWORDS = { pull: secret(), wrongPull: secret(), push: secret() };
rememberSecrets(...Object.values(PASSWORDS));

let work: string;
let stack: LocalStack;
let registry: RegistryProcess;
/** Everything cascade said during the drill: log lines and API answers. */
const said: string[] = [];

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const answer = await fetch(`${stack.url}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await answer.text();
  said.push(`${method} ${path} ${answer.status} ${text}`);
  return { status: answer.status, text };
}

async function waitForRun(id: string): Promise<Run> {
  for (;;) {
    await stack.idle();
    const run = JSON.parse((await api('GET', `/api/runs/${id}`)).text) as Run;
    if (!['Queued', 'Running'].includes(run.status)) return run;
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cascade-secrets-'));
  registry = await startRegistry({ users: { puller: PASSWORDS.pull, pusher: PASSWORDS.push } });
  await pushImage(registry.url, 'base/tiny', '1', { env: ['TINY=1'] }, { username: 'pusher', password: PASSWORDS.push });
  stack = await startLocalStack({ port: 0, dataDir: join(work, 'cascade'), inMemory: true, log: (line) => said.push(line) });
  const context = join(work, 'context');
  await mkdir(context);
  await writeFile(join(context, 'Dockerfile'), `FROM ${registry.host}/base/tiny:1\nLABEL drill=secrets\n`);
  expect((await api('PUT', `/api/registries/${encodeURIComponent(registry.host)}/login`, { username: 'pusher', password: PASSWORDS.push })).status).toBe(204);
  const task = { name: 'app', registry: registry.host, images: ['app/secret-drill:{{.Run.ID}}'], context, file: 'Dockerfile', args: { NOT_A_SECRET: 'plain' } };
  expect((await api('POST', '/api/tasks', task)).status).toBe(201);
});

afterAll(async () => {
  await stack?.stop();
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

it('a wrong pull password fails the build with a reason that does not repeat it; the right one builds', async () => {
  // A notification of both runs, to a receiver here: its signing secret is handed out once, like a webhook's.
  const received: string[] = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(`${JSON.stringify(req.headers)} ${Buffer.concat(chunks).toString('utf8')}`);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const notification = JSON.parse((await api('POST', '/api/notifications', { name: 'drill', url: receiverUrl })).text) as { secret: string };
  rememberSecrets(notification.secret);
  expect((await api('POST', '/api/tasks/app/credentials', { loginServer: registry.host, username: 'puller', password: PASSWORDS.wrongPull })).status).toBe(200);
  const failed = JSON.parse((await api('POST', '/api/tasks/app/runs', {})).text) as Run;
  const failedRun = await waitForRun(failed.id);
  expect(failedRun.status).toBe('Failed');
  expect(failedRun.error).toMatch(/pulling .*base\/tiny:1 failed/);

  expect((await api('POST', '/api/tasks/app/credentials', { loginServer: registry.host, username: 'puller', password: PASSWORDS.pull })).status).toBe(200);
  const built = JSON.parse((await api('POST', '/api/tasks/app/runs', {})).text) as Run;
  expect((await waitForRun(built.id)).status).toBe('Succeeded');

  const hook = JSON.parse((await api('POST', '/api/webhooks', { name: 'registry', provider: 'distribution' })).text) as { secret: string };
  const rotated = JSON.parse((await api('POST', '/api/webhooks/registry/rotate-secret')).text) as { secret: string };
  rememberSecrets(hook.secret, rotated.secret);
  // A wrong token is refused without repeating what was sent or what was expected.
  const refused = await fetch(`${stack.url}/webhooks/registry`, { method: 'POST', headers: { authorization: `Bearer ${PASSWORDS.wrongPull}`, 'content-type': 'application/json' }, body: '{"events":[]}' });
  said.push(`POST /webhooks/registry ${refused.status} ${await refused.text()}`);

  // Both runs' notifications were delivered (signed with the secret, which they do not carry).
  await stack.notificationQueue.idle();
  expect(received).toHaveLength(2);
  said.push(...received.map((r) => `receiver got: ${r}`));
  receiver.close();
  expect((await api('POST', '/api/notifications/drill/test')).status).toBe(200);

  // Everything a user can read back.
  for (const path of ['/api/runs?top=100', `/api/runs/${failed.id}`, `/api/runs/${failed.id}/log`, `/api/runs/${built.id}/log`, '/api/tasks/app', '/api/tasks', '/api/webhooks', '/api/webhooks/registry', '/api/notifications', '/api/notifications/drill/deliveries']) {
    expect((await api('GET', path)).status).toBe(200);
  }
  const everything = said.join('\n');
  expect(everything).toContain('pulling'); // the failure's reason is in what was read
  for (const [name, value] of Object.entries({ ...PASSWORDS, webhook: hook.secret, rotated: rotated.secret, notification: notification.secret })) {
    // The answers that hand a new webhook or notification secret out are the only place it may be.
    const readBack = said.filter((line) => !/^POST \/api\/(webhooks(\/registry\/rotate-secret)?|notifications) 20/.test(line)).join('\n');
    expect({ name, leaked: readBack.includes(value) }).toEqual({ name, leaked: false });
  }
  // Into the suite's capture: the global scan reads every line of it.
  for (const line of said) console.log(`secrets drill: ${line.replace(/^(POST \/api\/(?:webhooks(?:\/registry\/rotate-secret)?|notifications) 20\d) .*$/, '$1 <the secret, handed out once>')}`);
});
