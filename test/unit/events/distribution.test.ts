import { UnauthorizedError, ValidationError } from '../../../lib/domain/errors';
import type { ImageDeleteEvent, ImageEvent, Webhook } from '../../../lib/domain/types';
import { acceptsContentType } from '../../../lib/domain/webhook-provider';
import { distributionProvider } from '../../../lib/events/distribution';
import type { WebhookRequest } from '../../../lib/domain/webhook-provider';
import { fixtureJson, fixtureRequest, jsonRequest } from './fixtures';

const webhook: Webhook = { name: 'base', provider: 'distribution', secrets: ['tok'], createdAt: '2026-11-28T00:00:00.000Z' };
const withLoginServer: Webhook = { ...webhook, loginServer: 'base.example.com:5000' };

const BUILDAH_DIGEST = 'sha256:37714570b02e1e080bfefe0239bb83bfc06479fff0ca84e972e0ff1073a6a682';

/** The buildah capture's tagged manifest push with some fields replaced, as a one-event envelope. */
interface CapturedEvent {
  id?: string;
  timestamp: string;
  action: string;
  target: { mediaType?: string; digest?: string; repository: string; tag?: string };
  request?: { host?: string };
}
function capturedPush(change: (event: CapturedEvent) => void): Record<string, unknown> {
  const envelope = fixtureJson('distribution', 'buildah-manifest-push-tagged.json') as unknown as { events: CapturedEvent[] };
  change(envelope.events[0]!);
  return envelope;
}

interface Row {
  name: string;
  request: () => WebhookRequest;
  webhook?: Webhook;
  events: Array<ImageEvent | ImageDeleteEvent>;
  ignored: string[];
}

