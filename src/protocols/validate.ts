// Model-driven validation of awsJson1.1 request bodies: one walk per request checks types
// (SerializationException) and constraints (one ValidationException listing every violation, in
// AWS's wording) and returns a fresh copy holding only the members the model knows.
// Everything derived from the model (regexes, enum sets, constraint texts) is compiled once at load.

import { Errors, ServiceError } from '../errors.js';
import { operations, shapes, type ShapeDef } from './generated/secretsmanager-model.js';

interface MemberNode {
  readonly name: string;
  /** Path segment AWS prints: the member name with its first letter lower-cased. */
  readonly segment: string;
  readonly required: boolean;
  readonly node: Node;
}

interface Node {
  readonly name: string;
  readonly type: ShapeDef['type'];
  readonly scalar: boolean;
  readonly sensitive: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: string;
  readonly regex?: RegExp;
  readonly enumSet?: ReadonlySet<string>;
  /** Every constraint of the shape as AWS lists them inside "[...]" (max, min, pattern, enum). */
  readonly constraints: readonly string[];
  members: readonly MemberNode[];
  member?: Node;
  key?: Node;
  value?: Node;
}

type Validator = (shapeName: string, input: unknown) => Record<string, unknown>;

const ECHO_LIMIT = 256;
const MAX_LISTED_ERRORS = 100;
const MAX_PATTERN_INPUT = 65536;

// Per-call scratch state. Validation is synchronous, so one module-level copy is safe; the path
// is a stack of segments joined only when an error is reported.
const pathStack: (string | number)[] = [];
let errors: string[] | null = null;

/** Converts a Java regex (as found in AWS models) to an equivalent JS RegExp anchored for a full match. */
export function javaPatternToRegExp(pattern: string): RegExp {
  const posix: Record<string, string> = {
    Lower: 'a-z', Upper: 'A-Z', ASCII: '\\x00-\\x7F', Alpha: 'a-zA-Z', Digit: '0-9', Alnum: 'a-zA-Z0-9',
    Punct: '!-\\/:-@\\[-`{-~', Graph: '!-~', Print: ' -~', Blank: ' \\t', Cntrl: '\\x00-\\x1F\\x7F',
    XDigit: '0-9a-fA-F', Space: ' \\t\\n\\x0B\\f\\r',
  };
  const syntax = '^$\\.*+?()[]{}|/';
  let out = '';
  let inClass = false;
  let prevQuantifier = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    let quantifier = false;
    if (c === '\\') {
      const n = pattern[++i];
      if (n === undefined) throw new Error(`pattern ends with a backslash: ${pattern}`);
      if (n === 'Q') {
        const end = pattern.indexOf('\\E', i + 1);
        const lit = pattern.slice(i + 1, end < 0 ? pattern.length : end);
        out += lit.replace(inClass ? /[\^$\\.*+?()[\]{}|/-]/g : /[\^$\\.*+?()[\]{}|/]/g, '\\$&');
        i = end < 0 ? pattern.length : end + 1;
      } else if ((n === 'p' || n === 'P') && pattern[i + 1] === '{') {
        const close = pattern.indexOf('}', i);
        const name = pattern.slice(i + 2, close).replace(/^Is/, '');
        i = close;
        const range = posix[name];
        if (range === undefined) out += `\\${n}{${name}}`;
        else if (n === 'p') out += inClass ? range : `[${range}]`;
        else if (!inClass) out += `[^${range}]`;
        else throw new Error(`unsupported negated POSIX class inside a class in ${pattern}`);
      } else if (n === 'A' && !inClass) out += '^';
      else if ((n === 'z' || n === 'Z') && !inClass) out += '$';
      else if (/[A-Za-z0-9]/.test(n)) out += `\\${n}`;
      else if (syntax.includes(n) || (n === '-' && inClass)) out += `\\${n}`;
      else out += n; // Java allows escaping any punctuation; JS (u-mode) does not.
    } else if (inClass) {
      if (c === '[' || (c === '&' && pattern[i + 1] === '&')) throw new Error(`unsupported Java class syntax in ${pattern}`);
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
      if (pattern[i + 1] === '^') out += pattern[++i];
      if (pattern[i + 1] === ']') out += '\\' + pattern[++i];
    } else if (c === '+' && prevQuantifier) {
      // possessive quantifier: same matches for a full-match test
    } else {
      if (c === '(' && pattern.startsWith('?>', i + 1)) {
        out += '(?:';
        i += 2;
        continue;
      }
      quantifier = c === '*' || c === '+' || c === '?' || c === '}';
      out += c;
    }
    prevQuantifier = quantifier;
  }
  return new RegExp(`^(?:${out})$`, 'u');
}

