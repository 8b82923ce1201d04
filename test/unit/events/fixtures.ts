import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WebhookRequest } from '../../../lib/domain/webhook-provider';

const ROOT = join(__dirname, '..', '..', 'fixtures', 'webhooks');

export const RECEIVED_AT = '2026-11-28T05:00:00.000Z';

/** A fixture as a receiver would hand it over: exact bytes, header names lower-cased. */
export function fixtureRequest(provider: string, file: string, extraHeaders: Record<string, string> = {}): WebhookRequest {
  const rawBody = readFileSync(join(ROOT, provider, file));
  const headersFile = join(ROOT, provider, file.replace(/\.json$/, '.headers.json'));
  const saved: Record<string, string> = existsSync(headersFile) ? JSON.parse(readFileSync(headersFile, 'utf8')) : {};
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...saved, ...extraHeaders })) headers[name.toLowerCase()] = value;
  return { headers, rawBody, receivedAt: RECEIVED_AT };
}

export function fixtureJson(provider: string, file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(ROOT, provider, file), 'utf8'));
}

export function jsonRequest(body: unknown, headers: Record<string, string> = {}): WebhookRequest {
  return { headers, rawBody: Buffer.from(JSON.stringify(body)), receivedAt: RECEIVED_AT };
}