const rows: Row[] = [
  {
    name: 'buildah-manifest-push-tagged.json (real capture)',
    request: () => fixtureRequest('distribution', 'buildah-manifest-push-tagged.json'),
    events: [
      {
        kind: 'image',
        source: 'distribution',
        registry: '127.0.0.1:5055',
        repository: 'baseimages/node',
        tag: '9-alpine',
        digest: 'sha256:37714570b02e1e080bfefe0239bb83bfc06479fff0ca84e972e0ff1073a6a682',
        occurredAt: '2026-11-28T04:44:20.875Z',
        deliveryId: '0b97a850-9c6a-4289-8bc5-5f92d5fdc979',
      },
    ],
    ignored: [],
  },
  {
    name: 'buildah-blob-push.json (real capture)',
    request: () => fixtureRequest('distribution', 'buildah-blob-push.json'),
    events: [],
    ignored: ['blob push to baseimages/node is not an image update'],
  },
  {
    name: 'docs-envelope-manifest-and-blob-push.json',
    request: () => fixtureRequest('distribution', 'docs-envelope-manifest-and-blob-push.json'),
    events: [],
    ignored: [
      'manifest push without a tag: library/test@sha256:fea8895f450959fa676bcc1df0611ea93823a735a01205fd8622846041d0c7cf',
      'blob push to library/test is not an image update',
      'blob push to library/test is not an image update',
    ],
  },
  {
    name: 'docs-envelope-manifest-pull-with-tag.json',
    request: () => fixtureRequest('distribution', 'docs-envelope-manifest-pull-with-tag.json'),
    events: [],
    ignored: ['pull of hello-world:latest is not a push'],
  },
  {
    name: 'event_test-envelope-push.json',
    request: () => fixtureRequest('distribution', 'event_test-envelope-push.json'),
    events: [],
    ignored: [
      'manifest push without a tag: library/test@sha256:0123456789abcdef0',
      'blob push to library/test is not an image update',
      'blob push to library/test is not an image update',
    ],
  },
  {
    name: 'docs-delete-target-fragment.json wrapped as a delete event',
    request: () =>
      jsonRequest({
        events: [
          { id: 'del-1', timestamp: '2026-11-28T04:50:00Z', action: 'delete', ...fixtureJson('distribution', 'docs-delete-target-fragment.json') },
        ],
      }),
    events: [],
    ignored: ['delete of library/test@sha256:d89e1bee20d9cb344674e213b581f14fbd8e70274ecf9d10c514bab78a307845 names no tag'],
  },
  {
    name: 'a tag delete as distribution 3 reports it',
    request: () => jsonRequest(capturedPush((e) => (e.action = 'delete'))),
    events: [
      {
        kind: 'image-delete',
        source: 'distribution',
        registry: '127.0.0.1:5055',
        repository: 'baseimages/node',
        tag: '9-alpine',
        digest: 'sha256:37714570b02e1e080bfefe0239bb83bfc06479fff0ca84e972e0ff1073a6a682',
        occurredAt: '2026-11-28T04:44:20.875Z',
        deliveryId: '0b97a850-9c6a-4289-8bc5-5f92d5fdc979',
      },
    ],
    ignored: [],
  },
  {
    name: 'a pull by tag of the captured image',
    request: () => jsonRequest(capturedPush((e) => (e.action = 'pull'))),
    events: [],
    ignored: ['pull of baseimages/node:9-alpine is not a push'],
  },
  {
    name: 'a tagged push with a masked digest',
    request: () => jsonRequest(capturedPush((e) => (e.target.digest = 'sha256:xxxxxxxxxxxxxxxx'))),
    events: [],
    ignored: ['push of baseimages/node:9-alpine: invalid digest "sha256:xxxxxxxxxxxxxxxx" (expected sha256: and 64 hex digits)'],
  },
  {
    name: 'a tagged push with an upper-case digest',
    request: () => jsonRequest(capturedPush((e) => (e.target.digest = BUILDAH_DIGEST.toUpperCase()))),
    events: [],
    ignored: [`push of baseimages/node:9-alpine: invalid digest "${BUILDAH_DIGEST.toUpperCase()}" (expected sha256: and 64 hex digits)`],
  },
  {
    name: 'a tagged push with no digest',
    request: () => jsonRequest(capturedPush((e) => delete e.target.digest)),
    events: [],
    ignored: ['push of baseimages/node:9-alpine: no digest'],
  },
  {
    name: 'a push with an invalid tag',
    request: () => jsonRequest(capturedPush((e) => (e.target.tag = '-bad'))),
    events: [],
    ignored: ['push of baseimages/node:-bad: invalid tag "-bad"'],
  },
  {
    name: 'a push with an upper-case repository',
    request: () => jsonRequest(capturedPush((e) => (e.target.repository = 'BaseImages/node'))),
    events: [],
    ignored: ['push of BaseImages/node:9-alpine: invalid repository name "BaseImages/node"'],
  },
  {
    name: 'a manifest push with an empty tag',
    request: () => jsonRequest(capturedPush((e) => (e.target.tag = ''))),
    events: [],
    ignored: [`manifest push without a tag: baseimages/node@${BUILDAH_DIGEST}`],
  },
  {
    name: 'a schema 1 manifest push',
    request: () => jsonRequest(capturedPush((e) => (e.target.mediaType = 'application/vnd.docker.distribution.manifest.v1+prettyjws'))),
    events: [],
    ignored: ['push of application/vnd.docker.distribution.manifest.v1+prettyjws to baseimages/node is not an image manifest'],
  },
  {
    name: 'a push without request.host falls back to the webhook login server',
    request: () => jsonRequest(capturedPush((e) => delete e.request!.host)),
    webhook: withLoginServer,
    events: [
      {
        kind: 'image',
        source: 'distribution',
        registry: 'base.example.com:5000',
        repository: 'baseimages/node',
        tag: '9-alpine',
        digest: 'sha256:37714570b02e1e080bfefe0239bb83bfc06479fff0ca84e972e0ff1073a6a682',
        occurredAt: '2026-11-28T04:44:20.875Z',
        deliveryId: '0b97a850-9c6a-4289-8bc5-5f92d5fdc979',
      },
    ],
    ignored: [],
  },
  {
    name: 'request.host wins over the webhook login server',
    request: () => fixtureRequest('distribution', 'buildah-manifest-push-tagged.json'),
    webhook: withLoginServer,
    events: [
      {
        kind: 'image',
        source: 'distribution',
        registry: '127.0.0.1:5055',
        repository: 'baseimages/node',
        tag: '9-alpine',
        digest: 'sha256:37714570b02e1e080bfefe0239bb83bfc06479fff0ca84e972e0ff1073a6a682',
        occurredAt: '2026-11-28T04:44:20.875Z',
        deliveryId: '0b97a850-9c6a-4289-8bc5-5f92d5fdc979',
      },
    ],
    ignored: [],
  },
  {
    name: 'a push with neither request.host nor a login server',
    request: () => jsonRequest(capturedPush((e) => delete e.request)),
    events: [],
    ignored: ['push of baseimages/node:9-alpine: the event has no request.host and the webhook has no login server'],
  },
  {
    name: 'a push whose request.host is not a host',
    request: () => jsonRequest(capturedPush((e) => (e.request!.host = 'evil/host'))),
    events: [],
    ignored: ['push of baseimages/node:9-alpine: invalid registry host "evil/host"'],
  },
  {
    name: 'a push with a timestamp in another offset is converted to UTC',
    request: () =>
      jsonRequest(
        capturedPush((e) => {
          e.timestamp = '2016-03-09T14:44:26.402973972-08:00';
          e.target.mediaType = 'application/vnd.docker.distribution.manifest.v2+json';
        }),
      ),
    events: [
      {
        kind: 'image',
        source: 'distribution',
        registry: '127.0.0.1:5055',
        repository: 'baseimages/node',
        tag: '9-alpine',
        digest: 'sha256:37714570b02e1e080bfefe0239bb83bfc06479fff0ca84e972e0ff1073a6a682',
        occurredAt: '2016-03-09T22:44:26.402Z',
        deliveryId: '0b97a850-9c6a-4289-8bc5-5f92d5fdc979',
      },
    ],
    ignored: [],
  },
  {
    name: 'a push with a timestamp that is not RFC 3339',
    request: () => jsonRequest(capturedPush((e) => (e.timestamp = '11/28/2026'))),
    events: [],
    ignored: ['push of baseimages/node:9-alpine: invalid timestamp "11/28/2026"'],
  },
  {
    name: 'an event without an id',
    request: () => jsonRequest(capturedPush((e) => delete e.id)),
    events: [],
    ignored: ['event #0 is malformed: id: Invalid input: expected string, received undefined'],
  },
  {
    name: 'an event that is not an object, beside a good one',
    request: () => {
      const envelope = capturedPush(() => undefined) as { events: unknown[] };
      envelope.events.unshift('garbage');
      return jsonRequest(envelope);
    },
    events: [
      {
        kind: 'image',
        source: 'distribution',
        registry: '127.0.0.1:5055',
        repository: 'baseimages/node',
        tag: '9-alpine',
        digest: 'sha256:37714570b02e1e080bfefe0239bb83bfc06479fff0ca84e972e0ff1073a6a682',
        occurredAt: '2026-11-28T04:44:20.875Z',
        deliveryId: '0b97a850-9c6a-4289-8bc5-5f92d5fdc979',
      },
    ],
    ignored: ['event #0 is malformed: Invalid input: expected object, received string'],
  },
  {
    name: 'the two captures in one envelope keep their order',
    request: () => {
      const blob = fixtureJson('distribution', 'buildah-blob-push.json') as { events: unknown[] };
      const manifest = fixtureJson('distribution', 'buildah-manifest-push-tagged.json') as { events: unknown[] };
      return jsonRequest({ events: [...blob.events, ...manifest.events] });
    },
    events: [
      {
        kind: 'image',
        source: 'distribution',
        registry: '127.0.0.1:5055',
        repository: 'baseimages/node',
        tag: '9-alpine',
        digest: 'sha256:37714570b02e1e080bfefe0239bb83bfc06479fff0ca84e972e0ff1073a6a682',
        occurredAt: '2026-11-28T04:44:20.875Z',
        deliveryId: '0b97a850-9c6a-4289-8bc5-5f92d5fdc979',
      },
    ],
    ignored: ['blob push to baseimages/node is not an image update'],
  },
  {
    name: 'an empty envelope',
    request: () => jsonRequest({ events: [] }),
    events: [],
    ignored: [],
  },
];

