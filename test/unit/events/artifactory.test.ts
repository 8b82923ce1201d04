import { createHash, createHmac } from 'node:crypto';
import { UnauthorizedError, ValidationError } from '../../../lib/domain/errors';
import type { ImageDeleteEvent, ImageEvent, Webhook } from '../../../lib/domain/types';
import { artifactoryProvider } from '../../../lib/events/artifactory';
import { acceptsContentType } from '../../../lib/domain/webhook-provider';
import type { WebhookRequest } from '../../../lib/domain/webhook-provider';
import { RECEIVED_AT, fixtureJson, fixtureRequest } from './fixtures';
import { rememberSecrets } from '../../support/secrets';

const SECRET = 'jfrog-secret-token';
rememberSecrets(SECRET);
const webhook: Webhook = { name: 'jfrog', provider: 'artifactory', secrets: [SECRET], loginServer: 'example.jfrog.io', createdAt: '2026-11-28T00:00:00.000Z' };
const withoutLoginServer: Webhook = { name: 'jfrog', provider: 'artifactory', secrets: [SECRET], createdAt: '2026-11-28T00:00:00.000Z' };

const PUSHED = 'jfrogdocs-docker-pushed-data.json';
const DELETED = 'jfrogdocs-docker-deleted-data-placeholder.json';
const DIGEST = 'sha256:35c4a2c15539c6c1e4e5fa4e554dac323ad0107d8eb5c582d6ff386b383b7dce';

/**
 * The HTTP body JFrog sends around a `data` object (the shared fixtures hold only the data, as the
 * JFrog docs show it): the envelope fields as on JFrog's event-types page.
 */
function jfrogBody(file: string, change: (data: Record<string, unknown>, body: Record<string, unknown>) => void = () => undefined): Record<string, unknown> {
  const data = fixtureJson('artifactory', file);
  const body: Record<string, unknown> = {
    domain: 'docker',
    event_type: data.event_type,
    data,
    subscription_key: 'cascade',
    jpd_origin: 'https://example.jfrog.io',
    source: 'jfrog/admin',
  };
  change(data, body);
  return body;
}

function delivery(body: unknown, auth: (raw: Buffer) => string | undefined = () => SECRET): WebhookRequest {
  const rawBody = Buffer.from(JSON.stringify(body));
  const header = auth(rawBody);
  return {
    headers: { 'content-type': 'application/json', ...(header !== undefined && { 'x-jfrog-event-auth': header }) },
    rawBody,
    receivedAt: RECEIVED_AT,
  };
}
const hmac = (secret: string) => (raw: Buffer) => createHmac('sha256', secret).update(raw).digest('hex');

const ANY_BODY_HASH = expect.stringMatching(/^[0-9a-f]{64}$/) as unknown as string;

interface Row {
  name: string;
  request: () => WebhookRequest;
  webhook?: Webhook;
  events: Array<ImageEvent | ImageDeleteEvent>;
  ignored: string[];
}

