// `cascade task timer …`: scheduled runs of a task, in the words of `az acr task timer`.
import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { act, leaf, type OutputOptions } from '../command-helpers';
import { UsageError } from '../errors';
import { formatTable, formatTime } from '../format';
import { boolean } from '../options';

interface TimerOptions extends OutputOptions {
  name: string;
  timerName: string;
  schedule?: string;
  enabled?: boolean;
}

const named = (cmd: Command) => cmd.requiredOption('--name <name>', 'task name').requiredOption('--timer-name <name>', 'timer name, e.g. nightly');

export function registerTimerCommands(task: Command, ctx: CliContext): void {
  const timer = task.command('timer').description('scheduled runs of a task (5-field cron, UTC)');

  act<TimerOptions>(
    named(leaf(timer, 'add', 'add a timer to a task'))
      .requiredOption('--schedule <cron>', 'when, as 5-field cron in UTC, e.g. "0 3 * * *" (03:00 every day)')
      .option('--enabled <true|false>', 'whether it fires (default true)', boolean('--enabled')),
    ctx,
    async (opts) => {
      const added = await ctx.api().addTimer(opts.name, { name: opts.timerName, schedule: opts.schedule as string, ...(opts.enabled !== undefined && { enabled: opts.enabled }) });
      if (opts.output === 'json') ctx.json(added);
      else ctx.out(`Timer "${added.name}" of task "${opts.name}" runs it at "${added.schedule}" (UTC)${added.enabled ? '' : ', once enabled'}.\n`);
    },
  );

  act<TimerOptions>(
    named(leaf(timer, 'update', "change a timer's schedule or turn it on or off"))
      .option('--schedule <cron>', 'when, as 5-field cron in UTC')
      .option('--enabled <true|false>', 'whether it fires', boolean('--enabled')),
    ctx,
    async (opts) => {
      if (opts.schedule === undefined && opts.enabled === undefined) throw new UsageError('nothing to update: add --schedule "CRON" or --enabled true|false');
      const updated = await ctx.api().updateTimer(opts.name, opts.timerName, {
        ...(opts.schedule !== undefined && { schedule: opts.schedule }),
        ...(opts.enabled !== undefined && { enabled: opts.enabled }),
      });
      if (opts.output === 'json') ctx.json(updated);
      else ctx.out(`Timer "${updated.name}" of task "${opts.name}": "${updated.schedule}" (UTC), ${updated.enabled ? 'enabled' : 'disabled'}.\n`);
    },
  );

  act<TimerOptions>(named(leaf(timer, 'remove', 'remove a timer from a task')), ctx, async (opts) => {
    await ctx.api().removeTimer(opts.name, opts.timerName);
    if (opts.output === 'table') ctx.out(`Removed timer "${opts.timerName}" of task "${opts.name}".\n`);
  });

  act<OutputOptions & { name: string }>(leaf(timer, 'list', "list a task's timers").requiredOption('--name <name>', 'task name'), ctx, async (opts) => {
    const timers = await ctx.api().listTimers(opts.name);
    if (opts.output === 'json') ctx.json(timers);
    else if (timers.length === 0) ctx.out(`Task "${opts.name}" has no timers: add one with cascade task timer add --name ${opts.name} --timer-name nightly --schedule "0 3 * * *"\n`);
    else {
      ctx.out(
        formatTable(
          ['TIMER', 'SCHEDULE (UTC)', 'ENABLED', 'NEXT', 'LAST FIRED'],
          timers.map((t) => [t.name, t.schedule, t.enabled ? 'true' : 'false', t.enabled ? formatTime(t.next) : '', formatTime(t.lastFired)]),
        ),
      );
    }
  });
}
