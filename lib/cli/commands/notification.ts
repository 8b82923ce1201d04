// `cascade notification …`: where cascade tells of runs that start or end and of deleted bases.
import type { Command } from 'commander';
import { ValidationError } from '../../domain/errors';
import { checkNotificationEvents, checkNotificationUrl, DEFAULT_NOTIFICATION_EVENTS, NOTIFICATION_EVENTS, NOTIFICATION_FORMATS, type NotificationFormat } from '../../domain/notifications/notification';
import type { CliContext } from '../cli-context';
import { act, leaf, type OutputOptions } from '../command-helpers';
import { UsageError } from '../errors';
import { formatDeliveriesTable, formatNotification, formatNotificationsTable, formatTestOutcome } from '../notification-format';
import { oneOf, positiveInteger } from '../options';

/** A domain rule broken on the command line: said as a usage error, naming the flag. */
function asUsage<T>(flag: string, example: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof ValidationError) throw new UsageError(`${flag}${error.message.replace(/^\w+:/, ':')}, such as ${flag} ${example}`);
    throw error;
  }
}

const eventList = (value: string) =>
  asUsage('--events', DEFAULT_NOTIFICATION_EVENTS.join(','), () =>
    checkNotificationEvents(
      value
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean),
    ),
  );

const named = (cmd: Command) => cmd.requiredOption('--name <name>', 'notification name');

export function registerNotificationCommands(program: Command, ctx: CliContext): void {
  const notification = program.command('notification').description('tell a URL (JSON, signed; or Slack) when runs start or end, or a base is deleted');

  act<OutputOptions & { name: string; url: string; events?: string[]; format: NotificationFormat; task?: string }>(
    named(leaf(notification, 'add', 'add a notification and print its signing secret (shown once)'))
      .requiredOption('--url <url>', 'where deliveries are POSTed (http or https)')
      .option('--events <list>', `comma-separated: ${NOTIFICATION_EVENTS.join(', ')} (default ${DEFAULT_NOTIFICATION_EVENTS.join(',')})`, eventList)
      .option('--format <json|slack>', 'json: signed JSON; slack: {"text": …} for an incoming webhook', oneOf('--format', NOTIFICATION_FORMATS), 'json')
      .option('--task <name>', "only this task's runs and bases"),
    ctx,
    async (opts) => {
      const url = asUsage('--url', 'https://hooks.example.com/cascade', () => checkNotificationUrl(opts.url));
      const added = await ctx.api().addNotification({
        name: opts.name,
        url,
        format: opts.format,
        ...(opts.events !== undefined && { events: opts.events }),
        ...(opts.task !== undefined && { task: opts.task }),
      });
      if (opts.output === 'json') ctx.json(added);
      else ctx.out(formatNotification(added));
    },
  );

  act<OutputOptions>(leaf(notification, 'list', 'list the notifications'), ctx, async (opts) => {
    const notifications = await ctx.api().listNotifications();
    if (opts.output === 'json') ctx.json(notifications);
    else if (notifications.length === 0) ctx.out('No notifications: add one with cascade notification add --name NAME --url URL\n');
    else ctx.out(formatNotificationsTable(notifications));
  });

  act<OutputOptions & { name: string }>(named(leaf(notification, 'remove', 'remove a notification and its deliveries')), ctx, async (opts) => {
    await ctx.api().removeNotification(opts.name);
    if (opts.output === 'table') ctx.out(`Removed notification "${opts.name}".\n`);
  });

  act<OutputOptions & { name: string }>(
    named(leaf(notification, 'test', 'send one test delivery now and print its outcome (exit 1 when it was not delivered)')),
    ctx,
    async (opts) => {
      const delivery = await ctx.api().testNotification(opts.name);
      if (opts.output === 'json') ctx.json(delivery);
      else if (delivery.status === 'delivered') ctx.out(formatTestOutcome(delivery));
      else ctx.err(formatTestOutcome(delivery));
      return delivery.status === 'delivered' ? 0 : 1;
    },
  );

  act<OutputOptions & { name: string; top?: number }>(
    named(leaf(notification, 'deliveries', "a notification's deliveries, newest first, with each attempt")).option(
      '--top <n>',
      'how many deliveries (default 20, at most 100)',
      positiveInteger('--top', 20),
    ),
    ctx,
    async (opts) => {
      const deliveries = await ctx.api().listNotificationDeliveries(opts.name, opts.top);
      if (opts.output === 'json') ctx.json(deliveries);
      else if (deliveries.length === 0) ctx.out(`Notification "${opts.name}" has made no deliveries yet: try cascade notification test --name ${opts.name}\n`);
      else ctx.out(formatDeliveriesTable(deliveries));
    },
  );
}
