// /console/tasks/<name>: a task's settings, triggers, timers with their next occurrence, the base
// images its last successful run captured (or "not captured yet"), its last runs, and buttons to
// run it and to enable or disable it.
import { useState } from 'preact/hooks';
import type { Task } from '../../../domain/types';
import { formatContext, formatPlatform } from '../../../cli/format';
import { consoleApi } from '../console-api';
import { DataTable, Digest, ErrorNote, KeyValues, Loading, Time } from '../components';
import { Link, navigate, paths } from '../router';
import { usePolled } from '../use-polled';
import { RunsTable } from './runs-view';
import { triggerWords } from './tasks-view';

const LAST_RUNS = 10;
const LAST_RUNS_REFRESH_MS = 2000;

export function TaskView({ name }: { name: string }) {
  const detail = usePolled(() => consoleApi.getTask(name), [name]);
  const timers = usePolled(() => consoleApi.listTimers(name), [name]);
  const runs = usePolled(() => consoleApi.listRuns({ task: name, top: LAST_RUNS }), [name], () => LAST_RUNS_REFRESH_MS);
  const task = detail.data?.task;

  if (!task) {
    return (
      <section>
        <h1>Task {name}</h1>
        <ErrorNote error={detail.error} what={`load task ${name}`} />
        {!detail.error && <Loading what={`load task ${name}`} />}
      </section>
    );
  }
  const dependencies = detail.data?.dependencies ?? [];
  return (
    <section aria-labelledby="task-title">
      <h1 id="task-title">Task {task.name}</h1>
      <TaskActions task={task} onChanged={() => detail.reload()} />
      <h2>Settings</h2>
      <KeyValues
        rows={[
          ['Status', task.status],
          ['Registry', <code>{task.registry}</code>],
          ['Images', task.images.join(', ')],
          ['Context', <code>{formatContext(task.context)}</code>],
          ['Dockerfile', task.dockerfile],
          ['Build args', Object.entries(task.buildArgs).map(([k, v]) => `${k}=${v}`).join(', ')],
          ['Platform', formatPlatform(task.platform)],
          ['Credentials', task.credentials.map((c) => (c.kind === 'basic' ? `${c.loginServer} (username ${c.username})` : `${c.loginServer} (identity ${c.roleArn})`)).join(', ')],
          ['History', task.history ? `${task.history.keepRuns} runs, logs ${task.history.logRetentionDays} days` : undefined],
          ['Created', <Time at={task.createdAt} />],
          ['Updated', <Time at={task.updatedAt} />],
        ]}
      />
      <h2>Triggers</h2>
      <KeyValues
        rows={[
          ['Base image trigger', task.baseImageTrigger.enabled ? `Enabled (${task.baseImageTrigger.type})` : 'Disabled'],
          ['Commit trigger', task.context.kind !== 'git' ? 'Not available (local context)' : task.commitTrigger.enabled ? 'Enabled' : 'Disabled'],
          ['In short', triggerWords(task)],
        ]}
      />
      <h3>Timers</h3>
      <ErrorNote error={timers.error} what="load the timers" />
      {timers.data === undefined ? (
        !timers.error && <Loading what="timers" />
      ) : timers.data.length === 0 ? (
        <p class="empty">No timers.</p>
      ) : (
        <DataTable columns={['NAME', 'SCHEDULE (UTC)', 'ENABLED', 'NEXT', 'LAST FIRED']}>
          {timers.data.map((timer) => (
            <tr key={timer.name}>
              <td>{timer.name}</td>
              <td>
                <code>{timer.schedule}</code>
              </td>
              <td>{timer.enabled ? 'yes' : 'no'}</td>
              <td>{timer.enabled ? <Time at={timer.next} /> : <span class="muted">disabled</span>}</td>
              <td>
                <Time at={timer.lastFired} />
              </td>
            </tr>
          ))}
            </DataTable>
      )}
      <h2>Base images</h2>
      {!detail.data?.dependenciesCaptured ? (
        <p class="empty not-captured">Dependencies not captured yet: its first successful run records them. Run the task once.</p>
      ) : dependencies.length === 0 ? (
        <p class="empty">The task has no base images that can trigger it.</p>
      ) : (
        <DataTable columns={['REGISTRY/REPOSITORY:TAG', 'DIGEST', 'STAGE', 'CAPTURED', 'LAST RUN']}>
          {dependencies.map((dep) => {
            const ref = `${dep.registry}/${dep.repository}:${dep.tag}`;
            return (
              <tr key={`${ref}@${dep.stage}`}>
                <td class="wrap">
                  <Link href={paths.graph(ref)}>
                    <code>{ref}</code>
                  </Link>
                  {dep.pinned && ' (pinned)'}
                  {dep.tagGoneAt && ' (tag deleted)'}
                </td>
                <td>
                  <Digest digest={dep.digest} />
                </td>
                <td>{dep.stage}</td>
                <td>
                  <Time at={dep.capturedAt} />
                </td>
                <td>{dep.lastRun ? <Link href={paths.run(dep.lastRun)}>{dep.lastRun}</Link> : ''}</td>
              </tr>
            );
          })}
            </DataTable>
      )}
      <h2>Last runs</h2>
      <ErrorNote error={runs.error} what="load the runs" />
      {runs.data === undefined ? !runs.error && <Loading what="runs" /> : <RunsTable runs={runs.data} />}
      <p>
        <Link href={paths.runs({ task: task.name })}>All runs of {task.name}</Link>
      </p>
    </section>
  );
}

/** Run the task now (and follow the new run), or enable / disable it. */
function TaskActions({ task, onChanged }: { task: Task; onChanged: () => void }) {
  const [busy, setBusy] = useState<'run' | 'status'>();
  const [lastAction, setLastAction] = useState<'run' | 'status'>();
  const [error, setError] = useState<Error>();
  const act = async (what: 'run' | 'status') => {
    setBusy(what);
    setLastAction(what);
    setError(undefined);
    try {
      if (what === 'run') {
        const run = await consoleApi.runTask(task.name);
        navigate(paths.run(run.id));
        return;
      }
      await consoleApi.setTaskStatus(task.name, task.status === 'Enabled' ? 'Disabled' : 'Enabled');
      onChanged();
    } catch (failure) {
      setError(failure as Error);
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <div class="actions">
      <button type="button" class="primary" disabled={busy !== undefined} onClick={() => void act('run')}>
        {busy === 'run' ? 'Starting…' : 'Run task'}
      </button>
      <button type="button" disabled={busy !== undefined} onClick={() => void act('status')}>
        {task.status === 'Enabled' ? 'Disable task' : 'Enable task'}
      </button>
      <ErrorNote error={error} what={lastAction === 'run' ? 'start a run' : 'change the status'} />
    </div>
  );
}
