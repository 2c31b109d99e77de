import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConditionClause } from '../types.js';
import { clauseHolds, conditionsHold, failingClause, OPERATORS, parseOperator } from './index.js';

const clause = (operator: string, values: string[], key = 'aws:k'): ConditionClause => {
  const parsed = parseOperator(operator);
  assert.ok(typeof parsed !== 'string', String(parsed));
  return { operator, ...parsed, key, values };
};

test('parseOperator splits set operators and IfExists, case-insensitively', () => {
  assert.deepEqual(parseOperator('StringEquals'), { base: 'StringEquals', set: undefined, ifExists: false });
  assert.deepEqual(parseOperator('ForAnyValue:StringLikeIfExists'), { base: 'StringLike', set: 'ForAnyValue', ifExists: true });
  assert.deepEqual(parseOperator('forallvalues:arnlike'), { base: 'ArnLike', set: 'ForAllValues', ifExists: false });
  assert.deepEqual(parseOperator('Null'), { base: 'Null', ifExists: false });
  assert.equal(parseOperator('IfExists'), 'unknown condition operator "IfExists"');
  assert.equal(parseOperator('ForAllValues:Null'), 'Null cannot be used with a set operator');
  assert.equal(parseOperator('NullIfExists'), 'Null cannot be combined with IfExists');
  assert.match(String(parseOperator('Any:StringEquals')), /unknown set operator "Any"/);
});

test('every documented operator family is registered', () => {
  const names = [...OPERATORS.values()].map((op) => op.name);
  for (const name of [
    'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
    'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
    'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
    'Bool', 'BinaryEquals', 'IpAddress', 'NotIpAddress', 'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike',
  ]) {
    assert.ok(names.includes(name), name);
  }
  assert.equal(names.length, 26);
});

test('clauseHolds: missing keys, IfExists, set operators, OR / NOR over values', () => {
  const cases: [ConditionClause, string[] | undefined, boolean][] = [
    [clause('StringEquals', ['a', 'b']), ['b'], true],
    [clause('StringEquals', ['a', 'b']), ['c'], false],
    [clause('StringEquals', ['a']), undefined, false],
    [clause('StringNotEquals', ['a', 'b']), ['b'], false],
    [clause('StringNotEquals', ['a', 'b']), ['c'], true],
    [clause('StringNotEquals', ['a']), undefined, true],
    [clause('StringEqualsIfExists', ['a']), undefined, true],
    [clause('StringEqualsIfExists', ['a']), ['b'], false],
    [clause('StringNotEqualsIfExists', ['a']), undefined, true],
    [clause('ForAllValues:StringEquals', ['a', 'b']), ['a', 'b'], true],
    [clause('ForAllValues:StringEquals', ['a']), ['a', 'b'], false],
    [clause('ForAllValues:StringEquals', ['a']), undefined, true],
    [clause('ForAllValues:StringEquals', ['a']), [], true],
    [clause('ForAllValues:StringEquals', ['a']), [''], true],
    [clause('ForAnyValue:StringEquals', ['a']), ['x', 'a'], true],
    [clause('ForAnyValue:StringEquals', ['a']), undefined, false],
    [clause('ForAnyValue:StringEquals', ['a']), [], false],
    [clause('ForAllValues:StringNotEquals', ['a']), ['b', 'c'], true],
    [clause('ForAllValues:StringNotEquals', ['a']), ['b', 'a'], false],
    [clause('ForAnyValue:StringNotEquals', ['a']), ['a', 'b'], true],
    [clause('ForAnyValue:StringNotEquals', ['a']), ['a'], false],
    [clause('Null', ['true']), undefined, true],
    [clause('Null', ['true']), ['x'], false],
    [clause('Null', ['false']), ['x'], true],
    [clause('Null', ['true', 'false']), ['x'], true],
  ];
  for (const [c, values, expected] of cases) {
    assert.equal(clauseHolds(c, values, undefined), expected, `${c.operator} ${JSON.stringify(c.values)} vs ${JSON.stringify(values)}`);
  }
});

test('clauseHolds: unresolved policy variables fail the clause, even a negated one', () => {
  const vars = (name: string) => (name === 'aws:username' ? 'alice' : undefined);
  assert.equal(clauseHolds(clause('StringEquals', ['${aws:username}']), ['alice'], vars), true);
  assert.equal(clauseHolds(clause('StringNotEquals', ['${aws:userid}']), ['alice'], vars), false);
  assert.equal(clauseHolds(clause('StringNotEquals', ['${aws:userid}']), undefined, vars), true, 'missing key decides first');
  assert.equal(clauseHolds(clause('ForAnyValue:StringEquals', ['${aws:userid}']), ['a'], vars), false);
  assert.equal(clauseHolds(clause('StringEquals', ['${aws:username}']), ['${aws:username}'], undefined), true, '2008-10-17: literal');
});

test('conditionsHold ANDs clauses; failingClause names the first failure', () => {
  const lookup = (key: string) => ({ 'aws:a': ['1'], 'aws:b': ['2'] } as Record<string, string[]>)[key.toLowerCase()];
  const a = clause('StringEquals', ['1'], 'AWS:A');
  const b = clause('NumericLessThan', ['2'], 'aws:b');
  assert.equal(conditionsHold([a], lookup, undefined), true);
  assert.equal(conditionsHold([a, b], lookup, undefined), false);
  assert.equal(failingClause([a, b], lookup, undefined), b);
  assert.equal(conditionsHold([], lookup, undefined), true);
});
