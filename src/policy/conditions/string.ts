// String condition operators: exact, case-insensitive and wildcard matching.
import { compilePattern, expandLiteral, matchPattern } from '../pattern.js';
import { operator, type OperatorDef } from './operator.js';

const equals: OperatorDef['test'] = (value, policy, vars) => expandLiteral(policy, vars) === value;

const equalsIgnoreCase: OperatorDef['test'] = (value, policy, vars) =>
  expandLiteral(policy, vars)?.toLowerCase() === value.toLowerCase();

const like: OperatorDef['test'] = (value, policy, vars) => {
  const pattern = compilePattern(policy, vars);
  return pattern !== null && matchPattern(pattern, value);
};

/** StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike, StringNotLike. */
export const stringOperators: readonly OperatorDef[] = [
  operator('StringEquals', equals, { variables: true }),
  operator('StringNotEquals', equals, { variables: true, negated: true }),
  operator('StringEqualsIgnoreCase', equalsIgnoreCase, { variables: true }),
  operator('StringNotEqualsIgnoreCase', equalsIgnoreCase, { variables: true, negated: true }),
  operator('StringLike', like, { variables: true }),
  operator('StringNotLike', like, { variables: true, negated: true }),
];
