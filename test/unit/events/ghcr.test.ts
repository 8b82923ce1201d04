import { createHmac } from 'node:crypto';
import { UnauthorizedError, ValidationError } from '../../../lib/domain/errors';
import type { ImageEvent, Webhook } from '../../../lib/domain/types';
import { acceptsContentType } from '../../../lib/domain/webhook-provider';
import { ghcrProvider } from '../../../lib/events/ghcr';
import type { WebhookRequest } from '../../../lib/domain/webhook-provider';
import { RECEIVED_AT, fixtureJson, fixtureRequest } from './fixtures';
import { rememberSecrets } from '../../support/secrets';

// The secret go-playground/webhooks signs its GitHub test payloads with (the ping fixture is reused).
const SECRET = 'IsWishesWereHorsesWedAllBeEatingSteak!';
rememberSecrets(SECRET);
const webhook: Webhook = { name: 'ghcr', provider: 'ghcr', secrets: [SECRET], createdAt: '2026-11-28T00:00:00.000Z' };

const PACKAGE_FILE = 'octokit-package-published-docker.json';
const REGISTRY_PACKAGE_FILE = 'octokit-registry_package-published-docker.json';
const DIGEST = 'sha256:3da1996a8115d7616457760d9920b815241d0a03b34cf5f04e9a0e9d8de37498';
const DELIVERY = '72d3162e-cc78-11e3-81ab-4c9367dc0958';

