import { createHmac } from 'node:crypto';
import { UnauthorizedError, ValidationError } from '../../../lib/domain/errors';
import type { GitEvent, Webhook } from '../../../lib/domain/types';
import { acceptsContentType } from '../../../lib/domain/webhook-provider';
import { giteaProvider } from '../../../lib/events/gitea';
import type { WebhookRequest } from '../../../lib/domain/webhook-provider';
import { RECEIVED_AT, fixtureJson, fixtureRequest } from './fixtures';

// The secrets go-playground/webhooks signs its Gitea and Gogs test payloads with (see SOURCES.md).
const GITEA_SECRET = 'IsWishesWereHorsesWedAllBeEatingSteak!';
const GOGS_SECRET = 'sampleToken!';
// The deprecated in-body `secret` of giteadocs-push.json: proof of nothing.
const IN_BODY_SECRET = '3gEsCfjlV2ugRwgpU#w1*WaW*wa4NXgGmpCfkbG3';
const DELIVERY = 'f6266f16-1bf3-46a5-9ea4-602e06ead473';

const webhook: Webhook = { name: 'gitea-repo', provider: 'gitea', secrets: [GITEA_SECRET], createdAt: '2026-11-28T00:00:00.000Z' };

const hmac = (body: Buffer | string, secret = GITEA_SECRET) => createHmac('sha256', secret).update(body).digest('hex');

/** A fixture signed here under each of `signatureHeaders`, with the fixture's saved headers. */
function signedFixture(file: string, signatureHeaders: string[], headers: Record<string, string> = {}): WebhookRequest {
  const req = fixtureRequest('gitea', file, headers);
  for (const name of signatureHeaders) req.headers[name] = hmac(req.rawBody);
  return req;
}

/** A delivery of `body` as Gitea sends it, signed with GITEA_SECRET. */
function delivery(event: string, body: unknown, headers: Record<string, string> = {}): WebhookRequest {
  const rawBody = Buffer.from(JSON.stringify(body));
  return {
    headers: { 'content-type': 'application/json', 'x-gitea-event': event, 'x-gitea-signature': hmac(rawBody), ...headers },
    rawBody,
    receivedAt: RECEIVED_AT,
  };
}

interface PushBody {
  ref: string;
  after?: string;
  repository?: { clone_url?: string; html_url?: string; full_name?: string };
}
function changed(file: string, change: (body: PushBody) => void): Record<string, unknown> {
  const body = fixtureJson('gitea', file);
  change(body as unknown as PushBody);
  return body;
}

const DOCS_PUSH: GitEvent = {
  kind: 'git',
  source: 'gitea',
  repoUrl: 'http://localhost:3000/gitea/webhooks.git',
  ref: 'refs/heads/develop',
  commit: 'bffeb74224043ba2feb48d137756c8a9331c449a',
  deliveryId: DELIVERY,
};
const EXAMPLE_PUSH: GitEvent = {
  kind: 'git',
  source: 'gitea',
  repoUrl: 'http://localhost:3000/example/example.git',
  ref: 'refs/heads/master',
  commit: '67b56589a45103f891bdee7c0546e5d40bc02001',
  deliveryId: 'example/example@67b56589a45103f891bdee7c0546e5d40bc02001',
};

interface Row {
  name: string;
  request: () => WebhookRequest;
  secrets?: string[];
  events: GitEvent[];
  ignored: string[];
}

