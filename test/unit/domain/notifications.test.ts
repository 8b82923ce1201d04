// The pure parts of notifications: which events a run's status and a deletion are, which
// notifications they concern, what a delivery says (JSON and Slack), its id and signature, the
// retry schedule, and what is refused when a notification is added.
import { ValidationError } from '../../../lib/domain/errors';
import { deliveryBody, escapeSlack, summaryLine } from '../../../lib/domain/notifications/message';
import {
  checkNotificationEvents,
  checkNotificationUrl,
  concerns,
  deliveryIdOf,
  runEventOf,
  shownUrl,
  subjectOfDeletion,
  subjectOfRun,
  type NotificationEvent,
  type NotificationSubject,
} from '../../../lib/domain/notifications/notification';
import { DEFAULT_RETRY, nextAttemptDelay, plannedAttempts, verdictOf, type SendOutcome } from '../../../lib/domain/notifications/retry';
import { deliveryHeaders, signatureOf } from '../../../lib/domain/notifications/signature';
import { RUN_STATUSES, type Run, type RunCause, type RunStatus } from '../../../lib/domain/types';

const OLD = `sha256:${'a'.repeat(64)}`;
const NEW = `sha256:${'b'.repeat(64)}`;
const AT = '2026-12-01T23:10:10.123Z';

function run(overrides: Partial<Run> = {}): Run {
  return {
    id: 'da4',
    sequence: 4,
    taskName: 'app',
    platform: 'linux/amd64',
    status: 'Succeeded',
    trigger: 'Image Update',
    cause: { kind: 'image-update', base: '127.0.0.1:5000/baseimages/node:9-alpine', oldDigest: OLD, newDigest: NEW, source: 'distribution', deliveryId: 'reg-1' },
    spec: { registry: '127.0.0.1:5001', images: ['app:da4'], context: { kind: 'local', path: '/srv/app' }, dockerfile: 'Dockerfile', buildArgs: {}, platform: 'linux/amd64', credentials: [] },
    createdAt: '2026-12-01T23:10:00.000Z',
    startedAt: '2026-12-01T23:10:01.000Z',
    finishedAt: '2026-12-01T23:10:09.000Z',
    durationMs: 8000,
    outputImages: [{ reference: '127.0.0.1:5001/app:da4', digest: `sha256:${'c'.repeat(64)}` }],
    baseImages: [],
    ...overrides,
  };
}

const subject = (overrides: Partial<Run> = {}) => subjectOfRun(run(overrides), AT) as NotificationSubject;
const deletion = subjectOfDeletion({ kind: 'image-delete', source: 'distribution', registry: '127.0.0.1:5000', repository: 'baseimages/node', tag: '9-alpine', occurredAt: '2026-12-01T23:00:00.000Z', deliveryId: 'del-1' }, AT);
const NOTIFICATION = { name: 'ops', createdAt: '2026-12-01T00:00:00.000Z' };

describe('the event of a run', () => {
  const EVENTS: Array<[RunStatus, NotificationEvent | undefined]> = [
    ['Queued', undefined],
    ['Running', 'run.started'],
    ['Succeeded', 'run.succeeded'],
    ['Failed', 'run.failed'],
    ['Timeout', 'run.failed'],
    ['Error', 'run.failed'],
    // Asked for by a person, or superseded by a newer change that builds instead: not a failure.
    ['Canceled', undefined],
  ];
  it.each(EVENTS)('%s is %s', (status, event) => {
    expect(runEventOf(status)).toBe(event);
  });

  it('names every status a run can have', () => {
    expect(EVENTS.map(([status]) => status).sort()).toEqual([...RUN_STATUSES].sort());
  });
});

