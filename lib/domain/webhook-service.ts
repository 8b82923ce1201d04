// Webhooks: records with a provider and secrets, and the receiver that turns a delivery into
// queued events, answering fast.
import { randomBytes } from 'node:crypto';
import { acceptsContentType, getProvider, type WebhookRequest } from '../events';
import { ConflictError, NotFoundError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors';
import type { Clock, DeliveryStore, Queue, WebhookStore } from './ports';
import type { Webhook } from './types';

export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;
/** Deliveries are remembered this long: providers redeliver for hours, not weeks. */
const DELIVERY_TTL_SECONDS = 3 * 24 * 3600;

export interface WebhookServiceDeps {
  webhooks: WebhookStore;
  deliveries: DeliveryStore;
  queue: Queue;
  clock: Clock;
  /** Base URL the providers post to, e.g. `http://127.0.0.1:3000`. */
  publicUrl: string;
}

export interface WebhookView {
  name: string;
  provider: string;
  loginServer?: string;
  url: string;
  createdAt: string;
}

export interface ReceiveResult {
  accepted: number;
  ignored: Array<{ reason: string }>;
}

export class WebhookService {
  constructor(private readonly deps: WebhookServiceDeps) {}

  async create(input: { name: string; provider: string; loginServer?: string }): Promise<WebhookView & { secret: string }> {
    getProvider(input.provider);
    if (await this.deps.webhooks.get(input.name)) throw new ConflictError(`webhook "${input.name}" already exists`);
    const secret = randomBytes(32).toString('base64url');
    const webhook: Webhook = {
      name: input.name,
      provider: input.provider,
      secrets: [secret],
      createdAt: this.deps.clock.now().toISOString(),
      ...(input.loginServer !== undefined && { loginServer: input.loginServer }),
    };
    await this.deps.webhooks.create(webhook);
    return { ...this.view(webhook), secret };
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
  }

  /**
   * Checks size and content type, authenticates on the raw bytes, normalizes, drops deliveries
   * already seen, and queues the events. The builds happen later, in the dispatcher.
   */
  async receive(name: string, request: WebhookRequest): Promise<ReceiveResult> {
    if (request.rawBody.length > MAX_WEBHOOK_BODY_BYTES) {
      throw new PayloadTooLargeError(`webhook bodies are limited to ${MAX_WEBHOOK_BODY_BYTES} bytes; this one has ${request.rawBody.length}`);
    }
    const webhook = await this.require(name);
    const provider = getProvider(webhook.provider);
    if (!acceptsContentType(provider, request.headers['content-type'])) {
      throw new UnsupportedMediaTypeError(
        `content type "${request.headers['content-type'] ?? ''}" is not accepted by ${provider.name} webhooks; send one of: ${provider.contentTypes.join(', ')}`,
      );
    }
    provider.authenticate(request, webhook.secrets);
    const { events, ignored } = provider.normalize(request, webhook);
    let accepted = 0;
    for (const event of events) {
      const key = `${webhook.name}#${event.deliveryId}`;
      if (!(await this.deps.deliveries.markSeen(key, DELIVERY_TTL_SECONDS))) {
        ignored.push({ reason: `delivery ${event.deliveryId} was already received` });
        continue;
      }
      try {
        await this.deps.queue.send({ type: 'event', event });
      } catch (error) {
        await this.deps.deliveries.forget(key);
        throw error;
      }
      accepted += 1;
    }
    return { accepted, ignored };
  }

  private async require(name: string): Promise<Webhook> {
    const webhook = await this.deps.webhooks.get(name);
    if (!webhook) throw new NotFoundError('webhook', name);
    return webhook;
  }

  private view(webhook: Webhook): WebhookView {
    return {
      name: webhook.name,
      provider: webhook.provider,
      url: `${this.deps.publicUrl.replace(/\/$/, '')}/webhooks/${encodeURIComponent(webhook.name)}`,
      createdAt: webhook.createdAt,
      ...(webhook.loginServer !== undefined && { loginServer: webhook.loginServer }),
    };
  }
}
