import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyseDays, CronSyntaxError, matchesDay, nextFireAfter, parseCron } from './cron.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('parseCron', () => {
  const valid: Array<[string, Partial<ReturnType<typeof parseCron>>]> = [
    ['0 10 * * ? *', { minutes: [0], hours: [10], dom: { kind: 'days', days: range(1, 31) }, dow: { kind: 'any' } }],
    ['0 4/12 * * ? *', { hours: [4, 16] }],
    ['0 */6 * * ? *', { hours: [0, 6, 12, 18] }],
    ['0 8-20/4 * * ? *', { hours: [8, 12, 16, 20] }],
    ['0 1,13,7 * * ? *', { hours: [1, 7, 13] }],
    ['0 0 ? JAN,apr,Jul,OCT MON *', { months: [1, 4, 7, 10], dow: { kind: 'days', days: [2] } }],
    ['0 0 ? * MON-FRI *', { dow: { kind: 'days', days: [2, 3, 4, 5, 6] } }],
    ['0 0 1/10 * ? *', { dom: { kind: 'days', days: [1, 11, 21, 31] } }],
    ['0 0 L * ? *', { dom: { kind: 'last' }, dow: { kind: 'any' } }],
    ['0 0 LW * ? *', { dom: { kind: 'lastWeekday' } }],
    ['0 0 15W * ? *', { dom: { kind: 'nearestWeekday', day: 15 } }],
    ['0 0 ? * L *', { dow: { kind: 'days', days: [7] } }],
    ['0 0 ? * 6L *', { dow: { kind: 'last', weekday: 6 } }],
    ['0 0 ? * FRIL *', { dow: { kind: 'last', weekday: 6 } }],
    ['0 0 ? * SUN#1 *', { dow: { kind: 'nth', weekday: 1, nth: 1 } }],
    ['0 0 ? * 3#5 *', { dow: { kind: 'nth', weekday: 3, nth: 5 } }],
    // Secrets Manager's own example uses * with a day-of-week: read the * as ?.
    ['0 1 * 1/3 SUN *', { dom: { kind: 'any' }, dow: { kind: 'days', days: [1] }, months: [1, 4, 7, 10] }],
    ['0 1 15 * * *', { dom: { kind: 'days', days: [15] }, dow: { kind: 'any' } }],
    ['0 0 * * ? 2025-2027', { years: [2025, 2026, 2027] }],
    ['  0   0  * * ? *  ', { years: null }],
  ];
  for (const [body, expected] of valid) {
    it(`parses ${body.trim()}`, () => {
      const c = parseCron(body);
      for (const [k, v] of Object.entries(expected)) assert.deepEqual(c[k as keyof typeof c], v, k);
    });
  }

  const invalid = [
    '',
    '0 10 * * ?',
    '0 10 * * ? * *',
    '60 10 * * ? *',
    '0 24 * * ? *',
    '0 -1 * * ? *',
    '0 10 0 * ? *',
    '0 10 32 * ? *',
    '0 10 * 13 ? *',
    '0 10 * FOO ? *',
    '0 10 ? * 8 *',
    '0 10 ? * 0 *',
    '0 10 ? * ? *',
    '0 10 1 * MON *',
    '0 10 5-1 * ? *',
    '0 10/0 * * ? *',
    '0 10,,12 * * ? *',
    '0 10 1-2-3 * ? *',
    '0 10 L-2 * ? *',
    '0 10 1,L * ? *',
    '0 10 32W * ? *',
    '0 10 ? * MON#6 *',
    '0 10 ? * MON#0 *',
    '0 10 ? * 1,L *',
    '0 10 * * ? 1969',
    '0 10 * * ? 2200',
    'a b c d e f',
  ];
  for (const body of invalid) {
    it(`rejects '${body}'`, () => assert.throws(() => parseCron(body), CronSyntaxError));
  }
});

