import { createHmac } from 'node:crypto';
import { UnauthorizedError, ValidationError } from '../../../lib/domain/errors';
import type { GitEvent, Webhook } from '../../../lib/domain/types';
import { bitbucketProvider } from '../../../lib/events/bitbucket';
import { acceptsContentType } from '../../../lib/domain/webhook-provider';
import type { WebhookRequest } from '../../../lib/domain/webhook-provider';
import { RECEIVED_AT, fixtureJson, fixtureRequest } from './fixtures';
import { rememberSecrets } from '../../support/secrets';

// go-playground/webhooks signs its Bitbucket Server test payload with this secret (see SOURCES.md).
const SECRET = 'secret';
rememberSecrets(SECRET);
const webhook: Webhook = { name: 'bb-repo', provider: 'bitbucket', secrets: [SECRET], createdAt: '2026-11-28T00:00:00.000Z' };

const CLOUD = 'goplayground-cloud-repo-push.json';
const SERVER = 'goplayground-server-repo-refs-changed-branch-delete.json';
const SERVER_NO_LINKS = 'goplayground-server-repo-refs-changed-branch-delete-no-links.json';
const HASH_A = '709d658dc5b6d6afcd46049c2f332ee3f515a67d';
const HASH_B = '4f8b2c7d1e9a3b5c6d7e8f9011223344556677aa';
const SERVER_HTTP = 'https://server.bitbucket.local/scm/~gopher/webhook-test.git';

