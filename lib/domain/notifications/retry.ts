// When a delivery is tried again, and what an attempt's outcome means (pure).
//
// With DEFAULT_RETRY an undelivered message is tried at about 0, 1, 3, 7, 15, 31, 63, 123, 183
// and 243 s (plus the attempts' own time), then given up: within five minutes of the first try.

export interface RetrySchedule {
  /** The wait before the second attempt; each later wait doubles. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** No attempt starts later than this after the first. */
  giveUpAfterMs: number;
  /** One attempt waits this long for the receiver's answer. */
  attemptTimeoutMs: number;
}

export const DEFAULT_RETRY: RetrySchedule = { firstDelayMs: 1000, maxDelayMs: 60_000, giveUpAfterMs: 5 * 60_000, attemptTimeoutMs: 10_000 };

/** What one POST came to: the receiver's status (and its Retry-After), or why it did not answer. */
/** What a receiver answered; why none did (tried again); or why it was not asked (never tried again). */
export type SendOutcome = { status: number; retryAfterMs?: number } | { error: string } | { refused: string };

export type Verdict = { verdict: 'delivered' } | { verdict: 'retry'; reason: string } | { verdict: 'failed'; reason: string };

/**
 * A 2xx delivers. 408, 429, a 5xx, a timeout or a connection that failed may pass: tried again.
 * Any other answer (a 3xx: redirects are not followed; a 4xx) says the request itself is wrong.
 */
export function verdictOf(outcome: SendOutcome): Verdict {
  if ('refused' in outcome) return { verdict: 'failed', reason: outcome.refused };
  if ('error' in outcome) return { verdict: 'retry', reason: outcome.error };
  const { status } = outcome;
  if (status >= 200 && status < 300) return { verdict: 'delivered' };
  if (status === 408 || status === 429 || status >= 500) return { verdict: 'retry', reason: `HTTP ${status}` };
  return { verdict: 'failed', reason: `HTTP ${status}, which is not tried again (only 408, 429 and 5xx answers and failed connections are)` };
}

/**
 * The wait before the next attempt, after `attemptsMade` attempts of which the first began
 * `elapsedMs` ago; undefined when that attempt would begin past `giveUpAfterMs`. A receiver's
 * Retry-After lengthens the wait, up to `maxDelayMs`.
 */
export function nextAttemptDelay(schedule: RetrySchedule, attemptsMade: number, elapsedMs: number, retryAfterMs?: number): number | undefined {
  const backoff = Math.min(schedule.maxDelayMs, schedule.firstDelayMs * 2 ** Math.max(0, attemptsMade - 1));
  const delay = Math.min(schedule.maxDelayMs, Math.max(backoff, retryAfterMs ?? 0));
  return elapsedMs + delay <= schedule.giveUpAfterMs ? delay : undefined;
}

/** When each attempt begins, from the first, if every attempt took no time: the schedule at a glance. */
export function plannedAttempts(schedule: RetrySchedule): number[] {
  const at = [0];
  for (;;) {
    const delay = nextAttemptDelay(schedule, at.length, at[at.length - 1] as number);
    if (delay === undefined) return at;
    at.push((at[at.length - 1] as number) + delay);
  }
}
