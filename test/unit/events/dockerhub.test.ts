import { ValidationError } from '../../../lib/domain/errors';
import type { ImageTagEvent, Webhook } from '../../../lib/domain/types';
import { acceptsContentType } from '../../../lib/domain/webhook-provider';
import { dockerhubProvider } from '../../../lib/events/dockerhub';
import type { WebhookRequest } from '../../../lib/domain/webhook-provider';
import { RECEIVED_AT, fixtureJson, fixtureRequest, jsonRequest } from './fixtures';
import { describePathSecretMatrix } from './path-secret-matrix';

const webhook: Webhook = { name: 'hub', provider: 'dockerhub', secrets: ['s'], createdAt: '2026-11-28T00:00:00.000Z' };

interface HubBody {
  callback_url?: string;
  push_data: { tag?: unknown; pushed_at?: unknown; images?: unknown };
  repository: { repo_name?: string; namespace?: string; name?: string };
}
function changed(change: (body: HubBody) => void, file = 'dockerdocs-webhook.json'): WebhookRequest {
  const body = fixtureJson('dockerhub', file) as unknown as HubBody;
  change(body);
  return jsonRequest(body, { 'content-type': 'application/json' });
}

const ANY_BODY_HASH = expect.stringMatching(/^[0-9a-f]{64}$/) as unknown as string;

interface Row {
  name: string;
  request: () => WebhookRequest;
  events: ImageTagEvent[];
  ignored: string[];
}

const rows: Row[] = [
  {
    name: 'dockerdocs-webhook.json (the current Docker docs example)',
    request: () => fixtureRequest('dockerhub', 'dockerdocs-webhook.json'),
    events: [
      {
        kind: 'image-tag',
        source: 'dockerhub',
        registry: 'docker.io',
        repository: 'svendowideit/testhook',
        tag: 'latest',
        occurredAt: '2014-12-03T00:22:41.000Z',
        deliveryId: '98e2f723186ba9ea341dc6b13da0d5d72092c32fc6530373ae1065137c0ec816',
      },
    ],
    ignored: [],
  },
  {
    name: 'goplayground-docker-hub.json (older format: images[] with "...", float epochs)',
    request: () => fixtureRequest('dockerhub', 'goplayground-docker-hub.json'),
    events: [
      {
        kind: 'image-tag',
        source: 'dockerhub',
        registry: 'docker.io',
        repository: 'svendowideit/testhook',
        tag: 'latest',
        occurredAt: '2014-12-03T00:22:41.000Z',
        deliveryId: 'c7becb5686b597005d92cb58ca7b5608329306383a8643615b2dae79be6791a2',
      },
    ],
    ignored: [],
  },
  {
    name: 'an official image (repo_name without a namespace) is under library/',
    request: () =>
      changed((b) => {
        b.repository = { repo_name: 'ubuntu', name: 'ubuntu', namespace: 'library' };
        b.push_data.tag = '24.04';
      }),
    events: [
      {
        kind: 'image-tag',
        source: 'dockerhub',
        registry: 'docker.io',
        repository: 'library/ubuntu',
        tag: '24.04',
        occurredAt: '2014-12-03T00:22:41.000Z',
        deliveryId: ANY_BODY_HASH,
      },
    ],
    ignored: [],
  },
  {
    name: 'a repository given by namespace and name only',
    request: () => changed((b) => (b.repository = { namespace: 'acme', name: 'base' })),
    events: [
      {
        kind: 'image-tag',
        source: 'dockerhub',
        registry: 'docker.io',
        repository: 'acme/base',
        tag: 'latest',
        occurredAt: '2014-12-03T00:22:41.000Z',
        deliveryId: ANY_BODY_HASH,
      },
    ],
    ignored: [],
  },
  {
    name: 'a push without pushed_at takes the receipt time',
    request: () => changed((b) => delete b.push_data.pushed_at),
    events: [
      {
        kind: 'image-tag',
        source: 'dockerhub',
        registry: 'docker.io',
        repository: 'svendowideit/testhook',
        tag: 'latest',
        occurredAt: RECEIVED_AT,
        deliveryId: ANY_BODY_HASH,
      },
    ],
    ignored: [],
  },
  {
    name: 'a fractional pushed_at keeps its milliseconds',
    request: () => changed((b) => (b.push_data.pushed_at = 1764305060.875)),
    events: [
      {
        kind: 'image-tag',
        source: 'dockerhub',
        registry: 'docker.io',
        repository: 'svendowideit/testhook',
        tag: 'latest',
        occurredAt: '2025-11-28T04:44:20.875Z',
        deliveryId: ANY_BODY_HASH,
      },
    ],
    ignored: [],
  },
  {
    name: 'pushed_at as a string',
    request: () => changed((b) => (b.push_data.pushed_at = 'yesterday')),
    events: [],
    ignored: ['push of docker.io/svendowideit/testhook:latest: invalid push_data.pushed_at "yesterday"'],
  },
  {
    name: 'pushed_at in milliseconds',
    request: () => changed((b) => (b.push_data.pushed_at = 1417566161000)),
    events: [],
    ignored: ['push of docker.io/svendowideit/testhook:latest: invalid push_data.pushed_at 1417566161000'],
  },
  {
    name: 'a push with an empty tag',
    request: () => changed((b) => (b.push_data.tag = '')),
    events: [],
    ignored: ['push to svendowideit/testhook names no tag'],
  },
  {
    name: 'a push without a tag',
    request: () => changed((b) => delete b.push_data.tag),
    events: [],
    ignored: ['push to svendowideit/testhook names no tag'],
  },
  {
    name: 'a push with an invalid tag',
    request: () => changed((b) => (b.push_data.tag = '.hidden')),
    events: [],
    ignored: ['push of docker.io/svendowideit/testhook:.hidden: invalid tag ".hidden"'],
  },
  {
    name: 'a repository name with upper case',
    request: () => changed((b) => (b.repository.repo_name = 'SvenDowideit/testhook')),
    events: [],
    ignored: ['push of docker.io/SvenDowideit/testhook:latest: invalid repository name "SvenDowideit/testhook"'],
  },
];

