import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { nextOccurrence, occurrencesBetween, parseCron, toScheduleExpression, type CronSchedule } from '../../../lib/domain/cron';
import { ValidationError } from '../../../lib/domain/errors';

// A Wednesday, half a minute before February 2024 (a leap year).
const FROM = new Date('2024-01-31T23:59:30.500Z');

function nextN(schedule: CronSchedule, after: Date, n: number): string[] {
  const found: string[] = [];
  let t = after;
  for (let i = 0; i < n; i++) {
    t = nextOccurrence(schedule, t);
    found.push(t.toISOString());
  }
  return found;
}

describe('parseCron', () => {
  it('keeps the expression trimmed with single spaces, and the expanded values', () => {
    const schedule = parseCron('  5,0   9-11 *\t* \n mon-FRI ');
    expect(schedule).toEqual({
      expression: '5,0 9-11 * * mon-FRI',
      minutes: [0, 5],
      hours: [9, 10, 11],
      daysOfMonth: Array.from({ length: 31 }, (_, i) => i + 1),
      months: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
      daysOfWeek: [1, 2, 3, 4, 5],
    });
  });

  it.each([
    ['*/20 * * * *', 'minutes', [0, 20, 40]],
    ['5/20 * * * *', 'minutes', [5, 25, 45]],
    ['10-30/10 * * * *', 'minutes', [10, 20, 30]],
    ['1,1,3-4,2 * * * *', 'minutes', [1, 2, 3, 4]],
    ['0 */7 * * *', 'hours', [0, 7, 14, 21]],
    ['0 0 */10 * *', 'daysOfMonth', [1, 11, 21, 31]],
    ['0 0 * */4 *', 'months', [1, 5, 9]],
    ['0 0 * feb,Jul-SEP *', 'months', [2, 7, 8, 9]],
    ['0 0 * * 7', 'daysOfWeek', [0]],
    ['0 0 * * 0,7', 'daysOfWeek', [0]],
    ['0 0 * * 5-7', 'daysOfWeek', [0, 5, 6]],
    ['0 0 * * 0-7', 'daysOfWeek', [0, 1, 2, 3, 4, 5, 6]],
    ['0 0 * * */2', 'daysOfWeek', [0, 2, 4, 6]],
    ['0 0 * * 1-7/2', 'daysOfWeek', [0, 1, 3, 5]],
    ['0 0 * * 4/1', 'daysOfWeek', [4, 5, 6]],
    ['0 0 * * 7/3', 'daysOfWeek', [0]],
    ['0 0 * * sun,Sat', 'daysOfWeek', [0, 6]],
  ] as const)('expands %s', (expression, field, values) => {
    expect(parseCron(expression)[field]).toEqual(values);
  });

  it.each([
    ['61 * * * *', 'minute 61 is out of range 0-59'],
    ['* 24 * * *', 'hour 24 is out of range 0-23'],
    ['* * 0 * *', 'day-of-month 0 is out of range 1-31'],
    ['* * 32 * *', 'day-of-month 32 is out of range 1-31'],
    ['* * * 0 *', 'month 0 is out of range 1-12'],
    ['* * * 13 *', 'month 13 is out of range 1-12'],
    ['* * * * 8', 'day-of-week 8 is out of range 0-7'],
    ['0-60 * * * *', 'minute 60 is out of range 0-59'],
    ['', 'expected 5 fields (minute hour day-of-month month day-of-week) but found 0'],
    ['0 0 * *', 'expected 5 fields (minute hour day-of-month month day-of-week) but found 4'],
    ['0 0 0 * * *', 'expected 5 fields (minute hour day-of-month month day-of-week) but found 6 (a seconds or year field is not supported)'],
    ['0 0 * * ? *', 'expected 5 fields (minute hour day-of-month month day-of-week) but found 6 (a seconds or year field is not supported)'],
    ['@daily', 'macros such as @daily are not supported; write the 5 fields (minute hour day-of-month month day-of-week)'],
    ['@reboot', 'macros such as @reboot are not supported; write the 5 fields (minute hour day-of-month month day-of-week)'],
    ['0 0 ? * MON', 'day-of-month "?": "?" is not standard cron; write * instead'],
    ['0 0 * * ?', 'day-of-week "?": "?" is not standard cron; write * instead'],
    ['0 0 L * *', 'day-of-month "L": "L" (last day) is not supported'],
    ['0 0 LW * *', 'day-of-month "LW": "L" (last day) is not supported'],
    ['0 0 * * 5L', 'day-of-week "5L": "L" (last day) is not supported'],
    ['0 0 15W * *', 'day-of-month "15W": "W" (nearest weekday) is not supported'],
    ['0 0 * * 5#2', 'day-of-week "5#2": "#" (nth weekday of the month) is not supported'],
    ['1,,2 * * * *', 'minute list "1,,2" has an empty item'],
    ['1, * * * *', 'minute list "1," has an empty item'],
    ['0 ,3 * * *', 'hour list ",3" has an empty item'],
    ['*/0 * * * *', 'minute step 0 is out of range 1-60'],
    ['*/61 * * * *', 'minute step 61 is out of range 1-60'],
    ['0 0 * * */8', 'day-of-week step 8 is out of range 1-7'],
    ['*/x * * * *', 'minute step "x" is not a number'],
    ['30-10 * * * *', 'minute range 30-10 is reversed: a range runs from low to high'],
    ['0 0 * * FRI-MON', 'day-of-week range FRI-MON is reversed: a range runs from low to high'],
    ['0 0 * DEC-JAN *', 'month range DEC-JAN is reversed: a range runs from low to high'],
    ['x * * * *', 'minute "x" is not a number'],
    ['1.5 * * * *', 'minute "1.5" is not a number'],
    ['0 0 * * JAN', 'day-of-week "JAN" is not a number or a name SUN-SAT'],
    ['0 0 * MON *', 'month "MON" is not a number or a name JAN-DEC'],
    ['0 0 * JANUARY *', 'month "JANUARY" is not a number or a name JAN-DEC'],
    ['1- * * * *', 'minute "1-" is not a value, a range a-b or a step */n'],
    ['-1 * * * *', 'minute "-1" is not a value, a range a-b or a step */n'],
    ['1-2-3 * * * *', 'minute "1-2-3" is not a value, a range a-b or a step */n'],
    ['*-5 * * * *', 'minute "*-5": * cannot start a range'],
    [
      '0 0 1 * MON',
      'day-of-month "1" and day-of-week "MON" both restrict the day (cron runs on days matching either), which one EventBridge schedule cannot express; use * in one of them (or make two timers)',
    ],
    [
      '0 0 1-31 * 0-6',
      'day-of-month "1-31" and day-of-week "0-6" both restrict the day (cron runs on days matching either), which one EventBridge schedule cannot express; use * in one of them (or make two timers)',
    ],
    ['0 0 */2 * 1', 'day-of-month "*/2" and day-of-week "1" both restrict the day, which one EventBridge schedule cannot express; use * in one of them (or make two timers)'],
    ['0 0 30 2 *', 'day-of-month "30" never occurs in month "2", so the schedule would never run'],
    ['0 0 30,31 FEB *', 'day-of-month "30,31" never occurs in month "FEB", so the schedule would never run'],
    ['0 0 31 2,4,6,9,11 *', 'day-of-month "31" never occurs in month "2,4,6,9,11", so the schedule would never run'],
  ])('refuses %j', (expression, reason) => {
    const parse = () => parseCron(expression);
    expect(parse).toThrow(ValidationError);
    expect(parse).toThrow(`schedule "${expression}": ${reason}`);
    try {
      parse();
    } catch (error) {
      expect((error as ValidationError).field).toBe('schedule');
    }
  });

  it('names the expression trimmed and collapsed in its refusal', () => {
    expect(() => parseCron('  61   *  * *\t* ')).toThrow('schedule "61 * * * *": minute 61 is out of range 0-59');
  });

  it('accepts a day that only some of the months have', () => {
    expect(parseCron('0 0 31 2,12 *').daysOfMonth).toEqual([31]);
    expect(parseCron('0 0 29 2 *').months).toEqual([2]);
  });
});

