// Part 7: the cost of authorization. GetSecretValue on one secret, signed by a role session whose
// role has a 20-statement identity policy (the secret has a resource policy too), next to the root key
// (which bypasses policies), against the same `lockstep serve` child process, at the same concurrency,
// order alternating. Every call of either writes an audit record (group commit); the part counts them
// and runs `lockstep audit verify` on the data directory afterwards.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SignatureV4 } from '@smithy/signature-v4';
import { CreateSecretCommand, PutResourcePolicyCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ROOT, baseEnv, startLockstepChild, type ChildServer } from './children.js';
import { benchSecretString, combineLoads, type ServerFigures } from './gsv.js';
import { RawClient, type Reply } from './http.js';
import { runLoad, type LoadMatrix, type LoadResult } from './load.js';
import { NodeSha256, Signer, type Creds, type SignedRequest } from './sign.js';
import { log, since } from './stats.js';

export const AUTHZ_SECRET = 'prod/payments/db';
const ROLE = 'payments-api';
const POLICY_NAME = 'payments-api';
const TAGS = [{ Key: 'team', Value: 'payments' }, { Key: 'env', Value: 'prod' }];

/** Temporary credentials carry a session token; the SigV4 signer adds (and signs) X-Amz-Security-Token for it. */
interface Keys extends Creds {
  sessionToken?: string;
}

/** One principal's figures at one concurrency (all rounds), with the audit records its runs wrote. */
export interface AuthzSide extends ServerFigures {
  /** Audit records written from the start of each run (warm-up included) until the trail stood still after it. */
  auditRecords: number;
  /** Responses the generator received in those runs (warm-up included). */
  answered: number;
  /** Records of those runs that are not this principal's successful GetSecretValue on the secret (should be 0). */
  foreignRecords: number;
  /** The policy decisions the records give, with how many records give each. */
  decisions: Record<string, number>;
}

export interface AuthzRow {
  connections: number;
  root: AuthzSide;
  principal: AuthzSide;
  /** principal req/s / root req/s. */
  ratio: number;
  /** principal CPU per request / root CPU per request. */
  cpuRatio: number;
}

/** A single signed request made before measuring, and whether it was answered as it must be. */
export interface AuthzCheck {
  name: string;
  expected: string;
  status: number;
  code?: string;
  message?: string;
  ok: boolean;
}

export interface AuthzResult {
  seconds: number;
  tool: string;
  durationS: number;
  warmupS: number;
  responseBytes: number;
  secret: { name: string; arn: string; tags: Record<string, string> };
  principal: {
    arn: string;
    kind: 'assumed-role';
    roleArn: string;
    identityPolicy: { name: string; statements: number; allow: number; deny: number; withConditions: number; chars: number };
    /** The statement the audit trail names as the one that allowed the read (1-based), and the one meant to. */
    grantingStatement: number | undefined;
    expectedGrantingStatement: number;
    grantReason: string;
  };
  resourcePolicy: { statements: number; chars: number };
  checks: AuthzCheck[];
  rows: AuthzRow[];
  audit: {
    /** Records in the trail when the part ended (setup, checks, and every run). */
    totalRecords: number;
    recordsDuringRuns: number;
    answeredDuringRuns: number;
    verify: { ok: boolean; records: number; output: string; seconds: number };
  };
}

// ------------------------------------------------------------------------------------- the policies

/**
 * The role's identity policy: 20 statements of the kind a service's role accumulates, guard-rail
 * Denies first; the one that grants this read is the 14th. Each is evaluated on every call: the
 * Denies must all be ruled out (by action, resource or condition), whatever allows.
 */
