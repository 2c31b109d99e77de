/*
 * Rotation schedule arithmetic, as AWS Secrets Manager defines it. All times are epoch ms, UTC.
 *
 * What AWS says, and where (S1..S6 below); "inferred" marks our reading where AWS is silent.
 * S1 API model, RotationRulesType (shared/reference/secretsmanager-service-2.json):
 *    AutomaticallyAfterDays 1..1000; Duration matches [0-9]+h (2-3 chars); ScheduleExpression 1..256
 *    chars. AutomaticallyAfterDays and ScheduleExpression can't both be set. "If you don't specify a
 *    Duration, for a ScheduleExpression in hours, the window automatically closes after one hour. For a
 *    ScheduleExpression in days, the window automatically closes at the end of the UTC day." "The
 *    window must not extend into the next rotation window or the next UTC day." A rate() window starts
 *    at midnight. In DescribeSecret, AutomaticallyAfterDays "is calculated from the rotation schedule".
 * S2 User guide, "Rotation schedules" / "Schedule expressions in Secrets Manager rotation"
 *    (docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_schedule.html): rate(Value Unit)
 *    with Unit hour|hours|day|days; "as often as every four hours"; "The maximum rotation period is 999
 *    days"; windows always start on the hour and can be as small as one hour; for a schedule in hours
 *    the window must be <= the hours between rotations; for one in days, start hour + window <= 24.
 *    Cron: Minutes "Must be 0", Year "Must be *" (no schedules more than a year apart); "A cron
 *    expression that includes increments of hours resets each day" (cron(0 4/12 * * ? *) = 04:00, 16:00).
 * S3 Older API docs / Zac Charles, "How Secrets Manager Schedules Automatic Rotations" (2019):
 *    AutomaticallyAfterDays adds the interval to the UTC *date* of the last rotation and rotates some
 *    time during that day. PutSecretValue/UpdateSecret count as a rotation (S1) - the caller decides
 *    what it passes as `lastRotatedMs`.
 * S4 Real DescribeSecret outputs: {AutomaticallyAfterDays: 7, ScheduleExpression: "cron(0 0 ? * 2 *)"},
 *    LastRotatedDate 2023-10-16T07:18:02Z, NextRotationDate 2023-10-23T23:59:59Z; and
 *    {AutomaticallyAfterDays: 30} enabled 2026-02-03T17:42Z, NextRotationDate 2026-03-05T23:59:59Z.
 *    API reference example: cron(0 16 1,15 * ? *) + Duration 2h -> NextRotationDate hh 17:59:59.
 *    => NextRotationDate is the last second of the next window; the window in which the previous
 *    rotation happened is not reused; AutomaticallyAfterDays is echoed for cron/rate schedules.
 * S5 terraform-provider-aws secret_rotation.go and PR #34188: with ScheduleExpression set, DescribeSecret
 *    also returns AutomaticallyAfterDays computed by AWS (rate(10 days) -> 10).
 * S6 terraform-provider-aws issue #33329: AWS's exact error for both fields is InvalidParameterException
 *    "You cannot specify both rotation frequency and schedule expression together."
 *
 * Model implemented here:
 * - days (AutomaticallyAfterDays N, rate(N days)): the due window opens at 00:00 UTC of
 *   date(last) + N days and lasts Duration (default: to the end of that day). If it is missed, every
 *   following day's window at the same hours also qualifies (inferred: the schedule is anchored to the
 *   last rotation, so there is no later "next" window to wait for). Duration with
 *   AutomaticallyAfterDays is accepted (inferred; AWS documents Duration against ScheduleExpression).
 * - rate(N hours), N 4..23: windows open every N hours on a continuous grid anchored at midnight
 *   (1970-01-01T00:00Z), default 1 hour, Duration <= N (S2; the no-next-day rule is stated only for
 *   days). The 4..23 range and the grid anchor are inferred.
 * - cron: windows open at each firing; default 1 hour if it fires several times a day, else to the end
 *   of the day; every window must end by midnight and before the next one (S1/S2); consecutive firings
 *   at least 4 hours apart, including across midnight; firings at most a year apart.
 * - A window "after" a time t is one that *starts* strictly after t; isDue is true inside such a window.
 * Messages other than S6 and the 1-1000 text (moto/LocalStack's, likely copied from AWS) are ours.
 */
import { Errors } from '../errors.js';
import { analyseDays, CronSyntaxError, nextFireAfter, parseCron, type CronExpr } from './cron.js';

