// JFrog Artifactory (JFrog Platform) webhooks, domain "docker". The event data names the
// Artifactory repository and image but not the host clients pull from, so the webhook's login
// server supplies it:
//
//   POST  X-JFrog-Event-Auth: <secret token, or hex HMAC-SHA256 of the body>   Content-Type: application/json
//   { "domain": "docker", "event_type": "pushed",
//     "data": { "repo_key": "docker-local", "path": "library/ubuntu/latest/list.manifest.json",
//               "name": "list.manifest.json", "sha256": "35c4a2c1…", "size": 1206,
//               "image_name": "library/ubuntu", "tag": "latest", "platforms": [ … ] },
//     "subscription_key": "cascade", "jpd_origin": "https://example.jfrog.io", "source": "jfrog/user@example.com" }
//
// `sha256` is the checksum of the stored manifest file, which is the manifest digest. JFrog's own
// examples and its Test button send placeholders ("sample_checksum").
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { UnauthorizedError, ValidationError } from '../domain/errors';
import type { ImageDeleteEvent, ImageEvent, Webhook } from '../domain/types';
import { digestProblem, registryHostProblem, repositoryProblem, tagProblem } from './image-fields';
import { parseJsonAs } from './parse-json';
import type { NormalizeResult, WebhookProvider, WebhookRequest } from '../domain/webhook-provider';
import { anySecret, hmacSha256Hex, safeEqual } from './verify';

const bodySchema = z.object({
  domain: z.string().min(1),
  event_type: z.string().min(1),
  data: z.unknown(),
});

const dockerDataSchema = z.object({
  repo_key: z.string().min(1),
  image_name: z.string().min(1),
  tag: z.string().min(1),
  sha256: z.string().nullish(),
});
type DockerData = z.infer<typeof dockerDataSchema>;

/** The manifest checksum must be a sha256 digest's hex: placeholders are not. */
function checksumProblem(sha256: string): string | undefined {
  if (sha256 === '') return 'no data.sha256';
  if (!digestProblem(`sha256:${sha256}`)) return undefined;
  return `data.sha256 "${sha256.slice(0, 80)}" is not a manifest checksum (expected 64 lower-case hex digits)`;
}

/** `data.repo_key: expected string`, naming the field inside `data`. */
function dataIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${['data', ...issue.path.map(String)].join('.')}: ${issue.message}` : 'data: invalid';
}

type Outcome = ImageEvent | ImageDeleteEvent | { reason: string };

function toEvent(eventType: string, data: DockerData, webhook: Webhook, req: WebhookRequest): Outcome {
  // Artifactory's repository path access method: <host>/<repo_key>/<image>.
  const repository = `${data.repo_key}/${data.image_name}`;
  const subject = `${repository}:${data.tag}`;
  if (eventType !== 'pushed' && eventType !== 'deleted') {
    // A promotion's data names one repository without saying whether it is the source or the target.
    return { reason: `docker ${eventType} of ${subject} is not a push or a delete` };
  }
  const registry = webhook.loginServer;
  if (!registry) {
    return { reason: `${eventType} ${subject}: Artifactory does not say its registry host; set it with --login-server on the webhook` };
  }
  const reference = `${registry}/${subject}`;
  const sha256 = data.sha256 ?? '';
  const problem =
    registryHostProblem(registry) ??
    repositoryProblem(repository) ??
    tagProblem(data.tag) ??
    checksumProblem(sha256);
  if (problem) return { reason: `${eventType} ${reference}: ${problem}` };

  const common = {
    source: 'artifactory',
    registry,
    repository,
    tag: data.tag,
    digest: `sha256:${sha256}`,
    // The payload carries no time.
    occurredAt: req.receivedAt,
    // Nor an id: a redelivery repeats the same bytes.
    deliveryId: createHash('sha256').update(req.rawBody).digest('hex'),
  };
  return eventType === 'pushed' ? { kind: 'image', ...common } : { kind: 'image-delete', ...common };
}

export const artifactoryProvider: WebhookProvider = {
  name: 'artifactory',
  kind: 'registry',
  secretIn: 'header',
  setupInstructions: ({ url, secret, webhook }) =>
    [
      'In the JFrog Platform: Administration → General → Webhooks (Platform → Integrations → Webhooks) → New Webhook, Predefined:',
      `  URL:           ${url}`,
      '  Events:        Docker → Docker tag was pushed, Docker tag was deleted; choose the Docker repositories',
      `  Secret token:  ${secret}`,
      '  Use secret for payload signing: either setting works',
      webhook.loginServer
        ? `Pushes are read as images on ${webhook.loginServer}/<repository key>/<image> (repository path access).`
        : 'The payload does not name the registry host: recreate the webhook with --login-server <host your clients pull from>.',
    ].join('\n'),
  contentTypes: ['application/json'],

  authenticate(req: WebhookRequest, secrets: string[]): void {
    const header = req.headers['x-jfrog-event-auth'];
    if (header === undefined || header === '') throw new UnauthorizedError('missing X-JFrog-Event-Auth header');
    const given = header.trim();
    const matches = (secret: string) => {
      // Both comparisons always run, so the time taken does not tell a token from a signature.
      const token = safeEqual(given, secret);
      const signature = safeEqual(given.toLowerCase(), hmacSha256Hex(secret, req.rawBody));
      return token || signature;
    };
    if (!anySecret(secrets, matches)) {
      throw new UnauthorizedError('X-JFrog-Event-Auth is neither the webhook secret nor the HMAC-SHA256 of the body');
    }
  },

  normalize(req: WebhookRequest, webhook: Webhook): NormalizeResult {
    const body = parseJsonAs(req.rawBody, bodySchema, 'artifactory webhook payload');
    if (body.domain !== 'docker') {
      return { events: [], ignored: [{ reason: `artifactory ${body.domain} event ${body.event_type} is not a docker event` }] };
    }
    const data = dockerDataSchema.safeParse(body.data);
    if (!data.success) throw new ValidationError(`artifactory docker event is malformed: ${dataIssue(data.error)}`, 'body');
    const outcome = toEvent(body.event_type, data.data, webhook, req);
    return 'reason' in outcome ? { events: [], ignored: [outcome] } : { events: [outcome], ignored: [] };
  },
};