const rows: Row[] = [
  {
    name: `${PUSHED} in its HTTP body (a manifest list pushed to a remote cache)`,
    request: () => delivery(jfrogBody(PUSHED)),
    events: [
      {
        kind: 'image',
        source: 'artifactory',
        registry: 'example.jfrog.io',
        repository: 'docker-remote-cache/library/ubuntu',
        tag: 'latest',
        digest: 'sha256:35c4a2c15539c6c1e4e5fa4e554dac323ad0107d8eb5c582d6ff386b383b7dce',
        occurredAt: RECEIVED_AT,
        deliveryId: ANY_BODY_HASH,
      },
    ],
    ignored: [],
  },
  {
    name: `${DELETED} in its HTTP body (every value a placeholder)`,
    request: () => delivery(jfrogBody(DELETED)),
    events: [],
    ignored: ['deleted example.jfrog.io/sample_repo/sample_arch:sample_image: data.sha256 "sample_checksum" is not a manifest checksum (expected 64 lower-case hex digits)'],
  },
  {
    name: `${PUSHED} for a webhook without a login server`,
    request: () => delivery(jfrogBody(PUSHED)),
    webhook: withoutLoginServer,
    events: [],
    ignored: ['pushed docker-remote-cache/library/ubuntu:latest: Artifactory does not say its registry host; set it with --login-server on the webhook'],
  },
  {
    name: `${PUSHED} as a delete`,
    request: () => delivery(jfrogBody(PUSHED, (d, b) => (b.event_type = d.event_type = 'deleted'))),
    events: [
      {
        kind: 'image-delete',
        source: 'artifactory',
        registry: 'example.jfrog.io',
        repository: 'docker-remote-cache/library/ubuntu',
        tag: 'latest',
        digest: 'sha256:35c4a2c15539c6c1e4e5fa4e554dac323ad0107d8eb5c582d6ff386b383b7dce',
        occurredAt: RECEIVED_AT,
        deliveryId: ANY_BODY_HASH,
      },
    ],
    ignored: [],
  },
  {
    name: `${PUSHED} as a promotion`,
    request: () => delivery(jfrogBody(PUSHED, (d, b) => (b.event_type = d.event_type = 'promoted'))),
    events: [],
    ignored: ['docker promoted of docker-remote-cache/library/ubuntu:latest is not a push or a delete'],
  },
  {
    name: `${DELETED}'s placeholders as a push (what the Test button sends)`,
    request: () => delivery(jfrogBody(DELETED, (d, b) => (b.event_type = d.event_type = 'pushed'))),
    events: [],
    ignored: ['pushed example.jfrog.io/sample_repo/sample_arch:sample_image: data.sha256 "sample_checksum" is not a manifest checksum (expected 64 lower-case hex digits)'],
  },
  {
    name: 'an artifact event',
    request: () => delivery(jfrogBody(PUSHED, (_d, b) => Object.assign(b, { domain: 'artifact', event_type: 'deployed' }))),
    events: [],
    ignored: ['artifactory artifact event deployed is not a docker event'],
  },
  {
    name: 'a push with an upper-case checksum',
    request: () => delivery(jfrogBody(PUSHED, (d) => (d.sha256 = String(d.sha256).toUpperCase()))),
    events: [],
    ignored: [
      'pushed example.jfrog.io/docker-remote-cache/library/ubuntu:latest: data.sha256 "35C4A2C15539C6C1E4E5FA4E554DAC323AD0107D8EB5C582D6FF386B383B7DCE" is not a manifest checksum (expected 64 lower-case hex digits)',
    ],
  },
  {
    name: 'a push without a checksum',
    request: () => delivery(jfrogBody(PUSHED, (d) => delete d.sha256)),
    events: [],
    ignored: ['pushed example.jfrog.io/docker-remote-cache/library/ubuntu:latest: no data.sha256'],
  },
  {
    name: 'a repository key with upper case',
    request: () => delivery(jfrogBody(PUSHED, (d) => (d.repo_key = 'Docker-Local'))),
    events: [],
    ignored: ['pushed example.jfrog.io/Docker-Local/library/ubuntu:latest: invalid repository name "Docker-Local/library/ubuntu"'],
  },
  {
    name: 'an invalid tag',
    request: () => delivery(jfrogBody(PUSHED, (d) => (d.tag = 'latest!'))),
    events: [],
    ignored: ['pushed example.jfrog.io/docker-remote-cache/library/ubuntu:latest!: invalid tag "latest!"'],
  },
  {
    name: 'a login server that is not a host',
    request: () => delivery(jfrogBody(PUSHED)),
    webhook: { ...webhook, loginServer: 'https://example.jfrog.io' },
    events: [],
    ignored: ['pushed https://example.jfrog.io/docker-remote-cache/library/ubuntu:latest: invalid registry host "https://example.jfrog.io"'],
  },
];

describe('artifactory normalize', () => {
  it.each(rows)('$name', ({ request, webhook: hook, events, ignored }) => {
    const req = request();
    artifactoryProvider.authenticate(req, [SECRET]);
    const result = artifactoryProvider.normalize(req, hook ?? webhook);
    expect(result.events).toEqual(events);
    expect(result.ignored.map((i) => i.reason)).toEqual(ignored);
  });

  it('uses the sha256 of the raw body as the delivery id (JFrog sends none)', () => {
    const req = delivery(jfrogBody(PUSHED));
    const [event] = artifactoryProvider.normalize(req, webhook).events;
    expect(event!.deliveryId).toBe(createHash('sha256').update(req.rawBody).digest('hex'));
    expect(artifactoryProvider.normalize(delivery(jfrogBody(PUSHED)), webhook).events[0]!.deliveryId).toBe(event!.deliveryId);
    const other = artifactoryProvider.normalize(delivery(jfrogBody(PUSHED, (d) => (d.tag = '24.04'))), webhook).events[0]!;
    expect(other.deliveryId).not.toBe(event!.deliveryId);
    expect((other as ImageEvent).digest).toBe(DIGEST);
  });

  it.each<[string, () => WebhookRequest, RegExp]>([
    [`${PUSHED} as published (the data object alone)`, () => fixtureRequest('artifactory', PUSHED), /artifactory webhook payload is malformed: domain: /],
    [`${DELETED} as published (the data object alone)`, () => fixtureRequest('artifactory', DELETED), /artifactory webhook payload is malformed: domain: /],
    ['a body that is not JSON', () => ({ headers: {}, rawBody: Buffer.from('domain=docker'), receivedAt: RECEIVED_AT }), /artifactory webhook payload is not valid JSON/],
    ['a docker event without data', () => delivery(jfrogBody(PUSHED, (_d, b) => delete b.data)), /artifactory webhook payload is malformed: data: /],
    ['a docker event whose data has no repo_key', () => delivery(jfrogBody(PUSHED, (d) => delete d.repo_key)), /artifactory docker event is malformed: data.repo_key: /],
    ['a docker event whose data is a string', () => delivery(jfrogBody(PUSHED, (_d, b) => (b.data = 'x'))), /artifactory docker event is malformed: data: .*expected object/],
    ['a docker event whose tag is empty', () => delivery(jfrogBody(PUSHED, (d) => (d.tag = ''))), /artifactory docker event is malformed: data.tag: /],
  ])('%s is a ValidationError', (_name, request, message) => {
    const run = () => artifactoryProvider.normalize(request(), webhook);
    expect(run).toThrow(ValidationError);
    expect(run).toThrow(message);
  });
});