const rows: Row[] = [
  {
    name: 'goplayground-gitea-push.json (saved X-Gitea-Signature; a new branch is a push)',
    request: () => fixtureRequest('gitea', 'goplayground-gitea-push.json'),
    events: [EXAMPLE_PUSH],
    ignored: [],
  },
  {
    name: 'goplayground-gogs-push.json (saved X-Gogs-Signature and X-Gogs-Delivery)',
    request: () => fixtureRequest('gitea', 'goplayground-gogs-push.json'),
    secrets: [GOGS_SECRET],
    events: [{ ...DOCS_PUSH, repoUrl: 'http://localhost:3000/unknwon/webhooks.git' }],
    ignored: [],
  },
  {
    name: 'giteadocs-push.json (saved Gitea, Gogs and GitHub alias headers; signed here under both forge names)',
    request: () => signedFixture('giteadocs-push.json', ['x-gitea-signature', 'x-gogs-signature']),
    events: [DOCS_PUSH],
    ignored: [],
  },
  {
    name: 'giteadocs-push.json as Forgejo sends it',
    request: () =>
      signedFixture('giteadocs-push.json', ['x-forgejo-signature', 'x-gitea-signature', 'x-gogs-signature'], {
        'X-Forgejo-Event': 'push',
        'X-Forgejo-Delivery': DELIVERY,
      }),
    events: [DOCS_PUSH],
    ignored: [],
  },
  {
    name: 'a branch deleted',
    request: () => delivery('push', changed('giteadocs-push.json', (b) => (b.after = '0000000000000000000000000000000000000000'))),
    events: [],
    ignored: ['deletion of refs/heads/develop is not a build trigger'],
  },
  {
    name: 'a tag pushed',
    request: () => delivery('push', changed('giteadocs-push.json', (b) => (b.ref = 'refs/tags/v1.0'))),
    events: [],
    ignored: ['tag push refs/tags/v1.0 is not a branch push'],
  },
  {
    name: 'a push to a ref outside branches and tags',
    request: () => delivery('push', changed('giteadocs-push.json', (b) => (b.ref = 'refs/pull/3/head'))),
    events: [],
    ignored: ['push to refs/pull/3/head is not a branch push'],
  },
  {
    name: 'a repository without clone_url uses html_url, and no delivery header gives a derived id',
    request: () => delivery('push', changed('giteadocs-push.json', (b) => delete b.repository!.clone_url)),
    events: [{ ...DOCS_PUSH, repoUrl: 'http://localhost:3000/gitea/webhooks', deliveryId: 'gitea/webhooks@bffeb74224043ba2feb48d137756c8a9331c449a' }],
    ignored: [],
  },
  {
    name: 'a create event',
    request: () => delivery('create', { ref: 'develop', ref_type: 'branch', sha: 'bffeb74224043ba2feb48d137756c8a9331c449a' }),
    events: [],
    ignored: ['gitea event create is not a push'],
  },
  {
    name: 'a delete event',
    request: () => delivery('delete', { ref: 'develop', ref_type: 'branch' }),
    events: [],
    ignored: ['gitea event delete is not a push'],
  },
];

describe('gitea normalize', () => {
  it.each(rows)('$name', ({ request, secrets, events, ignored }) => {
    const req = request();
    giteaProvider.authenticate(req, secrets ?? webhook.secrets);
    const result = giteaProvider.normalize(req, webhook);
    expect(result.events).toEqual(events);
    expect(result.ignored.map((i) => i.reason)).toEqual(ignored);
  });

  it.each<[string, () => WebhookRequest, RegExp]>([
    ['no event header (only the GitHub alias)', () => ({ ...delivery('push', {}), headers: { 'x-github-event': 'push' } }), /missing X-Gitea-Event/],
    ['event headers that disagree', () => delivery('push', {}, { 'x-gogs-event': 'create' }), /the event headers disagree: push, create/],
    ['a body that is not JSON', () => ({ headers: { 'x-gitea-event': 'push' }, rawBody: Buffer.from('payload=%7B%7D'), receivedAt: RECEIVED_AT }), /gitea push payload is not valid JSON/],
    ['a push without after', () => delivery('push', changed('giteadocs-push.json', (b) => delete b.after)), /gitea push payload is malformed: after:/],
    ['a push whose after is not a commit id', () => delivery('push', changed('giteadocs-push.json', (b) => (b.after = 'bffeb742'))), /after: expected a commit id/],
    [
      'a push whose repository has no URL',
      () =>
        delivery(
          'push',
          changed('giteadocs-push.json', (b) => {
            delete b.repository!.clone_url;
            delete b.repository!.html_url;
          }),
        ),
      /repository: expected clone_url or html_url/,
    ],
  ])('%s is a ValidationError', (_name, request, message) => {
    const run = () => giteaProvider.normalize(request(), webhook);
    expect(run).toThrow(ValidationError);
    expect(run).toThrow(message);
  });
});

