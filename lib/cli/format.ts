// Pure text formatting for the `cascade` command line: tables, times, durations. No I/O.
import type { BuildContext, Dependency, RegistryCredential, Run, Task } from '../domain/types';
import { TERMINAL_STATUSES } from '../domain/types';

/** Server-side detail of one task, as GET /api/tasks/{name} returns it. */
export interface TaskDetail {
  task: Task;
  /** `lastRun`: the newest recent run a change of that base started. */
  dependencies: Array<Dependency & { lastRun?: string }>;
  dependenciesCaptured: boolean;
}

/** A webhook as the API lists it; `secret` only in the answer to its creation. */
export interface WebhookView {
  name: string;
  provider: string;
  loginServer?: string;
  url: string;
  /** How many secrets are accepted: 2 while a rotation is under way. */
  secrets?: number;
  secret?: string;
  /** What to paste into the provider, with the answers that show a secret. */
  instructions?: string;
  createdAt: string;
}

/**
 * Columns padded to their widest cell, two spaces apart, with a dashed rule under the
 * header as `az ... --output table` prints them. Trailing blanks are trimmed.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    widths
      .map((width, i) => (cells[i] ?? '').padEnd(width))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n') + '\n';
}

/** Labelled lines with the values aligned; pairs whose value is empty are left out. */
export function formatKeyValues(pairs: readonly (readonly [string, string | undefined])[]): string {
  const shown = pairs.filter((pair): pair is readonly [string, string] => pair[1] !== undefined && pair[1] !== '');
  const width = Math.max(0, ...shown.map(([label]) => label.length + 1));
  return shown.map(([label, value]) => `${`${label}:`.padEnd(width)}  ${value}`).join('\n') + '\n';
}

/** `2026-11-28T04:41:11Z`: UTC without milliseconds. Empty for a missing or unreadable time. */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return '';
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `00:00:12` (hh:mm:ss, whole seconds rounded down). Empty when unknown. */
export function formatClockDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '';
  const total = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(total / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
}

/** `12s`, `1m5s`, `2h0m7s`, as ACR's run summary says it; whole seconds rounded down like the table. */
export function formatShortDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** ACR shows the default platform, linux/amd64, as just `linux`; every other platform in full. */
export function formatPlatform(platform: string): string {
  const [os, arch, variant] = platform.split('/');
  return os && arch === 'amd64' && variant === undefined ? os : platform;
}

export function isTerminal(run: Pick<Run, 'status'>): boolean {
  return TERMINAL_STATUSES.includes(run.status);
}

/** How long a finished run took; undefined while it is still queued or running. */
export function runDurationMs(run: Pick<Run, 'status' | 'durationMs' | 'startedAt' | 'finishedAt' | 'createdAt'>): number | undefined {
  if (!isTerminal(run)) return undefined;
  if (run.durationMs !== undefined) return run.durationMs;
  const start = Date.parse(run.startedAt ?? run.createdAt);
  const end = run.finishedAt ? Date.parse(run.finishedAt) : NaN;
  return Number.isNaN(start) || Number.isNaN(end) ? undefined : Math.max(0, end - start);
}

export const RUN_COLUMNS = ['RUN ID', 'TASK', 'PLATFORM', 'STATUS', 'TRIGGER', 'STARTED', 'DURATION'] as const;

/** The `task list-runs` table, in the order given (the server sends newest first). */
export function formatRunsTable(runs: readonly Run[]): string {
  return formatTable(
    RUN_COLUMNS,
    runs.map((run) => [
      run.id,
      run.taskName ?? '',
      formatPlatform(run.platform),
      run.status,
      run.trigger,
      formatTime(run.startedAt ?? run.createdAt),
      formatClockDuration(runDurationMs(run)),
    ]),
  );
}

/** The line that ends a followed run: `Run ID: da1 was successful after 12s`. */
export function formatRunSummary(run: Run): string {
  const after = `after ${formatShortDuration(runDurationMs(run) ?? 0)}`;
  const reason = run.error ? `: ${run.error}` : '';
  switch (run.status) {
    case 'Succeeded':
      return `Run ID: ${run.id} was successful ${after}`;
    case 'Canceled':
      return `Run ID: ${run.id} was canceled ${after}${reason}`;
    case 'Timeout':
      return `Run ID: ${run.id} timed out ${after}${reason}`;
    default:
      return `Run ID: ${run.id} failed ${after}${reason}`;
  }
}

/** A context the way a user types it: `URL#branch:folder` or the local path. */
export function formatContext(context: BuildContext): string {
  if (context.kind === 'local') return context.path;
  const folder = context.folder && context.folder !== '.' && context.folder !== '/' ? `:${context.folder}` : '';
  return `${context.url}#${context.branch}${folder}`;
}

function formatCredential(credential: RegistryCredential): string {
  return credential.kind === 'basic'
    ? `${credential.loginServer} (username ${credential.username})`
    : `${credential.loginServer} (identity ${credential.roleArn})`;
}

function formatArgs(args: Record<string, string>): string {
  return Object.entries(args)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
}

function formatTriggers(task: Task): string {
  const triggers: string[] = [];
  if (task.baseImageTrigger.enabled) triggers.push(`base image (${task.baseImageTrigger.type})`);
  if (task.commitTrigger.enabled && task.context.kind === 'git') triggers.push('commit');
  return triggers.join(', ');
}

