// Where normalized events enter cascade, from any route (a webhook, EventBridge): each delivery
// is remembered with an expiry, so a redelivery queues nothing; the rest goes to the queue, and
// the dispatcher builds later.
import type { NormalizeResult } from './webhook-provider';
import type { DeliveryStore, Queue } from './ports';
import type { InboundEvent } from './types';
import type { WebhookDeliveryRef } from './webhook-delivery-log';

/** Deliveries are remembered this long: providers redeliver for hours, not weeks. */
export const DELIVERY_TTL_SECONDS = 3 * 24 * 3600;

export interface IntakeResult {
  accepted: number;
  ignored: Array<{ reason: string }>;
}

export class EventIntake {
  constructor(private readonly deps: { deliveries: DeliveryStore; queue: Queue }) {}

  /**
   * Queues the events not seen before under `route` (a webhook's name, or `eventbridge`).
   * A queue failure forgets the delivery again, so the sender's retry is not dropped.
   */
  async accept(route: string, normalized: Pick<NormalizeResult, 'events' | 'ignored'>): Promise<IntakeResult> {
    return (await this.acceptNoting(route, normalized)).result;
  }

  /**
   * accept, saying which events were queued; each carries `via` (a webhook delivery's record,
   * which the dispatcher completes with what it did).
   */
  async acceptNoting(route: string, { events, ignored }: Pick<NormalizeResult, 'events' | 'ignored'>, via?: WebhookDeliveryRef): Promise<{ result: IntakeResult; queued: InboundEvent[] }> {
    const result: IntakeResult = { accepted: 0, ignored: [...ignored] };
    const queued: InboundEvent[] = [];
    for (const event of events) {
      const key = `${route}#${event.deliveryId}`;
      if (!(await this.deps.deliveries.markSeen(key, DELIVERY_TTL_SECONDS))) {
        result.ignored.push({ reason: `delivery ${event.deliveryId} was already received` });
        continue;
      }
      try {
        await this.deps.queue.send({ type: 'event', event, ...(via !== undefined && { via }) });
      } catch (error) {
        await this.deps.deliveries.forget(key);
        throw error;
      }
      result.accepted += 1;
      queued.push(event);
    }
    return { result, queued };
  }
}
