// `cascade console`: the web console on this machine's loopback, for the API at CASCADE_API
// (typically a deployed stack): its API calls are forwarded by the CLI's client, signed with the
// user's AWS credentials as every command's are, so the browser never holds them.
import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { resolveApiAuth } from '../api-auth';
import { act, leaf, type OutputOptions } from '../command-helpers';
import { port } from '../options';
import { nextStopSignal } from './up';

export const DEFAULT_CONSOLE_PORT = 3001;

interface ConsoleOptions extends OutputOptions {
  port: number;
}

export function registerConsoleCommand(program: Command, ctx: CliContext): void {
  act<ConsoleOptions>(
    leaf(program, 'console', 'serve the web console on 127.0.0.1 for the API at CASCADE_API, signing its calls as the CLI does, until Ctrl-C')
      .option('--port <port>', 'loopback port of the console (0 picks a free one)', port, DEFAULT_CONSOLE_PORT),
    ctx,
    async (opts) => {
      const api = ctx.api();
      const auth = resolveApiAuth(new URL(api.baseUrl), ctx.io.env);
      const stopSignal = nextStopSignal();
      try {
        const { startConsoleServer } = await import('../../console/console-server');
        let server: Awaited<ReturnType<typeof startConsoleServer>>;
        try {
          server = await startConsoleServer({ port: opts.port, api, log: (line) => ctx.note(opts.output, `${line}\n`) });
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          const hint = /EADDRINUSE/.test(reason) ? `; port ${opts.port} is taken: choose another with --port` : '';
          ctx.err(`error: could not start the console: ${reason}${hint}\n`);
          return 1;
        }
        const url = `${server.url}/console/`;
        const how = auth.kind === 'aws-iam' ? `signed with your AWS credentials for ${auth.region}` : 'sent with your cascade token, if any';
        if (opts.output === 'json') ctx.json({ url, api: api.baseUrl, auth: auth.kind });
        else ctx.out(`cascade console at ${url}\nfor the API at ${api.baseUrl} (calls ${how})\nPress Ctrl-C to stop.\n`);
        const signal = await stopSignal.received;
        ctx.note(opts.output, `Stopping the console (${signal})...\n`);
        await server.close();
        return 0;
      } finally {
        stopSignal.dispose();
      }
    },
  );
}
