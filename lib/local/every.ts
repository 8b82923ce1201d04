// A job the local stack repeats (timers, the poller, the history sweep): one call at a time,
// the next one `delayMs()` after the last ended, and a stop that waits for the call in flight.
export interface Repeating {
  /** Runs the job now (between scheduled calls, never during one) and waits for it. */
  now(): Promise<void>;
  stop(): Promise<void>;
}

/** `delayMs` returning undefined: only `now()` runs the job. */
export function every(delayMs: () => number | undefined, job: () => Promise<void>, onError: (error: unknown) => void): Repeating {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const run = (): Promise<void> => {
    running = running.then(() => (stopped ? undefined : job().catch(onError)));
    return running;
  };
  const schedule = () => {
    const delay = delayMs();
    if (stopped || delay === undefined) return;
    timer = setTimeout(() => void run().then(schedule), delay);
  };
  schedule();
  return {
    now: run,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