/** Lower-cases the first letter, as AWS does for member paths ('SecretId' → 'secretId'). */
function segmentOf(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** Compiles every shape reachable from `root` (memoised by name, so recursive shapes are fine). */
function compile(table: Readonly<Record<string, ShapeDef>>, root: string, memo: Map<string, Node>): Node {
  const known = memo.get(root);
  if (known) return known;
  const def = table[root];
  if (!def) throw new Error(`unknown shape ${root}`);
  const numeric = def.type === 'integer' || def.type === 'long' || def.type === 'float' || def.type === 'double';
  const unit = numeric ? 'value' : 'length';
  const constraints: string[] = [];
  if (def.max !== undefined) constraints.push(`Member must have ${unit} less than or equal to ${def.max}`);
  if (def.min !== undefined) constraints.push(`Member must have ${unit} greater than or equal to ${def.min}`);
  if (def.pattern !== undefined) constraints.push(`Member must satisfy regular expression pattern: ${def.pattern}`);
  if (def.enum !== undefined) constraints.push(`Member must satisfy enum value set: [${def.enum.join(', ')}]`);
  const node: Node = {
    name: root,
    type: def.type,
    scalar: def.type !== 'structure' && def.type !== 'list' && def.type !== 'map',
    sensitive: def.sensitive === true,
    min: def.min,
    max: def.max,
    pattern: def.pattern,
    regex: def.pattern === undefined ? undefined : javaPatternToRegExp(def.pattern),
    enumSet: def.enum === undefined ? undefined : new Set(def.enum),
    constraints,
    members: [],
  };
  memo.set(root, node);
  if (def.type === 'structure') {
    node.members = Object.entries(def.members ?? {}).map(([name, m]) => ({
      name,
      segment: segmentOf(name),
      required: m.required === true,
      node: compile(table, m.target, memo),
    }));
  } else if (def.type === 'list') {
    node.member = compile(table, def.member as string, memo);
  } else if (def.type === 'map') {
    node.key = compile(table, def.key as string, memo);
    node.value = compile(table, def.value as string, memo);
  }
  return node;
}

function serialization(message: string): ServiceError {
  return Errors.serialization(message);
}

/** Coral's wording for a JSON value of the wrong type where `target` ("a String", "an Integer") was expected. */
function mismatch(v: unknown, target: string): ServiceError {
  if (Array.isArray(v)) return serialization('Start of list found where not expected');
  if (typeof v === 'object' && v !== null) return serialization('Start of structure or map found where not expected.');
  const token = typeof v === 'string' ? 'STRING_VALUE' : typeof v === 'number' ? 'NUMBER_VALUE' : v ? 'TRUE_VALUE' : 'FALSE_VALUE';
  // Recorded AWS texts: "STRING_VALUE can not be converted to an Boolean" but "NUMBER_VALUE ... to a Boolean".
  if (target === 'a Boolean' && token === 'STRING_VALUE') target = 'an Boolean';
  return serialization(`${token} can not be converted to ${target}`);
}

function currentPath(): string {
  return pathStack.join('.');
}

/** Records one violation: "Value 'x' at 'path' failed to satisfy constraint: ...". */
function report(echo: string | null, constraint: string): void {
  const value = echo === null ? 'Value' : `Value '${echo.length > ECHO_LIMIT ? `${echo.slice(0, ECHO_LIMIT)}...` : echo}'`;
  (errors ??= []).push(`${value} at '${currentPath()}' failed to satisfy constraint: ${constraint}`);
}

function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function base64Value(c: number): number {
  if (c >= 65 && c <= 90) return c - 65;
  if (c >= 97 && c <= 122) return c - 71;
  if (c >= 48 && c <= 57) return c + 4;
  return c === 43 ? 62 : 63;
}

/** Strict standard base64 (RFC 4648 §4, padded); never echoes the value, which may be a secret. */
function decodeBase64(s: string): Buffer {
  const fail = (reason: string) => serialization(`Value at '${currentPath()}' can not be converted to a Blob: ${reason}`);
  if (s.length % 4 !== 0) throw fail(`Base64 encoded length is expected a multiple of 4 bytes but found: ${s.length}`);
  if (!BASE64.test(s)) throw fail('Invalid Base64 character');
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  if (pad > 0) {
    const last = base64Value(s.charCodeAt(s.length - pad - 1));
    if ((last & (pad === 2 ? 0x0f : 0x03)) !== 0) throw fail('Invalid last non-pad Base64 character detected');
  }
  return Buffer.from(s, 'base64');
}

/** Type-checks a scalar and converts it to its clean form (Buffer for blobs, Date for timestamps). */
function coerceScalar(node: Node, v: unknown): unknown {
  switch (node.type) {
    case 'string':
      if (typeof v !== 'string') throw mismatch(v, 'a String');
      return v;
    case 'integer':
    case 'long': {
      const target = node.type === 'integer' ? 'an Integer' : 'a Long';
      if (typeof v !== 'number' || !Number.isFinite(v)) throw mismatch(v, target);
      return Math.trunc(v) + 0; // AWS truncates fractions; "+ 0" turns -0 into 0
    }
    case 'float':
    case 'double':
      if (typeof v !== 'number') throw mismatch(v, node.type === 'float' ? 'a Float' : 'a Double');
      return v;
    case 'boolean':
      if (typeof v !== 'boolean') throw mismatch(v, 'a Boolean');
      return v;
    case 'blob':
      if (typeof v !== 'string') throw mismatch(v, 'a Blob');
      return decodeBase64(v);
    case 'timestamp':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw mismatch(v, 'a Timestamp');
      return new Date(v * 1000);
    default:
      throw new Error(`not a scalar shape: ${node.name}`);
  }
}

/** Text AWS echoes for a value, or null when it must not be shown (sensitive, binary, structured). */
function echoOf(node: Node, v: unknown, sensitive: boolean): string | null {
  if (sensitive || node.sensitive) return null;
  if (node.type === 'string' || node.type === 'integer' || node.type === 'long' || node.type === 'float' || node.type === 'double') {
    return String(v);
  }
  if (node.type === 'list' && node.member && node.member.scalar && node.member.type !== 'blob') {
    return echoOf(node.member, '', false) === null ? null : `[${(v as unknown[]).join(', ')}]`;
  }
  return null;
}

/** Checks a clean scalar against its shape; reports each violation when `individually`, else only says whether all hold. */
function checkScalar(node: Node, v: unknown, sensitive: boolean, individually: boolean): boolean {
  let ok = true;
  const fail = (constraint: string) => {
    ok = false;
    if (individually) report(echoOf(node, v, sensitive), constraint);
  };
  if (node.type === 'string') {
    const s = v as string;
    if (node.min !== undefined || node.max !== undefined) {
      const needCount = (node.max !== undefined && s.length > node.max) || (node.min !== undefined && s.length < node.min * 2);
      const len = needCount ? codePointLength(s) : s.length;
      if (node.max !== undefined && len > node.max) fail(`Member must have length less than or equal to ${node.max}`);
      if (node.min !== undefined && len < node.min) fail(`Member must have length greater than or equal to ${node.min}`);
    }
    if (node.regex && s.length <= MAX_PATTERN_INPUT && !node.regex.test(s)) fail(`Member must satisfy regular expression pattern: ${node.pattern}`);
    if (node.enumSet && !node.enumSet.has(s)) fail(node.constraints[node.constraints.length - 1]);
  } else if (node.type === 'blob') {
    const len = (v as Buffer).length;
    if (node.max !== undefined && len > node.max) fail(`Member must have length less than or equal to ${node.max}`);
    if (node.min !== undefined && len < node.min) fail(`Member must have length greater than or equal to ${node.min}`);
  } else if (typeof v === 'number') {
    if (node.max !== undefined && v > node.max) fail(`Member must have value less than or equal to ${node.max}`);
    if (node.min !== undefined && v < node.min) fail(`Member must have value greater than or equal to ${node.min}`);
  }
  return ok;
}

/** Reports a list's or map's size violations. */
function checkSize(node: Node, size: number, echo: string | null): void {
  if (node.max !== undefined && size > node.max) report(echo, `Member must have length less than or equal to ${node.max}`);
  if (node.min !== undefined && size < node.min) report(echo, `Member must have length greater than or equal to ${node.min}`);
}

function walk(node: Node, v: unknown, sensitive: boolean): unknown {
  if (node.type === 'structure') return walkStructure(node, v, sensitive || node.sensitive);
  if (node.type === 'list') return walkList(node, v, sensitive || node.sensitive);
  if (node.type === 'map') return walkMap(node, v, sensitive || node.sensitive);
  const clean = coerceScalar(node, v);
  checkScalar(node, clean, sensitive, true);
  return clean;
}

function walkStructure(node: Node, v: unknown, sensitive: boolean): Record<string, unknown> {
  if (typeof v !== 'object' || v === null) throw serialization('Expected null');
  if (Array.isArray(v)) throw serialization('Start of list found where not expected');
  const src = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const m of node.members) {
    const raw = Object.hasOwn(src, m.name) ? src[m.name] : undefined;
    pathStack.push(m.segment);
    if (raw === undefined || raw === null) {
      if (m.required) (errors ??= []).push(`Value null at '${currentPath()}' failed to satisfy constraint: Member must not be null`);
    } else {
      out[m.name] = walk(m.node, raw, sensitive);
    }
    pathStack.pop();
  }
  return out;
}