describe('distribution normalize', () => {
  it.each(rows)('$name', ({ request, webhook: hook, events, ignored }) => {
    const result = distributionProvider.normalize(request(), hook ?? webhook);
    expect(result.events).toEqual(events);
    expect(result.ignored.map((i) => i.reason)).toEqual(ignored);
  });

  it.each([
    ['application/vnd.oci.image.manifest.v1+json'],
    ['application/vnd.oci.image.index.v1+json'],
    ['application/vnd.docker.distribution.manifest.v2+json'],
    ['application/vnd.docker.distribution.manifest.list.v2+json'],
  ])('a tagged push of %s is an image event', (mediaType) => {
    const result = distributionProvider.normalize(jsonRequest(capturedPush((e) => (e.target.mediaType = mediaType))), webhook);
    expect(result.ignored).toEqual([]);
    expect(result.events.map((e) => (e.kind === 'image' ? `${e.registry}/${e.repository}:${e.tag}@${e.digest}` : e.kind))).toEqual([
      `127.0.0.1:5055/baseimages/node:9-alpine@${BUILDAH_DIGEST}`,
    ]);
  });

  it.each<[string, () => WebhookRequest, RegExp]>([
    ['docs-delete-target-fragment.json (no envelope)', () => fixtureRequest('distribution', 'docs-delete-target-fragment.json'), /envelope is malformed: events: .*expected array/],
    ['a body that is not JSON', () => ({ headers: {}, rawBody: Buffer.from('{"events": ['), receivedAt: '' }), /envelope is not valid JSON/],
    ['an empty body', () => ({ headers: {}, rawBody: Buffer.alloc(0), receivedAt: '' }), /envelope is empty/],
    ['events that is not an array', () => jsonRequest({ events: {} }), /envelope is malformed: events: .*expected array/],
    ['a JSON array', () => jsonRequest([]), /envelope is malformed: .*expected object/],
    ['JSON null', () => jsonRequest(null), /envelope is malformed: .*expected object/],
  ])('%s is a ValidationError', (_name, request, message) => {
    const run = () => distributionProvider.normalize(request(), webhook);
    expect(run).toThrow(ValidationError);
    expect(run).toThrow(message);
  });
});

