// GitHub webhooks. Only branch pushes are triggers; the signature covers the raw body:
//
//   POST  X-GitHub-Event: push   X-GitHub-Delivery: 72d3162e-…   X-Hub-Signature-256: sha256=<hmac hex>
//   { "ref": "refs/heads/main", "before": "737d…", "after": "fd48…", "created": false, "deleted": false,
//     "repository": { "full_name": "o/r", "clone_url": "https://github.com/o/r.git", … }, "commits": [ … ] }
//
// With content type application/x-www-form-urlencoded the same JSON is in the `payload` field.
import * as z from 'zod';
import { ValidationError } from '../domain/errors';
import type { GitEvent } from '../domain/types';
import { COMMIT, COMMIT_MESSAGE, refUpdateSkipReason } from './git-ref';
import { githubPayloadText, verifyGithubSignature } from './github-delivery';
import { parseJsonAs } from './parse-json';
import type { NormalizeResult, WebhookProvider, WebhookRequest } from '../domain/webhook-provider';

const pushSchema = z.object({
  ref: z.string().min(1),
  after: z.string().regex(COMMIT, COMMIT_MESSAGE),
  deleted: z.boolean().optional(),
  repository: z
    .object({
      full_name: z.string().optional(),
      clone_url: z.string().min(1).optional(),
      html_url: z.string().min(1).optional(),
    })
    .refine((r) => r.clone_url !== undefined || r.html_url !== undefined, 'expected clone_url or html_url'),
});

// What every ping carries (the webhook's id and configuration, and a proverb); the rest varies with the hook type.
const pingSchema = z.object({
  zen: z.string().min(1),
  hook_id: z.number().int().positive(),
  hook: z.object({}),
});

function normalizePush(req: WebhookRequest): NormalizeResult {
  const push = parseJsonAs(githubPayloadText(req, 'github'), pushSchema, 'github push payload');
  const { ref, after } = push;
  const skip = refUpdateSkipReason(ref, after, push.deleted === true);
  if (skip) return { events: [], ignored: [{ reason: skip }] };
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
    verifyGithubSignature(req, secrets);
  },

  normalize(req: WebhookRequest): NormalizeResult {
    const type = req.headers['x-github-event'];
    if (!type) throw new ValidationError('missing X-GitHub-Event header', 'x-github-event');
    if (type === 'ping') {
      parseJsonAs(githubPayloadText(req, 'github'), pingSchema, 'github ping payload');
      return { events: [], ignored: [{ reason: 'ping' }], ping: true };
    }
    if (type === 'push') return normalizePush(req);
    return { events: [], ignored: [{ reason: `github event ${type} is not a push` }] };
  },
};