describe('nextOccurrence', () => {
  it.each([
    ['* * * * *', FROM, ['2024-02-01T00:00:00.000Z', '2024-02-01T00:01:00.000Z', '2024-02-01T00:02:00.000Z']],
    ['*/15 * * * *', FROM, ['2024-02-01T00:00:00.000Z', '2024-02-01T00:15:00.000Z', '2024-02-01T00:30:00.000Z']],
    ['5/20 * * * *', FROM, ['2024-02-01T00:05:00.000Z', '2024-02-01T00:25:00.000Z', '2024-02-01T00:45:00.000Z']],
    ['10-30/10 8 * * *', FROM, ['2024-02-01T08:10:00.000Z', '2024-02-01T08:20:00.000Z', '2024-02-01T08:30:00.000Z']],
    ['0,30 9-10 * * *', FROM, ['2024-02-01T09:00:00.000Z', '2024-02-01T09:30:00.000Z', '2024-02-01T10:00:00.000Z']],
    ['0 0 1 * *', FROM, ['2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z', '2024-04-01T00:00:00.000Z']],
    // Month ends: only the months that have the day.
    ['30 2 31 * *', FROM, ['2024-03-31T02:30:00.000Z', '2024-05-31T02:30:00.000Z', '2024-07-31T02:30:00.000Z']],
    ['0 0 30 * *', FROM, ['2024-03-30T00:00:00.000Z', '2024-04-30T00:00:00.000Z', '2024-05-30T00:00:00.000Z']],
    ['59 23 31 12 *', FROM, ['2024-12-31T23:59:00.000Z', '2025-12-31T23:59:00.000Z', '2026-12-31T23:59:00.000Z']],
    ['0 0 31 2,12 *', FROM, ['2024-12-31T00:00:00.000Z', '2025-12-31T00:00:00.000Z', '2026-12-31T00:00:00.000Z']],
    // Leap days, and 2100, which is not a leap year.
    ['0 0 29 2 *', FROM, ['2024-02-29T00:00:00.000Z', '2028-02-29T00:00:00.000Z', '2032-02-29T00:00:00.000Z']],
    ['0 0 29 2 *', new Date('2096-03-01T00:00:00Z'), ['2104-02-29T00:00:00.000Z', '2108-02-29T00:00:00.000Z', '2112-02-29T00:00:00.000Z']],
    ['0 12 * 2 *', new Date('2100-02-27T13:00:00Z'), ['2100-02-28T12:00:00.000Z', '2101-02-01T12:00:00.000Z', '2101-02-02T12:00:00.000Z']],
    // Weekdays: FROM is a Wednesday; Sunday is 0, 7 or SUN.
    ['0 9 * * 1-5', FROM, ['2024-02-01T09:00:00.000Z', '2024-02-02T09:00:00.000Z', '2024-02-05T09:00:00.000Z']],
    ['0 12 * * 0', FROM, ['2024-02-04T12:00:00.000Z', '2024-02-11T12:00:00.000Z', '2024-02-18T12:00:00.000Z']],
    ['0 12 * * 7', FROM, ['2024-02-04T12:00:00.000Z', '2024-02-11T12:00:00.000Z', '2024-02-18T12:00:00.000Z']],
    ['0 12 * * sun', FROM, ['2024-02-04T12:00:00.000Z', '2024-02-11T12:00:00.000Z', '2024-02-18T12:00:00.000Z']],
    ['0 0 * * 5-7', FROM, ['2024-02-02T00:00:00.000Z', '2024-02-03T00:00:00.000Z', '2024-02-04T00:00:00.000Z']],
    ['0 12 * JAN,jul mon', FROM, ['2024-07-01T12:00:00.000Z', '2024-07-08T12:00:00.000Z', '2024-07-15T12:00:00.000Z']],
    ['0 0 1 jan-Mar *', FROM, ['2024-02-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z']],
    ['0 0 */2 * *', new Date('2024-01-30T12:00:00Z'), ['2024-01-31T00:00:00.000Z', '2024-02-01T00:00:00.000Z', '2024-02-03T00:00:00.000Z']],
  ])('%s after %p', (expression, after, expected) => {
    expect(nextN(parseCron(expression), after, 3)).toEqual(expected);
  });

  it('is strictly after the instant, seconds and milliseconds dropped', () => {
    const daily = parseCron('0 0 * * *');
    expect(nextOccurrence(daily, new Date('2024-02-01T00:00:00.000Z')).toISOString()).toBe('2024-02-02T00:00:00.000Z');
    expect(nextOccurrence(daily, new Date('2024-02-01T00:00:59.999Z')).toISOString()).toBe('2024-02-02T00:00:00.000Z');
    expect(nextOccurrence(daily, new Date('2024-01-31T23:59:59.999Z')).toISOString()).toBe('2024-02-01T00:00:00.000Z');
  });

  it('works before 1970 and in years below 100', () => {
    expect(nextOccurrence(parseCron('0 0 1 1 *'), new Date('1969-06-01T00:00:00Z')).toISOString()).toBe('1970-01-01T00:00:00.000Z');
    const year50 = new Date(0);
    year50.setUTCFullYear(50, 11, 31);
    expect(nextOccurrence(parseCron('0 0 1 1 *'), year50).toISOString()).toBe('0051-01-01T00:00:00.000Z');
  });

  it('refuses an invalid date', () => {
    expect(() => nextOccurrence(parseCron('* * * * *'), new Date('nope'))).toThrow(RangeError);
  });

  it('counts in UTC whatever the process time zone, across daylight saving changes', () => {
    // Jest keeps its own copy of process.env, so the time zone is set on a child process.
    // Berlin skips 02:00-03:00 local on 2024-03-31 (01:00 UTC) and repeats it on 2024-10-27.
    const script = `
      const { parseCron, occurrencesBetween } = require(${JSON.stringify(join(__dirname, '../../../lib/domain/cron.ts'))});
      const between = (expression, from, to) => occurrencesBetween(parseCron(expression), new Date(from), new Date(to), 10).map((d) => d.toISOString());
      console.log(JSON.stringify({
        localHourOfASkippedTime: new Date(2024, 2, 31, 2, 30).getHours(),
        spring: between('0 * * * *', '2024-03-31T00:30:00Z', '2024-03-31T03:00:00Z'),
        autumn: between('0 * * * *', '2024-10-27T00:30:00Z', '2024-10-27T03:00:00Z'),
        daily: between('30 2 * * *', '2024-03-30T12:00:00Z', '2024-04-01T12:00:00Z'),
      }));`;
    const output = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: join(__dirname, '../../..'),
      env: { ...process.env, TZ: 'Europe/Berlin' },
      encoding: 'utf8',
    });
    expect(JSON.parse(output)).toEqual({
      localHourOfASkippedTime: 3,
      spring: ['2024-03-31T01:00:00.000Z', '2024-03-31T02:00:00.000Z', '2024-03-31T03:00:00.000Z'],
      autumn: ['2024-10-27T01:00:00.000Z', '2024-10-27T02:00:00.000Z', '2024-10-27T03:00:00.000Z'],
      daily: ['2024-03-31T02:30:00.000Z', '2024-04-01T02:30:00.000Z'],
    });
  });
});

