// Azure Container Registry webhooks. ACR signs nothing and adds no header of its own; the
// webhook's custom headers carry the secret. One event per request, not an envelope:
//
//   POST  Authorization: Bearer <secret>   Content-Type: application/json
//   { "id": "cb8c3971-…", "timestamp": "2017-11-17T16:52:01.343145347Z", "action": "push",
//     "target": { "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": "sha256:80f0…",
//                 "repository": "hello-world", "tag": "v1", "size": 524, "length": 524 },
//     "request": { "id": "3cbb6949-…", "host": "myregistry.azurecr.io", "method": "PUT", "useragent": "docker/17.09.0-ce …" } }
//
// Other actions: delete (of a manifest: no tag), chart_push and chart_delete (legacy Helm
// repositories, no request object), quarantine, and ping from "az acr webhook ping".
import * as z from 'zod';
import type { ImageDeleteEvent, ImageEvent, Webhook } from '../domain/types';
import { IMAGE_MANIFEST_MEDIA_TYPES, digestProblem, registryHostProblem, repositoryProblem, tagProblem, toUtcIso } from './image-fields';
import { parseJson, validateAs } from './parse-json';
import type { NormalizeResult, WebhookProvider, WebhookRequest } from '../domain/webhook-provider';
import { authenticateBearer } from './verify';

// A ping's target may be empty, so the action is read before the target is validated.
const actionSchema = z.object({ action: z.string().min(1) });

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
type AcrEvent = z.infer<typeof eventSchema>;

function describeTarget(target: AcrEvent['target']): string {
  if (target.tag) return `${target.repository}:${target.tag}`;
  if (target.digest) return `${target.repository}@${target.digest}`;
  return target.repository;
}

/** request.host is the login server the client used; the webhook's is a fallback. */
function registryOf(event: AcrEvent, webhook: Webhook): { registry: string } | { problem: string } {
  const registry = event.request?.host || webhook.loginServer;
  if (!registry) return { problem: 'the event has no request.host and the webhook has no login server' };
  const problem = registryHostProblem(registry);
  return problem ? { problem } : { registry };
}

function toEvent(event: AcrEvent, webhook: Webhook): ImageEvent | ImageDeleteEvent | { reason: string } {
  const { action, target } = event;
  const reference = describeTarget(target);
  if (action === 'chart_push' || action === 'chart_delete') {
    return { reason: `${action} of ${reference} is a Helm chart, not an image` };
  }
  if (action === 'quarantine') return { reason: `quarantine of ${reference} is not a push (the image is held until it is scanned)` };
  if (action !== 'push' && action !== 'delete') return { reason: `${action} of ${reference} is not a push` };
  if (!target.tag) {
    return { reason: action === 'push' ? `push of ${reference} has no tag` : `delete of ${reference} names no tag` };
  }

  if (action === 'push' && target.mediaType && !IMAGE_MANIFEST_MEDIA_TYPES.has(target.mediaType)) {
    return { reason: `push of ${target.mediaType} to ${target.repository} is not an image manifest` };
  }
  const problem =
    repositoryProblem(target.repository) ??
    tagProblem(target.tag) ??
    (action === 'push' ? (target.digest === undefined ? 'no digest' : digestProblem(target.digest)) : undefined);
  if (problem) return { reason: `${action} of ${reference}: ${problem}` };
  const host = registryOf(event, webhook);
  if ('problem' in host) return { reason: `${action} of ${reference}: ${host.problem}` };
  const occurredAt = toUtcIso(event.timestamp);
  if (!occurredAt) return { reason: `${action} of ${reference}: invalid timestamp "${event.timestamp}"` };

  if (action === 'delete') {
    return {
      kind: 'image-delete',
      source: 'acr',
      registry: host.registry,
      repository: target.repository,
      tag: target.tag,
      ...(target.digest && !digestProblem(target.digest) && { digest: target.digest }),
      occurredAt,
      deliveryId: event.id,
    };
  }
  return {
    kind: 'image',
    source: 'acr',
    registry: host.registry,
    repository: target.repository,
    tag: target.tag,
    digest: target.digest!,
    occurredAt,
    deliveryId: event.id,
  };
}

/** `myregistry.azurecr.io` → `myregistry`, the name `az acr` takes. */
function registryName(loginServer: string | undefined): string {
  return /^([a-z0-9]+)\.azurecr\./i.exec(loginServer ?? '')?.[1] ?? '<registry-name>';
}

export const acrProvider: WebhookProvider = {
  name: 'acr',
  kind: 'registry',
  secretIn: 'header',
  setupInstructions: ({ url, secret, webhook }) =>
    [
      'In the Azure portal: your container registry → Services → Webhooks → Add',
      '  Webhook name:    cascade',
      `  Service URI:     ${url}`,
      `  Custom headers:  Authorization: Bearer ${secret}`,
      '  Actions:         push, delete',
      '  Status:          On',
      '  Scope:           empty for every repository (or e.g. baseimages/node:* for one)',
      '',
      'or with the Azure CLI:',
      `  az acr webhook create --registry ${registryName(webhook.loginServer)} --name cascade --uri '${url}' --actions push delete --headers 'Authorization=Bearer ${secret}'`,
    ].join('\n'),
  // ACR sends application/json unless the user overrides Content-Type with a custom header.
  contentTypes: ['application/json'],

  authenticate(req: WebhookRequest, secrets: string[]): void {
    authenticateBearer(req, secrets);
  },

  normalize(req: WebhookRequest, webhook: Webhook): NormalizeResult {
    const body = parseJson(req.rawBody, 'acr event');
    if (validateAs(body, actionSchema, 'acr event').action === 'ping') return { events: [], ignored: [{ reason: 'ping' }], ping: true };
    const outcome = toEvent(validateAs(body, eventSchema, 'acr event'), webhook);
    return 'reason' in outcome ? { events: [], ignored: [outcome] } : { events: [outcome], ignored: [] };
  },
};
