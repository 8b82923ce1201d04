import { ValidationError } from '../../../lib/domain/errors';
import type { ImageDeleteEvent, ImageEvent, Webhook } from '../../../lib/domain/types';
import { acrProvider } from '../../../lib/events/acr';
import { acceptsContentType } from '../../../lib/domain/webhook-provider';
import type { WebhookRequest } from '../../../lib/domain/webhook-provider';
import { describeBearerAuthentication, expectBearerSetup } from './bearer-auth';
import { fixtureJson, fixtureRequest, jsonRequest } from './fixtures';

const webhook: Webhook = { name: 'acr-base', provider: 'acr', secrets: ['tok'], createdAt: '2026-11-28T00:00:00.000Z' };
const withLoginServer: Webhook = { ...webhook, loginServer: 'contoso.azurecr.io' };

const DIGEST = 'sha256:80f0d5c8786bb9e621a45ece0db56d11cdc624ad20da9fe62e9d25490f331d7d';

interface AcrEvent {
  id?: string;
  timestamp: string;
  action: string;
  target: { mediaType?: string; digest?: string; repository?: string; tag?: string };
  request?: { host?: string };
}

/** The 2017 documented push (the one with a real digest), then `change` applied. */
function push(change: (event: AcrEvent) => void = () => undefined): AcrEvent {
  const event = fixtureJson('acr', 'azuredocs-2017-push.json') as unknown as AcrEvent;
  change(event);
  return event;
}

