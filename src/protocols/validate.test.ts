import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceError } from '../errors.js';
import { createValidator, isKnownOperation, javaPatternToRegExp, operationNames, validateInput } from './validate.js';
import type { ShapeDef } from './generated/secretsmanager-model.js';

/** Runs a validation expected to fail and returns the ServiceError. */
function failure(fn: () => unknown): ServiceError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ServiceError, `expected a ServiceError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected validation to fail');
}

const one = (detail: string) => `1 validation error detected: ${detail}`;
const token = (n: number) => 'a'.repeat(n);
const filterKeys = '[description, name, tag-key, tag-value, primary-region, owning-service, all]';

const validationCases: [string, string, unknown, string][] = [
  ['name too long', 'CreateSecret', { Name: 'n'.repeat(513) },
    one(`Value '${'n'.repeat(256)}...' at 'name' failed to satisfy constraint: Member must have length less than or equal to 512`)],
  ['name empty', 'CreateSecret', { Name: '' },
    one("Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1")],
  ['MaxResults 0', 'ListSecrets', { MaxResults: 0 },
    one("Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1")],
  ['MaxResults 101', 'ListSecrets', { MaxResults: 101 },
    one("Value '101' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100")],
  ['batch MaxResults 21', 'BatchGetSecretValue', { MaxResults: 21 },
    one("Value '21' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 20")],
  ['filter key not in enum', 'ListSecrets', { Filters: [{ Key: 'colour', Values: ['x'] }] },
    one(`Value 'colour' at 'filters.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: ${filterKeys}`)],
  ['second filter key', 'BatchGetSecretValue', { Filters: [{ Key: 'name', Values: ['x'] }, { Key: 'Name', Values: ['y'] }] },
    one(`Value 'Name' at 'filters.2.member.key' failed to satisfy constraint: Member must satisfy enum value set: ${filterKeys}`)],
  ['SortOrder bad', 'ListSecrets', { SortOrder: 'up' },
    one("Value 'up' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [asc, desc]")],
  ['SortBy bad', 'ListSecrets', { SortBy: 'size' },
    one("Value 'size' at 'sortBy' failed to satisfy constraint: Member must satisfy enum value set: [created-date, last-accessed-date, last-changed-date, name]")],
  ['PasswordLength 0', 'GetRandomPassword', { PasswordLength: 0 },
    one("Value '0' at 'passwordLength' failed to satisfy constraint: Member must have value greater than or equal to 1")],
  ['PasswordLength 4097', 'GetRandomPassword', { PasswordLength: 4097 },
    one("Value '4097' at 'passwordLength' failed to satisfy constraint: Member must have value less than or equal to 4096")],
  ['ExcludeCharacters too long', 'GetRandomPassword', { ExcludeCharacters: 'x'.repeat(4097) },
    one(`Value '${'x'.repeat(256)}...' at 'excludeCharacters' failed to satisfy constraint: Member must have length less than or equal to 4096`)],
  ['VersionStage missing', 'UpdateSecretVersionStage', { SecretId: 's' },
    one("Value null at 'versionStage' failed to satisfy constraint: Member must not be null")],
  ['VersionStage null', 'UpdateSecretVersionStage', { SecretId: 's', VersionStage: null },
    one("Value null at 'versionStage' failed to satisfy constraint: Member must not be null")],
  ['SecretId missing', 'GetSecretValue', {},
    one("Value null at 'secretId' failed to satisfy constraint: Member must not be null")],
  ['token of 31 chars', 'CreateSecret', { Name: 'n', ClientRequestToken: token(31) },
    one(`Value '${token(31)}' at 'clientRequestToken' failed to satisfy constraint: Member must have length greater than or equal to 32`)],
  ['token of 65 chars', 'PutSecretValue', { SecretId: 's', ClientRequestToken: token(65) },
    one(`Value '${token(65)}' at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 64`)],
  ['VersionStages empty', 'PutSecretValue', { SecretId: 's', VersionStages: [] },
    one("Value '[]' at 'versionStages' failed to satisfy constraint: Member must have length greater than or equal to 1")],
  ['VersionStages member empty', 'PutSecretValue', { SecretId: 's', VersionStages: ['', 'AWSCURRENT'] },
    one("Value '[, AWSCURRENT]' at 'versionStages' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 1]")],
  ['11 filter values', 'ListSecrets', { Filters: [{ Key: 'name', Values: Array.from({ length: 11 }, (_, i) => `v${i}`) }] },
    one("Value '[v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10]' at 'filters.1.member.values' failed to satisfy constraint: Member must have length less than or equal to 10")],
  ['filter value pattern', 'ListSecrets', { Filters: [{ Key: 'name', Values: ['ok', 'no;pe'] }] },
    one("Value '[ok, no;pe]' at 'filters.1.member.values' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 512, Member must satisfy regular expression pattern: ^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$]")],
  ['11 filters (structures are not echoed)', 'ListSecrets', { Filters: Array.from({ length: 11 }, () => ({ Key: 'name', Values: ['x'] })) },
    one("Value at 'filters' failed to satisfy constraint: Member must have length less than or equal to 10")],
  ['21 secret ids', 'BatchGetSecretValue', { SecretIdList: Array.from({ length: 21 }, (_, i) => `s${i}`) },
    one(`Value '[${Array.from({ length: 21 }, (_, i) => `s${i}`).join(', ')}]' at 'secretIdList' failed to satisfy constraint: Member must have length less than or equal to 20`)],
  ['rotation days 0', 'RotateSecret', { SecretId: 's', RotationRules: { AutomaticallyAfterDays: 0 } },
    one("Value '0' at 'rotationRules.automaticallyAfterDays' failed to satisfy constraint: Member must have value greater than or equal to 1")],
  ['duration pattern', 'RotateSecret', { SecretId: 's', RotationRules: { Duration: '4d' } },
    one("Value '4d' at 'rotationRules.duration' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9]+h")],
  ['duration length and pattern', 'RotateSecret', { SecretId: 's', RotationRules: { Duration: '1234' } },
    '2 validation errors detected: '
    + "Value '1234' at 'rotationRules.duration' failed to satisfy constraint: Member must have length less than or equal to 3; "
    + "Value '1234' at 'rotationRules.duration' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9]+h"],
  ['replica region pattern', 'ReplicateSecretToRegions', { SecretId: 's', AddReplicaRegions: [{ Region: 'us-east-1' }, { Region: 'mars' }] },
    one("Value 'mars' at 'addReplicaRegions.2.member.region' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([a-z]+-)+\\d+$")],
  ['replica regions empty', 'ReplicateSecretToRegions', { SecretId: 's', AddReplicaRegions: [] },
    one("Value at 'addReplicaRegions' failed to satisfy constraint: Member must have length greater than or equal to 1")],
  ['tag key empty', 'TagResource', { SecretId: 's', Tags: [{ Key: 'ok', Value: '' }, { Key: '', Value: 'v' }] },
    one("Value '' at 'tags.2.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1")],
  ['several errors, model member order', 'ListSecrets', { SortOrder: 'up', MaxResults: 0, NextToken: '' },
    '3 validation errors detected: '
    + "Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1; "
    + "Value '' at 'nextToken' failed to satisfy constraint: Member must have length greater than or equal to 1; "
    + "Value 'up' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [asc, desc]"],
  ['list errors precede element errors', 'ListSecrets',
    { Filters: [...Array.from({ length: 10 }, () => ({ Key: 'name', Values: ['x'] })), { Key: 'bad', Values: ['x'] }] },
    '2 validation errors detected: '
    + "Value at 'filters' failed to satisfy constraint: Member must have length less than or equal to 10; "
    + `Value 'bad' at 'filters.11.member.key' failed to satisfy constraint: Member must satisfy enum value set: ${filterKeys}`],
  ['both required missing', 'UpdateSecretVersionStage', {},
    '2 validation errors detected: '
    + "Value null at 'secretId' failed to satisfy constraint: Member must not be null; "
    + "Value null at 'versionStage' failed to satisfy constraint: Member must not be null"],
];

