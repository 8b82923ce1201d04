// /console/runs: the `task list-runs` table, newest first, filtered by task and status, asked
// for again every second so that a run appears and finishes without a reload.
import type { Run, RunStatus } from '../../../domain/types';
import { RUN_STATUSES } from '../../../domain/types';
import { formatClockDuration, formatPlatform, runDurationMs, RUN_COLUMNS } from '../../../cli/format';
import { consoleApi } from '../console-api';
import { DataTable, ErrorNote, Loading, StatusBadge, Time } from '../components';
import { Link, navigate, paths, type ConsoleLocation } from '../router';
import { usePolled } from '../use-polled';

/** How often the table is asked for again: a run shows within two seconds of starting or ending. */
export const RUNS_REFRESH_MS = 1000;
const TOP_CHOICES = [15, 50, 100, 500, 1000];
const DEFAULT_TOP = 50;

export function RunsView({ location }: { location: ConsoleLocation }) {
  const task = location.query.get('task') ?? undefined;
  const statusText = location.query.get('status') ?? undefined;
  const status = RUN_STATUSES.includes(statusText as RunStatus) ? (statusText as RunStatus) : undefined;
  const topText = Number(location.query.get('top') ?? DEFAULT_TOP);
  const top = TOP_CHOICES.includes(topText) ? topText : DEFAULT_TOP;
  const runs = usePolled(() => consoleApi.listRuns({ task, status, top }), [task, status, top], () => RUNS_REFRESH_MS);
  const tasks = usePolled(() => consoleApi.listTasks(), []);

  const filter = (change: { task?: string; status?: string; top?: number }) =>
    navigate(paths.runs({ task, status, top: top === DEFAULT_TOP ? undefined : top, ...change }), { replace: true });

  return (
    <section aria-labelledby="runs-title">
      <h1 id="runs-title">Runs</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Task
          <select value={task ?? ''} onChange={(e) => filter({ task: (e.target as HTMLSelectElement).value || undefined })}>
            <option value="">all tasks</option>
            {(tasks.data ?? []).map((t) => (
              <option key={t.name} value={t.name}>
                {t.name}
              </option>
            ))}
            {task !== undefined && !(tasks.data ?? []).some((t) => t.name === task) && <option value={task}>{task}</option>}
          </select>
        </label>
        <label>
          Status
          <select value={status ?? ''} onChange={(e) => filter({ status: (e.target as HTMLSelectElement).value || undefined })}>
            <option value="">any status</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Show
          <select value={String(top)} onChange={(e) => filter({ top: Number((e.target as HTMLSelectElement).value) })}>
            {TOP_CHOICES.map((n) => (
              <option key={n} value={String(n)}>
                newest {n}
              </option>
            ))}
          </select>
        </label>
      </form>
      <ErrorNote error={runs.error} what="load the runs" />
      {runs.data === undefined ? runs.error ? null : <Loading what="runs" /> : <RunsTable runs={runs.data} />}
    </section>
  );
}

/** The list-runs columns, one row per run, in the server's order (newest first). */
export function RunsTable({ runs, caption }: { runs: Run[]; caption?: string }) {
  if (runs.length === 0) return <p class="empty">No runs match.</p>;
  return (
    <DataTable columns={RUN_COLUMNS} class="runs-table" caption={caption}>
      {runs.map((run) => (
        <tr key={run.id} data-run-id={run.id}>
          <td>
            <Link href={paths.run(run.id)}>{run.id}</Link>
          </td>
          <td>{run.taskName ? <Link href={paths.task(run.taskName)}>{run.taskName}</Link> : <span class="muted">(quick build)</span>}</td>
          <td data-label="platform">{formatPlatform(run.platform)}</td>
          <td>
            <StatusBadge status={run.status} />
          </td>
          <td data-label="trigger">{run.trigger}</td>
          <td data-label="started">
            <Time at={run.startedAt ?? run.createdAt} />
          </td>
          <td data-label="duration">{formatClockDuration(runDurationMs(run))}</td>
        </tr>
      ))}
        </DataTable>
  );
}
