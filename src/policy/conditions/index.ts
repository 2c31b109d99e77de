// The Condition element: operator names, IfExists, the ForAllValues / ForAnyValue set operators,
// and IAM's rules for missing keys and multiple values.
import { expandLiteral, type VariableResolver } from '../pattern.js';
import type { ConditionClause } from '../types.js';
import { arnOperators } from './arn.js';
import { binaryOperators } from './binary.js';
import { boolOperators } from './bool.js';
import { dateOperators } from './date.js';
import { ipOperators } from './ip.js';
import { nullHolds, validateNull } from './null.js';
import { numericOperators } from './numeric.js';
import type { OperatorDef } from './operator.js';
import { stringOperators } from './string.js';

export type { OperatorDef } from './operator.js';

const ALL = [
  ...stringOperators,
  ...numericOperators,
  ...dateOperators,
  ...boolOperators,
  ...binaryOperators,
  ...ipOperators,
  ...arnOperators,
];

/** Every operator but Null, by lower-cased name. */
export const OPERATORS: ReadonlyMap<string, OperatorDef> = new Map(ALL.map((op) => [op.name.toLowerCase(), op]));

/** An operator name taken apart: `ForAnyValue:StringLikeIfExists` → set, base, ifExists. */
export interface ParsedOperator {
  readonly base: string;
  readonly set?: 'ForAllValues' | 'ForAnyValue';
  readonly ifExists: boolean;
}

/** Parses a condition operator name (case-insensitively); a string explains an unknown one. */
export function parseOperator(name: string): ParsedOperator | string {
  const colon = name.indexOf(':');
  const prefix = colon < 0 ? '' : name.slice(0, colon).toLowerCase();
  const set = prefix === 'forallvalues' ? 'ForAllValues' : prefix === 'foranyvalue' ? 'ForAnyValue' : undefined;
  if (colon >= 0 && set === undefined) {
    return `unknown set operator "${name.slice(0, colon)}" (use ForAllValues or ForAnyValue)`;
  }
  let rest = name.slice(colon + 1);
  if (rest.toLowerCase() === 'null') {
    return set === undefined ? { base: 'Null', ifExists: false } : 'Null cannot be used with a set operator';
  }
  const ifExists = rest.toLowerCase().endsWith('ifexists') && rest.length > 'ifexists'.length;
  if (ifExists) rest = rest.slice(0, -'IfExists'.length);
  if (rest.toLowerCase() === 'null') return 'Null cannot be combined with IfExists';
  const op = OPERATORS.get(rest.toLowerCase());
  if (op === undefined) return `unknown condition operator "${name}"`;
  return { base: op.name, set, ifExists };
}

/** What is wrong with one policy value for the operator, or undefined when it is usable. */
export function validateValue(base: string, value: string, variablesAllowed: boolean): string | undefined {
  if (base === 'Null') return validateNull(value);
  const op = OPERATORS.get(base.toLowerCase());
  if (op === undefined) return `unknown condition operator "${base}"`;
  if (!op.variables && variablesAllowed && /\$\{[^}]*\}/.test(value)) {
    return `policy variables can't be used with ${base}`;
  }
  return op.validate(value);
}

/** Looks up a request context key (keys are case-insensitive); undefined when absent. */
export type ContextLookup = (key: string) => readonly string[] | undefined;

/** True when one request value matches at least one policy value (the positive form). */
function anyPolicyValue(op: OperatorDef, value: string, clause: ConditionClause, vars: VariableResolver | undefined) {
  return clause.values.some((p) => op.test(value, p, vars));
}

/**
 * Whether one condition clause holds, with IAM's rules:
 * - several policy values are OR (NOR for negated operators, which hold when nothing matches);
 * - a missing key fails, except under a negated operator or IfExists, where it holds;
 * - ForAllValues holds on a missing or empty set; ForAnyValue fails on one (unless IfExists and the
 *   key is missing altogether);
 * - a policy variable that can't be resolved makes the clause fail.
 */
export function clauseHolds(
  clause: ConditionClause,
  requestValues: readonly string[] | undefined,
  vars: VariableResolver | undefined,
): boolean {
  if (clause.base === 'Null') return nullHolds(clause.values, requestValues);
  const op = OPERATORS.get(clause.base.toLowerCase());
  if (op === undefined) return false;
  const present = requestValues !== undefined && requestValues.length > 0;
  const v = op.variables ? vars : undefined;
  if (clause.set !== undefined) {
    if (requestValues === undefined && clause.ifExists) return true;
    const set = !present || (requestValues.length === 1 && requestValues[0] === '') ? [] : requestValues;
    if (set.length === 0) return clause.set === 'ForAllValues';
    if (v !== undefined && clause.values.some((p) => expandLiteral(p, v) === null)) return false;
    const one = (value: string) => anyPolicyValue(op, value, clause, v) !== op.negated;
    return clause.set === 'ForAllValues' ? set.every(one) : set.some(one);
  }
  if (!present) return clause.ifExists || op.negated;
  if (v !== undefined && clause.values.some((p) => expandLiteral(p, v) === null)) return false;
  const matched = requestValues.some((value) => anyPolicyValue(op, value, clause, v));
  return matched !== op.negated;
}

/** The first clause of a Condition block that fails (all clauses are ANDed), or undefined. */
export function failingClause(
  clauses: readonly ConditionClause[],
  lookup: ContextLookup,
  vars: VariableResolver | undefined,
): ConditionClause | undefined {
  return clauses.find((c) => !clauseHolds(c, lookup(c.key), vars));
}

/** True when every clause of a Condition block holds. */
export function conditionsHold(
  clauses: readonly ConditionClause[],
  lookup: ContextLookup,
  vars: VariableResolver | undefined,
): boolean {
  return failingClause(clauses, lookup, vars) === undefined;
}
