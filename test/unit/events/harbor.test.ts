import { ValidationError } from '../../../lib/domain/errors';
import type { ImageDeleteEvent, ImageEvent, Webhook } from '../../../lib/domain/types';
import { acceptsContentType } from '../../../lib/domain/webhook-provider';
import { harborProvider } from '../../../lib/events/harbor';
import type { WebhookRequest } from '../../../lib/domain/webhook-provider';
import { describeBearerAuthentication, expectBearerSetup } from './bearer-auth';
import { fixtureJson, fixtureRequest, jsonRequest } from './fixtures';

const webhook: Webhook = { name: 'harbor-base', provider: 'harbor', secrets: ['tok'], createdAt: '2026-11-28T00:00:00.000Z' };
const withLoginServer: Webhook = { ...webhook, loginServer: 'harbor.example.com' };

const ALPINE_BY_DIGEST = 'sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4';
const DEBIAN_DIGEST = 'sha256:8a9e9863dbb6e10edb5adfe917c00da84e1700fa76e7ed02476aa6e6fb8ee0d8';
/** The hash part of a default-format delivery id whose body was rewritten by the test. */
const ANY_HASH = '[0-9a-f]{16}';

interface HarborResource {
  digest?: string;
  tag?: string;
  resource_url?: string;
}
interface HarborRepository {
  name?: string;
  namespace?: string;
  repo_full_name?: string;
}
interface DefaultNotification {
  type: string;
  occur_at: unknown;
  event_data: { resources: unknown[]; repository: HarborRepository };
}
interface CloudEvent {
  id?: string;
  type: string;
  time?: string;
  data: { resources: unknown[]; repository: HarborRepository };
}

/** The Harbor 2.0 documented push of test-webhook/debian:latest, then `change` applied. */
function debianPush(change: (n: DefaultNotification, resource: HarborResource) => void = () => undefined): DefaultNotification {
  const notification = fixtureJson('harbor', 'docs-v2.0-PUSH_ARTIFACT-default-tag-latest.json') as unknown as DefaultNotification;
  change(notification, notification.event_data.resources[0] as HarborResource);
  return notification;
}

/** The documented CloudEvents push, given the tag 3.8 it lacks, then `change` applied. */
function cloudPush(change: (e: CloudEvent, resource: HarborResource) => void = () => undefined): CloudEvent {
  const event = fixtureJson('harbor', 'docs-PUSH_ARTIFACT-cloudevents.json') as unknown as CloudEvent;
  const resource = event.data.resources[0] as HarborResource;
  resource.tag = '3.8';
  resource.resource_url = 'localhost/harbor/alpine:3.8';
  change(event, resource);
  return event;
}

const cloudRequest = (event: CloudEvent) => jsonRequest(event, { 'content-type': 'application/cloudevents+json' });

const DEBIAN_LATEST: ImageEvent = {
  kind: 'image',
  source: 'harbor',
  registry: 'hub.harbor.com',
  repository: 'test-webhook/debian',
  tag: 'latest',
  digest: 'sha256:8a9e9863dbb6e10edb5adfe917c00da84e1700fa76e7ed02476aa6e6fb8ee0d8',
  occurredAt: '2020-04-15T03:45:08.000Z',
  deliveryId: expect.stringMatching(new RegExp(`^1586922308:${ANY_HASH}:0$`)) as unknown as string,
};

const ALPINE_3_8: ImageEvent = {
  kind: 'image',
  source: 'harbor',
  registry: 'localhost',
  repository: 'harbor/alpine',
  tag: '3.8',
  digest: 'sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4',
  occurredAt: '2023-04-03T06:04:46.000Z',
  deliveryId: '66e18103-09c1-41f6-982f-37df223f3eeb:0',
};

interface Row {
  name: string;
  request: () => WebhookRequest;
  webhook?: Webhook;
  events: Array<ImageEvent | ImageDeleteEvent>;
  ignored: string[];
}

