// Bitbucket Cloud and Bitbucket Server / Data Center. Both sign the raw body the same way and
// name the event in X-Event-Key, which also tells the two payload dialects apart:
//
//   Cloud   X-Event-Key: repo:push   X-Request-UUID: …   X-Hub-Signature: sha256=<hmac hex>
//   { "repository": { "full_name": "team/repo", "links": { "html": { "href": "https://bitbucket.org/team/repo" } } },
//     "push": { "changes": [ { "new": { "type": "branch", "name": "main", "target": { "hash": "709d…" } },
//                              "old": { … }, "created": false, "closed": false } ] } }
//
//   Server  X-Event-Key: repo:refs_changed   X-Request-Id: …   X-Hub-Signature: sha256=<hmac hex>
//   { "repository": { "slug": "repo", "project": { "key": "PRJ" },
//                     "links": { "clone": [ { "name": "http", "href": "https://host/scm/prj/repo.git" }, … ] } },
//     "changes": [ { "ref": { "id": "refs/heads/main", "type": "BRANCH" }, "toHash": "32a0…", "type": "UPDATE" } ] }
//
// Some Servers send no links: the repository is then known by project and slug, the path of its
// clone URLs (https://host/scm/PRJ/repo.git, ssh://git@host:7999/prj/repo.git), on the host the
// webhook was created for (--login-server) when it was given one.
//
// Each change is one event or one ignored reason. Server's "Test connection" is diagnostics:ping.
import * as z from 'zod';
import { UnauthorizedError, ValidationError } from '../domain/errors';
import { gitHost } from '../domain/git-url';
import type { GitEvent, GitRepositoryPaths, Webhook } from '../domain/types';
import { commitProblem, refUpdateSkipReason } from './git-ref';
import { describeIssues, parseJsonAs } from './parse-json';
import type { NormalizeResult, WebhookProvider, WebhookRequest } from '../domain/webhook-provider';
import { anySecret, hmacSha256Hex, safeEqual } from './verify';

const SIGNATURE = /^sha256=([0-9a-fA-F]{64})$/;

const cloudSchema = z.object({
  repository: z.object({
    full_name: z.string().min(1).optional(),
    links: z.object({ html: z.object({ href: z.string().min(1) }) }),
  }),
  push: z.object({ changes: z.array(z.unknown()) }),
});

const cloudRefSchema = z.object({ type: z.string().min(1), name: z.string().min(1) });
const cloudChangeSchema = z.object({
  // null when the branch or tag was deleted (closed: true).
  new: cloudRefSchema.extend({ target: z.object({ hash: z.string() }) }).nullish(),
  old: cloudRefSchema.nullish(),
  closed: z.boolean().optional(),
});

const cloneLinkSchema = z.object({ name: z.string(), href: z.string().min(1) });
const serverSchema = z.object({
  repository: z
    .object({
      slug: z.string().min(1).optional(),
      project: z.object({ key: z.string().min(1) }).optional(),
      links: z
        .object({ clone: z.array(cloneLinkSchema) })
        .refine((links) => links.clone.some((link) => link.name === 'http' || link.name === 'ssh'), 'expected an http or ssh clone link')
        .optional(),
    })
    .superRefine((repository, context) => {
      if (repository.links !== undefined) return;
      if (repository.slug === undefined) context.addIssue({ code: 'custom', path: ['slug'], message: 'expected a slug when the repository has no links' });
      if (repository.project === undefined) context.addIssue({ code: 'custom', path: ['project', 'key'], message: 'expected a project key when the repository has no links' });
    }),
  changes: z.array(z.unknown()),
});

const serverChangeSchema = z
  .object({
    ref: z.object({ id: z.string().min(1).optional() }).optional(),
    // Older Server versions give the full ref only as refId.
    refId: z.string().min(1).optional(),
    toHash: z.string(),
    type: z.string().min(1),
  })
  .refine((change) => (change.ref?.id ?? change.refId) !== undefined, { message: 'expected ref.id or refId', path: ['ref'] });

type Outcome = GitEvent | { reason: string };

function cloudRef(ref: { type: string; name: string }): string | undefined {
  if (ref.type === 'branch') return `refs/heads/${ref.name}`;
  if (ref.type === 'tag') return `refs/tags/${ref.name}`;
  return undefined;
}

function cloudChange(raw: unknown, index: number, push: z.infer<typeof cloudSchema>, requestId: string | undefined): Outcome {
  const parsed = cloudChangeSchema.safeParse(raw);
  if (!parsed.success) return { reason: `change #${index} is malformed: ${describeIssues(parsed.error)}` };
  const change = parsed.data;
  if (!change.new) {
    const old = change.old ? (cloudRef(change.old) ?? `${change.old.type} ${change.old.name}`) : 'a ref';
    return { reason: `deletion of ${old} is not a build trigger` };
  }
  const ref = cloudRef(change.new);
  // Mercurial's named_branch and bookmark, from the days Bitbucket hosted Mercurial.
  if (!ref) return { reason: `change #${index}: ${change.new.type} ${change.new.name} is not a git branch or tag` };
  const hash = change.new.target.hash;
  const skip = refUpdateSkipReason(ref, hash, change.closed === true);
  if (skip) return { reason: skip };
  const problem = commitProblem(`change #${index} new.target.hash`, hash);
  if (problem) return { reason: problem };

  const repoUrl = push.repository.links.html.href;
  return {
    kind: 'git',
    source: 'bitbucket',
    repoUrl,
    ref,
    commit: hash,
    deliveryId: requestId ? `${requestId}:${index}` : `${push.repository.full_name ?? repoUrl}@${hash}:${ref}`,
  };
}

