// Docker Hub repository webhooks. Docker Hub neither signs nor lets the user add a header, so the
// secret is the last segment of the URL; the payload names the tag but never a digest:
//
//   POST /webhooks/<name>/<secret>   Content-Type: application/json
//   { "callback_url": "https://registry.hub.docker.com/u/svendowideit/testhook/hook/2141…/",
//     "push_data": { "pushed_at": 1417566161, "pusher": "trustedbuilder", "tag": "latest" },
//     "repository": { "repo_name": "svendowideit/testhook", "namespace": "svendowideit", "name": "testhook", … } }
//
// Older deliveries add push_data.images[] and write the epochs as floats (1.417566161e+09).
// callback_url is never read: no URL from a payload is fetched.
import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { ImageTagEvent } from '../domain/types';
import { repositoryProblem, tagProblem } from './image-fields';
import { parseJsonAs } from './parse-json';
import type { NormalizeResult, WebhookProvider, WebhookRequest } from '../domain/webhook-provider';
import { authenticatePathSecret } from './verify';

export const DOCKER_HUB_REGISTRY = 'docker.io';

// Epoch seconds after this are not a push time but a unit mix-up (milliseconds) or garbage.
const MAX_EPOCH_SECONDS = 32503680000; // 3000-01-01

const payloadSchema = z.object({
  push_data: z.object({
    tag: z.string().nullish(),
    pushed_at: z.unknown().optional(),
  }),
  repository: z
    .object({
      repo_name: z.string().min(1).nullish(),
      namespace: z.string().min(1).nullish(),
      name: z.string().min(1).nullish(),
    })
    .refine((r) => Boolean(r.repo_name || r.name), 'expected repo_name or name'),
});
type Payload = z.infer<typeof payloadSchema>;

/** `ns/name` as Docker Hub names it; official images have no namespace and live under `library/`. */
function repositoryName(repository: Payload['repository']): string {
  const name = repository.repo_name || (repository.namespace ? `${repository.namespace}/${repository.name}` : repository.name!);
  return name.includes('/') ? name : `library/${name}`;
}

/** pushed_at as UTC ISO, the receipt time when absent, or undefined when it is not a time. */
function pushedAt(value: unknown, receivedAt: string): string | undefined {
  if (value === undefined || value === null) return receivedAt;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_EPOCH_SECONDS) return undefined;
  return new Date(Math.round(value * 1000)).toISOString();
}

export const dockerhubProvider: WebhookProvider = {
  name: 'dockerhub',
  kind: 'registry',
  secretIn: 'path',
  setupInstructions: ({ url }) =>
    [
      'On Docker Hub, open the repository → Webhooks, then create a webhook:',
      '  Webhook name:  cascade',
      `  Webhook URL:   ${url}`,
      'Docker Hub cannot sign its deliveries: the secret is the last segment of that URL, so keep the URL private.',
      'Docker Hub sends no digest: cascade asks docker.io for the digest of the pushed tag, with the credentials stored for docker.io.',
    ].join('\n'),
  contentTypes: ['application/json'],

  authenticate(req: WebhookRequest, secrets: string[]): void {
    authenticatePathSecret(req.pathSecret, secrets);
  },

  normalize(req: WebhookRequest): NormalizeResult {
    const payload = parseJsonAs(req.rawBody, payloadSchema, 'docker hub webhook payload');
    const repository = repositoryName(payload.repository);
    const tag = payload.push_data.tag ?? '';
    if (tag === '') return { events: [], ignored: [{ reason: `push to ${repository} names no tag` }] };

    const reference = `${DOCKER_HUB_REGISTRY}/${repository}:${tag}`;
    const problem = repositoryProblem(repository) ?? tagProblem(tag);
    if (problem) return { events: [], ignored: [{ reason: `push of ${reference}: ${problem}` }] };
    const occurredAt = pushedAt(payload.push_data.pushed_at, req.receivedAt);
    if (!occurredAt) {
      return { events: [], ignored: [{ reason: `push of ${reference}: invalid push_data.pushed_at ${JSON.stringify(payload.push_data.pushed_at).slice(0, 64)}` }] };
    }

    const event: ImageTagEvent = {
      kind: 'image-tag',
      source: 'dockerhub',
      registry: DOCKER_HUB_REGISTRY,
      repository,
      tag,
      occurredAt,
      // Docker Hub gives a delivery no id: a redelivery repeats the same bytes.
      deliveryId: createHash('sha256').update(req.rawBody).digest('hex'),
    };
    return { events: [event], ignored: [] };
  },
};
