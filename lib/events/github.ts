// GitHub webhooks. Only branch pushes are triggers; the signature covers the raw body:
//
//   POST  X-GitHub-Event: push   X-GitHub-Delivery: 72d3162e-…   X-Hub-Signature-256: sha256=<hmac hex>
//   { "ref": "refs/heads/main", "before": "737d…", "after": "fd48…", "created": false, "deleted": false,
//     "repository": { "full_name": "o/r", "clone_url": "https://github.com/o/r.git", … }, "commits": [ … ] }
//
// With content type application/x-www-form-urlencoded the same JSON is in the `payload` field.
import { z } from 'zod';
import { UnauthorizedError, ValidationError } from '../domain/errors';
import type { GitEvent } from '../domain/types';
import { mediaType } from './content-type';
import { parseJsonAs } from './parse-json';
import type { NormalizeResult, WebhookProvider, WebhookRequest } from './provider';
import { anySecret, hmacSha256Hex, safeEqual } from './verify';

const SIGNATURE = /^sha256=([0-9a-fA-F]{64})$/;
// SHA-1 today; SHA-256 object names for repositories that use them.
const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const ZERO_COMMIT = /^0+$/;

const pushSchema = z.object({
  ref: z.string().min(1),
  after: z.string().regex(COMMIT, 'expected a commit id (40 or 64 lower-case hex digits)'),
  deleted: z.boolean().optional(),
  repository: z
    .object({
      full_name: z.string().optional(),
      clone_url: z.string().min(1).optional(),
      html_url: z.string().min(1).optional(),
    })
    .refine((r) => r.clone_url !== undefined || r.html_url !== undefined, 'expected clone_url or html_url'),
});

/** The JSON text of the delivery, wherever the content type put it. */
function payloadText(req: WebhookRequest): Buffer | string {
  if (mediaType(req.headers['content-type']) !== 'application/x-www-form-urlencoded') return req.rawBody;
  const payload = new URLSearchParams(req.rawBody.toString('utf8')).get('payload');
  if (payload === null) throw new ValidationError('github form-encoded delivery has no payload field', 'payload');
  return payload;
}

function normalizePush(req: WebhookRequest): NormalizeResult {
  const push = parseJsonAs(payloadText(req), pushSchema, 'github push payload');
  const { ref, after } = push;
  if (push.deleted === true || ZERO_COMMIT.test(after)) {
    return { events: [], ignored: [{ reason: `deletion of ${ref} is not a build trigger` }] };
  }
  if (ref.startsWith('refs/tags/')) {
    return { events: [], ignored: [{ reason: `tag push ${ref} is not a branch push` }] };
  }
  if (!ref.startsWith('refs/heads/') || ref === 'refs/heads/') {
    return { events: [], ignored: [{ reason: `push to ${ref} is not a branch push` }] };
  }
  const repoUrl = (push.repository.clone_url ?? push.repository.html_url)!;
  const event: GitEvent = {
    kind: 'git',
    source: 'github',
    repoUrl,
    ref,
    commit: after,
    deliveryId: req.headers['x-github-delivery'] || `${push.repository.full_name ?? repoUrl}@${after}`,
  };
  return { events: [event], ignored: [] };
}

export const githubProvider: WebhookProvider = {
  name: 'github',
  kind: 'git',
  secretIn: 'header',
  setupInstructions: ({ url, secret }) =>
    [
      'In the repository: Settings → Webhooks → Add webhook',
      `  Payload URL:   ${url}`,
      '  Content type:  application/json',
      `  Secret:        ${secret}`,
      '  Events:        Just the push event',
    ].join('\n'),
  contentTypes: ['application/json', 'application/x-www-form-urlencoded'],

  authenticate(req: WebhookRequest, secrets: string[]): void {
    const header = req.headers['x-hub-signature-256'];
    if (header === undefined || header === '') throw new UnauthorizedError('missing X-Hub-Signature-256 header');
    const match = SIGNATURE.exec(header.trim());
    if (!match) throw new UnauthorizedError('X-Hub-Signature-256 must be "sha256=" followed by 64 hex digits');
    const given = match[1]!.toLowerCase();
    if (!anySecret(secrets, (secret) => safeEqual(given, hmacSha256Hex(secret, req.rawBody)))) {
      throw new UnauthorizedError('X-Hub-Signature-256 does not match the body');
    }
  },

  normalize(req: WebhookRequest): NormalizeResult {
    const type = req.headers['x-github-event'];
    if (!type) throw new ValidationError('missing X-GitHub-Event header', 'x-github-event');
    if (type === 'ping') return { events: [], ignored: [{ reason: 'ping' }], ping: true };
    if (type === 'push') return normalizePush(req);
    return { events: [], ignored: [{ reason: `github event ${type} is not a push` }] };
  },
};
