import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceError } from '../errors.js';
import { fieldName, memberFaults, Members, validateMembers, validationMessage } from './members.js';

const PATTERN = 'Member must satisfy regular expression pattern';

test('user, role and policy names: IAM\'s characters, 1 to 64 (policies 128)', () => {
  for (const ok of ['a', 'alice', 'A_b+c=d,e.f@g-h', 'x'.repeat(64)]) {
    assert.deepEqual(memberFaults(Members.userName(), ok), [], ok);
    assert.deepEqual(memberFaults(Members.roleName(), ok), [], ok);
  }
  const cases: [string, string[]][] = [
    ['bad name', [`Value 'bad name' at 'userName' failed to satisfy constraint: ${PATTERN}: [\\w+=,.@-]+`]],
    ['a/b', [`Value 'a/b' at 'userName' failed to satisfy constraint: ${PATTERN}: [\\w+=,.@-]+`]],
    ['é', [`Value 'é' at 'userName' failed to satisfy constraint: ${PATTERN}: [\\w+=,.@-]+`]],
    ['', [
      "Value '' at 'userName' failed to satisfy constraint: Member must have length greater than or equal to 1",
      `Value '' at 'userName' failed to satisfy constraint: ${PATTERN}: [\\w+=,.@-]+`,
    ]],
    ['x'.repeat(65), [`Value '${'x'.repeat(65)}' at 'userName' failed to satisfy constraint: Member must have length less than or equal to 64`]],
  ];
  for (const [value, faults] of cases) assert.deepEqual(memberFaults(Members.userName(), value), faults, value);
  assert.deepEqual(memberFaults(Members.policyName(), 'p'.repeat(128)), []);
  assert.equal(memberFaults(Members.policyName(), 'p'.repeat(129)).length, 1);
  // existing-user names (DeleteUser, GetUser, ...) allow 128 characters, as the model says
  assert.deepEqual(memberFaults(Members.existingUserName(), 'u'.repeat(128)), []);
});

test('paths: "/" or /…/ of printable ASCII, at most 512', () => {
  for (const ok of ['/', '/a/', '/division_abc/subdivision_xyz/', '/a!b/', `/${'p'.repeat(510)}/`]) {
    assert.deepEqual(memberFaults(Members.path(), ok), [], ok);
  }
  for (const bad of ['a', '/a', 'a/', '/x', '/a b/', '/é/']) {
    assert.deepEqual(
      memberFaults(Members.path(), bad),
      [`Value '${bad}' at 'path' failed to satisfy constraint: ${PATTERN}: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)`],
      bad,
    );
  }
  assert.match(memberFaults(Members.path(), `/${'p'.repeat(511)}/`)[0], /length less than or equal to 512$/);
  assert.deepEqual(memberFaults(Members.pathPrefix(), '/div'), []);
  assert.equal(memberFaults(Members.pathPrefix(), 'div').length, 1);
});

test('integers, enums and missing members', () => {
  assert.deepEqual(memberFaults(Members.maxItems(), '1000'), []);
  assert.deepEqual(memberFaults(Members.maxItems(), '0'), ["Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1"]);
  assert.deepEqual(memberFaults(Members.maxItems(), '1001'), ["Value '1001' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000"]);
  assert.deepEqual(memberFaults(Members.maxItems(), 'ten'), ["Value 'ten' at 'maxItems' failed to satisfy constraint: Member must be a number"]);
  assert.deepEqual(memberFaults(Members.status(), 'On'), [
    "Value 'On' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive, Expired]",
  ]);
  assert.deepEqual(memberFaults(Members.userName(), undefined), ["Value null at 'userName' failed to satisfy constraint: Member must not be null"]);
  assert.deepEqual(memberFaults(Members.userName(false), undefined), []);
  assert.equal(fieldName('AssumeRolePolicyDocument'), 'assumeRolePolicyDocument');
});

test('validateMembers lists every fault in one ValidationError, and types what passes', () => {
  const params = new Map([['UserName', 'a b'], ['Path', 'x']]);
  assert.throws(
    () => validateMembers([Members.path(), Members.userName()], (n) => params.get(n)),
    (e: unknown) =>
      e instanceof ServiceError && e.code === 'ValidationError' && e.status === 400 &&
      e.message.startsWith("2 validation errors detected: Value 'x' at 'path' failed") &&
      e.message.includes("; Value 'a b' at 'userName' failed"),
  );
  const ok = new Map([['UserName', 'alice'], ['MaxItems', '5']]);
  assert.deepEqual(validateMembers([Members.userName(), Members.maxItems(), Members.path()], (n) => ok.get(n)), { UserName: 'alice', MaxItems: 5 });
  assert.equal(validationMessage(['x']), '1 validation error detected: x');
});
