// The token matrix shared by the providers whose sender sets `Authorization: Bearer <secret>`
// (ecr through an API destination connection, acr custom headers, harbor's auth header).
import { UnauthorizedError } from '../../../lib/domain/errors';
import type { WebhookProvider, WebhookRequest } from '../../../lib/domain/webhook-provider';
import { rememberSecrets } from '../../support/secrets';

const SECRET = 's3cret-token-0123';
rememberSecrets(SECRET);

export function describeBearerAuthentication(provider: WebhookProvider, body: Buffer, contentType: string): void {
  const request = (authorization: string | undefined, rawBody: Buffer = body): WebhookRequest => ({
    headers: { 'content-type': contentType, ...(authorization !== undefined && { authorization }) },
    rawBody,
    receivedAt: '2026-11-28T05:00:00.000Z',
  });

  describe(`${provider.name} authenticate`, () => {
    it.each<[string, string, string[]]>([
      ['the secret as a bearer token', `Bearer ${SECRET}`, [SECRET]],
      ['a lower-case scheme', `bearer ${SECRET}`, [SECRET]],
      ['surrounding blanks', `  Bearer   ${SECRET}  `, [SECRET]],
      ['the new secret during rotation', 'Bearer new-secret', ['old-secret', 'new-secret']],
      ['the old secret during rotation', 'Bearer old-secret', ['old-secret', 'new-secret']],
    ])('accepts %s', (_name, authorization, secrets) => {
      expect(() => provider.authenticate(request(authorization), secrets)).not.toThrow();
    });

    it('accepts a changed body with the right token: the token does not cover the body', () => {
      const tampered = Buffer.concat([body, Buffer.from(' ')]);
      expect(() => provider.authenticate(request(`Bearer ${SECRET}`, tampered), [SECRET])).not.toThrow();
    });

    it.each<[string, string | undefined, string[], RegExp]>([
      ['a wrong secret', 'Bearer wrong-token-0123456', [SECRET], /does not match/],
      ['a token one character short', `Bearer ${SECRET.slice(0, -1)}`, [SECRET], /does not match/],
      ['a token one character long', `Bearer ${SECRET}4`, [SECRET], /does not match/],
      ['a token in another case', `Bearer ${SECRET.toUpperCase()}`, [SECRET], /does not match/],
      ['a missing header', undefined, [SECRET], /missing Authorization header/],
      ['an empty header', '', [SECRET], /missing Authorization header/],
      ['the Basic scheme', `Basic ${Buffer.from(`user:${SECRET}`).toString('base64')}`, [SECRET], /Bearer scheme/],
      ['the Token scheme', `Token ${SECRET}`, [SECRET], /Bearer scheme/],
      ['the bare secret without a scheme', SECRET, [SECRET], /Bearer scheme/],
      ['a scheme run into the token', `Bearer${SECRET}`, [SECRET], /Bearer scheme/],
      ['an empty token', 'Bearer ', [SECRET], /Bearer token is empty/],
      ['a retired secret after rotation', 'Bearer old-secret', ['new-secret'], /does not match/],
      ['a webhook without secrets', 'Bearer anything', [], /no secret configured/],
      ['a webhook whose only secret is empty', 'Bearer x', [''], /no secret configured/],
    ])('rejects %s', (_name, authorization, secrets, message) => {
      const run = () => provider.authenticate(request(authorization), secrets);
      expect(run).toThrow(UnauthorizedError);
      expect(run).toThrow(message);
      const error = (() => {
        try {
          run();
        } catch (err) {
          return err as Error;
        }
        throw new Error('authenticate did not throw');
      })();
      // Neither the configured secrets nor what the sender presented may be echoed.
      for (const sensitive of [...secrets.filter((s) => s !== ''), SECRET, 'wrong-token-0123456', 'anything']) {
        expect(error.message).not.toContain(sensitive);
      }
    });
  });
}

/** Assertions on setupInstructions common to the bearer providers. */
export function expectBearerSetup(text: string, url: string, secret: string): void {
  expect(text).toContain(url);
  expect(text).toContain(`Bearer ${secret}`);
}
