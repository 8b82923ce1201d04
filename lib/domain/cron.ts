// Standard 5-field cron (minute hour day-of-month month day-of-week), always in UTC: what a
// task timer's `schedule` means, when it next fires, and the same schedule in EventBridge
// Scheduler's 6-field form. Pure: no clock, no I/O.
//
// Only what one EventBridge schedule can say is accepted, so a timer runs the same on AWS as in
// the local stack: no `?`, `L`, `W`, `#` or `@` macros, and never both days restricted.
import { ValidationError } from './errors';

/** A parsed expression. Every list is ascending and without duplicates. */
export interface CronSchedule {
  /** The expression as given, trimmed, one space between fields. */
  readonly expression: string;
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly daysOfMonth: readonly number[];
  readonly months: readonly number[];
  /** 0-6, Sunday 0 (a 7 in the expression is read as 0). */
  readonly daysOfWeek: readonly number[];
}

interface FieldSpec {
  label: string;
  min: number;
  /** Highest value the expression may write. */
  max: number;
  /** Where `*` and `a/n` end: day-of-week accepts 7 for Sunday, but the week ends on Saturday. */
  last: number;
  /** Three-letter names, the first one worth `min`. */
  names?: readonly string[];
}

const MINUTE: FieldSpec = { label: 'minute', min: 0, max: 59, last: 59 };
const HOUR: FieldSpec = { label: 'hour', min: 0, max: 23, last: 23 };
const DAY_OF_MONTH: FieldSpec = { label: 'day-of-month', min: 1, max: 31, last: 31 };
const MONTH: FieldSpec = {
  label: 'month',
  min: 1,
  max: 12,
  last: 12,
  names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
};
const DAY_OF_WEEK: FieldSpec = { label: 'day-of-week', min: 0, max: 7, last: 6, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] };
const FIELDS = [MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK] as const;

// Days in each month in the longest year: a day-of-month that fits in none of the chosen months never comes.
const LONGEST_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const MINUTE_MS = 60_000;
// The longest gap a schedule parseCron accepts can have: Feb 29 across 2100, which is no leap year (8 years).
const SEARCH_LIMIT_MS = 9 * 366 * 24 * 60 * MINUTE_MS;

type Fail = (reason: string) => never;

export function parseCron(expression: string): CronSchedule {
  const text = expression.trim().replace(/\s+/g, ' ');
  const fail: Fail = (reason) => {
    throw new ValidationError(`schedule "${text}": ${reason}`, 'schedule');
  };
  if (text.startsWith('@')) fail(`macros such as ${text.split(' ')[0]} are not supported; write the 5 fields (minute hour day-of-month month day-of-week)`);
  const fields = text === '' ? [] : text.split(' ');
  if (fields.length !== FIELDS.length) {
    const hint = fields.length === 6 ? ' (a seconds or year field is not supported)' : '';
    fail(`expected 5 fields (minute hour day-of-month month day-of-week) but found ${fields.length}${hint}`);
  }
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = FIELDS.map((spec, i) => parseField(fields[i] ?? '', spec, fail)) as [
    number[],
    number[],
    number[],
    number[],
    number[],
  ];

  // Cron reads two restricted day fields as "either", which EventBridge cannot express (one of
  // them must be `?`). A field counts as free only when it starts with `*` (as cron decides) and
  // covers every day, so the accepted ones mean the same in cron, here and on AWS.
  const free = (field: string, values: number[], spec: FieldSpec) => field.startsWith('*') && values.length === spec.last - spec.min + 1;
  const domFree = free(fields[2] ?? '', daysOfMonth, DAY_OF_MONTH);
  const dowFree = free(fields[4] ?? '', daysOfWeek, DAY_OF_WEEK);
  if (!domFree && !dowFree) {
    const either = !fields[2]?.startsWith('*') && !fields[4]?.startsWith('*') ? ' (cron runs on days matching either)' : '';
    fail(
      `day-of-month "${fields[2]}" and day-of-week "${fields[4]}" both restrict the day${either}, which one EventBridge schedule cannot express; use * in one of them (or make two timers)`,
    );
  }
  if (dowFree && !months.some((month) => daysOfMonth.some((day) => day <= (LONGEST_MONTH[month - 1] ?? 0)))) {
    fail(`day-of-month "${fields[2]}" never occurs in month "${fields[3]}", so the schedule would never run`);
  }
  return Object.freeze({ expression: text, minutes, hours, daysOfMonth, months, daysOfWeek });
}