describe('which notifications a subject concerns', () => {
  const every: NotificationEvent[] = ['run.started', 'run.succeeded', 'run.failed', 'base.deleted'];
  it.each<[string, { events: NotificationEvent[]; task?: string }, NotificationSubject, string[], boolean]>([
    ['the default events hear of a success', { events: ['run.succeeded', 'run.failed'] }, subject(), [], true],
    ['the default events hear of a failure', { events: ['run.succeeded', 'run.failed'] }, subject({ status: 'Failed' }), [], true],
    ['the default events do not hear of a start', { events: ['run.succeeded', 'run.failed'] }, subject({ status: 'Running' }), [], false],
    ['a notification of the task hears of its runs', { events: every, task: 'app' }, subject(), [], true],
    ["a notification of another task does not hear of this task's runs", { events: every, task: 'web' }, subject(), [], false],
    ['a notification of one task hears of no quick build', { events: every, task: 'app' }, subject({ taskName: undefined }), [], false],
    ['any notification of the event hears of a quick build', { events: every }, subject({ taskName: undefined }), [], true],
    ['a deleted base its task is built from', { events: every, task: 'app' }, deletion, ['app', 'web'], true],
    ['a deleted base other tasks are built from', { events: every, task: 'api' }, deletion, ['app', 'web'], false],
    ['a deleted base, for a notification of every task', { events: ['base.deleted'] }, deletion, ['app'], true],
    ['a deleted base, for a notification without the event', { events: ['run.succeeded', 'run.failed'] }, deletion, ['app'], false],
  ])('%s: %s', (_what, notification, s, dependents, expected) => {
    expect(concerns(notification, s, dependents)).toBe(expected);
  });
});

describe('a delivery id', () => {
  it('is the same for the same notification and subject (a redelivered message makes no second delivery)', () => {
    expect(deliveryIdOf(NOTIFICATION, subject())).toBe(deliveryIdOf(NOTIFICATION, subject()));
    expect(deliveryIdOf(NOTIFICATION, subject())).toMatch(/^20261201T231010123Z-[0-9a-f]{16}$/);
  });

  it.each([
    ['another notification', deliveryIdOf({ ...NOTIFICATION, name: 'dev' }, subject())],
    ['the notification added again under its name', deliveryIdOf({ ...NOTIFICATION, createdAt: '2026-12-02T00:00:00.000Z' }, subject())],
    ['another event of the run', deliveryIdOf(NOTIFICATION, subject({ status: 'Running' }))],
    ['another run', deliveryIdOf(NOTIFICATION, subject({ id: 'da5' }))],
    ['a deletion', deliveryIdOf(NOTIFICATION, deletion)],
  ])('differs for %s', (_what, other) => {
    expect(other).not.toBe(deliveryIdOf(NOTIFICATION, subject()));
  });

  it('sorts by the time of its subject', () => {
    const later = { ...subject(), at: '2026-12-01T23:10:11.000Z' } as NotificationSubject;
    const ids = [deliveryIdOf(NOTIFICATION, later), deliveryIdOf(NOTIFICATION, subject())];
    expect([...ids].sort()).toEqual([ids[1], ids[0]]);
  });
});