const rows: Row[] = [
  {
    name: 'docs-PUSH_ARTIFACT-default.json (pushed by digest)',
    request: () => fixtureRequest('harbor', 'docs-PUSH_ARTIFACT-default.json'),
    events: [],
    ignored: ['push of harbor/alpine@sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4 has no tag (pushed by digest)'],
  },
  {
    name: 'docs-PUSH_ARTIFACT-cloudevents.json (pushed by digest)',
    request: () => fixtureRequest('harbor', 'docs-PUSH_ARTIFACT-cloudevents.json'),
    events: [],
    ignored: ['push of harbor/alpine@sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4 has no tag (pushed by digest)'],
  },
  {
    name: 'docs-DELETE_ARTIFACT-default.json',
    request: () => fixtureRequest('harbor', 'docs-DELETE_ARTIFACT-default.json'),
    events: [
      {
        kind: 'image-delete',
        source: 'harbor',
        registry: 'localhost',
        repository: 'harbor/alpine',
        tag: '3.8',
        digest: 'sha256:2bb501e6173d9d006e56de5bce2720eb06396803300fe1687b58a7ff32bf4c14',
        occurredAt: '2023-04-03T06:16:38.000Z',
        deliveryId: '1680502598:2da02242623f9a51:0',
      },
    ],
    ignored: [],
  },
  {
    name: 'docs-v2.0-PUSH_ARTIFACT-default-tag-latest.json',
    request: () => fixtureRequest('harbor', 'docs-v2.0-PUSH_ARTIFACT-default-tag-latest.json'),
    events: [
      {
        kind: 'image',
        source: 'harbor',
        registry: 'hub.harbor.com',
        repository: 'test-webhook/debian',
        tag: 'latest',
        digest: 'sha256:8a9e9863dbb6e10edb5adfe917c00da84e1700fa76e7ed02476aa6e6fb8ee0d8',
        occurredAt: '2020-04-15T03:45:08.000Z',
        deliveryId: '1586922308:495454d3d2a6f690:0',
      },
    ],
    ignored: [],
  },
  {
    name: 'a CloudEvents push with a tag',
    request: () => cloudRequest(cloudPush()),
    events: [ALPINE_3_8],
    ignored: [],
  },
  {
    name: 'a CloudEvents delete',
    request: () => cloudRequest(cloudPush((e) => (e.type = 'harbor.artifact.deleted'))),
    events: [
      {
        kind: 'image-delete',
        source: 'harbor',
        registry: 'localhost',
        repository: 'harbor/alpine',
        tag: '3.8',
        digest: 'sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4',
        occurredAt: '2023-04-03T06:04:46.000Z',
        deliveryId: '66e18103-09c1-41f6-982f-37df223f3eeb:0',
      },
    ],
    ignored: [],
  },
  {
    name: 'the CloudEvents delete of an artifact pushed by digest',
    request: () => jsonRequest({ ...fixtureJson('harbor', 'docs-PUSH_ARTIFACT-cloudevents.json'), type: 'harbor.artifact.deleted' }),
    events: [],
    ignored: [`delete of harbor/alpine@${ALPINE_BY_DIGEST} names no tag`],
  },
  {
    name: 'a CloudEvents pull',
    request: () => cloudRequest(cloudPush((e) => (e.type = 'harbor.artifact.pulled'))),
    events: [],
    ignored: ['harbor event harbor.artifact.pulled is not a push or a delete'],
  },
  {
    name: 'a default-format pull',
    request: () => jsonRequest(debianPush((n) => (n.type = 'PULL_ARTIFACT'))),
    events: [],
    ignored: ['harbor event PULL_ARTIFACT is not a push or a delete'],
  },
  {
    name: 'a scan report, whose event_data has another shape',
    request: () =>
      jsonRequest({ type: 'SCANNING_COMPLETED', occur_at: 1680502000, operator: 'auto', event_data: { scan_overview: { severity: 'High' } } }),
    events: [],
    ignored: ['harbor event SCANNING_COMPLETED is not a push or a delete'],
  },
  {
    name: 'a quota warning as a CloudEvent without data',
    request: () => cloudRequest({ specversion: '1.0', id: 'q-1', type: 'harbor.quota.warned', time: '2023-04-03T06:04:46Z' } as unknown as CloudEvent),
    events: [],
    ignored: ['harbor event harbor.quota.warned is not a push or a delete'],
  },
  {
    name: 'an event type that is an Object.prototype key',
    request: () => jsonRequest(debianPush((n) => (n.type = 'constructor'))),
    events: [],
    ignored: ['harbor event constructor is not a push or a delete'],
  },
  {
    name: 'two resources: one event each, in order, with their own delivery ids',
    request: () =>
      cloudRequest(
        cloudPush((e) => {
          e.data.resources.push({ digest: DEBIAN_DIGEST, tag: '3.9', resource_url: 'localhost/harbor/alpine:3.9' });
        }),
      ),
    events: [ALPINE_3_8, { ...ALPINE_3_8, tag: '3.9', digest: DEBIAN_DIGEST, deliveryId: '66e18103-09c1-41f6-982f-37df223f3eeb:1' }],
    ignored: [],
  },
  {
    name: 'a malformed resource beside a good one',
    request: () => cloudRequest(cloudPush((e) => e.data.resources.unshift({ tag: 5 }))),
    events: [{ ...ALPINE_3_8, deliveryId: '66e18103-09c1-41f6-982f-37df223f3eeb:1' }],
    ignored: ['resource #0 is malformed: tag: Invalid input: expected string, received number'],
  },
  {
    name: 'no resources',
    request: () => cloudRequest(cloudPush((e) => (e.data.resources = []))),
    events: [],
    ignored: [],
  },
  {
    name: 'a resource_url with a port',
    request: () => jsonRequest(debianPush((_n, r) => (r.resource_url = 'hub.harbor.com:8443/test-webhook/debian:latest'))),
    events: [{ ...DEBIAN_LATEST, registry: 'hub.harbor.com:8443' }],
    ignored: [],
  },
  {
    name: 'resource_url wins over the login server',
    request: () => jsonRequest(debianPush()),
    webhook: withLoginServer,
    events: [DEBIAN_LATEST],
    ignored: [],
  },
  {
    name: 'no resource_url: the login server',
    request: () => jsonRequest(debianPush((_n, r) => delete r.resource_url)),
    webhook: withLoginServer,
    events: [{ ...DEBIAN_LATEST, registry: 'harbor.example.com' }],
    ignored: [],
  },
  {
    name: 'no resource_url and no login server',
    request: () => jsonRequest(debianPush((_n, r) => delete r.resource_url)),
    events: [],
    ignored: ['push of test-webhook/debian:latest: no host in resource_url "" and the webhook has no login server'],
  },
  {
    name: 'a resource_url with a scheme: the login server',
    request: () => jsonRequest(debianPush((_n, r) => (r.resource_url = 'https://hub.harbor.com/test-webhook/debian:latest'))),
    webhook: withLoginServer,
    events: [{ ...DEBIAN_LATEST, registry: 'harbor.example.com' }],
    ignored: [],
  },
  {
    name: 'a resource_url with a scheme and no login server',
    request: () => jsonRequest(debianPush((_n, r) => (r.resource_url = 'https://hub.harbor.com/test-webhook/debian:latest'))),
    events: [],
    ignored: ['push of test-webhook/debian:latest: invalid registry host "https:" in resource_url and the webhook has no login server'],
  },
  {
    name: 'a resource_url without a slash and no login server',
    request: () => jsonRequest(debianPush((_n, r) => (r.resource_url = 'debian:latest'))),
    events: [],
    ignored: ['push of test-webhook/debian:latest: no host in resource_url "debian:latest" and the webhook has no login server'],
  },
  {
    name: 'a resource with an empty tag',
    request: () => jsonRequest(debianPush((_n, r) => (r.tag = ''))),
    events: [],
    ignored: [`push of test-webhook/debian@${DEBIAN_DIGEST} has no tag (pushed by digest)`],
  },
  {
    name: 'a resource with neither tag nor digest',
    request: () =>
      jsonRequest(
        debianPush((_n, r) => {
          delete r.tag;
          delete r.digest;
        }),
      ),
    events: [],
    ignored: ['push of test-webhook/debian has no tag (pushed by digest)'],
  },
  {
    name: 'a push with a masked digest',
    request: () => jsonRequest(debianPush((_n, r) => (r.digest = 'sha256:xxxx9863dbb6e10edb5adfe917c00da84e1700fa76e7ed02476aa6e6fb8exxxx'))),
    events: [],
    ignored: [
      'push of test-webhook/debian:latest: invalid digest "sha256:xxxx9863dbb6e10edb5adfe917c00da84e1700fa76e7ed02476aa6e6fb8exxxx" (expected sha256: and 64 hex digits)',
    ],
  },
  {
    name: 'a push without a digest',
    request: () => jsonRequest(debianPush((_n, r) => delete r.digest)),
    events: [],
    ignored: ['push of test-webhook/debian:latest: no digest'],
  },
  {
    name: 'a delete with a masked digest leaves the digest out',
    request: () =>
      jsonRequest(
        debianPush((n, r) => {
          n.type = 'DELETE_ARTIFACT';
          r.digest = 'sha256:xxxx';
        }),
      ),
    events: [
      {
        kind: 'image-delete',
        source: 'harbor',
        registry: 'hub.harbor.com',
        repository: 'test-webhook/debian',
        tag: 'latest',
        occurredAt: '2020-04-15T03:45:08.000Z',
        deliveryId: expect.stringMatching(new RegExp(`^1586922308:${ANY_HASH}:0$`)) as unknown as string,
      },
    ],
    ignored: [],
  },
  {
    name: 'a push with an invalid tag',
    request: () => jsonRequest(debianPush((_n, r) => (r.tag = 'latest!'))),
    events: [],
    ignored: ['push of test-webhook/debian:latest!: invalid tag "latest!"'],
  },
  {
    name: 'a repository known only by namespace and name',
    request: () => jsonRequest(debianPush((n) => delete n.event_data.repository.repo_full_name)),
    events: [DEBIAN_LATEST],
    ignored: [],
  },
  {
    name: 'an invalid repository name',
    request: () => jsonRequest(debianPush((n) => (n.event_data.repository.repo_full_name = 'Test-Webhook/Debian'))),
    events: [],
    ignored: ['push of Test-Webhook/Debian:latest: invalid repository name "Test-Webhook/Debian"'],
  },
  {
    name: 'occur_at in milliseconds',
    request: () => jsonRequest(debianPush((n) => (n.occur_at = 1586922308000))),
    events: [],
    ignored: ['push of test-webhook/debian:latest: invalid occur_at 1586922308000'],
  },
  {
    name: 'a negative occur_at',
    request: () => jsonRequest(debianPush((n) => (n.occur_at = -1))),
    events: [],
    ignored: ['push of test-webhook/debian:latest: invalid occur_at -1'],
  },
  {
    name: 'a fractional occur_at',
    request: () => jsonRequest(debianPush((n) => (n.occur_at = 1586922308.5))),
    events: [],
    ignored: ['push of test-webhook/debian:latest: invalid occur_at 1586922308.5'],
  },
  {
    name: 'a CloudEvent without a time',
    request: () => cloudRequest(cloudPush((e) => delete e.time)),
    events: [],
    ignored: ['push of harbor/alpine:3.8: invalid time ""'],
  },
  {
    name: 'a CloudEvent with a time that is not RFC 3339',
    request: () => cloudRequest(cloudPush((e) => (e.time = '1680501886'))),
    events: [],
    ignored: ['push of harbor/alpine:3.8: invalid time "1680501886"'],
  },
];

