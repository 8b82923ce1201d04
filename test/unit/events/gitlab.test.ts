import { UnauthorizedError, ValidationError } from '../../../lib/domain/errors';
import type { GitEvent, Webhook } from '../../../lib/domain/types';
import { acceptsContentType } from '../../../lib/domain/webhook-provider';
import { gitlabProvider } from '../../../lib/events/gitlab';
import type { WebhookRequest } from '../../../lib/domain/webhook-provider';
import { RECEIVED_AT, fixtureJson, fixtureRequest } from './fixtures';
import { rememberSecrets } from '../../support/secrets';

// The token go-playground/webhooks sends with its GitLab test payloads (see SOURCES.md).
const SECRET = 'sampleToken!';
rememberSecrets(SECRET);
const webhook: Webhook = { name: 'gitlab-repo', provider: 'gitlab', secrets: [SECRET], createdAt: '2026-11-28T00:00:00.000Z' };

const DIASPORA_PUSH: GitEvent = {
  kind: 'git',
  source: 'gitlab',
  repoUrl: 'http://example.com/mike/diaspora.git',
  ref: 'refs/heads/master',
  commit: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
  deliveryId: 'mike/diaspora@da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
};

/** A fixture whose source shows no token: the token is added here, as GitLab would send it. */
function withToken(file: string, headers: Record<string, string> = {}): WebhookRequest {
  return fixtureRequest('gitlab', file, { 'Content-Type': 'application/json', 'X-Gitlab-Token': SECRET, ...headers });
}

/** A delivery of `body` as a GitLab project hook would send it. */
function delivery(body: unknown, headers: Record<string, string> = {}): WebhookRequest {
  return {
    headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': SECRET, ...headers },
    rawBody: Buffer.from(JSON.stringify(body)),
    receivedAt: RECEIVED_AT,
  };
}

interface PushBody {
  object_kind?: unknown;
  event_name?: string;
  ref: string;
  after?: string;
  checkout_sha?: string | null;
  project?: { git_http_url?: string; path_with_namespace?: string };
  repository?: { git_http_url?: string };
}
function changed(file: string, change: (body: PushBody) => void): Record<string, unknown> {
  const body = fixtureJson('gitlab', file);
  change(body as unknown as PushBody);
  return body;
}

interface Row {
  name: string;
  request: () => WebhookRequest;
  events: GitEvent[];
  ignored: string[];
}

