// A run and its build log, followed as `cascade task run` follows them (lib/cli/follow-run.ts):
// the run, then the log from the byte offset already shown, every half second until the run has
// ended; the log read after the ending is complete, and stays shown.
import { useEffect, useState } from 'preact/hooks';
import type { Run } from '../../domain/types';
import { isTerminal } from '../../cli/format';
import { onApiTokenChange } from './api-token';
import { consoleApi } from './console-api';

export const FOLLOW_INTERVAL_MS = 500;

export interface FollowedRun {
  run?: Run;
  log: string;
  error?: Error;
  /** The run has ended and its whole log is shown. */
  complete: boolean;
}

export function useFollowedRun(id: string): FollowedRun & { replaceRun(run: Run): void } {
  const [state, setState] = useState<FollowedRun & { id: string }>({ id, log: '', complete: false });
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let offset = 0;
    let log = '';
    const decoder = new TextDecoder();
    setState({ id, log: '', complete: false });
    const step = async () => {
      try {
        // The status before the log: once it is terminal, the log read after it is whole.
        const run = await consoleApi.getRun(id);
        const chunk = await consoleApi.getLog(id, offset);
        if (stopped) return;
        offset += chunk.byteLength;
        const complete = isTerminal(run);
        log += decoder.decode(chunk, { stream: !complete });
        setState({ id, run, log, complete });
        if (complete) return;
      } catch (error) {
        if (stopped) return;
        setState((previous) => ({ ...previous, error: error instanceof Error ? error : new Error(String(error)) }));
      }
      timer = setTimeout(() => void step(), FOLLOW_INTERVAL_MS);
    };
    void step();
    const unsubscribe = onApiTokenChange(() => setGeneration((n) => n + 1));
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      unsubscribe();
    };
  }, [id, generation]);

  const shown = state.id === id ? state : { log: '', complete: false };
  return { ...shown, replaceRun: (run) => setState((previous) => (previous.id === run.id ? { ...previous, run } : previous)) };
}
