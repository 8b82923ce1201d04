// The local stand-in for SQS with a dead-letter queue: at-least-once delivery, a bounded number
// of receives per message with backoff between them, then the dead-letter list with the reason.
import type { Queue, QueueMessage, SendOptions } from '../domain/ports';

export interface DeadLetter {
  message: QueueMessage;
  receives: number;
  reason: string;
}

export interface InProcessQueueOptions {
  handler: (message: QueueMessage) => Promise<void>;
  /** Receives before a message goes to the dead-letter list (SQS maxReceiveCount). */
  maxReceiveCount?: number;
  /** Delay before the n-th retry is `retryDelayMs * n`. */
  retryDelayMs?: number;
  concurrency?: number;
  onError?: (message: QueueMessage, error: unknown, receives: number) => void;
}

interface Envelope {
  message: QueueMessage;
  receives: number;
}

export class InProcessQueue implements Queue {
  readonly deadLetters: DeadLetter[] = [];
  private readonly pending: Envelope[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private active = 0;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: InProcessQueueOptions) {}

  async send(message: QueueMessage, options: SendOptions = {}): Promise<void> {
    if (this.stopped) throw new Error('the queue has been stopped');
    // A copy, as SQS would serialise it: the receiver must not share objects with the sender.
    const envelope = { message: structuredClone(message), receives: 0 };
    if (options.delayMs !== undefined && options.delayMs > 0) {
      // As SQS's DelaySeconds: the message is held back, and counts as waiting for idle().
      this.later(options.delayMs, envelope);
      return;
    }
    this.pending.push(envelope);
    this.pump();
  }

  private later(delayMs: number, envelope: Envelope): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.pending.push(envelope);
      this.pump();
    }, delayMs);
    this.timers.add(timer);
  }

  /** Resolves when nothing is pending, waiting for a retry, or being processed. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking messages, lets running handlers finish, drops scheduled retries. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.pending.length = 0;
    if (this.active > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  isIdle(): boolean {
    return this.pending.length === 0 && this.active === 0 && this.timers.size === 0;
  }

  private pump(): void {
    const concurrency = this.options.concurrency ?? 4;
    while (!this.stopped && this.active < concurrency && this.pending.length > 0) {
      const envelope = this.pending.shift() as Envelope;
      this.active += 1;
      void this.deliver(envelope).finally(() => {
        this.active -= 1;
        this.pump();
        this.notifyIdle();
      });
    }
    this.notifyIdle();
  }

  private async deliver(envelope: Envelope): Promise<void> {
    envelope.receives += 1;
    try {
      await this.options.handler(envelope.message);
    } catch (error) {
      this.options.onError?.(envelope.message, error, envelope.receives);
      if (envelope.receives >= (this.options.maxReceiveCount ?? 3)) {
        this.deadLetters.push({ ...envelope, reason: error instanceof Error ? error.message : String(error) });
        return;
      }
      if (this.stopped) return;
      this.later((this.options.retryDelayMs ?? 250) * envelope.receives, envelope);
    }
  }

  private notifyIdle(): void {
    if (!this.isIdle() && !(this.stopped && this.active === 0)) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
