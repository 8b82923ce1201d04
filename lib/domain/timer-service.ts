// Timer triggers: several 5-field cron schedules (UTC) per task. On AWS each is an EventBridge
// Scheduler schedule that invokes the dispatcher with its occurrence; the local stack ticks.
// Either way an occurrence fires once: the claim on the timer's cursor decides (TimerStateStore).
import { nextOccurrence, occurrencesBetween, parseCron } from './cron';
import { ConflictError, NotFoundError, ValidationError } from './errors';
import type { Clock, TaskStore, TimerScheduler, TimerStateStore } from './ports';
import type { RunService } from './run-service';
import type { Task, TaskTimer } from './types';

export interface TimerServiceDeps {
  tasks: TaskStore;
  timerStates: TimerStateStore;
  runs: RunService;
  clock: Clock;
  /** Absent locally: the stack's loop calls `tick`. */
  scheduler?: TimerScheduler;
}

/** As many timers as one task may have: more is a mistake, not a schedule. */
export const MAX_TIMERS_PER_TASK = 10;

export interface TimerView extends TaskTimer {
  /** The next occurrence, UTC. */
  next: string;
  lastFired?: string;
}

export type FireOutcome =
  | { fired: true; task: string; timer: string; occurrence: string; runId: string; missed: number }
  | { fired: false; task: string; timer: string; occurrence: string; reason: string };

export class TimerService {
  constructor(private readonly deps: TimerServiceDeps) {}

  async list(taskName: string): Promise<TimerView[]> {
    const task = await this.task(taskName);
    const now = this.deps.clock.now();
    return Promise.all(
      (task.timers ?? []).map(async (timer) => {
        const lastFired = await this.deps.timerStates.lastFired(task.name, timer.name);
        return { ...timer, next: nextOccurrence(parseCron(timer.schedule), now).toISOString(), ...(lastFired !== undefined && { lastFired }) };
      }),
    );
  }

  async add(taskName: string, input: { name: string; schedule: string; enabled: boolean }): Promise<TaskTimer> {
    const task = await this.task(taskName);
    const timers = task.timers ?? [];
    if (timers.some((t) => t.name === input.name)) throw new ConflictError(`task "${taskName}" already has a timer "${input.name}"`);
    if (timers.length >= MAX_TIMERS_PER_TASK) throw new ValidationError(`task "${taskName}" already has ${MAX_TIMERS_PER_TASK} timers, the most a task may have`, 'timer');
    const now = this.deps.clock.now().toISOString();
    const timer: TaskTimer = { name: input.name, schedule: parseCron(input.schedule).expression, enabled: input.enabled, createdAt: now, updatedAt: now };
    // A timer added again under a removed one's name starts afresh.
    await this.deps.timerStates.forget(task.name, timer.name);
    await this.save(task, [...timers, timer], timer);
    return timer;
  }

  async update(taskName: string, timerName: string, input: { schedule?: string; enabled?: boolean }): Promise<TaskTimer> {
    const task = await this.task(taskName);
    const timers = task.timers ?? [];
    const current = timers.find((t) => t.name === timerName);
    if (!current) throw new NotFoundError('timer', `${taskName}/${timerName}`);
    const timer: TaskTimer = {
      ...current,
      schedule: input.schedule !== undefined ? parseCron(input.schedule).expression : current.schedule,
      enabled: input.enabled ?? current.enabled,
      updatedAt: this.deps.clock.now().toISOString(),
    };
    await this.save(task, timers.map((t) => (t.name === timerName ? timer : t)), timer);
    return timer;
  }

  async remove(taskName: string, timerName: string): Promise<void> {
    const task = await this.task(taskName);
    const timers = task.timers ?? [];
    if (!timers.some((t) => t.name === timerName)) throw new NotFoundError('timer', `${taskName}/${timerName}`);
    await this.deps.scheduler?.remove(task.name, timerName);
    await this.deps.tasks.setTimers(task.name, timers.filter((t) => t.name !== timerName), this.deps.clock.now().toISOString());
    await this.deps.timerStates.forget(task.name, timerName);
  }