function parseField(field: string, spec: FieldSpec, fail: Fail): number[] {
  const { label } = spec;
  if (field.includes('?')) fail(`${label} "${field}": "?" is not standard cron; write * instead`);
  if (field.includes('#')) fail(`${label} "${field}": "#" (nth weekday of the month) is not supported`);
  const chosen = new Set<number>();
  for (const item of field.split(',')) {
    if (item === '') fail(`${label} list "${field}" has an empty item`);
    const match = /^([^/-]+)(?:-([^/-]+))?(?:\/(.*))?$/.exec(item);
    if (!match) fail(`${label} "${item}" is not a value, a range a-b or a step */n`);
    const [, from = '', to, step] = match;
    let low: number;
    let high: number;
    if (from === '*') {
      if (to !== undefined) fail(`${label} "${item}": * cannot start a range`);
      low = spec.min;
      high = spec.last;
    } else {
      low = value(from, spec, fail);
      // `a/n` runs to the end of the field (a Sunday written 7 is the end itself), `a` alone is just a.
      high = to !== undefined ? value(to, spec, fail) : step !== undefined ? Math.max(spec.last, low) : low;
      if (to !== undefined && high < low) fail(`${label} range ${from}-${to} is reversed: a range runs from low to high`);
    }
    let increment = 1;
    if (step !== undefined) {
      const span = spec.last - spec.min + 1;
      if (!/^\d+$/.test(step)) fail(`${label} step "${step}" is not a number`);
      increment = Number(step);
      if (increment < 1 || increment > span) fail(`${label} step ${increment} is out of range 1-${span}`);
    }
    // Day-of-week 7 is Sunday, stored as 0.
    for (let v = low; v <= high; v += increment) chosen.add(spec === DAY_OF_WEEK && v === 7 ? 0 : v);
  }
  return [...chosen].sort((a, b) => a - b);
}

function value(token: string, spec: FieldSpec, fail: Fail): number {
  const { label } = spec;
  if (/^\d+$/.test(token)) {
    const n = Number(token);
    if (n < spec.min || n > spec.max) fail(`${label} ${n} is out of range ${spec.min}-${spec.max}`);
    return n;
  }
  const named = spec.names?.indexOf(token.toUpperCase()) ?? -1;
  if (named >= 0) return spec.min + named;
  if (/^L/i.test(token) || /^\d+L$/i.test(token)) fail(`${label} "${token}": "L" (last day) is not supported`);
  if (/^\d+W$/i.test(token)) fail(`${label} "${token}": "W" (nearest weekday) is not supported`);
  const names = spec.names ? ` or a name ${spec.names[0]}-${spec.names.at(-1)}` : '';
  return fail(`${label} "${token}" is not a number${names}`);
}

/** Lookup tables for one schedule, so that a search asks `has` rather than scanning lists. */
interface Matcher {
  minutes: boolean[];
  hours: boolean[];
  daysOfMonth: boolean[];
  months: boolean[];
  daysOfWeek: boolean[];
}

function matcher(schedule: CronSchedule): Matcher {
  const table = (values: readonly number[]) => {
    const t: boolean[] = [];
    for (const v of values) t[v] = true;
    return t;
  };
  return {
    minutes: table(schedule.minutes),
    hours: table(schedule.hours),
    daysOfMonth: table(schedule.daysOfMonth),
    months: table(schedule.months),
    daysOfWeek: table(schedule.daysOfWeek),
  };
}

/** A fresh UTC date; setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 19xx, and it carries overflow (month 12, day 32). */
function utc(year: number, monthIndex: number, day: number, hour = 0): Date {
  const d = new Date(0);
  d.setUTCFullYear(year, monthIndex, day);
  d.setUTCHours(hour, 0, 0, 0);
  return d;
}

