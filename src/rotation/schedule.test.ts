import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServiceError } from '../errors.js';
import {
  isDue,
  nextRotationDate,
  nextRotationWindow,
  normaliseRules,
  parseRotationRules,
  RotationMessages as M,
  type RotationRules,
} from './schedule.js';

const H = 3_600_000;
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const window = (rules: RotationRules, from: string) => {
  const w = nextRotationWindow(parseRotationRules(rules), at(from));
  return [iso(w.startMs), iso(w.endMs)];
};

describe('parseRotationRules accepts', () => {
  const cases: Array<[RotationRules, string, number]> = [
    [{ AutomaticallyAfterDays: 1 }, 'days', 24],
    [{ AutomaticallyAfterDays: 1000 }, 'days', 24],
    [{ AutomaticallyAfterDays: 30, Duration: '3h' }, 'days', 3],
    [{ AutomaticallyAfterDays: 7, ScheduleExpression: undefined }, 'days', 24],
    [{ ScheduleExpression: 'rate(1 day)' }, 'rate', 24],
    [{ ScheduleExpression: 'rate(1 days)' }, 'rate', 24],
    [{ ScheduleExpression: 'rate(10 days)', Duration: '24h' }, 'rate', 24],
    [{ ScheduleExpression: 'rate(999 days)', Duration: '1h' }, 'rate', 1],
    [{ ScheduleExpression: 'rate(4 hours)' }, 'rate', 1],
    [{ ScheduleExpression: 'rate(4 hour)' }, 'rate', 1],
    [{ ScheduleExpression: 'rate(23 hours)', Duration: '23h' }, 'rate', 23],
    [{ ScheduleExpression: 'rate(6 hours)', Duration: '6h' }, 'rate', 6],
    [{ ScheduleExpression: 'cron(0 10 * * ? *)' }, 'cron', 14],
    [{ ScheduleExpression: 'cron(0 10 * * ? *)', Duration: '14h' }, 'cron', 14],
    [{ ScheduleExpression: 'cron(0 0 * * ? *)', Duration: '24h' }, 'cron', 24],
    [{ ScheduleExpression: 'cron(0 18 ? * SAT *)' }, 'cron', 6],
    [{ ScheduleExpression: 'cron(0 8 1 * ? *)', Duration: '3h' }, 'cron', 3],
    [{ ScheduleExpression: 'cron(0 1 * 1/3 SUN *)' }, 'cron', 23],
    [{ ScheduleExpression: 'cron(0 17 L * ? *)' }, 'cron', 7],
    [{ ScheduleExpression: 'cron(0 8 ? * MON-FRI *)' }, 'cron', 16],
    [{ ScheduleExpression: 'cron(0 16 1,15 * ? *)', Duration: '2h' }, 'cron', 2],
    [{ ScheduleExpression: 'cron(0 0 ? * SUN#1 *)' }, 'cron', 24],
    [{ ScheduleExpression: 'cron(0 8 15W * ? *)' }, 'cron', 16],
    [{ ScheduleExpression: 'cron(0 8 LW * ? *)' }, 'cron', 16],
    [{ ScheduleExpression: 'cron(0 8 ? * 6L *)' }, 'cron', 16],
    [{ ScheduleExpression: 'cron(0 4/12 * * ? *)' }, 'cron', 1], // several a day: 1h default
    [{ ScheduleExpression: 'cron(0 4/12 * * ? *)', Duration: '8h' }, 'cron', 8],
    [{ ScheduleExpression: 'cron(0 0/4 * * ? *)', Duration: '4h' }, 'cron', 4],
    [{ ScheduleExpression: 'cron(0 0,22 ? * MON *)' }, 'cron', 1], // no rotation the next day
  ];
  for (const [rules, kind, windowHours] of cases) {
    it(`${JSON.stringify(rules)} -> ${kind}, ${windowHours}h window`, () => {
      const s = parseRotationRules(rules);
      assert.equal(s.kind, kind);
      assert.equal(s.windowMs, windowHours * H);
    });
  }
});

