// Date condition operators: W3C ISO 8601 dates and epoch seconds.
import { memoize } from '../memo.js';
import { operator, type OperatorDef } from './operator.js';

// YYYY, YYYY-MM, YYYY-MM-DD, YYYY-MM-DDThh:mm[:ss[.s+]][TZD] (the W3C profile of ISO 8601).
const ISO =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?([Zz]|[+-]\d{2}:?\d{2})?)?)?)?$/;
const EPOCH = /^-?\d+(\.\d+)?$/;

function offsetMinutes(tz: string | undefined): number {
  if (tz === undefined || tz === 'Z' || tz === 'z') return 0;
  const sign = tz[0] === '-' ? -1 : 1;
  const digits = tz.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
}

/**
 * Parses a date to epoch milliseconds: ISO 8601 (a time without zone is UTC) or epoch seconds (all
 * digits, optionally with a fraction). A bare four-digit value is a year, as ISO reads it.
 */
export function parseDate(text: string): number | undefined {
  const t = text.trim();
  const m = ISO.exec(t);
  if (m === null) return EPOCH.test(t) ? Number(t) * 1000 : undefined;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? (i <= 3 ? 1 : 0)));
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (new Date(utc).getUTCDate() !== day) return undefined; // 2024-02-30 and friends
  return utc - offsetMinutes(m[8]) * 60_000;
}

/** A policy's dates parse once (a request's values, the current time above all, vary). */
const policyDate = memoize(parseDate);

function compare(accept: (a: number, b: number) => boolean): OperatorDef['test'] {
  return (value, policy) => {
    const a = parseDate(value);
    const b = policyDate(policy);
    return a !== undefined && b !== undefined && accept(a, b);
  };
}

const validate = (v: string) =>
  parseDate(v) === undefined ? `"${v}" is not an ISO 8601 date or epoch seconds` : undefined;

/** DateEquals, DateNotEquals, DateLessThan(Equals), DateGreaterThan(Equals). */
export const dateOperators: readonly OperatorDef[] = [
  operator('DateEquals', compare((a, b) => a === b), { validate }),
  operator('DateNotEquals', compare((a, b) => a === b), { validate, negated: true }),
  operator('DateLessThan', compare((a, b) => a < b), { validate }),
  operator('DateLessThanEquals', compare((a, b) => a <= b), { validate }),
  operator('DateGreaterThan', compare((a, b) => a > b), { validate }),
  operator('DateGreaterThanEquals', compare((a, b) => a >= b), { validate }),
];