for (const [name, op, body, message] of validationCases) {
  test(`ValidationException: ${name}`, () => {
    const e = failure(() => validateInput(op, body));
    assert.equal(e.code, 'ValidationException');
    assert.equal(e.status, 400);
    assert.equal(e.message, message);
  });
}

const serializationCases: [string, string, unknown, string][] = [
  ['number for string', 'CreateSecret', { Name: 5 }, 'NUMBER_VALUE can not be converted to a String'],
  ['true for string', 'CreateSecret', { Name: true }, 'TRUE_VALUE can not be converted to a String'],
  ['false for string', 'CreateSecret', { Name: false }, 'FALSE_VALUE can not be converted to a String'],
  ['list for string', 'CreateSecret', { Name: ['a'] }, 'Start of list found where not expected'],
  ['object for string', 'CreateSecret', { Name: { a: 1 } }, 'Start of structure or map found where not expected.'],
  ['string for integer', 'ListSecrets', { MaxResults: '5' }, 'STRING_VALUE can not be converted to an Integer'],
  ['true for integer', 'ListSecrets', { MaxResults: true }, 'TRUE_VALUE can not be converted to an Integer'],
  ['string for long', 'GetRandomPassword', { PasswordLength: '32' }, 'STRING_VALUE can not be converted to a Long'],
  ['string for boolean', 'GetRandomPassword', { ExcludeNumbers: 'true' }, 'STRING_VALUE can not be converted to an Boolean'],
  ['number for boolean', 'GetRandomPassword', { ExcludeNumbers: 1 }, 'NUMBER_VALUE can not be converted to a Boolean'],
  ['object for list', 'ListSecrets', { Filters: {} }, 'Start of structure or map found where not expected.'],
  ['string for list', 'ListSecrets', { Filters: 'name' }, 'Expected list or null'],
  ['number in string list', 'PutSecretValue', { SecretId: 's', VersionStages: [1] }, 'NUMBER_VALUE can not be converted to a String'],
  ['scalar for structure', 'RotateSecret', { SecretId: 's', RotationRules: 'daily' }, 'Expected null'],
  ['list for structure', 'RotateSecret', { SecretId: 's', RotationRules: [] }, 'Start of list found where not expected'],
  ['scalar list element for structure', 'ListSecrets', { Filters: [5] }, 'Expected null'],
  ['nested list for structure', 'ListSecrets', { Filters: [[]] }, 'Start of list found where not expected'],
  ['number for blob', 'CreateSecret', { Name: 'n', SecretBinary: 5 }, 'NUMBER_VALUE can not be converted to a Blob'],
  ['top-level array', 'ListSecrets', [], 'Start of list found where not expected'],
  ['top-level string', 'ListSecrets', 'x', 'Expected null'],
  ['top-level number', 'ListSecrets', 7, 'Expected null'],
  ['type error beats constraint errors', 'ListSecrets', { MaxResults: 0, SortOrder: 5 }, 'NUMBER_VALUE can not be converted to a String'],
  ['bad base64 length', 'CreateSecret', { Name: 'n', SecretBinary: 'abcde' },
    "Value at 'secretBinary' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5"],
  ['bad base64 character', 'CreateSecret', { Name: 'n', SecretBinary: 'ab!=' }, "Value at 'secretBinary' can not be converted to a Blob: Invalid Base64 character"],
  ['base64 padding in the middle', 'CreateSecret', { Name: 'n', SecretBinary: 'QQ==QQ==' }, "Value at 'secretBinary' can not be converted to a Blob: Invalid Base64 character"],
  ['non-canonical base64', 'CreateSecret', { Name: 'n', SecretBinary: 'QR==' },
    "Value at 'secretBinary' can not be converted to a Blob: Invalid last non-pad Base64 character detected"],
];

