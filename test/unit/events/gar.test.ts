import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ValidationError } from '../../../lib/domain/errors';
import type { ImageDeleteEvent, ImageEvent, Webhook } from '../../../lib/domain/types';
import { acceptsContentType } from '../../../lib/domain/webhook-provider';
import { garProvider } from '../../../lib/events/gar';
import type { WebhookRequest } from '../../../lib/domain/webhook-provider';
import { RECEIVED_AT, fixtureRequest, jsonRequest } from './fixtures';
import { describePathSecretMatrix } from './path-secret-matrix';

const webhook: Webhook = { name: 'gar', provider: 'gar', secrets: ['s'], createdAt: '2026-11-28T00:00:00.000Z' };

const fixtureBytes = (file: string) => readFileSync(join(__dirname, '..', '..', 'fixtures', 'webhooks', 'gar', file));

/** A Pub/Sub push envelope around `data`, as a push subscription without unwrapping posts it. */
function envelope(data: Buffer | string, message: Record<string, unknown> = { messageId: '2070443601311540', publishTime: '2026-11-28T04:44:21.123456789Z' }): WebhookRequest {
  return jsonRequest(
    {
      message: { data: Buffer.from(data).toString('base64'), attributes: {}, ...message },
      subscription: 'projects/my-project/subscriptions/cascade',
    },
    { 'content-type': 'application/json' },
  );
}
const notification = (body: Record<string, unknown>) => JSON.stringify(body);

const IMAGE = 'us-west1-docker.pkg.dev/my-project/my-repo/hello-world';
const FULL_DIGEST = 'sha256:37714570b02e1e080bfefe0239bb83bfc06479fff0ca84e972e0ff1073a6a682';

interface Row {
  name: string;
  request: () => WebhookRequest;
  events: Array<ImageEvent | ImageDeleteEvent>;
  ignored: string[];
}

