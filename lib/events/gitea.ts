// Gitea, Forgejo and Gogs: one payload format (GitHub's push, nearly), each forge naming its own
// headers, and the signature a bare hex HMAC-SHA256 of the raw body:
//
//   POST  X-Gitea-Event: push   X-Gitea-Delivery: f6266f16-…   X-Gitea-Signature: <hmac hex>
//         (Forgejo adds X-Forgejo-*, and both also send the X-Gogs-* aliases)
//   { "ref": "refs/heads/develop", "before": "28e1…", "after": "bffe…",
//     "repository": { "full_name": "gitea/webhooks", "clone_url": "http://localhost:3000/gitea/webhooks.git", … },
//     "commits": [ … ], "secret": "…" }
//
// The in-body `secret` of old Gitea versions proves nothing (anyone can write it) and is never read.
import * as z from 'zod';
import { UnauthorizedError, ValidationError } from '../domain/errors';
import type { GitEvent } from '../domain/types';
import { COMMIT, COMMIT_MESSAGE, refUpdateSkipReason } from './git-ref';
import { parseJsonAs } from './parse-json';
import type { NormalizeResult, WebhookProvider, WebhookRequest } from '../domain/webhook-provider';
import { anySecret, hmacSha256Hex, safeEqual } from './verify';

const FORGES = ['gitea', 'forgejo', 'gogs'] as const;
const SIGNATURE = /^[0-9a-fA-F]{64}$/;

const pushSchema = z.object({
  ref: z.string().min(1),
  after: z.string().regex(COMMIT, COMMIT_MESSAGE),
  repository: z
    .object({
      full_name: z.string().min(1).optional(),
      clone_url: z.string().min(1).optional(),
      html_url: z.string().min(1).optional(),
    })
    .refine((r) => r.clone_url !== undefined || r.html_url !== undefined, 'expected clone_url or html_url'),
});

/** The non-empty values of X-<Forge>-<suffix>, for every forge that sent one. */
function forgeHeaders(req: WebhookRequest, suffix: string): string[] {
  return FORGES.map((forge) => req.headers[`x-${forge}-${suffix}`]).filter((v): v is string => v !== undefined && v !== '');
}

function normalizePush(req: WebhookRequest): NormalizeResult {
  const push = parseJsonAs(req.rawBody, pushSchema, 'gitea push payload');
  const { ref, after } = push;
  const skip = refUpdateSkipReason(ref, after);
  if (skip) return { events: [], ignored: [{ reason: skip }] };
  const repoUrl = (push.repository.clone_url ?? push.repository.html_url)!;
  const event: GitEvent = {
    kind: 'git',
    source: 'gitea',
    repoUrl,
    ref,
    commit: after,
    deliveryId: forgeHeaders(req, 'delivery')[0] ?? `${push.repository.full_name ?? repoUrl}@${after}`,
  };
  return { events: [event], ignored: [] };
}

export const giteaProvider: WebhookProvider = {
  name: 'gitea',
  kind: 'git',
  secretIn: 'header',
  setupInstructions: ({ url, secret }) =>
    [
      'In the repository (or organization): Settings → Webhooks → Add webhook → Gitea (Forgejo: Forgejo, Gogs: Gogs)',
      `  Target URL:         ${url}`,
      '  HTTP method:        POST',
      '  POST content type:  application/json',
      `  Secret:             ${secret}`,
      '  Trigger on:         Push events',
      '  Branch filter:      *',
    ].join('\n'),
  // Gitea's form-encoded variant signs the JSON inside the form rather than the bytes sent.
  contentTypes: ['application/json'],

  authenticate(req: WebhookRequest, secrets: string[]): void {
    const signatures = forgeHeaders(req, 'signature');
    if (signatures.length === 0) {
      throw new UnauthorizedError('missing X-Gitea-Signature (or X-Forgejo-Signature / X-Gogs-Signature) header');
    }
    if (!signatures.every((s) => SIGNATURE.test(s.trim()))) {
      throw new UnauthorizedError('the signature header must be 64 hex digits, without a "sha256=" prefix');
    }
    const given = signatures.map((s) => s.trim().toLowerCase());
    // Every header present must verify: they are the same HMAC under different names, so one that
    // differs was not written by the forge.
    const verified = anySecret(secrets, (secret) => {
      const expected = hmacSha256Hex(secret, req.rawBody);
      return given.map((signature) => safeEqual(signature, expected)).every(Boolean);
    });
    if (!verified) throw new UnauthorizedError('the signature does not match the body');
  },

  normalize(req: WebhookRequest): NormalizeResult {
    const types = [...new Set(forgeHeaders(req, 'event'))];
    if (types.length === 0) throw new ValidationError('missing X-Gitea-Event (or X-Forgejo-Event / X-Gogs-Event) header', 'x-gitea-event');
    if (types.length > 1) throw new ValidationError(`the event headers disagree: ${types.join(', ')}`, 'x-gitea-event');
    const type = types[0]!;
    if (type === 'push') return normalizePush(req);
    // A created branch also arrives as a push event: building on create too would build it twice.
    return { events: [], ignored: [{ reason: `gitea event ${type} is not a push` }] };
  },
};
