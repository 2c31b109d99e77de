// Numeric condition operators: integers and decimals.
import { operator, type OperatorDef } from './operator.js';

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Parses an integer or decimal, or undefined when the text is not a number. */
export function parseNumber(text: string): number | undefined {
  const t = text.trim();
  return NUMBER.test(t) ? Number(t) : undefined;
}

function compare(accept: (a: number, b: number) => boolean): OperatorDef['test'] {
  return (value, policy) => {
    const a = parseNumber(value);
    const b = parseNumber(policy);
    return a !== undefined && b !== undefined && accept(a, b);
  };
}

const validate = (v: string) => (parseNumber(v) === undefined ? `"${v}" is not a number` : undefined);

/** NumericEquals, NumericNotEquals, NumericLessThan(Equals), NumericGreaterThan(Equals). */
export const numericOperators: readonly OperatorDef[] = [
  operator('NumericEquals', compare((a, b) => a === b), { validate }),
  operator('NumericNotEquals', compare((a, b) => a === b), { validate, negated: true }),
  operator('NumericLessThan', compare((a, b) => a < b), { validate }),
  operator('NumericLessThanEquals', compare((a, b) => a <= b), { validate }),
  operator('NumericGreaterThan', compare((a, b) => a > b), { validate }),
  operator('NumericGreaterThanEquals', compare((a, b) => a >= b), { validate }),
];
