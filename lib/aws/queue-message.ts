// An SQS message body back to the QueueMessage SqsQueue sent. Bodies can also be typed by hand
// (`serverless invoke -f dispatcher`), so the envelope is checked before the domain sees it.
import * as z from 'zod';
import { ValidationError } from '../domain/errors';
import type { QueueMessage } from '../domain/ports';
import { NOTIFICATION_EVENTS } from '../domain/notifications/notification';
import type { LogKeys } from './logger';

const text = z.string().min(1);
const image = { source: text, registry: text, repository: text, tag: text, occurredAt: text, deliveryId: text };
// Every kind of InboundEvent the receivers queue (lib/domain/types.ts).
const eventSchema = z.discriminatedUnion('kind', [
  z.looseObject({ kind: z.literal('image'), ...image, digest: text }),
  z.looseObject({ kind: z.literal('image-tag'), ...image }),
  z.looseObject({ kind: z.literal('image-delete'), ...image, digest: text.optional() }),
  z.looseObject({ kind: z.literal('git'), source: text, repoUrl: text, ref: text, commit: text, deliveryId: text }),
]);

// A NotificationSubject: a run's transition, or a deleted base (lib/domain/notifications/notification.ts).
const subjectSchema = z.discriminatedUnion('event', [
  z.looseObject({
    event: z.enum(NOTIFICATION_EVENTS.filter((e) => e !== 'base.deleted') as ['run.started', 'run.succeeded', 'run.failed']),
    at: text,
    run: z.looseObject({ id: text, status: text }),
    cause: z.looseObject({ kind: text, text: z.string() }),
  }),
  z.looseObject({ event: z.literal('base.deleted'), at: text, base: z.looseObject({ ref: text, registry: text, repository: text, tag: text }), source: text, deliveryId: text, occurredAt: text }),
]);

const envelopeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('event'), event: eventSchema }),
  z.object({ type: z.literal('start-run'), runId: z.string().min(1) }),
  z.object({ type: z.literal('build-result'), result: z.looseObject({ runId: z.string().min(1), status: z.string() }) }),
  z.object({ type: z.literal('notify'), subject: subjectSchema }),
  z.object({ type: z.literal('notify-attempt'), notification: text, deliveryId: text, attempt: z.number().int().min(1) }),
]);

export function parseQueueMessage(body: string): QueueMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new ValidationError(`the message body is not JSON: ${(error as Error).message}`, 'body');
  }
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ValidationError(`the message is not a cascade queue message: ${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`, 'body');
  }
  // The envelope is checked; the rest is what SqsQueue serialised from a QueueMessage.
  return json as QueueMessage;
}

/** What a queue message is about, for the lines logged while it is sent or handled. */
export function queueMessageLogKeys(message: QueueMessage): LogKeys {
  switch (message.type) {
    case 'event':
      return { messageType: message.type, deliveryId: message.event.deliveryId, ...(message.forTask && { task: message.forTask }) };
    case 'start-run':
      return { messageType: message.type, runId: message.runId };
    case 'build-result':
      return { messageType: message.type, runId: message.result.runId };
    case 'notify': {
      const { subject } = message;
      return { messageType: message.type, event: subject.event, ...(subject.event === 'base.deleted' ? { deliveryId: subject.deliveryId } : { runId: subject.run.id }) };
    }
    case 'notify-attempt':
      return { messageType: message.type, notification: message.notification, notificationDelivery: message.deliveryId, attempt: message.attempt };
  }
}

/** queueMessageLogKeys of a body, or none when it cannot be read (its failure says why). */
export function queueBodyLogKeys(body: string): LogKeys {
  try {
    return queueMessageLogKeys(parseQueueMessage(body));
  } catch {
    return {};
  }
}
