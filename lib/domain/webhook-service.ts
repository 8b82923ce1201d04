// Webhooks: records with a provider and secrets, and the receiver that turns a delivery into
// queued events, answering fast.
import { randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError, PayloadTooLargeError, UnauthorizedError, UnsupportedMediaTypeError } from './errors';
import type { Clock, DeliveryStore, Queue, WebhookStore } from './ports';
import { DELIVERY_TTL_SECONDS, EventIntake } from './event-intake';
import type { Webhook } from './types';
import { acceptsContentType, type WebhookProviders, type WebhookRequest } from './webhook-provider';
import { eventSubject, type WebhookDeliveryLog, type WebhookDeliveryRecord, type WebhookDeliveryView } from './webhook-delivery-log';

/** A new secret of 32 random bytes (webhooks, notifications). */
export function newSecret(): string {
  // URL-safe, so that it can also travel in a URL path.
  return randomBytes(32).toString('base64url');
}

export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;

export interface WebhookServiceDeps {
  webhooks: WebhookStore;
  deliveries: DeliveryStore;
  queue: Queue;
  clock: Clock;
  /** Base URL the providers post to, e.g. `http://127.0.0.1:3000`. */
  publicUrl: string;
  /** The webhook sources, by provider name (lib/events on every stack). */
  webhookProviders: WebhookProviders;
  /**
   * How long a webhook read for a delivery is reused for the next ones (default 5 s). Changes
   * made through this service apply at once; made elsewhere (another Lambda), within this time.
   */
  webhookCacheMs?: number;
  /** Where each webhook's recent deliveries are recorded (the console shows them); none are when absent. */
  webhookDeliveries?: WebhookDeliveryLog;
  /** Told of a delivery whose record could not be written: the delivery itself is not failed for it. */
  warn?: (message: string) => void;
}

/** The most deliveries of a webhook one request lists. */
export const MAX_LISTED_DELIVERIES = 100;

const WEBHOOK_CACHE_MS = 5000;

export interface WebhookView {
  name: string;
  provider: string;
  loginServer?: string;
  /** Where the provider posts. For providers that carry the secret in the URL, this form hides it. */
  url: string;
  /** How many secrets are accepted: 2 while a rotation is under way. */
  secrets: number;
  createdAt: string;
}

/** What `create` and `rotate-secret` answer: the only times a secret is shown. */
export interface WebhookSecretView extends WebhookView {
  secret: string;
  /** The URL with the secret in it, for providers that cannot sign or set headers. */
  url: string;
  instructions: string;
}

export interface ReceiveResult {
  accepted: number;
  ignored: Array<{ reason: string }>;
  /** A sender's connectivity check: answered 200 rather than 202. */
  ping?: boolean;
}

export class WebhookService {
  private readonly intake: EventIntake;
  private readonly cache = new Map<string, { webhook: Webhook; until: number }>();

  constructor(private readonly deps: WebhookServiceDeps) {
    this.intake = new EventIntake(deps);
  }

  async create(input: { name: string; provider: string; loginServer?: string }): Promise<WebhookSecretView> {
    this.deps.webhookProviders(input.provider);
    if (await this.deps.webhooks.get(input.name)) throw new ConflictError(`webhook "${input.name}" already exists`);
    const webhook: Webhook = {
      name: input.name,
      provider: input.provider,
      secrets: [newSecret()],
      createdAt: this.deps.clock.now().toISOString(),
      ...(input.loginServer !== undefined && { loginServer: input.loginServer }),
    };
    await this.deps.webhooks.create(webhook);
    return this.secretView(webhook);
  }

  /**
   * Adds a new secret next to the current one; both are accepted until `completeRotation`.
   * Rotating again during a rotation replaces the pending new secret.
   */
  async rotateSecret(name: string): Promise<WebhookSecretView> {
    const webhook = await this.require(name);
    const current = webhook.secrets[0] as string;
    const next = { ...webhook, secrets: [current, newSecret()] };
    await this.deps.webhooks.setSecrets(name, next.secrets);
    this.cache.delete(name);
    return this.secretView(next);
  }

  /** Ends a rotation: only the newest secret is accepted from now on. */
  async completeRotation(name: string): Promise<WebhookView> {
    const webhook = await this.require(name);
    if (webhook.secrets.length < 2) throw new ConflictError(`webhook "${name}" has no rotation under way; start one with rotate-secret`);
    const next = { ...webhook, secrets: [webhook.secrets[webhook.secrets.length - 1] as string] };
    await this.deps.webhooks.setSecrets(name, next.secrets);
    this.cache.delete(name);
    return this.view(next);
  }

  async get(name: string): Promise<WebhookView> {
    return this.view(await this.require(name));
  }