const sign = (body: Buffer | string, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** A fixture as GitHub would deliver it: the octokit examples come without headers, so they are signed here. */
function signedFixture(file: string, event: string, headers: Record<string, string> = {}): WebhookRequest {
  const req = fixtureRequest('ghcr', file, { 'content-type': 'application/json', 'x-github-event': event, ...headers });
  req.headers['x-hub-signature-256'] = sign(req.rawBody);
  return req;
}

function delivery(event: string, body: unknown, headers: Record<string, string> = {}): WebhookRequest {
  const rawBody = Buffer.from(JSON.stringify(body));
  return {
    headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-hub-signature-256': sign(rawBody), ...headers },
    rawBody,
    receivedAt: RECEIVED_AT,
  };
}

interface PackageObject {
  name?: string;
  package_type?: string | null;
  ecosystem?: string | null;
  owner?: { login: string };
  package_version: { container_metadata: { tag: { name: string; digest?: string }; manifest: { config?: { media_type?: string } } } };
}
/** The fixture with its package object changed (the examples have an empty tag and a 40-hex digest). */
function changedFixture(file: string, change: (pkg: PackageObject, body: Record<string, unknown>) => void): Record<string, unknown> {
  const body = fixtureJson('ghcr', file);
  change((body.package ?? body.registry_package) as PackageObject, body);
  return body;
}
const tagged = (file: string, tag = '1.0', digest = DIGEST) =>
  changedFixture(file, (pkg) => {
    pkg.package_version.container_metadata.tag = { name: tag, digest };
  });

const published = (tag: string, deliveryId: string, repository = 'codertocat/hello-world-npm'): ImageEvent => ({
  kind: 'image',
  source: 'ghcr',
  registry: 'ghcr.io',
  repository,
  tag,
  digest: DIGEST,
  occurredAt: RECEIVED_AT,
  deliveryId,
});

interface Row {
  name: string;
  request: () => WebhookRequest;
  events: ImageEvent[];
  ignored: string[];
  ping?: boolean;
}

const rows: Row[] = [
  {
    name: `${PACKAGE_FILE} (empty tag name: an untagged version)`,
    request: () => signedFixture(PACKAGE_FILE, 'package', { 'x-github-delivery': DELIVERY }),
    events: [],
    ignored: ['untagged version of ghcr.io/codertocat/hello-world-npm is not a tag push'],
  },
  {
    name: `${REGISTRY_PACKAGE_FILE} (empty tag name: an untagged version)`,
    request: () => signedFixture(REGISTRY_PACKAGE_FILE, 'registry_package'),
    events: [],
    ignored: ['untagged version of ghcr.io/codertocat/hello-world-npm is not a tag push'],
  },
  {
    name: `${PACKAGE_FILE} with a tag name: its digest is only 40 hex digits`,
    request: () => delivery('package', changedFixture(PACKAGE_FILE, (p) => (p.package_version.container_metadata.tag.name = '1.0'))),
    events: [],
    ignored: [
      'publish of ghcr.io/codertocat/hello-world-npm:1.0: container_metadata.tag.digest: invalid digest "sha256:6c62fb45fe66bfb1ea9a66abc38f6a0cc974292b" (expected sha256: and 64 hex digits)',
    ],
  },
  {
    name: `${REGISTRY_PACKAGE_FILE} with a tag name: its digest is only 40 hex digits`,
    request: () => delivery('registry_package', changedFixture(REGISTRY_PACKAGE_FILE, (p) => (p.package_version.container_metadata.tag.name = 'nightly'))),
    events: [],
    ignored: [
      'publish of ghcr.io/codertocat/hello-world-npm:nightly: container_metadata.tag.digest: invalid digest "sha256:6c62fb45fe66bfb1ea9a66abc38f6a0cc974292b" (expected sha256: and 64 hex digits)',
    ],
  },
  {
    name: `${PACKAGE_FILE} tagged with a full digest`,
    request: () => delivery('package', tagged(PACKAGE_FILE), { 'x-github-delivery': DELIVERY }),
    events: [published('1.0', DELIVERY)],
    ignored: [],
  },
  {
    name: `${REGISTRY_PACKAGE_FILE} tagged with a full digest`,
    request: () => delivery('registry_package', tagged(REGISTRY_PACKAGE_FILE, 'latest'), { 'x-github-delivery': DELIVERY }),
    events: [published('latest', DELIVERY)],
    ignored: [],
  },
  {
    name: 'without X-GitHub-Delivery the id is the hash of the body',
    request: () => delivery('package', tagged(PACKAGE_FILE)),
    events: [published('1.0', expect.stringMatching(/^[0-9a-f]{64}$/) as unknown as string)],
    ignored: [],
  },
  {
    name: 'a registry_package event whose object is under "package"',
    request: () => {
      const body = tagged(REGISTRY_PACKAGE_FILE);
      body.package = body.registry_package;
      delete body.registry_package;
      return delivery('registry_package', body, { 'x-github-delivery': DELIVERY });
    },
    events: [published('1.0', DELIVERY)],
    ignored: [],
  },
  {
    name: 'package_type CONTAINER (what GitHub sends today) and a mixed-case owner and name',
    request: () =>
      delivery(
        'package',
        changedFixture(PACKAGE_FILE, (p) => {
          p.package_type = 'CONTAINER';
          p.ecosystem = null;
          p.owner = { login: 'Octo-Org' };
          p.name = 'Base-Images/Node';
          p.package_version.container_metadata.tag = { name: '9-alpine', digest: DIGEST };
        }),
        { 'x-github-delivery': DELIVERY },
      ),
    events: [published('9-alpine', DELIVERY, 'octo-org/base-images/node')],
    ignored: [],
  },
  {
    name: 'an npm package',
    request: () =>
      delivery(
        'package',
        changedFixture(PACKAGE_FILE, (p) => {
          p.ecosystem = 'npm';
        }),
      ),
    events: [],
    ignored: ['package codertocat/hello-world-npm of type npm/npm is not a container image'],
  },
  {
    name: 'a Helm chart pushed to ghcr.io',
    request: () =>
      delivery(
        'package',
        changedFixture(PACKAGE_FILE, (p) => {
          p.package_version.container_metadata.tag = { name: '0.1.0', digest: DIGEST };
          p.package_version.container_metadata.manifest.config = { media_type: 'application/vnd.cncf.helm.config.v1+json' };
        }),
      ),
    events: [],
    ignored: ['chart push to ghcr.io/codertocat/hello-world-npm is not an image update'],
  },
  {
    name: 'a tag name that is not a tag',
    request: () => delivery('package', tagged(PACKAGE_FILE, '-1.0')),
    events: [],
    ignored: ['publish of ghcr.io/codertocat/hello-world-npm:-1.0: invalid tag "-1.0"'],
  },
  {
    name: 'a tagged version without a digest',
    request: () =>
      delivery(
        'package',
        changedFixture(PACKAGE_FILE, (p) => {
          p.package_version.container_metadata.tag = { name: '1.0' };
        }),
      ),
    events: [],
    ignored: ['publish of ghcr.io/codertocat/hello-world-npm:1.0: no container_metadata.tag.digest'],
  },
  {
    name: 'another action',
    request: () => delivery('package', changedFixture(PACKAGE_FILE, (_p, body) => (body.action = 'updated'))),
    events: [],
    ignored: ['package updated is not a publish'],
  },
  {
    name: 'the ping GitHub sends when the webhook is created (github/goplayground-ping.json)',
    request: () => fixtureRequest('github', 'goplayground-ping.json'),
    events: [],
    ignored: ['ping'],
    ping: true,
  },
  {
    name: 'a push event delivered to the ghcr webhook',
    request: () => fixtureRequest('github', 'goplayground-push-branch.json'),
    events: [],
    ignored: ['github event push is not a package event'],
  },
  {
    name: `${PACKAGE_FILE} tagged, form-encoded`,
    request: () => {
      const rawBody = Buffer.from(new URLSearchParams({ payload: JSON.stringify(tagged(PACKAGE_FILE)) }).toString());
      return {
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-github-event': 'package', 'x-github-delivery': DELIVERY, 'x-hub-signature-256': sign(rawBody) },
        rawBody,
        receivedAt: RECEIVED_AT,
      };
    },
    events: [published('1.0', DELIVERY)],
    ignored: [],
  },
];

describe('ghcr normalize', () => {
  it.each(rows)('$name', ({ request, events, ignored, ping }) => {
    const req = request();
    // Every row is a delivery that passes authentication first, as the receiver does it.
    ghcrProvider.authenticate(req, webhook.secrets);
    const result = ghcrProvider.normalize(req, webhook);
    expect(result.events).toEqual(events);
    expect(result.ignored.map((i) => i.reason)).toEqual(ignored);
    expect(result.ping ?? false).toBe(ping ?? false);
  });

  it.each<[string, () => WebhookRequest, RegExp]>([
    ['a missing X-GitHub-Event header', () => fixtureRequest('ghcr', PACKAGE_FILE), /missing X-GitHub-Event/],
    ['a body that is not JSON', () => ({ headers: { 'x-github-event': 'package' }, rawBody: Buffer.from('{'), receivedAt: RECEIVED_AT }), /github package payload is not valid JSON/],
    ['a body without action', () => delivery('package', { package: {} }), /github package payload is malformed: action: /],
    ['a publish without the package object', () => delivery('package', { action: 'published' }), /github package payload is malformed: package: .*expected object/],
    [
      'a package without owner',
      () => delivery('package', changedFixture(PACKAGE_FILE, (p) => delete p.owner)),
      /github package payload is malformed: package.owner: /,
    ],
    [
      'a registry_package without package_version',
      () => delivery('registry_package', changedFixture(REGISTRY_PACKAGE_FILE, (p) => delete (p as Partial<PackageObject>).package_version)),
      /github registry_package payload is malformed: registry_package.package_version: /,
    ],
    [
      'a form-encoded delivery without a payload field',
      () => ({ headers: { 'x-github-event': 'package', 'content-type': 'application/x-www-form-urlencoded' }, rawBody: Buffer.from('other=1'), receivedAt: RECEIVED_AT }),
      /no payload field/,
    ],
  ])('%s is a ValidationError', (_name, request, message) => {
    const run = () => ghcrProvider.normalize(request(), webhook);
    expect(run).toThrow(ValidationError);
    expect(run).toThrow(message);
  });
});

describe('ghcr authenticate (signature matrix)', () => {
  const signed = () => signedFixture(PACKAGE_FILE, 'package');
  const expectedHex = signed().headers['x-hub-signature-256']!.slice('sha256='.length);
  const withSignature = (signature: string | undefined): WebhookRequest => {
    const req = signed();
    req.headers['x-hub-signature-256'] = signature;
    return req;
  };

  it.each<[string, () => WebhookRequest, string[]]>([
    ['the signature over the fixture', signed, [SECRET]],
    ['the second secret during rotation', signed, ['the-new-secret', SECRET]],
    ['the first secret during rotation', signed, [SECRET, 'the-new-secret']],
    ['upper-case hex', () => withSignature(`sha256=${expectedHex.toUpperCase()}`), [SECRET]],
  ])('accepts %s', (_name, request, secrets) => {
    expect(() => ghcrProvider.authenticate(request(), secrets)).not.toThrow();
  });

  it.each<[string, () => WebhookRequest, string[], RegExp]>([
    ['a wrong secret', signed, ['not-the-secret'], /does not match/],
    [
      'a tampered body (a tag name filled in after signing)',
      () => {
        const req = signed();
        req.rawBody = Buffer.from(req.rawBody.toString('utf8').replace('"name": ""', '"name": "1.0"'));
        return req;
      },
      [SECRET],
      /does not match/,
    ],
    ['a missing header', () => withSignature(undefined), [SECRET], /missing X-Hub-Signature-256/],
    ['an empty header', () => withSignature(''), [SECRET], /missing X-Hub-Signature-256/],
    ['the sha1= prefix', () => withSignature(`sha1=${expectedHex}`), [SECRET], /must be "sha256="/],
    ['no prefix', () => withSignature(expectedHex), [SECRET], /must be "sha256="/],
    ['a signature one digit short', () => withSignature(`sha256=${expectedHex.slice(0, -1)}`), [SECRET], /must be "sha256="/],
    ['a signature one digit long', () => withSignature(`sha256=${expectedHex}0`), [SECRET], /must be "sha256="/],
    ['non-hex digits', () => withSignature(`sha256=${'z'.repeat(64)}`), [SECRET], /must be "sha256="/],
    ['a retired secret after rotation', signed, ['the-new-secret'], /does not match/],
    ['a webhook without secrets', signed, [], /no secret configured/],
  ])('rejects %s', (_name, request, secrets, message) => {
    const run = () => ghcrProvider.authenticate(request(), secrets);
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

  it('the tampering row really changes the body', () => {
    expect(signed().rawBody.toString('utf8')).toContain('"name": ""');
  });
});

describe('ghcr content types and setup', () => {
  it.each<[string | undefined, boolean]>([
    ['application/json', true],
    ['application/x-www-form-urlencoded', true],
    ['text/plain', false],
    [undefined, false],
  ])('%s → %s', (contentType, accepted) => {
    expect(acceptsContentType(ghcrProvider, contentType)).toBe(accepted);
  });

  it('names the URL, the secret, the content type and the Packages event', () => {
    const url = 'https://cascade.example.com/webhooks/ghcr';
    const text = ghcrProvider.setupInstructions({ url, secret: 'gh-secret-value', webhook });
    expect(text).toContain(`Payload URL:   ${url}`);
    expect(text).toContain('Secret:        gh-secret-value');
    expect(text).toContain('Content type:  application/json');
    expect(text).toMatch(/Packages/);
    expect(ghcrProvider.secretIn).toBe('header');
  });
});
