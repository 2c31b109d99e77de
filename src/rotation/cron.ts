/*
 * AWS cron expressions (the six-field dialect of EventBridge and Secrets Manager), evaluated in UTC.
 *
 *   cron(Minutes Hours Day-of-month Month Day-of-week Year)
 *
 * Field syntax, per the EventBridge cron reference and Secrets Manager's "Schedule expressions in
 * Secrets Manager rotation" (docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_schedule.html):
 * - Minutes 0-59, Hours 0-23, Month 1-12 or JAN-DEC, Year 1970-2199: `*`, `,`, `-`, `/`.
 * - Day-of-month 1-31: also `?`, `L` (last day), `LW` (last weekday), `nW` (weekday nearest to day n,
 *   never crossing into another month).
 * - Day-of-week 1-7 or SUN-SAT (1 = SUN): also `?`, `L` alone (= 7, Saturday), `nL` (last weekday n of
 *   the month), `n#k` (k-th weekday n of the month, k 1-5).
 * - `a/s` starts at a and steps by s up to the field maximum; `*` / `a-b` may carry a step too.
 * - One of Day-of-month / Day-of-week must be `?`. Secrets Manager's own docs show
 *   `cron(0 1 * 1/3 SUN *)`, so a `*` in one of them is accepted and read as `?`.
 * Secrets Manager's extra restrictions (minutes 0, year `*`, 4-hour minimum) live in schedule.ts.
 */

/** A syntax error in a cron expression; the message names the field and the problem. */
export class CronSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CronSyntaxError';
  }
}

/** Which days of the month a day-of-month field selects. */
export type DomSpec =
  | { kind: 'any' }
  | { kind: 'days'; days: readonly number[] }
  | { kind: 'last' }
  | { kind: 'lastWeekday' }
  | { kind: 'nearestWeekday'; day: number };

/** Which days a day-of-week field selects (weekday 1 = Sunday ... 7 = Saturday). */
export type DowSpec =
  | { kind: 'any' }
  | { kind: 'days'; days: readonly number[] }
  | { kind: 'last'; weekday: number }
  | { kind: 'nth'; weekday: number; nth: number };

