import { ValidationError } from '../../../lib/domain/errors';
import type { ImageDeleteEvent, ImageEvent, Webhook } from '../../../lib/domain/types';
import { acceptsContentType } from '../../../lib/domain/webhook-provider';
import { ecrProvider, normalizeEcrEvent } from '../../../lib/events/ecr';
import type { WebhookRequest } from '../../../lib/domain/webhook-provider';
import { describeBearerAuthentication, expectBearerSetup } from './bearer-auth';
import { fixtureJson, fixtureRequest, jsonRequest } from './fixtures';

const webhook: Webhook = { name: 'ecr-base', provider: 'ecr', secrets: ['tok'], createdAt: '2026-11-28T00:00:00.000Z' };

const TRUNCATED = 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234';
const DIGEST = 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678';

interface Envelope {
  id?: string;
  source: string;
  'detail-type': string;
  account: string;
  region: string;
  time: string;
  detail: Record<string, unknown>;
}

/** The documented push with a full digest (the doc's is truncated), then `change` applied. */
function push(change: (event: Envelope) => void = () => undefined): Envelope {
  const event = fixtureJson('ecr', 'awsdocs-ecr-image-action-push-success.json') as unknown as Envelope;
  event.detail['image-digest'] = DIGEST;
  change(event);
  return event;
}

interface Row {
  name: string;
  request: () => WebhookRequest;
  events: Array<ImageEvent | ImageDeleteEvent>;
  ignored: string[];
}

