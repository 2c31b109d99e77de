// The BinaryEquals condition operator.
import { operator, type OperatorDef } from './operator.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

/** Decodes base64 text, or undefined when it isn't base64. */
export function decodeBase64(text: string): Buffer | undefined {
  const t = text.trim();
  return t.length > 0 && BASE64.test(t) ? Buffer.from(t, 'base64') : undefined;
}

// The request value is the key's binary value, carried base64-encoded like the policy value.
const test: OperatorDef['test'] = (value, policy) => {
  const a = decodeBase64(value);
  const b = decodeBase64(policy);
  return a !== undefined && b !== undefined && a.equals(b);
};

const validate = (v: string) => (decodeBase64(v) === undefined ? `"${v}" is not base64` : undefined);

/** BinaryEquals: byte-for-byte comparison of base64-encoded values. */
export const binaryOperators: readonly OperatorDef[] = [operator('BinaryEquals', test, { validate })];
