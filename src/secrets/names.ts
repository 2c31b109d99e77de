import { randomInt } from 'node:crypto';
import { Errors, Messages } from '../errors.js';

const NAME_CHARS = /^[A-Za-z0-9/_+=.@!-]+$/;
const SUFFIX_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const LOOKS_LIKE_SUFFIX = /-[A-Za-z0-9]{6}$/;

/** Checks a secret name as AWS does: 1-512 of alphanumerics and -/_+=.@! */
export function assertValidName(name: string): void {
  if (name.length < 1 || name.length > 512 || !NAME_CHARS.test(name)) throw Errors.validation(Messages.invalidName);
}

/** Six random characters, the suffix AWS appends to a secret's ARN. */
export function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += SUFFIX_CHARS[randomInt(SUFFIX_CHARS.length)];
  return s;
}

/** The ARN prefix that every secret of this region and account shares. */
export function arnPrefix(partition: string, region: string, accountId: string): string {
  return `arn:${partition}:secretsmanager:${region}:${accountId}:secret:`;
}

/** How to look a SecretId up: by name, by full ARN, or by partial ARN (name without the suffix). */
export type SecretRef =
  | { kind: 'name'; name: string }
  | { kind: 'arn'; arn: string }
  | { kind: 'partial'; arn: string; name: string }
  | { kind: 'foreign' };

/**
 * Classifies a SecretId. An ARN of another region or account can never match (`foreign`). An ARN
 * whose name part ends in a hyphen and six characters is taken as a full ARN; one with a single
 * trailing hyphen, or no suffix, as a partial ARN.
 */
export function parseSecretId(id: string, prefix: string): SecretRef {
  if (!id.startsWith('arn:')) return { kind: 'name', name: id };
  if (!id.startsWith(prefix)) return { kind: 'foreign' };
  let rest = id.slice(prefix.length);
  if (rest.endsWith('-')) rest = rest.slice(0, -1);
  else if (LOOKS_LIKE_SUFFIX.test(rest)) return { kind: 'arn', arn: id };
  if (rest.length === 0) return { kind: 'foreign' };
  if (LOOKS_LIKE_SUFFIX.test(rest)) return { kind: 'arn', arn: prefix + rest };
  return { kind: 'partial', arn: prefix + rest, name: rest };
}
