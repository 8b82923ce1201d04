// Google Artifact Registry (and Container Registry) notifications, published to the Pub/Sub topic
// `gcr` and delivered by a push subscription. Pub/Sub cannot sign with a shared secret, so the
// secret is the last segment of the endpoint URL. The usual body is the push envelope:
//
//   POST /webhooks/<name>/<secret>   Content-Type: application/json
//   { "message": { "data": "<base64 of the notification>", "attributes": {}, "messageId": "2070443601311540",
//                  "publishTime": "2026-11-28T04:44:21.123Z" },
//     "subscription": "projects/my-project/subscriptions/cascade" }
//
// A subscription with payload unwrapping posts the notification itself (metadata, when asked for,
// in x-goog-pubsub-* headers):
//
//   { "action": "INSERT", "digest": "us-west1-docker.pkg.dev/my-project/my-repo/hello-world@sha256:6ec1…",
//     "tag": "us-west1-docker.pkg.dev/my-project/my-repo/hello-world:1.1" }
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { ValidationError } from '../domain/errors';
import type { ImageDeleteEvent, ImageEvent } from '../domain/types';
import { digestProblem, registryHostProblem, repositoryProblem, tagProblem, toUtcIso } from './image-fields';
import { describeIssues, parseJson } from './parse-json';
import type { NormalizeResult, WebhookProvider, WebhookRequest } from '../domain/webhook-provider';
import { authenticatePathSecret } from './verify';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

// Pub/Sub writes both spellings of the metadata fields.
const envelopeSchema = z.object({
  message: z.object({
    data: z.string().regex(BASE64, 'expected base64'),
    messageId: z.string().min(1).nullish(),
    message_id: z.string().min(1).nullish(),
    publishTime: z.string().nullish(),
    publish_time: z.string().nullish(),
  }),
});

const notificationSchema = z.object({
  action: z.string().min(1),
  digest: z.string().nullish(),
  tag: z.string().nullish(),
});
type Notification = z.infer<typeof notificationSchema>;

interface Delivery {
  notification: Notification;
  deliveryId: string;
  /** Pub/Sub's publish time as sent, if any. */
  publishTime?: string;
}

/** A reference split into its parts: `host/path[:tag]` or `host/path@digest`. */
interface Reference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

function parseNotification(json: unknown, what: string): Notification {
  const result = notificationSchema.safeParse(json);
  if (!result.success) throw new ValidationError(`${what} is malformed: ${describeIssues(result.error)}`, 'body');
  return result.data;
}

/** The notification and its metadata, from an envelope or from an unwrapped body. */
function readDelivery(req: WebhookRequest): Delivery {
  const json = parseJson(req.rawBody, 'gar push delivery');
  if (json !== null && typeof json === 'object' && !Array.isArray(json) && 'message' in json) {
    const parsed = envelopeSchema.safeParse(json);
    if (!parsed.success) throw new ValidationError(`gar push envelope is malformed: ${describeIssues(parsed.error)}`, 'body');
    const { message } = parsed.data;
    const data = Buffer.from(message.data, 'base64');
    const publishTime = message.publishTime ?? message.publish_time;
    return {
      notification: parseNotification(parseJson(data, 'gar notification (message.data)'), 'gar notification (message.data)'),
      deliveryId: message.messageId ?? message.message_id ?? createHash('sha256').update(data).digest('hex'),
      ...(publishTime ? { publishTime } : {}),
    };
  }
  const publishTime = req.headers['x-goog-pubsub-publish-time'];
  return {
    notification: parseNotification(json, 'gar notification'),
    deliveryId: req.headers['x-goog-pubsub-message-id'] || createHash('sha256').update(req.rawBody).digest('hex'),
    ...(publishTime ? { publishTime } : {}),
  };
}

/**
 * `host/project/repo/image:1.1` or `host/project/repo/image@sha256:…`. The tag follows the last ':'
 * of the last path segment, so a port on the host is not mistaken for one.
 */