function next(m: Matcher, afterMs: number, schedule: CronSchedule): Date {
  let t = Math.floor(afterMs / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const limit = t + SEARCH_LIMIT_MS;
  // Skips a whole month, day or hour when it cannot match, so a search is at most a few hundred steps.
  while (t <= limit) {
    const d = new Date(t);
    const year = d.getUTCFullYear();
    const month = d.getUTCMonth();
    const day = d.getUTCDate();
    const hour = d.getUTCHours();
    if (!m.months[month + 1]) t = utc(year, month + 1, 1).getTime();
    else if (!m.daysOfMonth[day] || !m.daysOfWeek[d.getUTCDay()]) t = utc(year, month, day + 1).getTime();
    else if (!m.hours[hour]) t = utc(year, month, day, hour + 1).getTime();
    else if (!m.minutes[d.getUTCMinutes()]) t += MINUTE_MS;
    else return d;
  }
  // parseCron refuses schedules that never run; this is a hand-made one, or the end of time.
  throw new RangeError(`schedule "${schedule.expression}" has no occurrence within 9 years after ${new Date(afterMs).toISOString()}`);
}

function instant(date: Date, name: string): number {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new RangeError(`${name} is not a valid date`);
  return ms;
}

/** The first whole minute strictly after `after` (its seconds dropped) that the schedule matches. */
export function nextOccurrence(schedule: CronSchedule, after: Date): Date {
  return next(matcher(schedule), instant(after, 'after'), schedule);
}

/** The occurrences in (afterExclusive, untilInclusive], in order, at most `limit` of them. */
export function occurrencesBetween(schedule: CronSchedule, afterExclusive: Date, untilInclusive: Date, limit: number): Date[] {
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a whole number of at least 0, not ${limit}`);
  const m = matcher(schedule);
  const until = instant(untilInclusive, 'untilInclusive');
  const found: Date[] = [];
  let t = instant(afterExclusive, 'afterExclusive');
  while (found.length < limit && t < until) {
    const occurrence = next(m, t, schedule);
    if (occurrence.getTime() > until) break;
    found.push(occurrence);
    t = occurrence.getTime();
  }
  return found;
}

/**
 * The schedule as an EventBridge Scheduler expression: `cron(minutes hours day-of-month month
 * day-of-week year)`, year `*`, `?` in the day field that does not restrict, day-of-week 1-7 for
 * SUN-SAT. Values are written out as lists and runs (`0,15,30,45`, `2-6`), which AWS reads the
 * same way in every field, unlike steps; for any accepted schedule this stays under the 256
 * characters AWS allows.
 */
export function toScheduleExpression(schedule: CronSchedule): string {
  const dowFree = schedule.daysOfWeek.length === 7;
  if (!dowFree && schedule.daysOfMonth.length !== 31) {
    throw new ValidationError(`schedule "${schedule.expression}": restricts both day-of-month and day-of-week, which one EventBridge schedule cannot express`, 'schedule');
  }
  const fields = [
    list(schedule.minutes, MINUTE),
    list(schedule.hours, HOUR),
    dowFree ? list(schedule.daysOfMonth, DAY_OF_MONTH) : '?',
    list(schedule.months, MONTH),
    // AWS numbers the week 1-7 from Sunday: cron's 0-6 plus one, still in order.
    dowFree ? '?' : list(schedule.daysOfWeek.map((d) => d + 1), { min: 1, last: 7 }),
    '*',
  ];
  return `cron(${fields.join(' ')})`;
}

function list(values: readonly number[], spec: Pick<FieldSpec, 'min' | 'last'>): string {
  if (values.length === spec.last - spec.min + 1) return '*';
  const parts: string[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === (values[j] ?? 0) + 1) j++;
    // Three or more in a row read better as a range; two stay a pair.
    if (j - i >= 2) parts.push(`${values[i]}-${values[j]}`);
    else for (let k = i; k <= j; k++) parts.push(String(values[k]));
    i = j + 1;
  }
  return parts.join(',');
}
