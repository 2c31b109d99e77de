import { isIPv4 } from 'node:net';

/*
 * The AWS Secrets Manager Agent's configuration file (TOML), read so that a file written for AWS's
 * agent works unchanged. Only the subset such a file uses is parsed: `key = value` pairs at the top
 * level, values being strings ("basic" with escapes, or 'literal'), integers, booleans and arrays of
 * these (arrays may span lines), with # comments. Tables, dates, floats and inline tables are
 * refused with a clear error. Validation follows AWS's: the same keys (an unknown one is an error),
 * the same ranges and the same messages; numbers may be written as integers or strings, as AWS
 * accepts both.
 */

/** A parsed TOML value of the supported subset. */
export type TomlValue = string | number | boolean | TomlValue[];

/** An error in the file's syntax or values; the message says what and where. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the supported TOML subset into a flat object. */
export function parseToml(text: string): Record<string, TomlValue> {
  const out: Record<string, TomlValue> = Object.create(null);
  let i = 0;
  let line = 1;
  const fail = (msg: string): never => {
    throw new ConfigError(`TOML parse error at line ${line}: ${msg}`);
  };
  const peek = () => text[i];
  // Skips spaces and tabs; with `newlines`, also line breaks and comments (inside arrays).
  const skip = (newlines: boolean) => {
    while (i < text.length) {
      const c = text[i];
      if (c === ' ' || c === '\t') i++;
      else if (c === '#' && newlines) {
        while (i < text.length && text[i] !== '\n') i++;
      } else if ((c === '\n' || c === '\r') && newlines) {
        if (c === '\n') line++;
        i++;
      } else break;
    }
  };
  const endOfLine = () => {
    skip(false);
    if (peek() === '#') while (i < text.length && text[i] !== '\n') i++;
    if (peek() === '\r') i++;
    if (i < text.length && peek() !== '\n') fail(`unexpected '${peek()}' after the value`);
  };

  const basicString = (): string => {
    i++; // opening "
    let s = '';
    for (;;) {
      if (i >= text.length || text[i] === '\n') fail('unterminated string');
      const c = text[i++];
      if (c === '"') return s;
      if (c !== '\\') {
        s += c;
        continue;
      }
      const e = text[i++];
      const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };
      if (e in simple) s += simple[e];
      else if (e === 'u' || e === 'U') {
        const len = e === 'u' ? 4 : 8;
        const hex = text.slice(i, i + len);
        if (!new RegExp(`^[0-9A-Fa-f]{${len}}$`).test(hex)) fail(`invalid \\${e} escape`);
        const cp = parseInt(hex, 16);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) fail(`invalid \\${e} escape`);
        s += String.fromCodePoint(cp);
        i += len;
      } else fail(`invalid escape \\${e ?? ''}`);
    }
  };
  const literalString = (): string => {
    const end = text.indexOf("'", i + 1);
    const nl = text.indexOf('\n', i + 1);
    if (end < 0 || (nl >= 0 && nl < end)) fail('unterminated string');
    const s = text.slice(i + 1, end);
    i = end + 1;
    return s;
  };

  const value = (): TomlValue => {
    const c = peek();
    if (c === '"') {
      if (text.startsWith('"""', i)) fail('multi-line strings are not supported');
      return basicString();
    }
    if (c === "'") {
      if (text.startsWith("'''", i)) fail('multi-line strings are not supported');
      return literalString();
    }
    if (c === '[') {
      i++;
      const arr: TomlValue[] = [];
      for (;;) {
        skip(true);
        if (peek() === ']') {
          i++;
          return arr;
        }
        if (i >= text.length) fail('unterminated array');
        arr.push(value());
        skip(true);
        if (peek() === ',') i++;
        else if (peek() !== ']') fail(`expected ',' or ']' in an array, found '${peek() ?? 'end of file'}'`);
      }
    }
    if (c === '{') fail('inline tables are not supported');
    const m = /^[^\s,\]#]+/.exec(text.slice(i));
    if (!m) fail('a value is missing');
    const raw = m![0];
    i += raw.length;
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    if (/^[+-]?(0|[1-9](_?\d)*)$/.test(raw)) {
      const n = Number(raw.replace(/_/g, ''));
      if (!Number.isSafeInteger(n)) fail(`integer ${raw} is out of range`);
      return n;
    }
    if (/^[+-]?0[xob]/.test(raw)) return fail(`non-decimal integers are not supported: ${raw}`);
    return fail(`unsupported value ${raw} (strings, integers, booleans and arrays are supported)`);
  };

  for (;;) {
    skip(true);
    if (i >= text.length) return out;
    if (peek() === '[') fail('tables are not supported: the agent configuration has top-level keys only');
    let key: string;
    if (peek() === '"') key = basicString();
    else if (peek() === "'") key = literalString();
    else {
      const m = /^[A-Za-z0-9_-]+/.exec(text.slice(i));
      if (!m) fail(`expected a key, found '${peek()}'`);
      key = m![0];
      i += key.length;
    }
    skip(false);
    if (peek() === '.') fail('dotted keys are not supported');
    if (peek() !== '=') fail(`expected '=' after the key ${key}`);
    i++;
    skip(false);
    if (Object.hasOwn(out, key)) fail(`duplicate key ${key}`);
    out[key] = value();
    endOfLine();
  }
}