  /** Removes every timer of a task that is being deleted, outside cascade's records too. */
  async removeAll(task: Task): Promise<void> {
    for (const timer of task.timers ?? []) {
      await this.deps.scheduler?.remove(task.name, timer.name);
      await this.deps.timerStates.forget(task.name, timer.name);
    }
  }

  /**
   * Fires one occurrence of a timer: a `Timer` run, once, whoever asks (a Scheduler invocation
   * delivered twice, two ticks, a tick after a restart). A disabled task or timer lets the
   * occurrence pass: it is not built later either.
   */
  async fire(taskName: string, timerName: string, occurrence: string, missed = 0): Promise<FireOutcome> {
    const at = Date.parse(occurrence);
    if (Number.isNaN(at)) throw new ValidationError(`occurrence "${occurrence}" is not a date`, 'occurrence');
    // Scheduler writes `2026-12-01T03:00:00Z`; the tick `…:00.000Z`: one form, so the claims compare.
    const when = new Date(Math.floor(at / 60_000) * 60_000).toISOString();
    const outcome = (reason: string): FireOutcome => ({ fired: false, task: taskName, timer: timerName, occurrence: when, reason });
    const task = await this.deps.tasks.get(taskName);
    if (!task) return outcome(`task ${taskName} no longer exists`);
    const timer = task.timers?.find((t) => t.name === timerName);
    if (!timer) return outcome(`task ${taskName} has no timer ${timerName}`);
    const previous = await this.deps.timerStates.lastFired(taskName, timerName);
    if (!(await this.deps.timerStates.claim(taskName, timerName, when))) return outcome(`occurrence ${when} of ${taskName}/${timerName} was already fired`);
    if (task.status !== 'Enabled') return outcome(`task ${taskName} is disabled`);
    if (!timer.enabled) return outcome(`timer ${timerName} of ${taskName} is disabled`);
    let run;
    try {
      run = await this.deps.runs.createTaskRun(task, {
        trigger: 'Timer',
        cause: { kind: 'timer', timerName, occurrence: when, ...(missed > 0 && { missed }) },
        origin: { root: `timer:${taskName}/${timerName}@${when}`, via: [] },
      });
    } catch (error) {
      await this.deps.timerStates.release(taskName, timerName, when, previous);
      throw error;
    }
    await this.deps.runs.startOrQueue(run);
    return { fired: true, task: taskName, timer: timerName, occurrence: when, runId: run.id, missed };
  }

  /**
   * The local stack's clock: fires what came due since each timer last fired (or was set).
   * Occurrences missed while the stack was down are folded into one run of the latest, as
   * anacron does, rather than a burst of builds of the same sources.
   */
  async tick(): Promise<FireOutcome[]> {
    const now = this.deps.clock.now();
    const outcomes: FireOutcome[] = [];
    for (const task of await this.deps.tasks.list()) {
      for (const timer of task.timers ?? []) {
        // A disabled timer is set afresh (updatedAt) when enabled again: nothing to keep up with.
        if (!timer.enabled) continue;
        const lastFired = await this.deps.timerStates.lastFired(task.name, timer.name);
        const since = new Date(Math.max(Date.parse(timer.updatedAt), lastFired ? Date.parse(lastFired) : 0));
        const due = occurrencesBetween(parseCron(timer.schedule), since, now, 10_000);
        const latest = due.at(-1);
        if (!latest) continue;
        outcomes.push(await this.fire(task.name, timer.name, latest.toISOString(), due.length - 1));
      }
    }
    return outcomes;
  }

  private async task(name: string): Promise<Task> {
    const task = await this.deps.tasks.get(name);
    if (!task) throw new NotFoundError('task', name);
    return task;
  }

  /** The schedule outside first: a task that lists a timer always has its schedule. */
  private async save(task: Task, timers: TaskTimer[], changed: TaskTimer): Promise<void> {
    await this.deps.scheduler?.put(task.name, changed);
    // The timers alone: a build recording its task's dependencies meanwhile keeps what it wrote.
    await this.deps.tasks.setTimers(task.name, timers, this.deps.clock.now().toISOString());
  }
}
