import { test } from 'node:test';
import assert from 'node:assert/strict';
import { element, errorDocument, escapeXml, isoSeconds, resultDocument } from './xml.js';

const NS = 'https://iam.amazonaws.com/doc/2010-05-08/';

test('escaping: markup characters, carriage returns, and characters XML cannot carry', () => {
  assert.equal(escapeXml(`a<b>&"c'`), 'a&lt;b&gt;&amp;&quot;c&apos;');
  assert.equal(escapeXml('line\r\nnext\ttab'), 'line&#13;\nnext\ttab');
  assert.equal(escapeXml('bell\u0007'), 'bell\uFFFD');
  assert.equal(escapeXml('plain é ✓'), 'plain é ✓');
});

test('timestamps are ISO 8601 to the second, in UTC', () => {
  assert.equal(isoSeconds(new Date(Date.UTC(2024, 4, 1, 12, 34, 56, 789))), '2024-05-01T12:34:56Z');
});

test('elements: structures in member order, lists of <member>, scalars; undefined and null left out', () => {
  assert.equal(
    element('User', { Path: '/', UserName: 'alice', Missing: undefined, Nothing: null, CreateDate: new Date(0) }),
    '<User><Path>/</Path><UserName>alice</UserName><CreateDate>1970-01-01T00:00:00Z</CreateDate></User>',
  );
  assert.equal(element('PolicyNames', ['a', 'b']), '<PolicyNames><member>a</member><member>b</member></PolicyNames>');
  assert.equal(element('Users', []), '<Users></Users>');
  assert.equal(element('Users', [{ UserName: 'x' }]), '<Users><member><UserName>x</UserName></member></Users>');
  assert.equal(element('IsTruncated', false), '<IsTruncated>false</IsTruncated>');
  assert.equal(element('MaxSessionDuration', 3600), '<MaxSessionDuration>3600</MaxSessionDuration>');
  assert.equal(element('RoleLastUsed', {}), '<RoleLastUsed></RoleLastUsed>');
});

test('a result document: <Action>Response, <Action>Result and the request id', () => {
  assert.equal(
    resultDocument('GetUser', NS, { User: { UserName: 'a&b' } }, 'req-1'),
    `<GetUserResponse xmlns="${NS}"><GetUserResult><User><UserName>a&amp;b</UserName></User></GetUserResult>` +
      '<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetUserResponse>',
  );
  assert.equal(
    resultDocument('DeleteUser', NS, undefined, 'req-2'),
    `<DeleteUserResponse xmlns="${NS}"><ResponseMetadata><RequestId>req-2</RequestId></ResponseMetadata></DeleteUserResponse>`,
  );
});

test('an error document in IAM\'s shape', () => {
  assert.equal(
    errorDocument(NS, 'NoSuchEntity', 'The user with name <x> cannot be found.', 'req-3', 'Sender'),
    `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>` +
      '<Message>The user with name &lt;x&gt; cannot be found.</Message></Error><RequestId>req-3</RequestId></ErrorResponse>',
  );
});