function splitReference(reference: string): Reference | { reason: string } {
  let name = reference;
  let tag: string | undefined;
  let digest: string | undefined;
  const at = reference.indexOf('@');
  if (at >= 0) {
    name = reference.slice(0, at);
    digest = reference.slice(at + 1);
  } else {
    const colon = reference.lastIndexOf(':');
    if (colon > reference.lastIndexOf('/')) {
      name = reference.slice(0, colon);
      tag = reference.slice(colon + 1);
    }
  }
  const slash = name.indexOf('/');
  if (slash < 0) return { reason: `"${reference}" is not a host/repository reference` };
  const registry = name.slice(0, slash);
  const repository = name.slice(slash + 1);
  const problem = registryHostProblem(registry) ?? repositoryProblem(repository) ?? (tag === undefined ? undefined : tagProblem(tag));
  if (problem) return { reason: problem };
  return { registry, repository, ...(tag !== undefined && { tag }), ...(digest !== undefined && { digest }) };
}

type Outcome = ImageEvent | ImageDeleteEvent | { reason: string };

function toEvent(delivery: Delivery, occurredAt: string): Outcome {
  const { action, tag: tagRef, digest: digestRef } = delivery.notification;
  const subject = tagRef || digestRef || '(no image)';
  if (action !== 'INSERT' && action !== 'DELETE') return { reason: `${action} of ${subject} is not an INSERT or DELETE` };
  if (!tagRef) {
    return action === 'INSERT'
      ? { reason: `INSERT of ${subject} without a tag (an untagged push) is not a tag update` }
      : { reason: `DELETE of ${subject} names no tag` };
  }

  const tagged = splitReference(tagRef);
  if ('reason' in tagged) return { reason: `${action} of ${tagRef}: tag: ${tagged.reason}` };
  if (tagged.tag === undefined) return { reason: `${action} of ${tagRef}: tag: "${tagRef}" has no tag after the image name` };

  let digest: string | undefined;
  let digestReason: string | undefined;
  if (!digestRef) {
    digestReason = 'no digest';
  } else {
    const pinned = splitReference(digestRef);
    if ('reason' in pinned) digestReason = `digest: ${pinned.reason}`;
    else if (pinned.digest === undefined) digestReason = `digest: "${digestRef}" has no @digest`;
    else if (pinned.registry !== tagged.registry || pinned.repository !== tagged.repository) {
      digestReason = `digest: "${digestRef}" names another image than the tag`;
    } else {
      const problem = digestProblem(pinned.digest);
      if (problem) digestReason = `digest: ${problem}`;
      else digest = pinned.digest;
    }
  }

  const common = {
    source: 'gar',
    registry: tagged.registry,
    repository: tagged.repository,
    tag: tagged.tag,
    occurredAt,
    deliveryId: delivery.deliveryId,
  };
  if (action === 'DELETE') return { kind: 'image-delete', ...common, ...(digest && { digest }) };
  if (!digest) return { reason: `INSERT of ${tagRef}: ${digestReason}` };
  return { kind: 'image', ...common, digest };
}

export const garProvider: WebhookProvider = {
  name: 'gar',
  kind: 'registry',
  secretIn: 'path',
  setupInstructions: ({ url }) =>
    [
      'Artifact Registry publishes to the Pub/Sub topic "gcr" of its project. Create the topic if it does not exist,',
      'then a push subscription that posts to cascade:',
      '',
      '  gcloud pubsub topics create gcr --project=PROJECT_ID',
      `  gcloud pubsub subscriptions create cascade --project=PROJECT_ID --topic=gcr --push-endpoint='${url}'`,
      '',
      'Pub/Sub cannot sign with a shared secret: the secret is the last segment of the endpoint URL, so keep it private.',
      'Payload unwrapping (--push-no-wrapper) works too; add --push-no-wrapper-write-metadata to keep message ids.',
    ].join('\n'),
  // Unwrapped deliveries carry whatever content type the publisher set, if any.
  contentTypes: ['application/json', 'application/octet-stream', 'text/plain'],

  authenticate(req: WebhookRequest, secrets: string[]): void {
    authenticatePathSecret(req.pathSecret, secrets);
  },

  normalize(req: WebhookRequest): NormalizeResult {
    const delivery = readDelivery(req);
    let occurredAt = req.receivedAt;
    if (delivery.publishTime !== undefined) {
      const published = toUtcIso(delivery.publishTime);
      if (!published) return { events: [], ignored: [{ reason: `invalid Pub/Sub publish time "${delivery.publishTime.slice(0, 64)}"` }] };
      occurredAt = published;
    }
    const outcome = toEvent(delivery, occurredAt);
    return 'reason' in outcome ? { events: [], ignored: [outcome] } : { events: [outcome], ignored: [] };
  },
};
