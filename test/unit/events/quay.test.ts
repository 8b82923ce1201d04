import { ValidationError } from '../../../lib/domain/errors';
import type { ImageTagEvent, Webhook } from '../../../lib/domain/types';
import { acceptsContentType } from '../../../lib/domain/webhook-provider';
import type { WebhookRequest } from '../../../lib/domain/webhook-provider';
import { quayProvider } from '../../../lib/events/quay';
import { RECEIVED_AT, fixtureJson, fixtureRequest, jsonRequest } from './fixtures';
import { describePathSecretMatrix } from './path-secret-matrix';

const webhook: Webhook = { name: 'quay', provider: 'quay', secrets: ['s'], createdAt: '2026-11-28T00:00:00.000Z' };
const withLoginServer: Webhook = { ...webhook, loginServer: 'quay.example.com:8443' };

interface QuayBody {
  repository?: unknown;
  docker_url?: string;
  updated_tags?: unknown;
}
function changed(change: (body: QuayBody) => void, file = 'quaydocs-repo_push.json'): WebhookRequest {
  const body = fixtureJson('quay', file) as QuayBody;
  change(body);
  return jsonRequest(body, { 'content-type': 'application/json' });
}

/** A tag event of dgangaia/test as the docs example names it; `id` is the expected delivery id. */
function tagEvent(tag: string, id: string, registry = 'quay.io', repository = 'dgangaia/test'): ImageTagEvent {
  return { kind: 'image-tag', source: 'quay', registry, repository, tag, occurredAt: RECEIVED_AT, deliveryId: id };
}
const hashThen = (tag: string) => expect.stringMatching(new RegExp(`^[0-9a-f]{64}:${tag}$`)) as unknown as string;

interface Row {
  name: string;
  request: () => WebhookRequest;
  webhook?: Webhook;
  events: ImageTagEvent[];
  ignored: string[];
}

const rows: Row[] = [
  {
    name: 'quaydocs-repo_push.json (updated_tags as a list)',
    request: () => fixtureRequest('quay', 'quaydocs-repo_push.json'),
    events: [tagEvent('latest', '01a0f0ea9f30c48b4a336bad73c0b8e256dd189b2102bf853fee4421f176a6cd:latest')],
    ignored: [],
  },
  {
    name: 'gist-jakedt-2013-quayio-push.json (legacy: updated_tags as an object tag → image id)',
    request: () => fixtureRequest('quay', 'gist-jakedt-2013-quayio-push.json'),
    events: [tagEvent('latest', 'b2c474bcdfbb82d04263aeb4d4dc8a0d4eb3d7bb0e066224f9c63e74f003c11e:latest', 'quay.io', 'devtable/ubuntu')],
    ignored: [],
  },
  {
    name: 'the docs example with several tags: one event per tag',
    request: () => changed((b) => (b.updated_tags = ['latest', '9-alpine', 'v1.2.3'])),
    events: [tagEvent('latest', hashThen('latest')), tagEvent('9-alpine', hashThen('9-alpine')), tagEvent('v1.2.3', hashThen('v1.2.3'))],
    ignored: [],
  },
  {
    name: 'the legacy example with several tags',
    request: () => changed((b) => (b.updated_tags = { latest: 'b750fe79', '14.04': 'b750fe79' }), 'gist-jakedt-2013-quayio-push.json'),
    events: [
      tagEvent('latest', hashThen('latest'), 'quay.io', 'devtable/ubuntu'),
      tagEvent('14.04', hashThen('14\\.04'), 'quay.io', 'devtable/ubuntu'),
    ],
    ignored: [],
  },
  {
    name: 'a self-hosted Quay with a port in docker_url',
    request: () => changed((b) => (b.docker_url = 'registry.internal:8443/dgangaia/test')),
    webhook: withLoginServer,
    events: [tagEvent('latest', hashThen('latest'), 'registry.internal:8443')],
    ignored: [],
  },
  {
    name: 'no docker_url: the webhook login server',
    request: () => changed((b) => delete b.docker_url),
    webhook: withLoginServer,
    events: [tagEvent('latest', hashThen('latest'), 'quay.example.com:8443')],
    ignored: [],
  },
  {
    name: 'a docker_url that is a URL: the webhook login server',
    request: () => changed((b) => (b.docker_url = 'https://quay.io/dgangaia/test')),
    webhook: withLoginServer,
    events: [tagEvent('latest', hashThen('latest'), 'quay.example.com:8443')],
    ignored: [],
  },
  {
    name: 'a docker_url that is a URL, and no login server',
    request: () => changed((b) => (b.docker_url = 'https://quay.io/dgangaia/test')),
    events: [],
    ignored: ['push to dgangaia/test: docker_url "https://quay.io/dgangaia/test" does not start with a registry host and the webhook has no login server'],
  },
  {
    name: 'no docker_url and no login server',
    request: () => changed((b) => delete b.docker_url),
    events: [],
    ignored: ['push to dgangaia/test: the notification has no docker_url and the webhook has no login server'],
  },
  {
    name: 'an empty tag list',
    request: () => changed((b) => (b.updated_tags = [])),
    events: [],
    ignored: ['push to dgangaia/test names no updated tags'],
  },
  {
    name: 'an empty legacy tag object',
    request: () => changed((b) => (b.updated_tags = {})),
    events: [],
    ignored: ['push to dgangaia/test names no updated tags'],
  },
  {
    name: 'another notification kind (no updated_tags)',
    request: () => changed((b) => delete b.updated_tags),
    events: [],
    ignored: ['quay notification for dgangaia/test has no updated_tags: only Push to Repository starts builds'],
  },
  {
    name: 'a list with a good tag, a number and an invalid tag',
    request: () => changed((b) => (b.updated_tags = ['latest', 5, '-bad'])),
    events: [tagEvent('latest', hashThen('latest'))],
    ignored: ['push to quay.io/dgangaia/test: updated_tags[1] is not a tag name', 'push of quay.io/dgangaia/test:-bad: invalid tag "-bad"'],
  },
  {
    name: 'a repository with upper case',
    request: () => changed((b) => (b.repository = 'DGangaia/test')),
    events: [],
    ignored: ['push to quay.io/DGangaia/test: invalid repository name "DGangaia/test"'],
  },
];