describe('occurrencesBetween', () => {
  const quarterly = parseCron('0,15,30,45 * * * *');

  it('is after the start, up to and including the end, in order', () => {
    const dates = occurrencesBetween(quarterly, new Date('2024-02-01T00:00:00Z'), new Date('2024-02-01T01:00:00Z'), 10);
    expect(dates.map((d) => d.toISOString())).toEqual([
      '2024-02-01T00:15:00.000Z',
      '2024-02-01T00:30:00.000Z',
      '2024-02-01T00:45:00.000Z',
      '2024-02-01T01:00:00.000Z',
    ]);
  });

  it('stops at the limit', () => {
    const dates = occurrencesBetween(quarterly, FROM, new Date('2025-01-01T00:00:00Z'), 2);
    expect(dates.map((d) => d.toISOString())).toEqual(['2024-02-01T00:00:00.000Z', '2024-02-01T00:15:00.000Z']);
    expect(occurrencesBetween(quarterly, FROM, new Date('2025-01-01T00:00:00Z'), 0)).toEqual([]);
  });

  it('is empty when nothing falls in the window, or the window is empty', () => {
    expect(occurrencesBetween(parseCron('0 0 29 2 *'), new Date('2025-01-01T00:00:00Z'), new Date('2027-12-31T00:00:00Z'), 5)).toEqual([]);
    expect(occurrencesBetween(quarterly, new Date('2024-02-01T01:00:00Z'), new Date('2024-02-01T00:00:00Z'), 5)).toEqual([]);
    expect(occurrencesBetween(quarterly, new Date('2024-02-01T00:15:00Z'), new Date('2024-02-01T00:15:00Z'), 5)).toEqual([]);
  });

  it.each([-1, 1.5, Number.NaN])('refuses the limit %p', (limit) => {
    expect(() => occurrencesBetween(quarterly, FROM, new Date('2025-01-01T00:00:00Z'), limit)).toThrow(RangeError);
  });
});