const rows: Row[] = [
  {
    name: 'awsdocs-ecr-image-action-push-success.json (its digest is truncated)',
    request: () => fixtureRequest('ecr', 'awsdocs-ecr-image-action-push-success.json'),
    events: [],
    ignored: [
      'push of my-repository-name:latest: invalid digest "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234" (expected sha256: and 64 hex digits)',
    ],
  },
  {
    name: 'awsdocs-ecr-image-action-delete.json (the truncated digest is left out)',
    request: () => fixtureRequest('ecr', 'awsdocs-ecr-image-action-delete.json'),
    events: [
      {
        kind: 'image-delete',
        source: 'ecr',
        registry: '123456789012.dkr.ecr.us-west-2.amazonaws.com',
        repository: 'my-repository-name',
        tag: 'latest',
        occurredAt: '2019-11-16T02:01:05.000Z',
        deliveryId: 'dd3b46cb-2c74-f49e-393b-28286b67279d',
      },
    ],
    ignored: [],
  },
  {
    name: 'the documented push with a full digest',
    request: () => jsonRequest(push()),
    events: [
      {
        kind: 'image',
        source: 'ecr',
        registry: '123456789012.dkr.ecr.us-west-2.amazonaws.com',
        repository: 'my-repository-name',
        tag: 'latest',
        digest: 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678',
        occurredAt: '2019-11-16T01:54:34.000Z',
        deliveryId: '13cde686-328b-6117-af20-0e5566167482',
      },
    ],
    ignored: [],
  },
  {
    name: 'a delete with a full digest keeps it',
    request: () => jsonRequest(push((e) => (e.detail['action-type'] = 'DELETE'))),
    events: [
      {
        kind: 'image-delete',
        source: 'ecr',
        registry: '123456789012.dkr.ecr.us-west-2.amazonaws.com',
        repository: 'my-repository-name',
        tag: 'latest',
        digest: 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678',
        occurredAt: '2019-11-16T01:54:34.000Z',
        deliveryId: '13cde686-328b-6117-af20-0e5566167482',
      },
    ],
    ignored: [],
  },
  {
    name: "an event forwarded from another account's bus names the repository's account",
    request: () =>
      jsonRequest(
        push((e) => {
          e.account = '210987654321';
          e.region = 'eu-west-1';
          e.detail['repository-name'] = 'baseimages/node';
          e.detail['image-tag'] = '9-alpine';
        }),
      ),
    events: [
      {
        kind: 'image',
        source: 'ecr',
        registry: '210987654321.dkr.ecr.eu-west-1.amazonaws.com',
        repository: 'baseimages/node',
        tag: '9-alpine',
        digest: 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678',
        occurredAt: '2019-11-16T01:54:34.000Z',
        deliveryId: '13cde686-328b-6117-af20-0e5566167482',
      },
    ],
    ignored: [],
  },
  {
    name: 'a China region registry is under amazonaws.com.cn',
    request: () => jsonRequest(push((e) => (e.region = 'cn-north-1'))),
    events: [
      {
        kind: 'image',
        source: 'ecr',
        registry: '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn',
        repository: 'my-repository-name',
        tag: 'latest',
        digest: 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678',
        occurredAt: '2019-11-16T01:54:34.000Z',
        deliveryId: '13cde686-328b-6117-af20-0e5566167482',
      },
    ],
    ignored: [],
  },
  {
    name: 'a failed push',
    request: () => jsonRequest(push((e) => (e.detail.result = 'FAILURE'))),
    events: [],
    ignored: ['failed push of my-repository-name:latest (result FAILURE)'],
  },
  {
    name: 'a failed push without a digest',
    request: () =>
      jsonRequest(
        push((e) => {
          e.detail.result = 'FAILURE';
          delete e.detail['image-digest'];
        }),
      ),
    events: [],
    ignored: ['failed push of my-repository-name:latest (result FAILURE)'],
  },
  {
    name: 'a failed delete',
    request: () =>
      jsonRequest(
        push((e) => {
          e.detail.result = 'FAILURE';
          e.detail['action-type'] = 'DELETE';
        }),
      ),
    events: [],
    ignored: ['failed delete of my-repository-name:latest (result FAILURE)'],
  },
  {
    name: 'an untagged push',
    request: () => jsonRequest(push((e) => delete e.detail['image-tag'])),
    events: [],
    ignored: [`push of my-repository-name@${DIGEST} has no tag`],
  },
  {
    name: 'a push with an empty tag',
    request: () => jsonRequest(push((e) => (e.detail['image-tag'] = ''))),
    events: [],
    ignored: [`push of my-repository-name@${DIGEST} has no tag`],
  },
  {
    name: 'a delete by digest',
    request: () =>
      jsonRequest(
        push((e) => {
          e.detail['action-type'] = 'DELETE';
          delete e.detail['image-tag'];
        }),
      ),
    events: [],
    ignored: [`delete of my-repository-name@${DIGEST} names no tag`],
  },
  {
    name: 'an action that is neither push nor delete',
    request: () => jsonRequest(push((e) => (e.detail['action-type'] = 'REPLICATE'))),
    events: [],
    ignored: ['ECR REPLICATE of my-repository-name:latest is not a push or a delete'],
  },
  {
    name: 'an image scan event caught by a broad rule',
    request: () =>
      jsonRequest(
        push((e) => {
          e['detail-type'] = 'ECR Image Scan';
          e.detail = { 'scan-status': 'COMPLETE', 'repository-name': 'my-repository-name' };
        }),
      ),
    events: [],
    ignored: ['aws.ecr event "ECR Image Scan" is not an ECR image action'],
  },
  {
    name: 'an event from another service',
    request: () =>
      jsonRequest(
        push((e) => {
          e.source = 'aws.codebuild';
          e['detail-type'] = 'CodeBuild Build State Change';
          e.detail = {};
        }),
      ),
    events: [],
    ignored: ['aws.codebuild event "CodeBuild Build State Change" is not an ECR image action'],
  },
  {
    name: 'a push without a digest',
    request: () => jsonRequest(push((e) => delete e.detail['image-digest'])),
    events: [],
    ignored: ['push of my-repository-name:latest: no digest'],
  },
  {
    name: 'a push with a masked digest',
    request: () => jsonRequest(push((e) => (e.detail['image-digest'] = 'sha256:xxxx'))),
    events: [],
    ignored: ['push of my-repository-name:latest: invalid digest "sha256:xxxx" (expected sha256: and 64 hex digits)'],
  },
  {
    name: 'a push with a 40-hex digest',
    request: () => jsonRequest(push((e) => (e.detail['image-digest'] = `sha256:${'a'.repeat(40)}`))),
    events: [],
    ignored: [`push of my-repository-name:latest: invalid digest "sha256:${'a'.repeat(40)}" (expected sha256: and 64 hex digits)`],
  },
  {
    name: 'a push with an invalid tag',
    request: () => jsonRequest(push((e) => (e.detail['image-tag'] = '.hidden'))),
    events: [],
    ignored: ['push of my-repository-name:.hidden: invalid tag ".hidden"'],
  },
  {
    name: 'a push with an invalid repository name',
    request: () => jsonRequest(push((e) => (e.detail['repository-name'] = 'My-Repo'))),
    events: [],
    ignored: ['push of My-Repo:latest: invalid repository name "My-Repo"'],
  },
  {
    name: 'a delete with an invalid tag',
    request: () =>
      jsonRequest(
        push((e) => {
          e.detail['action-type'] = 'DELETE';
          e.detail['image-tag'] = 'a/b';
        }),
      ),
    events: [],
    ignored: ['delete of my-repository-name:a/b: invalid tag "a/b"'],
  },
  {
    name: 'a push with a time that is not RFC 3339',
    request: () => jsonRequest(push((e) => (e.time = 'Nov 16 2019'))),
    events: [],
    ignored: ['push of my-repository-name:latest: invalid time "Nov 16 2019"'],
  },
];