describe('quay normalize', () => {
  it.each(rows)('$name', ({ request, webhook: hook, events, ignored }) => {
    const result = quayProvider.normalize(request(), hook ?? webhook);
    expect(result.events).toEqual(events);
    expect(result.ignored.map((i) => i.reason)).toEqual(ignored);
  });

  it('gives each tag of one delivery its own id, and a redelivery the same ids', () => {
    const ids = () => quayProvider.normalize(changed((b) => (b.updated_tags = ['a', 'b'])), webhook).events.map((e) => (e as ImageTagEvent).deliveryId);
    const [a, b] = ids();
    expect(a).not.toBe(b);
    expect(ids()).toEqual([a, b]);
  });

  it.each<[string, () => WebhookRequest, RegExp]>([
    ['a body that is not JSON', () => ({ headers: {}, rawBody: Buffer.from('<xml/>'), receivedAt: RECEIVED_AT }), /quay notification is not valid JSON/],
    ['a body without repository', () => changed((b) => delete b.repository), /quay notification is malformed: repository: /],
    ['a repository that is not a string', () => changed((b) => (b.repository = { name: 'x' })), /quay notification is malformed: repository: /],
    ['updated_tags as a string', () => changed((b) => (b.updated_tags = 'latest')), /quay notification is malformed: updated_tags: /],
    ['JSON null', () => jsonRequest(null), /quay notification is malformed: .*expected object/],
  ])('%s is a ValidationError', (_name, request, message) => {
    const run = () => quayProvider.normalize(request(), webhook);
    expect(run).toThrow(ValidationError);
    expect(run).toThrow(message);
  });
});

describePathSecretMatrix(quayProvider, () => fixtureRequest('quay', 'quaydocs-repo_push.json'));

describe('quay content types and setup', () => {
  it.each<[string | undefined, boolean]>([
    [fixtureRequest('quay', 'quaydocs-repo_push.json').headers['content-type'], true],
    ['text/plain', false],
    [undefined, false],
  ])('%s → %s', (contentType, accepted) => {
    expect(acceptsContentType(quayProvider, contentType)).toBe(accepted);
  });

  it('tells which event to pick and where the URL with its secret goes', () => {
    const url = 'https://cascade.example.com/webhooks/quay/c2VjcmV0LWluLXBhdGg';
    const text = quayProvider.setupInstructions({ url, secret: 'c2VjcmV0LWluLXBhdGg', webhook });
    expect(text).toContain(`Webhook URL:                 ${url}`);
    expect(text).toMatch(/Push to Repository/);
    expect(text).toMatch(/Webhook POST/);
    expect(text).toMatch(/secret is the last segment of that URL/);
  });
});
