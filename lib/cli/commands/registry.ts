// `cascade registry login`: credentials cascade itself uses for a registry.
import type { Command } from 'commander';
import type { CliContext } from '../cli-context';
import { act, leaf, type OutputOptions } from '../command-helpers';
import { UsageError } from '../errors';
import { readPasswordFromStdin } from '../input';

export function registerRegistryCommands(program: Command, ctx: CliContext): void {
  const registry = program.command('registry').description('registries cascade pushes to and pulls from');
  const login = leaf(registry, 'login', 'store credentials cascade uses to push to and pull from HOST')
    .argument('<HOST>', 'the registry, e.g. 127.0.0.1:5000')
    .requiredOption('--username <username>', 'user name')
    .option('--password-stdin', 'read the password from stdin');
  act<OutputOptions & { username: string; passwordStdin?: boolean }>(login, ctx, async (opts) => {
    const [host = ''] = login.processedArgs as string[];
    const example = `cascade registry login ${host} --username ${opts.username} --password-stdin`;
    if (!opts.passwordStdin) {
      throw new UsageError(`add --password-stdin and pipe the password in, e.g. printf '%s' "$PASSWORD" | ${example}`);
    }
    const password = await readPasswordFromStdin(ctx.io.stdin, example);
    await ctx.api().registryLogin(host, { username: opts.username, password });
    // The API answers 204: there is no JSON to print in json mode.
    if (opts.output === 'table') ctx.out('Login Succeeded\n');
  });
}