for (const [name, op, body, message] of serializationCases) {
  test(`SerializationException: ${name}`, () => {
    const e = failure(() => validateInput(op, body));
    assert.equal(e.code, 'SerializationException');
    assert.equal(e.status, 400);
    assert.equal(e.message, message);
  });
}

test('sensitive values are never echoed', () => {
  const canary = `CANARY${'c'.repeat(70000)}`;
  const cases: [string, unknown, string][] = [
    ['CreateSecret', { Name: 'n', SecretString: canary },
      one("Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to 65536")],
    ['PutSecretValue', { SecretId: 's', SecretString: '' },
      one("Value at 'secretString' failed to satisfy constraint: Member must have length greater than or equal to 1")],
    ['PutSecretValue', { SecretId: 's', RotationToken: 'CANARY!' },
      '2 validation errors detected: '
      + "Value at 'rotationToken' failed to satisfy constraint: Member must have length greater than or equal to 36; "
      + "Value at 'rotationToken' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9\\-]+$"],
    ['CreateSecret', { Name: 'n', SecretBinary: Buffer.alloc(65537, 0x43).toString('base64') },
      one("Value at 'secretBinary' failed to satisfy constraint: Member must have length less than or equal to 65536")],
    ['CreateSecret', { Name: 'n', SecretBinary: '' },
      one("Value at 'secretBinary' failed to satisfy constraint: Member must have length greater than or equal to 1")],
  ];
  for (const [op, body, message] of cases) {
    const e = failure(() => validateInput(op, body));
    assert.equal(e.message, message);
    assert.ok(!e.message.includes('CANARY') && !e.message.includes('CCCC'), 'secret leaked into the message');
  }
  // Also when mixed with non-sensitive errors in one message.
  const mixed = failure(() => validateInput('CreateSecret', { Name: '', SecretString: canary }));
  assert.ok(!mixed.message.includes('CANARY'));
  assert.match(mixed.message, /^2 validation errors detected: Value '' at 'name'.*; Value at 'secretString'/);
});

