import { UnauthorizedError, ValidationError } from '../../../lib/domain/errors';
import type { GitEvent, Webhook } from '../../../lib/domain/types';
import { azureDevopsProvider } from '../../../lib/events/azure-devops';
import { acceptsContentType } from '../../../lib/domain/webhook-provider';
import type { WebhookRequest } from '../../../lib/domain/webhook-provider';
import { RECEIVED_AT, fixtureJson, fixtureRequest } from './fixtures';
import { rememberSecrets } from '../../support/secrets';

// Azure DevOps signs nothing: the fixture's source has no credentials, so the tests add Basic auth.
const SECRET = 'azdo-Secret-7f3a9c';
rememberSecrets(SECRET);
const webhook: Webhook = { name: 'azdo-repo', provider: 'azure-devops', secrets: [SECRET], createdAt: '2026-11-28T00:00:00.000Z' };
const FILE = 'goplayground-git-push.json';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

const HEAD = '33b55f7cb7e7e245323987634f960cf4a6e6bc74';
const OTHER = 'aad331d8d3b131fa9ae03cf5e53965b51942618a';
const ZERO = '0000000000000000000000000000000000000000';
const REPO_URL = 'https://dev.azure.com/fabrikam-fiber-inc/DefaultCollection/_git/Fabrikam-Fiber-Git';

function fixture(headers: Record<string, string> = {}): WebhookRequest {
  return fixtureRequest('azure-devops', FILE, { Authorization: basic('cascade', SECRET), ...headers });
}