describe('distribution authenticate', () => {
  const body = fixtureRequest('distribution', 'buildah-manifest-push-tagged.json').rawBody;
  const request = (authorization?: string): WebhookRequest => ({
    headers: { 'content-type': 'application/vnd.docker.distribution.events.v1+json', authorization },
    rawBody: body,
    receivedAt: '',
  });

  it.each<[string, string | undefined, string[]]>([
    ['the captured header with its token', 'Bearer tok', ['tok']],
    ['a lower-case scheme', 'bearer tok', ['tok']],
    ['the new secret during rotation', 'Bearer new-secret', ['old-secret', 'new-secret']],
    ['the old secret during rotation', 'Bearer old-secret', ['old-secret', 'new-secret']],
  ])('accepts %s', (_name, authorization, secrets) => {
    expect(() => distributionProvider.authenticate(request(authorization), secrets)).not.toThrow();
  });

  it('accepts the headers saved beside the real capture', () => {
    expect(() => distributionProvider.authenticate(fixtureRequest('distribution', 'buildah-manifest-push-tagged.json'), ['tok'])).not.toThrow();
  });

  it.each<[string, string | undefined, string[], RegExp]>([
    ['a wrong token', 'Bearer wrong', ['s3cret-token'], /does not match/],
    ['a token that is a prefix of the secret', 'Bearer s3cret', ['s3cret-token'], /does not match/],
    ['a missing header', undefined, ['s3cret-token'], /missing Authorization header/],
    ['an empty header', '', ['s3cret-token'], /missing Authorization header/],
    ['the Basic scheme', `Basic ${Buffer.from('user:s3cret-token').toString('base64')}`, ['s3cret-token'], /Bearer scheme/],
    ['the secret with no scheme', 's3cret-token', ['s3cret-token'], /Bearer scheme/],
    ['a retired secret after rotation', 'Bearer old-secret', ['new-secret'], /does not match/],
    ['a webhook without secrets', 'Bearer anything', [], /no secret configured/],
    ['an empty token', 'Bearer  ', ['s3cret-token'], /Bearer token is empty/],
    ['a scheme run into the token', 'Bearers3cret-token', ['s3cret-token'], /Bearer scheme/],
    ['an empty secret', 'Bearer x', [''], /no secret configured/],
  ])('rejects %s', (_name, authorization, secrets, message) => {
    const run = () => distributionProvider.authenticate(request(authorization), secrets);
    expect(run).toThrow(UnauthorizedError);
    expect(run).toThrow(message);
    try {
      run();
    } catch (err) {
      for (const secret of secrets.filter((s) => s !== '')) expect((err as Error).message).not.toContain(secret);
    }
  });
});

describe('distribution content types', () => {
  it.each<[string, string | undefined, boolean]>([
    ['the real capture', fixtureRequest('distribution', 'buildah-manifest-push-tagged.json').headers['content-type'], true],
    ['the docs example (distribution 3)', fixtureRequest('distribution', 'docs-envelope-manifest-and-blob-push.json').headers['content-type'], true],
    ['plain JSON with a charset', 'application/json; charset=utf-8', true],
    ['upper-case JSON', 'Application/JSON', true],
    ['text', 'text/plain', false],
    ['a form', 'application/x-www-form-urlencoded', false],
    ['no header', undefined, false],
  ])('%s: %s → %s', (_name, contentType, accepted) => {
    expect(acceptsContentType(distributionProvider, contentType)).toBe(accepted);
  });
});
