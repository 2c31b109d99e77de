import { readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';

/*
 * The SSRF token of the agent, with the AWS Secrets Manager Agent's rules: the token is the value of
 * the first environment variable of a list that is set (AWS_TOKEN, AWS_SESSION_TOKEN,
 * AWS_CONTAINER_AUTHORIZATION_TOKEN by default); a value `file://<path>` means "the contents of that
 * file", trimmed. Every secret request must carry the token in one of a list of headers
 * (X-Aws-Parameters-Secrets-Token, X-Vault-Token by default). Pure apart from reading the file.
 */

/** The variables searched for the token, in order (AWS's defaults). */
export const DEFAULT_SSRF_ENV_VARIABLES: readonly string[] = ['AWS_TOKEN', 'AWS_SESSION_TOKEN', 'AWS_CONTAINER_AUTHORIZATION_TOKEN'];
/** The request headers that may carry the token (AWS's defaults). */
export const DEFAULT_SSRF_HEADERS: readonly string[] = ['X-Aws-Parameters-Secrets-Token', 'X-Vault-Token'];

/** Where the token came from: the variable, and the file when the variable named one. Never the token. */
export interface TokenSource {
  variable: string;
  file?: string;
}

/** The resolved token and its source. */
export interface ResolvedToken {
  token: string;
  source: TokenSource;
}

/** No usable token: the agent must not start. The message never holds a token. */
export class TokenError extends Error {
  override name = 'TokenError';
}

/**
 * Finds the token: the first variable of `names` that is set and not empty. A value starting with
 * `file://` names a file whose contents (trimmed) are the token. Throws TokenError when no variable
 * is set, the file cannot be read, or the file is empty.
 *
 * One deliberate difference from AWS: a variable set to the empty string counts as unset (AWS would
 * accept an empty token, which an empty header then matches).
 */
export function resolveToken(
  names: readonly string[],
  env: Record<string, string | undefined>,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): ResolvedToken {
  if (names.length === 0) throw new TokenError('the list of SSRF token variables is empty');
  const variable = names.find((n) => (env[n] ?? '') !== '');
  if (variable === undefined) {
    throw new TokenError(
      `no SSRF token: none of ${names.join(', ')} is set. Set ${names[0]} to a long random value, or to ` +
        `file://<path> of a file holding one; applications send it in the ${DEFAULT_SSRF_HEADERS[0]} header`,
    );
  }
  const value = env[variable]!;
  if (!value.startsWith('file://')) return { token: value, source: { variable } };
  const file = value.slice('file://'.length);
  let text: string;
  try {
    text = readFile(file);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new TokenError(`could not read the SSRF token file ${file} (named by ${variable}): ${why}`);
  }
  const token = text.trim();
  if (token === '') throw new TokenError(`the SSRF token file ${file} (named by ${variable}) is empty`);
  return { token, source: { variable, file } };
}

/** A one-line description of a token's source, for the log (never the token). */
export function describeSource(s: TokenSource): string {
  return s.file === undefined ? s.variable : `${s.variable} (file ${s.file})`;
}

/**
 * Builds the check of a request's headers: true when one of `headerNames` carries exactly `token`.
 * Header names are matched case-insensitively (Node lower-cases them); a repeated header is checked
 * by its first value, as AWS does. Values are compared in constant time.
 */
export function tokenChecker(token: string, headerNames: readonly string[]): (headers: Record<string, string | string[] | undefined>) => boolean {
  const expected = Buffer.from(token, 'utf8');
  const names = headerNames.map((h) => h.toLowerCase());
  return (headers) => {
    let ok = false;
    for (const name of names) {
      const raw = headers[name];
      const value = Array.isArray(raw) ? raw[0] : raw;
      if (value === undefined) continue;
      const got = Buffer.from(value, 'utf8');
      // Every present header is compared, so the time taken does not depend on which one matched.
      if (got.length === expected.length && timingSafeEqual(got, expected)) ok = true;
    }
    return ok;
  };
}
