// Azure DevOps service hooks ("Code pushed"). Azure DevOps signs nothing; the subscription sends
// HTTP Basic credentials, and the password is the webhook secret:
//
//   POST  Authorization: Basic base64(cascade:<secret>)   Content-Type: application/json; charset=utf-8
//   { "id": "03c164c2-…", "notificationId": 7, "eventType": "git.push",
//     "resource": { "refUpdates": [ { "name": "refs/heads/main", "oldObjectId": "aad3…", "newObjectId": "33b5…" } ],
//                   "repository": { "id": "278d…", "remoteUrl": "https://dev.azure.com/org/proj/_git/repo" }, … } }
//
// One push can move several refs: each ref update is one event or one ignored reason.
import * as z from 'zod';
import { UnauthorizedError } from '../domain/errors';
import type { GitEvent } from '../domain/types';
import { commitProblem, refUpdateSkipReason } from './git-ref';
import { describeIssues, parseJson, validateAs } from './parse-json';
import type { NormalizeResult, WebhookProvider, WebhookRequest } from '../domain/webhook-provider';
import { anySecret, safeEqual } from './verify';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

const envelopeSchema = z.object({
  eventType: z.string().min(1),
  id: z.string().min(1).optional(),
  notificationId: z.union([z.number(), z.string().min(1)]).optional(),
});

const pushSchema = z.object({
  resource: z.object(
    {
      // With "Resource details to send: Minimal" or "None" these are left out.
      refUpdates: z.array(z.unknown(), 'expected refUpdates; set "Resource details to send" to All'),
      repository: z.object(
        { id: z.string().min(1).optional(), remoteUrl: z.string().min(1) },
        'expected repository; set "Resource details to send" to All',
      ),
    },
    'expected resource; set "Resource details to send" to All',
  ),
});

const refUpdateSchema = z.object({ name: z.string().min(1), newObjectId: z.string() });

/** The password of an `Authorization: Basic base64(user:password)` header; the user name is not checked. */
function basicPassword(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === '') throw new UnauthorizedError('missing Authorization header');
  const [, scheme = '', credentials = ''] = /^\s*(\S+)\s*(.*?)\s*$/.exec(authorization) ?? [];
  if (scheme.toLowerCase() !== 'basic') throw new UnauthorizedError('the Authorization header must use the Basic scheme');
  if (credentials === '') throw new UnauthorizedError('the Basic credentials are empty');
  if (!BASE64.test(credentials) || credentials.length % 4 !== 0) {
    throw new UnauthorizedError('the Basic credentials are not valid base64');
  }
  const decoded = Buffer.from(credentials, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new UnauthorizedError('the Basic credentials are not of the form user:password');
  return decoded.slice(colon + 1);
}

function normalizePush(body: unknown, deliveryBase: string | undefined): NormalizeResult {
  const { resource } = validateAs(body, pushSchema, 'azure devops git.push payload');
  const repoUrl = resource.repository.remoteUrl;
  const result: NormalizeResult = { events: [], ignored: [] };
  if (resource.refUpdates.length === 0) result.ignored.push({ reason: 'the push lists no ref updates' });
  resource.refUpdates.forEach((raw, index) => {
    const parsed = refUpdateSchema.safeParse(raw);
    if (!parsed.success) {
      result.ignored.push({ reason: `refUpdates #${index} is malformed: ${describeIssues(parsed.error)}` });
      return;
    }
    const { name: ref, newObjectId: commit } = parsed.data;
    const reason = refUpdateSkipReason(ref, commit) ?? commitProblem(`refUpdates #${index} newObjectId`, commit);
    if (reason) {
      result.ignored.push({ reason });
      return;
    }
    const event: GitEvent = {
      kind: 'git',
      source: 'azure-devops',
      repoUrl,
      ref,
      commit,
      deliveryId: deliveryBase ? `${deliveryBase}:${index}` : `${resource.repository.id ?? repoUrl}@${commit}:${ref}`,
    };
    result.events.push(event);
  });
  return result;
}

export const azureDevopsProvider: WebhookProvider = {
  name: 'azure-devops',
  kind: 'git',
  secretIn: 'header',
  setupInstructions: ({ url, secret }) =>
    [
      'In the project: Project settings → Service hooks → Create subscription → Web Hooks → Next',
      '  Trigger on this type of event:  Code pushed (any repository and branch, or narrow with the filters)',
      'Next, then:',
      `  URL:                             ${url}`,
      '  Basic authentication username:   cascade',
      `  Basic authentication password:   ${secret}`,
      '  Resource details to send:        All',
      '  Messages to send:                None',
      '  Detailed messages to send:       None',
      'Test, then Finish.',
    ].join('\n'),
  contentTypes: ['application/json'],

  authenticate(req: WebhookRequest, secrets: string[]): void {
    const password = basicPassword(req.headers['authorization']);
    if (!anySecret(secrets, (secret) => safeEqual(password, secret))) {
      throw new UnauthorizedError('the Basic password does not match the webhook secret');
    }
  },

  normalize(req: WebhookRequest): NormalizeResult {
    const body = parseJson(req.rawBody, 'azure devops payload');
    const envelope = validateAs(body, envelopeSchema, 'azure devops payload');
    if (envelope.eventType !== 'git.push') {
      return { events: [], ignored: [{ reason: `azure devops event ${envelope.eventType} is not git.push` }] };
    }
    // notificationId is kept when Azure DevOps retries a notification.
    const deliveryBase = envelope.notificationId !== undefined ? String(envelope.notificationId) : envelope.id;
    return normalizePush(body, deliveryBase);
  },
};