function delivery(body: unknown, headers: Record<string, string> = {}): WebhookRequest {
  return {
    headers: { 'content-type': 'application/json; charset=utf-8', authorization: basic('cascade', SECRET), ...headers },
    rawBody: Buffer.from(JSON.stringify(body)),
    receivedAt: RECEIVED_AT,
  };
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
function changed(change: (body: Json) => void): Json {
  const body = fixtureJson('azure-devops', FILE);
  change(body);
  return body;
}

const pushed = (over: Partial<GitEvent>): GitEvent => ({
  kind: 'git',
  source: 'azure-devops',
  repoUrl: REPO_URL,
  ref: 'refs/heads/main',
  commit: HEAD,
  deliveryId: '03c164c2-8912-4d5e-8009-3707d5f83734:0',
  ...over,
});

interface Row {
  name: string;
  request: () => WebhookRequest;
  events: GitEvent[];
  ignored: string[];
}

const rows: Row[] = [
  {
    name: `${FILE} (event id as delivery id)`,
    request: () => fixture(),
    events: [pushed({})],
    ignored: [],
  },
  {
    name: 'a notification with a notificationId',
    request: () => delivery(changed((b) => (b.notificationId = 12))),
    events: [pushed({ deliveryId: '12:0' })],
    ignored: [],
  },
  {
    name: 'a push moving several refs: one outcome per ref update',
    request: () =>
      delivery(
        changed((b) => {
          b.notificationId = 31;
          b.resource.refUpdates = [
            { name: 'refs/heads/main', oldObjectId: OTHER, newObjectId: HEAD },
            { name: 'refs/heads/old', oldObjectId: OTHER, newObjectId: ZERO },
            { name: 'refs/tags/v3', oldObjectId: ZERO, newObjectId: HEAD },
            { name: 'refs/heads/feature/new', oldObjectId: ZERO, newObjectId: OTHER },
            { name: 'refs/heads/bad', oldObjectId: OTHER, newObjectId: '33B55F7' },
            { name: 'refs/heads/no-id' },
          ];
        }),
      ),
    events: [pushed({ deliveryId: '31:0' }), pushed({ ref: 'refs/heads/feature/new', commit: OTHER, deliveryId: '31:3' })],
    ignored: [
      'deletion of refs/heads/old is not a build trigger',
      'tag push refs/tags/v3 is not a branch push',
      'refUpdates #4 newObjectId: invalid commit id "33B55F7" (expected a commit id (40 or 64 lower-case hex digits))',
      'refUpdates #5 is malformed: newObjectId: Invalid input: expected string, received undefined',
    ],
  },
  {
    name: 'a notification without ids falls back to repository id, commit and ref',
    request: () => delivery(changed((b) => delete b.id)),
    events: [pushed({ deliveryId: `278d5cd2-584d-4b63-824a-2ba458937249@${HEAD}:refs/heads/main` })],
    ignored: [],
  },
  {
    name: 'a push with no ref updates',
    request: () => delivery(changed((b) => (b.resource.refUpdates = []))),
    events: [],
    ignored: ['the push lists no ref updates'],
  },
  {
    name: 'a pull request event',
    request: () => delivery({ id: 'e1', eventType: 'git.pullrequest.created', resource: {} }),
    events: [],
    ignored: ['azure devops event git.pullrequest.created is not git.push'],
  },
];

describe('azure-devops normalize', () => {
  it.each(rows)('$name', ({ request, events, ignored }) => {
    const req = request();
    azureDevopsProvider.authenticate(req, webhook.secrets);
    const result = azureDevopsProvider.normalize(req, webhook);
    expect(result.events).toEqual(events);
    expect(result.ignored.map((i) => i.reason)).toEqual(ignored);
  });

  it.each<[string, () => WebhookRequest, RegExp]>([
    ['a body that is not JSON', () => ({ headers: {}, rawBody: Buffer.from('eventType=git.push'), receivedAt: RECEIVED_AT }), /azure devops payload is not valid JSON/],
    ['a body without eventType', () => delivery(changed((b) => delete b.eventType)), /azure devops payload is malformed: eventType:/],
    ['a git.push without resource', () => delivery(changed((b) => delete b.resource)), /resource: expected resource; set "Resource details to send" to All/],
    ['a git.push sent with minimal resource details', () => delivery(changed((b) => (b.resource = { id: 14 }))), /resource.refUpdates: expected refUpdates; set "Resource details to send" to All/],
    ['a git.push whose repository has no remoteUrl', () => delivery(changed((b) => delete b.resource.repository.remoteUrl)), /resource.repository.remoteUrl:/],
  ])('%s is a ValidationError', (_name, request, message) => {
    const run = () => azureDevopsProvider.normalize(request(), webhook);
    expect(run).toThrow(ValidationError);
    expect(run).toThrow(message);
  });
});

describe('azure-devops authenticate (basic auth matrix)', () => {
  const withAuthorization = (authorization: string | undefined): WebhookRequest => {
    const req = fixture();
    req.headers['authorization'] = authorization;
    return req;
  };

  it.each<[string, () => WebhookRequest, string[]]>([
    ['user cascade with the secret', () => fixture(), [SECRET]],
    ['any user name', () => withAuthorization(basic('someone-else', SECRET)), [SECRET]],
    ['an empty user name', () => withAuthorization(basic('', SECRET)), [SECRET]],
    ['a lower-case scheme', () => withAuthorization(`basic ${Buffer.from(`cascade:${SECRET}`).toString('base64')}`), [SECRET]],
    ['a password that contains a colon', () => withAuthorization(basic('cascade', 'pa:ss')), ['pa:ss']],
    ['the second secret during rotation', () => fixture(), ['the-new-secret', SECRET]],
    ['the first secret during rotation', () => fixture(), [SECRET, 'the-new-secret']],
    // Basic auth does not cover the body: it proves only that the sender knows the secret.
    ['a changed body with the right credentials', () => ({ ...fixture(), rawBody: Buffer.from('{}') }), [SECRET]],
  ])('accepts %s', (_name, request, secrets) => {
    expect(() => azureDevopsProvider.authenticate(request(), secrets)).not.toThrow();
  });

  it.each<[string, () => WebhookRequest, string[], RegExp]>([
    ['a wrong secret', () => fixture(), ['not-the-secret'], /does not match/],
    ['a retired secret after rotation', () => fixture(), ['the-new-secret'], /does not match/],
    ['the secret as the user name', () => withAuthorization(basic(SECRET, 'x')), [SECRET], /does not match/],
    ['a password one character short', () => withAuthorization(basic('cascade', SECRET.slice(0, -1))), [SECRET], /does not match/],
    ['a password one character long', () => withAuthorization(basic('cascade', `${SECRET}x`)), [SECRET], /does not match/],
    ['an empty password', () => withAuthorization(basic('cascade', '')), [SECRET], /does not match/],
    ['a missing header', () => withAuthorization(undefined), [SECRET], /missing Authorization header/],
    ['an empty header', () => withAuthorization('  '), [SECRET], /missing Authorization header/],
    ['the Bearer scheme', () => withAuthorization(`Bearer ${SECRET}`), [SECRET], /must use the Basic scheme/],
    ['the secret without a scheme', () => withAuthorization(SECRET), [SECRET], /must use the Basic scheme/],
    ['Basic without credentials', () => withAuthorization('Basic'), [SECRET], /credentials are empty/],
    ['credentials that are not base64', () => withAuthorization(`Basic cascade:${SECRET}`), [SECRET], /not valid base64/],
    ['base64 with its padding cut off', () => withAuthorization(basic('cascade', `${SECRET}xy`).replace(/=+$/, '')), [SECRET], /not valid base64/],
    ['credentials without a colon', () => withAuthorization(`Basic ${Buffer.from(SECRET).toString('base64')}`), [SECRET], /user:password/],
    ['a webhook without secrets', () => fixture(), [], /no secret configured/],
  ])('rejects %s', (_name, request, secrets, message) => {
    const run = () => azureDevopsProvider.authenticate(request(), secrets);
    expect(run).toThrow(UnauthorizedError);
    expect(run).toThrow(message);
    try {
      run();
    } catch (err) {
      const text = (err as Error).message;
      expect(text).not.toContain(Buffer.from(`cascade:${SECRET}`).toString('base64'));
      for (const secret of [SECRET, ...secrets]) expect(text).not.toContain(secret);
    }
  });
});

describe('azure-devops setup and content types', () => {
  it('tells where the URL and the secret go', () => {
    const text = azureDevopsProvider.setupInstructions({ url: 'https://hooks.example.com/webhooks/azdo-repo', secret: 's3cr3t-value', webhook });
    expect(text).toContain('Service hooks');
    expect(text).toContain('Web Hooks');
    expect(text).toContain('Code pushed');
    expect(text).toContain('URL:                             https://hooks.example.com/webhooks/azdo-repo');
    expect(text).toContain('Basic authentication username:   cascade');
    expect(text).toContain('Basic authentication password:   s3cr3t-value');
    expect(text).toContain('Resource details to send:        All');
  });

  it.each<[string | undefined, boolean]>([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['text/plain', false],
    [undefined, false],
  ])('%s → %s', (contentType, accepted) => {
    expect(acceptsContentType(azureDevopsProvider, contentType)).toBe(accepted);
  });
});
