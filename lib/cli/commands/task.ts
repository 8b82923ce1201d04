// `cascade task …`: tasks, their credentials and their runs.
import type { Command } from 'commander';
import type { CreateTaskInput } from '../../domain/inputs';
import type { RunStatus } from '../../domain/types';
import { RUN_STATUSES } from '../../domain/types';
import type { CliContext } from '../cli-context';
import { act, leaf, reportQueuedRun, type OutputOptions } from '../command-helpers';
import { UsageError } from '../errors';
import { followRun } from '../follow-run';
import { formatRun, formatRunsTable, formatTask, formatTaskDetail, formatTasksTable, isTerminal } from '../format';
import { confirm, readPasswordFromStdin, resolveContext } from '../input';
import { boolean, collect, keyValue, oneOf, positiveInteger } from '../options';
import { registerTimerCommands } from './timer';

interface TaskDefinitionOptions extends OutputOptions {
  name: string;
  registry?: string;
  image?: string[];
  context?: string;
  file?: string;
  arg?: Record<string, string>;
  platform?: string;
  status?: 'Enabled' | 'Disabled';
  baseImageTriggerEnabled?: boolean;
  baseImageTriggerType?: 'Runtime' | 'All';
  commitTriggerEnabled?: boolean;
  keepRuns?: number;
  logRetentionDays?: number;
}

/** The flags `task create` and `task update` share; `create` makes the essential ones required. */
function definitionOptions(cmd: Command, required: boolean): Command {
  const option = (flags: string, description: string, parse?: (value: string, previous: never) => unknown) => {
    if (required) cmd.requiredOption(flags, description, parse as never);
    else cmd.option(flags, description, parse as never);
  };
  option('--registry <host>', 'login server the task pushes to, e.g. 127.0.0.1:5000');
  // Not required: a task file (--file x.yaml) names its images in its push steps.
  cmd.option('--image <template>', "image to push, relative to the registry, e.g. 'helloworld:{{.Run.ID}}' (repeatable; none with a task file)", collect);
  option('--context <context>', 'git URL[#branch[:folder]] or a local folder');
  return cmd
    .option('--file <path>', 'Dockerfile path inside the context (default Dockerfile); a .yaml/.yml file is a multi-step task file')
    .option('--arg <KEY=VALUE>', 'build argument (repeatable)', keyValue)
    .option('--platform <os/arch>', 'platform to build for (default linux/amd64)')
    .option('--base-image-trigger-enabled <true|false>', 'rebuild when a base image changes', boolean('--base-image-trigger-enabled'))
    .option('--base-image-trigger-type <Runtime|All>', 'which base images trigger: the final stage (Runtime) or all', oneOf('--base-image-trigger-type', ['Runtime', 'All'] as const))
    .option('--commit-trigger-enabled <true|false>', 'rebuild on a git push to the context', boolean('--commit-trigger-enabled'))
    .option('--status <Enabled|Disabled>', 'a disabled task is never triggered', oneOf('--status', ['Enabled', 'Disabled'] as const))
    .option('--keep-runs <n>', 'finished runs kept (default 50)', positiveInteger('--keep-runs', 50))
    .option('--log-retention-days <days>', 'days a finished run and its log are kept (default 30)', positiveInteger('--log-retention-days', 30));
}

async function definitionBody(ctx: CliContext, opts: TaskDefinitionOptions): Promise<Partial<CreateTaskInput>> {
  const body: Partial<CreateTaskInput> = {};
  if (opts.registry !== undefined) body.registry = opts.registry;
  if (opts.image !== undefined) body.images = opts.image;
  if (opts.context !== undefined) body.context = await resolveContext(opts.context, ctx.cwd);
  if (opts.file !== undefined) body.file = opts.file;
  if (opts.arg !== undefined) body.args = opts.arg;
  if (opts.platform !== undefined) body.platform = opts.platform;
  if (opts.status !== undefined) body.status = opts.status;
  if (opts.baseImageTriggerEnabled !== undefined) body.baseImageTriggerEnabled = opts.baseImageTriggerEnabled;
  if (opts.baseImageTriggerType !== undefined) body.baseImageTriggerType = opts.baseImageTriggerType;
  if (opts.commitTriggerEnabled !== undefined) body.commitTriggerEnabled = opts.commitTriggerEnabled;
  if (opts.keepRuns !== undefined) body.keepRuns = opts.keepRuns;
  if (opts.logRetentionDays !== undefined) body.logRetentionDays = opts.logRetentionDays;
  return body;
}

