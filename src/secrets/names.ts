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

/** One way to look a SecretId up: by name or by full ARN. */
export type SecretRef = { by: 'name'; name: string } | { by: 'arn'; arn: string };

/**
 * The look-ups to try for a SecretId, in order, as AWS resolves them. A name must be a valid name.
 * An ARN of another region or account can match nothing. For an ARN of ours, the part after
 * "secret:" is first taken as a whole name (a partial ARN); failing that, one trailing hyphen is
 * dropped; what is left is a full ARN when it ends in a hyphen and six characters, else a name.
 * As on AWS, a name that ends in a hyphen and six characters is not found through a partial ARN.
 */
export function secretRefs(id: string, prefix: string): SecretRef[] {
  if (!id.startsWith('arn:')) {
    if (!NAME_CHARS.test(id)) throw Errors.validation(Messages.invalidName);
    return [{ by: 'name', name: id }];
  }
  if (!id.startsWith(prefix)) return [];
  const rest = id.slice(prefix.length);
  if (rest.length === 0) return [];
  if (LOOKS_LIKE_SUFFIX.test(rest)) return [{ by: 'arn', arn: id }];
  const refs: SecretRef[] = [{ by: 'name', name: rest }];
  if (rest.endsWith('-') && rest.length > 1) {
    const trimmed = rest.slice(0, -1);
    refs.push(LOOKS_LIKE_SUFFIX.test(trimmed) ? { by: 'arn', arn: prefix + trimmed } : { by: 'name', name: trimmed });
  }
  return refs;
}
