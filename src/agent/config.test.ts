import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONFIG_KEYS, ConfigError, MESSAGES, agentConfigFromToml, parseAgentConfig, parseToml, validPort } from './config.js';

test('parseToml: the subset an agent configuration uses', () => {
  const t = parseToml(`
# a comment
log_level = "DEBUG"           # trailing comment
http_port = "65535"
ttl_seconds = 300
cache_size = '1000'
neg = -5
big = 1_000
yes = true
no = false
ssrf_headers = ["X-Aws-Parameters-Secrets-Token", 'X-Vault-Token']
multi = [
  "a",   # first
  "b",
]
empty = []
nested = [[1, 2], ["x"]]
esc = "tab\\tquote\\"back\\\\slash\\u00e9\\U0001F600"
lit = 'C:\\path\\no\\escapes'
"quoted key" = 1
hash_in_string = "a # not a comment"
`);
  assert.deepEqual({ ...t }, {
    log_level: 'DEBUG', http_port: '65535', ttl_seconds: 300, cache_size: '1000', neg: -5, big: 1000, yes: true, no: false,
    ssrf_headers: ['X-Aws-Parameters-Secrets-Token', 'X-Vault-Token'], multi: ['a', 'b'], empty: [], nested: [[1, 2], ['x']],
    esc: 'tab\tquote"back\\slash\u00e9\u{1F600}', lit: 'C:\\path\\no\\escapes', 'quoted key': 1, hash_in_string: 'a # not a comment',
  });
  assert.deepEqual({ ...parseToml('') }, {});
  assert.deepEqual({ ...parseToml('a = 1\r\nb = "x"\r\n') }, { a: 1, b: 'x' });
});

test('parseToml: what is not supported, or not TOML, is refused with the line', () => {
  const cases: [string, RegExp][] = [
    ['[section]\na = 1', /line 1: tables are not supported/],
    ['a = 1\n[[arr]]', /line 2: tables are not supported/],
    ['a.b = 1', /dotted keys are not supported/],
    ['a = {x = 1}', /inline tables are not supported/],
    ['a = 1.5', /unsupported value 1.5/],
    ['a = 1979-05-27', /unsupported value 1979-05-27/],
    ['a = 0x1F', /non-decimal integers/],
    ['a = """x"""', /multi-line strings/],
    ['a = "unterminated', /unterminated string/],
    ["a = 'unterminated\n'", /unterminated string/],
    ['a = [1, 2', /unterminated array|expected ','/],
    ['a = [1 2]', /expected ',' or ']'/],
    ['a = 1 b = 2', /unexpected 'b' after the value/],
    ['a 1', /expected '=' after the key a/],
    ['a =', /a value is missing/],
    ['a = 1\na = 2', /line 2: duplicate key a/],
    ['a = "bad \\q escape"', /invalid escape \\q/],
    ['a = "\\uD800"', /invalid \\u escape/],
    ['= 1', /expected a key/],
    ['a = 99999999999999999999', /out of range/],
    ['a = yes', /unsupported value yes/],
  ];
  for (const [text, re] of cases) {
    assert.throws(() => parseToml(text), (e: Error) => e instanceof ConfigError && /^TOML parse error at line \d+: /.test(e.message) && re.test(e.message), text);
  }
});

test("AWS's example configuration file is accepted, numbers as integers or strings", () => {
  const c = parseAgentConfig(`
log_level = "DEBUG"
http_address = "0.0.0.0"
http_port = "65535"
ssrf_headers = ["X-Aws-Parameters-Secrets-Token"]
ssrf_env_variables = ["MY_TOKEN"]
path_prefix = "/other"
ttl_seconds = 300
cache_size = '1000'
max_conn = 10
region = "us-west-2"
ignore_transient_errors = false
validate_credentials = false
log_to_file = true
`);
  assert.deepEqual(c, {
    logLevel: 'debug', httpAddress: '0.0.0.0', httpPort: 65535, ssrfHeaders: ['X-Aws-Parameters-Secrets-Token'], ssrfEnvVariables: ['MY_TOKEN'],
    pathPrefix: '/other', ttlSeconds: 300, cacheSize: 1000, maxConn: 10, region: 'us-west-2', ignoreTransientErrors: false,
    validateCredentials: false, logToFile: true,
  });
  assert.deepEqual(parseAgentConfig('http_port = "0"\nmax_conn = 1\n'), { httpPort: 0, maxConn: 1 }, "AWS's any-port file");
  assert.deepEqual(parseAgentConfig(''), {}, 'an empty file changes nothing');
  assert.equal(parseAgentConfig('log_level = "none"').logLevel, 'silent');
  for (const l of ['info', 'Info', 'INFO', 'warn', 'error', 'debug']) assert.ok(parseAgentConfig(`log_level = "${l}"`).logLevel);
});

test("invalid values are refused with AWS's messages and ranges", () => {
  const bad: [string, string][] = [
    ['log_level = "information"', MESSAGES.logLevel],
    ['http_address = "invalid"', MESSAGES.httpAddress],
    ['http_address = "::1"', MESSAGES.httpAddress],
    ...['1023', '-1', '65536', 'not a number', '1'].map((v): [string, string] => [`http_port = "${v}"`, MESSAGES.httpPort]),
    ['http_port = 80', MESSAGES.httpPort],
    ...['1001', '-1', '0', 'not a number'].map((v): [string, string] => [`max_conn = "${v}"`, MESSAGES.maxConn]),
    ...['-1', '3601', 'not a number'].map((v): [string, string] => [`ttl_seconds = "${v}"`, MESSAGES.ttl]),
    ['ttl_seconds = 3601', MESSAGES.ttl],
    ...['-1', '0', '1001', 'not a number'].map((v): [string, string] => [`cache_size = "${v}"`, MESSAGES.cacheSize]),
    ['ssrf_headers = []', MESSAGES.emptyHeaders],
    ['ssrf_env_variables = []', MESSAGES.emptyEnv],
    ['path_prefix = "v1"', MESSAGES.prefix],
  ];
  for (const [text, msg] of bad) assert.throws(() => parseAgentConfig(text), (e: Error) => e instanceof ConfigError && e.message === msg, text);
  assert.throws(() => parseAgentConfig('ttl_seconds = 0\ncache_size = 1\nmax_conn = 1000\nbogus = 1'), (e: Error) => {
    assert.match(e.message, /^unknown field `bogus`, expected one of `log_level`, `http_address`/);
    return true;
  });
  assert.throws(() => parseAgentConfig('ssrf_headers = [1]'), /ssrf_headers must be a list of strings/);
  assert.throws(() => parseAgentConfig('ssrf_headers = ["bad header"]'), /not a valid header name/);
  assert.throws(() => parseAgentConfig('log_to_file = "maybe"'), /log_to_file must be true or false/);
  // The bounds themselves are accepted.
  assert.deepEqual(parseAgentConfig('ttl_seconds = 0\ncache_size = 1\nmax_conn = 1000\nhttp_port = 1024'), { ttlSeconds: 0, cacheSize: 1, maxConn: 1000, httpPort: 1024 });
  // A bare string where a list is expected is a one-element list (as AWS's config library reads it).
  assert.deepEqual(agentConfigFromToml({ ssrf_headers: 'X-Token' }).ssrfHeaders, ['X-Token']);
});

test('validPort and the key list', () => {
  assert.deepEqual([0, 1024, 2773, 65535].map(validPort), [true, true, true, true]);
  assert.deepEqual([-1, 1, 1023, 65536, 1.5, NaN].map(validPort), [false, false, false, false, false, false]);
  assert.equal(CONFIG_KEYS.length, 13);
});