const rows: Row[] = [
  {
    name: 'gcpdocs-delete-tag.json (bare message)',
    request: () => fixtureRequest('gar', 'gcpdocs-delete-tag.json'),
    events: [
      {
        kind: 'image-delete',
        source: 'gar',
        registry: 'us-west1-docker.pkg.dev',
        repository: 'my-project/my-repo/hello-world',
        tag: '1.1',
        occurredAt: RECEIVED_AT,
        deliveryId: '6d5f7477f542ae0ffe5e0ab2a96fab24fe449b772dd55c32cff2af43e67b7d1b',
      },
    ],
    ignored: [],
  },
  {
    name: 'gcpdocs-insert-digest-only.json (bare message)',
    request: () => fixtureRequest('gar', 'gcpdocs-insert-digest-only.json'),
    events: [],
    ignored: [`INSERT of ${IMAGE}@sha256:6ec128e26cd5... without a tag (an untagged push) is not a tag update`],
  },
  {
    name: 'gcpdocs-insert-with-tag.json (bare message; the docs truncate the digest)',
    request: () => fixtureRequest('gar', 'gcpdocs-insert-with-tag.json'),
    events: [],
    ignored: [`INSERT of ${IMAGE}:1.1: digest: invalid digest "sha256:6ec128e26cd5..." (expected sha256: and 64 hex digits)`],
  },
  {
    name: 'gcpdocs-delete-tag.json in a push envelope',
    request: () => envelope(fixtureBytes('gcpdocs-delete-tag.json')),
    events: [
      {
        kind: 'image-delete',
        source: 'gar',
        registry: 'us-west1-docker.pkg.dev',
        repository: 'my-project/my-repo/hello-world',
        tag: '1.1',
        occurredAt: '2026-11-28T04:44:21.123Z',
        deliveryId: '2070443601311540',
      },
    ],
    ignored: [],
  },
  {
    name: 'gcpdocs-insert-digest-only.json in a push envelope',
    request: () => envelope(fixtureBytes('gcpdocs-insert-digest-only.json')),
    events: [],
    ignored: [`INSERT of ${IMAGE}@sha256:6ec128e26cd5... without a tag (an untagged push) is not a tag update`],
  },
  {
    name: 'gcpdocs-insert-with-tag.json in a push envelope',
    request: () => envelope(fixtureBytes('gcpdocs-insert-with-tag.json')),
    events: [],
    ignored: [`INSERT of ${IMAGE}:1.1: digest: invalid digest "sha256:6ec128e26cd5..." (expected sha256: and 64 hex digits)`],
  },
  {
    name: 'gcpdocs-insert-with-tag.json with the digest written out in full, in an envelope',
    request: () => envelope(fixtureBytes('gcpdocs-insert-with-tag.json').toString('utf8').replace('sha256:6ec128e26cd5...', FULL_DIGEST)),
    events: [
      {
        kind: 'image',
        source: 'gar',
        registry: 'us-west1-docker.pkg.dev',
        repository: 'my-project/my-repo/hello-world',
        tag: '1.1',
        digest: FULL_DIGEST,
        occurredAt: '2026-11-28T04:44:21.123Z',
        deliveryId: '2070443601311540',
      },
    ],
    ignored: [],
  },
  {
    name: 'the snake_case metadata spellings of the envelope',
    request: () => envelope(fixtureBytes('gcpdocs-delete-tag.json'), { message_id: '99', publish_time: '2026-11-28T05:44:21+01:00' }),
    events: [
      {
        kind: 'image-delete',
        source: 'gar',
        registry: 'us-west1-docker.pkg.dev',
        repository: 'my-project/my-repo/hello-world',
        tag: '1.1',
        occurredAt: '2026-11-28T04:44:21.000Z',
        deliveryId: '99',
      },
    ],
    ignored: [],
  },
  {
    name: 'an envelope without message id or publish time: the hash of the data, the receipt time',
    request: () => envelope(fixtureBytes('gcpdocs-delete-tag.json'), {}),
    events: [
      {
        kind: 'image-delete',
        source: 'gar',
        registry: 'us-west1-docker.pkg.dev',
        repository: 'my-project/my-repo/hello-world',
        tag: '1.1',
        occurredAt: RECEIVED_AT,
        deliveryId: '6d5f7477f542ae0ffe5e0ab2a96fab24fe449b772dd55c32cff2af43e67b7d1b',
      },
    ],
    ignored: [],
  },
  {
    name: 'an unwrapped delivery with its metadata in headers',
    request: () =>
      fixtureRequest('gar', 'gcpdocs-delete-tag.json', {
        'x-goog-pubsub-message-id': '1234567',
        'x-goog-pubsub-publish-time': '2026-11-28T04:50:00.5Z',
        'x-goog-pubsub-subscription-name': 'projects/my-project/subscriptions/cascade',
      }),
    events: [
      {
        kind: 'image-delete',
        source: 'gar',
        registry: 'us-west1-docker.pkg.dev',
        repository: 'my-project/my-repo/hello-world',
        tag: '1.1',
        occurredAt: '2026-11-28T04:50:00.500Z',
        deliveryId: '1234567',
      },
    ],
    ignored: [],
  },
  {
    name: 'a tag delete that also names its digest',
    request: () => envelope(notification({ action: 'DELETE', digest: `${IMAGE}@${FULL_DIGEST}`, tag: `${IMAGE}:1.1` })),
    events: [
      {
        kind: 'image-delete',
        source: 'gar',
        registry: 'us-west1-docker.pkg.dev',
        repository: 'my-project/my-repo/hello-world',
        tag: '1.1',
        digest: FULL_DIGEST,
        occurredAt: '2026-11-28T04:44:21.123Z',
        deliveryId: '2070443601311540',
      },
    ],
    ignored: [],
  },
  {
    name: 'a registry host with a port is not taken for a tag',
    request: () => envelope(notification({ action: 'INSERT', digest: `registry.example.com:443/team/base@${FULL_DIGEST}`, tag: 'registry.example.com:443/team/base:9-alpine' })),
    events: [
      {
        kind: 'image',
        source: 'gar',
        registry: 'registry.example.com:443',
        repository: 'team/base',
        tag: '9-alpine',
        digest: FULL_DIGEST,
        occurredAt: '2026-11-28T04:44:21.123Z',
        deliveryId: '2070443601311540',
      },
    ],
    ignored: [],
  },
  {
    name: 'a Container Registry (gcr.io) image',
    request: () => envelope(notification({ action: 'INSERT', digest: `gcr.io/my-project/hello@${FULL_DIGEST}`, tag: 'gcr.io/my-project/hello:latest' })),
    events: [
      {
        kind: 'image',
        source: 'gar',
        registry: 'gcr.io',
        repository: 'my-project/hello',
        tag: 'latest',
        digest: FULL_DIGEST,
        occurredAt: '2026-11-28T04:44:21.123Z',
        deliveryId: '2070443601311540',
      },
    ],
    ignored: [],
  },
  {
    name: 'a digest-only delete',
    request: () => envelope(notification({ action: 'DELETE', digest: `${IMAGE}@${FULL_DIGEST}` })),
    events: [],
    ignored: [`DELETE of ${IMAGE}@${FULL_DIGEST} names no tag`],
  },
  {
    name: 'an INSERT whose digest names another image',
    request: () => envelope(notification({ action: 'INSERT', digest: `us-west1-docker.pkg.dev/my-project/my-repo/other@${FULL_DIGEST}`, tag: `${IMAGE}:1.1` })),
    events: [],
    ignored: [`INSERT of ${IMAGE}:1.1: digest: "us-west1-docker.pkg.dev/my-project/my-repo/other@${FULL_DIGEST}" names another image than the tag`],
  },
  {
    name: 'an INSERT with a tag and no digest',
    request: () => envelope(notification({ action: 'INSERT', tag: `${IMAGE}:1.1` })),
    events: [],
    ignored: [`INSERT of ${IMAGE}:1.1: no digest`],
  },
  {
    name: 'an INSERT whose digest field holds a tag reference',
    request: () => envelope(notification({ action: 'INSERT', digest: `${IMAGE}:1.1`, tag: `${IMAGE}:1.1` })),
    events: [],
    ignored: [`INSERT of ${IMAGE}:1.1: digest: "${IMAGE}:1.1" has no @digest`],
  },
  {
    name: 'an INSERT whose digest is a 40-hex (SHA-1 sized) value',
    request: () => envelope(notification({ action: 'INSERT', digest: `${IMAGE}@sha256:6c62fb45fe66bfb1ea9a66abc38f6a0cc974292b`, tag: `${IMAGE}:1.1` })),
    events: [],
    ignored: [`INSERT of ${IMAGE}:1.1: digest: invalid digest "sha256:6c62fb45fe66bfb1ea9a66abc38f6a0cc974292b" (expected sha256: and 64 hex digits)`],
  },
  {
    name: 'a tag reference without a tag',
    request: () => envelope(notification({ action: 'INSERT', digest: `${IMAGE}@${FULL_DIGEST}`, tag: IMAGE })),
    events: [],
    ignored: [`INSERT of ${IMAGE}: tag: "${IMAGE}" has no tag after the image name`],
  },
  {
    name: 'a tag reference without a registry host',
    request: () => envelope(notification({ action: 'DELETE', tag: 'hello-world:1.1' })),
    events: [],
    ignored: ['DELETE of hello-world:1.1: tag: "hello-world:1.1" is not a host/repository reference'],
  },
  {
    name: 'a tag reference with an upper-case repository',
    request: () => envelope(notification({ action: 'DELETE', tag: 'us-west1-docker.pkg.dev/My-Project/repo/img:1' })),
    events: [],
    ignored: ['DELETE of us-west1-docker.pkg.dev/My-Project/repo/img:1: tag: invalid repository name "My-Project/repo/img"'],
  },
  {
    name: 'a tag reference with an invalid tag',
    request: () => envelope(notification({ action: 'DELETE', tag: `${IMAGE}:-x` })),
    events: [],
    ignored: [`DELETE of ${IMAGE}:-x: tag: invalid tag "-x"`],
  },
  {
    name: 'another action',
    request: () => envelope(notification({ action: 'UPDATE', tag: `${IMAGE}:1.1` })),
    events: [],
    ignored: [`UPDATE of ${IMAGE}:1.1 is not an INSERT or DELETE`],
  },
  {
    name: 'an envelope with a publish time that is not a time',
    request: () => envelope(fixtureBytes('gcpdocs-delete-tag.json'), { messageId: '1', publishTime: 'now' }),
    events: [],
    ignored: ['invalid Pub/Sub publish time "now"'],
  },
];

