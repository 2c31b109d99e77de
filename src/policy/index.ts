// The IAM policy evaluator: parse and validate, match, evaluate. Pure: no I/O.
export * from './types.js';
export { parsePolicy, checkPolicy, PolicySyntaxError, type ParseOptions } from './parse.js';
export { findings, isPublic, isPublicStatement, SECRETS_MANAGER_ACTIONS, type Finding } from './findings.js';
export {
  actionMatches,
  arnMatch,
  resourceMatch,
  principalMatch,
  notPrincipalExempts,
  principalChain,
  roleArnOfSession,
  accountOf,
  splitArn,
  type PrincipalMatch,
} from './match.js';
export { wildcardMatch, expandLiteral, compilePattern, matchPattern, type VariableResolver } from './pattern.js';
export { clauseHolds, conditionsHold, failingClause, parseOperator, type ContextLookup } from './conditions/index.js';
export { buildContext, principalKeys, type EvaluationContext } from './context.js';
export { evaluate, accessDeniedMessage, describeStatement } from './evaluate.js';
export { resourcePolicyFromText } from './from-text.js';
