// Text for `cascade notification …` (pure): a notification, the list, one delivery's outcome and
// the deliveries with their attempts.
import type { AddedNotificationView, DeliveryAttempt, DeliveryView, NotificationView } from '../domain/notifications/notification';
import { SIGNATURE_HEADER } from '../domain/notifications/signature';
import { formatKeyValues, formatTable, formatTime } from './format';

export function formatNotification(notification: NotificationView | AddedNotificationView): string {
  const secret = 'secret' in notification && notification.format === 'json' ? notification.secret : undefined;
  const lines = formatKeyValues([
    ['Name', notification.name],
    ['URL', notification.url],
    ['Events', notification.events.join(', ')],
    ['Format', notification.format],
    ['Task', notification.task ?? '(every task)'],
    ['Secret', secret],
    ['Created', formatTime(notification.createdAt)],
  ]);
  if (secret !== undefined) {
    return `${lines}\nEach delivery carries ${SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of the raw body with this secret>.\nKeep the secret now: cascade will not show it again.\n`;
  }
  return 'secret' in notification ? `${lines}\nSlack deliveries are not signed: Slack checks none.\n` : lines;
}

export function formatNotificationsTable(notifications: readonly NotificationView[]): string {
  return formatTable(
    ['NAME', 'FORMAT', 'EVENTS', 'TASK', 'URL'],
    notifications.map((n) => [n.name, n.format, n.events.join(','), n.task ?? '', n.url]),
  );
}

function attemptResult(attempt: DeliveryAttempt): string {
  return attempt.httpStatus !== undefined ? `HTTP ${attempt.httpStatus}` : (attempt.error ?? '');
}

/** `notification test`: what became of the one delivery. */
export function formatTestOutcome(delivery: DeliveryView): string {
  const last = delivery.attempts[delivery.attempts.length - 1];
  const result = last ? `${attemptResult(last)} after ${last.durationMs} ms` : 'not sent';
  return delivery.status === 'delivered'
    ? `Test delivery ${delivery.id} delivered: ${result}.\n`
    : `Test delivery ${delivery.id} failed: ${delivery.detail ?? result}.\n`;
}

/** The deliveries, newest first, one row per attempt (the delivery's columns on its first). */
export function formatDeliveriesTable(deliveries: readonly DeliveryView[]): string {
  const rows: string[][] = [];
  for (const d of deliveries) {
    const head = [d.id, d.event, d.runId ?? '', d.status];
    const detail = d.status === 'pending' && d.nextAttemptAt ? `next attempt at ${formatTime(d.nextAttemptAt)}` : (d.detail ?? '');
    if (d.attempts.length === 0) rows.push([...head, '', '', '', detail]);
    d.attempts.forEach((a, i) => rows.push([...(i === 0 ? head : ['', '', '', '']), String(a.number), formatTime(a.at), attemptResult(a), i === 0 ? detail : '']));
  }
  return formatTable(['DELIVERY', 'EVENT', 'RUN', 'STATUS', 'ATTEMPT', 'AT', 'RESULT', 'DETAIL'], rows);
}