function walkList(node: Node, v: unknown, sensitive: boolean): unknown[] {
  if (!Array.isArray(v)) {
    if (typeof v === 'object' && v !== null) throw serialization('Start of structure or map found where not expected.');
    throw serialization('Expected list or null');
  }
  const member = node.member as Node;
  const mark = errors === null ? 0 : errors.length;
  const out: unknown[] = [];
  let membersOk = true;
  for (let i = 0; i < v.length; i++) {
    const item: unknown = v[i];
    if (item === null || item === undefined) continue; // AWS skips null list elements
    if (member.scalar) {
      const clean = coerceScalar(member, item);
      if (!checkScalar(member, clean, sensitive, false)) membersOk = false;
      out.push(clean);
    } else {
      pathStack.push(i + 1, 'member');
      out.push(walk(member, item, sensitive));
      pathStack.length -= 2;
    }
  }
  const sizeBad = (node.max !== undefined && v.length > node.max) || (node.min !== undefined && v.length < node.min);
  if (sizeBad || !membersOk) {
    // List-level violations come first, then the one compound error for scalar members.
    const nested = errors === null ? [] : errors.splice(mark);
    const echo = echoOf(node, out, sensitive);
    checkSize(node, v.length, echo);
    if (!membersOk) report(echo, `Member must satisfy constraint: [${member.constraints.join(', ')}]`);
    if (nested.length) (errors ??= []).push(...nested);
  }
  return out;
}

