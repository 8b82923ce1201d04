// NotificationService on the in-memory ports, through createCascade as the stacks compose it: a
// run's transitions queue `notify` messages only; the queue's handler makes the deliveries and
// their attempts; retries follow the schedule; nothing a receiver or the queue does reaches a run.
import { createCascade, type Cascade } from '../../../lib/domain/cascade';
import { ConflictError, NotFoundError, ValidationError } from '../../../lib/domain/errors';
import { DEFAULT_RETRY, plannedAttempts } from '../../../lib/domain/notifications/retry';
import { signatureOf } from '../../../lib/domain/notifications/signature';
import type { QueueMessage } from '../../../lib/domain/ports';
import type { CreateTaskInput } from '../../../lib/domain/inputs';
import { memoryCascadePorts, type MemoryCascadePorts } from '../../support/memory-ports';

const OLD = `sha256:${'1'.repeat(64)}`;
const NEW = `sha256:${'2'.repeat(64)}`;
const BASE = { registry: '127.0.0.1:5000', repository: 'baseimages/node', tag: '9-alpine' };
const manual = { trigger: 'Manual' as const, cause: { kind: 'manual' as const } };

let ports: MemoryCascadePorts;
let cascade: Cascade;
let warnings: string[];

function task(name: string): CreateTaskInput {
  return {
    name,
    registry: '127.0.0.1:5001',
    images: [`${name}:{{.Run.ID}}`],
    context: 'https://git.example.com/app.git#main',
    file: 'Dockerfile',
    args: {},
    platform: 'linux/amd64',
    status: 'Enabled',
    baseImageTriggerEnabled: true,
    baseImageTriggerType: 'Runtime',
    commitTriggerEnabled: true,
  };
}

beforeEach(async () => {
  ports = memoryCascadePorts();
  warnings = [];
  cascade = createCascade({ ...ports, warn: (message) => warnings.push(message) });
  await cascade.tasks.create(task('app'));
  await cascade.tasks.create(task('web'));
});

/**
 * Hands every queued message to cascade.process, as the queue would, until none is left. A message
 * sent with a delay is handed over once the clock has moved on by it, as the queue holds it back.
 */
async function drain(): Promise<QueueMessage[]> {
  const handled: QueueMessage[] = [];
  let delayedSeen = 0;
  while (ports.queue.messages.length > 0) {
    const message = ports.queue.messages.shift() as QueueMessage;
    const delayed = ports.queue.delayed[delayedSeen];
    if (delayed && JSON.stringify(delayed.message) === JSON.stringify(message)) {
      ports.clock.advance(delayed.delayMs);
      delayedSeen += 1;
    }
    await cascade.process(message);
    handled.push(message);
  }
  return handled;
}

async function succeededRun(name = 'app') {
  const run = await cascade.runs.runTaskByName(name, manual);
  return cascade.runs.recordResult({ runId: run.id, status: 'Succeeded', finishedAt: ports.clock.now().toISOString(), outputImages: [], baseImages: [{ ...BASE, digest: OLD, stage: 'runtime', pinned: false }] });
}

