// The webhooks' delivery history in memory, held to the DynamoDB adapter's contract
// (test/support/webhook-delivery-log-contract.ts).
import type { Clock } from '../../lib/domain/ports';
import type { DeliveryOutcome, WebhookDeliveryLog, WebhookDeliveryRecord, WebhookDeliveryRef } from '../../lib/domain/webhook-delivery-log';

interface Kept {
  record?: Omit<WebhookDeliveryRecord, 'outcomes'>;
  outcomes: Record<string, DeliveryOutcome>;
  expiresAt: number;
}

export class MemoryWebhookDeliveryLog implements WebhookDeliveryLog {
  private readonly kept = new Map<string, Kept>();

  constructor(private readonly clock: Clock) {}

  async record(delivery: WebhookDeliveryRecord, ttlSeconds: number): Promise<void> {
    const { outcomes: _outcomes, ...record } = structuredClone(delivery);
    const kept = this.at(delivery, ttlSeconds);
    kept.record = record;
    kept.expiresAt = this.nowSeconds() + Math.ceil(ttlSeconds);
  }

  async recordOutcome(ref: WebhookDeliveryRef, eventDeliveryId: string, outcome: DeliveryOutcome, ttlSeconds: number): Promise<void> {
    this.at(ref, ttlSeconds).outcomes[eventDeliveryId] = structuredClone(outcome);
  }

  async recent(webhook: string, top: number): Promise<WebhookDeliveryRecord[]> {
    const now = this.nowSeconds();
    return [...this.kept.entries()]
      .filter(([key, kept]) => key.startsWith(`${webhook}\u0000`) && kept.expiresAt > now)
      .sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0))
      .slice(0, top)
      .map(([key, kept]) => {
        const [, receivedAt = '', id = ''] = key.split('\u0000');
        return structuredClone({ webhook, receivedAt, id, events: [], ignored: [], ...kept.record, outcomes: kept.outcomes });
      });
  }

  private at(ref: WebhookDeliveryRef, ttlSeconds: number): Kept {
    const key = `${ref.webhook}\u0000${ref.receivedAt}\u0000${ref.id}`;
    let kept = this.kept.get(key);
    if (!kept) {
      kept = { outcomes: {}, expiresAt: this.nowSeconds() + Math.ceil(ttlSeconds) };
      this.kept.set(key, kept);
    }
    return kept;
  }

  private nowSeconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }
}
