import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgeTimerScheduler, parseTimerInvocation, scheduleName } from '../../../lib/adapters/eventbridge-timer-scheduler';
import { RetryableError, ValidationError } from '../../../lib/domain/errors';
import type { TaskTimer } from '../../../lib/domain/types';

const GROUP = 'cascade-dev';
const TARGET = 'arn:aws:lambda:eu-west-1:123456789012:function:cascade-dev-dispatcher';
const ROLE = 'arn:aws:iam::123456789012:role/cascade-dev-scheduler';
const DLQ = 'arn:aws:sqs:eu-west-1:123456789012:cascade-dev-timers-dlq';

function timer(overrides: Partial<TaskTimer> = {}): TaskTimer {
  return { name: 'nightly', schedule: '0 3 * * 1-5', enabled: true, createdAt: '2024-02-01T00:00:00.000Z', updatedAt: '2024-02-01T00:00:00.000Z', ...overrides };
}

const awsError = (name: string, httpStatusCode = 400, message = `${name} from the service`) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });

describe('EventBridgeTimerScheduler', () => {
  const scheduler = mockClient(SchedulerClient);
  const client = new SchedulerClient({ region: 'eu-west-1' });
  const timers = (extra: { deadLetterArn?: string } = {}) => new EventBridgeTimerScheduler({ client, groupName: GROUP, targetArn: TARGET, roleArn: ROLE, ...extra });

  beforeEach(() => {
    scheduler.reset();
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/cascade-dev/x' });
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/cascade-dev/x' });
    scheduler.on(DeleteScheduleCommand).resolves({});
  });
  afterAll(() => scheduler.restore());

  const updates = () => scheduler.commandCalls(UpdateScheduleCommand).map((c) => c.args[0].input);
  const creates = () => scheduler.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input);

  describe('put', () => {
    it('replaces the schedule with one UpdateSchedule, every field set', async () => {
      await timers({ deadLetterArn: DLQ }).put('helloworld', timer());

      expect(creates()).toHaveLength(0);
      expect(updates()).toHaveLength(1);
      const input = updates()[0];
      expect(input?.Name).toBe('cascade-8605dfec0abccdf89211');
      expect(input?.Name).toBe(scheduleName('helloworld', 'nightly'));
      expect(input?.GroupName).toBe(GROUP);
      expect(input?.Description).toBe('helloworld/nightly');
      expect(input?.ScheduleExpression).toBe('cron(0 3 ? * 2-6 *)');
      expect(input?.ScheduleExpressionTimezone).toBe('UTC');
      expect(input?.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
      expect(input?.State).toBe('ENABLED');
      expect(input?.Target?.Arn).toBe(TARGET);
      expect(input?.Target?.RoleArn).toBe(ROLE);
      expect(input?.Target?.Input).toBe('{"cascadeTimer":{"task":"helloworld","timer":"nightly","occurrence":"<aws.scheduler.scheduled-time>"}}');
      expect(input?.Target?.RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 });
      expect(input?.Target?.DeadLetterConfig).toEqual({ Arn: DLQ });
      expect(Object.keys(input ?? {}).sort()).toEqual([
        'Description',
        'FlexibleTimeWindow',
        'GroupName',
        'Name',
        'ScheduleExpression',
        'ScheduleExpressionTimezone',
        'State',
        'Target',
      ]);
    });

    it('disables the schedule of a disabled timer, and leaves out the dead-letter queue when there is none', async () => {
      await timers().put('helloworld', timer({ enabled: false, schedule: '*/15 * * * *' }));
      const input = updates()[0];
      expect(input?.State).toBe('DISABLED');
      expect(input?.ScheduleExpression).toBe('cron(0,15,30,45 * * * ? *)');
      expect(input?.Target).not.toHaveProperty('DeadLetterConfig');
    });

    it('hands the dispatcher a payload parseTimerInvocation reads once Scheduler fills in the time', async () => {
      await timers().put('helloworld', timer());
      const delivered = updates()[0]?.Target?.Input?.replace('<aws.scheduler.scheduled-time>', '2024-02-05T03:00:00Z') ?? '';
      expect(parseTimerInvocation(JSON.parse(delivered))).toEqual({ task: 'helloworld', timer: 'nightly', occurrence: '2024-02-05T03:00:00.000Z' });
    });

    it('creates the schedule when there is none to update', async () => {
      scheduler.on(UpdateScheduleCommand).rejects(awsError('ResourceNotFoundException', 404, 'Schedule cascade-8605dfec0abccdf89211 does not exist.'));
      await timers().put('helloworld', timer());
      expect(updates()).toHaveLength(1);
      expect(creates()).toEqual([updates()[0]]);
    });

    it('updates once more when a concurrent put created the schedule first', async () => {
      scheduler
        .on(UpdateScheduleCommand)
        .rejectsOnce(awsError('ResourceNotFoundException', 404))
        .resolves({ ScheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/cascade-dev/x' });
      scheduler.on(CreateScheduleCommand).rejects(awsError('ConflictException', 409, 'Schedule already exists.'));
      await timers().put('helloworld', timer({ schedule: '0 0 1 * *' }));
      expect(creates()).toHaveLength(1);
      expect(updates()).toHaveLength(2);
      expect(updates()[1]).toEqual(creates()[0]);
      expect(updates()[1]?.ScheduleExpression).toBe('cron(0 0 1 * ? *)');
    });

    it('does not loop when that update fails too', async () => {
      scheduler.on(UpdateScheduleCommand).rejects(awsError('ResourceNotFoundException', 404, 'gone again'));
      scheduler.on(CreateScheduleCommand).rejects(awsError('ConflictException', 409));
      const put = timers().put('helloworld', timer());
      await expect(put).rejects.toThrow('putting the schedule cascade-8605dfec0abccdf89211 of timer helloworld/nightly failed: ResourceNotFoundException: gone again');
      expect(updates()).toHaveLength(2);
      expect(creates()).toHaveLength(1);
    });

    it.each([
      ['ThrottlingException', 400],
      ['TooManyRequests', 429],
      ['InternalServerException', 500],
    ])('turns %s (HTTP %d) into RetryableError', async (name, status) => {
      scheduler.on(UpdateScheduleCommand).rejects(awsError(name, status));
      const put = timers().put('helloworld', timer());
      await expect(put).rejects.toBeInstanceOf(RetryableError);
      await expect(put).rejects.toThrow(`putting the schedule cascade-8605dfec0abccdf89211 of timer helloworld/nightly failed for now (${name})`);
    });

    it('turns throttling of the create into RetryableError', async () => {
      scheduler.on(UpdateScheduleCommand).rejects(awsError('ResourceNotFoundException', 404));
      scheduler.on(CreateScheduleCommand).rejects(awsError('ThrottlingException', 400));
      await expect(timers().put('helloworld', timer())).rejects.toBeInstanceOf(RetryableError);
    });

    it.each([
      ['ServiceQuotaExceededException', 402, 'You have exceeded the number of schedules allowed'],
      ['ValidationException', 400, 'The provided execution role does not have permissions to call InvokeFunction'],
    ])('passes %s on, naming the task and timer, with the SDK error as cause', async (name, status, message) => {
      const sdkError = awsError(name, status, message);
      scheduler.on(UpdateScheduleCommand).rejects(awsError('ResourceNotFoundException', 404));
      scheduler.on(CreateScheduleCommand).rejects(sdkError);
      const put = timers().put('helloworld', timer());
      await expect(put).rejects.not.toBeInstanceOf(RetryableError);
      await expect(put).rejects.toThrow(`putting the schedule cascade-8605dfec0abccdf89211 of timer helloworld/nightly failed: ${name}: ${message}`);
      await expect(put).rejects.toMatchObject({ cause: sdkError });
    });

    it.each([
      ['0 0 1 * MON', /both restrict the day/],
      ['61 * * * *', /minute 61 is out of range 0-59/],
      ['@hourly', /macros/],
    ])('refuses the schedule %j before any request', async (schedule, message) => {
      const put = timers().put('helloworld', timer({ schedule }));
      await expect(put).rejects.toBeInstanceOf(ValidationError);
      await expect(put).rejects.toThrow(message);
      await expect(put).rejects.toMatchObject({ field: 'schedule' });
      expect(scheduler.calls()).toHaveLength(0);
    });

    it.each([
      ['a task name', 'hello world', 'nightly', 'taskName'],
      ['a timer name', 'helloworld', '-nightly', 'timer.name'],
      ['a timer name too long', 'helloworld', 'n'.repeat(51), 'timer.name'],
    ])('refuses %s the dispatcher could not read back, before any request', async (_case, task, name, field) => {
      const put = timers().put(task, timer({ name }));
      await expect(put).rejects.toBeInstanceOf(ValidationError);
      await expect(put).rejects.toMatchObject({ field });
      expect(scheduler.calls()).toHaveLength(0);
    });
  });

  describe('remove', () => {
    it('deletes the schedule from the group', async () => {
      await timers().remove('helloworld', 'nightly');
      expect(scheduler.commandCalls(DeleteScheduleCommand).map((c) => c.args[0].input)).toEqual([{ Name: 'cascade-8605dfec0abccdf89211', GroupName: GROUP }]);
    });

    it('treats a schedule that is already gone as removed', async () => {
      scheduler.on(DeleteScheduleCommand).rejects(awsError('ResourceNotFoundException', 404));
      await expect(timers().remove('helloworld', 'nightly')).resolves.toBeUndefined();
    });

    it('turns throttling into RetryableError', async () => {
      scheduler.on(DeleteScheduleCommand).rejects(awsError('ThrottlingException', 400));
      const remove = timers().remove('helloworld', 'nightly');
      await expect(remove).rejects.toBeInstanceOf(RetryableError);
      await expect(remove).rejects.toThrow('removing the schedule cascade-8605dfec0abccdf89211 of timer helloworld/nightly failed for now (ThrottlingException)');
    });

    it('passes other failures on, naming the task and timer', async () => {
      scheduler.on(DeleteScheduleCommand).rejects(awsError('AccessDeniedException', 403, 'not authorized to perform: scheduler:DeleteSchedule'));
      await expect(timers().remove('helloworld', 'nightly')).rejects.toThrow(
        'removing the schedule cascade-8605dfec0abccdf89211 of timer helloworld/nightly failed: AccessDeniedException: not authorized to perform: scheduler:DeleteSchedule',
      );
    });
  });
});

describe('scheduleName', () => {
  const VALID = /^[0-9a-zA-Z\-_.]{1,64}$/;

  it('is the same for the same task and timer, and fits what Scheduler allows', () => {
    expect(scheduleName('helloworld', 'nightly')).toBe('cascade-8605dfec0abccdf89211');
    expect(scheduleName('helloworld', 'nightly')).toBe(scheduleName('helloworld', 'nightly'));
    expect(scheduleName('helloworld', 'nightly')).toMatch(VALID);
  });

  it('fits for the longest names', () => {
    const name = scheduleName('t'.repeat(50), 'n'.repeat(50));
    expect(name).toMatch(VALID);
    expect(name.length).toBeLessThanOrEqual(64);
    expect(name).toMatch(/^cascade-[0-9a-f]{20}$/);
  });

  it('differs between timers, between tasks, and when the names swap', () => {
    const names = [scheduleName('app', 'nightly'), scheduleName('app', 'weekly'), scheduleName('api', 'nightly'), scheduleName('nightly', 'app'), scheduleName('ap', 'pnightly')];
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('parseTimerInvocation', () => {
  const valid = { task: 'helloworld', timer: 'nightly', occurrence: '2024-02-05T03:00:00Z' };

  it.each([
    ['as Scheduler writes it', valid, '2024-02-05T03:00:00.000Z'],
    ['with milliseconds', { ...valid, occurrence: '2024-02-05T03:00:00.250Z' }, '2024-02-05T03:00:00.250Z'],
    ['with an offset', { ...valid, occurrence: '2024-02-05T04:00:00+01:00' }, '2024-02-05T03:00:00.000Z'],
  ])('reads an invocation %s, the occurrence in UTC', (_case, cascadeTimer, occurrence) => {
    expect(parseTimerInvocation({ cascadeTimer })).toEqual({ task: 'helloworld', timer: 'nightly', occurrence });
  });

  it('ignores fields it does not know', () => {
    expect(parseTimerInvocation({ cascadeTimer: { ...valid, attempt: 2 }, other: true })).toEqual({ ...valid, occurrence: '2024-02-05T03:00:00.000Z' });
  });

  it.each([
    ['an SQS event', { Records: [{ body: '{}' }] }],
    ['an empty object', {}],
    ['null', null],
    ['undefined', undefined],
    ['a string', 'cascadeTimer'],
    ['an array', [valid]],
    ['a key inherited, not its own', Object.create({ cascadeTimer: valid })],
  ])('is undefined for %s', (_case, payload) => {
    expect(parseTimerInvocation(payload)).toBeUndefined();
  });

  it.each([
    ['cascadeTimer null', null, 'cascadeTimer', 'must be an object with task, timer and occurrence'],
    ['cascadeTimer undefined', undefined, 'cascadeTimer', 'must be an object with task, timer and occurrence'],
    ['cascadeTimer a string', 'helloworld/nightly', 'cascadeTimer', 'must be an object with task, timer and occurrence'],
    ['no task', { timer: 'nightly', occurrence: valid.occurrence }, 'cascadeTimer.task', 'must be 1-50 letters'],
    ['a task with a space', { ...valid, task: 'hello world' }, 'cascadeTimer.task', 'must be 1-50 letters'],
    ['a task starting with "-"', { ...valid, task: '-hello' }, 'cascadeTimer.task', 'must be 1-50 letters'],
    ['a task of 51 characters', { ...valid, task: 'a'.repeat(51) }, 'cascadeTimer.task', 'must be 1-50 letters'],
    ['an empty timer', { ...valid, timer: '' }, 'cascadeTimer.timer', 'must be 1-50 letters'],
    ['a timer that is a number', { ...valid, timer: 7 }, 'cascadeTimer.timer', 'must be 1-50 letters'],
    ['no occurrence', { task: 'helloworld', timer: 'nightly' }, 'cascadeTimer.occurrence', 'must be an ISO-8601 instant'],
    ['the placeholder left unfilled', { ...valid, occurrence: '<aws.scheduler.scheduled-time>' }, 'cascadeTimer.occurrence', 'must be an ISO-8601 instant'],
    ['a date without a time', { ...valid, occurrence: '2024-02-05' }, 'cascadeTimer.occurrence', 'must be an ISO-8601 instant'],
    ['a time without a zone', { ...valid, occurrence: '2024-02-05T03:00:00' }, 'cascadeTimer.occurrence', 'must be an ISO-8601 instant'],
    ['a day that does not exist', { ...valid, occurrence: '2023-02-29T03:00:00Z' }, 'cascadeTimer.occurrence', 'must be an ISO-8601 instant'],
    ['epoch milliseconds', { ...valid, occurrence: 1707102000000 }, 'cascadeTimer.occurrence', 'must be an ISO-8601 instant'],
  ])('refuses %s with a ValidationError naming the field', (_case, cascadeTimer, field, message) => {
    const parse = () => parseTimerInvocation({ cascadeTimer });
    expect(parse).toThrow(ValidationError);
    expect(parse).toThrow(`timer invocation: ${field} ${message}`);
    try {
      parse();
    } catch (error) {
      expect((error as ValidationError).field).toBe(field);
    }
  });
});