export function registerTaskCommands(program: Command, ctx: CliContext): void {
  const task = program.command('task').description('manage tasks that build images, and their runs');

  act<TaskDefinitionOptions>(
    definitionOptions(leaf(task, 'create', 'create a task').requiredOption('--name <name>', 'task name'), true),
    ctx,
    async (opts) => {
      const created = await ctx.api().createTask({ name: opts.name, ...(await definitionBody(ctx, opts)) });
      if (opts.output === 'json') ctx.json(created);
      else ctx.out(formatTask(created));
    },
  );

  act<TaskDefinitionOptions>(
    definitionOptions(leaf(task, 'update', 'change some settings of a task').requiredOption('--name <name>', 'task name'), false),
    ctx,
    async (opts) => {
      const body = await definitionBody(ctx, opts);
      if (Object.keys(body).length === 0) {
        throw new UsageError('nothing to update: add at least one setting, such as --image or --status Disabled');
      }
      const updated = await ctx.api().updateTask(opts.name, body);
      if (opts.output === 'json') ctx.json(updated);
      else ctx.out(formatTask(updated));
    },
  );

  act<OutputOptions & { name: string }>(
    leaf(task, 'show', 'show a task and the base images it depends on').requiredOption('--name <name>', 'task name'),
    ctx,
    async (opts) => {
      const detail = await ctx.api().getTask(opts.name);
      if (opts.output === 'json') ctx.json(detail);
      else ctx.out(formatTaskDetail(detail));
    },
  );

  act<OutputOptions>(leaf(task, 'list', 'list the tasks'), ctx, async (opts) => {
    const tasks = await ctx.api().listTasks();
    if (opts.output === 'json') ctx.json(tasks);
    else ctx.out(formatTasksTable(tasks));
  });

  act<OutputOptions & { name: string; yes?: boolean }>(
    leaf(task, 'delete', 'delete a task').requiredOption('--name <name>', 'task name').option('--yes', 'do not ask for confirmation'),
    ctx,
    async (opts) => {
      if (!opts.yes && !(await confirm(ctx.io.stdin, ctx.io.stderr, `Delete task "${opts.name}"?`))) {
        ctx.err(`Task "${opts.name}" was not deleted: answer y, or pass --yes to delete without asking.\n`);
        return 1;
      }
      await ctx.api().deleteTask(opts.name);
      if (opts.output === 'table') ctx.out(`Deleted task "${opts.name}".\n`);
    },
  );

  registerCredentialCommands(task, ctx);
  registerTimerCommands(task, ctx);

  act<OutputOptions & { name: string; wait: boolean }>(
    leaf(task, 'run', 'run a task by hand and follow its log')
      .requiredOption('--name <name>', 'task name')
      .option('--no-wait', 'return once the run is queued'),
    ctx,
    async (opts) => reportQueuedRun(ctx, await ctx.api().runTask(opts.name), opts.output, opts.wait),
  );

  act<OutputOptions & { name?: string; runStatus?: RunStatus; top: number }>(
    leaf(task, 'list-runs', 'list runs, newest first')
      .option('--name <name>', 'only the runs of this task')
      .option('--run-status <status>', `only runs in this status (${RUN_STATUSES.join(', ')})`, oneOf('--run-status', RUN_STATUSES))
      .option('--top <n>', 'at most this many runs', positiveInteger('--top', 15), 15),
    ctx,
    async (opts) => {
      const runs = await ctx.api().listRuns({ task: opts.name, status: opts.runStatus, top: opts.top });
      if (opts.output === 'json') ctx.json(runs);
      else ctx.out(formatRunsTable(runs));
    },
  );

  act<OutputOptions & { runId: string }>(
    leaf(task, 'show-run', 'show one run').requiredOption('--run-id <id>', 'run ID, e.g. da1'),
    ctx,
    async (opts) => {
      const run = await ctx.api().getRun(opts.runId);
      if (opts.output === 'json') ctx.json(run);
      else ctx.out(formatRun(run));
    },
  );

  act<OutputOptions & { runId?: string; name?: string }>(
    leaf(task, 'logs', "print a run's log, following it while the run goes on")
      .option('--run-id <id>', 'run ID, e.g. da1')
      .option('--name <name>', "the task whose newest run's log to print"),
    ctx,
    async (opts) => {
      if ((opts.runId === undefined) === (opts.name === undefined)) {
        throw new UsageError('give either --run-id ID or --name TASK (its newest run), not both or neither');
      }
      const api = ctx.api();
      let runId = opts.runId;
      if (runId === undefined) {
        const [newest] = await api.listRuns({ task: opts.name, top: 1 });
        if (!newest) {
          ctx.err(`error: task "${opts.name}" has no runs yet: start one with "cascade task run --name ${opts.name}"\n`);
          return 1;
        }
        runId = newest.id;
      }
      if (opts.output === 'json') {
        // A log is text, not JSON: give scripts the run's state with the log so far.
        const run = await api.getRun(runId);
        const log = await api.getLog(runId, 0);
        ctx.json({ runId: run.id, status: run.status, complete: isTerminal(run), log: log.toString('utf8') });
        return;
      }
      await followRun(api, runId, ctx.io.stdout, ctx.pollIntervalMs);
    },
  );

  act<OutputOptions & { runId: string }>(
    leaf(task, 'cancel-run', 'cancel a queued or running run').requiredOption('--run-id <id>', 'run ID, e.g. da1'),
    ctx,
    async (opts) => {
      const run = await ctx.api().cancelRun(opts.runId);
      if (opts.output === 'json') ctx.json(run);
      else ctx.out(run.status === 'Canceled' ? `Run ID: ${run.id} was canceled.\n` : `Run ID: ${run.id} is ${run.status}; cancellation was requested.\n`);
    },
  );
}

