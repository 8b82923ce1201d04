// The contract every webhook source implements (lib/events/ has one file a provider, and the map
// that finds them): the domain receives deliveries through it and knows no provider itself.
import type { InboundEvent, Webhook } from './types';

export interface WebhookRequest {
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  /** The body exactly as received: signatures are computed over these bytes. */
  rawBody: Buffer;
  receivedAt: string;
  /** The secret from the URL (`/webhooks/{name}/{secret}`), for senders that cannot sign or set headers. */
  pathSecret?: string;
}

export interface NormalizeResult {
  events: InboundEvent[];
  /** One entry per notification that was understood but is not a trigger, saying why. */
  ignored: Array<{ reason: string }>;
  /** The sender is checking the endpoint (GitHub `ping`, Bitbucket diagnostics): answered 200. */
  ping?: boolean;
}

export interface WebhookProvider {
  name: string;
  kind: 'registry' | 'git';
  /** Accepted media types, lower case, without parameters; anything else is a 415. */
  contentTypes: string[];
  /**
   * Constant-time check on the raw bytes, before any JSON parsing. Accepts any of `secrets`
   * (rotation). Throws UnauthorizedError.
   */
  authenticate(req: WebhookRequest, secrets: string[]): void;
  /** Parses and normalizes. Throws ValidationError (400) for malformed bodies, naming the reason. */
  normalize(req: WebhookRequest, webhook: Webhook): NormalizeResult;
  /**
   * Where the secret travels: in a header or signature (`header`), or in the URL path (`path`)
   * for senders that can do neither. Decides the URL `webhook create` prints.
   */
  secretIn: 'header' | 'path';
  /** What to paste into the provider's settings: `url` already carries the secret when secretIn is `path`. */
  setupInstructions(input: { url: string; secret: string; webhook: Webhook }): string;
}

/** Finds a provider by the name a webhook is created with; ValidationError naming the known ones when none has it. */
export type WebhookProviders = (name: string) => WebhookProvider;

/** `Application/JSON; charset=utf-8` → `application/json`; undefined when the header is absent or blank. */
export function mediaType(contentType: string | undefined): string | undefined {
  const type = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  return type ? type : undefined;
}

export function acceptsContentType(provider: WebhookProvider, contentType: string | undefined): boolean {
  const type = mediaType(contentType);
  return type !== undefined && provider.contentTypes.includes(type);
}