describe('harbor normalize', () => {
  it.each(rows)('$name', ({ request, webhook: hook, events, ignored }) => {
    const result = harborProvider.normalize(request(), hook ?? webhook);
    expect(result.events).toEqual(events);
    expect(result.ignored.map((i) => i.reason)).toEqual(ignored);
    expect(result.ping).toBeUndefined();
  });

  it('gives a redelivery (the same bytes) the same delivery id', () => {
    const first = harborProvider.normalize(fixtureRequest('harbor', 'docs-v2.0-PUSH_ARTIFACT-default-tag-latest.json'), webhook);
    const again = harborProvider.normalize(fixtureRequest('harbor', 'docs-v2.0-PUSH_ARTIFACT-default-tag-latest.json'), webhook);
    expect(again.events.map((e) => e.deliveryId)).toEqual(first.events.map((e) => e.deliveryId));
  });

  it('tells apart two default-format pushes of the same second', () => {
    // Same occur_at, same resource index, another tag: a delivery id of occur_at and index alone
    // would make the receiver drop the second push as a redelivery.
    const latest = harborProvider.normalize(jsonRequest(debianPush()), webhook);
    const slim = harborProvider.normalize(jsonRequest(debianPush((_n, r) => (r.tag = 'slim'))), webhook);
    const ids = [...latest.events, ...slim.events].map((e) => e.deliveryId);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
  });

  it.each<[string, () => WebhookRequest, RegExp]>([
    ['a body that is not JSON', () => ({ headers: {}, rawBody: Buffer.from('<xml/>'), receivedAt: '' }), /harbor notification is not valid JSON/],
    ['an empty body', () => ({ headers: {}, rawBody: Buffer.alloc(0), receivedAt: '' }), /harbor notification is empty/],
    ['a JSON array', () => jsonRequest([debianPush()]), /harbor notification is malformed: .*expected object/],
    ['a notification without a type', () => jsonRequest({ ...debianPush(), type: undefined }), /harbor notification is malformed: type: /],
    ['occur_at as a string', () => jsonRequest({ ...debianPush(), occur_at: '1586922308' }), /harbor notification is malformed: occur_at: /],
    ['a push without event_data', () => jsonRequest({ ...debianPush(), event_data: undefined }), /harbor PUSH_ARTIFACT data is malformed: .*expected object/],
    ['resources that is not an array', () => jsonRequest(debianPush((n) => (n.event_data.resources = {} as unknown as unknown[]))), /harbor PUSH_ARTIFACT data is malformed: resources: /],
    ['a repository without any name', () => jsonRequest(debianPush((n) => (n.event_data.repository = { namespace: 'test-webhook' }))), /harbor PUSH_ARTIFACT data is malformed: repository: expected repo_full_name, or namespace and name/],
    ['a CloudEvent without an id', () => cloudRequest(cloudPush((e) => delete e.id)), /harbor cloudevent is malformed: id: /],
    ['a CloudEvent push without data', () => cloudRequest({ ...cloudPush(), data: undefined } as unknown as CloudEvent), /harbor harbor.artifact.pushed data is malformed/],
  ])('%s is a ValidationError', (_name, request, message) => {
    const run = () => harborProvider.normalize(request(), webhook);
    expect(run).toThrow(ValidationError);
    expect(run).toThrow(message);
  });
});