describe('toScheduleExpression', () => {
  it.each([
    ['* * * * *', 'cron(* * * * ? *)'],
    ['0 0 * * *', 'cron(0 0 * * ? *)'],
    ['*/15 * * * *', 'cron(0,15,30,45 * * * ? *)'],
    ['0,1 * * * *', 'cron(0,1 * * * ? *)'],
    ['0-4,10-12 */6 * * *', 'cron(0-4,10-12 0,6,12,18 * * ? *)'],
    ['0 0 1 * *', 'cron(0 0 1 * ? *)'],
    ['30 2 31 * *', 'cron(30 2 31 * ? *)'],
    ['0 0 */2 * *', 'cron(0 0 1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31 * ? *)'],
    ['0 0 1,15 */3 *', 'cron(0 0 1,15 1,4,7,10 ? *)'],
    ['0 0 29 2 *', 'cron(0 0 29 2 ? *)'],
    ['0 0 1-31 * *', 'cron(0 0 * * ? *)'],
    // Day-of-week: cron 0-6 (7 also Sunday) becomes AWS 1-7, SUN-SAT.
    ['0 9 * * 1-5', 'cron(0 9 ? * 2-6 *)'],
    ['0 9 * * MON-FRI', 'cron(0 9 ? * 2-6 *)'],
    ['0 0 * * 0', 'cron(0 0 ? * 1 *)'],
    ['0 0 * * 7', 'cron(0 0 ? * 1 *)'],
    ['0 0 * * 6', 'cron(0 0 ? * 7 *)'],
    ['0 0 * * 0,6', 'cron(0 0 ? * 1,7 *)'],
    ['0 0 * * 6,7', 'cron(0 0 ? * 1,7 *)'],
    ['0 0 * * 5-7', 'cron(0 0 ? * 1,6,7 *)'],
    ['0 0 * * 4-7', 'cron(0 0 ? * 1,5-7 *)'],
    ['0 0 * * */2', 'cron(0 0 ? * 1,3,5,7 *)'],
    ['0 0 * * 0-6', 'cron(0 0 * * ? *)'],
    ['0 0 * * 0-7', 'cron(0 0 * * ? *)'],
    ['0 0 * JAN-MAR sun', 'cron(0 0 ? 1-3 1 *)'],
  ])('%s → %s', (expression, expected) => {
    expect(toScheduleExpression(parseCron(expression))).toBe(expected);
  });

  it('stays within the 256 characters AWS allows for the longest lists cron can write', () => {
    // Pairs with gaps: the longest lists, since three in a row collapse into a range.
    const pairs = (min: number, max: number) => {
      const values: number[] = [];
      for (let v = min; v <= max; v++) if ((v - min) % 3 !== 2) values.push(v);
      return values.join(',');
    };
    const expression = `${pairs(0, 59)} ${pairs(0, 23)} ${pairs(1, 31)} ${pairs(1, 12)} *`;
    const aws = toScheduleExpression(parseCron(expression));
    expect(aws.length).toBeGreaterThan(200);
    expect(aws.length).toBeLessThanOrEqual(256);
  });

  it('refuses a hand-made schedule that restricts both days', () => {
    const both: CronSchedule = { ...parseCron('0 0 1 * *'), daysOfWeek: [1] };
    expect(() => toScheduleExpression(both)).toThrow(ValidationError);
  });
});

