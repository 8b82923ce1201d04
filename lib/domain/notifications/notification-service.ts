// Notifications: people add them (a receiver's URL, the events, a format), runs and deleted bases
// set them off. Nothing a receiver does reaches a run: a transition only queues a `notify` message
// (and a failure to queue it is logged, not thrown); the queue's handler makes the deliveries, and
// each attempt is a message of its own, the next one queued with the schedule's delay. So locally
// the in-process queue, and on AWS SQS (DelaySeconds; a handler that throws is received again,
// then dead-lettered), run the same code.
import { randomBytes } from 'node:crypto';
import { settleEach, throwFirstFailure } from '../concurrency';
import { ConflictError, NotFoundError, RetryableError } from '../errors';
import type { Clock, DependencyStore, NotificationSender, NotificationStore, Queue, SecretStore, TaskStore } from '../ports';
import type { ImageDeleteEvent, Run } from '../types';
import { newSecret } from '../webhook-service';
import { deliveryBody, type Message } from './message';
import {
  checkNotificationEvents,
  checkNotificationUrl,
  compactTime,
  concerns,
  deliveryIdOf,
  deliveryViewOf,
  subjectOfDeletion,
  subjectOfRun,
  TEST_EVENT,
  viewOf,
  type AddedNotificationView,
  type AddNotificationInput,
  type DeliveryAttempt,
  type DeliveryStatus,
  type DeliveryView,
  type Notification,
  type NotificationDelivery,
  type NotificationSubject,
  type NotificationView,
} from './notification';
import { DEFAULT_RETRY, nextAttemptDelay, verdictOf, type RetrySchedule, type SendOutcome } from './retry';
import { deliveryHeaders } from './signature';

export interface NotificationServiceDeps {
  notifications: NotificationStore;
  tasks: Pick<TaskStore, 'get'>;
  dependencies: Pick<DependencyStore, 'listDependents'>;
  sender: NotificationSender;
  /** Where each notification's signing secret is kept. */
  secrets: SecretStore;
  /** Where `notify` and `notify-attempt` messages go. */
  queue: Queue;
  clock: Clock;
  retry?: RetrySchedule;
  /** Told of what goes wrong where nothing is thrown: a notification that could not be queued, a delivery given up. */
  warn?: (message: string) => void;
  /**
   * How long the list of notifications read for a run's transition is reused (default 5 s, as
   * webhooks): without one that could concern it, a transition queues nothing. Changes made
   * through this service apply at once; made elsewhere (another Lambda), within this time.
   */
  cacheMs?: number;
}

/** A delivery's state after an attempt. */
type DeliveryState = { status: DeliveryStatus; nextAttemptAt?: string; detail?: string };

const CACHE_MS = 5_000;
const DAY_MS = 24 * 3600 * 1000;
/** Deliveries are kept this long, with their attempts. */
export const DELIVERY_RETENTION_DAYS = 30;
/** How many of each notification's newest deliveries a restart looks at for pending ones. */
const RESUME_LOOKBACK = 100;
/** How many notifications' deliveries of one subject are written at once. */
const FAN_OUT_CONCURRENCY = 8;

export class NotificationService {
  private cached?: { notifications: Notification[]; until: number };

  constructor(private readonly deps: NotificationServiceDeps) {}

  private get retry(): RetrySchedule {
    return this.deps.retry ?? DEFAULT_RETRY;
  }

  async add(input: AddNotificationInput): Promise<AddedNotificationView> {
    const url = checkNotificationUrl(input.url);
    const events = checkNotificationEvents(input.events);
    if (input.task !== undefined && !(await this.deps.tasks.get(input.task))) throw new NotFoundError('task', input.task);
    if (await this.deps.notifications.get(input.name)) throw new ConflictError(`notification "${input.name}" already exists`);
    const createdAt = this.now().toISOString();
    const secret = newSecret();
    // A name of its own per notification made: a second add of the name, refused, replaces no secret in use.
    const secretRef = await this.deps.secrets.put(`notification/${input.name}/${compactTime(createdAt)}-${randomBytes(4).toString('hex')}`, secret);
    const notification: Notification = {
      name: input.name,
      url,
      events,
      format: input.format,
      ...(input.task !== undefined && { task: input.task }),
      secretRef,
      createdAt,
    };
    try {
      await this.deps.notifications.create(notification);
    } catch (error) {
      await this.deps.secrets.delete(secretRef);
      throw error;
    }
    this.cached = undefined;
    return { ...viewOf(notification), secret };
  }

