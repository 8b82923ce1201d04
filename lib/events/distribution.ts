// CNCF distribution (registry:2 / docker-registry) notifications. It batches events into one
// envelope and sends one per blob and per manifest; only a tagged manifest push is an update:
//
//   POST  Authorization: Bearer <secret>   Content-Type: application/vnd.docker.distribution.events.v1+json
//   { "events": [ { "id": "0b97a850-…", "timestamp": "2026-11-28T04:44:20.875047053Z", "action": "push",
//       "target": { "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:3771…",
//                   "repository": "baseimages/node", "tag": "9-alpine", "url": "…" },
//       "request": { "host": "127.0.0.1:5055", "method": "PUT", … }, "actor": { … }, "source": { … } } ] }
import * as z from 'zod';
import type { ImageDeleteEvent, ImageEvent, Webhook } from '../domain/types';
import { IMAGE_MANIFEST_MEDIA_TYPES, digestProblem, registryHostProblem, repositoryProblem, tagProblem, toUtcIso } from './image-fields';
import { describeIssues, parseJsonAs } from './parse-json';
import type { NormalizeResult, WebhookProvider, WebhookRequest } from '../domain/webhook-provider';
import { authenticateBearer } from './verify';

const envelopeSchema = z.object({ events: z.array(z.unknown()) });

const eventSchema = z.object({
  id: z.string().min(1),
  timestamp: z.string(),
  action: z.string().min(1),
  target: z.object({
    mediaType: z.string().optional(),
    digest: z.string().optional(),
    repository: z.string().min(1),
    tag: z.string().optional(),
  }),
  request: z.object({ host: z.string().optional() }).optional(),
});
type DistributionEvent = z.infer<typeof eventSchema>;

function describeTarget(target: DistributionEvent['target']): string {
  if (target.tag) return `${target.repository}:${target.tag}`;
  if (target.digest) return `${target.repository}@${target.digest}`;
  return target.repository;
}

/** The ImageEvent for one notification, or the reason it is not one. */
function toImageEvent(event: DistributionEvent, webhook: Webhook): ImageEvent | ImageDeleteEvent | { reason: string } {
  const { action, target } = event;
  if (action === 'delete') return toDeleteEvent(event, webhook);
  if (action !== 'push') return { reason: `${action} of ${describeTarget(target)} is not a push` };

  const mediaType = target.mediaType ?? '';
  if (!IMAGE_MANIFEST_MEDIA_TYPES.has(mediaType)) {
    // Registries report blobs with the blob's own media type (layer, config, octet-stream).
    return /manifest|index/.test(mediaType)
      ? { reason: `push of ${mediaType} to ${target.repository} is not an image manifest` }
      : { reason: `blob push to ${target.repository} is not an image update` };
  }
  if (!target.tag) return { reason: `manifest push without a tag: ${describeTarget(target)}` };

  const reference = describeTarget(target);
  const problem =
    repositoryProblem(target.repository) ??
    tagProblem(target.tag) ??
    (target.digest === undefined ? 'no digest' : digestProblem(target.digest));
  if (problem) return { reason: `push of ${reference}: ${problem}` };

  // request.host is the registry as its client addressed it; the webhook's login server is
  // only a fallback for registries that leave it out.
  const registry = event.request?.host || webhook.loginServer;
  if (!registry) {
    return { reason: `push of ${reference}: the event has no request.host and the webhook has no login server` };
  }
  const hostProblem = registryHostProblem(registry);
  if (hostProblem) return { reason: `push of ${reference}: ${hostProblem}` };

  const occurredAt = toUtcIso(event.timestamp);
  if (!occurredAt) return { reason: `push of ${reference}: invalid timestamp "${event.timestamp}"` };

  return {
    kind: 'image',
    source: 'distribution',
    registry,
    repository: target.repository,
    tag: target.tag,
    digest: target.digest!,
    occurredAt,
    deliveryId: event.id,
  };
}

/** Distribution 3 reports tag deletes with the tag; 2.x deletes manifests by digest only. */
function toDeleteEvent(event: DistributionEvent, webhook: Webhook): ImageDeleteEvent | { reason: string } {
  const { target } = event;
  if (!target.tag) return { reason: `delete of ${describeTarget(target)} names no tag` };
  const registry = event.request?.host || webhook.loginServer;
  const problem = repositoryProblem(target.repository) ?? tagProblem(target.tag) ?? (registry ? registryHostProblem(registry) : 'no registry host');
  const occurredAt = toUtcIso(event.timestamp);
  if (problem || !registry || !occurredAt) return { reason: `delete of ${describeTarget(target)}: ${problem ?? 'invalid timestamp'}` };
  return {
    kind: 'image-delete',
    source: 'distribution',
    registry,
    repository: target.repository,
    tag: target.tag,
    ...(target.digest && !digestProblem(target.digest) && { digest: target.digest }),
    occurredAt,
    deliveryId: event.id,
  };
}

export const distributionProvider: WebhookProvider = {
  name: 'distribution',
  kind: 'registry',
  secretIn: 'header',
  setupInstructions: ({ url, secret }) =>
    [
      'Add this endpoint to the registry configuration (config.yml) and restart the registry:',
      '',
      'notifications:',
      '  endpoints:',
      '    - name: cascade',
      `      url: ${url}`,
      '      headers:',
      `        Authorization: [Bearer ${secret}]`,
      '      timeout: 2s',
      '      threshold: 5',
      '      backoff: 5s',
      '      ignoredmediatypes: [application/octet-stream]',
    ].join('\n'),
  // v1 is what distribution 2.x sends, v2 what distribution 3 sends.
  contentTypes: [
    'application/vnd.docker.distribution.events.v1+json',
    'application/vnd.docker.distribution.events.v2+json',
    'application/json',
  ],

  authenticate(req: WebhookRequest, secrets: string[]): void {
    authenticateBearer(req, secrets);
  },

  normalize(req: WebhookRequest, webhook: Webhook): NormalizeResult {
    const envelope = parseJsonAs(req.rawBody, envelopeSchema, 'distribution notification envelope');
    const result: NormalizeResult = { events: [], ignored: [] };
    envelope.events.forEach((raw, index) => {
      const parsed = eventSchema.safeParse(raw);
      if (!parsed.success) {
        result.ignored.push({ reason: `event #${index} is malformed: ${describeIssues(parsed.error)}` });
        return;
      }
      const outcome = toImageEvent(parsed.data, webhook);
      if ('reason' in outcome) result.ignored.push(outcome);
      else result.events.push(outcome);
    });
    return result;
  },
};
