// /console/tasks: every task, as `task list` prints them, each a link to its page.
import type { Task } from '../../../domain/types';
import { formatContext, formatPlatform } from '../../../cli/format';
import { consoleApi } from '../console-api';
import { DataTable, ErrorNote, Loading } from '../components';
import { Link, paths } from '../router';
import { usePolled } from '../use-polled';

const TASKS_REFRESH_MS = 5000;

/** The triggers a task answers to, in words. */
export function triggerWords(task: Task): string {
  const triggers: string[] = [];
  if (task.baseImageTrigger.enabled) triggers.push(`base image (${task.baseImageTrigger.type})`);
  if (task.commitTrigger.enabled && task.context.kind === 'git') triggers.push('commit');
  const timers = (task.timers ?? []).filter((t) => t.enabled).length;
  if (timers > 0) triggers.push(`${timers} timer${timers === 1 ? '' : 's'}`);
  return triggers.join(', ') || 'by hand only';
}

export function TasksView() {
  const tasks = usePolled(() => consoleApi.listTasks(), [], () => TASKS_REFRESH_MS);
  return (
    <section aria-labelledby="tasks-title">
      <h1 id="tasks-title">Tasks</h1>
      <ErrorNote error={tasks.error} what="load the tasks" />
      {tasks.data === undefined ? (
        !tasks.error && <Loading what="tasks" />
      ) : tasks.data.length === 0 ? (
        <p class="empty">
          No tasks yet: make one with <code>cascade task create</code>.
        </p>
      ) : (
        <DataTable columns={['NAME', 'PLATFORM', 'STATUS', 'CONTEXT', 'TRIGGERS']}>
          {tasks.data.map((task) => (
            <tr key={task.name}>
              <td>
                <Link href={paths.task(task.name)}>{task.name}</Link>
              </td>
              <td>{formatPlatform(task.platform)}</td>
              <td>{task.status}</td>
              <td class="wrap">
                <code>{formatContext(task.context)}</code>
              </td>
              <td>{triggerWords(task)}</td>
            </tr>
          ))}
            </DataTable>
      )}
    </section>
  );
}
