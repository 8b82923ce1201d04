// Harbor project webhooks, in either payload format. Harbor signs nothing; the policy's
// "auth header" is sent verbatim as the Authorization header. Each resource is one artifact:
//
//   Default     Content-Type: application/json
//   { "type": "PUSH_ARTIFACT", "occur_at": 1586922308, "operator": "admin",
//     "event_data": { "resources": [ { "digest": "sha256:8a9e…", "tag": "latest",
//                                      "resource_url": "hub.harbor.com/test-webhook/debian:latest" } ],
//                     "repository": { "name": "debian", "namespace": "test-webhook", "repo_full_name": "test-webhook/debian", … } } }
//
//   CloudEvents Content-Type: application/cloudevents+json
//   { "specversion": "1.0", "id": "66e18103-…", "type": "harbor.artifact.pushed", "time": "2023-04-03T06:04:46Z",
//     "source": "/projects/2/webhook/policies/15", "data": { "resources": [ … ], "repository": { … } }, … }
//
// An artifact pushed by digest has its digest in the `tag` field.
import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { ImageDeleteEvent, ImageEvent, Webhook } from '../domain/types';
import { digestProblem, registryHostProblem, repositoryProblem, tagProblem, toUtcIso } from './image-fields';
import { describeIssues, parseJson, validateAs } from './parse-json';
import type { NormalizeResult, WebhookProvider, WebhookRequest } from '../domain/webhook-provider';
import { authenticateBearer } from './verify';

const ACTIONS: Record<string, 'push' | 'delete' | undefined> = {
  PUSH_ARTIFACT: 'push',
  DELETE_ARTIFACT: 'delete',
  'harbor.artifact.pushed': 'push',
  'harbor.artifact.deleted': 'delete',
};

// Epoch seconds up to the year 5138: beyond, a millisecond value was sent by mistake.
const MAX_EPOCH_SECONDS = 1e11;

const formatSchema = z.object({ specversion: z.unknown().optional() });

const defaultSchema = z.object({ type: z.string().min(1), occur_at: z.number(), event_data: z.unknown().optional() });

const cloudEventSchema = z.object({
  specversion: z.string(),
  id: z.string().min(1),
  type: z.string().min(1),
  time: z.string().optional(),
  // Optional in CloudEvents; a push without it fails when its data is read.
  data: z.unknown().optional(),
});

const artifactDataSchema = z.object({
  resources: z.array(z.unknown()),
  repository: z
    .object({ name: z.string().optional(), namespace: z.string().optional(), repo_full_name: z.string().optional() })
    .refine((r) => Boolean(r.repo_full_name || (r.namespace && r.name)), 'expected repo_full_name, or namespace and name'),
});

const resourceSchema = z.object({
  digest: z.string().optional(),
  tag: z.string().optional(),
  resource_url: z.string().optional(),
});
type Resource = z.infer<typeof resourceSchema>;

/** What both formats say about one notification, once its format is read. */
interface Notification {
  type: string;
  data: unknown;
  /** Undefined when the time given is unusable; `timeText` then says what was sent. */
  occurredAt: string | undefined;
  timeText: string;
  /** Per-resource delivery ids are `${deliveryBase}:${index}`. */
  deliveryBase: string;
}

function readNotification(req: WebhookRequest, body: unknown): Notification {
  if (validateAs(body, formatSchema, 'harbor notification').specversion !== undefined) {
    const event = validateAs(body, cloudEventSchema, 'harbor cloudevent');
    return {
      type: event.type,
      data: event.data,
      occurredAt: event.time === undefined ? undefined : toUtcIso(event.time),
      timeText: `time "${event.time ?? ''}"`,
      deliveryBase: event.id,
    };
  }
  const event = validateAs(body, defaultSchema, 'harbor notification');
  const seconds = event.occur_at;
  const usable = Number.isInteger(seconds) && seconds > 0 && seconds < MAX_EPOCH_SECONDS;
  return {
    type: event.type,
    data: event.event_data,
    occurredAt: usable ? new Date(seconds * 1000).toISOString() : undefined,
    timeText: `occur_at ${seconds}`,
    // The default format has no id, and occur_at alone is shared by every push of the same
    // second; the body is the same bytes on every retry, so its hash tells deliveries apart.
    deliveryBase: `${seconds}:${createHash('sha256').update(req.rawBody).digest('hex').slice(0, 16)}`,
  };
}

