// ARN condition operators: each colon-separated part matched on its own.
import { arnMatch } from '../match.js';
import { hasVariable } from '../pattern.js';
import { operator, type OperatorDef } from './operator.js';

const test: OperatorDef['test'] = (value, policy, vars) => arnMatch(policy, value, vars) === true;

const validate = (v: string) =>
  v === '*' || hasVariable(v) || /^arn:[^:]*:[^:]*:[^:]*:[^:]*:/.test(v)
    ? undefined
    : `"${v}" is not an ARN (arn:partition:service:region:account:resource)`;

/** ArnEquals and ArnLike (identical, both with wildcards), ArnNotEquals and ArnNotLike. */
export const arnOperators: readonly OperatorDef[] = [
  operator('ArnEquals', test, { variables: true, validate }),
  operator('ArnLike', test, { variables: true, validate }),
  operator('ArnNotEquals', test, { variables: true, validate, negated: true }),
  operator('ArnNotLike', test, { variables: true, validate, negated: true }),
];
