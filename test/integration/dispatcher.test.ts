// The receiver and the dispatcher on the local stack's real parts (DynamoDB Local, the HTTP
// server, the in-process queue), with a builder that records start requests instead of building.
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Run } from '../../lib/domain/types';
import { startLocalStack, type LocalStack } from '../../lib/local/stack';
import { RecordingBuilder } from '../support/recording-builder';
import { rememberSecrets } from '../support/secrets';

jest.setTimeout(120_000);

const BASE = '127.0.0.1:5999';
const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;

/** What the builds pull: each build reports it built from this digest of the base. */
let currentBase = digest(1);

let work: string;
let stack: LocalStack;
let builder: RecordingBuilder;
let registryHook: { url: string; secret: string };
let secondRoute: { url: string; secret: string };
let githubHook: { url: string; secret: string };

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const answer = await fetch(`${stack.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  return { status: answer.status, body: (text ? JSON.parse(text) : undefined) as T };
}

function envelope(id: string, tagDigest: string, timestamp: string, tag = '9-alpine'): string {
  return JSON.stringify({
    events: [
      {
        id,
        timestamp,
        action: 'push',
        target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: tagDigest, repository: 'baseimages/node', tag, size: 500, length: 500 },
        request: { id: `r-${id}`, addr: '127.0.0.1:1', host: BASE, method: 'PUT', useragent: 'test' },
        actor: { name: 'basepush' },
        source: { addr: 'test:5000', instanceID: 'i' },
      },
    ],
  });
}

function notify(hook: { url: string; secret: string }, body: string, token = hook.secret, contentType = 'application/vnd.docker.distribution.events.v1+json') {
  return fetch(hook.url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body });
}

async function runsOf(task: string): Promise<Run[]> {
  return (await api<{ runs: Run[] }>('GET', `/api/runs?task=${task}&top=100`)).body.runs;
}

async function createTask(name: string, extra: Record<string, unknown> = {}): Promise<void> {
  const created = await api('POST', '/api/tasks', {
    name,
    registry: '127.0.0.1:5998',
    images: [`${name}:{{.Run.ID}}`],
    context: 'https://github.com/Example/App.git#main',
    file: 'Dockerfile-app',
    args: { REGISTRY_NAME: BASE },
    ...extra,
  });
  expect(created.status).toBe(201);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'cascade-dispatch-'));
  stack = await startLocalStack({
    port: 0,
    dataDir: work,
    inMemory: true,
    log: (line) => console.log(line),
    builder: (report) =>
      (builder = new RecordingBuilder({
        report,
        finishEach: (request) => ({
          outputImages: [{ reference: `${request.spec.registry}/${request.spec.images[0]}`, digest: digest(9) }],
          baseImages: [{ registry: BASE, repository: 'baseimages/node', tag: '9-alpine', digest: currentBase, stage: 'runtime', pinned: false }],
        }),
      })),
    // The tasks' git context is not reachable here: skip reading the Dockerfile at creation.
    sources: null,
  });
  registryHook = (await api<{ url: string; secret: string }>('POST', '/api/webhooks', { name: 'base', provider: 'distribution' })).body;
  secondRoute = (await api<{ url: string; secret: string }>('POST', '/api/webhooks', { name: 'base-mirror', provider: 'distribution' })).body;
  githubHook = (await api<{ url: string; secret: string }>('POST', '/api/webhooks', { name: 'gh', provider: 'github' })).body;
  rememberSecrets(registryHook.secret, secondRoute.secret, githubHook.secret);
  await createTask('app');
  await createTask('paused');
  expect((await api('POST', '/api/tasks/app/runs', {})).status).toBe(202);
  expect((await api('POST', '/api/tasks/paused/runs', {})).status).toBe(202);
  await stack.idle();
  expect((await api('PATCH', '/api/tasks/paused', { baseImageTriggerEnabled: false })).status).toBe(200);
});

afterAll(async () => {
  await stack?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('dependency capture', () => {
  it('records the base the first run pulled', async () => {
    const shown = await api<{ dependenciesCaptured: boolean; dependencies: Array<Record<string, unknown>> }>('GET', '/api/tasks/app');
    expect(shown.body.dependenciesCaptured).toBe(true);
    expect(shown.body.dependencies).toEqual([
      expect.objectContaining({ registry: BASE, repository: 'baseimages/node', tag: '9-alpine', digest: digest(1), stage: 'runtime', capturedByRun: 'da1' }),
    ]);
  });
});

describe('image events', () => {
  it('starts one build per dependent task for one delivery sent ten times, then twenty times at once through two routes', async () => {
    currentBase = digest(2);
    const before = builder.started.length;
    const body = envelope('delivery-2', digest(2), '2026-11-28T05:00:00.000Z');
    for (let i = 0; i < 10; i += 1) expect((await notify(registryHook, body)).status).toBe(202);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => notify(i % 2 ? registryHook : secondRoute, envelope(`delivery-2-${i}`, digest(2), '2026-11-28T05:00:00.000Z'))),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(202));
    await stack.idle();
    const started = builder.started.slice(before);
    expect(started.map((s) => s.spec.images[0])).toEqual(['app:da3']);
    const [run] = await runsOf('app');
    expect(run).toEqual(
      expect.objectContaining({
        trigger: 'Image Update',
        status: 'Succeeded',
        cause: expect.objectContaining({ base: `${BASE}/baseimages/node:9-alpine`, oldDigest: digest(1), newDigest: digest(2) }),
      }),
    );
    // The paused task saw the change but did not build.
    expect((await runsOf('paused')).map((r) => r.trigger)).toEqual(['Manual']);
  });

  it('answers a redelivery with the reason it was ignored', async () => {
    const answer = await notify(registryHook, envelope('delivery-2', digest(2), '2026-11-28T05:00:00.000Z'));
    expect(await answer.json()).toEqual({ accepted: 0, ignored: [{ reason: 'delivery delivery-2 was already received' }] });
  });

  it('does not build an older digest that arrives late', async () => {
    const before = builder.started.length;
    expect((await notify(registryHook, envelope('late-1', digest(1), '2026-11-28T04:00:00.000Z'))).status).toBe(202);
    await stack.idle();
    expect(builder.started.length).toBe(before);
    expect((await runsOf('app')).length).toBe(2);
  });

  it('ignores a tag nobody depends on, and blob pushes', async () => {
    const before = builder.started.length;
    expect((await notify(registryHook, envelope('other-tag', digest(3), '2026-11-28T06:00:00.000Z', '10-alpine'))).status).toBe(202);
    const blob = JSON.parse(envelope('blob-1', digest(4), '2026-11-28T06:00:00.000Z')) as { events: Array<{ target: Record<string, unknown> }> };
    (blob.events[0] as { target: Record<string, unknown> }).target.mediaType = 'application/octet-stream';
    const answer = await notify(registryHook, JSON.stringify(blob));
    expect(answer.status).toBe(202);
    expect(((await answer.json()) as { accepted: number }).accepted).toBe(0);
    await stack.idle();
    expect(builder.started.length).toBe(before);
  });

  it('writes neither claim nor run when the run cannot be opened, so the queue\'s retry builds once', async () => {
    currentBase = digest(6);
    const before = builder.started.length;
    const fault = jest.spyOn(stack.cascade.runs, 'openTaskRuns').mockRejectedValueOnce(new Error('DynamoDB unavailable'));
    expect((await notify(registryHook, envelope('fault-1', digest(6), '2026-11-28T08:00:00.000Z'))).status).toBe(202);
    await stack.idle();
    expect(fault).toHaveBeenCalledTimes(2);
    fault.mockRestore();
    expect(builder.started.slice(before).map((s) => s.spec.images[0]?.split(':')[0])).toEqual(['app']);
    const [run] = await runsOf('app');
    expect(run?.cause).toEqual(expect.objectContaining({ newDigest: digest(6), deliveryId: 'fault-1' }));
  });

  it.each([
    { why: 'a wrong token', send: () => notify(registryHook, envelope('x1', digest(5), '2026-11-28T07:00:00.000Z'), 'wrong'), status: 401 },
    { why: 'an unsupported content type', send: () => notify(registryHook, envelope('x2', digest(5), '2026-11-28T07:00:00.000Z'), undefined, 'text/plain'), status: 415 },
    { why: 'a malformed body', send: () => notify(registryHook, '{"events": 3'), status: 400 },
    { why: 'a body over 1 MB', send: () => notify(registryHook, 'x'.repeat(1024 * 1024 + 1)), status: 413 },
    { why: 'an unknown webhook', send: () => notify({ url: `${stack.url}/webhooks/nope`, secret: 's' }, '{}'), status: 404 },
  ])('refuses $why with $status and a JSON reason, starting nothing', async ({ send, status }) => {
    const before = builder.started.length;
    const answer = await send();
    expect(answer.status).toBe(status);
    expect(((await answer.json()) as { error: { message: string } }).error.message).toEqual(expect.any(String));
    await stack.idle();
    expect(builder.started.length).toBe(before);
  });
});

describe('webhook secrets', () => {
  it('accepts the old and the new secret during a rotation, and only the new one after it', async () => {
    const created = (await api<{ url: string; secret: string }>('POST', '/api/webhooks', { name: 'rotating', provider: 'distribution' })).body;
    const rotated = await api<{ secret: string; secrets: number; instructions: string }>('POST', '/api/webhooks/rotating/rotate-secret');
    expect(rotated.status).toBe(200);
    rememberSecrets(created.secret, rotated.body.secret);
    expect(rotated.body.secrets).toBe(2);
    expect(rotated.body.secret).not.toBe(created.secret);
    expect(rotated.body.instructions).toContain(`Authorization: [Bearer ${rotated.body.secret}]`);
    const body = envelope('rotation-probe', digest(7), '2026-11-28T09:00:00.000Z', 'untracked');
    expect((await notify({ url: created.url, secret: created.secret }, body)).status).toBe(202);
    expect((await notify({ url: created.url, secret: rotated.body.secret }, body)).status).toBe(202);
    expect((await api('POST', '/api/webhooks/rotating/complete-rotation')).status).toBe(200);
    expect((await notify({ url: created.url, secret: created.secret }, body)).status).toBe(401);
    expect((await notify({ url: created.url, secret: rotated.body.secret }, body)).status).toBe(202);
    const listed = await api<{ webhooks: Array<{ name: string; secrets: number }> }>('GET', '/api/webhooks');
    expect(JSON.stringify(listed.body)).not.toContain(rotated.body.secret);
    expect(listed.body.webhooks.find((w) => w.name === 'rotating')?.secrets).toBe(1);
  });

  it('refuses a secret in the URL for a provider that authenticates with a header', async () => {
    const answer = await notify({ url: `${registryHook.url}/${registryHook.secret}`, secret: registryHook.secret }, '{"events":[]}');
    expect(answer.status).toBe(401);
  });
});

describe('deletes', () => {
  it('marks the dependency of every task on a deleted tag, and starts nothing', async () => {
    const before = builder.started.length;
    const deleted = JSON.parse(envelope('delete-1', digest(6), '2026-11-28T10:00:00.000Z')) as { events: Array<Record<string, unknown>> };
    (deleted.events[0] as Record<string, unknown>).action = 'delete';
    expect((await notify(registryHook, JSON.stringify(deleted))).status).toBe(202);
    await stack.idle();
    expect(builder.started.length).toBe(before);
    for (const task of ['app', 'paused']) {
      const shown = await api<{ dependencies: Array<{ tagGoneAt?: string }> }>('GET', `/api/tasks/${task}`);
      expect(shown.body.dependencies[0]?.tagGoneAt).toBe('2026-11-28T10:00:00.000Z');
    }
  });
});

describe('git events', () => {
  const push = (ref: string, after: string) =>
    JSON.stringify({ ref, after, deleted: false, repository: { full_name: 'Example/App', clone_url: 'https://github.com/example/app.git' } });
  const send = (body: string, delivery: string) =>
    fetch(githubHook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': delivery,
        'x-hub-signature-256': `sha256=${createHmac('sha256', githubHook.secret).update(body).digest('hex')}`,
      },
      body,
    });

  it('starts a Git Commit run for each task on that repository and branch, once per commit', async () => {
    const commit = 'a'.repeat(40);
    expect((await send(push('refs/heads/main', commit), 'gh-1')).status).toBe(202);
    expect((await send(push('refs/heads/main', commit), 'gh-1-redelivered')).status).toBe(202);
    expect((await send(push('refs/tags/v1', 'b'.repeat(40)), 'gh-2')).status).toBe(202);
    expect((await send(push('refs/heads/other', 'c'.repeat(40)), 'gh-3')).status).toBe(202);
    await stack.idle();
    for (const task of ['app', 'paused']) {
      const commits = (await runsOf(task)).filter((r) => r.trigger === 'Git Commit');
      expect(commits.map((r) => [r.commit, r.branch, r.status])).toEqual([[commit, 'main', 'Succeeded']]);
    }
  });
});