test('blob members are base64-decoded into Buffers, length checked on the bytes', () => {
  const bytes = Buffer.from([0, 1, 2, 250, 255]);
  const clean = validateInput('CreateSecret', { Name: 'n', SecretBinary: bytes.toString('base64') });
  assert.ok(Buffer.isBuffer(clean.SecretBinary));
  assert.deepEqual(clean.SecretBinary, bytes);
  // 65536 bytes is 87384 base64 characters: over the limit as text, within it as bytes.
  const max = Buffer.alloc(65536, 7);
  const big = validateInput('PutSecretValue', { SecretId: 's', SecretBinary: max.toString('base64') });
  assert.equal((big.SecretBinary as Buffer).length, 65536);
  assert.deepEqual(validateInput('CreateSecret', { Name: 'n', SecretBinary: 'QQ==' }).SecretBinary, Buffer.from('A'));
});

test('the clean copy keeps only modelled members and leaves the input untouched', () => {
  const input = {
    Name: 'n', Extra: 1, Tags: [{ Key: 'k', Value: 'v', Colour: 'red' }],
    AddReplicaRegions: [{ Region: 'eu-west-1', Nope: true }], Description: null,
  };
  const before = JSON.stringify(input);
  const clean = validateInput('CreateSecret', input);
  assert.deepEqual(clean, { Name: 'n', Tags: [{ Key: 'k', Value: 'v' }], AddReplicaRegions: [{ Region: 'eu-west-1' }] });
  assert.notEqual(clean.Tags, input.Tags);
  assert.equal(JSON.stringify(input), before);
  assert.deepEqual(validateInput('ListSecrets', null), {});
  assert.deepEqual(validateInput('ListSecrets', undefined), {});
  assert.deepEqual(validateInput('PutSecretValue', { SecretId: 's', VersionStages: ['A', null, 'B'] }).VersionStages, ['A', 'B']);
  assert.equal(validateInput('ListSecrets', { MaxResults: 5.9 }).MaxResults, 5);
  assert.equal(validateInput('GetRandomPassword', { IncludeSpace: false }).IncludeSpace, false);
});

test('string length counts code points, not UTF-16 units', () => {
  assert.equal(validateInput('CreateSecret', { Name: '🔑'.repeat(512) }).Name, '🔑'.repeat(512));
  const e = failure(() => validateInput('CreateSecret', { Name: '🔑'.repeat(513) }));
  assert.match(e.message, /Member must have length less than or equal to 512$/);
});

test('prototype pollution attempts change nothing', () => {
  const protoKeys = Object.getOwnPropertyNames(Object.prototype).sort();
  const body = JSON.parse(
    '{"Name":"n","__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},'
    + '"Tags":[{"Key":"k","Value":"v","__proto__":{"polluted":1}}]}',
  ) as unknown;
  const clean = validateInput('CreateSecret', body);
  assert.equal(Object.getPrototypeOf(clean), Object.prototype);
  assert.equal(Object.hasOwn(clean, '__proto__'), false);
  assert.equal(Object.hasOwn(clean, 'constructor'), false);
  assert.equal(Object.getPrototypeOf((clean.Tags as object[])[0]), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), protoKeys);
});

