// The shape every condition operator family implements.
import type { VariableResolver } from '../pattern.js';

/** One condition operator: how a request value compares with one policy value. */
export interface OperatorDef {
  /** The canonical name, e.g. `StringNotEquals`. */
  readonly name: string;
  /** Negated operators (`...Not...`): several policy values combine as NOR instead of OR. */
  readonly negated: boolean;
  /** Whether `${...}` policy variables are expanded in this operator's values. */
  readonly variables: boolean;
  /** What is wrong with one policy value, or undefined when it is usable. */
  validate(policyValue: string): string | undefined;
  /**
   * The positive comparison (for `StringNotEquals`, equality) of one request value with one policy
   * value. `vars` is undefined for the 2008-10-17 language, where variables are literal text.
   */
  test(requestValue: string, policyValue: string, vars: VariableResolver | undefined): boolean;
}

/** Builds an operator definition. */
export function operator(
  name: string,
  test: OperatorDef['test'],
  options: { negated?: boolean; variables?: boolean; validate?: OperatorDef['validate'] } = {},
): OperatorDef {
  return {
    name,
    negated: options.negated ?? false,
    variables: options.variables ?? false,
    validate: options.validate ?? (() => undefined),
    test,
  };
}