describe('parseRotationRules rejects', () => {
  const bad = (expr: string, why: string) => M.invalidExpression(expr, why);
  const cases: Array<[RotationRules, string]> = [
    [{}, M.noRule],
    [{ Duration: '2h' }, M.noRule],
    [{ AutomaticallyAfterDays: 7, ScheduleExpression: 'rate(7 days)' }, M.bothRules],
    [{ AutomaticallyAfterDays: 0 }, M.daysRange],
    [{ AutomaticallyAfterDays: 1001 }, M.daysRange],
    [{ AutomaticallyAfterDays: 1.5 }, M.daysRange],
    [{ AutomaticallyAfterDays: '7' as unknown as number }, M.daysRange],
    [{ AutomaticallyAfterDays: 1, Duration: '0h' }, M.invalidDuration],
    [{ AutomaticallyAfterDays: 1, Duration: '25h' }, M.invalidDuration],
    [{ AutomaticallyAfterDays: 1, Duration: '3' }, M.invalidDuration],
    [{ AutomaticallyAfterDays: 1, Duration: '90m' }, M.invalidDuration],
    [{ AutomaticallyAfterDays: 1, Duration: '1.5h' }, M.invalidDuration],
    [{ AutomaticallyAfterDays: 1, Duration: 3 as unknown as string }, M.invalidDuration],
    [{ ScheduleExpression: 'rate(0 days)' }, M.rateDaysRange],
    [{ ScheduleExpression: 'rate(1000 days)' }, M.rateDaysRange],
    [{ ScheduleExpression: 'rate(1 hour)' }, M.tooFrequent],
    [{ ScheduleExpression: 'rate(3 hours)' }, M.tooFrequent],
    [{ ScheduleExpression: 'rate(24 hours)' }, M.rateHoursRange],
    [{ ScheduleExpression: 'rate(6 hours)', Duration: '7h' }, M.windowOverlap],
    [{ ScheduleExpression: 'rate(10 days)', Duration: '25h' }, M.invalidDuration],
    [{ ScheduleExpression: 'rate(5 minutes)' }, bad('rate(5 minutes)', 'use rate(Value Unit) or cron(...)')],
    [{ ScheduleExpression: 'rate(1 week)' }, bad('rate(1 week)', 'use rate(Value Unit) or cron(...)')],
    [{ ScheduleExpression: 'rate(-1 days)' }, bad('rate(-1 days)', 'use rate(Value Unit) or cron(...)')],
    [{ ScheduleExpression: 'every day' }, bad('every day', 'use rate(Value Unit) or cron(...)')],
    [{ ScheduleExpression: '' }, bad('', 'use rate(Value Unit) or cron(...)')],
    [{ ScheduleExpression: 'cron(0 10 * * ?)' }, bad('cron(0 10 * * ?)', 'expected 6 fields, got 5')],
    [{ ScheduleExpression: 'cron(30 10 * * ? *)' }, bad('cron(30 10 * * ? *)', 'the Minutes field must be 0')],
    [{ ScheduleExpression: 'cron(0/30 10 * * ? *)' }, bad('cron(0/30 10 * * ? *)', 'the Minutes field must be 0')],
    [{ ScheduleExpression: 'cron(0 10 * * ? 2030)' }, bad('cron(0 10 * * ? 2030)', 'the Year field must be *')],
    [{ ScheduleExpression: 'cron(0 24 * * ? *)' }, bad('cron(0 24 * * ? *)', "Hours field '24': out of range 0-23")],
    [
      { ScheduleExpression: 'cron(0 10 1 * MON *)' },
      bad('cron(0 10 1 * MON *)', "Day-of-week field 'MON': one of Day-of-month and Day-of-week must be ?"),
    ],
    [{ ScheduleExpression: 'cron(0 0 31 4 ? *)' }, bad('cron(0 0 31 4 ? *)', 'it never matches a date')],
    [{ ScheduleExpression: 'cron(0 0 29 2 ? *)' }, M.yearApart],
    // The 4-hour minimum: within a day and across midnight.
    [{ ScheduleExpression: 'cron(0 0/3 * * ? *)' }, M.tooFrequent],
    [{ ScheduleExpression: 'cron(0 * * * ? *)' }, M.tooFrequent],
    [{ ScheduleExpression: 'cron(0 1,3 * * ? *)' }, M.tooFrequent],
    [{ ScheduleExpression: 'cron(0 0,22 * * ? *)' }, M.tooFrequent],
    [{ ScheduleExpression: 'cron(0 2,23 ? * MON-FRI *)' }, M.tooFrequent],
    // Windows must end by midnight and before the next window.
    [{ ScheduleExpression: 'cron(0 10 * * ? *)', Duration: '15h' }, M.windowOverlap],
    [{ ScheduleExpression: 'cron(0 4/12 * * ? *)', Duration: '9h' }, M.windowOverlap],
    [{ ScheduleExpression: 'cron(0 0,6,18 * * ? *)', Duration: '7h' }, M.windowOverlap],
    [{ ScheduleExpression: 'cron(0 0,4,8 * * ? *)', Duration: '5h' }, M.windowOverlap],
  ];
  for (const [rules, message] of cases) {
    it(`${JSON.stringify(rules)}: ${message}`, () => {
      assert.throws(
        () => parseRotationRules(rules),
        (e: unknown) => {
          assert.ok(e instanceof ServiceError);
          assert.equal(e.code, 'InvalidParameterException');
          assert.equal(e.status, 400);
          assert.equal(e.message, message);
          return true;
        },
      );
    });
  }
  it("uses AWS's exact text when both fields are given", () => {
    assert.equal(M.bothRules, 'You cannot specify both rotation frequency and schedule expression together.');
  });
});