describeBearerAuthentication(harborProvider, fixtureRequest('harbor', 'docs-PUSH_ARTIFACT-cloudevents.json').rawBody, 'application/cloudevents+json');

describe('harbor setup and content types', () => {
  const url = 'https://cascade.example.com/webhooks/harbor-base';

  it('gives the endpoint, the auth header and the event types', () => {
    const text = harborProvider.setupInstructions({ url, secret: 'the-secret-42', webhook: withLoginServer });
    expectBearerSetup(text, url, 'the-secret-42');
    expect(text).toMatch(/Auth Header:\s+Bearer the-secret-42/);
    expect(text).toMatch(/Event Type:\s+Artifact pushed, Artifact deleted/);
    expect(text).toContain('harbor.example.com');
  });

  it.each<[string | undefined, boolean]>([
    [fixtureRequest('harbor', 'docs-PUSH_ARTIFACT-default.json').headers['content-type'], true],
    [fixtureRequest('harbor', 'docs-PUSH_ARTIFACT-cloudevents.json').headers['content-type'], true],
    ['application/cloudevents+json; charset=utf-8', true],
    ['application/cloudevents-batch+json', false],
    [undefined, false],
  ])('content type %s → %s', (contentType, accepted) => {
    expect(acceptsContentType(harborProvider, contentType)).toBe(accepted);
  });
});
