// `cascade up`: the local stack in the foreground until Ctrl-C.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { act, leaf, type OutputOptions } from '../command-helpers';
import { port } from '../options';
import { UsageError } from '../errors';
import { DEFAULT_POLL_INTERVAL_MS } from '../../domain/poller';
import { parsePublicUrl } from '../../local/access';

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** Resolves with the first SIGINT or SIGTERM; listening from the start so one during startup is not lost. */
export function nextStopSignal(): { received: Promise<NodeJS.Signals>; dispose(): void } {
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

/** `--public-url`: checked here so a typo ends the command before anything starts. */
function publicUrl(value: string): string {
  try {
    return parsePublicUrl(value).href.replace(/\/+$/, '');
  } catch (error) {
    throw new UsageError(`--public-url: ${(error as Error).message}`);
  }
}

interface UpOptions extends OutputOptions {
  port: number;
  host: string;
  publicUrl?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecureNoAuth?: boolean;
  dataDir: string;
  pollInterval: number;
}

export function registerUpCommand(program: Command, ctx: CliContext): void {
  act<UpOptions>(
    leaf(program, 'up', 'run cascade on this machine, in the foreground, until Ctrl-C')
      .option('--port <port>', 'HTTP port of the API and webhooks', port, 3000)
      .option('--host <address>', 'address to listen on; beyond loopback (e.g. 0.0.0.0) API tokens are required', '127.0.0.1')
      .option('--public-url <url>', 'the address registries and git hosts reach cascade at (a reverse proxy, a tunnel); webhook URLs name it', publicUrl)
      .option('--tls-cert <file>', 'PEM certificate (chain): serve HTTPS; needs --tls-key')
      .option('--tls-key <file>', 'PEM private key of --tls-cert')
      .option('--insecure-no-auth', 'ask API callers for no token even beyond loopback: anyone who can reach it may use the API')
      .option('--data-dir <folder>', 'where tasks, runs, logs and secrets are kept', '.cascade')
      .option('--poll-interval <seconds>', 'seconds between polls of base images whose registry sends no events (0: never)', pollInterval, DEFAULT_POLL_INTERVAL_MS / 1000),
    ctx,
    async (opts) => {
      if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) {
        throw new UsageError('--tls-cert and --tls-key go together: give both PEM files, e.g. --tls-cert cert.pem --tls-key key.pem');
      }
      if (opts.host.trim() === '') throw new UsageError('--host takes an address such as 127.0.0.1 or 0.0.0.0');
      const stopSignal = nextStopSignal();
      try {
        // Loaded only here: the stack pulls in DynamoDB Local, buildah wiring and the AWS SDK.
        const { startLocalStack } = await import('../../local/stack');
        let stack: Awaited<ReturnType<typeof startLocalStack>>;
        try {
          stack = await startLocalStack({
            port: opts.port,
            host: opts.host,
            publicUrl: opts.publicUrl,
            insecureNoAuth: opts.insecureNoAuth,
            ...(opts.tlsCert !== undefined && opts.tlsKey !== undefined && { tls: { certFile: resolve(ctx.cwd, opts.tlsCert), keyFile: resolve(ctx.cwd, opts.tlsKey) } }),
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
        if (opts.output === 'json') ctx.json({ url: stack.url, publicUrl: stack.publicUrl });
        else ctx.out(`cascade is up at ${stack.url}${stack.publicUrl !== stack.url ? ` (registries and git hosts: ${stack.publicUrl})` : ''}\nPress Ctrl-C to stop.\n`);
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