describe('nextRotationWindow', () => {
  const cases: Array<[RotationRules, string, string, string]> = [
    // AutomaticallyAfterDays: the UTC date of the last rotation plus N days, the whole day.
    [{ AutomaticallyAfterDays: 1 }, '2024-02-28T13:00:00.000Z', '2024-02-29T00:00:00.000Z', '2024-03-01T00:00:00.000Z'],
    [{ AutomaticallyAfterDays: 1 }, '2023-02-28T23:59:59.999Z', '2023-03-01T00:00:00.000Z', '2023-03-02T00:00:00.000Z'],
    [{ AutomaticallyAfterDays: 1 }, '2024-03-01T00:00:00.000Z', '2024-03-02T00:00:00.000Z', '2024-03-03T00:00:00.000Z'],
    [{ AutomaticallyAfterDays: 30 }, '2024-01-31T10:00:00.000Z', '2024-03-01T00:00:00.000Z', '2024-03-02T00:00:00.000Z'],
    [{ AutomaticallyAfterDays: 30 }, '2023-01-31T10:00:00.000Z', '2023-03-02T00:00:00.000Z', '2023-03-03T00:00:00.000Z'],
    [{ AutomaticallyAfterDays: 1 }, '2024-12-31T22:00:00.000Z', '2025-01-01T00:00:00.000Z', '2025-01-02T00:00:00.000Z'],
    [{ AutomaticallyAfterDays: 366 }, '2024-01-01T12:00:00.000Z', '2025-01-01T00:00:00.000Z', '2025-01-02T00:00:00.000Z'],
    [{ AutomaticallyAfterDays: 7, Duration: '2h' }, '2024-02-26T05:00:00.000Z', '2024-03-04T00:00:00.000Z', '2024-03-04T02:00:00.000Z'],
    // rate(N days) behaves the same.
    [{ ScheduleExpression: 'rate(10 days)', Duration: '2h' }, '2024-12-25T05:00:00.000Z', '2025-01-04T00:00:00.000Z', '2025-01-04T02:00:00.000Z'],
    [{ ScheduleExpression: 'rate(1 day)' }, '2024-02-29T23:00:00.000Z', '2024-03-01T00:00:00.000Z', '2024-03-02T00:00:00.000Z'],
    // rate(N hours): windows every N hours from midnight, 1h by default.
    [{ ScheduleExpression: 'rate(6 hours)' }, '2024-01-01T05:00:00.000Z', '2024-01-01T06:00:00.000Z', '2024-01-01T07:00:00.000Z'],
    [{ ScheduleExpression: 'rate(6 hours)' }, '2024-01-01T06:00:00.000Z', '2024-01-01T12:00:00.000Z', '2024-01-01T13:00:00.000Z'],
    [{ ScheduleExpression: 'rate(6 hours)', Duration: '3h' }, '2024-12-31T23:30:00.000Z', '2025-01-01T00:00:00.000Z', '2025-01-01T03:00:00.000Z'],
    // 2024-01-01T00:00Z is hour 473352 since the epoch; the 10-hour grid continues across days.
    [{ ScheduleExpression: 'rate(10 hours)' }, '2024-01-01T00:00:00.000Z', '2024-01-01T08:00:00.000Z', '2024-01-01T09:00:00.000Z'],
    // cron: the next firing after the last rotation; the window it happened in is not reused.
    [{ ScheduleExpression: 'cron(0 16 L * ? *)' }, '2024-02-15T00:00:00.000Z', '2024-02-29T16:00:00.000Z', '2024-03-01T00:00:00.000Z'],
    [{ ScheduleExpression: 'cron(0 16 L * ? *)' }, '2024-02-29T16:30:00.000Z', '2024-03-31T16:00:00.000Z', '2024-04-01T00:00:00.000Z'],
    [{ ScheduleExpression: 'cron(0 16 L * ? *)' }, '2023-02-01T00:00:00.000Z', '2023-02-28T16:00:00.000Z', '2023-03-01T00:00:00.000Z'],
    [{ ScheduleExpression: 'cron(0 0 1 1 ? *)' }, '2024-06-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z', '2025-01-02T00:00:00.000Z'],
    [{ ScheduleExpression: 'cron(0 20 31 DEC ? *)', Duration: '4h' }, '2024-12-31T20:00:00.000Z', '2025-12-31T20:00:00.000Z', '2026-01-01T00:00:00.000Z'],
    [{ ScheduleExpression: 'cron(0 4/12 * * ? *)' }, '2024-03-09T17:00:00.000Z', '2024-03-10T04:00:00.000Z', '2024-03-10T05:00:00.000Z'],
    [{ ScheduleExpression: 'cron(0 8 ? * MON#1 *)' }, '2024-01-01T09:00:00.000Z', '2024-02-05T08:00:00.000Z', '2024-02-06T00:00:00.000Z'],
    [{ ScheduleExpression: 'cron(0 8 15W * ? *)', Duration: '1h' }, '2024-06-01T00:00:00.000Z', '2024-06-14T08:00:00.000Z', '2024-06-14T09:00:00.000Z'],
    [{ ScheduleExpression: 'cron(0 8 15W * ? *)', Duration: '1h' }, '2024-09-01T00:00:00.000Z', '2024-09-16T08:00:00.000Z', '2024-09-16T09:00:00.000Z'],
    [{ ScheduleExpression: 'cron(0 8 ? * 6L *)' }, '2024-02-01T00:00:00.000Z', '2024-02-23T08:00:00.000Z', '2024-02-24T00:00:00.000Z'],
    [{ ScheduleExpression: 'cron(0 8 LW * ? *)' }, '2024-08-01T00:00:00.000Z', '2024-08-30T08:00:00.000Z', '2024-08-31T00:00:00.000Z'],
  ];
  for (const [rules, from, start, end] of cases) {
    it(`${JSON.stringify(rules)} after ${from}`, () => assert.deepEqual(window(rules, from), [start, end]));
  }
});

