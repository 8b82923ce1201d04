// Notifications: what cascade tells a receiver when a run starts or ends, or a base a task is built
// from is deleted. The vocabulary, and which notifications an event concerns (pure).
import { createHash } from 'node:crypto';
import { becauseOf } from '../explain';
import { branchOf } from '../decisions';
import { ValidationError } from '../errors';
import type { ImageDeleteEvent, OutputImage, Run, RunCause, RunStatus, Trigger } from '../types';

export const NOTIFICATION_EVENTS = ['run.started', 'run.succeeded', 'run.failed', 'base.deleted'] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];
export type RunNotificationEvent = Exclude<NotificationEvent, 'base.deleted'>;
export const DEFAULT_NOTIFICATION_EVENTS: readonly NotificationEvent[] = ['run.succeeded', 'run.failed'];

/** `json`: the event as a signed JSON body. `slack`: `{"text": "<one line>"}` for an incoming webhook. */
export const NOTIFICATION_FORMATS = ['json', 'slack'] as const;
export type NotificationFormat = (typeof NOTIFICATION_FORMATS)[number];

/** What `cascade notification test` sends: no event of a run or a base. */
export const TEST_EVENT = 'test';
export type DeliveryEvent = NotificationEvent | typeof TEST_EVENT;

export interface Notification {
  name: string;
  /** Where deliveries are POSTed: http or https, no credentials in it. */
  url: string;
  events: NotificationEvent[];
  format: NotificationFormat;
  /** Only this task's runs (and its bases) concern it. */
  task?: string;
  /**
   * Where the key of the JSON deliveries' HMAC is kept (SecretStore): the secret itself is shown
   * once, when the notification is added, and is never in a record.
   */
  secretRef: string;
  createdAt: string;
}

export interface AddNotificationInput {
  name: string;
  url: string;
  /** Default DEFAULT_NOTIFICATION_EVENTS. */
  events?: string[];
  format: NotificationFormat;
  task?: string;
}

/** A notification as cascade shows it: never its secret, nor what in its URL may be a credential. */
export interface NotificationView {
  name: string;
  url: string;
  events: NotificationEvent[];
  format: NotificationFormat;
  task?: string;
  createdAt: string;
}

