import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { ServiceError } from '../errors.js';
import { generatePassword, PasswordMessages, type PasswordOptions } from './password.js';

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
const PUNCT = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
const ALL = LOWER + UPPER + DIGITS + PUNCT;

const upperDigitsPunctOff = { ExcludeUppercase: true, ExcludeNumbers: true, ExcludePunctuation: true } as const;
/** Alphabet "abc": lowercase cut to three letters, every other type off. */
const ABC: PasswordOptions = { ...upperDigitsPunctOff, ExcludeCharacters: LOWER.slice(3) };

/** Every character seen over `draws` passwords generated with `opts`. */
function observed(opts: PasswordOptions, draws: number): Set<string> {
  const seen = new Set<string>();
  for (let i = 0; i < draws; i++) for (const c of generatePassword(opts)) seen.add(c);
  return seen;
}

function sorted(chars: Iterable<string>): string {
  return [...chars].sort().join('');
}

function hasAny(password: string, set: string): boolean {
  return [...password].some((c) => set.includes(c));
}

/** A deterministic, high-quality byte source (AES-128-CTR keystream of a seed), so statistical tests are not flaky. */
function seededRandom(seed: string): (n: number) => Buffer {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  return (n: number) => cipher.update(Buffer.alloc(n));
}

/** A fake source that hands out exactly the given bytes, in order, then refuses. */
function scripted(bytes: number[]): (n: number) => Buffer {
  const queue = [...bytes];
  return (n: number) => {
    if (queue.length === 0) throw new Error('scripted random source exhausted');
    return Buffer.from(queue.splice(0, n));
  };
}

function expectError(opts: PasswordOptions, code: string, message: string | RegExp): void {
  assert.throws(
    () => generatePassword(opts),
    (e: unknown) => {
      assert.ok(e instanceof ServiceError, `expected a ServiceError, got ${String(e)}`);
      assert.equal(e.code, code);
      if (typeof message === 'string') assert.equal(e.message, message);
      else assert.match(e.message, message);
      return true;
    },
  );
}