describe('ecr normalize', () => {
  it.each(rows)('$name', ({ request, events, ignored }) => {
    const result = ecrProvider.normalize(request(), webhook);
    expect(result.events).toEqual(events);
    expect(result.ignored.map((i) => i.reason)).toEqual(ignored);
    expect(result.ping).toBeUndefined();
  });

  it('ignores the login server of the webhook: the event names its account and region', () => {
    const result = ecrProvider.normalize(jsonRequest(push()), { ...webhook, loginServer: 'other.example.com' });
    expect(result.events.map((e) => (e.kind === 'image' ? e.registry : e.kind))).toEqual(['123456789012.dkr.ecr.us-west-2.amazonaws.com']);
  });

  it.each<[string, () => WebhookRequest, RegExp]>([
    ['a body that is not JSON', () => ({ headers: {}, rawBody: Buffer.from('{"id":'), receivedAt: '' }), /ecr event is not valid JSON/],
    ['an empty body', () => ({ headers: {}, rawBody: Buffer.alloc(0), receivedAt: '' }), /ecr event is empty/],
    ['a JSON array', () => jsonRequest([push()]), /ecr event is malformed: .*expected object/],
    ['JSON null', () => jsonRequest(null), /ecr event is malformed: .*expected object/],
    ['the detail alone', () => jsonRequest(push().detail), /ecr event is malformed: id: /],
    ['an event without an id', () => jsonRequest(push((e) => delete e.id)), /ecr event is malformed: id: /],
    ['an account that is not 12 digits', () => jsonRequest(push((e) => (e.account = '1234'))), /account: expected a 12-digit AWS account id/],
    ['a region that is not a region', () => jsonRequest(push((e) => (e.region = 'evil.com/x'))), /region: expected an AWS region/],
    ['a detail that is not an object', () => jsonRequest(push((e) => (e.detail = 'push' as unknown as Record<string, unknown>))), /ecr event detail is malformed: .*expected object/],
    ['a detail without repository-name', () => jsonRequest(push((e) => delete e.detail['repository-name'])), /ecr event detail is malformed: repository-name: /],
    ['a detail without action-type', () => jsonRequest(push((e) => delete e.detail['action-type'])), /ecr event detail is malformed: action-type: /],
    ['a numeric tag', () => jsonRequest(push((e) => (e.detail['image-tag'] = 7))), /ecr event detail is malformed: image-tag: /],
  ])('%s is a ValidationError', (_name, request, message) => {
    const run = () => ecrProvider.normalize(request(), webhook);
    expect(run).toThrow(ValidationError);
    expect(run).toThrow(message);
  });
});

describe('normalizeEcrEvent (for a Lambda on an EventBridge rule)', () => {
  it('turns the event object EventBridge hands a Lambda into the same events as the webhook', () => {
    expect(normalizeEcrEvent(push())).toEqual({
      events: [
        {
          kind: 'image',
          source: 'ecr',
          registry: '123456789012.dkr.ecr.us-west-2.amazonaws.com',
          repository: 'my-repository-name',
          tag: 'latest',
          digest: 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd12345678',
          occurredAt: '2019-11-16T01:54:34.000Z',
          deliveryId: '13cde686-328b-6117-af20-0e5566167482',
        },
      ],
      ignored: [],
    });
  });

  it('explains the documented push, whose digest is truncated', () => {
    expect(normalizeEcrEvent(fixtureJson('ecr', 'awsdocs-ecr-image-action-push-success.json'))).toEqual({
      events: [],
      ignored: [{ reason: `push of my-repository-name:latest: invalid digest "${TRUNCATED}" (expected sha256: and 64 hex digits)` }],
    });
  });

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['a string', 'ECR Image Action'],
    ['an SQS record around the event', { Records: [{ body: JSON.stringify(push()) }] }],
  ])('rejects %s with a ValidationError', (_name, event) => {
    expect(() => normalizeEcrEvent(event)).toThrow(ValidationError);
  });
});

describeBearerAuthentication(ecrProvider, fixtureRequest('ecr', 'awsdocs-ecr-image-action-push-success.json').rawBody, 'application/json; charset=utf-8');

describe('ecr setup and content types', () => {
  const url = 'https://abc123.execute-api.eu-west-1.amazonaws.com/webhooks/ecr-base';

  it('describes the connection, the API destination and the rule pattern', () => {
    const text = ecrProvider.setupInstructions({ url, secret: 'the-secret-42', webhook });
    expectBearerSetup(text, url, 'the-secret-42');
    expect(text).toMatch(/Authorization type:\s+API Key/);
    expect(text).toMatch(/API key name:\s+Authorization/);
    expect(text).toMatch(/Value:\s+Bearer the-secret-42/);
    expect(text).toMatch(/HTTP method:\s+POST/);
    expect(text).toContain(
      '{"source":["aws.ecr"],"detail-type":["ECR Image Action"],"detail":{"action-type":["PUSH","DELETE"],"result":["SUCCESS"]}}',
    );
    expect(ecrProvider.secretIn).toBe('header');
    expect(ecrProvider.kind).toBe('registry');
  });

  it.each<[string | undefined, boolean]>([
    ['application/json; charset=utf-8', true],
    ['application/json', true],
    ['text/plain', false],
    [undefined, false],
  ])('content type %s → %s', (contentType, accepted) => {
    expect(acceptsContentType(ecrProvider, contentType)).toBe(accepted);
  });
});