describe('artifactory authenticate (X-JFrog-Event-Auth: token or HMAC)', () => {
  const body = jfrogBody(PUSHED);
  const OLD = 'old-jfrog-secret';
  const NEW = 'new-jfrog-secret';
  const validHmac = hmac(SECRET)(Buffer.from(JSON.stringify(body)));

  it.each<[string, () => WebhookRequest, string[]]>([
    ['the secret token', () => delivery(body), [SECRET]],
    ['the HMAC-SHA256 of the body', () => delivery(body, hmac(SECRET)), [SECRET]],
    ['the HMAC in upper-case hex', () => delivery(body, (raw) => hmac(SECRET)(raw).toUpperCase()), [SECRET]],
    ['the new token during rotation', () => delivery(body, () => NEW), [OLD, NEW]],
    ['the old token during rotation', () => delivery(body, () => OLD), [OLD, NEW]],
    ['an HMAC with the new secret during rotation', () => delivery(body, hmac(NEW)), [OLD, NEW]],
    ['an HMAC with the old secret during rotation', () => delivery(body, hmac(OLD)), [OLD, NEW]],
  ])('accepts %s', (_name, request, secrets) => {
    expect(() => artifactoryProvider.authenticate(request(), secrets)).not.toThrow();
  });

  it.each<[string, () => WebhookRequest, string[], RegExp]>([
    ['a wrong token', () => delivery(body, () => 'not-the-secret'), [SECRET], /neither the webhook secret nor the HMAC/],
    ['an HMAC made with a wrong secret', () => delivery(body, hmac('not-the-secret')), [SECRET], /neither/],
    [
      'a tampered body under a valid HMAC',
      () => {
        const req = delivery(body, hmac(SECRET));
        req.rawBody = Buffer.from(req.rawBody.toString('utf8').replace('"tag":"latest"', '"tag":"evil"'));
        return req;
      },
      [SECRET],
      /neither/,
    ],
    ['a missing header', () => delivery(body, () => undefined), [SECRET], /missing X-JFrog-Event-Auth header/],
    ['an empty header', () => delivery(body, () => ''), [SECRET], /missing X-JFrog-Event-Auth header/],
    ['the HMAC with a "sha256=" prefix', () => delivery(body, (raw) => `sha256=${hmac(SECRET)(raw)}`), [SECRET], /neither/],
    ['the token with a Bearer scheme', () => delivery(body, () => `Bearer ${SECRET}`), [SECRET], /neither/],
    ['an HMAC one digit short', () => delivery(body, (raw) => hmac(SECRET)(raw).slice(0, -1)), [SECRET], /neither/],
    ['a token one character short', () => delivery(body, () => SECRET.slice(0, -1)), [SECRET], /neither/],
    ['a token one character long', () => delivery(body, () => `${SECRET}x`), [SECRET], /neither/],
    ['a retired token after rotation', () => delivery(body, () => OLD), [NEW], /neither/],
    ['a retired secret\'s HMAC after rotation', () => delivery(body, hmac(OLD)), [NEW], /neither/],
    ['a webhook without secrets', () => delivery(body), [], /no secret configured/],
  ])('rejects %s', (_name, request, secrets, message) => {
    const run = () => artifactoryProvider.authenticate(request(), secrets);
    expect(run).toThrow(UnauthorizedError);
    expect(run).toThrow(message);
    try {
      run();
    } catch (err) {
      const text = (err as Error).message;
      expect(text).not.toContain(validHmac);
      for (const secret of [SECRET, OLD, NEW, ...secrets]) expect(text).not.toContain(secret);
    }
  });

  it('the tampering row really changes the body', () => {
    expect(JSON.stringify(body)).toContain('"tag":"latest"');
  });
});

describe('artifactory content types and setup', () => {
  it.each<[string | undefined, boolean]>([
    ['application/json', true],
    ['application/json; charset=UTF-8', true],
    ['text/plain', false],
    [undefined, false],
  ])('%s → %s', (contentType, accepted) => {
    expect(acceptsContentType(artifactoryProvider, contentType)).toBe(accepted);
  });

  it('names the URL, the secret token, the Docker events and the login server', () => {
    const url = 'https://cascade.example.com/webhooks/jfrog';
    const text = artifactoryProvider.setupInstructions({ url, secret: 'jfrog-setup-secret', webhook });
    expect(text).toContain(`URL:           ${url}`);
    expect(text).toContain('Secret token:  jfrog-setup-secret');
    expect(text).toMatch(/Docker tag was pushed/);
    expect(text).toContain('example.jfrog.io/<repository key>/<image>');
  });

  it('says to set the login server when the webhook has none', () => {
    const text = artifactoryProvider.setupInstructions({ url: 'https://c/webhooks/jfrog', secret: 'x', webhook: withoutLoginServer });
    expect(text).toMatch(/--login-server/);
  });
});
