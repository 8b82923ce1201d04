// In-memory ports for tests where storage is not what is under test (the fuzzer sends
// thousands of requests; DynamoDB behaviour is tested against DynamoDB Local elsewhere).
import type { CascadePorts } from '../../lib/domain/cascade';
import { ConflictError, NotFoundError } from '../../lib/domain/errors';
import type { DeliveryStore, QueueMessage, WebhookStore } from '../../lib/domain/ports';
import type { Webhook } from '../../lib/domain/types';
import { getProvider } from '../../lib/events';

export class MemoryWebhookStore implements WebhookStore {
  private readonly items = new Map<string, Webhook>();
  async create(webhook: Webhook) {
    if (this.items.has(webhook.name)) throw new ConflictError(`webhook "${webhook.name}" already exists`);
    this.items.set(webhook.name, structuredClone(webhook));
  }
  async get(name: string) {
    const found = this.items.get(name);
    return found && structuredClone(found);
  }
  async list() {
    return [...this.items.values()].map((w) => structuredClone(w));
  }
  async setSecrets(name: string, secrets: string[]) {
    const found = this.items.get(name);
    if (!found) throw new NotFoundError('webhook', name);
    found.secrets = [...secrets];
  }
  async delete(name: string) {
    this.items.delete(name);
  }
}

export class MemoryDeliveryStore implements DeliveryStore {
  readonly seen = new Set<string>();
  async markSeen(key: string) {
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }
  async forget(key: string) {
    this.seen.delete(key);
  }
}

const unused = (what: string) =>
  new Proxy({}, { get: (_t, prop) => (prop === 'then' ? undefined : () => Promise.reject(new Error(`${what}.${String(prop)} is not used by this test`))) });

/** Webhook store, delivery store and a recording queue are real in memory; the rest refuses use. */
export function memoryCascadePorts(): CascadePorts & { webhooks: MemoryWebhookStore; deliveries: MemoryDeliveryStore; sent: QueueMessage[] } {
  const sent: QueueMessage[] = [];
  return {
    sent,
    webhooks: new MemoryWebhookStore(),
    deliveries: new MemoryDeliveryStore(),
    queue: { send: async (message) => void sent.push(message) },
    clock: { now: () => new Date('2026-11-28T05:00:00.000Z') },
    publicUrl: 'http://127.0.0.1:3000',
    webhookProviders: getProvider,
    tasks: unused('tasks') as CascadePorts['tasks'],
    runs: unused('runs') as CascadePorts['runs'],
    dependencies: unused('dependencies') as CascadePorts['dependencies'],
    imageState: unused('imageState') as CascadePorts['imageState'],
    secrets: unused('secrets') as CascadePorts['secrets'],
    logs: unused('logs') as CascadePorts['logs'],
    builder: unused('builder') as CascadePorts['builder'],
    digests: unused('digests') as CascadePorts['digests'],
    slots: unused('slots') as CascadePorts['slots'],
    deferrals: unused('deferrals') as CascadePorts['deferrals'],
    timerStates: unused('timerStates') as CascadePorts['timerStates'],
    pollStates: unused('pollStates') as CascadePorts['pollStates'],
  };
}