describe('nextRotationDate (the last second of the next window)', () => {
  const cases: Array<[string, RotationRules, string, string]> = [
    // Recorded from AWS: weekly cron, rotated Monday 07:18 -> the next Monday's window.
    ['AWS: cron(0 0 ? * 2 *)', { ScheduleExpression: 'cron(0 0 ? * 2 *)' }, '2023-10-16T07:18:02.417Z', '2023-10-23T23:59:59.000Z'],
    // Recorded from AWS: AutomaticallyAfterDays 30, enabled 2026-02-03T17:42Z.
    ['AWS: 30 days', { AutomaticallyAfterDays: 30 }, '2026-02-03T17:42:23.578Z', '2026-03-05T23:59:59.000Z'],
    // AWS API reference example: a 2h window from 16:00 ends at 17:59:59.
    ['AWS doc: 1st/15th + 2h', { ScheduleExpression: 'cron(0 16 1,15 * ? *)', Duration: '2h' }, '2022-10-01T17:00:00.000Z', '2022-10-15T17:59:59.000Z'],
    ['leap day', { AutomaticallyAfterDays: 1 }, '2024-02-28T08:00:00.000Z', '2024-02-29T23:59:59.000Z'],
    ['year end', { ScheduleExpression: 'rate(1 day)', Duration: '4h' }, '2024-12-31T12:00:00.000Z', '2025-01-01T03:59:59.000Z'],
    ['hours', { ScheduleExpression: 'rate(12 hours)' }, '2024-07-01T00:30:00.000Z', '2024-07-01T12:59:59.000Z'],
  ];
  for (const [name, rules, last, expected] of cases) {
    it(name, () => assert.equal(iso(nextRotationDate(parseRotationRules(rules), at(last))), expected));
  }
});