/** The registry host from resource_url (`host[:port]/repo:tag`), else the webhook's login server. */
function registryOf(resource: Resource, webhook: Webhook): { registry: string } | { problem: string } {
  const url = resource.resource_url ?? '';
  const slash = url.indexOf('/');
  const host = slash > 0 ? url.slice(0, slash) : undefined;
  const hostProblem = host === undefined ? undefined : registryHostProblem(host);
  if (host !== undefined && !hostProblem) return { registry: host };
  if (webhook.loginServer && !registryHostProblem(webhook.loginServer)) return { registry: webhook.loginServer };
  const said = host === undefined ? `no host in resource_url "${url}"` : `${hostProblem} in resource_url`;
  return { problem: `${said} and the webhook has no login server` };
}

function toEvent(
  action: 'push' | 'delete',
  repository: string,
  resource: Resource,
  notification: Notification,
  deliveryId: string,
  webhook: Webhook,
): ImageEvent | ImageDeleteEvent | { reason: string } {
  const digest = resource.digest || undefined;
  // Harbor fills `tag` with the digest when the artifact was pushed by digest.
  const tag = resource.tag && resource.tag !== digest ? resource.tag : undefined;
  if (!tag) {
    const reference = digest ? `${repository}@${digest}` : repository;
    return { reason: action === 'push' ? `push of ${reference} has no tag (pushed by digest)` : `delete of ${reference} names no tag` };
  }
  const reference = `${repository}:${tag}`;
  const problem =
    repositoryProblem(repository) ??
    tagProblem(tag) ??
    (action === 'push' ? (digest === undefined ? 'no digest' : digestProblem(digest)) : undefined);
  if (problem) return { reason: `${action} of ${reference}: ${problem}` };
  const host = registryOf(resource, webhook);
  if ('problem' in host) return { reason: `${action} of ${reference}: ${host.problem}` };
  const { occurredAt } = notification;
  if (!occurredAt) return { reason: `${action} of ${reference}: invalid ${notification.timeText}` };

  if (action === 'delete') {
    return {
      kind: 'image-delete',
      source: 'harbor',
      registry: host.registry,
      repository,
      tag,
      ...(digest && !digestProblem(digest) && { digest }),
      occurredAt,
      deliveryId,
    };
  }
  return { kind: 'image', source: 'harbor', registry: host.registry, repository, tag, digest: digest!, occurredAt, deliveryId };
}

export const harborProvider: WebhookProvider = {
  name: 'harbor',
  kind: 'registry',
  secretIn: 'header',
  setupInstructions: ({ url, secret, webhook }) =>
    [
      'In the Harbor project: Webhooks → New Webhook',
      '  Name:                       cascade',
      '  Notify Type:                http',
      '  Payload Format:             Default (CloudEvents works too)',
      '  Event Type:                 Artifact pushed, Artifact deleted',
      `  Endpoint URL:               ${url}`,
      `  Auth Header:                Bearer ${secret}`,
      '  Verify Remote Certificate:  on',
      '',
      `The registry host is read from each resource_url (Harbor's external URL)${
        webhook.loginServer ? `, or is ${webhook.loginServer} when a notification carries none` : ''
      }.`,
    ].join('\n'),
  contentTypes: ['application/json', 'application/cloudevents+json'],

  authenticate(req: WebhookRequest, secrets: string[]): void {
    authenticateBearer(req, secrets);
  },

  normalize(req: WebhookRequest, webhook: Webhook): NormalizeResult {
    const notification = readNotification(req, parseJson(req.rawBody, 'harbor notification'));
    const action = Object.hasOwn(ACTIONS, notification.type) ? ACTIONS[notification.type] : undefined;
    if (!action) return { events: [], ignored: [{ reason: `harbor event ${notification.type} is not a push or a delete` }] };

    const data = validateAs(notification.data, artifactDataSchema, `harbor ${notification.type} data`);
    const repo = data.repository;
    const repository = repo.repo_full_name || `${repo.namespace}/${repo.name}`;
    const result: NormalizeResult = { events: [], ignored: [] };
    data.resources.forEach((raw, index) => {
      const parsed = resourceSchema.safeParse(raw);
      if (!parsed.success) {
        result.ignored.push({ reason: `resource #${index} is malformed: ${describeIssues(parsed.error)}` });
        return;
      }
      const outcome = toEvent(action, repository, parsed.data, notification, `${notification.deliveryBase}:${index}`, webhook);
      if ('reason' in outcome) result.ignored.push(outcome);
      else result.events.push(outcome);
    });
    return result;
  },
};