/** The answer to `add`: the one time the secret is shown. */
export interface AddedNotificationView extends NotificationView {
  secret: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryAttempt {
  /** From 1. */
  number: number;
  at: string;
  durationMs: number;
  /** The receiver's answer, when it answered. */
  httpStatus?: number;
  /** Why no answer came (timeout, connection refused, …). */
  error?: string;
}

/** One message to one notification's receiver, tried until delivered or given up. */
export interface NotificationDelivery {
  /** Unique, the same on every attempt (X-Cascade-Delivery); sorts by creation time. */
  id: string;
  notification: string;
  event: DeliveryEvent;
  runId?: string;
  task?: string;
  status: DeliveryStatus;
  createdAt: string;
  attempts: DeliveryAttempt[];
  /** When a pending delivery's next attempt is due. */
  nextAttemptAt?: string;
  /** Why it ended as it did, once it has (one sentence). */
  detail?: string;
  /** The exact bytes every attempt sends (and signs). */
  body: string;
  /** The record is removed after this time. */
  keepUntil: string;
}

/** A delivery as cascade shows it: its body stays inside. */
export type DeliveryView = Omit<NotificationDelivery, 'body' | 'keepUntil'>;

/** What a notification body says of a run. */
export interface RunSummary {
  id: string;
  status: RunStatus;
  trigger: Trigger;
  /** Why a run did not succeed, in one sentence. */
  statusDetail?: string;
  platform: string;
  outputImages: OutputImage[];
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
}

/** Why the run was started: `text` in words (as `cascade why` says it), and the facts. */
export type CauseSummary =
  | { kind: 'image-update'; text: string; base: string; oldDigest?: string; newDigest: string; source: string; deliveryId: string; pushedByRun?: string }
  | { kind: 'git-commit'; text: string; repo: string; branch?: string; ref: string; commit: string; source: string; deliveryId: string }
  | { kind: 'timer'; text: string; timer: string; occurrence: string; missed?: number }
  | { kind: 'manual'; text: string; requestedBy?: string };

/** What the queue carries from a run's transition or a deletion to the notifications it concerns. */
export type NotificationSubject =
  | { event: RunNotificationEvent; at: string; task?: string; run: RunSummary; cause: CauseSummary }
  | {
      event: 'base.deleted';
      at: string;
      base: { ref: string; registry: string; repository: string; tag: string; digest?: string };
      /** Who reported it, with its delivery id and time. */
      source: string;
      deliveryId: string;
      occurredAt: string;
    };

/**
 * The event a run's status is, for its notifications. Failed, Timeout and Error are all
 * `run.failed` (the build did not give its images); Canceled is none: a person asked for it, or a
 * newer change took the run's place and builds instead (superseded).
 */
export function runEventOf(status: RunStatus): RunNotificationEvent | undefined {
  switch (status) {
    case 'Running':
      return 'run.started';
    case 'Succeeded':
      return 'run.succeeded';
    case 'Failed':
    case 'Timeout':
    case 'Error':
      return 'run.failed';
    case 'Queued':
    case 'Canceled':
      return undefined;
  }
}

export function subjectOfRun(run: Run, at: string): NotificationSubject | undefined {
  const event = runEventOf(run.status);
  if (!event) return undefined;
  return {
    event,
    at,
    ...(run.taskName !== undefined && { task: run.taskName }),
    run: {
      id: run.id,
      status: run.status,
      trigger: run.trigger,
      ...(run.error !== undefined && { statusDetail: run.error }),
      platform: run.platform,
      outputImages: run.outputImages,
      createdAt: run.createdAt,
      ...(run.startedAt !== undefined && { startedAt: run.startedAt }),
      ...(run.finishedAt !== undefined && { finishedAt: run.finishedAt }),
      ...(run.durationMs !== undefined && { durationMs: run.durationMs }),
    },
    cause: causeOf(run.cause, run.branch),
  };
}

function causeOf(cause: RunCause, branch: string | undefined): CauseSummary {
  const text = becauseOf(cause);
  switch (cause.kind) {
    case 'image-update':
      return {
        kind: cause.kind,
        text,
        base: cause.base,
        ...(cause.oldDigest !== undefined && { oldDigest: cause.oldDigest }),
        newDigest: cause.newDigest,
        source: cause.source,
        deliveryId: cause.deliveryId,
        ...(cause.pushedByRun !== undefined && { pushedByRun: cause.pushedByRun }),
      };
    case 'git-commit': {
      const onBranch = branchOf(cause.ref) ?? branch;
      return { kind: cause.kind, text, repo: cause.repoUrl, ...(onBranch !== undefined && { branch: onBranch }), ref: cause.ref, commit: cause.commit, source: cause.source, deliveryId: cause.deliveryId };
    }
    case 'timer':
      return { kind: cause.kind, text, timer: cause.timerName, occurrence: cause.occurrence, ...(cause.missed !== undefined && { missed: cause.missed }) };
    case 'manual':
      return { kind: cause.kind, text, ...(cause.requestedBy !== undefined && { requestedBy: cause.requestedBy }) };
  }
}

export function subjectOfDeletion(event: ImageDeleteEvent, at: string): NotificationSubject {
  return {
    event: 'base.deleted',
    at,
    base: {
      ref: `${event.registry}/${event.repository}:${event.tag}`,
      registry: event.registry,
      repository: event.repository,
      tag: event.tag,
      ...(event.digest !== undefined && { digest: event.digest }),
    },
    source: event.source,
    deliveryId: event.deliveryId,
    occurredAt: event.occurredAt,
  };
}

/**
 * Does `subject` concern `notification`? Its event must be one the notification asks for, and a
 * notification of one task hears only of that task's runs and of the bases that task is built from
 * (`dependents`: the tasks built from a deleted base).
 */
export function concerns(notification: Pick<Notification, 'events' | 'task'>, subject: NotificationSubject, dependents: readonly string[] = []): boolean {
  if (!notification.events.includes(subject.event)) return false;
  if (notification.task === undefined) return true;
  return subject.event === 'base.deleted' ? dependents.includes(notification.task) : subject.task === notification.task;
}

/**
 * A delivery's id: the subject's time (so ids sort by it) and a digest of the notification and the
 * subject, so that the queue delivering a subject again makes no second delivery.
 */
export function deliveryIdOf(notification: Pick<Notification, 'name' | 'createdAt'>, subject: NotificationSubject): string {
  const about = subject.event === 'base.deleted' ? `${subject.base.ref}#${subject.deliveryId}` : subject.run.id;
  const digest = createHash('sha256').update(`${notification.name}\n${notification.createdAt}\n${subject.event}\n${about}`).digest('hex');
  return `${compactTime(subject.at)}-${digest.slice(0, 16)}`;
}

/** `2026-12-01T23:10:10.123Z` → `20261201T231010123Z`: sorts as the time does. */
export function compactTime(iso: string): string {
  return new Date(iso).toISOString().replace(/[-:.]/g, '');
}

const MAX_URL_LENGTH = 2000;

/** A receiver's URL as cascade accepts it: http or https, nothing of a login in it. */
export function checkNotificationUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ValidationError(`url: "${text.slice(0, 100)}" is not a URL; give one such as https://hooks.example.com/cascade`, 'url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ValidationError(`url: cascade posts to http or https URLs, not "${url.protocol}"`, 'url');
  if (url.username !== '' || url.password !== '') {
    // The URL is shown and stored; a password in it would be too. The body's signature proves the sender.
    throw new ValidationError('url: must not carry a user or password (user:password@); check X-Cascade-Signature-256 on the receiver instead', 'url');
  }
  if (text.length > MAX_URL_LENGTH) throw new ValidationError(`url: at most ${MAX_URL_LENGTH} characters`, 'url');
  return url.toString();
}

/** The events asked for, each known, each once; DEFAULT_NOTIFICATION_EVENTS when none are named. */
export function checkNotificationEvents(events: readonly string[] | undefined): NotificationEvent[] {
  if (events === undefined) return [...DEFAULT_NOTIFICATION_EVENTS];
  if (events.length === 0) throw new ValidationError(`events: name at least one of ${NOTIFICATION_EVENTS.join(', ')}`, 'events');
  const out: NotificationEvent[] = [];
  for (const event of events) {
    if (!(NOTIFICATION_EVENTS as readonly string[]).includes(event)) {
      throw new ValidationError(`events: unknown event "${event.slice(0, 50)}"; the events are ${NOTIFICATION_EVENTS.join(', ')}`, 'events');
    }
    if (!out.includes(event as NotificationEvent)) out.push(event as NotificationEvent);
  }
  return out;
}

/**
 * The URL as shown: a query string is left out (it may hold a token), and a Slack incoming
 * webhook's path is its credential, so only its first segment is shown.
 */
export function shownUrl(notification: Pick<Notification, 'url' | 'format'>): string {
  const url = new URL(notification.url);
  const path = notification.format === 'slack' ? url.pathname.replace(/^(\/[^/]*)\/.+$/, '$1/***') : url.pathname;
  return `${url.origin}${path}${url.search ? '?***' : ''}`;
}

export function viewOf(notification: Notification): NotificationView {
  return {
    name: notification.name,
    url: shownUrl(notification),
    events: notification.events,
    format: notification.format,
    ...(notification.task !== undefined && { task: notification.task }),
    createdAt: notification.createdAt,
  };
}

export function deliveryViewOf(delivery: NotificationDelivery): DeliveryView {
  const { body: _body, keepUntil: _keepUntil, ...view } = delivery;
  return view;
}
