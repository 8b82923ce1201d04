// Entry point of the `cascade` command line. Tests call `main` in-process with their own streams.
import { CliContext, type CliIo } from './cli-context';
import { ApiError, AwsCredentialsError, UnreachableError, UsageError } from './errors';
import { CommanderExit, createProgram } from './program';

export type { CliIo } from './cli-context';

/** `--password X` would land in shell history and `ps`; it is refused before anything else runs. */
function passwordOnCommandLine(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false;
    if (arg === '--password' || arg.startsWith('--password=')) return true;
  }
  return false;
}

/** Runs one command line; resolves with the exit code (0 ok, 1 failed, 2 bad usage). */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const ctx = new CliContext(io);
  if (passwordOnCommandLine(argv)) {
    ctx.err(
      'error: cascade does not take a password on the command line, where shell history and other users can see it: pipe it to --password-stdin instead, e.g. printf \'%s\' "$PASSWORD" | cascade registry login HOST --username USER --password-stdin\n',
    );
    return 2;
  }
  try {
    await createProgram(ctx).parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderExit) {
      if (!err.shown) ctx.err(`error: ${err.message}\n`);
      return err.commanderExitCode;
    }
    if (err instanceof UsageError) {
      ctx.err(`error: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof ApiError || err instanceof UnreachableError || err instanceof AwsCredentialsError) {
      ctx.err(`error: ${err.message}\n`);
      return err.exitCode;
    }
    const reason = err instanceof Error ? err.message : String(err);
    ctx.err(`error: ${reason}\n`);
    return 1;
  }
}

/** Exits once stdout and stderr have flushed: a pipe may still hold output when main resolves. */
function exitAfterFlush(code: number): void {
  let pending = 2;
  const done = () => {
    pending -= 1;
    if (pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

if (typeof require !== 'undefined' && require.main === module) {
  // A reader that went away (`cascade task list-runs | head`) is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
  });
  main(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
    exitAfterFlush,
    (err: unknown) => {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      exitAfterFlush(1);
    },
  );
}
