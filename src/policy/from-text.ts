import { memoize } from './memo.js';
import { parsePolicy } from './parse.js';
import type { Policy } from './types.js';

/**
 * A stored resource policy (a secret's, a function's) parsed once per distinct text; null when it
 * does not parse, and then it grants nothing.
 */
export const resourcePolicyFromText = memoize((text: string): Policy | null => {
  try {
    return parsePolicy(JSON.parse(text), { kind: 'resource' });
  } catch {
    return null;
  }
}, 2000);
