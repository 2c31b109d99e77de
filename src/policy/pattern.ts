// Policy string patterns: `*` / `?` wildcards and `${...}` policy variables.
//
// A variable's value is always literal text: a user named `a*b` does not turn into a wildcard.
// `${*}`, `${?}` and `${$}` stand for the literal characters. `${key, 'default'}` falls back to
// the default when the request has no single value for `key`. A variable that can't be resolved
// makes the whole pattern unresolved (null): IAM then treats the comparison as failing.

/** Resolves a policy variable name to its single value; undefined when the request has none. */
export type VariableResolver = (name: string) => string | undefined;

/** A compiled pattern: UTF-16 code units, or STAR / ONE for the wildcards. */
export type Pattern = readonly number[];

/** The `*` wildcard in a compiled pattern. */
export const STAR = -1;
/** The `?` wildcard in a compiled pattern. */
export const ONE = -2;

const SPECIAL = new Map([['*', '*'], ['?', '?'], ['$', '$']]);
const VARIABLE = /^\s*([^\s,']+)\s*(?:,\s*'([^']*)'\s*)?$/;

type Piece = { literal: string } | { raw: string };

/** Splits `raw` into raw text (wildcards live) and resolved variable values (literal); null if unresolved. */
function pieces(raw: string, vars: VariableResolver | undefined): Piece[] | null {
  if (vars === undefined || !raw.includes('${')) return [{ raw }];
  const out: Piece[] = [];
  let i = 0;
  while (i < raw.length) {
    const open = raw.indexOf('${', i);
    const close = open < 0 ? -1 : raw.indexOf('}', open + 2);
    if (open < 0 || close < 0) {
      out.push({ raw: raw.slice(i) });
      break;
    }
    if (open > i) out.push({ raw: raw.slice(i, open) });
    const inner = raw.slice(open + 2, close);
    const special = SPECIAL.get(inner.trim());
    if (special !== undefined) out.push({ literal: special });
    else {
      const m = VARIABLE.exec(inner);
      if (m === null) out.push({ raw: raw.slice(open, close + 1) });
      else {
        const value = vars(m[1]) ?? m[2];
        if (value === undefined) return null;
        out.push({ literal: value });
      }
    }
    i = close + 1;
  }
  return out;
}

/** True when the string holds something that looks like a policy variable. */
export function hasVariable(raw: string): boolean {
  return /\$\{[^}]*\}/.test(raw);
}

/** Expands variables in a literal (wildcard-free) value; null when a variable is unresolved. */
export function expandLiteral(raw: string, vars: VariableResolver | undefined): string | null {
  const ps = pieces(raw, vars);
  if (ps === null) return null;
  return ps.map((p) => ('literal' in p ? p.literal : p.raw)).join('');
}

// Patterns without variables compile the same way every time: keep them (bounded), by case mode.
const exact = new Map<string, Pattern>();
const folded = new Map<string, Pattern>();
const CACHE_LIMIT = 10_000;

/** Compiles a wildcard pattern (with variables); null when a variable is unresolved. */
export function compilePattern(raw: string, vars: VariableResolver | undefined, ignoreCase = false): Pattern | null {
  const cacheable = vars === undefined || !raw.includes('${');
  const cache = ignoreCase ? folded : exact;
  if (cacheable) {
    const hit = cache.get(raw);
    if (hit !== undefined) return hit;
  }
  const compiled = compile(raw, vars, ignoreCase);
  if (cacheable && compiled !== null) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(raw, compiled);
  }
  return compiled;
}

function compile(raw: string, vars: VariableResolver | undefined, ignoreCase: boolean): Pattern | null {
  const ps = pieces(raw, vars);
  if (ps === null) return null;
  const out: number[] = [];
  for (const p of ps) {
    const text = ignoreCase ? ('literal' in p ? p.literal : p.raw).toLowerCase() : 'literal' in p ? p.literal : p.raw;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if ('raw' in p && text[i] === '*') out.push(STAR);
      else if ('raw' in p && text[i] === '?') out.push(ONE);
      else out.push(c);
    }
  }
  return out;
}

/** Matches text against a compiled pattern; `*` matches any run (including empty), `?` one unit. */
export function matchPattern(pattern: Pattern, text: string): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const unit = pattern[p];
    if (p < pattern.length && (unit === ONE || unit === text.charCodeAt(t))) {
      p++;
      t++;
    } else if (p < pattern.length && unit === STAR) {
      starP = p++;
      starT = t;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === STAR) p++;
  return p === pattern.length;
}

/** One-shot wildcard match of `text` against `raw` (variables expanded when `vars` is given). */
export function wildcardMatch(raw: string, text: string, vars?: VariableResolver, ignoreCase = false): boolean {
  const pattern = compilePattern(raw, vars, ignoreCase);
  return pattern !== null && matchPattern(pattern, ignoreCase ? text.toLowerCase() : text);
}

/** Splits at the top-level colons (not inside `${...}`), at most `limit` parts; the last keeps the rest. */
export function splitColons(s: string, limit: number): string[] {
  const parts: string[] = [];
  let start = 0;
  let depth = 0;
  for (let i = 0; i < s.length && parts.length < limit - 1; i++) {
    if (s[i] === '$' && s[i + 1] === '{') depth++;
    else if (s[i] === '}' && depth > 0) depth--;
    else if (s[i] === ':' && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}