  async list(): Promise<NotificationView[]> {
    return (await this.deps.notifications.list()).map(viewOf);
  }

  async remove(name: string): Promise<void> {
    const notification = await this.require(name);
    await this.deps.notifications.delete(name);
    this.cached = undefined;
    await this.deps.secrets.delete(notification.secretRef);
  }

  /** The notification's deliveries, newest first. */
  async deliveries(name: string, top: number): Promise<DeliveryView[]> {
    await this.require(name);
    return (await this.deps.notifications.listDeliveries(name, top)).map(deliveryViewOf);
  }

  /** One delivery of a test message, now, tried once (the caller sees the outcome at once); recorded with the others. */
  async test(name: string): Promise<DeliveryView> {
    const notification = await this.require(name);
    const now = this.now();
    const id = `${compactTime(now.toISOString())}-${randomBytes(8).toString('hex')}`;
    const delivery = this.newDelivery(notification, id, TEST_EVENT, { test: true }, now);
    await this.deps.notifications.createDelivery(delivery);
    return deliveryViewOf(await this.attemptNow(notification, delivery, 1, { retry: false }));
  }

  // ------------------------------------------------------------------------------------------
  // What sets notifications off. These never throw: a run's lifecycle goes on whatever happens here.

  /** A run moved to a status a notification may ask for: queues a `notify` message if one might. */
  async runChanged(run: Run): Promise<void> {
    const subject = subjectOfRun(run, this.now().toISOString());
    if (subject) await this.announce(subject, `${run.id} ${run.status}`);
  }

  /** A base tag some task is built from was deleted. */
  async baseDeleted(event: ImageDeleteEvent): Promise<void> {
    await this.announce(subjectOfDeletion(event, this.now().toISOString()), `the deletion of ${event.registry}/${event.repository}:${event.tag}`);
  }

  private async announce(subject: NotificationSubject, what: string): Promise<void> {
    try {
      if (!(await this.mayConcern(subject))) return;
      await this.deps.queue.send({ type: 'notify', subject });
    } catch (error) {
      // Lost, not retried: the run is recorded as it is; neither the reconciler nor a sweep looks for it.
      this.deps.warn?.(`the notifications of ${what} could not be queued, and are not sent: ${messageOf(error)}`);
    }
  }

  /** Whether some notification may want the subject: read at most once per cache period, every run needs it. */
  private async mayConcern(subject: NotificationSubject): Promise<boolean> {
    const now = this.now().getTime();
    if (!this.cached || this.cached.until <= now) {
      try {
        this.cached = { notifications: await this.deps.notifications.list(), until: now + (this.deps.cacheMs ?? CACHE_MS) };
      } catch {
        // Unknown: the queued handler reads the list again, and decides.
        return true;
      }
    }
    // The task filter of a deleted base needs its dependents: the queued handler reads them.
    return this.cached.notifications.some((n) => concerns(subject.event === 'base.deleted' ? { events: n.events } : n, subject));
  }

  // ------------------------------------------------------------------------------------------
  // The queue's side. A failure here is thrown: the queue receives the message again.