export function identityPolicy(account: string): { doc: Record<string, unknown>; granting: number } {
  const A = (name: string) => `arn:aws:secretsmanager:us-east-1:${account}:secret:${name}`;
  const sm = (op: string) => `secretsmanager:${op}`;
  const statements: Record<string, unknown>[] = [
    { Sid: 'DenyDeleteAndPolicyChanges', Effect: 'Deny', Action: [sm('DeleteSecret'), sm('*ResourcePolicy')], Resource: '*' },
    { Sid: 'DenyOutsideNetwork', Effect: 'Deny', Action: sm('*'), Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '127.0.0.0/8'] } } },
    { Sid: 'DenyRestricted', Effect: 'Deny', Action: sm('GetSecretValue'), Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/classification': 'restricted' } } },
    { Sid: 'DenyPendingInProd', Effect: 'Deny', Action: sm('GetSecretValue'), Resource: A('prod/*'), Condition: { StringEquals: { [sm('VersionStage')]: 'AWSPENDING' } } },
    { Sid: 'DenyOtherTeams', Effect: 'Deny', Action: sm('*'), Resource: [A('prod/billing/*'), A('prod/fraud/*'), A('prod/*/admin-*')] },
    { Sid: 'ListAndPasswords', Effect: 'Allow', Action: [sm('ListSecrets'), sm('GetRandomPassword')], Resource: '*' },
    { Sid: 'Describe', Effect: 'Allow', Action: sm('DescribeSecret'), Resource: [A('prod/payments/*'), A('staging/*'), A('dev/*')] },
    { Sid: 'ReadStaging', Effect: 'Allow', Action: sm('GetSecretValue'), Resource: A('staging/payments/*') },
    { Sid: 'ReadSharedProd', Effect: 'Allow', Action: sm('GetSecretValue'), Resource: A('prod/shared/*'), Condition: { StringEquals: { 'aws:ResourceTag/env': 'prod' } } },
    { Sid: 'ReadLegacyUntilMigrated', Effect: 'Allow', Action: sm('GetSecretValue'), Resource: A('prod/payments-v1/*'), Condition: { DateLessThan: { 'aws:CurrentTime': '2024-07-01T00:00:00Z' } } },
    { Sid: 'WriteDev', Effect: 'Allow', Action: [sm('PutSecretValue'), sm('UpdateSecretVersionStage')], Resource: A('dev/payments/*') },
    { Sid: 'RollbackFromVpn', Effect: 'Allow', Action: sm('GetSecretValue'), Resource: A('prod/payments/*'), Condition: { StringEquals: { [sm('VersionStage')]: 'AWSPREVIOUS' }, IpAddress: { 'aws:SourceIp': '10.20.0.0/16' } } },
    { Sid: 'TagDev', Effect: 'Allow', Action: [sm('TagResource'), sm('UntagResource')], Resource: A('dev/*'), Condition: { StringEquals: { 'aws:RequestTag/team': 'payments' } } },
    {
      Sid: 'ReadCurrentProd', Effect: 'Allow', Action: sm('GetSecretValue'), Resource: A('prod/payments/*'),
      Condition: {
        StringEquals: { [sm('VersionStage')]: 'AWSCURRENT', 'aws:ResourceTag/team': 'payments' },
        IpAddress: { 'aws:SourceIp': ['10.20.0.0/16', '127.0.0.1/32'] },
        DateLessThan: { 'aws:CurrentTime': '2099-01-01T00:00:00Z' },
      },
    },
    { Sid: 'RotateDev', Effect: 'Allow', Action: sm('RotateSecret'), Resource: A('dev/payments/*') },
    { Sid: 'Decrypt', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: `arn:aws:kms:us-east-1:${account}:key/*` },
    { Sid: 'RotationHistory', Effect: 'Allow', Action: ['lockstep:GetRotationHistory', 'lockstep:ListEvents'], Resource: A('prod/payments/*') },
    { Sid: 'DenyFraudTagged', Effect: 'Deny', Action: sm('GetSecretValue'), Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/team': 'fraud' } } },
    { Sid: 'ReadSharedTagged', Effect: 'Allow', Action: sm('GetSecretValue'), Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/shared': 'true' } } },
    { Sid: 'DenyAfterReview', Effect: 'Deny', Action: sm('*'), Resource: '*', Condition: { DateGreaterThan: { 'aws:CurrentTime': '2099-01-01T00:00:00Z' } } },
  ];
  return { doc: { Version: '2012-10-17', Statement: statements }, granting: 14 };
}

/**
 * The secret's resource policy: the seed's (the rotation role may read and write AWSCURRENT and
 * AWSPENDING), an explicit Deny for a contractor user, and a Deny of writes by anyone but the rotation role.
 */
export function resourcePolicy(account: string): Record<string, unknown> {
  const rotationRole = `arn:aws:iam::${account}:role/rotation-lambda-role`;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: rotationRole },
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
        Resource: '*',
        Condition: { StringEquals: { 'secretsmanager:VersionStage': ['AWSCURRENT', 'AWSPENDING'] } },
      },
      { Sid: 'DenyContractor', Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${account}:user/contractor` }, Action: 'secretsmanager:*', Resource: '*' },
      {
        Sid: 'OnlyRotationWrites', Effect: 'Deny', Principal: { AWS: '*' },
        Action: ['secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'], Resource: '*',
        Condition: { StringNotEquals: { 'aws:PrincipalArn': rotationRole } },
      },
    ],
  };
}

// ------------------------------------------------------------------------------------ IAM and STS calls

/** One IAM or STS Query call (form-encoded, SigV4 for the service); the XML answer, which must be 200. */
async function query(client: RawClient, endpoint: string, creds: Keys, service: 'iam' | 'sts', params: Record<string, string>): Promise<string> {
  const url = new URL(endpoint);
  const body = new URLSearchParams({ Version: service === 'iam' ? '2010-05-08' : '2011-06-15', ...params }).toString();
  const sv4 = new SignatureV4({ service, region: 'us-east-1', credentials: creds, sha256: NodeSha256, applyChecksum: false });
  const signed = await sv4.sign({
    method: 'POST', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: '/', query: {},
    headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) },
    body,
  });
  const r = await client.send({ method: 'POST', path: '/', headers: signed.headers as Record<string, string>, body });
  if (r.status !== 200) throw new Error(`${service} ${params.Action}: ${r.status} ${r.body.slice(0, 400)}`);
  return r.body;
}

const xmlTag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

async function createUser(client: RawClient, endpoint: string, root: Keys, name: string, policy: Record<string, unknown>): Promise<Keys> {
  await query(client, endpoint, root, 'iam', { Action: 'CreateUser', UserName: name });
  await query(client, endpoint, root, 'iam', { Action: 'PutUserPolicy', UserName: name, PolicyName: name, PolicyDocument: JSON.stringify(policy) });
  const xml = await query(client, endpoint, root, 'iam', { Action: 'CreateAccessKey', UserName: name });
  return { accessKeyId: xmlTag(xml, 'AccessKeyId')!, secretAccessKey: xmlTag(xml, 'SecretAccessKey')! };
}

// ------------------------------------------------------------------------------------------ checks

function errorOf(r: Reply): { code?: string; message?: string } {
  try {
    const j = JSON.parse(r.body) as { __type?: string; message?: string; Message?: string };
    return { code: j.__type?.split('#').pop(), message: j.message ?? j.Message };
  } catch {
    return { message: r.body.slice(0, 300) };
  }
}

async function check(client: RawClient, name: string, expected: string, req: SignedRequest, want: (r: Reply) => boolean): Promise<AuthzCheck> {
  const r = await client.send(req);
  const e = r.status === 200 ? {} : errorOf(r);
  const c: AuthzCheck = { name, expected, status: r.status, ...e, ok: want(r) };
  log(`authz check: ${name}: ${r.status}${e.code ? ` ${e.code}` : ''}${c.ok ? '' : ` (expected ${expected}) ${e.message ?? r.body.slice(0, 200)}`}`);
  return c;
}

const deniedWith = (tail: RegExp) => (r: Reply) => r.status === 400 && errorOf(r).code === 'AccessDeniedException' && tail.test(errorOf(r).message ?? '');

// ------------------------------------------------------------------------------------------- audit

/** Reads the audit trail of a data directory while the server writes it (WAL: a reader sees committed batches). */
class AuditReader {
  private readonly db: Database.Database;
  constructor(dataDir: string) {
    this.db = new Database(join(dataDir, 'lockstep.sqlite'), { readonly: true, fileMustExist: true });
  }
  head(): number {
    return (this.db.prepare('SELECT coalesce(max(seq), 0) AS m FROM audit').get() as { m: number }).m;
  }
  /** Waits until no record has been added for 200 ms (the requests in flight when a run stopped are answered and recorded). */
  async settle(): Promise<number> {
    let h = this.head();
    for (;;) {
      await new Promise((r) => setTimeout(r, 200));
      const n = this.head();
      if (n === h) return n;
      h = n;
    }
  }
  /**
   * The records in (from, to]: how many are not `principal`'s successful action on the secret, and the
   * decisions. (Root's records name the secret as the call did; the others', by the ARN the decision was about.)
   */
  window(from: number, to: number, principal: string, action: string, secret: { name: string; arn: string }): { foreign: number; decisions: Record<string, number> } {
    const rows = this.db.prepare(
      `SELECT json_extract(record, '$.principal') = ? AND json_extract(record, '$.action') = ? AND json_extract(record, '$.resource') IN (?, ?)
              AND json_extract(record, '$.outcome') = 'success' AS mine,
              json_extract(record, '$.decision.effect') || ': ' || json_extract(record, '$.decision.reason') AS decision, count(*) AS n
         FROM audit WHERE seq > ? AND seq <= ? GROUP BY 1, 2`,
    ).all(principal, action, secret.name, secret.arn, from, to) as { mine: number; decision: string | null; n: number }[];
    const decisions: Record<string, number> = {};
    let foreign = 0;
    for (const r of rows) {
      if (!r.mine) foreign += r.n;
      else decisions[r.decision ?? '(none)'] = (decisions[r.decision ?? '(none)'] ?? 0) + r.n;
    }
    return { foreign, decisions };
  }
  /** Why the last successful `action` of a principal was allowed, as its record says. */
  lastAllowed(principal: string, action: string): string {
    const row = this.db.prepare(
      `SELECT json_extract(record, '$.decision.reason') AS reason FROM audit
        WHERE json_extract(record, '$.principal') = ? AND json_extract(record, '$.action') = ? AND json_extract(record, '$.outcome') = 'success'
        ORDER BY seq DESC LIMIT 1`,
    ).get(principal, action) as { reason: string } | undefined;
    return row?.reason ?? '';
  }
  close(): void {
    this.db.close();
  }
}

// --------------------------------------------------------------------------------------------- run

function combine(runs: { load: LoadResult; records: number; foreign: number; decisions: Record<string, number> }[]): AuthzSide {
  const loads = runs.map((r) => r.load);
  const decisions: Record<string, number> = {};
  for (const r of runs) for (const [k, n] of Object.entries(r.decisions)) decisions[k] = (decisions[k] ?? 0) + n;
  return {
    ...combineLoads(loads),
    auditRecords: runs.reduce((a, r) => a + r.records, 0),
    answered: loads.reduce((a, r) => a + r.requests + r.warmupRequests, 0),
    foreignRecords: runs.reduce((a, r) => a + r.foreign, 0),
    decisions,
  };
}

export async function runAuthz(opts: LoadMatrix & {
  dataDir: string;
  creds: Creds;
}): Promise<AuthzResult> {
  const t0 = process.hrtime.bigint();
  const lockstep: ChildServer = await startLockstepChild(opts.dataDir, opts.creds);
  log(`authz: lockstep listening on ${lockstep.url} (pid ${lockstep.pid})`);
  const client = new RawClient(lockstep.url, 4);
  let reader: AuditReader | undefined;
  try {
    // The secret (tagged, as the policies' conditions expect) and its resource policy, as root.
    const sdk = new SecretsManagerClient({ endpoint: lockstep.url, region: 'us-east-1', credentials: opts.creds, maxAttempts: 1 });
    const created = await sdk.send(new CreateSecretCommand({ Name: AUTHZ_SECRET, SecretString: benchSecretString(), Tags: TAGS }));
    const arn = created.ARN!;
    const account = arn.split(':')[4];
    const rp = resourcePolicy(account);
    await sdk.send(new PutResourcePolicyCommand({ SecretId: AUTHZ_SECRET, ResourcePolicy: JSON.stringify(rp), BlockPublicPolicy: true }));
    sdk.destroy();

    // The role with its 20-statement policy, and a session of it. A user's inline policies may hold at
    // most 2,048 characters in all (IAM's quota, which Lockstep keeps); these 20 statements need more, so
    // they sit where such a policy lives on AWS too: on a role (10,240), which the application assumes.
    const { doc, granting } = identityPolicy(account);
    const roleArn = `arn:aws:iam::${account}:role/${ROLE}`;
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'sts:AssumeRole' }] };
    await query(client, lockstep.url, opts.creds, 'iam', { Action: 'CreateRole', RoleName: ROLE, AssumeRolePolicyDocument: JSON.stringify(trust) });
    const docText = JSON.stringify(doc);
    await query(client, lockstep.url, opts.creds, 'iam', { Action: 'PutRolePolicy', RoleName: ROLE, PolicyName: POLICY_NAME, PolicyDocument: docText });
    const xml = await query(client, lockstep.url, opts.creds, 'sts', {
      Action: 'AssumeRole', RoleArn: roleArn, RoleSessionName: 'bench', DurationSeconds: '3600',
    });
    const session: Keys = { accessKeyId: xmlTag(xml, 'AccessKeyId')!, secretAccessKey: xmlTag(xml, 'SecretAccessKey')!, sessionToken: xmlTag(xml, 'SessionToken')! };
    const sessionArn = xmlTag(xml, 'Arn')!;
    // Two users to show the decision is real: one whose policy grants other secrets only, one whose
    // policy grants everything but whom the secret's resource policy denies.
    const reporting = await createUser(client, lockstep.url, opts.creds, 'reporting', {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: `arn:aws:secretsmanager:us-east-1:${account}:secret:reporting/*` },
        { Effect: 'Allow', Action: ['secretsmanager:DescribeSecret', 'secretsmanager:ListSecrets'], Resource: '*' },
      ],
    });
    const contractor = await createUser(client, lockstep.url, opts.creds, 'contractor', {
      Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' }],
    });
    log(`authz: secret ${arn}; role ${roleArn} (${(doc.Statement as unknown[]).length} statements, ${docText.length} characters), session ${sessionArn}`);

    const rootSigner = new Signer(lockstep.url, opts.creds);
    const sessionSigner = new Signer(lockstep.url, session);
    const gsv = { SecretId: AUTHZ_SECRET };
    const rootReply = await client.send(await rootSigner.sign('GetSecretValue', gsv));
    if (rootReply.status !== 200) throw new Error(`authz: root's GetSecretValue answered ${rootReply.status}: ${rootReply.body.slice(0, 300)}`);
    const checks: AuthzCheck[] = [
      await check(client, `${ROLE} session reads ${AUTHZ_SECRET}`, '200, the same answer as root\'s', await sessionSigner.sign('GetSecretValue', gsv),
        (r) => r.status === 200 && r.body === rootReply.body),
      await check(client, `${ROLE} session reads its AWSPENDING stage`, 'AccessDeniedException, explicit deny in the identity policy',
        await sessionSigner.sign('GetSecretValue', { ...gsv, VersionStage: 'AWSPENDING' }), deniedWith(/with an explicit deny in an identity-based policy$/)),
      await check(client, 'user reporting (no grant on the secret) reads it', 'AccessDeniedException, no identity-based policy allows',
        await new Signer(lockstep.url, reporting).sign('GetSecretValue', gsv), deniedWith(/because no identity-based policy allows the secretsmanager:GetSecretValue action$/)),
      await check(client, 'user contractor (secretsmanager:* on *) reads it', 'AccessDeniedException, explicit deny in the resource policy',
        await new Signer(lockstep.url, contractor).sign('GetSecretValue', gsv), deniedWith(/with an explicit deny in a resource-based policy$/)),
    ];
    if (!checks[0].ok) throw new Error(`authz: the session's GetSecretValue answered ${checks[0].status} ${checks[0].code ?? ''} ${checks[0].message ?? ''}`);

    reader = new AuditReader(opts.dataDir);
    await reader.settle();
    const grantReason = reader.lastAllowed(sessionArn, 'secretsmanager:GetSecretValue');
    const grantingStatement = Number(/^Allowed by statement (\d+)/.exec(grantReason)?.[1] ?? NaN) || undefined;
    log(`authz: the audit trail says: ${grantReason}`);

    const sides = { root: { arn: 'root', signer: rootSigner }, principal: { arn: sessionArn, signer: sessionSigner } } as const;
    const rows: AuthzRow[] = [];
    let toolName = opts.tool as string;
    let recordsDuringRuns = 0;
    for (const [i, c] of opts.concurrencies.entries()) {
      const runs: Record<'root' | 'principal', Parameters<typeof combine>[0]> = { root: [], principal: [] };
      for (let round = 0; round < opts.rounds; round++) {
        const order: ('root' | 'principal')[] = (round + i) % 2 === 0 ? ['root', 'principal'] : ['principal', 'root'];
        for (const which of order) {
          const side = sides[which];
          // A fresh signature per run: the server accepts a signing time up to 5 minutes old.
          const req = await side.signer.sign('GetSecretValue', gsv);
          const before = reader.head();
          const load = await runLoad(opts.tool, {
            server: lockstep, req, connections: c, durationS: opts.durationS, warmupS: opts.warmupS,
            workers: opts.workers, threads: opts.threads, tmpDir: opts.tmpDir,
          });
          const after = await reader.settle();
          const w = reader.window(before, after, side.arn, 'secretsmanager:GetSecretValue', { name: AUTHZ_SECRET, arn });
          toolName = load.tool;
          recordsDuringRuns += after - before;
          runs[which].push({ load, records: after - before, ...w });
          log(
            `authz c=${c} ${which === 'root' ? 'root key     ' : `${ROLE} session`} ${load.rps.toFixed(0).padStart(6)} req/s  p50 ${load.p50Ms.toFixed(2)} ms  ` +
              `p99 ${load.p99Ms.toFixed(2)} ms  non-2xx ${load.non2xx}  errors ${load.errors}  server CPU ${load.serverCpuPct.toFixed(0)}%  ` +
              `generator CPU ${load.generatorCpuPct.toFixed(0)}%  audit records ${after - before} for ${load.requests + load.warmupRequests} answers`,
          );
        }
      }
      const root = combine(runs.root);
      const principal = combine(runs.principal);
      rows.push({ connections: c, root, principal, ratio: principal.rps / root.rps, cpuRatio: principal.cpuUsPerRequest / root.cpuUsPerRequest });
    }
    const totalRecords = reader.head();
    reader.close();
    reader = undefined;
    await lockstep.stop();

    // The whole trail, checked by the CLI as an operator would, with the server stopped.
    const v0 = process.hrtime.bigint();
    const out = spawnSync(process.execPath, ['dist/cli/main.js', 'audit', 'verify', '--data-dir', opts.dataDir], { cwd: ROOT, env: baseEnv(), encoding: 'utf8' });
    const output = `${out.stdout}${out.stderr}`.trim();
    const verified = /^ok: (\d+) records, chain intact/m.exec(out.stdout);
    const verify = { ok: out.status === 0 && verified !== null, records: verified ? Number(verified[1]) : NaN, output, seconds: since(v0) };
    log(`authz: lockstep audit verify: ${output.split('\n').pop()}`);

    const answeredDuringRuns = rows.reduce((a, r) => a + r.root.answered + r.principal.answered, 0);
    const statements = doc.Statement as { Effect: string; Condition?: unknown }[];
    return {
      seconds: since(t0),
      tool: toolName,
      durationS: opts.durationS,
      warmupS: opts.warmupS,
      responseBytes: Buffer.byteLength(rootReply.body),
      secret: { name: AUTHZ_SECRET, arn, tags: Object.fromEntries(TAGS.map((t) => [t.Key, t.Value])) },
      principal: {
        arn: sessionArn,
        kind: 'assumed-role',
        roleArn,
        identityPolicy: {
          name: POLICY_NAME,
          statements: statements.length,
          allow: statements.filter((s) => s.Effect === 'Allow').length,
          deny: statements.filter((s) => s.Effect === 'Deny').length,
          withConditions: statements.filter((s) => s.Condition !== undefined).length,
          chars: docText.length,
        },
        grantingStatement,
        expectedGrantingStatement: granting,
        grantReason,
      },
      resourcePolicy: { statements: (rp.Statement as unknown[]).length, chars: JSON.stringify(rp).length },
      checks,
      rows,
      audit: { totalRecords, recordsDuringRuns, answeredDuringRuns, verify },
    };
  } finally {
    reader?.close();
    client.close();
    await lockstep.stop();
  }
}
