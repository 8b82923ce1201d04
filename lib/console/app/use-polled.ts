// Loading what a view shows, and keeping it current by asking again: each answer is awaited
// before the next request is timed, so a slow server is never asked twice at once; a hidden tab
// asks nothing until it is shown again; an answer for an older URL is dropped.
import { useEffect, useRef, useState } from 'preact/hooks';
import { onApiTokenChange } from './api-token';

export interface Polled<T> {
  data?: T;
  error?: Error;
  /** Asks again now (after an action changed what is shown). */
  reload(): void;
}

/**
 * `load` now and whenever `keys` change, then again `every(data)` ms after each answer
 * (undefined: no more asking, e.g. once a run has ended).
 */
export function usePolled<T>(load: () => Promise<T>, keys: unknown[], every: (data: T | undefined) => number | undefined = () => undefined): Polled<T> {
  // Each answer is kept with the keys it is for: a view never shows another URL's data meanwhile.
  const forKeys = JSON.stringify(keys);
  const [state, setState] = useState<{ for?: string; data?: T; error?: Error }>({});
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const everyRef = useRef(every);
  everyRef.current = every;

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let last: T | undefined;
    const askWhenVisible = () => {
      if (!document.hidden) void ask();
    };
    const ask = async () => {
      document.removeEventListener('visibilitychange', askWhenVisible);
      try {
        last = await loadRef.current();
        if (stopped) return;
        setState({ for: forKeys, data: last });
      } catch (error) {
        if (stopped) return;
        const failure = error instanceof Error ? error : new Error(String(error));
        setState((previous) => ({ for: forKeys, data: previous.for === forKeys ? previous.data : undefined, error: failure }));
      }
      const wait = everyRef.current(last);
      if (wait === undefined || stopped) return;
      timer = setTimeout(() => {
        if (stopped) return;
        if (document.hidden) document.addEventListener('visibilitychange', askWhenVisible);
        else void ask();
      }, wait);
    };
    void ask();
    // A token given after a 401: ask again at once.
    const unsubscribe = onApiTokenChange(() => setGeneration((n) => n + 1));
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      document.removeEventListener('visibilitychange', askWhenVisible);
      unsubscribe();
    };
  }, [forKeys, generation]);

  const current = state.for === forKeys ? state : {};
  return { data: current.data, error: current.error, reload: () => setGeneration((n) => n + 1) };
}