  /** A `notify` message: one delivery per notification the subject concerns, each queued for its first attempt. */
  async fanOut(subject: NotificationSubject): Promise<void> {
    const [notifications, dependents] = await Promise.all([
      this.deps.notifications.list(),
      subject.event === 'base.deleted' ? this.deps.dependencies.listDependents(subject.base.registry, subject.base.repository, subject.base.tag) : Promise.resolve([]),
    ]);
    const tasks = [...new Set(dependents.map((d) => d.taskName))].sort();
    const concerned = notifications.filter((n) => concerns(n, subject, tasks));
    const now = this.now();
    const done = await settleEach(concerned, FAN_OUT_CONCURRENCY, async (notification) => {
      // A notification of one task hears of that task alone.
      const told = notification.task === undefined ? tasks : [notification.task];
      const delivery = this.newDelivery(notification, deliveryIdOf(notification, subject), subject.event, { subject, tasks: told }, now);
      // Written once, whatever the queue delivers again; its first attempt queued until it is made.
      const current = (await this.deps.notifications.createDelivery(delivery)) ? delivery : await this.deps.notifications.getDelivery(notification.name, delivery.id);
      if (current?.status === 'pending' && current.attempts.length === 0) {
        await this.deps.queue.send({ type: 'notify-attempt', notification: notification.name, deliveryId: delivery.id, attempt: 1 });
      }
    });
    throwFirstFailure(done);
  }

  /**
   * A `notify-attempt` message: attempt `number` of the delivery. When the receiver may answer
   * later, the next attempt is queued, with the schedule's delay, before this one is recorded: a
   * failure in between has the queue receive this message again, and a receiver may then get the
   * delivery twice (the same X-Cascade-Delivery), never none. An attempt already recorded is not
   * made again.
   */
  async attempt(name: string, deliveryId: string, number: number): Promise<void> {
    const delivery = await this.deps.notifications.getDelivery(name, deliveryId);
    if (!delivery || delivery.status !== 'pending' || delivery.attempts.length >= number) return;
    if (delivery.attempts.length < number - 1) {
      // Queued before the attempt before it was recorded, and received first: the queue tries it again.
      throw new RetryableError(`attempt ${number} of notification delivery ${deliveryId} came before attempt ${number - 1} was recorded`);
    }
    const notification = await this.deps.notifications.get(name);
    if (!notification) return;
    await this.attemptNow(notification, delivery, number, {
      retry: true,
      beforeRecording: async (after) => {
        if (after.status !== 'pending' || after.nextAttemptAt === undefined) return;
        const delayMs = Math.max(0, Date.parse(after.nextAttemptAt) - this.now().getTime());
        await this.deps.queue.send({ type: 'notify-attempt', notification: name, deliveryId, attempt: number + 1 }, { delayMs });
      },
    });
  }

  /** POSTs the delivery once and records the attempt; answers the delivery as it is after it. */
  private async attemptNow(
    notification: Notification,
    delivery: NotificationDelivery,
    number: number,
    options: { retry: boolean; beforeRecording?: (after: DeliveryState) => Promise<void> },
  ): Promise<NotificationDelivery> {
    const secret = notification.format === 'json' ? await this.deps.secrets.get(notification.secretRef) : '';
    const started = this.now();
    if (secret === undefined) {
      // Nothing a later attempt could change: the delivery fails, saying what to do.
      const attempt: DeliveryAttempt = { number, at: started.toISOString(), durationMs: 0, error: 'not sent: the signing secret is missing' };
      return this.record(notification, delivery, attempt, { status: 'failed', detail: `the signing secret of notification ${notification.name} is missing: remove the notification and add it again` });
    }
    let outcome: SendOutcome;
    try {
      outcome = await this.deps.sender.post({ url: notification.url, headers: deliveryHeaders(notification, secret, delivery), body: delivery.body, timeoutMs: this.retry.attemptTimeoutMs });
    } catch (error) {
      // The port answers what the receiver did; anything thrown is still this attempt's failure.
      outcome = { error: messageOf(error) };
    }
    const ended = this.now();
    const attempt: DeliveryAttempt = {
      number,
      at: started.toISOString(),
      durationMs: Math.max(0, ended.getTime() - started.getTime()),
      ...('refused' in outcome ? { error: `not sent: ${outcome.refused}` } : 'error' in outcome ? { error: outcome.error } : { httpStatus: outcome.status }),
    };
    const after = this.stateAfter(delivery, attempt, outcome, options.retry, ended);
    await options.beforeRecording?.(after);
    return this.record(notification, delivery, attempt, after);
  }