/** Chi-square statistic of observed counts against a uniform expectation. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

describe('generatePassword: character sets', () => {
  it('the punctuation set is every printable ASCII character that is not a letter, digit or space', () => {
    let expected = '';
    for (let code = 0x21; code <= 0x7e; code++) {
      const c = String.fromCharCode(code);
      if (!/[A-Za-z0-9]/.test(c)) expected += c;
    }
    assert.equal(PUNCT.length, 32);
    assert.equal(sorted(PUNCT), sorted(expected));
  });

  it('defaults: 32 characters, drawn from exactly the 94 characters of the four types, no space', () => {
    const pw = generatePassword({});
    assert.equal(pw.length, 32);
    assert.equal(sorted(observed({}, 2000)), sorted(ALL));
  });

  it('defaults require each type: every default password holds all four types', () => {
    for (let i = 0; i < 2000; i++) {
      const pw = generatePassword({});
      assert.ok(hasAny(pw, LOWER) && hasAny(pw, UPPER) && hasAny(pw, DIGITS) && hasAny(pw, PUNCT), pw);
    }
  });

  it('honours PasswordLength from 1 to 4096', () => {
    for (const n of [1, 4, 5, 33, 100, 4096]) {
      assert.equal(generatePassword({ PasswordLength: n, RequireEachIncludedType: n >= 4 }).length, n);
    }
  });

  const flags: Array<[keyof PasswordOptions, string]> = [
    ['ExcludeLowercase', LOWER],
    ['ExcludeUppercase', UPPER],
    ['ExcludeNumbers', DIGITS],
    ['ExcludePunctuation', PUNCT],
  ];
  for (const [flag, chars] of flags) {
    it(`${flag} removes exactly that type`, () => {
      const seen = observed({ [flag]: true, PasswordLength: 64 }, 500);
      for (const c of chars) assert.ok(!seen.has(c), `${flag} let ${JSON.stringify(c)} through`);
      assert.equal(sorted(seen), sorted([...ALL].filter((c) => !chars.includes(c))));
    });
  }

  it('several Exclude* flags at once leave only the remaining type', () => {
    const seen = observed({ ExcludeLowercase: true, ExcludeUppercase: true, ExcludePunctuation: true }, 200);
    assert.equal(sorted(seen), sorted(DIGITS));
  });
});

describe('generatePassword: ExcludeCharacters', () => {
  it('removes regex-special characters, quotes and backslash literally, and nothing else', () => {
    const exclude = '\\^$.*+?()[]{}|/-"\'`';
    const seen = observed({ ExcludeCharacters: exclude }, 2000);
    for (const c of exclude) assert.ok(!seen.has(c), `excluded ${JSON.stringify(c)} appeared`);
    assert.equal(sorted(seen), sorted([...ALL].filter((c) => !exclude.includes(c))));
  });

  it('a dash is a character, not a range', () => {
    const seen = observed({ ExcludeCharacters: 'a-z' }, 2000);
    for (const c of 'a-z') assert.ok(!seen.has(c));
    for (const c of 'bcmxy') assert.ok(seen.has(c), `${c} should still be drawn`);
  });

  it('a caret or bracket first in the string is not a negation or class', () => {
    const seen = observed({ ExcludeCharacters: '^]$' }, 2000);
    assert.equal(sorted(seen), sorted([...ALL].filter((c) => !'^]$'.includes(c))));
  });

  it('characters outside every set are ignored', () => {
    const seen = observed({ ExcludeCharacters: 'é€\n\t😀' }, 1000);
    assert.equal(sorted(seen), sorted(ALL));
  });

  it('without RequireEachIncludedType, a type emptied by ExcludeCharacters just contributes nothing', () => {
    const seen = observed({ ExcludeCharacters: DIGITS, RequireEachIncludedType: false }, 1000);
    assert.equal(sorted(seen), sorted([...ALL].filter((c) => !DIGITS.includes(c))));
  });

  it('a type emptied by ExcludeCharacters is fine when its Exclude* flag is also set', () => {
    const pw = generatePassword({ ExcludeNumbers: true, ExcludeCharacters: DIGITS, PasswordLength: 3 });
    assert.equal(pw.length, 3);
  });
});

describe('generatePassword: IncludeSpace', () => {
  it('admits the space when set', () => {
    assert.equal(sorted(observed({ IncludeSpace: true }, 2000)), sorted(ALL + ' '));
  });

  it('never produces a space when unset or false', () => {
    assert.ok(!observed({ IncludeSpace: false }, 500).has(' '));
    assert.ok(!observed({}, 500).has(' '));
  });

  it('ExcludeCharacters can take the space back', () => {
    assert.ok(!observed({ IncludeSpace: true, ExcludeCharacters: ' ' }, 500).has(' '));
  });

  it('the space is admitted but never required: length 4 with the four types and a space is allowed', () => {
    for (let i = 0; i < 200; i++) {
      const pw = generatePassword({ IncludeSpace: true, PasswordLength: 4 });
      assert.ok(hasAny(pw, LOWER) && hasAny(pw, UPPER) && hasAny(pw, DIGITS) && hasAny(pw, PUNCT), pw);
      assert.ok(!pw.includes(' '));
    }
  });

  it('a space-only alphabet works', () => {
    const pw = generatePassword({
      IncludeSpace: true,
      ExcludeLowercase: true,
      ExcludeUppercase: true,
      ExcludeNumbers: true,
      ExcludePunctuation: true,
      PasswordLength: 5,
    });
    assert.equal(pw, '     ');
  });
});

describe('generatePassword: RequireEachIncludedType', () => {
  it('true: each of 2,000 passwords of length 4 holds all four types', () => {
    for (let i = 0; i < 2000; i++) {
      const pw = generatePassword({ PasswordLength: 4, RequireEachIncludedType: true });
      assert.equal(pw.length, 4);
      assert.ok(hasAny(pw, LOWER) && hasAny(pw, UPPER) && hasAny(pw, DIGITS) && hasAny(pw, PUNCT), pw);
    }
  });

  it('true: holds with types cut down to a single character each', () => {
    const opts = { PasswordLength: 4, ExcludeCharacters: LOWER.slice(1) + UPPER.slice(1) + DIGITS.slice(1) };
    for (let i = 0; i < 300; i++) {
      const pw = generatePassword(opts);
      assert.ok(pw.includes('a') && pw.includes('A') && pw.includes('0') && hasAny(pw, PUNCT), pw);
    }
  });

  it('true: only the types left on are required', () => {
    for (let i = 0; i < 500; i++) {
      const pw = generatePassword({ PasswordLength: 2, ExcludeUppercase: true, ExcludePunctuation: true });
      assert.ok(hasAny(pw, LOWER) && hasAny(pw, DIGITS), pw);
    }
  });

  it('true: required characters are not tied to positions (each position takes every type)', () => {
    const typesAt: Array<Set<string>> = [new Set(), new Set(), new Set(), new Set()];
    const typeOf = (c: string): string =>
      LOWER.includes(c) ? 'l' : UPPER.includes(c) ? 'u' : DIGITS.includes(c) ? 'd' : 'p';
    for (let i = 0; i < 500; i++) {
      const pw = generatePassword({ PasswordLength: 4 });
      for (let p = 0; p < 4; p++) typesAt[p]!.add(typeOf(pw[p]!));
    }
    for (const s of typesAt) assert.equal(s.size, 4);
  });

  it('true: a password missing a type is redrawn whole (scripted bytes)', () => {
    // Alphabet "a0": lowercase cut to "a", digits cut to "0", the rest switched off.
    const opts: PasswordOptions = {
      PasswordLength: 2,
      ExcludeUppercase: true,
      ExcludePunctuation: true,
      ExcludeCharacters: LOWER.slice(1) + DIGITS.slice(1),
    };
    // "aa" (no digit) and "00" (no letter) are rejected; "0a" is the first acceptable draw.
    assert.equal(generatePassword(opts, scripted([0, 0, 1, 1, 1, 0])), '0a');
  });

  it('false: passwords may lack a type, and length 1 is allowed', () => {
    let lacking = 0;
    for (let i = 0; i < 2000; i++) {
      const pw = generatePassword({ PasswordLength: 4, RequireEachIncludedType: false });
      assert.equal(pw.length, 4);
      if (!(hasAny(pw, LOWER) && hasAny(pw, UPPER) && hasAny(pw, DIGITS) && hasAny(pw, PUNCT))) lacking++;
    }
    // Only ~6.6% of unconstrained 4-character passwords hold all four types.
    assert.ok(lacking > 1500, `only ${lacking} of 2000 lacked a type`);
  });

  it('false: length 1 draws from the whole alphabet', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const pw = generatePassword({ PasswordLength: 1, RequireEachIncludedType: false });
      assert.equal(pw.length, 1);
      seen.add(pw);
    }
    assert.equal(sorted(seen), sorted(ALL));
  });

  it('length 1 with a single type switched on is fine even when required', () => {
    const pw = generatePassword({
      PasswordLength: 1,
      ExcludeLowercase: true,
      ExcludeUppercase: true,
      ExcludePunctuation: true,
    });
    assert.match(pw, /^[0-9]$/);
  });
});

describe('generatePassword: errors', () => {
  const all4 = { ExcludeLowercase: true, ExcludeUppercase: true, ExcludeNumbers: true, ExcludePunctuation: true };

  it('every type switched off', () => {
    expectError(all4, 'InvalidParameterException', 'All characters have been excluded from selection.');
    expectError({ ...all4, RequireEachIncludedType: false }, 'InvalidParameterException', PasswordMessages.allExcluded);
  });

  it('every character excluded by ExcludeCharacters', () => {
    expectError({ ExcludeCharacters: ALL, RequireEachIncludedType: false }, 'InvalidParameterException', PasswordMessages.allExcluded);
    expectError(
      { ...all4, IncludeSpace: true, ExcludeCharacters: ' ' },
      'InvalidParameterException',
      PasswordMessages.allExcluded,
    );
  });

  it('a required type emptied by ExcludeCharacters', () => {
    expectError({ ExcludeCharacters: DIGITS }, 'InvalidParameterException', 'All characters of the desired type have been excluded.');
    expectError({ ExcludeCharacters: PUNCT, RequireEachIncludedType: true }, 'InvalidParameterException', PasswordMessages.typeExcluded);
    expectError({ ExcludeCharacters: ALL }, 'InvalidParameterException', PasswordMessages.typeExcluded);
  });

  it('PasswordLength below the number of required types', () => {
    const msg = 'Password length is too short based on the required types.';
    expectError({ PasswordLength: 3 }, 'InvalidParameterException', msg);
    expectError({ PasswordLength: 1 }, 'InvalidParameterException', msg);
    expectError({ PasswordLength: 2, ExcludePunctuation: true }, 'InvalidParameterException', msg);
    expectError({ PasswordLength: 3, IncludeSpace: true }, 'InvalidParameterException', msg);
    assert.equal(generatePassword({ PasswordLength: 3, RequireEachIncludedType: false }).length, 3);
    assert.equal(generatePassword({ PasswordLength: 3, ExcludePunctuation: true }).length, 3);
  });

  it('PasswordLength outside 1..4096 or not a whole number (guard behind the model layer)', () => {
    expectError({ PasswordLength: 0 }, 'ValidationException', /greater than or equal to 1/);
    expectError({ PasswordLength: -5 }, 'ValidationException', /greater than or equal to 1/);
    expectError({ PasswordLength: 4097 }, 'ValidationException', /less than or equal to 4096/);
    expectError({ PasswordLength: 2.5 }, 'ValidationException', /passwordLength/);
    expectError({ PasswordLength: Number.NaN }, 'ValidationException', /passwordLength/);
  });

  it('a broken random source fails instead of hanging', () => {
    const stuck = (n: number): Buffer => Buffer.alloc(n, 255);
    assert.throws(
      () => generatePassword({ PasswordLength: 3, ExcludeCharacters: LOWER.slice(3), ...upperDigitsPunctOff }, stuck),
      (e: unknown) => e instanceof ServiceError && e.code === 'InternalServiceError',
    );
    assert.throws(
      () => generatePassword({}, () => Buffer.alloc(0)),
      (e: unknown) => e instanceof ServiceError && e.code === 'InternalServiceError',
    );
  });
});

describe('generatePassword: uniformity (rejection sampling, no modulo bias)', () => {
  it('out-of-range bytes are skipped, not folded: alphabet of 3 (bytes >= 255 rejected)', () => {
    // 255 % 3 === 0 would add an extra "a" under plain modulo; it must be skipped instead.
    assert.equal(generatePassword({ ...ABC, PasswordLength: 3 }, scripted([255, 0, 255, 1, 254])), 'abc');
    assert.equal(generatePassword({ ...ABC, PasswordLength: 1 }, scripted([255, 255, 255, 7])), 'b');
  });

  it('out-of-range bytes are skipped: default alphabet of 94 (bytes >= 188 rejected)', () => {
    // 256 = 2 * 94 + 68, so under modulo the first 68 characters would come up 3/256 vs 2/256.
    const pw = generatePassword(
      { PasswordLength: 2, RequireEachIncludedType: false },
      scripted([188, 255, 200, 0, 187]),
    );
    assert.equal(pw, 'a~'); // 0 -> first character, 187 % 94 = 93 -> last character
  });

  it('chi-square over an alphabet of 3 with a seeded source: frequencies within tight bounds', () => {
    const random = seededRandom('lockstep-password-abc');
    const counts = [0, 0, 0];
    const draws = 750;
    const length = 4096;
    for (let i = 0; i < draws; i++) {
      const pw = generatePassword({ ...ABC, PasswordLength: length }, random);
      for (let j = 0; j < pw.length; j++) counts[pw.charCodeAt(j) - 97]!++;
    }
    const total = draws * length; // ~3.07 million characters
    // Under `byte % 3`, "a" would have probability 86/256 = 1/3 + 1/768 (a shift of ~4.8 sigma here)
    // and the chi-square statistic would be ~ 80; uniform draws give ~2 (df = 2, p = 0.001 at 13.82).
    const stat = chiSquare(counts);
    assert.ok(stat < 13.82, `chi-square ${stat.toFixed(2)} for counts ${counts.join(',')}`);
    for (const c of counts) assert.ok(Math.abs(c / total - 1 / 3) < 0.001, `frequency ${c / total}`);
  });

  it('chi-square over the default 94-character alphabet with a seeded source', () => {
    const random = seededRandom('lockstep-password-94');
    const index = new Map([...ALL].map((c, i) => [c, i] as const));
    const counts = new Array<number>(ALL.length).fill(0);
    for (let i = 0; i < 100; i++) {
      const pw = generatePassword({ PasswordLength: 4096, RequireEachIncludedType: false }, random);
      for (const c of pw) counts[index.get(c)!]!++;
    }
    // df = 93; the p = 0.001 critical value is ~ 136.6. Modulo bias would give a statistic in the tens of thousands.
    const stat = chiSquare(counts);
    assert.ok(stat < 136.6, `chi-square ${stat.toFixed(2)}`);
  });

  it('RequireEachIncludedType does not skew positions: each position is uniform over the alphabet', () => {
    // Alphabet "a0" (two types of one character each), length 3: the six acceptable passwords
    // (all but "aaa" and "000") must be equally likely.
    const random = seededRandom('lockstep-password-positions');
    const opts: PasswordOptions = {
      PasswordLength: 3,
      ExcludeUppercase: true,
      ExcludePunctuation: true,
      ExcludeCharacters: LOWER.slice(1) + DIGITS.slice(1),
    };
    const counts = new Map<string, number>();
    for (let i = 0; i < 60000; i++) {
      const pw = generatePassword(opts, random);
      counts.set(pw, (counts.get(pw) ?? 0) + 1);
    }
    assert.deepEqual(sorted(counts.keys()), sorted(['aa0', 'a0a', '0aa', '00a', '0a0', 'a00']));
    const stat = chiSquare([...counts.values()]);
    assert.ok(stat < 20.52, `chi-square ${stat.toFixed(2)} (df = 5, p = 0.001 at 20.52)`);
  });

  it('RequireEachIncludedType gives every acceptable password the same chance (not weighted by type counts)', () => {
    // Alphabet "a0", length 4, both required: 14 acceptable passwords. Filling and then planting one
    // character per type at random positions weights a password by the product of its per-type
    // counts, so "aa00" (2 * 2) would come up 4/3 as often as "a000" (1 * 3): chi-square ~ 1,400.
    const random = seededRandom('lockstep-password-weights');
    const opts: PasswordOptions = {
      PasswordLength: 4,
      ExcludeUppercase: true,
      ExcludePunctuation: true,
      ExcludeCharacters: LOWER.slice(1) + DIGITS.slice(1),
    };
    const counts = new Map<string, number>();
    for (let i = 0; i < 70000; i++) {
      const pw = generatePassword(opts, random);
      counts.set(pw, (counts.get(pw) ?? 0) + 1);
    }
    assert.equal(counts.size, 14);
    const stat = chiSquare([...counts.values()]);
    assert.ok(stat < 34.53, `chi-square ${stat.toFixed(2)} (df = 13, p = 0.001 at 34.53)`);
  });
});
