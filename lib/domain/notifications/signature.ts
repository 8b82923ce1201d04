// How a receiver knows a JSON delivery is cascade's: the HMAC-SHA256 of the raw body with the
// notification's secret, in X-Cascade-Signature-256 as GitHub signs its webhooks
// (`sha256=<hex>`). A receiver computes the same over the bytes it got and compares in constant time.
import { createHmac } from 'node:crypto';
import type { DeliveryEvent, Notification } from './notification';

export const SIGNATURE_HEADER = 'x-cascade-signature-256';
export const DELIVERY_HEADER = 'x-cascade-delivery';
export const EVENT_HEADER = 'x-cascade-event';

export function signatureOf(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** Every header of a delivery's POST. Slack verifies no signature: its deliveries carry none. */
export function deliveryHeaders(notification: Pick<Notification, 'format'>, secret: string, delivery: { id: string; event: DeliveryEvent; body: string }): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'cascade-notifications',
    [DELIVERY_HEADER]: delivery.id,
    [EVENT_HEADER]: delivery.event,
    ...(notification.format === 'json' && { [SIGNATURE_HEADER]: signatureOf(secret, delivery.body) }),
  };
}