// ---- Properties: random expressions against an oracle written independently of the parser. ----

interface FieldRange {
  min: number;
  max: number;
  names?: readonly string[];
}
const RANGES: FieldRange[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { min: 0, max: 6, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

/** A field's text and the values it stands for. */
type Field = { text: string; values: number[] };

interface Generated {
  minute: Field;
  hour: Field;
  dom: Field;
  month: Field;
  dow: Field;
  text: string;
}

function spanOf(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let v = from; v <= to; v += step) values.push(v);
  return values;
}

function fieldArbitrary(range: FieldRange): fc.Arbitrary<Field> {
  const { min, max, names } = range;
  const span = max - min + 1;
  // A value as a number or a name in either case; Sunday also as 7.
  const word = (v: number) => {
    const name = names?.[v - min];
    const words = [String(v), ...(name ? [name, name.toLowerCase()] : []), ...(name === 'SUN' ? ['7'] : [])];
    return fc.constantFrom(...words);
  };
  const single = fc.integer({ min, max }).chain((v) => word(v).map((w) => ({ text: w, values: [v] })));
  const bounds = fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);
  const range_ = bounds.map(([a, b]) => ({ text: `${a}-${b}`, values: spanOf(a, b, 1) }));
  const step = fc.integer({ min: 1, max: span });
  const everyN = step.map((n) => ({ text: `*/${n}`, values: spanOf(min, max, n) }));
  const rangeStep = fc.tuple(bounds, step).map(([[a, b], n]) => ({ text: `${a}-${b}/${n}`, values: spanOf(a, b, n) }));
  const fromStep = fc.tuple(fc.integer({ min, max }), step).map(([a, n]) => ({ text: `${a}/${n}`, values: spanOf(a, max, n) }));
  const item = fc.oneof(single, range_, rangeStep, fromStep);
  const list = fc.array(item, { minLength: 2, maxLength: 4 }).map((items) => ({
    text: items.map((i) => i.text).join(','),
    values: [...new Set(items.flatMap((i) => i.values))].sort((a, b) => a - b),
  }));
  return fc.oneof(
    { arbitrary: fc.constant({ text: '*', values: spanOf(min, max, 1) }), weight: 3 },
    { arbitrary: single, weight: 3 },
    { arbitrary: range_, weight: 1 },
    { arbitrary: everyN, weight: 2 },
    { arbitrary: rangeStep, weight: 1 },
    { arbitrary: fromStep, weight: 1 },
    { arbitrary: list, weight: 2 },
  );
}