describe('what a delivery says', () => {
  const body = (s: NotificationSubject, tasks: string[] = []) => JSON.parse(deliveryBody('json', { subject: s, tasks }, NOTIFICATION, 'd-1')) as Record<string, unknown>;

  it('a run of an Image Update: the run, its images, and which base moved from which digest to which', () => {
    expect(body(subject())).toEqual({
      event: 'run.succeeded',
      deliveryId: 'd-1',
      notification: 'ops',
      text: `app da4 Succeeded, because 127.0.0.1:5000/baseimages/node:9-alpine changed from sha256:${'a'.repeat(12)}… to sha256:${'b'.repeat(12)}…`,
      task: 'app',
      run: {
        id: 'da4',
        status: 'Succeeded',
        trigger: 'Image Update',
        platform: 'linux/amd64',
        outputImages: [{ reference: '127.0.0.1:5001/app:da4', digest: `sha256:${'c'.repeat(64)}` }],
        createdAt: '2026-12-01T23:10:00.000Z',
        startedAt: '2026-12-01T23:10:01.000Z',
        finishedAt: '2026-12-01T23:10:09.000Z',
        durationMs: 8000,
      },
      cause: {
        kind: 'image-update',
        text: `127.0.0.1:5000/baseimages/node:9-alpine changed from ${OLD} to ${NEW}`,
        base: '127.0.0.1:5000/baseimages/node:9-alpine',
        oldDigest: OLD,
        newDigest: NEW,
        source: 'distribution',
        deliveryId: 'reg-1',
      },
    });
  });

  it.each<[string, RunCause, Partial<Run>, Record<string, unknown>]>([
    [
      'a commit: the repository, branch and commit',
      { kind: 'git-commit', repoUrl: 'https://github.com/example/app.git', ref: 'refs/heads/main', commit: 'f'.repeat(40), source: 'github', deliveryId: 'gh-1' },
      { trigger: 'Git Commit' },
      { kind: 'git-commit', repo: 'https://github.com/example/app.git', branch: 'main', ref: 'refs/heads/main', commit: 'f'.repeat(40), source: 'github', deliveryId: 'gh-1' },
    ],
    ['a manual run', { kind: 'manual' }, { trigger: 'Manual' }, { kind: 'manual', text: 'it was run by hand' }],
    [
      'a timer',
      { kind: 'timer', timerName: 'nightly', occurrence: '2026-12-01T03:00:00.000Z', missed: 2 },
      { trigger: 'Timer' },
      { kind: 'timer', timer: 'nightly', occurrence: '2026-12-01T03:00:00.000Z', missed: 2 },
    ],
  ])('%s', (_what, cause, overrides, expected) => {
    const said = body(subject({ cause, ...overrides })) as { cause: Record<string, unknown> };
    expect(said.cause).toMatchObject(expected);
    expect(said.cause.text).toEqual(expect.any(String));
  });

  it('a failed run says why, and a quick build is named so', () => {
    expect(summaryLine({ subject: subject({ status: 'Failed', error: 'the build failed: exit 1', taskName: undefined, cause: { kind: 'manual' } }), tasks: [] }, NOTIFICATION)).toBe(
      'quick build da4 Failed (the build failed: exit 1), because it was run by hand',
    );
    expect(body(subject({ status: 'Timeout', error: 'timed out' }))).toMatchObject({ event: 'run.failed', run: { status: 'Timeout', statusDetail: 'timed out' } });
  });

  it('a deleted base: which, who said so, and the tasks built from it', () => {
    expect(body(deletion, ['app', 'web'])).toEqual({
      event: 'base.deleted',
      deliveryId: 'd-1',
      notification: 'ops',
      text: 'base 127.0.0.1:5000/baseimages/node:9-alpine was deleted (distribution reported it); app, web are built from it',
      base: { ref: '127.0.0.1:5000/baseimages/node:9-alpine', registry: '127.0.0.1:5000', repository: 'baseimages/node', tag: '9-alpine' },
      tasks: ['app', 'web'],
      source: 'distribution',
      sourceDeliveryId: 'del-1',
      occurredAt: '2026-12-01T23:00:00.000Z',
    });
  });

  it('Slack: one line of text with task, run, status and cause, its markup characters escaped', () => {
    const slack = JSON.parse(deliveryBody('slack', { subject: subject({ taskName: 'a<b>&c' }), tasks: [] }, NOTIFICATION, 'd-1')) as { text: string };
    expect(Object.keys(slack)).toEqual(['text']);
    expect(slack.text).toBe(`cascade: a&lt;b&gt;&amp;c da4 Succeeded, because 127.0.0.1:5000/baseimages/node:9-alpine changed from sha256:${'a'.repeat(12)}… to sha256:${'b'.repeat(12)}…`);
    expect(slack.text).not.toContain('\n');
    expect(escapeSlack('<!channel> & co')).toBe('&lt;!channel&gt; &amp; co');
  });

  it('a test delivery says it is one', () => {
    expect(JSON.parse(deliveryBody('json', { test: true }, NOTIFICATION, 'd-2'))).toEqual({ event: 'test', deliveryId: 'd-2', notification: 'ops', text: 'test delivery of notification ops: it reaches its receiver' });
  });
});

describe('signing', () => {
  it("is GitHub's: HMAC-SHA256 of the raw body, hex, after sha256= (GitHub's documented example)", () => {
    expect(signatureOf("It's a Secret to Everybody", 'Hello, World!')).toBe('sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17');
  });

  it('signs JSON deliveries; Slack ones carry the delivery id and event only', () => {
    const delivery = { id: 'd-1', event: 'run.succeeded' as const, body: '{"x":1}' };
    expect(deliveryHeaders({ format: 'json' }, 's3cret-value', delivery)).toEqual({
      'content-type': 'application/json',
      'user-agent': 'cascade-notifications',
      'x-cascade-delivery': 'd-1',
      'x-cascade-event': 'run.succeeded',
      'x-cascade-signature-256': signatureOf('s3cret-value', '{"x":1}'),
    });
    expect(deliveryHeaders({ format: 'slack' }, '', delivery)).not.toHaveProperty('x-cascade-signature-256');
  });
});