/** The settings a configuration file may give; a key absent from the file is absent here. */
export interface AgentFileConfig {
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  httpAddress?: string;
  logToFile?: boolean;
  httpPort?: number;
  ttlSeconds?: number;
  cacheSize?: number;
  ssrfHeaders?: string[];
  ssrfEnvVariables?: string[];
  pathPrefix?: string;
  maxConn?: number;
  region?: string;
  ignoreTransientErrors?: boolean;
  validateCredentials?: boolean;
}

/** The keys of AWS's agent configuration, in its order. */
export const CONFIG_KEYS = [
  'log_level', 'http_address', 'log_to_file', 'http_port', 'ttl_seconds', 'cache_size', 'ssrf_headers',
  'ssrf_env_variables', 'path_prefix', 'max_conn', 'region', 'ignore_transient_errors', 'validate_credentials',
] as const;

// AWS's messages, word for word.
export const MESSAGES = {
  logLevel: "The log level specified in the configuration file isn't valid. The log level must be DEBUG, INFO, WARN, ERROR, or NONE.",
  httpAddress: "The HTTP address specified in the configuration file isn't valid. The HTTP address must be a valid IPv4 address.",
  httpPort: "The HTTP port specified in the configuration file isn't valid. The HTTP port must be in the range 1024 to 65535.",
  ttl: "The TTL in seconds specified in the configuration file isn't valid. The TTL in seconds must be in the range 0 to 3600.",
  cacheSize: "The cache size specified in the configuration file isn't valid. The cache size must be in the range 1 to 1000.",
  maxConn: "The maximum number of connections specified in the configuration file isn't valid. The maximum number of connections must be in the range 1 to 1000.",
  emptyHeaders: "The list of SSRF headers in the configuration file can't be empty.",
  emptyEnv: "The list of SSRF environment variables in the configuration file can't be empty.",
  prefix: 'The path prefix specified in the configuration file must begin with /.',
} as const;

/** The ranges of the numeric settings (inclusive), AWS's. Port 0 picks a free port; 1-1023 are refused. */
export const RANGES = {
  ttlSeconds: [0, 3600],
  cacheSize: [1, 1000],
  maxConn: [1, 1000],
} as const;

/** True for a port AWS accepts: 0 (any free port) or 1024-65535. */
export function validPort(n: number): boolean {
  return Number.isInteger(n) && (n === 0 || (n >= 1024 && n <= 65535));
}