// A small synthetic model for what the Secrets Manager input shapes do not contain (maps, timestamps,
// sensitive structures, floats).
const testShapes: Record<string, ShapeDef> = {
  Root: {
    type: 'structure',
    members: {
      Attrs: { target: 'AttrMap' }, At: { target: 'Time' }, Creds: { target: 'Creds' }, Ratio: { target: 'Ratio' },
      Nested: { target: 'NestedMap' }, Free: { target: 'FreeMap' }, Deep: { target: 'DeepMap' },
    },
  },
  FreeMap: { type: 'map', key: 'FreeKey', value: 'AttrValue' },
  DeepMap: { type: 'map', key: 'FreeKey', value: 'Plain' },
  FreeKey: { type: 'string' },
  Plain: { type: 'structure', members: { User: { target: 'AttrValue' } } },
  AttrMap: { type: 'map', key: 'AttrKey', value: 'AttrValue', max: 3 },
  AttrKey: { type: 'string', min: 1, max: 5, pattern: '[a-z_]+' },
  AttrValue: { type: 'string', max: 4 },
  NestedMap: { type: 'map', key: 'AttrKey', value: 'Creds' },
  Time: { type: 'timestamp' },
  Ratio: { type: 'double', min: 0, max: 1 },
  Creds: { type: 'structure', sensitive: true, members: { User: { target: 'AttrValue', required: true } } },
};
const check = createValidator(testShapes, ['Root']);

test('maps keep hostile keys as own data properties without polluting prototypes', () => {
  const protoKeys = Object.getOwnPropertyNames(Object.prototype).sort();
  const body = JSON.parse('{"Free":{"__proto__":"x","constructor":"y","toString":"z"},'
    + '"Deep":{"__proto__":{"User":"u","polluted":1},"constructor":{"User":"c"}}}') as unknown;
  const clean = check('Root', body);
  const free = clean.Free as Record<string, unknown>;
  assert.deepEqual(Object.keys(free), ['__proto__', 'constructor', 'toString']);
  assert.equal(Object.getOwnPropertyDescriptor(free, '__proto__')?.value, 'x');
  assert.equal(Object.getPrototypeOf(free), Object.prototype);
  assert.equal(free.constructor, 'y');
  const deep = clean.Deep as Record<string, unknown>;
  assert.deepEqual(Object.getOwnPropertyDescriptor(deep, '__proto__')?.value, { User: 'u' });
  assert.deepEqual(deep.constructor, { User: 'c' });
  assert.equal(Object.getPrototypeOf(deep), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), protoKeys);
  // A constrained key shape still rejects them, without echoing sensitive values.
  const e = failure(() => check('Root', JSON.parse('{"Nested":{"__proto__":{"User":"u"}}}')));
  assert.match(e.message, /^1 validation error detected: Value at 'nested' failed to satisfy constraint: Map keys must/);
});

test('map constraints use the "Map keys/value must satisfy constraint" wording', () => {
  const e = failure(() => check('Root', { Attrs: { a: 'toolong', B: 'x' } }));
  assert.equal(e.message, '2 validation errors detected: '
    + "Value '{a=toolong, B=x}' at 'attrs' failed to satisfy constraint: Map keys must satisfy constraint: "
    + '[Member must have length less than or equal to 5, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [a-z_]+]; '
    + "Value '{a=toolong, B=x}' at 'attrs' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 4]");
  const size = failure(() => check('Root', { Attrs: { a: '1', b: '2', c: '3', d: '4' } }));
  assert.equal(size.message, one("Value '{a=1, b=2, c=3, d=4}' at 'attrs' failed to satisfy constraint: Member must have length less than or equal to 3"));
  assert.equal(failure(() => check('Root', { Attrs: [] })).message, 'Start of list found where not expected');
  assert.equal(failure(() => check('Root', { Attrs: 1 })).message, 'Expected map or null');
});