describe('gitea authenticate (signature matrix)', () => {
  const saved = () => fixtureRequest('gitea', 'goplayground-gitea-push.json');
  const savedHex = saved().headers['x-gitea-signature']!;
  const withSignature = (signature: string | undefined): WebhookRequest => {
    const req = saved();
    req.headers['x-gitea-signature'] = signature;
    return req;
  };

  it.each<[string, () => WebhookRequest, string[]]>([
    ['the saved X-Gitea-Signature', saved, [GITEA_SECRET]],
    ['the saved X-Gogs-Signature', () => fixtureRequest('gitea', 'goplayground-gogs-push.json'), [GOGS_SECRET]],
    ['the same signature under all three forge names', () => signedFixture('giteadocs-push.json', ['x-gitea-signature', 'x-forgejo-signature', 'x-gogs-signature']), [GITEA_SECRET]],
    ['X-Forgejo-Signature alone', () => signedFixture('giteadocs-push.json', ['x-forgejo-signature']), [GITEA_SECRET]],
    ['an empty alias next to a valid signature (Gitea sends empty headers when unsigned)', () => ({ ...saved(), headers: { ...saved().headers, 'x-gogs-signature': '' } }), [GITEA_SECRET]],
    ['the second secret during rotation', saved, ['the-new-secret', GITEA_SECRET]],
    ['the first secret during rotation', saved, [GITEA_SECRET, 'the-new-secret']],
    ['upper-case hex', () => withSignature(savedHex.toUpperCase()), [GITEA_SECRET]],
  ])('accepts %s', (_name, request, secrets) => {
    expect(() => giteaProvider.authenticate(request(), secrets)).not.toThrow();
  });

  it.each<[string, () => WebhookRequest, string[], RegExp]>([
    ['a wrong secret', saved, ['not-the-secret'], /does not match/],
    ['a retired secret after rotation', saved, ['the-new-secret'], /does not match/],
    ['the Gogs fixture under the Gitea secret', () => fixtureRequest('gitea', 'goplayground-gogs-push.json'), [GITEA_SECRET], /does not match/],
    [
      'a tampered body',
      () => {
        const req = saved();
        req.rawBody = Buffer.from(req.rawBody.toString('utf8').replace('refs/heads/master', 'refs/heads/mastex'));
        return req;
      },
      [GITEA_SECRET],
      /does not match/,
    ],
    ['a missing header', () => withSignature(undefined), [GITEA_SECRET], /missing X-Gitea-Signature/],
    ['an empty header', () => withSignature(''), [GITEA_SECRET], /missing X-Gitea-Signature/],
    // Old Gitea put the secret in the body; whoever can post can write it there.
    ['an unsigned body carrying the secret in its deprecated secret field', () => fixtureRequest('gitea', 'giteadocs-push.json'), [IN_BODY_SECRET], /missing X-Gitea-Signature/],
    ['a signature with GitHub\'s sha256= prefix', () => withSignature(`sha256=${savedHex}`), [GITEA_SECRET], /without a "sha256=" prefix/],
    ['a signature one digit short', () => withSignature(savedHex.slice(0, -1)), [GITEA_SECRET], /64 hex digits/],
    ['a signature one digit long', () => withSignature(`${savedHex}0`), [GITEA_SECRET], /64 hex digits/],
    ['non-hex digits', () => withSignature('x'.repeat(64)), [GITEA_SECRET], /64 hex digits/],
    ['a valid X-Gitea-Signature next to a wrong X-Gogs-Signature', () => ({ ...saved(), headers: { ...saved().headers, 'x-gogs-signature': hmac(saved().rawBody, 'other') } }), [GITEA_SECRET], /does not match/],
    ['a valid X-Gitea-Signature next to a malformed X-Forgejo-Signature', () => ({ ...saved(), headers: { ...saved().headers, 'x-forgejo-signature': 'abc' } }), [GITEA_SECRET], /64 hex digits/],
    [
      'signatures under two secrets, one in each header, during rotation',
      () => ({ ...saved(), headers: { ...saved().headers, 'x-gogs-signature': hmac(saved().rawBody, 'the-new-secret') } }),
      [GITEA_SECRET, 'the-new-secret'],
      /does not match/,
    ],
    ['a webhook without secrets', saved, [], /no secret configured/],
  ])('rejects %s', (_name, request, secrets, message) => {
    const run = () => giteaProvider.authenticate(request(), secrets);
    expect(run).toThrow(UnauthorizedError);
    expect(run).toThrow(message);
    try {
      run();
    } catch (err) {
      const text = (err as Error).message;
      expect(text).not.toContain(savedHex);
      for (const secret of [GITEA_SECRET, GOGS_SECRET, IN_BODY_SECRET, ...secrets]) expect(text).not.toContain(secret);
    }
  });
});

describe('gitea setup and content types', () => {
  it('tells where the URL and the secret go', () => {
    const text = giteaProvider.setupInstructions({ url: 'https://hooks.example.com/webhooks/gitea-repo', secret: 's3cr3t-value', webhook });
    expect(text).toContain('Target URL:         https://hooks.example.com/webhooks/gitea-repo');
    expect(text).toContain('Secret:             s3cr3t-value');
    expect(text).toContain('POST content type:  application/json');
    expect(text).toContain('Push events');
  });

  it.each<[string | undefined, boolean]>([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['application/x-www-form-urlencoded', false],
    [undefined, false],
  ])('%s → %s', (contentType, accepted) => {
    expect(acceptsContentType(giteaProvider, contentType)).toBe(accepted);
  });
});
