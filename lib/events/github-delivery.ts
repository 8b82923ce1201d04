// What every GitHub webhook delivery shares, for the `github` (push) and `ghcr` (package)
// providers, which receive deliveries from the same GitHub webhook machinery:
//
//   X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed with the webhook secret>
//   Content-Type: application/json, or application/x-www-form-urlencoded with the JSON in `payload`
import { UnauthorizedError, ValidationError } from '../domain/errors';
import { mediaType } from '../domain/webhook-provider';
import type { WebhookRequest } from '../domain/webhook-provider';
import { anySecret, hmacSha256Hex, safeEqual } from './verify';

const SIGNATURE = /^sha256=([0-9a-fA-F]{64})$/;

/** Throws UnauthorizedError unless X-Hub-Signature-256 is the HMAC of the raw body with one of `secrets`. */
export function verifyGithubSignature(req: WebhookRequest, secrets: readonly string[]): void {
  const header = req.headers['x-hub-signature-256'];
  if (header === undefined || header === '') throw new UnauthorizedError('missing X-Hub-Signature-256 header');
  const match = SIGNATURE.exec(header.trim());
  if (!match) throw new UnauthorizedError('X-Hub-Signature-256 must be "sha256=" followed by 64 hex digits');
  const given = match[1]!.toLowerCase();
  if (!anySecret(secrets, (secret) => safeEqual(given, hmacSha256Hex(secret, req.rawBody)))) {
    throw new UnauthorizedError('X-Hub-Signature-256 does not match the body');
  }
}

/** The JSON text of the delivery, wherever the content type put it. */
export function githubPayloadText(req: WebhookRequest, provider: string): Buffer | string {
  if (mediaType(req.headers['content-type']) !== 'application/x-www-form-urlencoded') return req.rawBody;
  const payload = new URLSearchParams(req.rawBody.toString('utf8')).get('payload');
  if (payload === null) throw new ValidationError(`${provider} form-encoded delivery has no payload field`, 'payload');
  return payload;
}
