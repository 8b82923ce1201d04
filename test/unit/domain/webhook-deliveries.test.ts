// A webhook's delivery history: each authentic delivery is recorded with the events it queued and
// what it ignored, and completed, as the queue hands each event on, with what the dispatcher
// started or skipped: what the console's webhooks view shows (GET /api/webhooks/{name}/deliveries).
import { createCascade, type Cascade } from '../../../lib/domain/cascade';
import { NotFoundError, UnauthorizedError } from '../../../lib/domain/errors';
import type { WebhookRequest } from '../../../lib/domain/webhook-provider';
import { memoryCascadePorts, type ManualClock, type MemoryCascadePorts } from '../../support/memory-ports';
import { MemoryWebhookDeliveryLog } from '../../support/memory-webhook-delivery-log';
import { webhookDeliveryLogContract } from '../../support/webhook-delivery-log-contract';

describe('the memory delivery log', () => {
  webhookDeliveryLogContract(async (clock) => new MemoryWebhookDeliveryLog(clock));
});

const BASE = { registry: 'base.example:5000', repository: 'baseimages/node', tag: '9-alpine' };
const DIGEST = `sha256:${'3'.repeat(64)}`;

function manifestPush(eventId: string): Record<string, unknown> {
  return {
    id: eventId,
    timestamp: '2026-11-28T04:44:20.875Z',
    action: 'push',
    target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 503, digest: DIGEST, length: 503, repository: BASE.repository, tag: BASE.tag },
    request: { id: `r-${eventId}`, host: BASE.registry, method: 'PUT' },
  };
}

function blobPush(eventId: string): Record<string, unknown> {
  return {
    id: eventId,
    timestamp: '2026-11-28T04:44:20.814Z',
    action: 'push',
    target: { mediaType: 'application/octet-stream', size: 10, digest: `sha256:${'4'.repeat(64)}`, length: 10, repository: BASE.repository },
    request: { id: `r-${eventId}`, host: BASE.registry, method: 'PUT' },
  };
}

function envelope(secret: string, events: Array<Record<string, unknown>>, receivedAt: string): WebhookRequest {
  return {
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/vnd.docker.distribution.events.v1+json' },
    rawBody: Buffer.from(JSON.stringify({ events })),
    receivedAt,
  };
}

describe('a webhook’s deliveries', () => {
  let ports: MemoryCascadePorts;
  let clock: ManualClock;
  let cascade: Cascade;
  let secret: string;

  beforeEach(async () => {
    ports = memoryCascadePorts();
    clock = ports.clock;
    cascade = createCascade({ ...ports, webhookDeliveries: new MemoryWebhookDeliveryLog(clock) });
    secret = (await cascade.webhooks.create({ name: 'baseregistry', provider: 'distribution' })).secret;
    const now = clock.now().toISOString();
    await ports.tasks.create({
      name: 'app', registry: 'app.example:5000', images: ['app:latest'], context: { kind: 'git', url: 'https://git.example/app.git', branch: 'main', folder: '.' },
      dockerfile: 'Dockerfile', buildArgs: {}, platform: 'linux/amd64', status: 'Enabled', baseImageTrigger: { enabled: true, type: 'Runtime' },
      commitTrigger: { enabled: true }, credentials: [], createdAt: now, updatedAt: now,
    });
    await ports.dependencies.replaceForTask('app', [{ taskName: 'app', ...BASE, digest: `sha256:${'0'.repeat(64)}`, stage: 'runtime', pinned: false, capturedAt: now, capturedByRun: 'da0' }]);
  });

  /** Hands every queued message to cascade, as the queue's consumer does. */
  async function drain(): Promise<void> {
    for (let batch = ports.queue.drain(); batch.length > 0; batch = ports.queue.drain()) for (const message of batch) await cascade.process(message);
  }

  it('records what a delivery carried and ignored, then the run its event started', async () => {
    await cascade.webhooks.receive('baseregistry', envelope(secret, [blobPush('b1'), manifestPush('m1')], '2026-11-28T05:00:01.000Z'));
    const [queued] = await cascade.webhooks.deliveries('baseregistry', 10);
    expect(queued).toEqual({
      webhook: 'baseregistry',
      receivedAt: '2026-11-28T05:00:01.000Z',
      id: expect.stringMatching(/^[0-9a-f]{8}$/),
      events: [{ deliveryId: 'm1', kind: 'image', subject: `${BASE.registry}/${BASE.repository}:${BASE.tag}@${DIGEST}` }],
      ignored: [expect.stringMatching(/blob/)],
      outcomes: {},
    });
    // Each queued message says which record to complete.
    expect(ports.sent.map((m) => m.type === 'event' && m.via)).toEqual([{ webhook: 'baseregistry', receivedAt: '2026-11-28T05:00:01.000Z', id: queued?.id }]);

    await drain();
    const [handled] = await cascade.webhooks.deliveries('baseregistry', 10);
    const [run] = await ports.runs.list({ top: 10 });
    expect(run).toEqual(expect.objectContaining({ taskName: 'app', trigger: 'Image Update' }));
    expect(handled?.outcomes).toEqual({ m1: { at: clock.now().toISOString(), started: [expect.objectContaining({ task: 'app', runId: run?.id })], skipped: [] } });
  });

  it('records a redelivery as ignored, with the reason, and starts nothing for it', async () => {
    await cascade.webhooks.receive('baseregistry', envelope(secret, [manifestPush('m1')], '2026-11-28T05:00:01.000Z'));
    await drain();
    await cascade.webhooks.receive('baseregistry', envelope(secret, [manifestPush('m1')], '2026-11-28T05:00:02.000Z'));
    await drain();
    const [again, first] = await cascade.webhooks.deliveries('baseregistry', 10);
    expect(again).toEqual(expect.objectContaining({ events: [], ignored: ['delivery m1 was already received'], outcomes: {} }));
    expect(Object.keys(first?.outcomes ?? {})).toEqual(['m1']);
    expect(await ports.runs.list({ top: 10 })).toHaveLength(1);
  });

  it('records what the dispatcher skipped, and why', async () => {
    await cascade.tasks.update('app', { status: 'Disabled' });
    await cascade.webhooks.receive('baseregistry', envelope(secret, [manifestPush('m2')], '2026-11-28T05:00:03.000Z'));
    await drain();
    const [delivery] = await cascade.webhooks.deliveries('baseregistry', 10);
    expect(delivery?.outcomes.m2?.started).toEqual([]);
    expect(delivery?.outcomes.m2?.skipped).toEqual([expect.objectContaining({ task: 'app', reason: expect.stringMatching(/disabled/i) })]);
  });

  it('does not record a delivery that fails authentication, and lists no unknown webhook', async () => {
    await expect(cascade.webhooks.receive('baseregistry', envelope('wrong', [manifestPush('m3')], '2026-11-28T05:00:04.000Z'))).rejects.toBeInstanceOf(UnauthorizedError);
    expect(await cascade.webhooks.deliveries('baseregistry', 10)).toEqual([]);
    await expect(cascade.webhooks.deliveries('nosuch', 10)).rejects.toBeInstanceOf(NotFoundError);
  });
});