function registerCredentialCommands(task: Command, ctx: CliContext): void {
  const credential = task.command('credential').description('credentials a task uses to pull its base images');

  act<OutputOptions & { name: string; loginServer: string; username?: string; passwordStdin?: boolean; useIdentity?: string }>(
    leaf(credential, 'add', 'let a task log in to a registry')
      .requiredOption('--name <name>', 'task name')
      .requiredOption('--login-server <host>', 'the registry, e.g. base.example.com')
      .option('--username <username>', 'user name, with the password piped to --password-stdin')
      .option('--password-stdin', 'read the password from stdin')
      .option('--use-identity <role-arn>', 'an IAM role the build assumes instead of a password'),
    ctx,
    async (opts) => {
      const example = `cascade task credential add --name ${opts.name} --login-server ${opts.loginServer} --username USER --password-stdin`;
      const withPassword = opts.username !== undefined || opts.passwordStdin === true;
      if (withPassword && opts.useIdentity !== undefined) {
        throw new UsageError('give either --username with --password-stdin or --use-identity ROLE_ARN, not both');
      }
      if (!withPassword && opts.useIdentity === undefined) {
        throw new UsageError('say how the task logs in: --username USER --password-stdin, or --use-identity ROLE_ARN');
      }
      if (withPassword && opts.username === undefined) throw new UsageError('add --username USER to go with --password-stdin');
      if (withPassword && !opts.passwordStdin) {
        throw new UsageError(`add --password-stdin and pipe the password in, e.g. printf '%s' "$PASSWORD" | ${example}`);
      }
      const updated = await ctx.api().addCredential(
        opts.name,
        opts.useIdentity !== undefined
          ? { loginServer: opts.loginServer, identity: opts.useIdentity }
          : { loginServer: opts.loginServer, username: opts.username ?? '', password: await readPasswordFromStdin(ctx.io.stdin, example) },
      );
      if (opts.output === 'json') ctx.json(updated);
      else ctx.out(`Task "${updated.name}" can now log in to ${opts.loginServer}.\n`);
    },
  );

  act<OutputOptions & { name: string; loginServer: string }>(
    leaf(credential, 'remove', "remove a task's credential for a registry")
      .requiredOption('--name <name>', 'task name')
      .requiredOption('--login-server <host>', 'the registry'),
    ctx,
    async (opts) => {
      const updated = await ctx.api().removeCredential(opts.name, opts.loginServer);
      if (opts.output === 'json') ctx.json(updated);
      else ctx.out(`Task "${updated.name}" no longer has a credential for ${opts.loginServer}.\n`);
    },
  );
}
