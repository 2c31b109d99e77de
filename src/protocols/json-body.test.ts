import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceError } from '../errors.js';
import { findExcessiveNesting, parseJsonBody } from './json-body.js';

/** Parses and returns the SerializationException it must raise. */
function rejects(body: string | Buffer, maxDepth?: number): ServiceError {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  try {
    parseJsonBody(buf, maxDepth === undefined ? undefined : { maxDepth });
  } catch (e) {
    assert.ok(e instanceof ServiceError);
    assert.equal(e.code, 'SerializationException');
    assert.equal(e.status, 400);
    return e;
  }
  assert.fail(`expected ${buf.subarray(0, 40).toString()} to be rejected`);
}

const nest = (n: number, open = '[', close = ']') => open.repeat(n) + close.repeat(n);

test('accepted bodies', () => {
  const cases: [string, unknown][] = [
    ['', {}],
    [' \r\n\t', {}],
    ['{}', {}],
    ['null', null],
    ['{"SecretId":"a","Tags":[{"Key":"k"}]}', { SecretId: 'a', Tags: [{ Key: 'k' }] }],
    ['{"s":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', { s: '['.repeat(44) }],
    ['{"s":"\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', { s: `"${'['.repeat(42)}` }],
    ['{"s":"\\\\","n":' + nest(31) + '}', { s: '\\', n: JSON.parse(nest(31)) }],
    [`[${'[],'.repeat(10000)}[]]`, Array.from({ length: 10001 }, () => [])],
    ['\uFEFF{"a":1}', { a: 1 }],
  ];
  for (const [body, expected] of cases) {
    assert.deepEqual(parseJsonBody(Buffer.from(body)), expected, body.slice(0, 60));
  }
  assert.deepEqual(parseJsonBody(Buffer.alloc(0)), {});
});

test('nesting depth: 32 levels pass by default, 33 fail; the limit is configurable', () => {
  assert.deepEqual(parseJsonBody(Buffer.from(nest(32))), JSON.parse(nest(32)));
  assert.equal(rejects(nest(33)).message, 'Request body nesting exceeds the maximum depth of 32.');
  assert.equal(rejects(`{"a":${nest(32, '{"b":', '}')}}`).message, 'Request body nesting exceeds the maximum depth of 32.');
  assert.deepEqual(parseJsonBody(Buffer.from('{"a":{"b":1}}'), { maxDepth: 2 }), { a: { b: 1 } });
  assert.equal(rejects('{"a":{"b":[1]}}', 2).message, 'Request body nesting exceeds the maximum depth of 2.');
  // A string ending in an escaped backslash closes normally; the brackets after it count.
  rejects(`{"s":"\\\\","n":${nest(40)}}`);
  // An escaped quote does not close the string; the brackets inside it do not count.
  assert.equal(findExcessiveNesting(Buffer.from(`["\\"${'['.repeat(100)}"]`), 2), -1);
  assert.equal(findExcessiveNesting(Buffer.from('[[["x"]]]'), 2), 2);
});

test('10 MB of "[" is rejected quickly without blowing the stack', () => {
  const started = process.hrtime.bigint();
  const e = rejects(Buffer.alloc(10 * 1024 * 1024, '['));
  assert.match(e.message, /maximum depth of 32/);
  const huge = Buffer.concat([Buffer.from('"'), Buffer.alloc(10 * 1024 * 1024, '['), Buffer.from('"')]);
  assert.equal((parseJsonBody(huge) as string).length, 10 * 1024 * 1024);
  assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 2000, 'took too long');
});

test('malformed bodies are SerializationExceptions that never quote the body', () => {
  const cases = ['{', '{"SecretString":"hunter2"', '{"SecretString":"hunter2",}', '{"a":1} {}', 'hunter2', "{'a':1}", '\uFEFF'];
  for (const body of cases) {
    const e = rejects(body);
    assert.equal(e.message, 'Request body is not valid JSON.');
    assert.ok(!e.message.includes('hunter2'));
  }
  assert.equal(rejects(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])).message, 'Request body is not valid UTF-8.');
});
