// Timers on AWS: one EventBridge Scheduler schedule per task timer, in the installation's schedule
// group, invoking the dispatcher Lambda. The payload names the task and the timer, and Scheduler
// writes the occurrence into it at each invocation; the dispatcher reads it back with
// parseTimerInvocation.
import { createHash } from 'node:crypto';
import { CreateScheduleCommand, DeleteScheduleCommand, UpdateScheduleCommand, type SchedulerClient, type UpdateScheduleCommandInput } from '@aws-sdk/client-scheduler';
import * as z from 'zod';
import { parseCron, toScheduleExpression } from '../domain/cron';
import { ValidationError } from '../domain/errors';
import type { TimerScheduler } from '../domain/ports';
import type { TaskTimer } from '../domain/types';
import { errorName, retryableIfTransient } from '../aws/sdk-errors';

export interface EventBridgeTimerSchedulerOptions {
  client: SchedulerClient;
  /** The installation's schedule group: every timer schedule lives in it. */
  groupName: string;
  /** The dispatcher Lambda. */
  targetArn: string;
  /** The role Scheduler assumes to invoke it. */
  roleArn: string;
  /** Where Scheduler sends an invocation that failed every retry (an SQS queue). */
  deadLetterArn?: string;
}

/** What a timer's schedule hands the dispatcher. */
export interface TimerInvocation {
  task: string;
  timer: string;
  /** The occurrence as an ISO-8601 instant in UTC, e.g. `2024-02-01T00:00:00.000Z`. */
  occurrence: string;
}

/** Scheduler's context attribute, replaced at each invocation by the time it was scheduled for. */
const SCHEDULED_TIME = '<aws.scheduler.scheduled-time>';

// The same names the API accepts (lib/http/api-schemas.ts): a timer outside them could never run.
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$/;
const NAME_RULE = 'must be 1-50 letters, digits, "-" or "_", starting with a letter or digit';
const nameSchema = z.string({ error: NAME_RULE }).regex(NAME, NAME_RULE);

const invocationSchema = z.object(
  {
    task: nameSchema,
    timer: nameSchema,
    occurrence: z.iso.datetime({ offset: true, error: 'must be an ISO-8601 instant such as 2024-02-01T00:00:00Z' }),
  },
  { error: 'must be an object with task, timer and occurrence' },
);

/**
 * The schedule's name: Scheduler allows 64 characters of `[0-9a-zA-Z-_.]`, which task and timer
 * names together can exceed, so it is a hash of both (80 bits); `Description` keeps them readable.
 */
export function scheduleName(taskName: string, timerName: string): string {
  return `cascade-${createHash('sha256').update(`${taskName}\n${timerName}`).digest('hex').slice(0, 20)}`;
}

/**
 * The timer named in a dispatcher invocation: undefined when the payload is not a timer's (no
 * `cascadeTimer` key), ValidationError naming the field when it is one but malformed.
 */
export function parseTimerInvocation(payload: unknown): TimerInvocation | undefined {
  if (typeof payload !== 'object' || payload === null || !Object.hasOwn(payload, 'cascadeTimer')) return undefined;
  const parsed = invocationSchema.safeParse((payload as { cascadeTimer: unknown }).cascadeTimer);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = ['cascadeTimer', ...(issue?.path ?? []).map(String)].join('.');
    throw new ValidationError(`timer invocation: ${field} ${issue?.message ?? 'is invalid'}`, field);
  }
  const { task, timer, occurrence } = parsed.data;
  // One text per instant (offsets and precision vary), as the local stack writes occurrences.
  return { task, timer, occurrence: new Date(occurrence).toISOString() };
}

export class EventBridgeTimerScheduler implements TimerScheduler {
  constructor(private readonly options: EventBridgeTimerSchedulerOptions) {}

  async put(taskName: string, timer: TaskTimer): Promise<void> {
    // Everything that can be refused is refused before the first request.
    const input = this.scheduleInput(taskName, timer);
    const { client } = this.options;
    try {
      try {
        // UpdateSchedule replaces every field, so one call covers a changed schedule or state.
        await client.send(new UpdateScheduleCommand(input));
        return;
      } catch (error) {
        if (errorName(error) !== 'ResourceNotFoundException') throw error;
      }
      try {
        await client.send(new CreateScheduleCommand(input));
      } catch (error) {
        // Another put created it between our two requests: make it what this put says.
        if (errorName(error) !== 'ConflictException') throw error;
        await client.send(new UpdateScheduleCommand(input));
      }
    } catch (error) {
      throw failure(error, `putting the schedule ${input.Name} of timer ${taskName}/${timer.name}`);
    }
  }

  async remove(taskName: string, timerName: string): Promise<void> {
    const name = scheduleName(taskName, timerName);
    try {
      await this.options.client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.options.groupName }));
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') return;
      throw failure(error, `removing the schedule ${name} of timer ${taskName}/${timerName}`);
    }
  }

  private scheduleInput(taskName: string, timer: TaskTimer): UpdateScheduleCommandInput {
    for (const [field, value] of [
      ['taskName', taskName],
      ['timer.name', timer.name],
    ] as const) {
      if (!NAME.test(value)) throw new ValidationError(`${field} "${value}" ${NAME_RULE}`, field);
    }
    const { groupName, targetArn, roleArn, deadLetterArn } = this.options;
    return {
      Name: scheduleName(taskName, timer.name),
      GroupName: groupName,
      Description: `${taskName}/${timer.name}`,
      ScheduleExpression: toScheduleExpression(parseCron(timer.schedule)),
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: timer.enabled ? 'ENABLED' : 'DISABLED',
      Target: {
        Arn: targetArn,
        RoleArn: roleArn,
        Input: JSON.stringify({ cascadeTimer: { task: taskName, timer: timer.name, occurrence: SCHEDULED_TIME } }),
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        ...(deadLetterArn !== undefined && { DeadLetterConfig: { Arn: deadLetterArn } }),
      },
    };
  }
}

/**
 * Throttling and server faults become RetryableError. Anything else (a missing group, a role
 * Scheduler cannot assume, the account's schedule quota, which waiting does not free) is
 * passed on with what was being done, the SDK error kept as the cause.
 */
function failure(error: unknown, action: string): unknown {
  const retryable = retryableIfTransient(error, action);
  if (retryable !== error) return retryable;
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new Error(`${action} failed: ${detail}`, { cause: error });
}
