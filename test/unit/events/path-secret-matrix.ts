// The authentication matrix for providers whose senders can neither sign nor set a header, so the
// secret travels as the last URL segment (Docker Hub, Quay, Pub/Sub push for GAR).
import { UnauthorizedError } from '../../../lib/domain/errors';
import type { WebhookProvider, WebhookRequest } from '../../../lib/domain/webhook-provider';
import { rememberSecrets } from '../../support/secrets';

const SECRET = 'hub-Secret-0123456789';
const OLD = 'old-secret-abcdef';
const NEW = 'new-secret-fedcba';
rememberSecrets(SECRET, OLD, NEW);

export function describePathSecretMatrix(provider: WebhookProvider, request: () => WebhookRequest): void {
  describe(`${provider.name} authenticate (secret in the URL path)`, () => {
    const withPath = (pathSecret: string | undefined, headers: Record<string, string> = {}): WebhookRequest => {
      const req = request();
      return { ...req, headers: { ...req.headers, ...headers }, ...(pathSecret !== undefined ? { pathSecret } : {}) };
    };

    it('takes its secret in the path', () => {
      expect(provider.secretIn).toBe('path');
    });

    it.each<[string, string, string[]]>([
      ['the secret', SECRET, [SECRET]],
      ['the new secret during rotation', NEW, [OLD, NEW]],
      ['the old secret during rotation', OLD, [OLD, NEW]],
    ])('accepts %s', (_name, pathSecret, secrets) => {
      expect(() => provider.authenticate(withPath(pathSecret), secrets)).not.toThrow();
    });

    it('does not bind the body: the same path secret authenticates any body (the sender cannot sign)', () => {
      const req = withPath(SECRET);
      req.rawBody = Buffer.concat([req.rawBody, Buffer.from(' ')]);
      expect(() => provider.authenticate(req, [SECRET])).not.toThrow();
    });

    it.each<[string, () => WebhookRequest, string[], RegExp]>([
      ['a wrong secret', () => withPath('not-the-secret'), [SECRET], /does not match/],
      ['a missing path secret', () => withPath(undefined), [SECRET], /takes its secret in the URL/],
      ['an empty path secret', () => withPath(''), [SECRET], /takes its secret in the URL/],
      ['a secret one character short', () => withPath(SECRET.slice(0, -1)), [SECRET], /does not match/],
      ['a secret one character long', () => withPath(`${SECRET}x`), [SECRET], /does not match/],
      ['the secret in another case', () => withPath(SECRET.toUpperCase()), [SECRET], /does not match/],
      ['the secret sent as a Bearer token instead of in the path', () => withPath(undefined, { authorization: `Bearer ${SECRET}` }), [SECRET], /takes its secret in the URL/],
      ['the secret with a scheme prefix in the path', () => withPath(`Bearer ${SECRET}`), [SECRET], /does not match/],
      ['a retired secret after rotation', () => withPath(OLD), [NEW], /does not match/],
      ['a webhook without secrets', () => withPath(SECRET), [], /no secret configured/],
      ['a webhook whose only secret is empty', () => withPath('x'), [''], /no secret configured/],
    ])('rejects %s', (_name, req, secrets, message) => {
      const run = () => provider.authenticate(req(), secrets);
      expect(run).toThrow(UnauthorizedError);
      expect(run).toThrow(message);
      try {
        run();
      } catch (err) {
        for (const secret of [SECRET, OLD, NEW]) expect((err as Error).message).not.toContain(secret);
      }
    });
  });
}