function walkMap(node: Node, v: unknown, sensitive: boolean): Record<string, unknown> {
  if (typeof v !== 'object' || v === null) throw serialization('Expected map or null');
  if (Array.isArray(v)) throw serialization('Start of list found where not expected');
  const keyNode = node.key as Node;
  const valueNode = node.value as Node;
  const entries: [string, unknown][] = [];
  let keysOk = true;
  let valuesOk = true;
  for (const k of Object.keys(v)) {
    const item: unknown = (v as Record<string, unknown>)[k];
    if (item === null || item === undefined) continue;
    if (!checkScalar(keyNode, k, sensitive, false)) keysOk = false;
    if (valueNode.scalar) {
      const clean = coerceScalar(valueNode, item);
      if (!checkScalar(valueNode, clean, sensitive, false)) valuesOk = false;
      entries.push([k, clean]);
    } else {
      pathStack.push(k);
      entries.push([k, walk(valueNode, item, sensitive)]);
      pathStack.pop();
    }
  }
  const n = entries.length;
  const sizeBad = (node.max !== undefined && n > node.max) || (node.min !== undefined && n < node.min);
  if (sizeBad || !keysOk || !valuesOk) {
    const scalarValues = valueNode.scalar && !sensitive && !valueNode.sensitive && valueNode.type !== 'blob';
    const echo = scalarValues && !keyNode.sensitive ? `{${entries.map(([k, x]) => `${k}=${String(x)}`).join(', ')}}` : null;
    checkSize(node, n, echo);
    if (!keysOk) report(echo, `Map keys must satisfy constraint: [${keyNode.constraints.join(', ')}]`);
    if (!valuesOk) report(echo, `Map value must satisfy constraint: [${valueNode.constraints.join(', ')}]`);
  }
  // Object.fromEntries defines own data properties: "__proto__" stays a plain key and pollutes nothing.
  return Object.fromEntries(entries);
}

/** Builds a validator over a shape table (the generated model, or a test model). */
export function createValidator(table: Readonly<Record<string, ShapeDef>>, roots: readonly string[] = []): Validator {
  const memo = new Map<string, Node>();
  for (const r of roots) compile(table, r, memo);
  return (shapeName, input) => {
    const root = compile(table, shapeName, memo);
    if (input === null || input === undefined) input = {};
    try {
      const clean = walkStructure(root, input, root.sensitive);
      if (errors !== null) {
        const all: string[] = errors;
        const n = all.length;
        const listed = n > MAX_LISTED_ERRORS ? [...all.slice(0, MAX_LISTED_ERRORS), `(${n - MAX_LISTED_ERRORS} more)`] : all;
        throw Errors.validation(`${n} validation error${n === 1 ? '' : 's'} detected: ${listed.join('; ')}`);
      }
      return clean;
    } finally {
      pathStack.length = 0;
      errors = null;
    }
  };
}

const inputShapes = Object.values(operations).flatMap((op) => (op.input ? [op.input] : []));
const validateShape = createValidator(shapes, inputShapes);
const names = Object.keys(operations).sort();

/** Validates a parsed awsJson body against the operation's input shape and returns a clean copy of it. */
export function validateInput(operation: string, input: unknown): Record<string, unknown> {
  if (!isKnownOperation(operation)) throw Errors.unknownOperation();
  const shape = operations[operation].input;
  return shape === undefined ? {} : validateShape(shape, input);
}

/** Names of every operation in the model, sorted. */
export function operationNames(): string[] {
  return names.slice();
}

/** True when the model defines an operation with this exact name. */
export function isKnownOperation(name: string): boolean {
  return Object.hasOwn(operations, name);
}