describe('isDue', () => {
  const cases: Array<[string, RotationRules, string, string, boolean]> = [
    ['days: before the due day', { AutomaticallyAfterDays: 1, Duration: '2h' }, '2024-03-01T10:00:00Z', '2024-03-01T23:59:59.999Z', false],
    ['days: window start is inclusive', { AutomaticallyAfterDays: 1, Duration: '2h' }, '2024-03-01T10:00:00Z', '2024-03-02T00:00:00.000Z', true],
    ['days: last ms of the window', { AutomaticallyAfterDays: 1, Duration: '2h' }, '2024-03-01T10:00:00Z', '2024-03-02T01:59:59.999Z', true],
    ['days: window end is exclusive', { AutomaticallyAfterDays: 1, Duration: '2h' }, '2024-03-01T10:00:00Z', '2024-03-02T02:00:00.000Z', false],
    ['days: missed, next day window', { AutomaticallyAfterDays: 1, Duration: '2h' }, '2024-03-01T10:00:00Z', '2024-03-03T00:30:00.000Z', true],
    ['days: missed, outside hours', { AutomaticallyAfterDays: 1, Duration: '2h' }, '2024-03-01T10:00:00Z', '2024-03-03T05:00:00.000Z', false],
    ['days: whole-day window, overdue', { AutomaticallyAfterDays: 7 }, '2024-01-01T10:00:00Z', '2024-02-10T15:00:00.000Z', true],
    ['days: leap day is the due day', { AutomaticallyAfterDays: 1 }, '2024-02-28T23:00:00Z', '2024-02-29T00:00:00.000Z', true],
    ['days: not before it', { AutomaticallyAfterDays: 1 }, '2024-02-28T23:00:00Z', '2024-02-28T23:59:59.999Z', false],
    ['cron: before the window', { ScheduleExpression: 'cron(0 0/6 * * ? *)' }, '2024-01-01T00:10:00Z', '2024-01-01T05:59:59.999Z', false],
    ['cron: at the window start', { ScheduleExpression: 'cron(0 0/6 * * ? *)' }, '2024-01-01T00:10:00Z', '2024-01-01T06:00:00.000Z', true],
    ['cron: last ms of the window', { ScheduleExpression: 'cron(0 0/6 * * ? *)' }, '2024-01-01T00:10:00Z', '2024-01-01T06:59:59.999Z', true],
    ['cron: at the window end', { ScheduleExpression: 'cron(0 0/6 * * ? *)' }, '2024-01-01T00:10:00Z', '2024-01-01T07:00:00.000Z', false],
    ['cron: missed window, next one', { ScheduleExpression: 'cron(0 0/6 * * ? *)' }, '2024-01-01T00:10:00Z', '2024-01-01T12:30:00.000Z', true],
    ['cron: rotated in this window', { ScheduleExpression: 'cron(0 0/6 * * ? *)' }, '2024-01-01T06:30:00Z', '2024-01-01T06:45:00.000Z', false],
    ['cron: back-to-back windows', { ScheduleExpression: 'cron(0 0/4 * * ? *)', Duration: '4h' }, '2024-01-01T00:10:00Z', '2024-01-01T04:00:00.000Z', true],
    ['cron: last day of month', { ScheduleExpression: 'cron(0 16 L * ? *)' }, '2024-01-31T17:00:00Z', '2024-02-29T16:00:00.000Z', true],
    ['cron: not on the 28th', { ScheduleExpression: 'cron(0 16 L * ? *)' }, '2024-01-31T17:00:00Z', '2024-02-28T16:00:00.000Z', false],
    ['rate hours: in window', { ScheduleExpression: 'rate(8 hours)', Duration: '2h' }, '2024-01-01T00:30:00Z', '2024-01-01T09:00:00.000Z', true],
    ['rate hours: after window', { ScheduleExpression: 'rate(8 hours)', Duration: '2h' }, '2024-01-01T00:30:00Z', '2024-01-01T10:00:00.000Z', false],
    ['now before last rotation', { AutomaticallyAfterDays: 1 }, '2024-01-05T00:00:00Z', '2024-01-04T00:00:00.000Z', false],
  ];
  for (const [name, rules, last, now, expected] of cases) {
    it(name, () => assert.equal(isDue(parseRotationRules(rules), at(last), at(now)), expected));
  }
});