describe('gar normalize', () => {
  it.each(rows)('$name', ({ request, events, ignored }) => {
    const result = garProvider.normalize(request(), webhook);
    expect(result.events).toEqual(events);
    expect(result.ignored.map((i) => i.reason)).toEqual(ignored);
  });

  it.each<[string, () => WebhookRequest, RegExp]>([
    ['a body that is not JSON', () => ({ headers: {}, rawBody: Buffer.from('action=INSERT'), receivedAt: RECEIVED_AT }), /gar push delivery is not valid JSON/],
    ['an empty body', () => ({ headers: {}, rawBody: Buffer.alloc(0), receivedAt: RECEIVED_AT }), /gar push delivery is empty/],
    ['an envelope whose data is not base64', () => jsonRequest({ message: { data: '{"action":"INSERT"}', messageId: '1' } }), /gar push envelope is malformed: message.data: expected base64/],
    ['an envelope without data', () => jsonRequest({ message: { messageId: '1' } }), /gar push envelope is malformed: message.data: /],
    ['an envelope whose message is not an object', () => jsonRequest({ message: 'hello' }), /gar push envelope is malformed: message: /],
    ['an envelope whose data is not JSON', () => envelope('hello'), /gar notification \(message.data\) is not valid JSON/],
    ['an envelope whose data is empty', () => envelope(''), /gar notification \(message.data\) is empty/],
    ['an envelope whose data has no action', () => envelope(notification({ tag: `${IMAGE}:1.1` })), /gar notification \(message.data\) is malformed: action: /],
    ['a bare message without action', () => jsonRequest({ digest: `${IMAGE}@${FULL_DIGEST}` }), /gar notification is malformed: action: /],
    ['a bare message whose tag is a number', () => jsonRequest({ action: 'INSERT', tag: 1 }), /gar notification is malformed: tag: /],
    ['a JSON array', () => jsonRequest([{ action: 'INSERT' }]), /gar notification is malformed: .*expected object/],
  ])('%s is a ValidationError', (_name, request, message) => {
    const run = () => garProvider.normalize(request(), webhook);
    expect(run).toThrow(ValidationError);
    expect(run).toThrow(message);
  });
});

describePathSecretMatrix(garProvider, () => envelope(fixtureBytes('gcpdocs-delete-tag.json')));

describe('gar content types and setup', () => {
  it.each<[string | undefined, boolean]>([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['application/octet-stream', true],
    ['application/x-www-form-urlencoded', false],
    [undefined, false],
  ])('%s → %s', (contentType, accepted) => {
    expect(acceptsContentType(garProvider, contentType)).toBe(accepted);
  });

  it('gives the gcloud commands with the endpoint URL that carries the secret', () => {
    const url = 'https://cascade.example.com/webhooks/gar/cHVic3ViLXNlY3JldA';
    const text = garProvider.setupInstructions({ url, secret: 'cHVic3ViLXNlY3JldA', webhook });
    expect(text).toContain(`--push-endpoint='${url}'`);
    expect(text).toMatch(/--topic=gcr/);
    expect(text).toMatch(/secret is the last segment of the endpoint URL/);
  });
});
