// `cascade token …`: the local stack's API tokens; `cascade login` / `logout`: the one this CLI sends.
// With --data-dir the token file is worked on directly (how the first token is made, before the
// stack starts); without it, through the API of CASCADE_API.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { ApiTokenView } from '../../local/api-tokens';
import type { CliContext } from '../cli-context';
import { act, leaf, type OutputOptions } from '../command-helpers';
import { DEFAULT_API_URL } from '../api-client';
import { formatTable, formatTime } from '../format';
import { readSecretFromStdin } from '../input';
import { forgetToken, saveToken } from '../saved-logins';
import { UsageError } from '../errors';

interface TokenPlace {
  create(name: string): Promise<ApiTokenView & { token: string }>;
  list(): Promise<ApiTokenView[]>;
  revoke(name: string): Promise<void>;
}

async function tokensAt(ctx: CliContext, dataDir: string | undefined): Promise<TokenPlace> {
  if (dataDir === undefined) {
    const api = ctx.api();
    return { create: (name) => api.createToken(name), list: () => api.listTokens(), revoke: (name) => api.revokeToken(name) };
  }
  const { ApiTokens } = await import('../../local/api-tokens');
  return new ApiTokens({ dataDir: resolve(ctx.cwd, dataDir) });
}

const DATA_DIR_HELP = "the stack's data folder: work on its token file directly (e.g. before the first start)";

export function registerTokenCommands(program: Command, ctx: CliContext): void {
  const token = program.command('token').description("API tokens of the local stack (needed when it listens beyond loopback)");

  act<OutputOptions & { name: string; dataDir?: string }>(
    leaf(token, 'create', 'make an API token and print it, once').requiredOption('--name <name>', 'who or what holds it, e.g. ci or alice').option('--data-dir <folder>', DATA_DIR_HELP),
    ctx,
    async (opts) => {
      const created = await (await tokensAt(ctx, opts.dataDir)).create(opts.name);
      if (opts.output === 'json') return ctx.json(created);
      ctx.out(`Token "${created.name}" (shown this once; only its hash is kept):\n${created.token}\n`);
      ctx.out(`Use it with: export CASCADE_TOKEN=<token>, or: cascade login --token-stdin < file-holding-it\n`);
    },
  );

  act<OutputOptions & { dataDir?: string }>(leaf(token, 'list', 'list the API tokens (names, never the tokens)').option('--data-dir <folder>', DATA_DIR_HELP), ctx, async (opts) => {
    const tokens = await (await tokensAt(ctx, opts.dataDir)).list();
    if (opts.output === 'json') return ctx.json(tokens);
    ctx.out(formatTable(['NAME', 'CREATED', 'STARTS WITH'], tokens.map((t) => [t.name, formatTime(t.createdAt), `${t.hint}…`])));
  });

  act<OutputOptions & { name: string; dataDir?: string }>(
    leaf(token, 'revoke', 'revoke an API token: it stops working at once').requiredOption('--name <name>', 'the token to revoke').option('--data-dir <folder>', DATA_DIR_HELP),
    ctx,
    async (opts) => {
      await (await tokensAt(ctx, opts.dataDir)).revoke(opts.name);
      if (opts.output === 'table') ctx.out(`Revoked token "${opts.name}".\n`);
    },
  );

  act<OutputOptions & { tokenStdin?: boolean }>(
    leaf(program, 'login', 'save the API token this CLI sends to CASCADE_API (read from stdin)').option('--token-stdin', 'read the token from stdin'),
    ctx,
    async (opts) => {
      const example = 'cascade login --token-stdin';
      if (!opts.tokenStdin) throw new UsageError(`add --token-stdin and pipe the token in, e.g. printf '%s' "$TOKEN" | ${example}`);
      const presented = (await readSecretFromStdin(ctx.io.stdin, { what: 'token', flag: '--token-stdin', example })).trim();
      const api = apiUrl(ctx);
      // Tried before it is kept: a wrong or revoked token is said now, not at the next command.
      await ctx.apiWithToken(presented).listTokens();
      const file = await saveToken(ctx.io.env, api, presented);
      if (opts.output === 'json') return ctx.json({ api, file });
      ctx.out(`Login Succeeded: the token for ${api} is saved in ${file}\n`);
    },
  );

  act<OutputOptions>(leaf(program, 'logout', 'forget the API token saved for CASCADE_API'), ctx, async (opts) => {
    const api = apiUrl(ctx);
    const forgotten = await forgetToken(ctx.io.env, api);
    if (opts.output === 'json') return ctx.json({ api, forgotten });
    ctx.out(forgotten ? `Removed the token saved for ${api}\n` : `No token was saved for ${api}\n`);
  });
}

function apiUrl(ctx: CliContext): string {
  return ctx.io.env.CASCADE_API?.trim() || DEFAULT_API_URL;
}