  /** The attempt recorded, once: the delivery as it is after it (another's record, when it was first). */
  private async record(notification: Notification, delivery: NotificationDelivery, attempt: DeliveryAttempt, after: DeliveryState): Promise<NotificationDelivery> {
    const recorded = await this.deps.notifications.recordAttempt(notification.name, delivery.id, attempt, after);
    if (!recorded) return (await this.deps.notifications.getDelivery(notification.name, delivery.id)) ?? delivery;
    if (after.status === 'failed' && delivery.event !== TEST_EVENT) {
      this.deps.warn?.(`notification ${notification.name}: delivery ${delivery.id} (${delivery.event}${delivery.runId ? ` of ${delivery.runId}` : ''}) failed: ${after.detail ?? ''}`);
    }
    return { ...delivery, attempts: [...delivery.attempts, attempt], ...after };
  }

  /**
   * After a restart of the local stack, whose queue keeps nothing: the next attempt of each
   * pending delivery (among each notification's newest), queued again at its time. On AWS SQS
   * keeps the messages, and this is not needed. Answers how many were queued.
   */
  async resumePending(): Promise<number> {
    let resumed = 0;
    const now = this.now().getTime();
    for (const notification of await this.deps.notifications.list()) {
      for (const delivery of await this.deps.notifications.listDeliveries(notification.name, RESUME_LOOKBACK)) {
        if (delivery.status !== 'pending') continue;
        const delayMs = delivery.nextAttemptAt === undefined ? 0 : Math.max(0, Date.parse(delivery.nextAttemptAt) - now);
        await this.deps.queue.send({ type: 'notify-attempt', notification: notification.name, deliveryId: delivery.id, attempt: delivery.attempts.length + 1 }, { delayMs });
        resumed += 1;
      }
    }
    return resumed;
  }

  private stateAfter(delivery: NotificationDelivery, attempt: DeliveryAttempt, outcome: SendOutcome, retry: boolean, now: Date): DeliveryState {
    const judged = verdictOf(outcome);
    const attempts = attempt.number;
    if (judged.verdict === 'delivered') return { status: 'delivered', detail: `delivered on attempt ${attempts}` };
    if (judged.verdict === 'failed') return { status: 'failed', detail: judged.reason };
    if (!retry) return { status: 'failed', detail: `${judged.reason}; a test is tried once` };
    const first = Date.parse(delivery.attempts[0]?.at ?? attempt.at);
    const delay = nextAttemptDelay(this.retry, attempts, now.getTime() - first, 'status' in outcome ? outcome.retryAfterMs : undefined);
    if (delay === undefined) return { status: 'failed', detail: `${judged.reason}; given up after ${attempts} attempt(s) in ${Math.round((now.getTime() - first) / 1000)} s` };
    return { status: 'pending', nextAttemptAt: new Date(now.getTime() + delay).toISOString(), detail: `${judged.reason}; tried again` };
  }

  private newDelivery(notification: Notification, id: string, event: NotificationDelivery['event'], message: Message, now: Date): NotificationDelivery {
    const subject = 'subject' in message ? message.subject : undefined;
    const isRun = subject !== undefined && subject.event !== 'base.deleted';
    return {
      id,
      notification: notification.name,
      event,
      ...(isRun && { runId: subject.run.id }),
      ...(isRun && subject.task !== undefined && { task: subject.task }),
      status: 'pending',
      createdAt: now.toISOString(),
      attempts: [],
      body: deliveryBody(notification.format, message, notification, id),
      keepUntil: new Date(now.getTime() + DELIVERY_RETENTION_DAYS * DAY_MS).toISOString(),
    };
  }

  private async require(name: string): Promise<Notification> {
    const notification = await this.deps.notifications.get(name);
    if (!notification) throw new NotFoundError('notification', name);
    return notification;
  }

  private now(): Date {
    return this.deps.clock.now();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