const rows: Row[] = [
  {
    name: 'goplayground-push-hook.json (saved headers and token)',
    request: () => fixtureRequest('gitlab', 'goplayground-push-hook.json'),
    events: [DIASPORA_PUSH],
    ignored: [],
  },
  {
    name: 'goplayground-system-hook-push.json (event_name only)',
    request: () => fixtureRequest('gitlab', 'goplayground-system-hook-push.json'),
    events: [DIASPORA_PUSH],
    ignored: [],
  },
  {
    name: 'goplayground-tag-push-hook.json (saved headers and token)',
    request: () => fixtureRequest('gitlab', 'goplayground-tag-push-hook.json'),
    events: [],
    ignored: ['tag push refs/tags/v1.0.0 is not a branch push'],
  },
  {
    name: 'gitlabdocs-push-hook.json with Idempotency-Key and X-Gitlab-Event-UUID',
    request: () =>
      withToken('gitlabdocs-push-hook.json', {
        'Idempotency-Key': '908a6d9e-45fd-46c8-97e6-c4f350f219dd',
        'X-Gitlab-Event-UUID': '13792a34-cac6-4fda-95a8-c58e00a3954e',
      }),
    events: [{ ...DIASPORA_PUSH, deliveryId: '908a6d9e-45fd-46c8-97e6-c4f350f219dd' }],
    ignored: [],
  },
  {
    name: 'gitlabdocs-push-hook.json with X-Gitlab-Event-UUID only',
    request: () => withToken('gitlabdocs-push-hook.json', { 'X-Gitlab-Event-UUID': '13792a34-cac6-4fda-95a8-c58e00a3954e' }),
    events: [{ ...DIASPORA_PUSH, deliveryId: '13792a34-cac6-4fda-95a8-c58e00a3954e' }],
    ignored: [],
  },
  {
    name: 'gitlabdocs-tag-push-hook.json',
    request: () => withToken('gitlabdocs-tag-push-hook.json'),
    events: [],
    ignored: ['tag push refs/tags/v1.0.0 is not a branch push'],
  },
  {
    name: 'a branch deleted (after and checkout_sha as GitLab sends them)',
    request: () =>
      delivery(
        changed('gitlabdocs-push-hook.json', (b) => {
          b.after = '0000000000000000000000000000000000000000';
          b.checkout_sha = null;
        }),
      ),
    events: [],
    ignored: ['deletion of refs/heads/master is not a build trigger'],
  },
  {
    name: 'a tag deleted',
    request: () => delivery(changed('gitlabdocs-tag-push-hook.json', (b) => (b.after = '0000000000000000000000000000000000000000'))),
    events: [],
    ignored: ['deletion of refs/tags/v1.0.0 is not a build trigger'],
  },
  {
    name: 'a branch created at a commit (before is zero) is a push',
    request: () =>
      delivery(
        changed('gitlabdocs-push-hook.json', (b) => {
          Object.assign(b, { before: '0000000000000000000000000000000000000000' });
          b.ref = 'refs/heads/feature/new';
        }),
      ),
    events: [{ ...DIASPORA_PUSH, ref: 'refs/heads/feature/new' }],
    ignored: [],
  },
  {
    name: 'a project without git_http_url falls back to repository.git_http_url',
    request: () =>
      delivery(
        changed('goplayground-push-hook.json', (b) => {
          delete b.project!.git_http_url;
          b.repository!.git_http_url = 'https://gitlab.example.com/mike/diaspora.git';
        }),
      ),
    events: [{ ...DIASPORA_PUSH, repoUrl: 'https://gitlab.example.com/mike/diaspora.git' }],
    ignored: [],
  },
  {
    name: 'a push to a ref outside branches and tags',
    request: () => delivery(changed('goplayground-push-hook.json', (b) => (b.ref = 'refs/merge-requests/7/head'))),
    events: [],
    ignored: ['push to refs/merge-requests/7/head is not a branch push'],
  },
  {
    name: 'a merge request hook',
    request: () => delivery({ object_kind: 'merge_request', event_type: 'merge_request', project: { id: 1 } }, { 'x-gitlab-event': 'Merge Request Hook' }),
    events: [],
    ignored: ['gitlab event merge_request is not a push'],
  },
  {
    name: 'a system hook for another event',
    request: () => delivery({ event_name: 'repository_update', project_id: 1 }, { 'x-gitlab-event': 'System Hook' }),
    events: [],
    ignored: ['gitlab event repository_update is not a push'],
  },
];

