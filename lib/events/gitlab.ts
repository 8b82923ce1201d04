// GitLab project hooks and system hooks. Only pushes to branches are triggers; GitLab signs
// nothing but echoes the secret token verbatim:
//
//   POST  X-Gitlab-Event: Push Hook   X-Gitlab-Token: <secret>   Idempotency-Key: 908a6d9e-…
//   { "object_kind": "push", "event_name": "push", "ref": "refs/heads/master",
//     "before": "9579…", "after": "da15…", "checkout_sha": "da15…",
//     "project": { "path_with_namespace": "mike/diaspora", "git_http_url": "http://example.com/mike/diaspora.git", … },
//     "commits": [ … ], "total_commits_count": 4 }
//
// System hooks (X-Gitlab-Event: System Hook) send the same body with only event_name; tag pushes
// come as object_kind tag_push.
import * as z from 'zod';
import { UnauthorizedError } from '../domain/errors';
import type { GitEvent } from '../domain/types';
import { COMMIT, COMMIT_MESSAGE, refUpdateSkipReason } from './git-ref';
import { parseJson, validateAs } from './parse-json';
import type { NormalizeResult, WebhookProvider, WebhookRequest } from '../domain/webhook-provider';
import { anySecret, safeEqual } from './verify';

const kindSchema = z
  .object({ object_kind: z.string().min(1).optional(), event_name: z.string().min(1).optional() })
  .refine((body) => body.object_kind !== undefined || body.event_name !== undefined, 'expected object_kind or event_name');

const pushSchema = z
  .object({
    ref: z.string().min(1),
    // On a deletion `after` is the zero commit and checkout_sha is null, so `after` is the one to read.
    after: z.string().regex(COMMIT, COMMIT_MESSAGE),
    project: z.object({ path_with_namespace: z.string().min(1).optional(), git_http_url: z.string().min(1).optional() }).optional(),
    // Older GitLab versions and some system hooks carry the URL only here.
    repository: z.object({ git_http_url: z.string().min(1).optional() }).optional(),
  })
  .refine((push) => (push.project?.git_http_url ?? push.repository?.git_http_url) !== undefined, {
    message: 'expected project.git_http_url or repository.git_http_url',
    path: ['project'],
  });

function normalizePush(req: WebhookRequest, body: unknown, kind: string): NormalizeResult {
  const push = validateAs(body, pushSchema, `gitlab ${kind} payload`);
  const { ref, after } = push;
  const skip = refUpdateSkipReason(ref, after);
  if (skip) return { events: [], ignored: [{ reason: skip }] };

  const repoUrl = (push.project?.git_http_url ?? push.repository?.git_http_url)!;
  const event: GitEvent = {
    kind: 'git',
    source: 'gitlab',
    repoUrl,
    ref,
    commit: after,
    // Idempotency-Key stays the same when GitLab retries or a user resends the delivery.
    deliveryId:
      req.headers['idempotency-key'] || req.headers['x-gitlab-event-uuid'] || `${push.project?.path_with_namespace ?? repoUrl}@${after}`,
  };
  return { events: [event], ignored: [] };
}

export const gitlabProvider: WebhookProvider = {
  name: 'gitlab',
  kind: 'git',
  secretIn: 'header',
  setupInstructions: ({ url, secret }) =>
    [
      'In the project (or group): Settings → Webhooks → Add new webhook',
      `  URL:            ${url}`,
      `  Secret token:   ${secret}`,
      '  Trigger:        Push events (All branches)',
      '  SSL verification: Enable',
      'For a whole instance: Admin area → System hooks, with the same URL and secret token and the Push events trigger.',
    ].join('\n'),
  contentTypes: ['application/json'],

  authenticate(req: WebhookRequest, secrets: string[]): void {
    const token = req.headers['x-gitlab-token'];
    if (token === undefined || token === '') throw new UnauthorizedError('missing X-Gitlab-Token header');
    if (!anySecret(secrets, (secret) => safeEqual(token, secret))) {
      throw new UnauthorizedError('X-Gitlab-Token does not match the webhook secret');
    }
  },

  normalize(req: WebhookRequest): NormalizeResult {
    const body = parseJson(req.rawBody, 'gitlab payload');
    const { object_kind, event_name } = validateAs(body, kindSchema, 'gitlab payload');
    // Project hooks name the kind in object_kind, system hooks only in event_name.
    const kind = (object_kind ?? event_name)!;
    if (kind === 'push' || kind === 'tag_push') return normalizePush(req, body, kind);
    return { events: [], ignored: [{ reason: `gitlab event ${kind} is not a push` }] };
  },
};
