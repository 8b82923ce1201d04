import { createHmac } from 'node:crypto';
import { UnauthorizedError, ValidationError } from '../../../lib/domain/errors';
import type { GitEvent, Webhook } from '../../../lib/domain/types';
import { acceptsContentType } from '../../../lib/domain/webhook-provider';
import { githubProvider } from '../../../lib/events/github';
import { createCascade } from '../../../lib/domain/cascade';
import { webhookRoutes } from '../../../lib/http/api-routes';
import { createRouter } from '../../../lib/http/router';
import { memoryCascadePorts } from '../../support/memory-ports';
import type { WebhookRequest } from '../../../lib/domain/webhook-provider';
import { RECEIVED_AT, fixtureJson, fixtureRequest } from './fixtures';
import { rememberSecrets } from '../../support/secrets';

// The secret go-playground/webhooks signs its GitHub test payloads with (see SOURCES.md).
const SECRET = 'IsWishesWereHorsesWedAllBeEatingSteak!';
rememberSecrets(SECRET);
const webhook: Webhook = { name: 'app-repo', provider: 'github', secrets: [SECRET], createdAt: '2026-11-28T00:00:00.000Z' };

const sign = (body: Buffer | string, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** A delivery of `body` as GitHub would send it, signed with SECRET. */
function delivery(event: string, body: unknown, headers: Record<string, string> = {}): WebhookRequest {
  const rawBody = Buffer.from(JSON.stringify(body));
  return {
    headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-hub-signature-256': sign(rawBody), ...headers },
    rawBody,
    receivedAt: RECEIVED_AT,
  };
}

/** A fixture whose source shows no headers: the event type is given, the signature computed here. */
function unsignedFixture(file: string, event: string, headers: Record<string, string> = {}): WebhookRequest {
  const request = fixtureRequest('github', file, { 'content-type': 'application/json', 'x-github-event': event, ...headers });
  request.headers['x-hub-signature-256'] = sign(request.rawBody);
  return request;
}

interface PushBody {
  ref: string;
  after?: string;
  deleted?: boolean;
  repository?: { clone_url?: string; html_url?: string };
}
function changedFixture(file: string, change: (body: PushBody) => void): Record<string, unknown> {
  const body = fixtureJson('github', file);
  change(body as unknown as PushBody);
  return body;
}

/** `json` in the `payload` field, as GitHub sends it with content type application/x-www-form-urlencoded. */
function formEncoded(event: string, json: string): WebhookRequest {
  const rawBody = Buffer.from(new URLSearchParams({ payload: json }).toString());
  return {
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-github-event': event, 'x-hub-signature-256': sign(rawBody) },
    rawBody,
    receivedAt: RECEIVED_AT,
  };
}

/** The saved ping, changed by `change`. */
function pingFixture(change: (body: Record<string, unknown>) => void = () => {}): Record<string, unknown> {
  const body = fixtureJson('github', 'goplayground-ping.json');
  change(body);
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
    name: 'goplayground-push-branch.json (saved headers and signature)',
    request: () => fixtureRequest('github', 'goplayground-push-branch.json'),
    events: [
      {
        kind: 'git',
        source: 'github',
        repoUrl: 'https://github.com/binkkatal/sample_app.git',
        ref: 'refs/heads/master',
        commit: 'fd489864e7642b48eaad6e3f155c10e46810ec72',
        deliveryId: 'binkkatal/sample_app@fd489864e7642b48eaad6e3f155c10e46810ec72',
      },
    ],
    ignored: [],
  },
  {
    name: 'goplayground-ping.json (saved headers and signature)',
    request: () => fixtureRequest('github', 'goplayground-ping.json'),
    events: [],
    ignored: ['ping'],
  },
  {
    name: 'octokit-ping.json',
    request: () => unsignedFixture('octokit-ping.json', 'ping'),
    events: [],
    ignored: ['ping'],
  },
  {
    name: 'goplayground-ping.json form-encoded',
    request: () => formEncoded('ping', fixtureRequest('github', 'goplayground-ping.json').rawBody.toString('utf8')),
    events: [],
    ignored: ['ping'],
  },
  {
    name: 'octokit-push-new-branch.json with a delivery id',
    request: () => unsignedFixture('octokit-push-new-branch.json', 'push', { 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' }),
    events: [
      {
        kind: 'git',
        source: 'github',
        repoUrl: 'https://github.com/Codertocat/Hello-World.git',
        ref: 'refs/heads/master',
        commit: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
        deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      },
    ],
    ignored: [],
  },
  {
    name: 'octokit-push-tag-delete.json',
    request: () => unsignedFixture('octokit-push-tag-delete.json', 'push'),
    events: [],
    ignored: ['deletion of refs/tags/simple-tag is not a build trigger'],
  },
  {
    name: 'a tag created (octokit-push-new-branch.json on refs/tags/v1.0.0)',
    request: () => delivery('push', changedFixture('octokit-push-new-branch.json', (b) => (b.ref = 'refs/tags/v1.0.0'))),
    events: [],
    ignored: ['tag push refs/tags/v1.0.0 is not a branch push'],
  },
  {
    name: 'a branch deleted (goplayground-push-branch.json with deleted: true)',
    request: () =>
      delivery(
        'push',
        changedFixture('goplayground-push-branch.json', (b) => {
          b.deleted = true;
          b.after = '0000000000000000000000000000000000000000';
        }),
      ),
    events: [],
    ignored: ['deletion of refs/heads/master is not a build trigger'],
  },
  {
    name: 'a push to a ref outside branches and tags',
    request: () => delivery('push', changedFixture('goplayground-push-branch.json', (b) => (b.ref = 'refs/pull/7/head'))),
    events: [],
    ignored: ['push to refs/pull/7/head is not a branch push'],
  },
  {
    name: 'a push to a branch with a slash in its name',
    request: () => delivery('push', changedFixture('goplayground-push-branch.json', (b) => (b.ref = 'refs/heads/feature/x')), { 'x-github-delivery': 'd-1' }),
    events: [
      {
        kind: 'git',
        source: 'github',
        repoUrl: 'https://github.com/binkkatal/sample_app.git',
        ref: 'refs/heads/feature/x',
        commit: 'fd489864e7642b48eaad6e3f155c10e46810ec72',
        deliveryId: 'd-1',
      },
    ],
    ignored: [],
  },
  {
    name: 'a push whose repository has no clone_url uses html_url',
    request: () => delivery('push', changedFixture('goplayground-push-branch.json', (b) => delete b.repository!.clone_url)),
    events: [
      {
        kind: 'git',
        source: 'github',
        repoUrl: 'https://github.com/binkkatal/sample_app',
        ref: 'refs/heads/master',
        commit: 'fd489864e7642b48eaad6e3f155c10e46810ec72',
        deliveryId: 'binkkatal/sample_app@fd489864e7642b48eaad6e3f155c10e46810ec72',
      },
    ],
    ignored: [],
  },
  {
    name: 'another event type (a push body sent as pull_request)',
    request: () => unsignedFixture('goplayground-push-branch.json', 'pull_request'),
    events: [],
    ignored: ['github event pull_request is not a push'],
  },
  {
    name: 'goplayground-push-branch.json form-encoded',
    request: () => formEncoded('push', fixtureRequest('github', 'goplayground-push-branch.json').rawBody.toString('utf8')),
    events: [
      {
        kind: 'git',
        source: 'github',
        repoUrl: 'https://github.com/binkkatal/sample_app.git',
        ref: 'refs/heads/master',
        commit: 'fd489864e7642b48eaad6e3f155c10e46810ec72',
        deliveryId: 'binkkatal/sample_app@fd489864e7642b48eaad6e3f155c10e46810ec72',
      },
    ],
    ignored: [],
  },
];

describe('github normalize', () => {
  it.each(rows)('$name', ({ request, events, ignored }) => {
    const req = request();
    // Every row is a delivery that passes authentication first, as the receiver does it.
    githubProvider.authenticate(req, webhook.secrets);
    const result = githubProvider.normalize(req, webhook);
    expect(result.events).toEqual(events);
    expect(result.ignored.map((i) => i.reason)).toEqual(ignored);
  });

  it.each<[string, () => WebhookRequest, RegExp]>([
    ['a missing X-GitHub-Event header', () => fixtureRequest('github', 'octokit-push-new-branch.json'), /missing X-GitHub-Event/],
    ['a push without after', () => delivery('push', changedFixture('goplayground-push-branch.json', (b) => delete b.after)), /github push payload is malformed: after:/],
    ['a push whose after is not a commit id', () => delivery('push', changedFixture('goplayground-push-branch.json', (b) => (b.after = 'HEAD'))), /after: expected a commit id/],
    ['a push without repository', () => delivery('push', changedFixture('goplayground-push-branch.json', (b) => delete b.repository)), /repository:/],
    [
      'a push whose repository has no URL',
      () =>
        delivery(
          'push',
          changedFixture('goplayground-push-branch.json', (b) => {
            delete b.repository!.clone_url;
            delete b.repository!.html_url;
          }),
        ),
      /repository: expected clone_url or html_url/,
    ],
    ['a push body that is not JSON', () => ({ headers: { 'x-github-event': 'push', 'content-type': 'application/json' }, rawBody: Buffer.from('ref=main'), receivedAt: '' }), /github push payload is not valid JSON/],
    [
      'a form-encoded delivery without a payload field',
      () => ({ headers: { 'x-github-event': 'push', 'content-type': 'application/x-www-form-urlencoded' }, rawBody: Buffer.from('other=1'), receivedAt: '' }),
      /no payload field/,
    ],
    ['a ping body that is not JSON', () => ({ ...delivery('ping', {}), rawBody: Buffer.from('zen=1') }), /github ping payload is not valid JSON/],
    ['a ping body that is a JSON string', () => delivery('ping', 'zen'), /github ping payload is malformed: Invalid input: expected object, received string/],
    ['a ping body that is not an object', () => delivery('ping', [pingFixture()]), /github ping payload is malformed: Invalid input: expected object, received array/],
    ['a ping body that is empty', () => ({ ...delivery('ping', {}), rawBody: Buffer.alloc(0) }), /github ping payload is empty/],
    ['a ping without zen', () => delivery('ping', pingFixture((b) => delete b.zen)), /github ping payload is malformed: zen: Invalid input: expected string, received undefined/],
    ['a ping with an empty zen', () => delivery('ping', pingFixture((b) => (b.zen = ''))), /github ping payload is malformed: zen: Too small/],
    ['a ping without hook_id', () => delivery('ping', pingFixture((b) => delete b.hook_id)), /github ping payload is malformed: hook_id: Invalid input: expected number, received undefined/],
    ['a ping whose hook_id is a string', () => delivery('ping', pingFixture((b) => (b.hook_id = '20081052'))), /github ping payload is malformed: hook_id: Invalid input: expected number, received string/],
    ['a ping whose hook_id is not a whole number', () => delivery('ping', pingFixture((b) => (b.hook_id = 1.5))), /github ping payload is malformed: hook_id: Invalid input: expected int, received number/],
    ['a ping without hook', () => delivery('ping', pingFixture((b) => delete b.hook)), /github ping payload is malformed: hook: Invalid input: expected object, received undefined/],
    ['a ping whose hook is not an object', () => delivery('ping', pingFixture((b) => (b.hook = 'web'))), /github ping payload is malformed: hook: Invalid input: expected object, received string/],
    ['a form-encoded ping whose payload is not JSON', () => formEncoded('ping', '{zen'), /github ping payload is not valid JSON/],
  ])('%s is a ValidationError', (_name, request, message) => {
    const run = () => githubProvider.normalize(request(), webhook);
    expect(run).toThrow(ValidationError);
    expect(run).toThrow(message);
  });
});

describe('github ping through the webhook route', () => {
  async function answer(body: unknown): Promise<{ status: number; body: unknown }> {
    const ports = memoryCascadePorts();
    await ports.webhooks.create(webhook);
    const route = createRouter(webhookRoutes, createCascade(ports));
    const { headers, rawBody, receivedAt } = delivery('ping', body);
    const response = await route({ method: 'POST', path: `/webhooks/${webhook.name}`, query: {}, headers, body: rawBody, receivedAt });
    return { status: response.status, body: JSON.parse(response.body) };
  }

  it('answers the saved ping 200', async () => {
    expect(await answer(pingFixture())).toEqual({ status: 200, body: { accepted: 0, ignored: [{ reason: 'ping' }] } });
  });

  it('answers a correctly signed ping without hook_id 400, naming the field', async () => {
    expect(await answer(pingFixture((b) => delete b.hook_id))).toEqual({
      status: 400,
      body: { error: { code: 'invalid_input', message: 'github ping payload is malformed: hook_id: Invalid input: expected number, received undefined', field: 'body' } },
    });
  });
});

describe('github authenticate (signature matrix)', () => {
  const signed = () => fixtureRequest('github', 'goplayground-push-branch.json');
  const expectedHex = signed().headers['x-hub-signature-256']!.slice('sha256='.length);
  const withSignature = (signature: string | undefined): WebhookRequest => {
    const req = signed();
    req.headers['x-hub-signature-256'] = signature;
    return req;
  };

  it.each<[string, () => WebhookRequest, string[]]>([
    ['the saved signature', signed, [SECRET]],
    ['the saved ping signature', () => fixtureRequest('github', 'goplayground-ping.json'), [SECRET]],
    ['the second secret during rotation', signed, ['the-new-secret', SECRET]],
    ['the first secret during rotation', signed, [SECRET, 'the-new-secret']],
    ['upper-case hex', () => withSignature(`sha256=${expectedHex.toUpperCase()}`), [SECRET]],
  ])('accepts %s', (_name, request, secrets) => {
    expect(() => githubProvider.authenticate(request(), secrets)).not.toThrow();
  });

  it.each<[string, () => WebhookRequest, string[], RegExp]>([
    ['a wrong secret', signed, ['not-the-secret'], /does not match/],
    [
      'a tampered body',
      () => {
        const req = signed();
        req.rawBody = Buffer.from(req.rawBody.toString('utf8').replace('refs/heads/master', 'refs/heads/mastex'));
        return req;
      },
      [SECRET],
      /does not match/,
    ],
    ['a body with one byte appended', () => ({ ...signed(), rawBody: Buffer.concat([signed().rawBody, Buffer.from('\n')]) }), [SECRET], /does not match/],
    ['a missing header', () => withSignature(undefined), [SECRET], /missing X-Hub-Signature-256/],
    ['an empty header', () => withSignature(''), [SECRET], /missing X-Hub-Signature-256/],
    ['the sha1= prefix', () => withSignature(`sha1=${expectedHex}`), [SECRET], /must be "sha256="/],
    ['no prefix', () => withSignature(expectedHex), [SECRET], /must be "sha256="/],
    ['a signature one digit short', () => withSignature(`sha256=${expectedHex.slice(0, -1)}`), [SECRET], /must be "sha256="/],
    ['a signature one digit long', () => withSignature(`sha256=${expectedHex}0`), [SECRET], /must be "sha256="/],
    ['non-hex digits', () => withSignature(`sha256=${'z'.repeat(64)}`), [SECRET], /must be "sha256="/],
    ['a retired secret after rotation', signed, ['the-new-secret'], /does not match/],
    ['a webhook without secrets', signed, [], /no secret configured/],
    [
      'a JSON signature on a form-encoded body',
      () => {
        const req = signed();
        req.rawBody = Buffer.from(new URLSearchParams({ payload: req.rawBody.toString('utf8') }).toString());
        return req;
      },
      [SECRET],
      /does not match/,
    ],
  ])('rejects %s', (_name, request, secrets, message) => {
    const run = () => githubProvider.authenticate(request(), secrets);
    expect(run).toThrow(UnauthorizedError);
    expect(run).toThrow(message);
    try {
      run();
    } catch (err) {
      const text = (err as Error).message;
      expect(text).not.toContain(expectedHex);
      for (const secret of [SECRET, ...secrets]) expect(text).not.toContain(secret);
    }
  });
});

describe('github content types', () => {
  it.each<[string | undefined, boolean]>([
    ['application/json', true],
    ['application/x-www-form-urlencoded', true],
    ['application/json; charset=utf-8', true],
    ['text/plain', false],
    [undefined, false],
  ])('%s → %s', (contentType, accepted) => {
    expect(acceptsContentType(githubProvider, contentType)).toBe(accepted);
  });
});
