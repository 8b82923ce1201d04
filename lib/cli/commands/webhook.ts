// `cascade webhook …`: the URLs registries and git hosts notify.
import type { Command } from 'commander';
import { providers } from '../../events';
import type { CliContext } from '../cli-context';
import { act, leaf, type OutputOptions } from '../command-helpers';
import { formatWebhook, formatWebhooksTable } from '../format';

export function registerWebhookCommands(program: Command, ctx: CliContext): void {
  const webhook = program.command('webhook').description('webhooks that registries and git hosts call on a push');

  act<OutputOptions & { name: string; provider: string; loginServer?: string }>(
    leaf(webhook, 'create', 'create a webhook and print its URL and secret')
      .requiredOption('--name <name>', 'webhook name')
      .requiredOption('--provider <provider>', `who calls it: ${Object.keys(providers).join(', ')}`)
      .option('--login-server <host>', 'the registry it speaks for when the payload does not say'),
    ctx,
    async (opts) => {
      const created = await ctx.api().createWebhook({
        name: opts.name,
        provider: opts.provider,
        ...(opts.loginServer !== undefined ? { loginServer: opts.loginServer } : {}),
      });
      if (opts.output === 'json') ctx.json(created);
      else ctx.out(formatWebhook(created));
    },
  );

  act<OutputOptions>(leaf(webhook, 'list', 'list the webhooks'), ctx, async (opts) => {
    const webhooks = await ctx.api().listWebhooks();
    if (opts.output === 'json') ctx.json(webhooks);
    else ctx.out(formatWebhooksTable(webhooks));
  });

  act<OutputOptions & { name: string }>(
    leaf(webhook, 'show', 'show a webhook').requiredOption('--name <name>', 'webhook name'),
    ctx,
    async (opts) => {
      const hook = await ctx.api().getWebhook(opts.name);
      if (opts.output === 'json') ctx.json(hook);
      else ctx.out(formatWebhook(hook));
    },
  );

  act<OutputOptions & { name: string; complete?: boolean }>(
    leaf(webhook, 'rotate-secret', 'add a new secret (both are accepted until --complete), or end the rotation')
      .requiredOption('--name <name>', 'webhook name')
      .option('--complete', 'stop accepting the old secret'),
    ctx,
    async (opts) => {
      const hook = opts.complete ? await ctx.api().completeWebhookRotation(opts.name) : await ctx.api().rotateWebhookSecret(opts.name);
      if (opts.output === 'json') ctx.json(hook);
      else {
        ctx.out(formatWebhook(hook));
        ctx.out(
          opts.complete
            ? 'Rotation complete: only the new secret is accepted.\n'
            : `Configure the new secret in the provider, then run: cascade webhook rotate-secret --name ${opts.name} --complete\n`,
        );
      }
    },
  );

  act<OutputOptions & { name: string }>(
    leaf(webhook, 'delete', 'delete a webhook').requiredOption('--name <name>', 'webhook name'),
    ctx,
    async (opts) => {
      await ctx.api().deleteWebhook(opts.name);
      if (opts.output === 'table') ctx.out(`Deleted webhook "${opts.name}".\n`);
    },
  );
}