describe('dockerhub normalize', () => {
  it.each(rows)('$name', ({ request, events, ignored }) => {
    const result = dockerhubProvider.normalize(request(), webhook);
    expect(result.events).toEqual(events);
    expect(result.ignored.map((i) => i.reason)).toEqual(ignored);
  });

  it('never carries callback_url (or any URL from the payload) into the event', () => {
    const req = changed((b) => (b.callback_url = 'http://169.254.169.254/latest/meta-data/'));
    const text = JSON.stringify(dockerhubProvider.normalize(req, webhook));
    expect(text).not.toContain('169.254.169.254');
    expect(text).not.toContain('http');
  });

  it('gives a redelivery the same id and another push another id', () => {
    const id = (req: WebhookRequest) => (dockerhubProvider.normalize(req, webhook).events[0] as ImageTagEvent).deliveryId;
    expect(id(fixtureRequest('dockerhub', 'dockerdocs-webhook.json'))).toBe(id(fixtureRequest('dockerhub', 'dockerdocs-webhook.json')));
    expect(id(changed((b) => (b.push_data.pushed_at = 1417566162)))).not.toBe(id(changed((b) => (b.push_data.pushed_at = 1417566163))));
  });

  it.each<[string, () => WebhookRequest, RegExp]>([
    ['a body that is not JSON', () => ({ headers: {}, rawBody: Buffer.from('push_data='), receivedAt: RECEIVED_AT }), /docker hub webhook payload is not valid JSON/],
    ['an empty body', () => ({ headers: {}, rawBody: Buffer.alloc(0), receivedAt: RECEIVED_AT }), /docker hub webhook payload is empty/],
    ['a body without push_data', () => jsonRequest({ repository: { repo_name: 'a/b' } }), /malformed: push_data: /],
    ['a repository without any name', () => changed((b) => (b.repository = {})), /malformed: repository: expected repo_name or name/],
    ['a tag that is not a string', () => changed((b) => (b.push_data.tag = 7)), /malformed: push_data.tag: /],
    ['a JSON array', () => jsonRequest([]), /malformed: .*expected object/],
  ])('%s is a ValidationError', (_name, request, message) => {
    const run = () => dockerhubProvider.normalize(request(), webhook);
    expect(run).toThrow(ValidationError);
    expect(run).toThrow(message);
  });
});

describePathSecretMatrix(dockerhubProvider, () => fixtureRequest('dockerhub', 'goplayground-docker-hub.json'));

describe('dockerhub content types and setup', () => {
  it.each<[string | undefined, boolean]>([
    [fixtureRequest('dockerhub', 'goplayground-docker-hub.json').headers['content-type'], true],
    ['application/json; charset=utf-8', true],
    ['application/x-www-form-urlencoded', false],
    [undefined, false],
  ])('%s → %s', (contentType, accepted) => {
    expect(acceptsContentType(dockerhubProvider, contentType)).toBe(accepted);
  });

  it('tells where to paste the URL that carries the secret', () => {
    const url = 'https://cascade.example.com/webhooks/hub/Zm9vYmFyLXNlY3JldA';
    const text = dockerhubProvider.setupInstructions({ url, secret: 'Zm9vYmFyLXNlY3JldA', webhook });
    expect(text).toContain(`Webhook URL:   ${url}`);
    expect(text).toMatch(/Webhooks/);
    expect(text).toMatch(/secret is the last segment of that URL/);
  });
});