describe('gitlab normalize', () => {
  it.each(rows)('$name', ({ request, events, ignored }) => {
    const req = request();
    gitlabProvider.authenticate(req, webhook.secrets);
    const result = gitlabProvider.normalize(req, webhook);
    expect(result.events).toEqual(events);
    expect(result.ignored.map((i) => i.reason)).toEqual(ignored);
    expect(result.ping).toBeUndefined();
  });

  it.each<[string, () => WebhookRequest, RegExp]>([
    ['a body that is not JSON', () => ({ headers: {}, rawBody: Buffer.from('ref=main'), receivedAt: RECEIVED_AT }), /gitlab payload is not valid JSON/],
    ['an empty body', () => ({ headers: {}, rawBody: Buffer.alloc(0), receivedAt: RECEIVED_AT }), /gitlab payload is empty/],
    ['a JSON array', () => delivery([]), /gitlab payload is malformed/],
    ['neither object_kind nor event_name', () => delivery({ ref: 'refs/heads/main' }), /expected object_kind or event_name/],
    ['an object_kind that is not a string', () => delivery(changed('goplayground-push-hook.json', (b) => (b.object_kind = 3))), /object_kind/],
    ['a push without after', () => delivery(changed('goplayground-push-hook.json', (b) => delete b.after)), /gitlab push payload is malformed: after:/],
    ['a push whose after is not a commit id', () => delivery(changed('goplayground-push-hook.json', (b) => (b.after = 'HEAD'))), /after: expected a commit id/],
    [
      'a push without any http URL',
      () =>
        delivery(
          changed('goplayground-push-hook.json', (b) => {
            delete b.project!.git_http_url;
            delete b.repository!.git_http_url;
          }),
        ),
      /project: expected project.git_http_url or repository.git_http_url/,
    ],
    ['a tag push without ref', () => delivery({ object_kind: 'tag_push', after: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7' }), /gitlab tag_push payload is malformed: ref:/],
  ])('%s is a ValidationError', (_name, request, message) => {
    const run = () => gitlabProvider.normalize(request(), webhook);
    expect(run).toThrow(ValidationError);
    expect(run).toThrow(message);
  });
});

describe('gitlab authenticate (token matrix)', () => {
  const saved = () => fixtureRequest('gitlab', 'goplayground-push-hook.json');
  const withHeader = (token: string | undefined): WebhookRequest => {
    const req = saved();
    req.headers['x-gitlab-token'] = token;
    return req;
  };

  it.each<[string, () => WebhookRequest, string[]]>([
    ['the saved token', saved, [SECRET]],
    ['the saved system hook token', () => fixtureRequest('gitlab', 'goplayground-system-hook-push.json'), [SECRET]],
    ['the second secret during rotation', saved, ['the-new-secret', SECRET]],
    ['the first secret during rotation', saved, [SECRET, 'the-new-secret']],
    // The token does not cover the body: GitLab proves only that the sender knows the secret.
    ['a changed body with the right token', () => ({ ...saved(), rawBody: Buffer.from('{}') }), [SECRET]],
  ])('accepts %s', (_name, request, secrets) => {
    expect(() => gitlabProvider.authenticate(request(), secrets)).not.toThrow();
  });

  it.each<[string, () => WebhookRequest, string[], RegExp]>([
    ['a wrong secret', saved, ['not-the-secret'], /does not match/],
    ['a retired secret after rotation', saved, ['the-new-secret'], /does not match/],
    ['a missing header', () => withHeader(undefined), [SECRET], /missing X-Gitlab-Token/],
    ['an empty header', () => withHeader(''), [SECRET], /missing X-Gitlab-Token/],
    ['a Bearer prefix', () => withHeader(`Bearer ${SECRET}`), [SECRET], /does not match/],
    ['a token one character short', () => withHeader(SECRET.slice(0, -1)), [SECRET], /does not match/],
    ['a token one character long', () => withHeader(`${SECRET}x`), [SECRET], /does not match/],
    ['a token with different case', () => withHeader(SECRET.toUpperCase()), [SECRET], /does not match/],
    ['a webhook without secrets', saved, [], /no secret configured/],
    ['a webhook whose only secret is empty', saved, [''], /no secret configured/],
  ])('rejects %s', (_name, request, secrets, message) => {
    const run = () => gitlabProvider.authenticate(request(), secrets);
    expect(run).toThrow(UnauthorizedError);
    expect(run).toThrow(message);
    try {
      run();
    } catch (err) {
      const text = (err as Error).message;
      for (const secret of [SECRET, ...secrets].filter((s) => s !== '')) expect(text).not.toContain(secret);
    }
  });
});

describe('gitlab setup and content types', () => {
  it('tells where the URL and the secret token go', () => {
    const text = gitlabProvider.setupInstructions({ url: 'https://hooks.example.com/webhooks/gitlab-repo', secret: 's3cr3t-value', webhook });
    expect(text).toContain('URL:            https://hooks.example.com/webhooks/gitlab-repo');
    expect(text).toContain('Secret token:   s3cr3t-value');
    expect(text).toContain('Push events');
    expect(gitlabProvider.secretIn).toBe('header');
    expect(gitlabProvider.kind).toBe('git');
  });

  it.each<[string | undefined, boolean]>([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['application/x-www-form-urlencoded', false],
    [undefined, false],
  ])('%s → %s', (contentType, accepted) => {
    expect(acceptsContentType(gitlabProvider, contentType)).toBe(accepted);
  });
});