/** Where the push's repository is: its clone URL, or, without links, the paths of its clone URLs on the webhook's server. */
function serverRepository(repository: z.infer<typeof serverSchema>['repository'], webhook: Webhook): { repoUrl: string; repositoryPaths?: GitRepositoryPaths } {
  const { links, project, slug } = repository;
  if (links) {
    // The http clone URL is what task contexts usually name; ssh only when the server offers no http.
    const link = links.clone.find((l) => l.name === 'http') ?? links.clone.find((l) => l.name === 'ssh');
    return { repoUrl: link!.href };
  }
  const path = `${project!.key}/${slug!}`.toLowerCase();
  return {
    repoUrl: `${project!.key}/${slug!}`,
    repositoryPaths: { ...(webhook.loginServer !== undefined && { host: gitHost(webhook.loginServer) }), paths: [`scm/${path}`, path] },
  };
}

function serverChange(raw: unknown, index: number, push: z.infer<typeof serverSchema>, requestId: string | undefined, webhook: Webhook): Outcome {
  const parsed = serverChangeSchema.safeParse(raw);
  if (!parsed.success) return { reason: `change #${index} is malformed: ${describeIssues(parsed.error)}` };
  const change = parsed.data;
  const ref = (change.ref?.id ?? change.refId)!;
  const skip = refUpdateSkipReason(ref, change.toHash, change.type === 'DELETE');
  if (skip) return { reason: skip };
  const problem = commitProblem(`change #${index} toHash`, change.toHash);
  if (problem) return { reason: problem };

  const { repository } = push;
  const where = serverRepository(repository, webhook);
  const repo = repository.project && repository.slug ? `${repository.project.key}/${repository.slug}` : where.repoUrl;
  return {
    kind: 'git',
    source: 'bitbucket',
    ...where,
    ref,
    commit: change.toHash,
    deliveryId: requestId ? `${requestId}:${index}` : `${repo}@${change.toHash}:${ref}`,
  };
}

function collect(outcomes: Outcome[]): NormalizeResult {
  const result: NormalizeResult = { events: [], ignored: [] };
  if (outcomes.length === 0) result.ignored.push({ reason: 'the push lists no changes' });
  for (const outcome of outcomes) {
    if ('reason' in outcome) result.ignored.push(outcome);
    else result.events.push(outcome);
  }
  return result;
}

export const bitbucketProvider: WebhookProvider = {
  name: 'bitbucket',
  kind: 'git',
  secretIn: 'header',
  setupInstructions: ({ url, secret, webhook }) =>
    [
      'Bitbucket Cloud: Repository settings → Webhooks → Add webhook',
      `  URL:       ${url}`,
      `  Secret:    ${secret}`,
      '  Status:    Active',
      '  Triggers:  Repository push',
      'Bitbucket Server / Data Center: Repository settings → Webhooks → Create webhook',
      `  URL:       ${url}`,
      `  Secret:    ${secret}`,
      '  Events:    Repository: Push',
      ...(webhook.loginServer === undefined
        ? [
            "  A Server whose pushes carry no clone links is matched by its repositories' paths on any host:",
            "  create the webhook with --login-server <the server's host> to match only that server's.",
          ]
        : []),
    ].join('\n'),
  contentTypes: ['application/json'],

  authenticate(req: WebhookRequest, secrets: string[]): void {
    const header = req.headers['x-hub-signature'];
    if (header === undefined || header === '') throw new UnauthorizedError('missing X-Hub-Signature header');
    const match = SIGNATURE.exec(header.trim());
    if (!match) throw new UnauthorizedError('X-Hub-Signature must be "sha256=" followed by 64 hex digits');
    const given = match[1]!.toLowerCase();
    if (!anySecret(secrets, (secret) => safeEqual(given, hmacSha256Hex(secret, req.rawBody)))) {
      throw new UnauthorizedError('X-Hub-Signature does not match the body');
    }
  },

  normalize(req: WebhookRequest, webhook: Webhook): NormalizeResult {
    const key = req.headers['x-event-key'];
    if (!key) throw new ValidationError('missing X-Event-Key header', 'x-event-key');
    if (key === 'diagnostics:ping') return { events: [], ignored: [{ reason: 'ping' }], ping: true };
    if (key === 'repo:push') {
      const push = parseJsonAs(req.rawBody, cloudSchema, 'bitbucket repo:push payload');
      // X-Request-UUID names the delivery; X-Hook-UUID names the webhook and is the same every time.
      const requestId = req.headers['x-request-uuid'] || undefined;
      return collect(push.push.changes.map((change, index) => cloudChange(change, index, push, requestId)));
    }
    if (key === 'repo:refs_changed') {
      const push = parseJsonAs(req.rawBody, serverSchema, 'bitbucket repo:refs_changed payload');
      const requestId = req.headers['x-request-id'] || undefined;
      return collect(push.changes.map((change, index) => serverChange(change, index, push, requestId, webhook)));
    }
    return { events: [], ignored: [{ reason: `bitbucket event ${key} is not a push` }] };
  },
};