describe('retries', () => {
  it.each<[SendOutcome, string]>([
    [{ status: 200 }, 'delivered'],
    [{ status: 204 }, 'delivered'],
    [{ status: 500 }, 'retry'],
    [{ status: 503, retryAfterMs: 5000 }, 'retry'],
    [{ status: 408 }, 'retry'],
    [{ status: 429 }, 'retry'],
    [{ error: 'no answer within 10 s' }, 'retry'],
    [{ error: 'connection refused' }, 'retry'],
    [{ status: 400 }, 'failed'],
    [{ status: 404 }, 'failed'],
    [{ status: 410 }, 'failed'],
    // Redirects are not followed: the receiver should be configured where it is.
    [{ status: 301 }, 'failed'],
    // An address no delivery goes to (link-local, or loopback on AWS) does not become one later.
    [{ refused: 'the address 169.254.169.254' }, 'failed'],
  ])('%j is %s', (outcome, verdict) => {
    expect(verdictOf(outcome).verdict).toBe(verdict);
  });

  it('doubles the wait from 1 s to at most a minute, and gives up within five minutes of the first attempt', () => {
    expect(plannedAttempts(DEFAULT_RETRY).map((ms) => ms / 1000)).toEqual([0, 1, 3, 7, 15, 31, 63, 123, 183, 243]);
    expect(DEFAULT_RETRY.attemptTimeoutMs).toBe(10_000);
  });

  it.each<[number, number, number | undefined, number | undefined]>([
    [1, 0, undefined, 1000],
    [3, 3000, undefined, 4000],
    [8, 123_000, undefined, 60_000],
    // The attempts' own time counts: past five minutes, no more.
    [5, 290_000, undefined, undefined],
    // A receiver's Retry-After lengthens the wait, within the schedule's longest.
    [1, 0, 30_000, 30_000],
    [1, 0, 3_600_000, 60_000],
  ])('after %i attempt(s), %i ms after the first (Retry-After %s): waits %s', (attempts, elapsed, retryAfter, delay) => {
    expect(nextAttemptDelay(DEFAULT_RETRY, attempts, elapsed, retryAfter)).toBe(delay);
  });
});

describe('what is refused when a notification is added', () => {
  it.each([
    ['https://hooks.example.com/cascade', 'https://hooks.example.com/cascade'],
    ['http://127.0.0.1:8080/hook?team=ops', 'http://127.0.0.1:8080/hook?team=ops'],
  ])('accepts %s', (url, kept) => {
    expect(checkNotificationUrl(url)).toBe(kept);
  });

  it.each([
    ['not a URL', 'not a url', /is not a URL/],
    ['ftp', 'ftp://files.example.com/hook', /http or https URLs, not "ftp:"/],
    ['a file', 'file:///etc/passwd', /http or https URLs, not "file:"/],
    ['a user and password', 'https://user:pa55@hooks.example.com/x', /must not carry a user or password/],
    ['a user alone', 'https://token@hooks.example.com/x', /must not carry a user or password/],
    ['2001 characters and more', `https://hooks.example.com/${'x'.repeat(2000)}`, /at most 2000 characters/],
  ])('refuses %s', (_what, url, message) => {
    expect(() => checkNotificationUrl(url)).toThrow(ValidationError);
    expect(() => checkNotificationUrl(url)).toThrow(message);
  });

  it('never repeats a password it refuses', () => {
    expect(() => checkNotificationUrl('https://user:pa55w0rd@hooks.example.com/x')).toThrow(expect.objectContaining({ message: expect.not.stringContaining('pa55w0rd') }));
  });

  it('takes the default events, each event once, and names an unknown one', () => {
    expect(checkNotificationEvents(undefined)).toEqual(['run.succeeded', 'run.failed']);
    expect(checkNotificationEvents(['base.deleted', 'run.started', 'base.deleted'])).toEqual(['base.deleted', 'run.started']);
    expect(() => checkNotificationEvents(['run.succeeded', 'run.finished'])).toThrow('events: unknown event "run.finished"; the events are run.started, run.succeeded, run.failed, base.deleted');
    expect(() => checkNotificationEvents([])).toThrow(/name at least one/);
  });

  it('shows a URL without what may be its credential', () => {
    expect(shownUrl({ url: 'https://hooks.slack.com/services/T000/B000/XXXXSECRET', format: 'slack' })).toBe('https://hooks.slack.com/services/***');
    expect(shownUrl({ url: 'https://hooks.example.com/cascade?token=abc', format: 'json' })).toBe('https://hooks.example.com/cascade?***');
    expect(shownUrl({ url: 'http://127.0.0.1:8080/hook', format: 'json' })).toBe('http://127.0.0.1:8080/hook');
  });
});
