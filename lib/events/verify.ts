// Shared pieces of webhook authentication. Every comparison of a secret-derived value is
// constant-time, and no error message carries a secret or an expected value.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '../domain/errors';

/**
 * Constant-time equality. Both sides are hashed first so that inputs of different lengths
 * neither throw in timingSafeEqual nor reveal the expected length through timing.
 */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export function hmacSha256Hex(secret: string, body: Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** The secrets worth comparing against: an empty secret would let an empty credential in. */
export function usableSecrets(secrets: readonly string[]): string[] {
  const usable = secrets.filter((s) => s.length > 0);
  if (usable.length === 0) throw new UnauthorizedError('the webhook has no secret configured');
  return usable;
}

/**
 * True when `matches` holds for at least one secret. Every secret is tried, even after a match,
 * so the time taken does not say which secret (old or new) was used.
 */
export function anySecret(secrets: readonly string[], matches: (secret: string) => boolean): boolean {
  let found = false;
  for (const secret of usableSecrets(secrets)) {
    if (matches(secret)) found = true;
  }
  return found;
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 7235). */
export function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === '') {
    throw new UnauthorizedError('missing Authorization header');
  }
  const [, scheme = '', token = ''] = /^\s*(\S+)\s*(.*?)\s*$/.exec(authorization) ?? [];
  if (scheme.toLowerCase() !== 'bearer') {
    throw new UnauthorizedError('the Authorization header must use the Bearer scheme');
  }
  if (token === '') throw new UnauthorizedError('the Bearer token is empty');
  return token;
}

/** For senders that carry the secret in the URL path: the path segment must match a secret. */
export function authenticatePathSecret(pathSecret: string | undefined, secrets: readonly string[]): void {
  if (pathSecret === undefined || pathSecret === '') {
    throw new UnauthorizedError('this webhook takes its secret in the URL: post to /webhooks/<name>/<secret>');
  }
  if (!anySecret(secrets, (secret) => safeEqual(pathSecret, secret))) {
    throw new UnauthorizedError('the secret in the URL does not match the webhook secret');
  }
}

/** For senders that let the user set `Authorization: Bearer <secret>` (distribution, ECR API destinations, ACR, Harbor). */
export function authenticateBearer(req: { headers: Record<string, string | undefined> }, secrets: readonly string[]): void {
  const token = bearerToken(req.headers['authorization']);
  if (!anySecret(secrets, (secret) => safeEqual(token, secret))) {
    throw new UnauthorizedError('the bearer token does not match the webhook secret');
  }
}
