// What a delivery says (pure): the JSON body, and the one line a Slack incoming webhook shows.
//
// JSON, for a run (`run.started`, `run.succeeded`, `run.failed`):
//   {"event":"run.succeeded","deliveryId":"20261201T231010123Z-3f9a…","notification":"ops",
//    "text":"app da4 Succeeded, because 127.0.0.1:5000/base:1 changed from sha256:aa01…",
//    "task":"app","run":{"id":"da4","status":"Succeeded","trigger":"Image Update",…,
//    "outputImages":[{"reference":"…/app:da4","digest":"sha256:…"}]},
//    "cause":{"kind":"image-update","base":"127.0.0.1:5000/base:1","oldDigest":"sha256:…","newDigest":"sha256:…",…}}
// for a deleted base: {"event":"base.deleted",…,"base":{"ref":…},"tasks":["app"],"source":"distribution",…}
// Slack: {"text":"cascade: app da4 Succeeded, because 127.0.0.1:5000/base:1 changed from sha256:aa01… to sha256:bb02…"}
import type { Notification, NotificationFormat, NotificationSubject } from './notification';

/** What a body is built from: the subject, or a test of the notification. */
export type Message = { subject: NotificationSubject; tasks: readonly string[] } | { test: true };

/** Digests in the one-line text: the algorithm and 12 hex digits, as `docker images` shows them. */
export function shortDigest(digest: string): string {
  return digest.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]{52}$/, '$1…');
}

/** The event in one line, for people: the Slack text, and `text` in the JSON body. */
export function summaryLine(message: Message, notification: Pick<Notification, 'name'>): string {
  if ('test' in message) return `test delivery of notification ${notification.name}: it reaches its receiver`;
  const { subject, tasks } = message;
  if (subject.event === 'base.deleted') {
    const users = tasks.length === 0 ? 'no task is built from it now' : `${tasks.join(', ')} ${tasks.length === 1 ? 'is' : 'are'} built from it`;
    return `base ${subject.base.ref} was deleted (${subject.source} reported it); ${users}`;
  }
  const { run, cause } = subject;
  const detail = run.statusDetail !== undefined ? ` (${run.statusDetail})` : '';
  const text = cause.kind === 'image-update' ? cause.text.replace(/sha256:[0-9a-f]{64}/g, shortDigest) : cause.text;
  return `${subject.task ?? 'quick build'} ${run.id} ${run.status}${detail}, because ${text}`;
}

/** The exact bytes a delivery sends, in the notification's format. */
export function deliveryBody(format: NotificationFormat, message: Message, notification: Pick<Notification, 'name'>, deliveryId: string): string {
  const text = summaryLine(message, notification);
  if (format === 'slack') return JSON.stringify({ text: escapeSlack(`cascade: ${text}`) });
  const head = { deliveryId, notification: notification.name, text };
  if ('test' in message) return JSON.stringify({ event: 'test', ...head });
  const { subject, tasks } = message;
  if (subject.event === 'base.deleted') {
    return JSON.stringify({ event: subject.event, ...head, base: subject.base, tasks, source: subject.source, sourceDeliveryId: subject.deliveryId, occurredAt: subject.occurredAt });
  }
  return JSON.stringify({ event: subject.event, ...head, ...(subject.task !== undefined && { task: subject.task }), run: subject.run, cause: subject.cause });
}

/** Slack reads `&`, `<` and `>` as markup: its docs ask for these three escaped, and only these. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
