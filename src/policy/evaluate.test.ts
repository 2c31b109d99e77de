import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { accessDeniedMessage, evaluate } from './evaluate.js';
import { parsePolicy } from './parse.js';
import type { AccessRequest, ContextValue, Decision, Policy, RequestPrincipal } from './types.js';

// Case tables live in ./cases/*.json:
//   { "documents"?: {name: policy}, "defaults"?: {request fields, resourceAccountId}, "cases": [case] }
// A case: { name, policies: { identity?: [doc | "$name"], resource?: doc | "$name", resourceAccountId? },
//           request: { principal: name | object, action?, resource?, context?, now? },
//           expected: decision, reasonIncludes?: string, matched?: { policy, statementIndex, sid? } }

/** Principals the tables refer to by name. */
const PRINCIPALS: Record<string, RequestPrincipal> = {
  alice: { arn: 'arn:aws:iam::123456789012:user/alice', accountId: '123456789012', type: 'user', username: 'alice' },
  bob: { arn: 'arn:aws:iam::123456789012:user/engineering/bob', accountId: '123456789012', type: 'user', username: 'bob' },
  root: { arn: 'arn:aws:iam::123456789012:root', accountId: '123456789012', type: 'root' },
  'rotation-role': { arn: 'arn:aws:iam::123456789012:role/rotation-lambda-role', accountId: '123456789012', type: 'role' },
  'rotation-session': {
    arn: 'arn:aws:sts::123456789012:assumed-role/rotation-lambda-role/rotation-fn',
    accountId: '123456789012',
    type: 'assumed-role',
  },
  'app-session': { arn: 'arn:aws:sts::123456789012:assumed-role/app/i-0abc', accountId: '123456789012', type: 'assumed-role' },
  mallory: { arn: 'arn:aws:iam::999999999999:user/mallory', accountId: '999999999999', type: 'user', username: 'mallory' },
  'partner-session': { arn: 'arn:aws:sts::444455556666:assumed-role/reader/s1', accountId: '444455556666', type: 'assumed-role' },
  lambda: { arn: 'lambda.amazonaws.com', accountId: '', type: 'service' },
};

interface CaseRequest {
  principal: string | RequestPrincipal;
  action?: string;
  resource?: string;
  context?: Record<string, ContextValue>;
  now?: string;
}
interface Case {
  name: string;
  policies: { identity?: unknown[]; resource?: unknown; resourceAccountId?: string };
  request: CaseRequest;
  expected: Decision;
  reasonIncludes?: string;
  matched?: { policy: string; statementIndex: number; sid?: string };
}
interface Table {
  documents?: Record<string, unknown>;
  defaults?: Partial<CaseRequest> & { resourceAccountId?: string };
  cases: Case[];
}

const DEFAULT_RESOURCE = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf';
const dir = fileURLToPath(new URL('./cases/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
let total = 0;

function resolveDoc(table: Table, doc: unknown, kind: 'identity' | 'resource', name: string): Policy {
  const source = typeof doc === 'string' && doc.startsWith('$') ? table.documents?.[doc.slice(1)] : doc;
  assert.ok(source !== undefined, `unknown document ${String(doc)}`);
  return parsePolicy(source, { kind, name });
}

for (const file of files) {
  const table = JSON.parse(readFileSync(dir + file, 'utf8')) as Table;
  total += table.cases.length;
  for (const c of table.cases) {
    test(`${file}: ${c.name}`, () => {
      const d = table.defaults ?? {};
      const r = { ...d, ...c.request, context: { ...d.context, ...c.request.context } };
      const principal = typeof r.principal === 'string' ? PRINCIPALS[r.principal] : r.principal;
      assert.ok(principal !== undefined, `unknown principal ${String(r.principal)}`);
      const request: AccessRequest = {
        principal,
        action: r.action ?? 'secretsmanager:GetSecretValue',
        resource: r.resource ?? DEFAULT_RESOURCE,
        context: r.context,
        ...(r.now !== undefined ? { now: new Date(r.now) } : {}),
      };
      const identity = (c.policies.identity ?? []).map((doc, i) => resolveDoc(table, doc, 'identity', `p${i + 1}`));
      const resource = c.policies.resource === undefined ? undefined : resolveDoc(table, c.policies.resource, 'resource', 'resource');
      const result = evaluate(request, {
        identity,
        ...(resource !== undefined ? { resource } : {}),
        resourceAccountId: c.policies.resourceAccountId ?? d.resourceAccountId ?? '123456789012',
      });
      assert.equal(result.decision, c.expected, result.reason);
      assert.ok(result.reason.length > 0);
      if (c.reasonIncludes !== undefined) assert.ok(result.reason.includes(c.reasonIncludes), result.reason);
      if (c.matched !== undefined) {
        assert.equal(result.matched?.policy, c.matched.policy, result.reason);
        assert.equal(result.matched?.statementIndex, c.matched.statementIndex, result.reason);
        if (c.matched.sid !== undefined) assert.equal(result.matched?.sid, c.matched.sid);
      }
    });
  }
}

test('the case tables hold at least 150 cases', () => {
  assert.ok(total >= 150, `only ${total} cases`);
});

test('accessDeniedMessage uses AWS wording', () => {
  const alice = 'arn:aws:iam::123456789012:user/alice';
  const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf';
  const action = 'secretsmanager:GetSecretValue';
  assert.equal(
    accessDeniedMessage(alice, action, arn, 'implicit-deny'),
    `User: ${alice} is not authorized to perform: ${action} on resource: ${arn} because no identity-based policy allows the ${action} action`,
  );
  assert.equal(
    accessDeniedMessage(alice, action, arn, 'explicit-deny'),
    `User: ${alice} is not authorized to perform: ${action} on resource: ${arn} with an explicit deny in an identity-based policy`,
  );
  assert.equal(
    accessDeniedMessage(alice, action, arn, { decision: 'explicit-deny', policyType: 'resource-based' }),
    `User: ${alice} is not authorized to perform: ${action} on resource: ${arn} with an explicit deny in a resource-based policy`,
  );
  assert.equal(
    accessDeniedMessage(alice, 'secretsmanager:ListSecrets', '*', { decision: 'implicit-deny', policyType: 'resource-based' }),
    `User: ${alice} is not authorized to perform: secretsmanager:ListSecrets because no resource-based policy allows the secretsmanager:ListSecrets action`,
  );
  assert.throws(() => accessDeniedMessage(alice, action, arn, 'allow'), TypeError);
});

test('evaluate result feeds accessDeniedMessage', () => {
  const resource = parsePolicy(
    { Version: '2012-10-17', Statement: { Effect: 'Deny', Principal: '*', Action: 'secretsmanager:*', Resource: '*' } },
    { kind: 'resource' },
  );
  const allowAll = parsePolicy({ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: '*', Resource: '*' } });
  const request: AccessRequest = { principal: PRINCIPALS.alice, action: 'secretsmanager:GetSecretValue', resource: DEFAULT_RESOURCE, context: {} };
  const result = evaluate(request, { identity: [allowAll], resource, resourceAccountId: '123456789012' });
  assert.equal(result.decision, 'explicit-deny');
  assert.match(accessDeniedMessage(PRINCIPALS.alice.arn, request.action, request.resource, result), /with an explicit deny in a resource-based policy$/);
});