const sign = (body: Buffer | string, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** A delivery of `body` under `eventKey`, signed with SECRET. */
function delivery(eventKey: string, body: unknown, headers: Record<string, string> = {}): WebhookRequest {
  const rawBody = Buffer.from(JSON.stringify(body));
  return {
    headers: { 'content-type': 'application/json', 'x-event-key': eventKey, 'x-hub-signature': sign(rawBody), ...headers },
    rawBody,
    receivedAt: RECEIVED_AT,
  };
}

/** The Cloud fixture, unsigned in its source (Bitbucket Cloud had no secrets then), signed here. */
function signedCloudFixture(headers: Record<string, string> = {}): WebhookRequest {
  const req = fixtureRequest('bitbucket', CLOUD, headers);
  req.headers['x-hub-signature'] = sign(req.rawBody);
  return req;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
function changed(file: string, change: (body: Json) => void): Json {
  const body = fixtureJson('bitbucket', file);
  change(body);
  return body;
}
const serverChange = (id: string, toHash: string, type: string, refType = 'BRANCH') => ({
  ref: { id, displayId: id.replace(/^refs\/(heads|tags)\//, ''), type: refType },
  refId: id,
  fromHash: '32a0b8a740c2963c6f56bd8baf3dc05683d299e0',
  toHash,
  type,
});
const cloudChange = (newRef: Json | null, old: Json | null, extra: Json = {}) => ({
  new: newRef,
  old,
  created: old === null,
  closed: newRef === null,
  forced: false,
  ...extra,
});
const cloudRef = (type: string, name: string, hash = HASH_A) => ({ type, name, target: { type: 'commit', hash } });

const cloudEvent = (over: Partial<GitEvent>): GitEvent => ({
  kind: 'git',
  source: 'bitbucket',
  repoUrl: 'https://api.bitbucket.org/bitbucket/bitbucket',
  ref: 'refs/heads/name-of-branch',
  commit: HASH_A,
  deliveryId: `team_name/repo_name@${HASH_A}:refs/heads/name-of-branch`,
  ...over,
});
const serverEvent = (over: Partial<GitEvent>): GitEvent => ({
  kind: 'git',
  source: 'bitbucket',
  repoUrl: SERVER_HTTP,
  ref: 'refs/heads/feature/wip',
  commit: HASH_B,
  deliveryId: `~gopher/webhook-test@${HASH_B}:refs/heads/feature/wip`,
  ...over,
});

/** A Server push without links: the repository by the paths of its clone URLs. */
const serverPathEvent = (over: Partial<GitEvent>): GitEvent =>
  serverEvent({ repoUrl: '~gopher/webhook-test', repositoryPaths: { paths: ['scm/~gopher/webhook-test', '~gopher/webhook-test'] }, ...over });
const forServer: Webhook = { ...webhook, loginServer: 'Server.Bitbucket.Local:7990' };

interface Row {
  name: string;
  request: () => WebhookRequest;
  events: GitEvent[];
  ignored: string[];
  ping?: true;
  /** The webhook the delivery is for, when not `webhook`. */
  to?: Webhook;
}

const rows: Row[] = [
  {
    name: `${CLOUD} (saved headers, signed here)`,
    request: () => signedCloudFixture(),
    events: [cloudEvent({})],
    ignored: [],
  },
  {
    name: `${CLOUD} with X-Request-UUID`,
    request: () => signedCloudFixture({ 'X-Request-UUID': 'b2a1c3d4-0000-4000-8000-000000000001' }),
    events: [cloudEvent({ deliveryId: 'b2a1c3d4-0000-4000-8000-000000000001:0' })],
    ignored: [],
  },
  {
    name: `${SERVER} (saved headers and signature)`,
    request: () => fixtureRequest('bitbucket', SERVER),
    events: [],
    ignored: ['deletion of refs/heads/feature/wip is not a build trigger'],
  },
  {
    name: 'a Server branch update',
    request: () => delivery('repo:refs_changed', changed(SERVER, (b) => (b.changes = [serverChange('refs/heads/feature/wip', HASH_B, 'UPDATE')]))),
    events: [serverEvent({})],
    ignored: [],
  },
  {
    name: 'a Server branch update with X-Request-Id',
    request: () =>
      delivery('repo:refs_changed', changed(SERVER, (b) => (b.changes = [serverChange('refs/heads/feature/wip', HASH_B, 'UPDATE')])), {
        'x-request-id': 'a1b2c3d4-1111-4222-8333-444455556666',
      }),
    events: [serverEvent({ deliveryId: 'a1b2c3d4-1111-4222-8333-444455556666:0' })],
    ignored: [],
  },
  {
    name: 'a Server push moving several refs: one outcome per change',
    request: () =>
      delivery(
        'repo:refs_changed',
        changed(SERVER, (b) => {
          b.changes = [
            serverChange('refs/heads/main', HASH_B, 'UPDATE'),
            serverChange('refs/tags/v2.0', HASH_B, 'ADD', 'TAG'),
            serverChange('refs/heads/new-branch', HASH_A, 'ADD'),
            serverChange('refs/heads/gone', '0000000000000000000000000000000000000000', 'DELETE'),
            serverChange('refs/heads/short', '709d658', 'UPDATE'),
            { ref: { id: 'refs/heads/x' }, type: 'UPDATE' },
          ];
        }),
        { 'x-request-id': 'req-7' },
      ),
    events: [
      serverEvent({ ref: 'refs/heads/main', deliveryId: 'req-7:0' }),
      serverEvent({ ref: 'refs/heads/new-branch', commit: HASH_A, deliveryId: 'req-7:2' }),
    ],
    ignored: [
      'tag push refs/tags/v2.0 is not a branch push',
      'deletion of refs/heads/gone is not a build trigger',
      'change #4 toHash: invalid commit id "709d658" (expected a commit id (40 or 64 lower-case hex digits))',
      'change #5 is malformed: toHash: Invalid input: expected string, received undefined',
    ],
  },
  {
    name: 'a Server change that names its ref only in refId (older Server)',
    request: () =>
      delivery(
        'repo:refs_changed',
        changed(SERVER, (b) => (b.changes = [{ refId: 'refs/heads/feature/wip', toHash: HASH_B, type: 'UPDATE' }])),
      ),
    events: [serverEvent({})],
    ignored: [],
  },
  {
    name: 'a Server repository offering only ssh clone links',
    request: () =>
      delivery(
        'repo:refs_changed',
        changed(SERVER, (b) => {
          b.repository.links.clone = b.repository.links.clone.filter((l: Json) => l.name === 'ssh');
          b.changes = [serverChange('refs/heads/feature/wip', HASH_B, 'UPDATE')];
        }),
      ),
    events: [serverEvent({ repoUrl: 'ssh://git@server.bitbucket.local:7999/~gopher/webhook-test.git' })],
    ignored: [],
  },
  {
    name: `${SERVER_NO_LINKS} (saved headers and signature)`,
    request: () => fixtureRequest('bitbucket', SERVER_NO_LINKS),
    events: [],
    ignored: ['deletion of refs/heads/feature/wip is not a build trigger'],
  },
  {
    name: 'a Server branch update without links',
    request: () => delivery('repo:refs_changed', changed(SERVER_NO_LINKS, (b) => (b.changes = [serverChange('refs/heads/feature/wip', HASH_B, 'UPDATE')]))),
    events: [serverPathEvent({})],
    ignored: [],
  },
  {
    name: 'a Server branch update without links, to a webhook created for the server',
    request: () => delivery('repo:refs_changed', changed(SERVER_NO_LINKS, (b) => (b.changes = [serverChange('refs/heads/feature/wip', HASH_B, 'UPDATE')]))),
    to: forServer,
    events: [serverPathEvent({ repositoryPaths: { host: 'server.bitbucket.local', paths: ['scm/~gopher/webhook-test', '~gopher/webhook-test'] } })],
    ignored: [],
  },
  {
    name: 'a Server branch update without links, of a project whose key is upper case',
    request: () =>
      delivery(
        'repo:refs_changed',
        changed(SERVER_NO_LINKS, (b) => {
          b.repository.project.key = 'PLAT';
          b.repository.slug = 'web-app';
          b.changes = [serverChange('refs/heads/main', HASH_B, 'UPDATE')];
        }),
        { 'x-request-id': 'req-9' },
      ),
    events: [serverPathEvent({ repoUrl: 'PLAT/web-app', repositoryPaths: { paths: ['scm/plat/web-app', 'plat/web-app'] }, ref: 'refs/heads/main', deliveryId: 'req-9:0' })],
    ignored: [],
  },
  {
    name: 'a Server branch update with links, to a webhook created for the server: the clone URL as before',
    request: () => delivery('repo:refs_changed', changed(SERVER, (b) => (b.changes = [serverChange('refs/heads/feature/wip', HASH_B, 'UPDATE')]))),
    to: forServer,
    events: [serverEvent({})],
    ignored: [],
  },
  {
    name: 'a Cloud push moving several refs: one outcome per change',
    request: () =>
      delivery(
        'repo:push',
        changed(CLOUD, (b) => {
          b.push.changes = [
            cloudChange(cloudRef('tag', 'v1.2'), null),
            cloudChange(null, cloudRef('branch', 'old-feature')),
            cloudChange(cloudRef('branch', 'feature/new', HASH_B), null),
            cloudChange(cloudRef('named_branch', 'default'), null),
            cloudChange(cloudRef('branch', 'bad', 'not-a-hash'), null),
            { new: { type: 'branch' } },
          ];
        }),
        { 'x-request-uuid': 'cloud-req-1' },
      ),
    events: [cloudEvent({ ref: 'refs/heads/feature/new', commit: HASH_B, deliveryId: 'cloud-req-1:2' })],
    ignored: [
      'tag push refs/tags/v1.2 is not a branch push',
      'deletion of refs/heads/old-feature is not a build trigger',
      'change #3: named_branch default is not a git branch or tag',
      'change #4 new.target.hash: invalid commit id "not-a-hash" (expected a commit id (40 or 64 lower-case hex digits))',
      'change #5 is malformed: new.name: Invalid input: expected string, received undefined',
    ],
  },
  {
    name: 'a Cloud deletion without old',
    request: () => delivery('repo:push', changed(CLOUD, (b) => (b.push.changes = [cloudChange(null, null)]))),
    events: [],
    ignored: ['deletion of a ref is not a build trigger'],
  },
  {
    name: 'a Cloud push without changes',
    request: () => delivery('repo:push', changed(CLOUD, (b) => (b.push.changes = []))),
    events: [],
    ignored: ['the push lists no changes'],
  },
  {
    name: 'a Cloud push without full_name uses the URL in the fallback delivery id',
    request: () => delivery('repo:push', changed(CLOUD, (b) => delete b.repository.full_name)),
    events: [cloudEvent({ deliveryId: `https://api.bitbucket.org/bitbucket/bitbucket@${HASH_A}:refs/heads/name-of-branch` })],
    ignored: [],
  },
  {
    name: 'Server "Test connection" (diagnostics:ping)',
    request: () => delivery('diagnostics:ping', { test: true }),
    events: [],
    ignored: ['ping'],
    ping: true,
  },
  {
    name: 'another event (pr:opened)',
    request: () => delivery('pr:opened', { pullRequest: { id: 1 } }),
    events: [],
    ignored: ['bitbucket event pr:opened is not a push'],
  },
];

describe('bitbucket normalize', () => {
  it.each(rows)('$name', ({ request, events, ignored, ping, to = webhook }) => {
    const req = request();
    bitbucketProvider.authenticate(req, to.secrets);
    const result = bitbucketProvider.normalize(req, to);
    expect(result.events).toEqual(events);
    expect(result.ignored.map((i) => i.reason)).toEqual(ignored);
    expect(result.ping).toBe(ping);
  });

  it.each<[string, () => WebhookRequest, RegExp]>([
    ['a missing X-Event-Key header', () => fixtureRequest('bitbucket', SERVER, { 'X-Event-Key': '' }), /missing X-Event-Key/],
    ['a body that is not JSON', () => ({ headers: { 'x-event-key': 'repo:push' }, rawBody: Buffer.from('<xml/>'), receivedAt: RECEIVED_AT }), /bitbucket repo:push payload is not valid JSON/],
    ['a Server payload sent as repo:push', () => fixtureRequest('bitbucket', SERVER, { 'X-Event-Key': 'repo:push' }), /bitbucket repo:push payload is malformed: repository.links.html:/],
    ['a Cloud payload sent as repo:refs_changed', () => fixtureRequest('bitbucket', CLOUD, { 'X-Event-Key': 'repo:refs_changed' }), /bitbucket repo:refs_changed payload is malformed/],
    ['a Cloud push without push.changes', () => delivery('repo:push', changed(CLOUD, (b) => delete b.push.changes)), /push.changes:/],
    ['a Server push without changes', () => delivery('repo:refs_changed', changed(SERVER, (b) => delete b.changes)), /changes:/],
    [
      'a Server repository without an http or ssh clone link',
      () => delivery('repo:refs_changed', changed(SERVER, (b) => (b.repository.links.clone = [{ name: 'other', href: 'x' }]))),
      /repository.links: expected an http or ssh clone link/,
    ],
    [
      'a Server repository without links or slug',
      () => delivery('repo:refs_changed', changed(SERVER_NO_LINKS, (b) => delete b.repository.slug)),
      /bitbucket repo:refs_changed payload is malformed: repository.slug: expected a slug when the repository has no links/,
    ],
    [
      'a Server repository without links or project',
      () => delivery('repo:refs_changed', changed(SERVER_NO_LINKS, (b) => delete b.repository.project)),
      /bitbucket repo:refs_changed payload is malformed: repository.project.key: expected a project key when the repository has no links/,
    ],
    [
      'a Server repository without links and with an empty project key',
      () => delivery('repo:refs_changed', changed(SERVER_NO_LINKS, (b) => (b.repository.project.key = ''))),
      /bitbucket repo:refs_changed payload is malformed: repository.project.key: Too small/,
    ],
  ])('%s is a ValidationError', (_name, request, message) => {
    const run = () => bitbucketProvider.normalize(request(), webhook);
    expect(run).toThrow(ValidationError);
    expect(run).toThrow(message);
  });
});

describe('bitbucket authenticate (signature matrix)', () => {
  const saved = () => fixtureRequest('bitbucket', SERVER);
  const savedHex = saved().headers['x-hub-signature']!.slice('sha256='.length);
  const withSignature = (signature: string | undefined): WebhookRequest => {
    const req = saved();
    req.headers['x-hub-signature'] = signature;
    return req;
  };

  it.each<[string, () => WebhookRequest, string[]]>([
    ['the saved Server signature', saved, [SECRET]],
    ['a Cloud delivery signed the same way', () => signedCloudFixture(), [SECRET]],
    ['the second secret during rotation', saved, ['the-new-secret', SECRET]],
    ['the first secret during rotation', saved, [SECRET, 'the-new-secret']],
    ['upper-case hex', () => withSignature(`sha256=${savedHex.toUpperCase()}`), [SECRET]],
  ])('accepts %s', (_name, request, secrets) => {
    expect(() => bitbucketProvider.authenticate(request(), secrets)).not.toThrow();
  });

  it.each<[string, () => WebhookRequest, string[], RegExp]>([
    ['a wrong secret', saved, ['not-the-secret'], /does not match/],
    ['a retired secret after rotation', saved, ['the-new-secret'], /does not match/],
    [
      'a tampered body',
      () => {
        const req = saved();
        req.rawBody = Buffer.from(req.rawBody.toString('utf8').replace('"DELETE"', '"UPDATE"'));
        return req;
      },
      [SECRET],
      /does not match/,
    ],
    ['a missing header', () => withSignature(undefined), [SECRET], /missing X-Hub-Signature/],
    ['an empty header', () => withSignature(''), [SECRET], /missing X-Hub-Signature/],
    ['the Cloud fixture as saved (X-Hook-UUID only, no signature)', () => fixtureRequest('bitbucket', CLOUD), [SECRET], /missing X-Hub-Signature/],
    ['the signature under GitHub\'s header name', () => ({ ...withSignature(undefined), headers: { 'x-hub-signature-256': `sha256=${savedHex}` } }), [SECRET], /missing X-Hub-Signature/],
    ['the sha1= prefix', () => withSignature(`sha1=${savedHex}`), [SECRET], /must be "sha256="/],
    ['no prefix', () => withSignature(savedHex), [SECRET], /must be "sha256="/],
    ['a signature one digit short', () => withSignature(`sha256=${savedHex.slice(0, -1)}`), [SECRET], /must be "sha256="/],
    ['a signature one digit long', () => withSignature(`sha256=${savedHex}0`), [SECRET], /must be "sha256="/],
    ['non-hex digits', () => withSignature(`sha256=${'g'.repeat(64)}`), [SECRET], /must be "sha256="/],
    ['a webhook without secrets', saved, [], /no secret configured/],
  ])('rejects %s', (_name, request, secrets, message) => {
    const run = () => bitbucketProvider.authenticate(request(), secrets);
    expect(run).toThrow(UnauthorizedError);
    expect(run).toThrow(message);
    try {
      run();
    } catch (err) {
      const text = (err as Error).message;
      expect(text).not.toContain(savedHex);
      expect(text).not.toContain(request().headers['x-hub-signature'] || 'no header');
      // The fixture's own secret is the word "secret", which messages may well contain.
      for (const secret of secrets.filter((s) => s !== SECRET)) expect(text).not.toContain(secret);
    }
  });
});

describe('bitbucket setup and content types', () => {
  it('tells where the URL and the secret go, for Cloud and Server', () => {
    const text = bitbucketProvider.setupInstructions({ url: 'https://hooks.example.com/webhooks/bb-repo', secret: 's3cr3t-value', webhook });
    expect(text).toContain('Bitbucket Cloud');
    expect(text).toContain('Bitbucket Server / Data Center');
    expect(text.match(/URL: {7}https:\/\/hooks\.example\.com\/webhooks\/bb-repo/g)).toHaveLength(2);
    expect(text.match(/Secret: {4}s3cr3t-value/g)).toHaveLength(2);
    expect(text).toContain('Repository push');
  });

  it.each<[string, Webhook, boolean]>([
    ['without a host, says that pushes without links match any host, and how to name the server', webhook, true],
    ['with the server\'s host, says nothing of it', forServer, false],
  ])('%s', (_name, to, mentioned) => {
    const text = bitbucketProvider.setupInstructions({ url: 'https://hooks.example.com/webhooks/bb-repo', secret: 's3cr3t-value', webhook: to });
    expect(text.includes('--login-server')).toBe(mentioned);
  });

  it.each<[string | undefined, boolean]>([
    ['application/json', true],
    ['application/json; charset=UTF-8', true],
    ['text/plain', false],
    [undefined, false],
  ])('%s → %s', (contentType, accepted) => {
    expect(acceptsContentType(bitbucketProvider, contentType)).toBe(accepted);
  });
});