function num(v: TomlValue, msg: string, ok: (n: number) => boolean): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\+?\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || !ok(n)) throw new ConfigError(msg);
  return n;
}

function bool(key: string, v: TomlValue): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw new ConfigError(`${key} must be true or false`);
}

function str(key: string, v: TomlValue): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new ConfigError(`${key} must be a string`);
}

function strList(key: string, v: TomlValue): string[] {
  // The config library AWS uses reads a bare string as a one-element list too.
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => {
    if (typeof x !== 'string') throw new ConfigError(`${key} must be a list of strings`);
    return x;
  });
}

/** Validates a parsed file with AWS's rules and messages. */
export function agentConfigFromToml(raw: Record<string, TomlValue>): AgentFileConfig {
  const c: AgentFileConfig = {};
  for (const key of Object.keys(raw)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      throw new ConfigError(`unknown field \`${key}\`, expected one of ${CONFIG_KEYS.map((k) => `\`${k}\``).join(', ')}`);
    }
  }
  const has = (k: (typeof CONFIG_KEYS)[number]) => Object.hasOwn(raw, k);
  if (has('log_level')) {
    const v = typeof raw.log_level === 'string' ? raw.log_level.toLowerCase() : '';
    const level = ({ debug: 'debug', info: 'info', warn: 'warn', error: 'error', none: 'silent' } as const)[v as 'debug'];
    if (!level) throw new ConfigError(MESSAGES.logLevel);
    c.logLevel = level;
  }
  if (has('http_address')) {
    const v = str('http_address', raw.http_address);
    if (!isIPv4(v)) throw new ConfigError(MESSAGES.httpAddress);
    c.httpAddress = v;
  }
  if (has('log_to_file')) c.logToFile = bool('log_to_file', raw.log_to_file);
  if (has('http_port')) c.httpPort = num(raw.http_port, MESSAGES.httpPort, validPort);
  if (has('ttl_seconds')) c.ttlSeconds = num(raw.ttl_seconds, MESSAGES.ttl, (n) => n >= RANGES.ttlSeconds[0] && n <= RANGES.ttlSeconds[1]);
  if (has('cache_size')) c.cacheSize = num(raw.cache_size, MESSAGES.cacheSize, (n) => n >= RANGES.cacheSize[0] && n <= RANGES.cacheSize[1]);
  if (has('ssrf_headers')) {
    c.ssrfHeaders = strList('ssrf_headers', raw.ssrf_headers);
    if (c.ssrfHeaders.length === 0) throw new ConfigError(MESSAGES.emptyHeaders);
    for (const h of c.ssrfHeaders) if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(h)) throw new ConfigError(`ssrf_headers: '${h}' is not a valid header name`);
  }
  if (has('ssrf_env_variables')) {
    c.ssrfEnvVariables = strList('ssrf_env_variables', raw.ssrf_env_variables);
    if (c.ssrfEnvVariables.length === 0) throw new ConfigError(MESSAGES.emptyEnv);
  }
  if (has('path_prefix')) {
    c.pathPrefix = str('path_prefix', raw.path_prefix);
    if (!c.pathPrefix.startsWith('/')) throw new ConfigError(MESSAGES.prefix);
  }
  if (has('max_conn')) c.maxConn = num(raw.max_conn, MESSAGES.maxConn, (n) => n >= RANGES.maxConn[0] && n <= RANGES.maxConn[1]);
  if (has('region')) c.region = str('region', raw.region);
  if (has('ignore_transient_errors')) c.ignoreTransientErrors = bool('ignore_transient_errors', raw.ignore_transient_errors);
  if (has('validate_credentials')) c.validateCredentials = bool('validate_credentials', raw.validate_credentials);
  return c;
}

/** Parses and validates a configuration file's text. */
export function parseAgentConfig(text: string): AgentFileConfig {
  return agentConfigFromToml(parseToml(text));
}
