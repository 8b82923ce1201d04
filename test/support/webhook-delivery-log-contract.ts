// What every WebhookDeliveryLog does, whatever it stores in: run against the memory one (unit)
// and the DynamoDB one (integration).
import type { WebhookDeliveryLog, WebhookDeliveryRecord } from '../../lib/domain/webhook-delivery-log';
import { ManualClock } from './memory-ports';

const DAY = 24 * 3600;

function delivery(webhook: string, receivedAt: string, id: string, extra: Partial<WebhookDeliveryRecord> = {}): WebhookDeliveryRecord {
  return {
    webhook,
    receivedAt,
    id,
    events: [{ deliveryId: `${id}-e1`, kind: 'image', subject: `base.example/node:9@sha256:${'1'.repeat(64)}` }],
    ignored: ['blob push: only a tagged manifest push concerns cascade'],
    outcomes: {},
    ...extra,
  };
}

const outcome = (runId: string) => ({ at: '2026-11-28T05:00:01.000Z', started: [{ task: 'app', runId, reason: 'base changed' }], skipped: [{ task: 'other', reason: 'disabled task' }] });

export function webhookDeliveryLogContract(make: (clock: ManualClock) => Promise<WebhookDeliveryLog>): void {
  let clock: ManualClock;
  let log: WebhookDeliveryLog;
  beforeEach(async () => {
    clock = new ManualClock('2026-11-28T05:00:00.000Z');
    log = await make(clock);
  });

  it('lists a webhook’s deliveries newest first, at most top, and no other webhook’s', async () => {
    await log.record(delivery('hub', '2026-11-28T05:00:00.000Z', 'aaaa0001'), DAY);
    await log.record(delivery('hub', '2026-11-28T05:00:02.000Z', 'aaaa0003'), DAY);
    await log.record(delivery('hub', '2026-11-28T05:00:01.000Z', 'aaaa0002'), DAY);
    await log.record(delivery('hub-2', '2026-11-28T05:00:03.000Z', 'bbbb0001'), DAY);
    expect((await log.recent('hub', 10)).map((d) => d.id)).toEqual(['aaaa0003', 'aaaa0002', 'aaaa0001']);
    expect((await log.recent('hub', 2)).map((d) => d.id)).toEqual(['aaaa0003', 'aaaa0002']);
    expect(await log.recent('hub-2', 10)).toEqual([delivery('hub-2', '2026-11-28T05:00:03.000Z', 'bbbb0001')]);
    expect(await log.recent('nobody', 10)).toEqual([]);
  });

  it('adds what the dispatcher did with each event, whichever is written first', async () => {
    const first = delivery('hub', '2026-11-28T05:00:00.000Z', 'cccc0001', { events: [
      { deliveryId: 'e1', kind: 'image', subject: 'a' },
      { deliveryId: 'e2', kind: 'image', subject: 'b' },
    ] });
    await log.recordOutcome(first, 'e2', outcome('da2'), DAY); // the queue was quicker than the receiver
    await log.record(first, DAY);
    await log.recordOutcome(first, 'e1', outcome('da1'), DAY);
    expect(await log.recent('hub', 10)).toEqual([{ ...first, outcomes: { e1: outcome('da1'), e2: outcome('da2') } }]);
  });

  it('forgets a delivery once its time is up', async () => {
    await log.record(delivery('hub', '2026-11-28T05:00:00.000Z', 'dddd0001'), DAY);
    clock.advance(DAY * 1000 - 1000);
    expect(await log.recent('hub', 10)).toHaveLength(1);
    clock.advance(2000);
    expect(await log.recent('hub', 10)).toEqual([]);
  });
}
