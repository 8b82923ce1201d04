// Each webhook's recent deliveries, for people asking "did my push arrive, and what did it do?":
// one record per request a webhook accepted as authentic (the events it carried, what was ignored
// and why), completed as the queue hands each event to the dispatcher (the runs it started, the
// tasks it skipped and why). Kept as long as the redelivery marks. A request that fails
// authentication is not recorded: anyone could write records otherwise, and its sender was told.
import type { DispatchReport } from './dispatcher';
import type { InboundEvent } from './types';

/** Where a delivery's record is: carried with each of its events through the queue. */
export interface WebhookDeliveryRef {
  webhook: string;
  receivedAt: string;
  /** Tells apart deliveries received in the same millisecond. */
  id: string;
}

export interface DeliveredEvent {
  deliveryId: string;
  kind: InboundEvent['kind'];
  /** What it is about, in a line: `registry/repository:tag@digest`, `repo ref@commit`. */
  subject: string;
}

/** What the dispatcher did with one event. */
export interface DeliveryOutcome {
  at: string;
  started: DispatchReport['started'];
  skipped: DispatchReport['skipped'];
}

export interface WebhookDeliveryRecord extends WebhookDeliveryRef {
  /** Events queued for the dispatcher. */
  events: DeliveredEvent[];
  /** Why the rest of the delivery was not queued (not a tag push, delivered before…). */
  ignored: string[];
  /** By event delivery id, once the dispatcher has handled it. */
  outcomes: Record<string, DeliveryOutcome>;
}

/** What GET /api/webhooks/{name}/deliveries lists, newest first. */
export type WebhookDeliveryView = WebhookDeliveryRecord;

export interface WebhookDeliveryLog {
  record(delivery: WebhookDeliveryRecord, ttlSeconds: number): Promise<void>;
  /**
   * Adds what the dispatcher did with one of the delivery's events. It may come before `record`
   * (the queue can be quicker than the receiver's write): neither undoes the other.
   */
  recordOutcome(ref: WebhookDeliveryRef, eventDeliveryId: string, outcome: DeliveryOutcome, ttlSeconds: number): Promise<void>;
  /** The webhook's deliveries, newest first, at most `top`. */
  recent(webhook: string, top: number): Promise<WebhookDeliveryRecord[]>;
}

/** An event in a line, as the deliveries view shows it. */
export function eventSubject(event: InboundEvent): string {
  switch (event.kind) {
    case 'image':
      return `${event.registry}/${event.repository}:${event.tag}@${event.digest}`;
    case 'image-tag':
      return `${event.registry}/${event.repository}:${event.tag}`;
    case 'image-delete':
      return `${event.registry}/${event.repository}:${event.tag} deleted`;
    case 'git':
      return `${event.repoUrl} ${event.ref}@${event.commit}`;
  }
}
