import { randomBytes } from 'node:crypto';
import { Errors } from '../errors.js';

/*
 * The password generator behind GetRandomPassword.
 *
 * Character sets (API reference, GetRandomPassword and GetRandomPasswordRequest.ExcludePunctuation):
 * lowercase a-z, uppercase A-Z, digits 0-9, the 32 punctuation characters
 *   ! " # $ % & ' ( ) * + , - . / : ; < = > ? @ [ \ ] ^ _ ` { | } ~
 * (every printable ASCII character that is neither a letter, a digit nor the space), and the
 * space only with IncludeSpace. ExcludeCharacters removes characters from every set, compared
 * character by character (never as a pattern).
 *
 * RequireEachIncludedType (default true) requires one upper and lowercase letter, one number and
 * one punctuation, i.e. the four types whose Exclude* switch is off. The API reference names only
 * these four, so the space is admitted by IncludeSpace but never required.
 *
 * Refusals, all InvalidParameterException (AWS's wording; see PasswordMessages):
 * - a required type whose every character is in ExcludeCharacters;
 * - nothing left to choose from at all;
 * - RequireEachIncludedType with PasswordLength below the number of required types.
 */

/** The request members of GetRandomPassword that shape the password (all optional, AWS defaults). */
export interface PasswordOptions {
  PasswordLength?: number;
  ExcludeCharacters?: string;
  ExcludeNumbers?: boolean;
  ExcludePunctuation?: boolean;
  ExcludeUppercase?: boolean;
  ExcludeLowercase?: boolean;
  IncludeSpace?: boolean;
  RequireEachIncludedType?: boolean;
}

/** The messages AWS returns (as InvalidParameterException) when no password can be generated. */
export const PasswordMessages = {
  allExcluded: 'All characters have been excluded from selection.',
  typeExcluded: 'All characters of the desired type have been excluded.',
  tooShort: 'Password length is too short based on the required types.',
} as const;

const DEFAULT_LENGTH = 32;
const MIN_LENGTH = 1;
const MAX_LENGTH = 4096;

const LOWERCASE = 'abcdefghijklmnopqrstuvwxyz';
const UPPERCASE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
const SPACE = ' ';

/** How many bytes to ask the random source for at a time. */
const CHUNK = 256;
/** Consecutive rejected bytes after which the random source is taken to be broken (p < 2^-1000 for a sound one). */
const MAX_CONSECUTIVE_REJECTIONS = 1000;
/** Whole-password redraws after which we give up; the worst reachable acceptance rate is ~4.6e-4 per draw. */
const MAX_ATTEMPTS = 1_000_000;

/** Pulls bytes from the random source in chunks and hands them out one at a time. */
class ByteStream {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;

  constructor(private readonly random: (n: number) => Buffer) {}

  next(): number {
    if (this.pos >= this.buf.length) {
      const fresh = this.random(CHUNK);
      if (!Buffer.isBuffer(fresh) || fresh.length === 0) {
        throw Errors.internal('The random source returned no bytes.');
      }
      this.buf = fresh;
      this.pos = 0;
    }
    return this.buf[this.pos++]!;
  }

  /**
   * A uniform index in [0, n) for 1 <= n <= 256, by rejection sampling: the bytes 0..limit-1,
   * where limit is the largest multiple of n not above 256, split into n classes of exactly
   * limit/n bytes each, so `b % n` of an ACCEPTED byte is uniform; bytes >= limit are thrown
   * away and redrawn (taking them modulo n would favour the first 256 % n indexes).
   */
  index(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 256) {
      throw Errors.internal(`Cannot draw an index below ${n} from single bytes.`);
    }
    const limit = 256 - (256 % n);
    for (let rejected = 0; rejected < MAX_CONSECUTIVE_REJECTIONS; rejected++) {
      const b = this.next();
      if (b < limit) return b % n;
    }
    throw Errors.internal('The random source keeps returning out-of-range bytes.');
  }
}

function checkLength(value: number | undefined): number {
  if (value === undefined || value === null) return DEFAULT_LENGTH;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw Errors.validation(
      `1 validation error detected: Value '${String(value)}' at 'passwordLength' failed to satisfy constraint: Member must be a whole number`,
    );
  }
  if (value < MIN_LENGTH) {
    throw Errors.validation(
      `1 validation error detected: Value '${value}' at 'passwordLength' failed to satisfy constraint: Member must have value greater than or equal to ${MIN_LENGTH}`,
    );
  }
  if (value > MAX_LENGTH) {
    throw Errors.validation(
      `1 validation error detected: Value '${value}' at 'passwordLength' failed to satisfy constraint: Member must have value less than or equal to ${MAX_LENGTH}`,
    );
  }
  return value;
}

/** Generates a random password exactly as GetRandomPassword does; `random(n)` must return n random bytes. */
export function generatePassword(opts: PasswordOptions, random: (n: number) => Buffer = randomBytes): string {
  const length = checkLength(opts.PasswordLength);
  const requireEach = opts.RequireEachIncludedType ?? true;

  // A Set of the excluded characters: plain membership, so regex-special characters, quotes,
  // backslashes and '-' (no ranges) mean only themselves.
  const excluded = new Set(opts.ExcludeCharacters ?? '');
  const strip = (chars: string): string => [...chars].filter((c) => !excluded.has(c)).join('');

  // The four types that RequireEachIncludedType speaks of, with their Exclude* switch.
  const types: ReadonlyArray<readonly [chars: string, off: boolean | undefined]> = [
    [LOWERCASE, opts.ExcludeLowercase],
    [UPPERCASE, opts.ExcludeUppercase],
    [DIGITS, opts.ExcludeNumbers],
    [PUNCTUATION, opts.ExcludePunctuation],
  ];
  const included = types.filter(([, off]) => off !== true).map(([chars]) => strip(chars));

  // With RequireEachIncludedType, a type switched on but emptied by ExcludeCharacters is an error
  // (AWS does this; without the flag the emptied type simply contributes nothing).
  if (requireEach && included.some((chars) => chars.length === 0)) {
    throw Errors.invalidParameter(PasswordMessages.typeExcluded);
  }
  const required = requireEach ? included : [];

  const alphabet = included.join('') + (opts.IncludeSpace === true ? strip(SPACE) : '');
  if (alphabet.length === 0) {
    throw Errors.invalidParameter(PasswordMessages.allExcluded);
  }
  if (length < required.length) {
    throw Errors.invalidParameter(PasswordMessages.tooShort);
  }

  // Every character is an independent uniform draw from the alphabet. For RequireEachIncludedType
  // we redraw the WHOLE password until it holds a character of each required type: that is
  // rejection sampling over passwords, so every acceptable password is exactly equally likely and
  // no position is special. (Filling and then overwriting random positions with one character
  // per type is not uniform: it weights a password by the product of its per-type counts.)
  // The acceptance rate is at worst about 4.6e-4 (a four-character password with three types cut
  // down to one character each, plus the space), i.e. about 2,200 cheap redraws; for the default
  // 32 characters over all four full types it is about 97%.
  const bytes = new ByteStream(random);
  const requiredSets = required.map((chars) => new Set(chars));
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    let password = '';
    for (let i = 0; i < length; i++) password += alphabet[bytes.index(alphabet.length)];
    if (requiredSets.every((set) => [...password].some((c) => set.has(c)))) return password;
  }
  throw Errors.internal('Could not generate a password that satisfies RequireEachIncludedType.');
}