export function formatTask(task: Task): string {
  return formatKeyValues([
    ['Name', task.name],
    ['Registry', task.registry],
    ['Images', task.images.join(', ')],
    ['Context', formatContext(task.context)],
    ['Dockerfile', task.dockerfile],
    ['Build args', formatArgs(task.buildArgs)],
    ['Platform', task.platform],
    ['Status', task.status],
    ['Base image trigger', task.baseImageTrigger.enabled ? `Enabled (${task.baseImageTrigger.type})` : 'Disabled'],
    ['Commit trigger', task.commitTrigger.enabled ? 'Enabled' : 'Disabled'],
    ['Credentials', task.credentials.map(formatCredential).join(', ')],
    ['Timers', (task.timers ?? []).map((t) => `${t.name} "${t.schedule}"${t.enabled ? '' : ' (disabled)'}`).join(', ')],
    ['History', task.history ? `${task.history.keepRuns} runs, logs ${task.history.logRetentionDays} days` : undefined],
    ['Created', formatTime(task.createdAt)],
    ['Updated', formatTime(task.updatedAt)],
  ]);
}

export const DEPENDENCY_COLUMNS = ['REGISTRY/REPOSITORY:TAG', 'DIGEST', 'STAGE', 'CAPTURED', 'LAST RUN'] as const;

export function formatDependencies(dependencies: ReadonlyArray<Dependency & { lastRun?: string }>): string {
  return formatTable(
    DEPENDENCY_COLUMNS,
    dependencies.map((dep) => [
      `${dep.registry}/${dep.repository}:${dep.tag}${dep.pinned ? ' (pinned)' : ''}${dep.tagGoneAt ? ' (tag deleted)' : ''}`,
      dep.digest,
      dep.step !== undefined ? `${dep.stage} (step ${dep.step})` : dep.stage,
      formatTime(dep.capturedAt),
      dep.lastRun ?? '',
    ]),
  );
}

/** `task show`: the task, then its base images or how to capture them. */
export function formatTaskDetail(detail: TaskDetail): string {
  const dependencies = detail.dependenciesCaptured
    ? detail.dependencies.length > 0
      ? formatDependencies(detail.dependencies)
      : 'The task has no base images that can trigger it.\n'
    : `Dependencies not captured yet: run the task once (cascade task run --name ${detail.task.name}).\n`;
  return `${formatTask(detail.task)}\n${dependencies}`;
}

export function formatTasksTable(tasks: readonly Task[]): string {
  return formatTable(
    ['NAME', 'PLATFORM', 'STATUS', 'CONTEXT', 'TRIGGERS'],
    tasks.map((task) => [task.name, formatPlatform(task.platform), task.status, formatContext(task.context), formatTriggers(task)]),
  );
}

function formatCause(run: Run): string {
  const cause = run.cause;
  switch (cause.kind) {
    case 'manual':
      return cause.requestedBy ? `run by hand by ${cause.requestedBy}` : 'run by hand';
    case 'image-update':
      return `${cause.base} changed to ${cause.newDigest} (${cause.source})`;
    case 'git-commit':
      return `commit ${cause.commit} on ${cause.ref} of ${cause.repoUrl} (${cause.source})`;
    case 'timer':
      return `timer ${cause.timerName} at ${formatTime(cause.occurrence) || cause.occurrence}`;
  }
}

/** `task show-run`. */
export function formatRun(run: Run): string {
  return formatKeyValues([
    ['Run ID', run.id],
    ['Task', run.taskName ?? '(quick build)'],
    ['Status', run.status],
    ['Trigger', run.trigger],
    ['Cause', formatCause(run)],
    ['Platform', formatPlatform(run.platform)],
    ['Created', formatTime(run.createdAt)],
    ['Started', formatTime(run.startedAt)],
    ['Finished', formatTime(run.finishedAt)],
    ['Duration', formatClockDuration(runDurationMs(run))],
    ['Commit', run.commit],
    ['Output images', run.outputImages.map((image) => `${image.reference}@${image.digest}`).join(', ')],
    ['Base images', run.baseImages.map((base) => `${base.registry}/${base.repository}${base.tag ? `:${base.tag}` : ''}@${base.digest} (${base.stage}${base.step !== undefined ? `, step ${base.step}` : ''})`).join(', ')],
    ['Error', run.error],
  ]) + formatRunSteps(run);
}

/** A task file's steps: each with its status and duration, and why it did not succeed. */
function formatRunSteps(run: Run): string {
  if (!run.steps || run.steps.length === 0) return '';
  const table = formatTable(
    ['STEP', 'TYPE', 'STATUS', 'DURATION', 'DETAIL'],
    run.steps.map((step) => [
      step.id,
      step.kind,
      step.status,
      step.durationMs !== undefined ? formatClockDuration(step.durationMs) : '',
      step.error !== undefined ? `${step.error}${step.ignoredError ? ' (ignored)' : ''}` : '',
    ]),
  );
  return `\nSteps:\n${table}`;
}

export function formatWebhooksTable(webhooks: readonly WebhookView[]): string {
  return formatTable(
    ['NAME', 'PROVIDER', 'LOGIN SERVER', 'URL', 'CREATED'],
    webhooks.map((hook) => [hook.name, hook.provider, hook.loginServer ?? '', hook.url, formatTime(hook.createdAt)]),
  );
}

/** A webhook; its secret too when the server just made it (the only time it is shown). */
export function formatWebhook(hook: WebhookView): string {
  const lines = formatKeyValues([
    ['Name', hook.name],
    ['Provider', hook.provider],
    ['Login server', hook.loginServer],
    ['URL', hook.url],
    ['Secret', hook.secret],
    ['Rotation', hook.secrets !== undefined && hook.secrets > 1 ? 'under way: the old and the new secret are both accepted' : undefined],
    ['Created', formatTime(hook.createdAt)],
  ]);
  if (!hook.secret) return lines;
  const setup = hook.instructions ? `\n${hook.instructions}\n\n` : '';
  return `${lines}${setup}Keep the secret now: cascade will not show it again.\n`;
}