describe('matchesDay', () => {
  const cases: Array<[string, string, boolean]> = [
    // L: last day of month, leap years included.
    ['0 0 L * ? *', '2024-02-29', true],
    ['0 0 L * ? *', '2024-02-28', false],
    ['0 0 L * ? *', '2023-02-28', true],
    ['0 0 L * ? *', '2024-04-30', true],
    ['0 0 L * ? *', '2024-12-31', true],
    // LW: 2024-08-31 is a Saturday, 2024-03-31 a Sunday.
    ['0 0 LW * ? *', '2024-08-30', true],
    ['0 0 LW * ? *', '2024-08-31', false],
    ['0 0 LW * ? *', '2024-03-29', true],
    ['0 0 LW * ? *', '2024-10-31', true],
    // nW: nearest weekday without leaving the month.
    ['0 0 15W * ? *', '2024-09-16', true], // 15th is a Sunday -> Monday 16th
    ['0 0 15W * ? *', '2024-09-15', false],
    ['0 0 15W * ? *', '2024-06-14', true], // 15th is a Saturday -> Friday 14th
    ['0 0 15W * ? *', '2024-05-15', true], // Wednesday
    ['0 0 1W * ? *', '2024-06-03', true], // 1st is a Saturday -> Monday 3rd, not May 31st
    ['0 0 1W * ? *', '2024-05-31', false],
    ['0 0 31W * ? *', '2024-03-29', true], // 31st is a Sunday -> Friday 29th
    ['0 0 31W * ? *', '2024-04-30', false], // April has no 31st
    ['0 0 30W * ? *', '2024-02-29', false],
    // Day of week: 1 = SUN ... 7 = SAT; L alone = Saturday.
    ['0 0 ? * SAT *', '2024-01-06', true],
    ['0 0 ? * 7 *', '2024-01-06', true],
    ['0 0 ? * L *', '2024-01-06', true],
    ['0 0 ? * L *', '2024-01-07', false],
    ['0 0 ? * sun *', '2024-01-07', true],
    // nL: last given weekday of the month.
    ['0 0 ? * 6L *', '2024-02-23', true],
    ['0 0 ? * 6L *', '2024-02-16', false],
    ['0 0 ? * FRIL *', '2024-05-31', true],
    // n#k: k-th given weekday of the month.
    ['0 0 ? * MON#1 *', '2024-01-01', true],
    ['0 0 ? * MON#1 *', '2024-01-08', false],
    ['0 0 ? * TUE#3 *', '2024-01-16', true],
    ['0 0 ? * THU#5 *', '2024-02-29', true], // leap-day fifth Thursday
    ['0 0 ? * THU#5 *', '2024-03-28', false], // March 2024 has four Thursdays
    ['0 0 ? * WED#5 *', '2024-02-28', false],
    // Months.
    ['0 0 1 JAN,JUL ? *', '2024-07-01', true],
    ['0 0 1 JAN,JUL ? *', '2024-08-01', false],
  ];
  for (const [body, date, expected] of cases) {
    it(`${body} ${expected ? 'matches' : 'does not match'} ${date}`, () => {
      const [y, m, d] = date.split('-').map(Number) as [number, number, number];
      assert.equal(matchesDay(parseCron(body), y, m, d), expected);
    });
  }
});

describe('nextFireAfter', () => {
  const cases: Array<[string, string, string | undefined]> = [
    ['0 10 * * ? *', '2024-01-31T09:59:59.999Z', '2024-01-31T10:00:00.000Z'],
    ['0 10 * * ? *', '2024-01-31T10:00:00.000Z', '2024-02-01T10:00:00.000Z'], // strictly after
    ['0 0 L * ? *', '2024-02-01T00:00:00.000Z', '2024-02-29T00:00:00.000Z'], // leap February
    ['0 0 L * ? *', '2023-02-01T00:00:00.000Z', '2023-02-28T00:00:00.000Z'],
    ['0 0 L 2 ? *', '2024-03-01T00:00:00.000Z', '2025-02-28T00:00:00.000Z'],
    ['0 0 29 2 ? *', '2024-03-01T00:00:00.000Z', '2028-02-29T00:00:00.000Z'],
    ['0 0 1 1 ? *', '2024-12-31T12:00:00.000Z', '2025-01-01T00:00:00.000Z'], // year boundary
    ['0 23 31 12 ? *', '2024-12-31T22:00:00.000Z', '2024-12-31T23:00:00.000Z'],
    ['0 4/12 * * ? *', '2024-03-09T17:00:00.000Z', '2024-03-10T04:00:00.000Z'], // resets each day
    ['0 4/12 * * ? *', '2024-03-10T04:00:00.000Z', '2024-03-10T16:00:00.000Z'],
    ['0 8 ? * MON#1 *', '2024-01-01T09:00:00.000Z', '2024-02-05T08:00:00.000Z'],
    ['0 8 15W * ? *', '2024-09-01T00:00:00.000Z', '2024-09-16T08:00:00.000Z'],
    ['0 8 ? * MON-FRI *', '2024-01-05T08:00:00.000Z', '2024-01-08T08:00:00.000Z'], // skips the weekend
    ['0 0 31 * ? *', '2024-04-01T00:00:00.000Z', '2024-05-31T00:00:00.000Z'], // skips 30-day months
    ['0 0 * * ? 2024', '2024-12-31T00:00:00.000Z', undefined], // no year left
    ['0 0 30 2 ? *', '2024-01-01T00:00:00.000Z', undefined], // never
  ];
  for (const [body, after, expected] of cases) {
    it(`${body} after ${after}`, () => assert.equal(iso(nextFireAfter(parseCron(body), at(after))), expected));
  }
});

describe('analyseDays', () => {
  const cases: Array<[string, number, number]> = [
    ['0 0 * * ? *', 1, 1],
    ['0 0 ? * MON *', 7, 7],
    ['0 0 ? * MON-FRI *', 1, 3],
    ['0 16 1,15 * ? *', 14, 17],
    ['0 0 L * ? *', 28, 31],
    ['0 0 1 1 ? *', 365, 366],
    ['0 0 29 2 ? *', 1461, 1461], // 2000..2028 are all leap years in the scan
    ['0 0 ? 1/3 SUN#1 *', 84, 98],
  ];
  for (const [body, min, max] of cases) {
    it(`${body}: gaps ${min}..${max} days`, () => {
      const a = analyseDays(parseCron(body));
      assert.deepEqual([a.minGapDays, a.maxGapDays], [min, max]);
    });
  }
  it('reports no match for impossible dates', () => {
    assert.equal(analyseDays(parseCron('0 0 31 4 ? *')).count, 0);
  });
  it('reports an infinite gap for a single match', () => {
    // A fifth Monday in February needs a leap year starting on Monday: 2016 only, in 2000-2028.
    const a = analyseDays(parseCron('0 0 ? 2 MON#5 *'));
    assert.equal(a.count, 1);
    assert.equal(a.maxGapDays, Infinity);
  });
});

function range(lo: number, hi: number): number[] {
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}