const HELLO_WORLD_V1: ImageEvent = {
  kind: 'image',
  source: 'acr',
  registry: 'myregistry.azurecr.io',
  repository: 'hello-world',
  tag: 'v1',
  digest: 'sha256:80f0d5c8786bb9e621a45ece0db56d11cdc624ad20da9fe62e9d25490f331d7d',
  occurredAt: '2017-11-17T16:52:01.343Z',
  deliveryId: 'cb8c3971-9adc-488b-bdd8-43cbb4974ff5',
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
    name: 'azuredocs-2017-push.json',
    request: () => fixtureRequest('acr', 'azuredocs-2017-push.json'),
    events: [
      {
        kind: 'image',
        source: 'acr',
        registry: 'myregistry.azurecr.io',
        repository: 'hello-world',
        tag: 'v1',
        digest: 'sha256:80f0d5c8786bb9e621a45ece0db56d11cdc624ad20da9fe62e9d25490f331d7d',
        occurredAt: '2017-11-17T16:52:01.343Z',
        deliveryId: 'cb8c3971-9adc-488b-bdd8-43cbb4974ff5',
      },
    ],
    ignored: [],
  },
  {
    name: 'azuredocs-2017-delete.json (a manifest delete, no tag)',
    request: () => fixtureRequest('acr', 'azuredocs-2017-delete.json'),
    events: [],
    ignored: ['delete of hello-world@sha256:80f0d5c8786bb9e621a45ece0db56d11cdc624ad20da9fe62e9d25490f331d7d names no tag'],
  },
  {
    name: 'azuredocs-2023-push-masked.json',
    request: () => fixtureRequest('acr', 'azuredocs-2023-push-masked.json'),
    events: [],
    ignored: [
      'push of hello-world:v1: invalid digest "sha256:xxxxd5c8786bb9e621a45ece0dbxxxx1cdc624ad20da9fe62e9d25490f33xxxx" (expected sha256: and 64 hex digits)',
    ],
  },
  {
    name: 'azuredocs-chart_push.json',
    request: () => fixtureRequest('acr', 'azuredocs-chart_push.json'),
    events: [],
    ignored: ['chart_push of repo:wordpress-5.4.0.tgz is a Helm chart, not an image'],
  },
  {
    name: 'azuredocs-chart_delete.json',
    request: () => fixtureRequest('acr', 'azuredocs-chart_delete.json'),
    events: [],
    ignored: ['chart_delete of repo:wordpress-5.4.0.tgz is a Helm chart, not an image'],
  },
  {
    name: 'the documented delete, had it named a tag',
    request: () =>
      jsonRequest({ ...fixtureJson('acr', 'azuredocs-2017-delete.json'), target: { ...push().target, mediaType: undefined } }),
    events: [
      {
        kind: 'image-delete',
        source: 'acr',
        registry: 'myregistry.azurecr.io',
        repository: 'hello-world',
        tag: 'v1',
        digest: 'sha256:80f0d5c8786bb9e621a45ece0db56d11cdc624ad20da9fe62e9d25490f331d7d',
        occurredAt: '2017-11-17T16:54:53.657Z',
        deliveryId: 'afc359ce-df7f-4e32-bdde-1ff8aa80927b',
      },
    ],
    ignored: [],
  },
  {
    name: 'a tag delete with a masked digest leaves the digest out',
    request: () =>
      jsonRequest(
        push((e) => {
          e.action = 'delete';
          e.target.digest = 'sha256:xxxx';
        }),
      ),
    events: [
      {
        kind: 'image-delete',
        source: 'acr',
        registry: 'myregistry.azurecr.io',
        repository: 'hello-world',
        tag: 'v1',
        occurredAt: '2017-11-17T16:52:01.343Z',
        deliveryId: 'cb8c3971-9adc-488b-bdd8-43cbb4974ff5',
      },
    ],
    ignored: [],
  },
  {
    name: 'a quarantined push',
    request: () => jsonRequest(push((e) => (e.action = 'quarantine'))),
    events: [],
    ignored: ['quarantine of hello-world:v1 is not a push (the image is held until it is scanned)'],
  },
  {
    name: 'an unknown action',
    request: () => jsonRequest(push((e) => (e.action = 'pull'))),
    events: [],
    ignored: ['pull of hello-world:v1 is not a push'],
  },
  {
    name: 'a push without a tag',
    request: () => jsonRequest(push((e) => delete e.target.tag)),
    events: [],
    ignored: [`push of hello-world@${DIGEST} has no tag`],
  },
  {
    name: 'a push of an OCI index',
    request: () => jsonRequest(push((e) => (e.target.mediaType = 'application/vnd.oci.image.index.v1+json'))),
    events: [HELLO_WORLD_V1],
    ignored: [],
  },
  {
    name: 'a push that does not say its media type',
    request: () => jsonRequest(push((e) => delete e.target.mediaType)),
    events: [HELLO_WORLD_V1],
    ignored: [],
  },
  {
    name: 'a push of an artifact that is not an image',
    request: () => jsonRequest(push((e) => (e.target.mediaType = 'application/vnd.oci.artifact.manifest.v1+json'))),
    events: [],
    ignored: ['push of application/vnd.oci.artifact.manifest.v1+json to hello-world is not an image manifest'],
  },
  {
    name: 'a push without a digest',
    request: () => jsonRequest(push((e) => delete e.target.digest)),
    events: [],
    ignored: ['push of hello-world:v1: no digest'],
  },
  {
    name: 'a push with a truncated digest',
    request: () => jsonRequest(push((e) => (e.target.digest = 'sha256:80f0d5c8...'))),
    events: [],
    ignored: ['push of hello-world:v1: invalid digest "sha256:80f0d5c8..." (expected sha256: and 64 hex digits)'],
  },
  {
    name: 'a push with an invalid tag',
    request: () => jsonRequest(push((e) => (e.target.tag = 'v1 beta'))),
    events: [],
    ignored: ['push of hello-world:v1 beta: invalid tag "v1 beta"'],
  },
  {
    name: 'a push with an invalid repository',
    request: () => jsonRequest(push((e) => (e.target.repository = 'Hello-World'))),
    events: [],
    ignored: ['push of Hello-World:v1: invalid repository name "Hello-World"'],
  },
  {
    name: 'a push without a request falls back to the login server',
    request: () => jsonRequest(push((e) => delete e.request)),
    webhook: withLoginServer,
    events: [{ ...HELLO_WORLD_V1, registry: 'contoso.azurecr.io' }],
    ignored: [],
  },
  {
    name: 'request.host wins over the login server',
    request: () => fixtureRequest('acr', 'azuredocs-2017-push.json'),
    webhook: withLoginServer,
    events: [HELLO_WORLD_V1],
    ignored: [],
  },
  {
    name: 'a push with an empty request.host and no login server',
    request: () => jsonRequest(push((e) => (e.request!.host = ''))),
    events: [],
    ignored: ['push of hello-world:v1: the event has no request.host and the webhook has no login server'],
  },
  {
    name: 'a push whose request.host is not a host',
    request: () => jsonRequest(push((e) => (e.request!.host = 'myregistry.azurecr.io/evil'))),
    events: [],
    ignored: ['push of hello-world:v1: invalid registry host "myregistry.azurecr.io/evil"'],
  },
  {
    name: 'a push with a timestamp that is not RFC 3339',
    request: () => jsonRequest(push((e) => (e.timestamp = '2017-11-17 16:52'))),
    events: [],
    ignored: ['push of hello-world:v1: invalid timestamp "2017-11-17 16:52"'],
  },
  {
    name: 'a push at a positive offset is converted to UTC',
    request: () => jsonRequest(push((e) => (e.timestamp = '2017-11-17T18:52:01.3431+02:00'))),
    events: [HELLO_WORLD_V1],
    ignored: [],
  },
];