  async list(): Promise<WebhookView[]> {
    return (await this.deps.webhooks.list()).map((w) => this.view(w));
  }

  async delete(name: string): Promise<void> {
    await this.require(name);
    await this.deps.webhooks.delete(name);
    this.cache.delete(name);
  }

  /**
   * Checks size and content type, authenticates on the raw bytes, normalizes, drops deliveries
   * already seen, and queues the events. The builds happen later, in the dispatcher.
   */
  async receive(name: string, request: WebhookRequest): Promise<ReceiveResult> {
    if (request.rawBody.length > MAX_WEBHOOK_BODY_BYTES) {
      throw new PayloadTooLargeError(`webhook bodies are limited to ${MAX_WEBHOOK_BODY_BYTES} bytes; this one has ${request.rawBody.length}`);
    }
    const webhook = await this.forDelivery(name);
    const provider = this.deps.webhookProviders(webhook.provider);
    if (!acceptsContentType(provider, request.headers['content-type'])) {
      throw new UnsupportedMediaTypeError(
        `content type "${request.headers['content-type'] ?? ''}" is not accepted by ${provider.name} webhooks; send one of: ${provider.contentTypes.join(', ')}`,
      );
    }
    if (provider.secretIn === 'header' && request.pathSecret !== undefined) {
      throw new UnauthorizedError(`${provider.name} webhooks authenticate with a header, not a secret in the URL: post to /webhooks/${webhook.name}`);
    }
    provider.authenticate(request, webhook.secrets);
    const normalized = provider.normalize(request, webhook);
    if (normalized.ping) return { accepted: 0, ignored: normalized.ignored, ping: true };
    const log = this.deps.webhookDeliveries;
    if (!log) return this.intake.accept(webhook.name, normalized);
    const via = { webhook: webhook.name, receivedAt: request.receivedAt, id: randomBytes(4).toString('hex') };
    const { result, queued } = await this.intake.acceptNoting(webhook.name, normalized, via);
    const record: WebhookDeliveryRecord = {
      ...via,
      events: queued.map((event) => ({ deliveryId: event.deliveryId, kind: event.kind, subject: eventSubject(event) })),
      ignored: result.ignored.map((i) => i.reason),
      outcomes: {},
    };
    // The events are queued already: a history that could not be written loses a line, not a build.
    await log.record(record, DELIVERY_TTL_SECONDS).catch((error: unknown) => this.deps.warn?.(`the delivery to webhook "${webhook.name}" was not recorded in its history: ${error instanceof Error ? error.message : String(error)}`));
    return result;
  }

  /** The webhook's last deliveries, newest first: what each carried, ignored, and started. */
  async deliveries(name: string, top: number): Promise<WebhookDeliveryView[]> {
    await this.require(name);
    return this.deps.webhookDeliveries ? this.deps.webhookDeliveries.recent(name, Math.min(top, MAX_LISTED_DELIVERIES)) : [];
  }

  /** The webhook a delivery is for, read at most once per cache period: every delivery needs it. */
  private async forDelivery(name: string): Promise<Webhook> {
    const now = this.deps.clock.now().getTime();
    const cached = this.cache.get(name);
    if (cached && cached.until > now) return cached.webhook;
    const webhook = await this.require(name);
    this.cache.set(name, { webhook, until: now + (this.deps.webhookCacheMs ?? WEBHOOK_CACHE_MS) });
    return webhook;
  }

  private async require(name: string): Promise<Webhook> {
    const webhook = await this.deps.webhooks.get(name);
    if (!webhook) throw new NotFoundError('webhook', name);
    return webhook;
  }

  private view(webhook: Webhook): WebhookView {
    const base = `${this.deps.publicUrl.replace(/\/$/, '')}/webhooks/${encodeURIComponent(webhook.name)}`;
    return {
      name: webhook.name,
      provider: webhook.provider,
      url: this.deps.webhookProviders(webhook.provider).secretIn === 'path' ? `${base}/<secret>` : base,
      secrets: webhook.secrets.length,
      createdAt: webhook.createdAt,
      ...(webhook.loginServer !== undefined && { loginServer: webhook.loginServer }),
    };
  }

  /** The newest secret, with the URL and the instructions that use it. */
  private secretView(webhook: Webhook): WebhookSecretView {
    const provider = this.deps.webhookProviders(webhook.provider);
    const secret = webhook.secrets[webhook.secrets.length - 1] as string;
    const base = `${this.deps.publicUrl.replace(/\/$/, '')}/webhooks/${encodeURIComponent(webhook.name)}`;
    const url = provider.secretIn === 'path' ? `${base}/${secret}` : base;
    return { ...this.view(webhook), url, secret, instructions: provider.setupInstructions({ url, secret, webhook }) };
  }
}