describe('adding, listing and removing', () => {
  it('shows the secret once, when added; never in the list', async () => {
    const added = await cascade.notifications.add({ name: 'ops', url: 'https://hooks.example.com/cascade', format: 'json' });
    expect(added).toEqual({
      name: 'ops',
      url: 'https://hooks.example.com/cascade',
      events: ['run.succeeded', 'run.failed'],
      format: 'json',
      createdAt: '2026-11-28T05:00:00.000Z',
      secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const listed = await cascade.notifications.list();
    expect(listed).toEqual([{ name: 'ops', url: 'https://hooks.example.com/cascade', events: ['run.succeeded', 'run.failed'], format: 'json', createdAt: '2026-11-28T05:00:00.000Z' }]);
    expect(JSON.stringify(listed)).not.toContain(added.secret);
  });

  it('keeps the secret in the secret store, the record holding its reference only; removing the notification removes it', async () => {
    const { secret } = await cascade.notifications.add({ name: 'ops', url: 'https://a.example.com/', format: 'json' });
    const record = (await ports.notifications.get('ops'))!;
    expect(JSON.stringify(record)).not.toContain(secret);
    expect(await ports.secrets.get(record.secretRef)).toBe(secret);
    // A second add of the name is refused and leaves the first one's secret in place.
    await expect(cascade.notifications.add({ name: 'ops', url: 'https://b.example.com/', format: 'json' })).rejects.toThrow(ConflictError);
    expect([...ports.secrets.values.values()]).toEqual([secret]);
    await cascade.notifications.remove('ops');
    expect(ports.secrets.values.size).toBe(0);
  });

  it('fails a delivery at once, saying what to do, when the signing secret is gone', async () => {
    await cascade.notifications.add({ name: 'ops', url: 'https://a.example.com/', format: 'json' });
    ports.secrets.values.clear();
    const delivery = await cascade.notifications.test('ops');
    expect(delivery).toMatchObject({ status: 'failed', detail: 'the signing secret of notification ops is missing: remove the notification and add it again', attempts: [expect.objectContaining({ error: 'not sent: the signing secret is missing' })] });
    expect(ports.notificationSender.requests).toEqual([]);
  });

  it.each([
    ['a name that is taken', { name: 'ops', url: 'https://b.example.com/', format: 'json' as const }, ConflictError, /already exists/],
    ['a task that does not exist', { name: 'other', url: 'https://b.example.com/', format: 'json' as const, task: 'nobody' }, NotFoundError, /task "nobody" was not found/],
    ['a URL with credentials', { name: 'other', url: 'https://u:p@b.example.com/', format: 'json' as const }, ValidationError, /must not carry a user or password/],
    ['an unknown event', { name: 'other', url: 'https://b.example.com/', format: 'json' as const, events: ['run.done'] }, ValidationError, /unknown event "run.done"/],
  ])('refuses %s, writing nothing', async (_what, input, error, message) => {
    await cascade.notifications.add({ name: 'ops', url: 'https://a.example.com/', format: 'json' });
    await expect(cascade.notifications.add(input)).rejects.toThrow(error);
    await expect(cascade.notifications.add(input)).rejects.toThrow(message);
    expect((await cascade.notifications.list()).map((n) => n.url)).toEqual(['https://a.example.com/']);
  });

  it('removes a notification with its deliveries; an unknown one is a 404', async () => {
    await cascade.notifications.add({ name: 'ops', url: 'https://a.example.com/', format: 'json' });
    await cascade.notifications.test('ops');
    await cascade.notifications.remove('ops');
    expect(await cascade.notifications.list()).toEqual([]);
    await expect(cascade.notifications.deliveries('ops', 20)).rejects.toThrow(NotFoundError);
    await expect(cascade.notifications.remove('ops')).rejects.toThrow(NotFoundError);
    await cascade.notifications.add({ name: 'ops', url: 'https://a.example.com/', format: 'json' });
    expect(await cascade.notifications.deliveries('ops', 20)).toEqual([]);
  });
});

describe('a run that ends', () => {
  it('queues nothing when no notification asks for its event', async () => {
    await cascade.notifications.add({ name: 'starts', url: 'https://a.example.com/', format: 'json', events: ['run.started'], task: 'web' });
    await succeededRun('app');
    expect(ports.queue.messages.filter((m) => m.type === 'notify')).toEqual([]);
  });

  it('makes one signed delivery per notification it concerns, with its cause, outside the run', async () => {
    const { secret } = await cascade.notifications.add({ name: 'ops', url: 'https://a.example.com/hook', format: 'json' });
    await cascade.notifications.add({ name: 'chat', url: 'https://hooks.slack.com/services/T/B/X', format: 'slack', task: 'app' });
    await cascade.notifications.add({ name: 'web-only', url: 'https://c.example.com/', format: 'json', task: 'web' });
    await succeededRun();
    // The run is recorded; the deliveries are the queue's to make.
    expect(ports.notificationSender.requests).toEqual([]);
    expect(ports.queue.messages.map((m) => m.type)).toEqual(['notify']);
    await drain();

    const [json, slack] = [...ports.notificationSender.requests].sort((a, b) => a.url.localeCompare(b.url));
    expect(ports.notificationSender.requests).toHaveLength(2);
    expect(json?.headers['x-cascade-signature-256']).toBe(signatureOf(secret, json!.body));
    expect(json?.headers['x-cascade-event']).toBe('run.succeeded');
    expect(JSON.parse(json!.body)).toMatchObject({ event: 'run.succeeded', deliveryId: json?.headers['x-cascade-delivery'], task: 'app', run: { id: 'da1', status: 'Succeeded' }, cause: { kind: 'manual' } });
    expect(json?.timeoutMs).toBe(DEFAULT_RETRY.attemptTimeoutMs);
    expect(slack?.headers).not.toHaveProperty('x-cascade-signature-256');
    expect(JSON.parse(slack!.body)).toEqual({ text: 'cascade: app da1 Succeeded, because it was run by hand' });
    expect(await cascade.notifications.deliveries('ops', 20)).toEqual([
      expect.objectContaining({ event: 'run.succeeded', runId: 'da1', task: 'app', status: 'delivered', attempts: [expect.objectContaining({ number: 1, httpStatus: 204 })] }),
    ]);
    expect(await cascade.notifications.deliveries('web-only', 20)).toEqual([]);
  });

  it('tells of the base an Image Update run was built for, from which digest to which', async () => {
    await cascade.notifications.add({ name: 'ops', url: 'https://a.example.com/', format: 'json', events: ['run.started', 'run.succeeded'] });
    await succeededRun();
    await drain();
    ports.notificationSender.requests.length = 0;
    await cascade.dispatcher.dispatch({ kind: 'image', source: 'distribution', ...BASE, digest: NEW, occurredAt: '2026-11-28T05:01:00.000Z', deliveryId: 'push-2' });
    const [run] = await cascade.runs.list({ taskName: 'app', top: 1 });
    await cascade.runs.recordResult({ runId: run!.id, status: 'Succeeded', finishedAt: ports.clock.now().toISOString(), outputImages: [], baseImages: [{ ...BASE, digest: NEW, stage: 'runtime', pinned: false }] });
    await drain();
    const said = ports.notificationSender.requests.map((r) => JSON.parse(r.body) as { event: string; cause: unknown });
    expect(said.map((b) => b.event).sort()).toEqual(['run.started', 'run.succeeded']);
    for (const body of said) {
      expect(body.cause).toMatchObject({ kind: 'image-update', base: '127.0.0.1:5000/baseimages/node:9-alpine', oldDigest: OLD, newDigest: NEW, deliveryId: 'push-2' });
    }
  });

  it('tells of a failure, and of nothing for a run canceled by a person', async () => {
    await cascade.notifications.add({ name: 'ops', url: 'https://a.example.com/', format: 'json', events: ['run.succeeded', 'run.failed'] });
    const failing = await cascade.runs.runTaskByName('app', manual);
    await cascade.runs.recordResult({ runId: failing.id, status: 'Timeout', finishedAt: ports.clock.now().toISOString(), outputImages: [], baseImages: [], error: 'the build timed out' });
    const canceled = await cascade.runs.runTaskByName('app', manual);
    await cascade.runs.cancel(canceled.id);
    await drain();
    expect(ports.notificationSender.requests.map((r) => JSON.parse(r.body) as unknown)).toEqual([
      expect.objectContaining({ event: 'run.failed', run: expect.objectContaining({ id: failing.id, status: 'Timeout', statusDetail: 'the build timed out' }) }),
    ]);
  });

  it('finishes the run, and says so once, when the notification cannot be queued', async () => {
    await cascade.notifications.add({ name: 'ops', url: 'https://a.example.com/', format: 'json' });
    const send = ports.queue.send.bind(ports.queue);
    ports.queue.send = async (message, options) => {
      if (message.type === 'notify') throw new Error('the queue is down');
      return send(message, options);
    };
    const finished = await succeededRun();
    expect(finished.status).toBe('Succeeded');
    expect((await cascade.runs.get(finished.id)).status).toBe('Succeeded');
    expect(warnings).toEqual([`the notifications of ${finished.id} Succeeded could not be queued, and are not sent: the queue is down`]);
  });
});

describe('retries', () => {
  beforeEach(async () => {
    await cascade.notifications.add({ name: 'ops', url: 'https://a.example.com/', format: 'json' });
  });

  it('tries a 500 again, 1 s, 2 s and 4 s later, until a 200: delivered, with its 4 attempts, the same bytes each time', async () => {
    ports.notificationSender.answers.push({ status: 500 }, { status: 502 }, { error: 'connection refused' }, { status: 200 });
    await succeededRun();
    await drain();
    expect(ports.queue.delayed.map((d) => d.delayMs)).toEqual([1000, 2000, 4000]);
    const requests = ports.notificationSender.requests;
    expect(requests).toHaveLength(4);
    expect(new Set(requests.map((r) => r.body)).size).toBe(1);
    expect(new Set(requests.map((r) => r.headers['x-cascade-delivery'])).size).toBe(1);
    const [delivery] = await cascade.notifications.deliveries('ops', 20);
    expect(delivery).toMatchObject({ status: 'delivered', detail: 'delivered on attempt 4' });
    expect(delivery?.attempts.map((a) => a.httpStatus ?? a.error)).toEqual([500, 502, 'connection refused', 200]);
    expect(delivery?.attempts.map((a) => a.at)).toEqual(['2026-11-28T05:00:00.000Z', '2026-11-28T05:00:01.000Z', '2026-11-28T05:00:03.000Z', '2026-11-28T05:00:07.000Z']);
    expect(delivery).not.toHaveProperty('nextAttemptAt');
  });

  it('fails at once on a 4xx other than 408 and 429', async () => {
    ports.notificationSender.answers.push({ status: 404 });
    await succeededRun();
    await drain();
    const [delivery] = await cascade.notifications.deliveries('ops', 20);
    expect(delivery).toMatchObject({ status: 'failed', detail: 'HTTP 404, which is not tried again (only 408, 429 and 5xx answers and failed connections are)' });
    expect(delivery?.attempts).toHaveLength(1);
    expect(ports.notificationSender.requests).toHaveLength(1);
  });

  it('gives a receiver that never answers up after the schedule, every attempt listed', async () => {
    ports.notificationSender.otherwise = { error: 'no answer within 10 s' };
    await succeededRun();
    await drain();
    const [delivery] = await cascade.notifications.deliveries('ops', 20);
    const planned = plannedAttempts(DEFAULT_RETRY);
    expect(delivery?.status).toBe('failed');
    expect(delivery?.detail).toBe(`no answer within 10 s; given up after ${planned.length} attempt(s) in ${planned[planned.length - 1]! / 1000} s`);
    expect(delivery?.attempts.map((a) => Date.parse(a.at) - Date.parse(delivery.attempts[0]!.at))).toEqual(planned);
    expect(delivery?.attempts.every((a) => a.error === 'no answer within 10 s')).toBe(true);
  });

  it('makes one delivery and one POST per attempt whatever the queue delivers twice', async () => {
    ports.notificationSender.answers.push({ status: 503 });
    await succeededRun();
    const notify = ports.queue.messages.shift() as QueueMessage;
    await cascade.process(notify);
    await cascade.process(notify);
    const firstAttempts = ports.queue.messages.splice(0);
    expect(firstAttempts).toEqual([{ type: 'notify-attempt', notification: 'ops', deliveryId: expect.any(String), attempt: 1 }, expect.objectContaining({ attempt: 1 })]);
    await cascade.process(firstAttempts[0]!);
    await cascade.process(firstAttempts[1]!);
    expect(ports.notificationSender.requests).toHaveLength(1);
    // The second attempt was queued once, by the attempt that was made.
    expect(ports.queue.messages).toEqual([expect.objectContaining({ type: 'notify-attempt', attempt: 2 })]);
    await drain();
    expect(ports.notificationSender.requests).toHaveLength(2);
    expect(await cascade.notifications.deliveries('ops', 20)).toEqual([expect.objectContaining({ status: 'delivered' })]);
  });

  it('has the queue try again an attempt that came before the one before it was recorded', async () => {
    ports.notificationSender.answers.push({ status: 500 });
    await succeededRun();
    await cascade.process(ports.queue.messages.shift()!);
    const [first] = ports.queue.messages.splice(0) as Array<Extract<QueueMessage, { type: 'notify-attempt' }>>;
    await expect(cascade.process({ ...first!, attempt: 2 })).rejects.toThrow(/came before attempt 1 was recorded/);
    expect(ports.notificationSender.requests).toHaveLength(0);
  });

  it('goes on after a restart that lost the queued attempts, at the time the next was due', async () => {
    ports.notificationSender.answers.push({ status: 500 });
    await succeededRun();
    await cascade.process(ports.queue.messages.shift()!);
    await cascade.process(ports.queue.messages.shift()!);
    // The process stops: the second attempt's message is gone with its queue.
    ports.queue.messages.length = 0;
    ports.queue.delayed.length = 0;
    const restarted = createCascade({ ...ports, warn: (message) => warnings.push(message) });
    expect(await restarted.notifications.resumePending()).toBe(1);
    expect(ports.queue.delayed).toEqual([{ message: expect.objectContaining({ type: 'notify-attempt', attempt: 2 }), delayMs: 1000 }]);
    cascade = restarted;
    await drain();
    expect(await cascade.notifications.deliveries('ops', 20)).toEqual([expect.objectContaining({ status: 'delivered', attempts: [expect.objectContaining({ httpStatus: 500 }), expect.objectContaining({ httpStatus: 204 })] })]);
    expect(await cascade.notifications.resumePending()).toBe(0);
  });

  it('says so once when a delivery is given up', async () => {
    ports.notificationSender.answers.push({ status: 410 });
    const run = await succeededRun();
    await drain();
    const [delivery] = await cascade.notifications.deliveries('ops', 20);
    expect(warnings).toEqual([`notification ops: delivery ${delivery!.id} (run.succeeded of ${run.id}) failed: HTTP 410, which is not tried again (only 408, 429 and 5xx answers and failed connections are)`]);
  });

  it('stops when the notification is removed meanwhile', async () => {
    ports.notificationSender.answers.push({ status: 500 });
    await succeededRun();
    await cascade.process(ports.queue.messages.shift()!);
    await cascade.process(ports.queue.messages.shift()!);
    await cascade.notifications.remove('ops');
    await drain();
    expect(ports.notificationSender.requests).toHaveLength(1);
  });
});

describe('a deleted base', () => {
  it('tells the notifications of the tasks built from it, naming those tasks', async () => {
    await cascade.notifications.add({ name: 'all', url: 'https://a.example.com/', format: 'json', events: ['base.deleted'] });
    await cascade.notifications.add({ name: 'app', url: 'https://b.example.com/', format: 'json', events: ['base.deleted'], task: 'app' });
    await cascade.notifications.add({ name: 'web', url: 'https://c.example.com/', format: 'json', events: ['base.deleted'], task: 'web' });
    await succeededRun('app');
    await drain();
    const report = await cascade.dispatcher.dispatch({ kind: 'image-delete', source: 'distribution', ...BASE, occurredAt: '2026-11-28T05:02:00.000Z', deliveryId: 'del-1' });
    expect(report.skipped).toEqual([{ reason: '127.0.0.1:5000/baseimages/node:9-alpine was deleted; 1 dependent task(s) marked' }]);
    await drain();
    const told = ports.notificationSender.requests.map((r) => [r.url, JSON.parse(r.body) as Record<string, unknown>] as const);
    expect(told.map(([url]) => url).sort()).toEqual(['https://a.example.com/', 'https://b.example.com/']);
    for (const [, body] of told) expect(body).toMatchObject({ event: 'base.deleted', base: { ref: '127.0.0.1:5000/baseimages/node:9-alpine' }, tasks: ['app'], sourceDeliveryId: 'del-1' });
  });

  it('queues nothing for a tag no task is built from', async () => {
    await cascade.notifications.add({ name: 'all', url: 'https://a.example.com/', format: 'json', events: ['base.deleted'] });
    await cascade.dispatcher.dispatch({ kind: 'image-delete', source: 'distribution', ...BASE, tag: 'other', occurredAt: '2026-11-28T05:02:00.000Z', deliveryId: 'del-2' });
    expect(ports.queue.messages).toEqual([]);
  });
});

describe('a test delivery', () => {
  it('is tried once, now, and recorded with the others', async () => {
    await cascade.notifications.add({ name: 'ops', url: 'https://a.example.com/', format: 'json' });
    ports.notificationSender.answers.push({ status: 500 });
    const failed = await cascade.notifications.test('ops');
    expect(failed).toMatchObject({ event: 'test', status: 'failed', detail: 'HTTP 500; a test is tried once', attempts: [expect.objectContaining({ httpStatus: 500 })] });
    ports.clock.advance(1000);
    const delivered = await cascade.notifications.test('ops');
    expect(delivered).toMatchObject({ status: 'delivered', attempts: [expect.objectContaining({ httpStatus: 204 })] });
    expect(JSON.parse(ports.notificationSender.requests[1]!.body)).toMatchObject({ event: 'test', notification: 'ops' });
    expect(ports.queue.messages).toEqual([]);
    // Newest first.
    expect((await cascade.notifications.deliveries('ops', 20)).map((d) => d.id)).toEqual([delivered.id, failed.id]);
    expect((await cascade.notifications.deliveries('ops', 1)).map((d) => d.id)).toEqual([delivered.id]);
    expect(failed).not.toHaveProperty('body');
  });

  it('of an unknown notification is a 404', async () => {
    await expect(cascade.notifications.test('nobody')).rejects.toThrow(NotFoundError);
  });
});
