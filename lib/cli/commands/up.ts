// `cascade up`: the local stack in the foreground until Ctrl-C.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { act, leaf, type OutputOptions } from '../command-helpers';
import { port } from '../options';
import { UsageError } from '../errors';
import { DEFAULT_POLL_INTERVAL_MS } from '../../domain/poller';

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** Resolves with the first SIGINT or SIGTERM; listening from the start so one during startup is not lost. */
function nextStopSignal(): { received: Promise<NodeJS.Signals>; dispose(): void } {
  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const received = new Promise<NodeJS.Signals>((done) => {
    onSignal = (signal) => {
      dispose();
      done(signal);
    };
    for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  });
  // Once handled, a second Ctrl-C gets Node's default: exit at once.
  const dispose = () => {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  };
  return { received, dispose };
}

/** 0 (off), or at least 10 seconds: a registry should not be asked more often than that. */
function pollInterval(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || (n !== 0 && n < 10) || n > 86_400) {
    throw new UsageError(`--poll-interval must be 0 (off) or a number of seconds from 10 to 86400, e.g. --poll-interval 300; got "${value}"`);
  }
  return n;
}

export function registerUpCommand(program: Command, ctx: CliContext): void {
  act<OutputOptions & { port: number; dataDir: string; pollInterval: number }>(
    leaf(program, 'up', 'run cascade on this machine, in the foreground, until Ctrl-C')
      .option('--port <port>', 'HTTP port of the API and webhooks', port, 3000)
      .option('--data-dir <folder>', 'where tasks, runs, logs and secrets are kept', '.cascade')
      .option('--poll-interval <seconds>', 'seconds between polls of base images whose registry sends no events (0: never)', pollInterval, DEFAULT_POLL_INTERVAL_MS / 1000),
    ctx,
    async (opts) => {
      const stopSignal = nextStopSignal();
      try {
        // Loaded only here: the stack pulls in DynamoDB Local, buildah wiring and the AWS SDK.
        const { startLocalStack } = await import('../../local/stack');
        let stack: Awaited<ReturnType<typeof startLocalStack>>;
        try {
          stack = await startLocalStack({
            port: opts.port,
            dataDir: resolve(ctx.cwd, opts.dataDir),
            log: (line) => ctx.note(opts.output, `${line}\n`),
            pollIntervalSeconds: opts.pollInterval,
          });
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          const hint = /EADDRINUSE/.test(reason) ? `; port ${opts.port} is taken: choose another with --port` : '';
          ctx.err(`error: could not start cascade: ${reason}${hint}\n`);
          return 1;
        }
        if (opts.output === 'json') ctx.json({ url: stack.url });
        else ctx.out(`cascade is up at ${stack.url}\nPress Ctrl-C to stop.\n`);
        const signal = await stopSignal.received;
        ctx.note(opts.output, `Stopping cascade (${signal})...\n`);
        await stack.stop();
        ctx.note(opts.output, 'cascade stopped.\n');
        return 0;
      } finally {
        stopSignal.dispose();
      }
    },
  );
}
