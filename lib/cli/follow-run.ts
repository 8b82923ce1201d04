// Streams a run's log until the run ends, as `az acr task run` does.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Run } from '../domain/types';
import type { CascadeApiClient } from './api-client';
import { isTerminal } from './format';

/**
 * Polls the run and its log (from the byte offset already shown) every `intervalMs` until the
 * run is terminal; writes log bytes to `log` as they come. Returns the run as it ended.
 */
export async function followRun(api: CascadeApiClient, runId: string, log: NodeJS.WritableStream, intervalMs: number): Promise<Run> {
  let offset = 0;
  let endsWithNewline = true;
  for (;;) {
    // The status is read before the log so that, once terminal, the log read after it is complete.
    const run = await api.getRun(runId);
    const chunk = await api.getLog(runId, offset);
    if (chunk.length > 0) {
      log.write(chunk);
      offset += chunk.length;
      endsWithNewline = chunk[chunk.length - 1] === 0x0a;
    }
    if (isTerminal(run)) {
      if (!endsWithNewline) log.write('\n');
      return run;
    }
    await sleep(intervalMs);
  }
}
