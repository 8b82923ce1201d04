// Quay (quay.io and Red Hat Quay) "Push to Repository" notifications. Quay neither signs nor lets
// the user add a header (only a client TLS certificate), so the secret is the last segment of the
// URL; the payload lists the pushed tags but no digest:
//
//   POST /webhooks/<name>/<secret>   Content-type: application/json
//   { "name": "repository", "repository": "dgangaia/test", "namespace": "dgangaia",
//     "docker_url": "quay.io/dgangaia/test", "homepage": "https://quay.io/repository/dgangaia/repository",
//     "updated_tags": ["latest"] }
//
// The 2013 Quay.io format sends updated_tags as an object, tag → v1 image id; its keys are the tags.
import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { ImageTagEvent, Webhook } from '../domain/types';
import { registryHostProblem, repositoryProblem, tagProblem } from './image-fields';
import { parseJsonAs } from './parse-json';
import type { NormalizeResult, WebhookProvider, WebhookRequest } from '../domain/webhook-provider';
import { authenticatePathSecret } from './verify';

const payloadSchema = z.object({
  repository: z.string().min(1),
  docker_url: z.string().nullish(),
  updated_tags: z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())]).nullish(),
});

/** The registry host: docker_url's host part, else the webhook's login server, else why there is none. */
function registryHost(dockerUrl: string | null | undefined, webhook: Webhook): { host: string } | { reason: string } {
  const fromUrl = dockerUrl ? dockerUrl.split('/', 1)[0]! : '';
  if (fromUrl !== '' && !registryHostProblem(fromUrl)) return { host: fromUrl };
  if (webhook.loginServer) {
    const problem = registryHostProblem(webhook.loginServer);
    return problem ? { reason: `the webhook's login server: ${problem}` } : { host: webhook.loginServer };
  }
  return {
    reason: dockerUrl
      ? `docker_url "${dockerUrl}" does not start with a registry host and the webhook has no login server`
      : 'the notification has no docker_url and the webhook has no login server',
  };
}

export const quayProvider: WebhookProvider = {
  name: 'quay',
  kind: 'registry',
  secretIn: 'path',
  setupInstructions: ({ url }) =>
    [
      'In Quay, open the repository → Settings → Events and Notifications → Create Notification:',
      '  When this event occurs:      Push to Repository',
      '  Then issue a notification:   Webhook POST',
      `  Webhook URL:                 ${url}`,
      '  POST JSON body template:     leave empty',
      'Quay cannot sign its deliveries: the secret is the last segment of that URL, so keep the URL private.',
      'Quay sends no digest: cascade asks the registry for the digest of each pushed tag, with the credentials stored for it.',
    ].join('\n'),
  contentTypes: ['application/json'],

  authenticate(req: WebhookRequest, secrets: string[]): void {
    authenticatePathSecret(req.pathSecret, secrets);
  },

  normalize(req: WebhookRequest, webhook: Webhook): NormalizeResult {
    const payload = parseJsonAs(req.rawBody, payloadSchema, 'quay notification');
    const { repository, updated_tags: updatedTags } = payload;
    // Quay's body says nothing of the event; other notification kinds (builds, vulnerabilities)
    // have no updated_tags.
    if (updatedTags === undefined || updatedTags === null) {
      return { events: [], ignored: [{ reason: `quay notification for ${repository} has no updated_tags: only Push to Repository starts builds` }] };
    }
    const tags: unknown[] = Array.isArray(updatedTags) ? updatedTags : Object.keys(updatedTags);
    if (tags.length === 0) return { events: [], ignored: [{ reason: `push to ${repository} names no updated tags` }] };

    const registry = registryHost(payload.docker_url, webhook);
    if ('reason' in registry) return { events: [], ignored: [{ reason: `push to ${repository}: ${registry.reason}` }] };
    const repoProblem = repositoryProblem(repository);
    if (repoProblem) return { events: [], ignored: [{ reason: `push to ${registry.host}/${repository}: ${repoProblem}` }] };

    // One delivery can carry several tags: the body hash alone would make them one delivery.
    const bodyHash = createHash('sha256').update(req.rawBody).digest('hex');
    const result: NormalizeResult = { events: [], ignored: [] };
    tags.forEach((tag, index) => {
      if (typeof tag !== 'string') {
        result.ignored.push({ reason: `push to ${registry.host}/${repository}: updated_tags[${index}] is not a tag name` });
        return;
      }
      const problem = tagProblem(tag);
      if (problem) {
        result.ignored.push({ reason: `push of ${registry.host}/${repository}:${tag}: ${problem}` });
        return;
      }
      const event: ImageTagEvent = {
        kind: 'image-tag',
        source: 'quay',
        registry: registry.host,
        repository,
        tag,
        // Quay's payload carries no time.
        occurredAt: req.receivedAt,
        deliveryId: `${bodyHash}:${tag}`,
      };
      result.events.push(event);
    });
    return result;
  },
};
