import { LambdaErrors } from './errors.js';

/** A function name as Lambda allows it: letters, digits, hyphens and underscores, 1 to 64 characters. */
export const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** The ARN of a function of this region and account. */
export function functionArn(region: string, accountId: string, name: string): string {
  return `arn:aws:lambda:${region}:${accountId}:function:${name}`;
}

/**
 * The function name out of anything Lambda accepts as FunctionName: a name, `name:qualifier`, a
 * partial ARN `123456789012:function:name` or a full ARN, with `$LATEST` as the only qualifier.
 * Names of another region or account, or other qualifiers, are not found; a malformed value is
 * InvalidParameterValueException.
 */
export function resolveFunctionName(value: unknown, region: string, accountId: string, queryQualifier?: string | null): string {
  if (typeof value !== 'string' || value.length === 0) throw LambdaErrors.invalidParameter('FunctionName is required.');
  const m =
    /^(?:(?:arn:(aws[a-zA-Z-]*):lambda:)?(?:([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?(?:(\d{12}):)?function:)?([a-zA-Z0-9_-]+)(?::(\$LATEST|[a-zA-Z0-9_-]+))?$/.exec(
      value,
    );
  if (!m || value.length > 256) {
    throw LambdaErrors.invalidParameter(
      `1 validation error detected: Value '${value}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: ` +
        '(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?',
    );
  }
  const [, , region_, account, name, qualifier] = m;
  const q = qualifier ?? queryQualifier ?? undefined;
  const full = functionArn(region_ ?? region, account ?? accountId, name) + (q ? `:${q}` : '');
  if (name.length > 64) throw LambdaErrors.invalidParameter(`Function name ${name} is longer than 64 characters.`);
  if ((region_ && region_ !== region) || (account && account !== accountId) || (q !== undefined && q !== '$LATEST')) {
    throw LambdaErrors.functionNotFound(full);
  }
  if (qualifier && queryQualifier && qualifier !== queryQualifier) {
    throw LambdaErrors.invalidParameter('The derived qualifier from the function name does not match the specified qualifier.');
  }
  return name;
}