describe('normaliseRules (what DescribeSecret returns)', () => {
  const cases: Array<[RotationRules, RotationRules]> = [
    [{ AutomaticallyAfterDays: 1 }, { AutomaticallyAfterDays: 1 }],
    [{ AutomaticallyAfterDays: 30, Duration: '3h' }, { AutomaticallyAfterDays: 30, Duration: '3h' }],
    [{ ScheduleExpression: 'rate(10 days)' }, { AutomaticallyAfterDays: 10, ScheduleExpression: 'rate(10 days)' }],
    [{ ScheduleExpression: 'rate(1 day)' }, { AutomaticallyAfterDays: 1, ScheduleExpression: 'rate(1 day)' }],
    [{ ScheduleExpression: 'rate(6 hours)' }, { ScheduleExpression: 'rate(6 hours)' }],
    [{ ScheduleExpression: 'cron(0 0 ? * 2 *)' }, { AutomaticallyAfterDays: 7, ScheduleExpression: 'cron(0 0 ? * 2 *)' }],
    [
      { ScheduleExpression: 'cron(0 16 1,15 * ? *)', Duration: '2h' },
      { AutomaticallyAfterDays: 14, Duration: '2h', ScheduleExpression: 'cron(0 16 1,15 * ? *)' },
    ],
    [{ ScheduleExpression: 'cron(0 10 * * ? *)' }, { AutomaticallyAfterDays: 1, ScheduleExpression: 'cron(0 10 * * ? *)' }],
    [{ ScheduleExpression: 'cron(0 8 1 * ? *)' }, { AutomaticallyAfterDays: 28, ScheduleExpression: 'cron(0 8 1 * ? *)' }],
    [{ ScheduleExpression: 'cron(0 4/12 * * ? *)' }, { ScheduleExpression: 'cron(0 4/12 * * ? *)' }],
  ];
  for (const [input, expected] of cases) {
    it(JSON.stringify(input), () => assert.deepEqual(normaliseRules(input), expected));
  }
  it('validates', () => assert.throws(() => normaliseRules({ ScheduleExpression: 'rate(1 hour)' }), ServiceError));
});

describe('UTC only: the process time zone and DST changes do not matter', () => {
  const zones = ['UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe'];
  const original = process.env.TZ;
  for (const tz of zones) {
    it(tz, () => {
      process.env.TZ = tz;
      try {
        // 2024-03-10 (US) and 2024-03-31 (EU) are DST change days; windows stay 24h, starting at 00:00Z.
        assert.deepEqual(window({ AutomaticallyAfterDays: 1 }, '2024-03-09T12:00:00Z'), ['2024-03-10T00:00:00.000Z', '2024-03-11T00:00:00.000Z']);
        assert.deepEqual(window({ AutomaticallyAfterDays: 1 }, '2024-03-30T23:30:00Z'), ['2024-03-31T00:00:00.000Z', '2024-04-01T00:00:00.000Z']);
        assert.deepEqual(window({ ScheduleExpression: 'cron(0 2 * * ? *)', Duration: '1h' }, '2024-03-10T00:00:00Z'), ['2024-03-10T02:00:00.000Z', '2024-03-10T03:00:00.000Z']);
        assert.deepEqual(window({ ScheduleExpression: 'cron(0 1 L * ? *)', Duration: '1h' }, '2024-03-01T00:00:00Z'), ['2024-03-31T01:00:00.000Z', '2024-03-31T02:00:00.000Z']);
        assert.deepEqual(window({ ScheduleExpression: 'rate(6 hours)' }, '2024-11-03T05:30:00Z'), ['2024-11-03T06:00:00.000Z', '2024-11-03T07:00:00.000Z']);
      } finally {
        if (original === undefined) delete process.env.TZ;
        else process.env.TZ = original;
      }
    });
  }
});
