// The `cascade` command tree, built fresh per invocation (commander keeps parse state).
import { Command, CommanderError } from 'commander';
import type { CliContext } from './cli-context';
import { registerBuildCommand } from './commands/build';
import { registerConsoleCommand } from './commands/console';
import { registerInsightCommands } from './commands/insight';
import { registerNotificationCommands } from './commands/notification';
import { registerRegistryCommands } from './commands/registry';
import { registerTaskCommands } from './commands/task';
import { registerTokenCommands } from './commands/token';
import { registerUpCommand } from './commands/up';
import { registerWebhookCommands } from './commands/webhook';
import { UsageError } from './errors';

/** Commander ended the parse (help, or a flag it rejected); `exitCode` is what to exit with. */
export class CommanderExit extends UsageError {
  constructor(
    message: string,
    readonly commanderExitCode: number,
    readonly shown: boolean,
  ) {
    super(message);
  }
}

export function createProgram(ctx: CliContext): Command {
  const program = new Command('cascade')
    .description('rebuild container images when their base images change (commands mirror "az acr")')
    .configureOutput({
      writeOut: (text) => ctx.out(text),
      writeErr: (text) => ctx.err(text),
      // Commander's own error lines are replaced by one sentence that says what to do (see below).
      outputError: () => undefined,
    })
    .showSuggestionAfterError(true)
    .exitOverride();

  registerUpCommand(program, ctx);
  registerRegistryCommands(program, ctx);
  registerBuildCommand(program, ctx);
  registerTaskCommands(program, ctx);
  registerWebhookCommands(program, ctx);
  registerNotificationCommands(program, ctx);
  registerTokenCommands(program, ctx);
  registerInsightCommands(program, ctx);
  registerConsoleCommand(program, ctx);

  for (const command of allCommands(program)) {
    const path = commandPath(command);
    command.exitOverride((err) => {
      throw toExit(err, path, command.commands.length > 0);
    });
  }
  return program;
}

function toExit(err: CommanderError, path: string, isGroup: boolean): CommanderExit {
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return new CommanderExit('', 0, true);
  // A group called without a command: commander has printed its help on stderr already.
  if (err.code === 'commander.help') return new CommanderExit('', 2, true);
  const text = err.message
    .replace(/^error:\s*/, '')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\.$/, '')
    .replace('(Did you mean', '(did you mean');
  const what = isGroup && err.code !== 'commander.unknownOption' ? 'its commands' : 'its options';
  return new CommanderExit(`${text}; run "${path} --help" to see ${what}`, 2, false);
}

function* allCommands(command: Command): Generator<Command> {
  yield command;
  for (const sub of command.commands) yield* allCommands(sub);
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}