describe('acr normalize', () => {
  it.each(rows)('$name', ({ request, webhook: hook, events, ignored }) => {
    const result = acrProvider.normalize(request(), hook ?? webhook);
    expect(result.events).toEqual(events);
    expect(result.ignored.map((i) => i.reason)).toEqual(ignored);
    expect(result.ping).toBeUndefined();
  });

  it('answers a ping, whose target may be empty', () => {
    const ping = { id: 'a1b2', timestamp: '2026-11-28T05:00:00Z', action: 'ping', target: { repository: '', tag: '', digest: '' }, request: { host: '' } };
    expect(acrProvider.normalize(jsonRequest(ping), webhook)).toEqual({ events: [], ignored: [{ reason: 'ping' }], ping: true });
  });

  it.each<[string, () => WebhookRequest, RegExp]>([
    ['a body that is not JSON', () => ({ headers: {}, rawBody: Buffer.from('action=push'), receivedAt: '' }), /acr event is not valid JSON/],
    ['an empty body', () => ({ headers: {}, rawBody: Buffer.alloc(0), receivedAt: '' }), /acr event is empty/],
    ['a distribution-style envelope', () => jsonRequest({ events: [push()] }), /acr event is malformed: action: /],
    ['a JSON array', () => jsonRequest([push()]), /acr event is malformed: .*expected object/],
    ['an event without an id', () => jsonRequest(push((e) => delete e.id)), /acr event is malformed: id: /],
    ['an event without a target repository', () => jsonRequest(push((e) => delete e.target.repository)), /acr event is malformed: target.repository: /],
    ['an event whose target is a string', () => jsonRequest({ ...push(), target: 'hello-world:v1' }), /acr event is malformed: target: /],
    ['an action that is not a string', () => jsonRequest({ ...push(), action: 1 }), /acr event is malformed: action: /],
  ])('%s is a ValidationError', (_name, request, message) => {
    const run = () => acrProvider.normalize(request(), webhook);
    expect(run).toThrow(ValidationError);
    expect(run).toThrow(message);
  });
});

describeBearerAuthentication(acrProvider, fixtureRequest('acr', 'azuredocs-2017-push.json').rawBody, 'application/json');

describe('acr setup and content types', () => {
  const url = 'https://cascade.example.com/webhooks/acr-base';

  it('gives the custom header and the actions, in the portal and with az', () => {
    const text = acrProvider.setupInstructions({ url, secret: 'the-secret-42', webhook: withLoginServer });
    expectBearerSetup(text, url, 'the-secret-42');
    expect(text).toContain('Custom headers:  Authorization: Bearer the-secret-42');
    expect(text).toMatch(/Actions:\s+push, delete/);
    expect(text).toContain(
      "az acr webhook create --registry contoso --name cascade --uri 'https://cascade.example.com/webhooks/acr-base' --actions push delete --headers 'Authorization=Bearer the-secret-42'",
    );
  });

  it('leaves the registry name for the user to fill in when the webhook has no login server', () => {
    expect(acrProvider.setupInstructions({ url, secret: 's', webhook })).toContain('--registry <registry-name>');
  });

  it.each<[string | undefined, boolean]>([
    [fixtureRequest('acr', 'azuredocs-2017-push.json').headers['content-type'], true],
    ['application/json; charset=utf-8', true],
    ['application/cloudevents+json', false],
    [undefined, false],
  ])('content type %s → %s', (contentType, accepted) => {
    expect(acceptsContentType(acrProvider, contentType)).toBe(accepted);
  });
});
