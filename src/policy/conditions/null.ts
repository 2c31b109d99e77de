// The Null condition operator: whether a key is absent from the request.
import { parseBool } from './bool.js';

/** What is wrong with one Null policy value, or undefined when it is usable. */
export function validateNull(value: string): string | undefined {
  return parseBool(value) === undefined ? `"${value}" is not true or false` : undefined;
}

/**
 * Null: `true` holds when the key is absent (or an empty list), `false` when it is present; several
 * policy values combine as OR.
 */
export function nullHolds(policyValues: readonly string[], requestValues: readonly string[] | undefined): boolean {
  const absent = requestValues === undefined || requestValues.length === 0;
  return policyValues.some((v) => parseBool(v) === absent);
}