const [minuteF, hourF, domF, monthF, dowF] = RANGES.map(fieldArbitrary) as [fc.Arbitrary<Field>, fc.Arbitrary<Field>, fc.Arbitrary<Field>, fc.Arbitrary<Field>, fc.Arbitrary<Field>];
const STAR_DOM: Field = { text: '*', values: spanOf(1, 31, 1) };
const STAR_DOW: Field = { text: '*', values: spanOf(0, 6, 1) };
// At most one of the day fields restricts (the others are refused, and tested above).
const expressionArbitrary = fc
  .tuple(minuteF, hourF, fc.oneof(fc.tuple(domF, fc.constant(STAR_DOW)), fc.tuple(fc.constant(STAR_DOM), dowF)), monthF)
  .map(([minute, hour, [dom, dow], month]): Generated => ({ minute, hour, dom, month, dow, text: [minute, hour, dom, month, dow].map((f) => f.text).join(' ') }));

const instantArbitrary = fc.date({ min: new Date('1999-01-01T00:00:00Z'), max: new Date('2101-12-31T23:59:59Z'), noInvalidDate: true });
const YEAR_MINUTES = 366 * 24 * 60;

/** Minute by minute from the minute after `after`, for at most a year; the calendar is read once a day. */
function bruteForceNext(g: Generated, after: Date): Date | undefined {
  const has = (f: Field) => new Set(f.values);
  const [minutes, hours, doms, months, dows] = [has(g.minute), has(g.hour), has(g.dom), has(g.month), has(g.dow)];
  let t = Math.floor(after.getTime() / 60_000) * 60_000 + 60_000;
  for (let scanned = 0; scanned < YEAR_MINUTES; ) {
    const day = new Date(t);
    const dayMatches = months.has(day.getUTCMonth() + 1) && doms.has(day.getUTCDate()) && dows.has(day.getUTCDay());
    for (let m = day.getUTCHours() * 60 + day.getUTCMinutes(); m < 1440 && scanned < YEAR_MINUTES; m++, scanned++, t += 60_000) {
      if (dayMatches && hours.has(Math.floor(m / 60)) && minutes.has(m % 60)) return new Date(t);
    }
  }
  return undefined;
}