/** A parsed cron expression: sorted value lists per field; `years` is null for `*`. */
export interface CronExpr {
  minutes: readonly number[];
  hours: readonly number[];
  months: readonly number[];
  years: readonly number[] | null;
  dom: DomSpec;
  dow: DowSpec;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function fail(field: string, text: string, why: string): never {
  throw new CronSyntaxError(`${field} field '${text}': ${why}`);
}

function parseValue(field: string, tok: string, min: number, max: number, names?: string[]): number {
  let v: number;
  if (/^\d+$/.test(tok)) v = Number(tok);
  else if (names && names.includes(tok.toUpperCase())) v = names.indexOf(tok.toUpperCase()) + 1;
  else fail(field, tok, 'not a valid value');
  if (v < min || v > max) fail(field, tok, `out of range ${min}-${max}`);
  return v;
}

/** Parses a `,`-separated list of values, ranges and steps into a sorted list of distinct values. */
function parseList(field: string, text: string, min: number, max: number, names?: string[]): number[] {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const parts = item.split('/');
    if (item === '' || parts.length > 2) fail(field, text, 'malformed list item');
    const [range, stepText] = parts as [string, string | undefined];
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) fail(field, text, 'step must be a positive integer');
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (range === '*') [lo, hi] = [min, max];
    else if (range.includes('-')) {
      const ends = range.split('-');
      if (ends.length !== 2) fail(field, text, 'malformed range');
      lo = parseValue(field, ends[0]!, min, max, names);
      hi = parseValue(field, ends[1]!, min, max, names);
      if (lo > hi) fail(field, text, 'range start is after its end');
    } else {
      lo = parseValue(field, range, min, max, names);
      hi = stepText === undefined ? lo : max;
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return [...out].sort((a, b) => a - b);
}

function parseDom(text: string): DomSpec {
  const t = text.toUpperCase();
  if (t === '?') return { kind: 'any' };
  if (t === 'L') return { kind: 'last' };
  if (t === 'LW') return { kind: 'lastWeekday' };
  const w = /^(\d+)W$/.exec(t);
  if (w) return { kind: 'nearestWeekday', day: parseValue('Day-of-month', w[1]!, 1, 31) };
  if (/[LW#?]/.test(t)) fail('Day-of-month', text, 'L, W and ? must stand alone');
  return { kind: 'days', days: parseList('Day-of-month', text, 1, 31) };
}

function parseDow(text: string): DowSpec {
  const t = text.toUpperCase();
  if (t === '?') return { kind: 'any' };
  if (t === 'L') return { kind: 'days', days: [7] };
  const last = /^(\w+)L$/.exec(t);
  if (last) return { kind: 'last', weekday: parseValue('Day-of-week', last[1]!, 1, 7, WEEKDAYS) };
  const nth = /^(\w+)#(\d+)$/.exec(t);
  if (nth) {
    return {
      kind: 'nth',
      weekday: parseValue('Day-of-week', nth[1]!, 1, 7, WEEKDAYS),
      nth: parseValue('Day-of-week', nth[2]!, 1, 5),
    };
  }
  if (/[L#?]/.test(t)) fail('Day-of-week', text, 'L, # and ? must stand alone');
  return { kind: 'days', days: parseList('Day-of-week', text, 1, 7, WEEKDAYS) };
}

/** Parses the six fields inside `cron(...)`; throws CronSyntaxError on any malformed field. */
export function parseCron(body: string): CronExpr {
  const f = body.trim().split(/\s+/);
  if (f.length !== 6) throw new CronSyntaxError(`expected 6 fields, got ${body.trim() === '' ? 0 : f.length}`);
  const [minT, hourT, domT, monT, dowT, yearT] = f as [string, string, string, string, string, string];
  let domText = domT;
  let dowText = dowT;
  if (domText === '?' && dowText === '?') fail('Day-of-week', dowText, "can't be ? when Day-of-month is ?");
  if (domText !== '?' && dowText !== '?') {
    if (domText === '*') domText = '?';
    else if (dowText === '*') dowText = '?';
    else fail('Day-of-week', dowText, 'one of Day-of-month and Day-of-week must be ?');
  }
  return {
    minutes: parseList('Minutes', minT, 0, 59),
    hours: parseList('Hours', hourT, 0, 23),
    dom: parseDom(domText),
    months: parseList('Month', monT, 1, 12, MONTHS),
    dow: parseDow(dowText),
    years: yearT === '*' ? null : parseList('Year', yearT, 1970, 2199),
  };
}

/** Number of days in month m (1-12) of year y. */
export function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** Weekday of a date in AWS numbering: 1 = Sunday ... 7 = Saturday. */
export function weekday(y: number, m: number, d: number): number {
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 1;
}

/** Weekday of day x of a month whose day d falls on weekday wd. */
function shift(wd: number, d: number, x: number): number {
  return ((((wd - 1 + x - d) % 7) + 7) % 7) + 1;
}

function domMatches(s: DomSpec, d: number, wd: number, dim: number): boolean {
  switch (s.kind) {
    case 'any':
      return true;
    case 'days':
      return s.days.includes(d);
    case 'last':
      return d === dim;
    case 'lastWeekday': {
      const lastWd = shift(wd, d, dim);
      return d === (lastWd === 7 ? dim - 1 : lastWd === 1 ? dim - 2 : dim);
    }
    case 'nearestWeekday': {
      const n = s.day;
      if (n > dim) return false;
      const nWd = shift(wd, d, n);
      if (nWd === 7) return d === (n === 1 ? 3 : n - 1);
      if (nWd === 1) return d === (n === dim ? n - 2 : n + 1);
      return d === n;
    }
  }
}

function dowMatches(s: DowSpec, d: number, wd: number, dim: number): boolean {
  switch (s.kind) {
    case 'any':
      return true;
    case 'days':
      return s.days.includes(wd);
    case 'last':
      return wd === s.weekday && d + 7 > dim;
    case 'nth':
      return wd === s.weekday && Math.ceil(d / 7) === s.nth;
  }
}

function dayMatches(c: CronExpr, m: number, d: number, wd: number, dim: number): boolean {
  return c.months.includes(m) && domMatches(c.dom, d, wd, dim) && dowMatches(c.dow, d, wd, dim);
}

/** True when the expression selects the UTC calendar day y-m-d (month 1-12), ignoring the year field. */
export function matchesDay(c: CronExpr, y: number, m: number, d: number): boolean {
  return dayMatches(c, m, d, weekday(y, m, d), daysInMonth(y, m));
}

/** The first firing time strictly after `afterMs` (epoch ms, UTC), or undefined within `maxDays`. */
export function nextFireAfter(c: CronExpr, afterMs: number, maxDays = 366 * 30): number | undefined {
  let day = Math.floor(afterMs / DAY_MS);
  const endDay = day + maxDays;
  while (day <= endDay) {
    const dt = new Date(day * DAY_MS);
    const y = dt.getUTCFullYear();
    const m = dt.getUTCMonth() + 1;
    if (c.years && !c.years.includes(y)) {
      if (y > c.years[c.years.length - 1]!) return undefined;
      day = Date.UTC(y + 1, 0, 1) / DAY_MS;
      continue;
    }
    if (!c.months.includes(m)) {
      day = Date.UTC(y, m, 1) / DAY_MS;
      continue;
    }
    if (matchesDay(c, y, m, dt.getUTCDate())) {
      for (const h of c.hours) {
        for (const min of c.minutes) {
          const t = day * DAY_MS + h * HOUR_MS + min * MINUTE_MS;
          if (t > afterMs) return t;
        }
      }
    }
    day++;
  }
  return undefined;
}

/** Day-level statistics of a cron's calendar (year field ignored). */
export interface DayAnalysis {
  /** Matching days found in the scanned period. */
  count: number;
  /** Smallest and largest distance in days between consecutive matching days (Infinity if < 2). */
  minGapDays: number;
  maxGapDays: number;
}

/**
 * Scans 2000-01-01 plus 29 years: weekday/date/leap-year combinations repeat every 28 years between
 * 1901 and 2099, so every gap the calendar can produce appears in the scan.
 */
export function analyseDays(c: CronExpr): DayAnalysis {
  let count = 0;
  let day = 0;
  let prev = -1;
  let wd = weekday(2000, 1, 1);
  let minGapDays = Infinity;
  let maxGapDays = -Infinity;
  for (let y = 2000; y < 2029; y++) {
    for (let m = 1; m <= 12; m++) {
      const dim = daysInMonth(y, m);
      if (c.months.includes(m)) {
        for (let d = 1; d <= dim; d++) {
          if (!dayMatches(c, m, d, shift(wd, 1, d), dim)) continue;
          const n = day + d;
          if (prev >= 0) {
            minGapDays = Math.min(minGapDays, n - prev);
            maxGapDays = Math.max(maxGapDays, n - prev);
          }
          prev = n;
          count++;
        }
      }
      day += dim;
      wd = shift(wd, 1, dim + 1);
    }
  }
  if (count < 2) maxGapDays = Infinity;
  return { count, minGapDays, maxGapDays };
}
