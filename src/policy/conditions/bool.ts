// The Bool condition operator.
import { expandLiteral, hasVariable } from '../pattern.js';
import { operator, type OperatorDef } from './operator.js';

/** `true` / `false` (any case) as a boolean, or undefined for anything else. */
export function parseBool(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  return t === 'true' ? true : t === 'false' ? false : undefined;
}

const test: OperatorDef['test'] = (value, policy, vars) => {
  const expanded = expandLiteral(policy, vars);
  const a = parseBool(value);
  return a !== undefined && expanded !== null && a === parseBool(expanded);
};

const validate = (v: string) =>
  parseBool(v) === undefined && !hasVariable(v) ? `"${v}" is not true or false` : undefined;

/** Bool: compares "true"/"false" (JSON booleans or strings, any case). */
export const boolOperators: readonly OperatorDef[] = [operator('Bool', test, { variables: true, validate })];