function matches(g: Generated, d: Date): boolean {
  return (
    d.getUTCSeconds() === 0 &&
    d.getUTCMilliseconds() === 0 &&
    g.minute.values.includes(d.getUTCMinutes()) &&
    g.hour.values.includes(d.getUTCHours()) &&
    g.dom.values.includes(d.getUTCDate()) &&
    g.month.values.includes(d.getUTCMonth() + 1) &&
    g.dow.values.includes(d.getUTCDay())
  );
}

const LONGEST_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const canEverRun = (g: Generated) => g.month.values.some((m) => g.dom.values.some((d) => d <= (LONGEST_MONTH[m - 1] ?? 0)));

describe('properties', () => {
  it('nextOccurrence is what a minute-by-minute scan finds', () => {
    fc.assert(
      fc.property(expressionArbitrary, instantArbitrary, (g, after) => {
        if (!canEverRun(g)) {
          expect(() => parseCron(g.text)).toThrow(/never occurs/);
          return;
        }
        const schedule = parseCron(g.text);
        const next = nextOccurrence(schedule, after);
        const scanned = bruteForceNext(g, after);
        if (scanned) {
          expect(next.toISOString()).toBe(scanned.toISOString());
        } else {
          // Rarer than yearly (a leap day): beyond what the scan covered, and a match.
          expect(next.getTime()).toBeGreaterThan(Math.floor(after.getTime() / 60_000) * 60_000 + YEAR_MINUTES * 60_000);
          expect(matches(g, next)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('parseCron expands every field as the oracle does', () => {
    fc.assert(
      fc.property(expressionArbitrary.filter(canEverRun), (g) => {
        const schedule = parseCron(g.text);
        expect(schedule.minutes).toEqual(g.minute.values);
        expect(schedule.hours).toEqual(g.hour.values);
        expect(schedule.daysOfMonth).toEqual(g.dom.values);
        expect(schedule.months).toEqual(g.month.values);
        expect(schedule.daysOfWeek).toEqual(g.dow.values);
      }),
      { numRuns: 500 },
    );
  });

  it('toScheduleExpression says the same in AWS form, within 256 characters', () => {
    // AWS lists and ranges back to values, day-of-week 1-7 back to 0-6.
    const decode = (text: string, min: number, max: number, shift = 0) =>
      text === '*'
        ? spanOf(min, max, 1)
        : [
            ...new Set(
              text.split(',').flatMap((part) => {
                const [a, b = a] = part.split('-').map(Number) as [number, number?];
                return spanOf(a, b, 1).map((v) => v + shift);
              }),
            ),
          ].sort((x, y) => x - y);
    fc.assert(
      fc.property(expressionArbitrary.filter(canEverRun), (g) => {
        const aws = toScheduleExpression(parseCron(g.text));
        expect(aws.length).toBeLessThanOrEqual(256);
        const inner = /^cron\((.*)\)$/.exec(aws)?.[1] ?? '';
        const [minutes, hours, dom, month, dow, year] = inner.split(' ') as [string, string, string, string, string, string];
        expect(inner.split(' ')).toHaveLength(6);
        expect(year).toBe('*');
        expect([dom, dow].filter((f) => f === '?')).toHaveLength(1);
        expect(decode(minutes, 0, 59)).toEqual(g.minute.values);
        expect(decode(hours, 0, 23)).toEqual(g.hour.values);
        expect(decode(month, 1, 12)).toEqual(g.month.values);
        expect(dom === '?' ? STAR_DOM.values : decode(dom, 1, 31)).toEqual(g.dom.values);
        expect(dow === '?' ? STAR_DOW.values : decode(dow, 1, 7, -1)).toEqual(g.dow.values);
      }),
      { numRuns: 300 },
    );
  });

  it('occurrencesBetween is nextOccurrence repeated', () => {
    fc.assert(
      fc.property(expressionArbitrary.filter(canEverRun), instantArbitrary, fc.integer({ min: 0, max: 40 * 24 * 60 }), fc.integer({ min: 0, max: 8 }), (g, after, minutes, limit) => {
        const schedule = parseCron(g.text);
        const until = new Date(after.getTime() + minutes * 60_000);
        const expected: string[] = [];
        for (let t = nextOccurrence(schedule, after); t <= until && expected.length < limit; t = nextOccurrence(schedule, t)) expected.push(t.toISOString());
        expect(occurrencesBetween(schedule, after, until, limit).map((d) => d.toISOString())).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});