/** The RotationRules structure of RotateSecret / DescribeSecret. */
export interface RotationRules {
  AutomaticallyAfterDays?: number;
  Duration?: string;
  ScheduleExpression?: string;
}

/** A validated rotation schedule; `windowMs` is the length of each rotation window. */
export type Schedule =
  | { kind: 'days'; days: number; windowMs: number }
  | { kind: 'rate'; unit: 'hours' | 'days'; value: number; windowMs: number }
  | {
      kind: 'cron';
      expr: string;
      windowMs: number;
      cron: CronExpr;
      /** True when it fires more than once a day (a "schedule in hours"). */
      hourly: boolean;
      /** Smallest whole number of days between firings, for daily-or-rarer schedules. */
      intervalDays?: number;
    };

/** A rotation window: rotation may happen at any time in [startMs, endMs). */
export interface RotationWindow {
  startMs: number;
  endMs: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const MIN_INTERVAL_HOURS = 4;

/** Error messages of rotation-rule validation (InvalidParameterException). */
export const RotationMessages = {
  bothRules: 'You cannot specify both rotation frequency and schedule expression together.',
  noRule: 'You must specify either rotation frequency or schedule expression.',
  daysRange: 'RotationRules.AutomaticallyAfterDays must be within 1-1000.',
  invalidExpression: (expr: string, why: string) => `The schedule expression ${expr} isn't valid: ${why}.`,
  tooFrequent: 'You can rotate a secret at most every four hours. Specify a schedule with at least four hours between rotations.',
  rateHoursRange: 'A rate expression in hours must be between 4 and 23 hours. Use days for longer intervals.',
  rateDaysRange: 'A rate expression in days must be between 1 and 999 days.',
  yearApart: "Secrets Manager doesn't support rotation schedules that are more than a year apart.",
  invalidDuration: 'The rotation window duration must be a whole number of hours from 1h to 24h, for example 3h.',
  windowOverlap: 'The rotation window must not extend into the next UTC day or into the next rotation window.',
} as const;

function invalid(message: string): never {
  throw Errors.invalidParameter(message);
}

function present<T>(v: T | null | undefined): v is T {
  return v !== undefined && v !== null;
}

function parseDurationHours(duration: unknown): number | undefined {
  if (!present(duration)) return undefined;
  const m = typeof duration === 'string' ? /^(\d{1,2})h$/.exec(duration) : null;
  const hours = m ? Number(m[1]) : NaN;
  if (!(hours >= 1 && hours <= 24)) invalid(RotationMessages.invalidDuration);
  return hours;
}

/** Window length for a schedule in days whose windows open at `startHour`. */
function dayWindowMs(startHour: number, durationHours: number | undefined): number {
  const hours = durationHours ?? 24 - startHour;
  if (startHour + hours > 24) invalid(RotationMessages.windowOverlap);
  return hours * HOUR_MS;
}

function parseRate(value: number, unit: string, durationHours: number | undefined): Schedule {
  if (unit.startsWith('hour')) {
    if (value < MIN_INTERVAL_HOURS) invalid(RotationMessages.tooFrequent);
    if (value > 23) invalid(RotationMessages.rateHoursRange);
    const hours = durationHours ?? 1;
    if (hours > value) invalid(RotationMessages.windowOverlap);
    return { kind: 'rate', unit: 'hours', value, windowMs: hours * HOUR_MS };
  }
  if (value < 1 || value > 999) invalid(RotationMessages.rateDaysRange);
  return { kind: 'rate', unit: 'days', value, windowMs: dayWindowMs(0, durationHours) };
}

function parseCronSchedule(expr: string, body: string, durationHours: number | undefined): Schedule {
  let cron: CronExpr;
  try {
    cron = parseCron(body);
  } catch (e) {
    if (e instanceof CronSyntaxError) invalid(RotationMessages.invalidExpression(expr, e.message));
    throw e;
  }
  if (cron.minutes.length !== 1 || cron.minutes[0] !== 0) {
    invalid(RotationMessages.invalidExpression(expr, 'the Minutes field must be 0'));
  }
  if (cron.years !== null) invalid(RotationMessages.invalidExpression(expr, 'the Year field must be *'));
  const days = analyseDays(cron);
  if (days.count === 0) invalid(RotationMessages.invalidExpression(expr, 'it never matches a date'));
  if (days.maxGapDays > 366) invalid(RotationMessages.yearApart);

  const hours = cron.hours;
  const first = hours[0]!;
  const lastHour = hours[hours.length - 1]!;
  let minGapHours = days.minGapDays === 1 ? 24 - lastHour + first : Infinity;
  for (let i = 1; i < hours.length; i++) minGapHours = Math.min(minGapHours, hours[i]! - hours[i - 1]!);
  if (minGapHours < MIN_INTERVAL_HOURS) invalid(RotationMessages.tooFrequent);

  const hourly = hours.length > 1;
  let windowMs: number;
  if (hourly) {
    const windowHours = durationHours ?? 1;
    if (windowHours > minGapHours || lastHour + windowHours > 24) invalid(RotationMessages.windowOverlap);
    windowMs = windowHours * HOUR_MS;
  } else {
    windowMs = dayWindowMs(first, durationHours);
  }
  return hourly
    ? { kind: 'cron', expr, windowMs, cron, hourly }
    : { kind: 'cron', expr, windowMs, cron, hourly, intervalDays: days.minGapDays };
}

/** Validates RotationRules as RotateSecret does; throws InvalidParameterException like AWS. */
export function parseRotationRules(rules: RotationRules): Schedule {
  const days: unknown = rules.AutomaticallyAfterDays;
  const expr: unknown = rules.ScheduleExpression;
  if (present(days) && present(expr)) invalid(RotationMessages.bothRules);
  if (!present(days) && !present(expr)) invalid(RotationMessages.noRule);
  const durationHours = parseDurationHours(rules.Duration);

  if (present(days)) {
    if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 1000) {
      invalid(RotationMessages.daysRange);
    }
    return { kind: 'days', days, windowMs: dayWindowMs(0, durationHours) };
  }
  const text = typeof expr === 'string' ? expr : String(expr);
  const rate = /^\s*rate\(\s*(\d+)\s+(hours?|days?)\s*\)\s*$/i.exec(text);
  if (rate) return parseRate(Number(rate[1]), rate[2]!.toLowerCase(), durationHours);
  const cron = /^\s*cron\((.*)\)\s*$/is.exec(text);
  if (cron) return parseCronSchedule(text, cron[1]!, durationHours);
  return invalid(RotationMessages.invalidExpression(text, 'use rate(Value Unit) or cron(...)'));
}

function startOfDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** First window start strictly after `afterMs`, for a schedule last rotated at `lastMs`. */
function windowStartAfter(s: Schedule, lastMs: number, afterMs: number): number {
  if (s.kind === 'days' || (s.kind === 'rate' && s.unit === 'days')) {
    const due = startOfDay(lastMs) + (s.kind === 'days' ? s.days : s.value) * DAY_MS;
    return afterMs < due ? due : startOfDay(afterMs) + DAY_MS;
  }
  if (s.kind === 'rate') {
    const period = s.value * HOUR_MS;
    return (Math.floor(afterMs / period) + 1) * period;
  }
  const t = nextFireAfter(s.cron, afterMs);
  if (t === undefined) throw Errors.internal(`The schedule expression ${s.expr} has no next rotation date.`);
  return t;
}

/** The next window in which rotation is due after a rotation (or enabling rotation) at `fromMs`. */
export function nextRotationWindow(s: Schedule, fromMs: number): RotationWindow {
  const startMs = windowStartAfter(s, fromMs, fromMs);
  return { startMs, endMs: startMs + s.windowMs };
}

/** DescribeSecret's NextRotationDate: the last second of the next rotation window. */
export function nextRotationDate(s: Schedule, lastRotatedMs: number): number {
  return nextRotationWindow(s, lastRotatedMs).endMs - 1000;
}

/** True when `nowMs` lies inside a rotation window that opened after the last rotation. */
export function isDue(s: Schedule, lastRotatedMs: number, nowMs: number): boolean {
  if (nowMs <= lastRotatedMs) return false;
  return windowStartAfter(s, lastRotatedMs, Math.max(lastRotatedMs, nowMs - s.windowMs)) <= nowMs;
}

/** RotationRules as DescribeSecret returns them: AutomaticallyAfterDays is derived from the schedule. */
export function normaliseRules(rules: RotationRules): RotationRules {
  const s = parseRotationRules(rules);
  const out: RotationRules = {};
  if (s.kind === 'days') out.AutomaticallyAfterDays = s.days;
  else if (s.kind === 'rate' && s.unit === 'days') out.AutomaticallyAfterDays = s.value;
  else if (s.kind === 'cron' && s.intervalDays !== undefined) out.AutomaticallyAfterDays = s.intervalDays;
  if (present(rules.Duration)) out.Duration = rules.Duration;
  if (s.kind !== 'days') out.ScheduleExpression = rules.ScheduleExpression;
  return out;
}
