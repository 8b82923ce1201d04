// Small pieces every command definition shares.
import type { Command } from 'commander';
import type { Run } from '../domain/types';
import type { CliContext, OutputFormat } from './cli-context';
import { followRun } from './follow-run';
import { formatRunSummary } from './format';
import { oneOf } from './options';

export interface OutputOptions {
  output: OutputFormat;
}

/** A command that does something (not a group): it takes `--output` like every `az` command. */
export function leaf(parent: Command, name: string, description: string): Command {
  return parent
    .command(name)
    .description(description)
    .option('--output <table|json>', 'table for people, json for scripts', oneOf('--output', ['table', 'json'] as const), 'table');
}

/** Runs `handler` with the parsed options; its result becomes the exit code. */
export function act<T extends OutputOptions>(cmd: Command, ctx: CliContext, handler: (opts: T) => Promise<number | void>): Command {
  return cmd.action(async () => {
    ctx.exitCode = (await handler(cmd.opts<T>())) ?? 0;
  });
}

/** After POSTing a run: say so, then unless `wait` is false follow it; exit 0 only for Succeeded. */
export async function reportQueuedRun(ctx: CliContext, run: Run, output: OutputFormat, wait: boolean): Promise<number> {
  if (!wait) {
    if (output === 'json') ctx.json(run);
    else ctx.out(`Queued a run with ID: ${run.id}\nFollow it with: cascade task logs --run-id ${run.id}\n`);
    return 0;
  }
  ctx.note(output, `Queued a run with ID: ${run.id}\nWaiting for an agent...\n`);
  const logStream = output === 'json' ? ctx.io.stderr : ctx.io.stdout;
  const ended = await followRun(ctx.api(), run.id, logStream, ctx.pollIntervalMs);
  const summary = `${formatRunSummary(ended)}\n`;
  if (output === 'json') ctx.json(ended);
  if (ended.status === 'Succeeded') {
    ctx.note(output, summary);
    return 0;
  }
  ctx.err(summary);
  return 1;
}