test('sensitive structures redact everything beneath them', () => {
  const e = failure(() => check('Root', { Creds: { User: 'CANARY' }, Nested: { k: {} } }));
  assert.equal(e.message, '2 validation errors detected: '
    + "Value at 'creds.user' failed to satisfy constraint: Member must have length less than or equal to 4; "
    + "Value null at 'nested.k.user' failed to satisfy constraint: Member must not be null");
});

test('timestamps are epoch seconds and become Dates; doubles keep fractions', () => {
  const clean = check('Root', { At: 1700000000.5, Ratio: 0.25 });
  assert.ok(clean.At instanceof Date);
  assert.equal((clean.At as Date).getTime(), 1700000000500);
  assert.equal(clean.Ratio, 0.25);
  assert.equal(failure(() => check('Root', { At: '2024-01-01' })).message, 'STRING_VALUE can not be converted to a Timestamp');
  assert.equal(failure(() => check('Root', { Ratio: 1.5 })).message,
    one("Value '1.5' at 'ratio' failed to satisfy constraint: Member must have value less than or equal to 1"));
});

test('scratch state is reset after a failed walk', () => {
  failure(() => validateInput('ListSecrets', { Filters: [{ Key: 'name', Values: [{}] }] }));
  assert.equal(failure(() => validateInput('ListSecrets', { SortOrder: 'x' })).message,
    one("Value 'x' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [asc, desc]"));
});

test('very many violations are counted but only the first 100 listed', () => {
  const e = failure(() => validateInput('TagResource', { SecretId: 's', Tags: Array.from({ length: 150 }, () => ({ Key: '' })) }));
  assert.match(e.message, /^150 validation errors detected: /);
  assert.equal(e.message.split('; ').length, 101);
  assert.match(e.message, /; \(50 more\)$/);
});

test('Java patterns become full-match JS regexes', () => {
  const cases: [string, string[], string[]][] = [
    ['[0-9]+h', ['1h', '24h'], ['h', '1h ', 'x1h', '1H']],
    ['^\\!?[a-z\\=\\-]*$', ['!a=b-c', ''], ['!!', 'A']],
    ['\\p{Alpha}+\\p{Digit}', ['ab1'], ['ab', '1']],
    ['\\Qa.b\\E', ['a.b'], ['axb']],
    ['a++b', ['aab'], ['b']],
    ['(?>ab)+', ['abab'], ['aba']],
    ['[\\p{L}\\p{N}_.:/=+\\-@]+', ['Ünïcode_1'], ['tab\t']],
    ['\\Aabc\\z', ['abc'], ['abcd']],
  ];
  for (const [java, yes, no] of cases) {
    const re = javaPatternToRegExp(java);
    for (const s of yes) assert.ok(re.test(s), `${java} should match ${JSON.stringify(s)}`);
    for (const s of no) assert.ok(!re.test(s), `${java} should not match ${JSON.stringify(s)}`);
  }
  assert.throws(() => javaPatternToRegExp('[a-z&&[^x]]'), /unsupported/);
});

test('operation table', () => {
  const names = operationNames();
  assert.equal(names.length, 23);
  assert.deepEqual(names, [...names].sort());
  assert.ok(names.includes('CreateSecret') && names.includes('BatchGetSecretValue'));
  names.push('Mutated');
  assert.ok(!operationNames().includes('Mutated'));
  for (const n of ['CreateSecret', 'GetSecretValue']) assert.equal(isKnownOperation(n), true);
  for (const n of ['toString', '__proto__', 'constructor', 'hasOwnProperty', 'createsecret', '']) assert.equal(isKnownOperation(n), false);
  const e = failure(() => validateInput('toString', {}));
  assert.equal(e.code, 'UnknownOperationException');
});

test('every operation accepts its minimal valid input', () => {
  for (const op of operationNames()) {
    const body: Record<string, unknown> = { SecretId: 's', Name: 'n', VersionStage: 'AWSCURRENT', ResourcePolicy: '{}', Tags: [], TagKeys: [] };
    body.AddReplicaRegions = [{ Region: 'eu-west-1' }];
    body.RemoveReplicaRegions = ['eu-west-1'];
    assert.equal(typeof validateInput(op, body), 'object', op);
  }
});
