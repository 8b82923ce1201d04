// GitHub Container Registry, through GitHub webhooks: `package` events from a repository or
// organization webhook, `registry_package` from a GitHub App. Signed like every GitHub delivery:
//
//   POST  X-GitHub-Event: package   X-GitHub-Delivery: 72d3162e-…   X-Hub-Signature-256: sha256=<hmac hex>
//   { "action": "published",
//     "package": { "name": "hello-world", "package_type": "CONTAINER", "owner": { "login": "Octo-Org" },
//       "package_version": { "container_metadata": {
//           "tag": { "name": "1.2", "digest": "sha256:3da1…" },
//           "manifest": { "config": { "media_type": "application/vnd.oci.image.config.v1+json" }, … } }, … } } }
//
// An untagged version (a platform image of a multi-arch push) comes with an empty tag name.
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { ValidationError } from '../domain/errors';
import type { ImageEvent } from '../domain/types';
import { githubPayloadText, verifyGithubSignature } from './github-delivery';
import { digestProblem, repositoryProblem, tagProblem } from './image-fields';
import { describeIssues, parseJson } from './parse-json';
import type { NormalizeResult, WebhookProvider, WebhookRequest } from '../domain/webhook-provider';

export const GHCR_REGISTRY = 'ghcr.io';

const PACKAGE_EVENTS = ['package', 'registry_package'] as const;
// GitHub has reported container packages as `CONTAINER`, `container` and `docker`.
const CONTAINER_TYPES = new Set(['container', 'docker']);

const actionSchema = z.object({ action: z.string(), package: z.unknown().optional(), registry_package: z.unknown().optional() });

const packageSchema = z.object({
  name: z.string().min(1),
  package_type: z.string().nullish(),
  ecosystem: z.string().nullish(),
  owner: z.object({ login: z.string().min(1) }),
  package_version: z.object({
    container_metadata: z
      .object({
        tag: z.object({ name: z.string().nullish(), digest: z.string().nullish() }).nullish(),
        manifest: z
          .object({ config: z.object({ media_type: z.string().nullish() }).nullish() })
          .nullish()
          .catch(undefined),
      })
      .nullish(),
  }),
});

function fieldProblem(field: string, problem: string | undefined): string | undefined {
  return problem && `${field}: ${problem}`;
}

/** `.name: expected string`, for an issue found inside the package object. */
function issuePath(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return ': invalid';
  return `${issue.path.map((p) => `.${String(p)}`).join('')}: ${issue.message}`;
}

function normalizePackage(req: WebhookRequest, type: (typeof PACKAGE_EVENTS)[number]): NormalizeResult {
  const what = `github ${type} payload`;
  const json = parseJson(githubPayloadText(req, 'ghcr'), what);
  const head = actionSchema.safeParse(json);
  if (!head.success) throw new ValidationError(`${what} is malformed: ${describeIssues(head.error)}`, 'body');
  const { action } = head.data;
  if (action !== 'published') return { events: [], ignored: [{ reason: `package ${action} is not a publish` }] };

  // Each event names its object after itself; the other name is accepted too.
  const other = type === 'package' ? 'registry_package' : 'package';
  const key = head.data[type] === undefined && head.data[other] !== undefined ? other : type;
  const parsed = packageSchema.safeParse(head.data[key]);
  if (!parsed.success) throw new ValidationError(`${what} is malformed: ${key}${issuePath(parsed.error)}`, 'body');
  const pkg = parsed.data;

  // Image references are lower case; GitHub reports the owner's login as written.
  const repository = `${pkg.owner.login}/${pkg.name}`.toLowerCase();
  const kinds = [pkg.package_type, pkg.ecosystem].filter((k): k is string => typeof k === 'string');
  if (!kinds.some((k) => CONTAINER_TYPES.has(k.toLowerCase()))) {
    return { events: [], ignored: [{ reason: `package ${repository} of type ${kinds.join('/') || 'unknown'} is not a container image` }] };
  }
  const metadata = pkg.package_version.container_metadata;
  const configType = metadata?.manifest?.config?.media_type ?? '';
  if (/helm/i.test(configType)) {
    return { events: [], ignored: [{ reason: `chart push to ${GHCR_REGISTRY}/${repository} is not an image update` }] };
  }
  const tag = metadata?.tag?.name ?? '';
  if (tag === '') return { events: [], ignored: [{ reason: `untagged version of ${GHCR_REGISTRY}/${repository} is not a tag push` }] };

  const reference = `${GHCR_REGISTRY}/${repository}:${tag}`;
  const digest = metadata?.tag?.digest ?? '';
  const problem =
    repositoryProblem(repository) ??
    tagProblem(tag) ??
    (digest === '' ? 'no container_metadata.tag.digest' : fieldProblem('container_metadata.tag.digest', digestProblem(digest)));
  if (problem) return { events: [], ignored: [{ reason: `publish of ${reference}: ${problem}` }] };

  const event: ImageEvent = {
    kind: 'image',
    source: 'ghcr',
    registry: GHCR_REGISTRY,
    repository,
    tag,
    digest,
    // The version's own timestamps say when the version was made, not when the tag moved to it
    // (and examples carry Go's zero time): the delivery is the moment of the change.
    occurredAt: req.receivedAt,
    deliveryId: req.headers['x-github-delivery'] || createHash('sha256').update(req.rawBody).digest('hex'),
  };
  return { events: [event], ignored: [] };
}

export const ghcrProvider: WebhookProvider = {
  name: 'ghcr',
  kind: 'registry',
  secretIn: 'header',
  setupInstructions: ({ url, secret }) =>
    [
      'GitHub sends package events from the repository the container package is connected to',
      '(or from the organization). There: Settings → Webhooks → Add webhook',
      `  Payload URL:   ${url}`,
      '  Content type:  application/json',
      `  Secret:        ${secret}`,
      '  Events:        Let me select individual events → Packages (untick Pushes)',
      'A GitHub App subscribes to "Registry package" instead; both are understood.',
    ].join('\n'),
  contentTypes: ['application/json', 'application/x-www-form-urlencoded'],

  authenticate(req: WebhookRequest, secrets: string[]): void {
    verifyGithubSignature(req, secrets);
  },

  normalize(req: WebhookRequest): NormalizeResult {
    const type = req.headers['x-github-event'];
    if (!type) throw new ValidationError('missing X-GitHub-Event header', 'x-github-event');
    if (type === 'ping') return { events: [], ignored: [{ reason: 'ping' }], ping: true };
    const packageEvent = PACKAGE_EVENTS.find((e) => e === type);
    if (!packageEvent) return { events: [], ignored: [{ reason: `github event ${type} is not a package event` }] };
    return normalizePackage(req, packageEvent);
  },
};
