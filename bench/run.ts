// `npm run bench`: Lockstep's performance figures and the targets they are held to.
//
//   npm run bench                      human-readable tables on stdout, progress on stderr
//   npm run -s bench -- --json         one JSON summary on stdout (-s: npm itself prints nothing there)
//   npm run bench -- --profile         CPU profile of the server during GetSecretValue at c=64
//   npm run bench -- --help            all options
//
// The servers under test run as child processes (`node dist/cli/main.js serve`, and a bare node:http
// server for comparison); this process only generates load (autocannon, or wrk with --tool wrk).
// Parts 4 (rotation) and 5 (db) are the exception: module rotation functions are in-process handlers, so
// those parts start their servers in this process (startLockstep); part 5 also starts a private PostgreSQL
// cluster and uses the machine's MariaDB. Part 6 (cache) times SecretCache hits in this process, then
// loads `lockstep agent` (a child process) next to GetSecretValue on its own server. Part 7 (authz) loads
// GetSecretValue signed by a role session under a 20-statement policy next to the root key, on its own server.
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startBareChild, startLockstepChild, stopAllChildren } from './lib/children.js';
import { GSV_SECRET, benchSecretString, fetchGsv, runGsv, type GsvResult } from './lib/gsv.js';
import { runLoad, wrkAvailable, type LoadResult, type Tool } from './lib/load.js';
import { runList, type ListResult } from './lib/list.js';
import { runWrites, type WritesResult } from './lib/writes.js';
import { runRotation, type RotationResult, type RotationThroughput } from './lib/rotation.js';
import { cleanupDb, runDbRotation, type DbEngineResult, type DbResult } from './lib/db-rotation.js';
import { runCache, type CacheResult } from './lib/cache.js';
import { runAuthz, type AuthzResult } from './lib/authz.js';
import { summariseProfile, type ProfileSummary } from './lib/profile.js';
import { Signer } from './lib/sign.js';
import { log, since } from './lib/stats.js';

// The SDK warns on stderr about Node 20 at the first client; the bench's stderr is for its progress.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const HELP = `npm run bench -- [options]

  --json                   print one JSON summary on stdout and nothing else (use npm run -s)
  --out <file>             also write the JSON summary to a file
  --tool <t>               autocannon | wrk | auto (wrk if installed, else autocannon)   [autocannon]
                           autocannon measures steady state on warmed-up connections; wrk opens new
                           connections for every measured run, so its p99 includes connection ramp-up
  --workers <n>            autocannon worker threads (0: generator on the main thread)   [0]
  --server-workers <list>  Lockstep server processes (serve --workers) to measure         [1,2]
  --threads <n>            wrk threads                                                   [1]
  --concurrency <list>     GetSecretValue connections                                    [1,16,64]
  --duration <s>           seconds measured per GetSecretValue run                       [5]
  --warmup <s>             seconds of warm-up before each run (not measured)             [1]
  --rounds <n>             runs per server and concurrency, order alternating            [1]
  --writes <n>             CreateSecret and then PutSecretValue calls through the SDK    [2000]
  --write-concurrency <n>  SDK calls in flight                                           [16]
  --secrets <n>            secrets for the ListSecrets walk                              [100000]
  --seed <m>               auto | http | inproc: how those secrets are created           [auto]
  --seed-budget <s>        auto: seed in-process when HTTP would take longer             [90]
  --rotations <n>          secrets rotated with the trivial module function (and at most
                           with the python one)                                          [1000]
  --rotation-concurrency <n>  RotateSecret calls in flight (module function)             [16]
  --python-budget <s>      seconds for the python rotations; fewer are run if the rate
                           measured over the first ones says all would take longer       [40]
  --python-concurrency <n> python rotations in flight                                    [4]
  --tick-secrets <n>       scheduled secrets for the scheduler's tick                    [100000]
  --db-users <n>           db: single-user secrets, and alternating-user pairs, rotated
                           per engine (PostgreSQL, MariaDB) with the built-in functions  [200]
  --cache-gets <n>         cache: gets per timed round of the hit-cost loops             [1000000]
  --cache-rounds <n>       cache: timed rounds of each hit-cost loop (median reported)   [5]
  --cache-concurrency <list>  cache: connections for the agent and direct GetSecretValue [16,64]
  --authz-concurrency <list>  authz: connections for the role session and the root key   [16,64]
  --only <parts>           any of gsv,writes,list,rotation,db,cache,authz                [all]
  --profile                only profile both servers (node --cpu-prof) under GetSecretValue
                           at the highest concurrency and summarise where the time goes
  --top <n>                rows per profile table                                        [20]
  --keep                   keep the temporary data and profile directory
`;

const { values: a } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    out: { type: 'string' },
    tool: { type: 'string', default: 'autocannon' },
    workers: { type: 'string', default: '0' },
    'server-workers': { type: 'string', default: '1,2' },
    threads: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '1,16,64' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '1' },
    writes: { type: 'string', default: '2000' },
    'write-concurrency': { type: 'string', default: '16' },
    secrets: { type: 'string', default: '100000' },
    seed: { type: 'string', default: 'auto' },
    'seed-budget': { type: 'string', default: '90' },
    rotations: { type: 'string', default: '1000' },
    'rotation-concurrency': { type: 'string', default: '16' },
    'python-budget': { type: 'string', default: '40' },
    'python-concurrency': { type: 'string', default: '4' },
    'tick-secrets': { type: 'string', default: '100000' },
    'db-users': { type: 'string', default: '200' },
    'cache-gets': { type: 'string', default: '1000000' },
    'cache-rounds': { type: 'string', default: '5' },
    'cache-concurrency': { type: 'string', default: '16,64' },
    'authz-concurrency': { type: 'string', default: '16,64' },
    only: { type: 'string', default: 'gsv,writes,list,rotation,db,cache,authz' },
    profile: { type: 'boolean', default: false },
    top: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (a.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

function int(name: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number >= ${min}`);
  return n;
}
const opts = {
  tool: a.tool as string,
  workers: int('workers', a.workers, 0),
  serverWorkers: (a['server-workers'] as string).split(',').map((w) => int('server-workers', w, 1)),
  threads: int('threads', a.threads, 1),
  concurrencies: (a.concurrency as string).split(',').map((c) => int('concurrency', c, 1)),
  durationS: int('duration', a.duration, 1),
  warmupS: int('warmup', a.warmup, 0),
  rounds: int('rounds', a.rounds, 1),
  writes: int('writes', a.writes, 1),
  writeConcurrency: int('write-concurrency', a['write-concurrency'], 1),
  secrets: int('secrets', a.secrets, 1),
  seed: a.seed as 'auto' | 'http' | 'inproc',
  seedBudgetS: int('seed-budget', a['seed-budget'], 0),
  rotations: int('rotations', a.rotations, 1),
  rotationConcurrency: int('rotation-concurrency', a['rotation-concurrency'], 1),
  pythonBudgetS: int('python-budget', a['python-budget'], 1),
  pythonConcurrency: int('python-concurrency', a['python-concurrency'], 1),
  tickSecrets: int('tick-secrets', a['tick-secrets'], 600),
  dbUsers: int('db-users', a['db-users'], 1),
  cacheGets: int('cache-gets', a['cache-gets'], 1000),
  cacheRounds: int('cache-rounds', a['cache-rounds'], 1),
  cacheConcurrencies: (a['cache-concurrency'] as string).split(',').map((c) => int('cache-concurrency', c, 1)),
  authzConcurrencies: (a['authz-concurrency'] as string).split(',').map((c) => int('authz-concurrency', c, 1)),
  only: new Set((a.only as string).split(',')),
  top: int('top', a.top, 1),
};
if (!['auto', 'wrk', 'autocannon'].includes(opts.tool)) throw new Error('--tool must be auto, wrk or autocannon');
if (!['auto', 'http', 'inproc'].includes(opts.seed)) throw new Error('--seed must be auto, http or inproc');
for (const p of opts.only) if (!['gsv', 'writes', 'list', 'rotation', 'db', 'cache', 'authz'].includes(p)) throw new Error(`--only: unknown part '${p}'`);
const hasWrk = wrkAvailable();
if (opts.tool === 'wrk' && !hasWrk) throw new Error('--tool wrk: wrk is not installed');
const tool: Tool = opts.tool === 'auto' ? (hasWrk ? 'wrk' : 'autocannon') : (opts.tool as Tool);
const toolVersion = tool === 'wrk'
  ? (spawnSync('wrk', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0].split(' [')[0] || 'wrk')
  : `autocannon ${(JSON.parse(readFileSync(new URL('../node_modules/autocannon/package.json', import.meta.url), 'utf8')) as { version: string }).version}`;

// ------------------------------------------------------------------------------------------------ run

const tmp = mkdtempSync(join(tmpdir(), 'lockstep-bench-'));
const creds = {
  accessKeyId: 'LKIABENCH' + randomBytes(8).toString('hex').toUpperCase().slice(0, 11),
  secretAccessKey: randomBytes(30).toString('base64url'),
};
const started = Date.now();
const t0 = process.hrtime.bigint();
const loadAtStart = loadavg()[0];

const stopAll = stopAllChildren;
// The listener stays registered while the cleanup runs (a helper that re-raises a signal nobody else
// listens for would otherwise end the process first); a second signal exits at once.
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${sig}: stopping servers${opts.only.has('db') ? ", dropping the db part's database users and database" : ''}`);
    void Promise.allSettled([stopAll(), cleanupDb()]).finally(() => {
      if (!a.keep) rmSync(tmp, { recursive: true, force: true });
      process.exit(130);
    });
  });
}

/** Starts Lockstep and the bare server for GetSecretValue, with the bench secret created and checked. */
async function gsvServers(profileDir?: string, serverWorkers = 1) {
  const cpuProf = (name: string) => (profileDir ? ['--cpu-prof', '--cpu-prof-dir', join(profileDir, name)] : []);
  const lockstep = await startLockstepChild(join(tmp, `data-main-${serverWorkers}`), creds, cpuProf('lockstep'), serverWorkers);
  log(`lockstep listening on ${lockstep.url} (pid ${lockstep.pid})`);
  const sdk = new SecretsManagerClient({ endpoint: lockstep.url, region: 'us-east-1', credentials: creds, maxAttempts: 1 });
  await sdk.send(new CreateSecretCommand({ Name: GSV_SECRET, SecretString: benchSecretString() }));
  sdk.destroy();
  const signer = new Signer(lockstep.url, creds);
  // The bare server answers exactly the bytes Lockstep answers.
  const sample = await fetchGsv(lockstep, signer);
  const bare = await startBareChild(sample, cpuProf('bare'));
  if ((await fetchGsv(bare, signer)) !== sample) throw new Error('the bare server does not answer what Lockstep answers');
  log(`bare node:http server on ${bare.url} (pid ${bare.pid}), answering the same ${Buffer.byteLength(sample)} bytes`);
  return { lockstep, bare, signer, responseBytes: Buffer.byteLength(sample) };
}

let gsv: GsvResult | undefined;
let writes: WritesResult | undefined;
let list: ListResult | undefined;
let rotation: RotationResult | undefined;
let db: DbResult | undefined;
let cache: CacheResult | undefined;
let authz: AuthzResult | undefined;
let profiles:
  | { connections: number; lockstep: ProfileSummary; bare: ProfileSummary; lockstepRun: LoadResult; bareRun: LoadResult; lockstepCpuUs: number; bareCpuUs: number }
  | undefined;

try {
  log(`load generator: ${toolVersion}${tool === 'wrk' ? ` (${opts.threads} thread${opts.threads > 1 ? 's' : ''})` : opts.workers ? ` (${opts.workers} workers)` : ' (main thread)'}`);
  if (a.profile) {
    const dir = join(tmp, 'profiles');
    const c = Math.max(...opts.concurrencies);
    const s = await gsvServers(dir);
    const req = await s.signer.sign('GetSecretValue', { SecretId: GSV_SECRET });
    const spec = { req, connections: c, durationS: opts.durationS, warmupS: opts.warmupS, workers: opts.workers, threads: opts.threads, tmpDir: tmp };
    const us = () => Number(process.hrtime.bigint() / 1000n); // CLOCK_MONOTONIC, as in V8's profiles
    const l0 = us();
    const rl = await runLoad(tool, { ...spec, server: s.lockstep });
    const l1 = us();
    const rb = await runLoad(tool, { ...spec, server: s.bare });
    const b1 = us();
    log(`profiled c=${c}: lockstep ${rl.rps.toFixed(0)} req/s, bare ${rb.rps.toFixed(0)} req/s`);
    await stopAll();
    const find = (name: string) => {
      const d = join(dir, name);
      const f = readdirSync(d).find((x) => x.endsWith('.cpuprofile'));
      if (!f) throw new Error(`no .cpuprofile written in ${d}`);
      return join(d, f);
    };
    const cpuUs = (r: LoadResult) => ((r.serverCpuPct / 100) * r.durationS * 1e6) / r.requests;
    profiles = {
      connections: c,
      lockstep: summariseProfile(find('lockstep'), { top: opts.top, requests: rl.requests + rl.warmupRequests, window: [l0, l1] }),
      bare: summariseProfile(find('bare'), { top: opts.top, requests: rb.requests + rb.warmupRequests, window: [l1, b1] }),
      lockstepRun: rl,
      bareRun: rb,
      lockstepCpuUs: cpuUs(rl),
      bareCpuUs: cpuUs(rb),
    };
  } else {
    if (opts.only.has('gsv') || opts.only.has('writes')) {
      const s = await gsvServers(undefined, opts.serverWorkers[0]);
      const runFor = (x: typeof s, serverWorkers: number) =>
        runGsv({
          ...x, tool, concurrencies: opts.concurrencies, durationS: opts.durationS, warmupS: opts.warmupS,
          rounds: opts.rounds, workers: opts.workers, threads: opts.threads, tmpDir: tmp, serverWorkers,
        });
      if (opts.only.has('gsv')) gsv = await runFor(s, opts.serverWorkers[0]);
      await s.bare.stop();
      if (opts.only.has('writes')) writes = await runWrites(s.lockstep, creds, opts.writes, opts.writeConcurrency);
      await stopAll();
      if (opts.only.has('gsv') && gsv) {
        for (const w of opts.serverWorkers.slice(1)) {
          const more = await gsvServers(undefined, w);
          gsv.rows.push(...(await runFor(more, w)).rows);
          await stopAll();
        }
      }
    }
    if (opts.only.has('list')) {
      list = await runList({
        dataDir: join(tmp, 'data-list'), creds, secrets: opts.secrets, seedMode: opts.seed,
        seedBudgetS: opts.seedBudgetS, seedConcurrency: 32, repeats: 5,
      });
    }
    if (opts.only.has('rotation')) {
      rotation = await runRotation({
        dataDir: (name) => join(tmp, `data-${name}`), creds, rotations: opts.rotations, concurrency: opts.rotationConcurrency,
        pythonBudgetS: opts.pythonBudgetS, pythonConcurrency: opts.pythonConcurrency, tickSecrets: opts.tickSecrets, tickRepeats: 5,
      });
    }
    if (opts.only.has('db')) {
      db = await runDbRotation({ dataDir: (name) => join(tmp, `data-${name}`), creds, users: opts.dbUsers, concurrency: 16 });
    }
    if (opts.only.has('cache')) {
      cache = await runCache({
        dataDir: join(tmp, 'data-cache'), creds, tool, concurrencies: opts.cacheConcurrencies, durationS: opts.durationS,
        warmupS: opts.warmupS, rounds: opts.rounds, workers: opts.workers, threads: opts.threads, tmpDir: tmp,
        gets: opts.cacheGets, hitRounds: opts.cacheRounds,
      });
    }
    if (opts.only.has('authz')) {
      authz = await runAuthz({
        dataDir: join(tmp, 'data-authz'), creds, tool, concurrencies: opts.authzConcurrencies, durationS: opts.durationS,
        warmupS: opts.warmupS, rounds: opts.rounds, workers: opts.workers, threads: opts.threads, tmpDir: tmp,
      });
    }
  }
} finally {
  await stopAll();
  if (a.keep) log(`kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}

// ------------------------------------------------------------------------------------------- targets

interface Target {
  name: string;
  target: string;
  actual: string;
  /** The measured figure and the bound it is held to (value must be >= or < threshold, per `compare`). */
  value: number;
  threshold: number;
  compare: '>=' | '<';
  unit: string;
  met: boolean;
}
const targets: Target[] = [];
const problems: string[] = [];
const warnings: string[] = [];
if (gsv) {
  for (const r of gsv.rows) {
    const g = Math.max(r.bare.generatorCpuPct, r.lockstep.generatorCpuPct);
    if (g >= 95) warnings.push(`c=${r.connections}: the load generator used ${g.toFixed(0)}% of a core; it may be the bottleneck`);
    if (r.bare.serverCpuPct < 85 && r.connections > 1) {
      warnings.push(`c=${r.connections}: the bare server used only ${r.bare.serverCpuPct.toFixed(0)}% of a core; the generator or the machine held it back`);
    }
  }
  for (const r of gsv.rows) {
    for (const [name, f] of [['lockstep', r.lockstep], ['bare', r.bare]] as const) {
      if (f.non2xx || f.errors) problems.push(`GetSecretValue c=${r.connections} ${name}: ${f.non2xx} non-2xx responses, ${f.errors} errors`);
    }
  }
  for (const row of gsv.rows.filter((r) => r.connections === 64)) {
    const procs = `${row.serverWorkers} process${row.serverWorkers > 1 ? 'es' : ''}`;
    targets.push({
      name: `GetSecretValue c=64 throughput, ${procs}`, target: '>= 50% of bare node:http',
      actual: `${(row.ratio * 100).toFixed(1)}% (${row.lockstep.rps.toFixed(0)} vs ${row.bare.rps.toFixed(0)} req/s)`,
      value: row.ratio, threshold: 0.5, compare: '>=', unit: 'lockstep/bare', met: row.ratio >= 0.5,
    });
    targets.push({
      name: `GetSecretValue c=64 p99, ${procs}`, target: '< 10 ms', actual: `${row.lockstep.p99Ms.toFixed(2)} ms`,
      value: row.lockstep.p99Ms, threshold: 10, compare: '<', unit: 'ms', met: row.lockstep.p99Ms < 10,
    });
  }
}
if (writes) for (const p of writes.phases) if (p.errors) problems.push(`${p.operation}: ${p.errors} failed (${p.firstError})`);
if (list) {
  for (const [which, page] of [['first', list.firstPage], ['last', list.lastPage]] as const) {
    targets.push({
      name: `ListSecrets ${which} page (${list.secrets} secrets)`, target: '< 20 ms',
      actual: `${page.p50Ms.toFixed(2)} ms (p50 of ${page.samplesMs.length})`,
      value: page.p50Ms, threshold: 20, compare: '<', unit: 'ms', met: page.p50Ms < 20,
    });
  }
}

if (rotation) {
  for (const r of [rotation.module, rotation.python]) {
    if ('runtime' in r && r.failed) problems.push(`rotation (${r.runtime} function): ${r.failed} of ${r.rotations} failed (${r.firstError})`);
  }
  if (rotation.tick.due.rotationsFailed) problems.push(`rotation (tick): ${rotation.tick.due.rotationsFailed} scheduled rotations failed`);
  if (rotation.tick.due.startedPerTick.some((n) => n !== rotation!.tick.due.dueSecrets)) {
    problems.push(`rotation (tick): ticks started ${rotation.tick.due.startedPerTick.join(', ')} rotations, expected ${rotation.tick.due.dueSecrets} each`);
  }
}

const dbEngines = (db?.engines ?? []).filter((e): e is DbEngineResult => 'passes' in e);
for (const e of db?.engines ?? []) if ('skipped' in e) warnings.push(`db (${e.engine}): skipped: ${e.skipped}`);
for (const e of dbEngines) {
  if (e.error) problems.push(`db (${e.engine}): stopped early: ${e.error}`);
  for (const p of e.passes) {
    if (p.failed) problems.push(`db (${e.engine} ${p.pass}): ${p.failed} of ${p.rotations} rotations failed (${p.firstError})`);
    if (p.verify.failed) problems.push(`db (${e.engine} ${p.pass}): ${p.verify.failed} of ${p.verify.sampled} secrets checked failed the check (${p.verify.firstError})`);
  }
  if (!e.cleanup.ok) problems.push(`db (${e.engine}): cleanup failed: ${e.cleanup.error}`);
}
for (const r of cache?.agent.rows ?? []) {
  for (const [name, f] of [['agent', r.agent], ['direct GetSecretValue', r.direct]] as const) {
    if (f.non2xx || f.errors) problems.push(`cache c=${r.connections} ${name}: ${f.non2xx} non-2xx responses, ${f.errors} errors`);
  }
  if (r.agent.generatorCpuPct >= 95) warnings.push(`cache c=${r.connections}: the load generator used ${r.agent.generatorCpuPct.toFixed(0)}% of a core against the agent; it may be the bottleneck`);
}

if (authz) {
  for (const c of authz.checks) {
    if (!c.ok) problems.push(`authz check '${c.name}': answered ${c.status}${c.code ? ` ${c.code}` : ''}, expected ${c.expected}`);
  }
  const P = authz.principal;
  if (P.grantingStatement !== P.expectedGrantingStatement) {
    problems.push(`authz: the read was allowed by ${P.grantReason ? `'${P.grantReason}'` : 'no recorded statement'}, expected statement ${P.expectedGrantingStatement}`);
  }
  for (const r of authz.rows) {
    for (const [name, x] of [['root key', r.root], ['role session', r.principal]] as const) {
      if (x.non2xx || x.errors) problems.push(`authz c=${r.connections} ${name}: ${x.non2xx} non-2xx responses, ${x.errors} errors`);
      if (x.auditRecords < x.answered) problems.push(`authz c=${r.connections} ${name}: ${x.auditRecords} audit records for ${x.answered} answered calls`);
      if (x.foreignRecords) problems.push(`authz c=${r.connections} ${name}: ${x.foreignRecords} audit records that are not its successful GetSecretValue`);
      if (x.generatorCpuPct >= 95) warnings.push(`authz c=${r.connections} ${name}: the load generator used ${x.generatorCpuPct.toFixed(0)}% of a core; it may be the bottleneck`);
    }
  }
  const v = authz.audit.verify;
  if (!v.ok) problems.push(`authz: lockstep audit verify failed: ${v.output}`);
  else if (v.records !== authz.audit.totalRecords) problems.push(`authz: audit verify counted ${v.records} records, the trail's head is ${authz.audit.totalRecords}`);
}

const summary = {
  lockstepBench: 1,
  startedAt: new Date(started).toISOString(),
  seconds: since(t0),
  environment: { node: process.version, cpus: cpus().length, loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg()[0] },
  loadGenerator: { tool, version: toolVersion, workers: tool === 'autocannon' ? opts.workers : undefined, threads: tool === 'wrk' ? opts.threads : undefined },
  valid: problems.length === 0,
  problems,
  warnings,
  targets,
  allTargetsMet: targets.length > 0 && targets.every((t) => t.met),
  getSecretValue: gsv,
  writes,
  listSecrets: list,
  rotation,
  dbRotation: db,
  cache,
  authz,
  profile: profiles,
};
if (a.out) writeFileSync(a.out as string, JSON.stringify(summary, null, 2) + '\n');

if (a.json) {
  process.stdout.write(JSON.stringify(summary) + '\n');
} else {
  process.stdout.write(report());
}

// ------------------------------------------------------------------------------------------- report

function report(): string {
  const out: string[] = [];
  const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  // Columns whose cells are all numbers are right-aligned, the others left-aligned.
  const table = (head: string[], rows: string[][]) => {
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const numeric = head.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+]?[\d.,]+(%|x| ms)?$|^-$/.test(r[i])));
    const line = (cells: string[]) => cells.map((c, i) => (numeric[i] ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ').trimEnd();
    out.push(line(head), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map(line));
  };
  out.push(
    `Lockstep bench: node ${process.version}, ${cpus().length} CPUs, load average ${loadAtStart.toFixed(2)} at start, ` +
      `${loadavg()[0].toFixed(2)} at end; ${f(since(t0))} s in all`,
    `Load generated by ${toolVersion}${tool === 'wrk' ? `, ${opts.threads} thread(s)` : opts.workers ? `, ${opts.workers} worker threads` : ', on the main thread'}; ` +
      'servers under test run in their own processes.',
    '',
  );
  if (gsv) {
    out.push(
      `1. GetSecretValue, real SigV4 signature (pre-signed, replayed), ${gsv.responseBytes}-byte response; ` +
        `${gsv.durationS} s measured after ${gsv.warmupS} s warm-up${opts.rounds > 1 ? `, ${opts.rounds} rounds` : ''}.`,
      '   "bare" is a node:http server in its own process answering the same bytes to every request.',
      '   "lockstep xN" is `lockstep serve --workers N`: N server processes sharing the port (the bare server is one).',
      '',
    );
    table(
      ['conc', 'server', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'requests', 'non-2xx', 'errors', 'srv CPU', 'CPU us/req', 'gen CPU'],
      gsv.rows.flatMap((r) =>
        ([[`lockstep x${r.serverWorkers}`, r.lockstep], ['bare', r.bare]] as const).map(([name, x]) => [
          String(r.connections), name, f(x.rps), f(x.p50Ms, 2), f(x.p90Ms, 2), f(x.p99Ms, 2), f(x.maxMs, 1), String(x.requests),
          String(x.non2xx), String(x.errors), `${f(x.serverCpuPct)}%`, f(x.cpuUsPerRequest), `${f(x.generatorCpuPct)}%`,
        ]),
      ),
    );
    out.push('');
    table(['conc', 'lockstep processes', 'lockstep/bare req/s', 'lockstep/bare CPU per request'], gsv.rows.map((r) => [
      String(r.connections), String(r.serverWorkers), `${f(r.ratio * 100, 1)}%`, `${f(r.lockstep.cpuUsPerRequest / r.bare.cpuUsPerRequest, 1)}x`,
    ]));
    out.push(
      '   srv CPU / gen CPU: CPU used by the server / the load generator during the run, in % of one core',
      '   (a server near 100% is the bottleneck). CPU us/req: server CPU time per request.',
      '   At c=1 each server waits for the generator\'s round trip, so compare p50 there rather than req/s.',
      '',
    );
  }
  if (writes) {
    out.push(`2. Writes through the AWS SDK for JavaScript v3, ${writes.concurrency} calls in flight.`, '');
    table(['operation', 'ops', 'seconds', 'ops/s', 'p50 ms', 'p99 ms', 'errors', 'srv CPU', 'SDK CPU'], writes.phases.map((p) => [
      p.operation, String(p.ops), f(p.seconds, 1), f(p.opsPerS), f(p.p50Ms, 1), f(p.p99Ms, 1), String(p.errors), `${f(p.serverCpuPct)}%`, `${f(p.clientCpuPct)}%`,
    ]));
    out.push(`   both together: ${f(writes.combinedOpsPerS)} ops/s`, '');
  }
  if (list) {
    const s = list.seed;
    out.push(
      `3. ListSecrets over ${list.secrets} secrets, MaxResults ${list.pageSize}.`,
      `   seeding (${s.method}): ` +
        [
          s.viaHttp > 0 ? `${s.viaHttp} over HTTP (CreateSecret, 32 in flight) in ${f(s.httpSeconds, 1)} s = ${f(s.httpRatePerS)}/s` +
            (s.viaHttp < s.secrets ? ` (all over HTTP would take ~${f(s.httpProjectedSeconds)} s)` : '') : '',
          s.viaHttp < s.secrets ? `${s.secrets - s.viaHttp} in-process (server code, no HTTP) in ${f(s.inprocSeconds, 1)} s` : '',
        ].filter(Boolean).join('; ') + `; ${f(s.totalSeconds, 1)} s in all`,
      `   walk: ${list.pages} pages, ${list.listed} secrets, ${f(list.walkSeconds, 1)} s; page latency p50 ${f(list.walkPageP50Ms, 2)} ms, ` +
        `p99 ${f(list.walkPageP99Ms, 2)} ms, max ${f(list.walkPageMaxMs, 2)} ms`,
      `   first page: p50 ${f(list.firstPage.p50Ms, 2)} ms of [${list.firstPage.samplesMs.map((x) => f(x, 2)).join(', ')}]`,
      `   last page (${list.lastPage.items} items): p50 ${f(list.lastPage.p50Ms, 2)} ms of [${list.lastPage.samplesMs.map((x) => f(x, 2)).join(', ')}]`,
      `   server RSS: ${f(list.memory.afterStartRssKb / 1024, 1)} MiB after start, ${f(list.memory.afterWalkRssKb / 1024, 1)} MiB after the walk ` +
        `(peak ${f(list.memory.peakRssKb / 1024, 1)} MiB)`,
      '',
    );
  }
  if (rotation) {
    const R = rotation;
    const py = 'runtime' in R.python ? R.python : undefined;
    out.push(
      `4. Rotation, server in this process (startLockstep); ${f(R.seconds, 1)} s in all.`,
      '   module: a JS handler in the server process; createSecret puts a new AWSPENDING value, finishSecret moves',
      '   AWSCURRENT, both through the AWS SDK over HTTP to the server. RotateSecret on every secret, some calls in',
      '   flight; the engine executes up to 16 runs at once and queues the rest.',
      '   python: the same function with boto3 (process runtime: one python3 process per step); a fixed number of',
      '   rotations in flight, the next RotateSecret when one finishes.',
      '   time: first RotateSecret to the last RotationSucceeded; latency: RotateSecret call to its RotationSucceeded',
      '   event (the event log\'s timestamps, read from the store as Lockstep.ListEvents returns them).',
      '',
    );
    const rows = [R.module, ...(py ? [py] : [])];
    table(['function', 'rotations', 'in flight', 'seconds', 'rotations/s', 'p50 ms', 'p99 ms', 'max ms', 'call p50 ms', 'failed', 'CPU', 'child CPU'],
      rows.map((r: RotationThroughput) => [
        r.runtime, String(r.rotations), `${r.concurrency} ${r.runtime === 'module' ? 'calls' : 'rotations'}`, f(r.seconds, 1),
        f(r.rotationsPerS, 1), f(r.p50Ms), f(r.p99Ms), f(r.maxMs), f(r.rotateCallP50Ms, 1), String(r.failed),
        `${f(r.processCpuPct)}%`, `${f(r.childCpuPct)}%`,
      ]));
    if (py?.probe) {
      const p = py.probe;
      out.push(`   python: ${p.rotations} rotations in ${f(p.seconds, 1)} s = ${f(p.ratePerS, 2)}/s at first; ${p.wanted} would take ~${f(p.projectedSecondsForWanted)} s, ` +
        `so ${py.rotations} were run.`);
    }
    if (!py) out.push(`   python: skipped (${(R.python as { skipped: string }).skipped}).`);
    out.push('   CPU: this process (server, engine, module function, SDK clients); child CPU: the python processes. % of one core.', '');
    const t = R.tick;
    out.push(`   Scheduler: engine.tick() over ${t.secrets} scheduled secrets (seeded through the store in one transaction in ${f(t.seedSeconds, 1)} s).`, '');
    table(['tick', 'p50 ms', 'start tx p50 ms', 'samples ms'], [
      ['none due', f(t.idle.p50Ms, 3), f(t.idle.startTxP50Ms, 3), t.idle.samplesMs.map((x) => f(x, 3)).join(', ')],
      [`${t.due.dueSecrets} due (starts ${t.due.dueSecrets})`, f(t.due.p50Ms, 2), f(t.due.startTxP50Ms, 2), t.due.samplesMs.map((x) => f(x, 2)).join(', ')],
    ]);
    out.push(
      '   start tx: the tick\'s first transaction (dueSecrets, then startRun for each due secret). The tick then kicks',
      '   the runs and reads dueRuns; that read queues behind the runs\' first (claim) transactions, and each run\'s',
      '   first step (here the module function\'s first SDK call) starts before it, so the whole tick includes them.',
      '   Each tick\'s rotations finished before the next tick.',
      '',
    );
  }
  if (db) {
    out.push(
      `5. Database rotation with the built-in functions (AWS's names), server in this process; ${f(db.seconds, 1)} s in all.`,
      `   Per engine: ${db.users} single-user secrets, rotated once; ${db.users} alternating-user secrets, rotated twice (the`,
      '   first pass creates the clones <user>_clone, the second switches back to the primaries; both re-synchronise the',
      '   clone\'s privileges: schema/table grants on five tables). RotateSecret on every secret of a pass, ' +
        `${db.concurrency} calls in flight;`,
      '   the engine executes up to 16 runs at once and queues the rest. time: first RotateSecret to the last run\'s finish;',
      '   latency: each run\'s start (in RotateSecret) to its finish, queueing included; exec: first step to finish.',
      '   Both databases check passwords (PostgreSQL: a private cluster with scram-sha-256; MariaDB: the machine\'s server).',
      '',
    );
    const rows = dbEngines.flatMap((e) => e.passes.map((p) => [
      e.engine, p.pass, String(p.rotations), f(p.seconds, 1), f(p.rotationsPerS, 1), f(p.p50Ms), f(p.p99Ms), f(p.maxMs),
      f(p.execP50Ms), String(p.failed), String(p.retriedRuns), `${p.verify.ok}/${p.verify.sampled}`, `${f(p.processCpuPct)}%`,
      Number.isFinite(p.dbServerCpuPct) ? `${f(p.dbServerCpuPct)}%` : '-', `${f(p.machineCpuPct)}%`,
    ]));
    if (rows.length) {
      table(['engine', 'strategy/pass', 'rotations', 'seconds', 'rotations/s', 'p50 ms', 'p99 ms', 'max ms', 'exec p50 ms', 'failed', 'retried',
        'checked ok', 'CPU', 'db CPU', 'machine CPU'], rows);
      out.push('');
      table(['engine', 'strategy/pass', 'createSecret p50 ms', 'setSecret p50 ms', 'testSecret p50 ms', 'finishSecret p50 ms'],
        dbEngines.flatMap((e) => e.passes.map((p) => [
          e.engine, p.pass, f(p.stepP50Ms.createSecret, 1), f(p.stepP50Ms.setSecret, 1), f(p.stepP50Ms.testSecret, 1), f(p.stepP50Ms.finishSecret, 1),
        ])));
      out.push('');
    }
    for (const e of db.engines) {
      if ('skipped' in e) {
        out.push(`   ${e.engine}: skipped (${e.skipped}).`);
        continue;
      }
      out.push(`   ${e.engine}: ${e.server}; set up (users, grants, ${2 * e.users.single + 2} secrets over HTTP) in ${f(e.setupSeconds, 1)} s; ` +
        `cleanup ${e.cleanup.ok ? 'ok' : `FAILED: ${e.cleanup.error}`}${e.error ? `; stopped early: ${e.error}` : ''}.`);
      for (const p of e.passes) {
        if (p.firstError) out.push(`   ${e.engine} ${p.pass}: first error: ${p.firstError}`);
        if (p.verify.firstError) out.push(`   ${e.engine} ${p.pass}: check failed: ${p.verify.firstError}`);
      }
    }
    const checks = dbEngines.flatMap((e) => e.passes).map((p) => `${p.pass}: ${p.verify.checks}`);
    out.push(
      '   checked ok: secrets sampled at random after the pass whose new credentials passed fresh logins:',
      ...[...new Set(checks)].map((c) => `     ${c}`),
      '   retried: runs in which a step needed a second attempt (the engine retries after 2 s, then 4 s, ...).',
      '   CPU: this process (server, engine, built-in functions, SDK client); db CPU: the database server (PostgreSQL: the',
      '   postmaster and its backends; MariaDB: mariadbd, shared with anything else using it); both % of one core.',
      '   machine CPU: every process on the machine, % of all cores.',
      '',
    );
  }
  if (cache) {
    const h = cache.hit;
    const A = cache.agent;
    out.push(
      `6. Secret cache (lockstep/client) and \`lockstep agent\`; ${f(cache.seconds, 1)} s in all. Its own server (a child process).`,
      `   Hit cost, in this process: ${h.gets} gets in a tight loop per round after ${h.warmupGets} untimed ones, ${h.rounds} rounds of each`,
      '   (the order rotating), median; SecretCache reads through the AWS SDK client, one fetch before the loops, TTL 5 minutes.',
      '',
    );
    table(['get', 'ns per get', 'rounds (ns)'], [h.secretCache, h.awaitedMap, h.map].map((x) => [
      x.name, f(x.nsPerGet, x.nsPerGet < 10 ? 1 : 0), x.roundsNs.map((v) => f(v, v < 10 ? 1 : 0)).join(', '),
    ]));
    out.push(
      '',
      `   Agent: GET /secretsmanager/get?secretId=... with the SSRF token header (${A.agentResponseBytes}-byte answer) against`,
      `   \`lockstep agent --ttl-seconds ${A.ttlSeconds}\` (a child process, push on), next to GetSecretValue with a real SigV4 signature straight`,
      `   from the Lockstep server (${A.directResponseBytes}-byte answer); ${A.durationS} s measured after ${A.warmupS} s warm-up each, same generator.`,
      '',
    );
    table(
      ['conc', 'path', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'requests', 'non-2xx', 'errors', 'srv CPU', 'CPU us/req', 'gen CPU'],
      A.rows.flatMap((r) =>
        ([['agent', r.agent], ['GSV direct', r.direct]] as const).map(([name, x]) => [
          String(r.connections), name, f(x.rps), f(x.p50Ms, 2), f(x.p90Ms, 2), f(x.p99Ms, 2), f(x.maxMs, 1), String(x.requests),
          String(x.non2xx), String(x.errors), `${f(x.serverCpuPct)}%`, f(x.cpuUsPerRequest), `${f(x.generatorCpuPct)}%`,
        ]),
      ),
    );
    out.push('');
    table(['conc', 'agent/direct req/s', 'agent/direct CPU per request', 'Lockstep CPU while the agent was loaded'], A.rows.map((r) => [
      String(r.connections), `${f(r.ratio, 2)}x`, `${f(r.agent.cpuUsPerRequest / r.direct.cpuUsPerRequest, 2)}x`, `${f(r.lockstepCpuDuringAgentPct, 1)}%`,
    ]));
    out.push(
      '   srv CPU: the agent process (agent rows) or the Lockstep server (GSV direct rows), % of one core. The agent answers',
      '   from memory: the Lockstep server stays idle while it is loaded.',
      '',
    );
  }
  if (authz) {
    const Z = authz;
    const P = Z.principal;
    const I = P.identityPolicy;
    out.push(
      `7. Authorization: GetSecretValue of ${Z.secret.name} (tags ${Object.entries(Z.secret.tags).map(([k, v]) => `${k}=${v}`).join(', ')}; ${Z.responseBytes}-byte answer) ` +
        `on its own server (a child process); ${f(Z.seconds, 1)} s in all.`,
      `   role session: ${P.arn}, governed by the role's identity policy "${I.name}" (${I.statements} statements: ${I.allow} Allow, ${I.deny} Deny, ` +
        `${I.withConditions} with conditions; ${I.chars} characters)`,
      `   and the secret's resource policy (${Z.resourcePolicy.statements} statements: the seed's, a Deny for user contractor, a Deny of writes by anyone but the rotation role).`,
      `   The audit trail gives its reads as: ${P.grantReason || '(no record)'}.`,
      '   root key: bypasses policies. Both signed once per run (real SigV4, replayed), same connections and generator, ' +
        `${Z.durationS} s measured after ${Z.warmupS} s warm-up${opts.rounds > 1 ? `, ${opts.rounds} rounds` : ''}, order alternating.`,
      '',
    );
    table(['check (one signed request each, before measuring)', 'expected', 'answer', 'ok'], Z.checks.map((c) => [
      c.name, c.expected, `${c.status}${c.code ? ` ${c.code}` : ''}`, c.ok ? 'yes' : 'NO',
    ]));
    out.push('');
    table(
      ['conc', 'principal', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'requests', 'non-2xx', 'errors', 'srv CPU', 'CPU us/req', 'gen CPU', 'audit records'],
      Z.rows.flatMap((r) =>
        ([['root key', r.root], ['role session', r.principal]] as const).map(([name, x]) => [
          String(r.connections), name, f(x.rps), f(x.p50Ms, 2), f(x.p90Ms, 2), f(x.p99Ms, 2), f(x.maxMs, 1), String(x.requests),
          String(x.non2xx), String(x.errors), `${f(x.serverCpuPct)}%`, f(x.cpuUsPerRequest), `${f(x.generatorCpuPct)}%`, String(x.auditRecords),
        ]),
      ),
    );
    out.push('');
    table(['conc', 'session/root req/s', 'session/root CPU per request', 'extra CPU us per request', 'session/root p50', 'session/root p99'], Z.rows.map((r) => [
      String(r.connections), `${f(r.ratio * 100, 1)}%`, `${f(r.cpuRatio, 2)}x`, f(r.principal.cpuUsPerRequest - r.root.cpuUsPerRequest, 1),
      `${f(r.principal.p50Ms / r.root.p50Ms, 2)}x`, `${f(r.principal.p99Ms / r.root.p99Ms, 2)}x`,
    ]));
    const A = Z.audit;
    out.push(
      `   audit records: ${A.recordsDuringRuns} written during the runs (warm-up included) for ${A.answeredDuringRuns} answers the generator received ` +
        '(the rest: calls in flight when a run stopped);',
      `   ${A.totalRecords} in the trail with setup and checks. \`lockstep audit verify\` afterwards (${f(A.verify.seconds, 1)} s): ${A.verify.output.split('\n').pop()}`,
      '   srv CPU: the Lockstep server, % of one core; CPU us/req: its CPU time per request (audit writes included).',
      '',
    );
  }
  if (profiles) {
    const p = profiles;
    const L = p.lockstep;
    const us = (x: number) => f(x, 1);
    out.push(
      `CPU profile (node --cpu-prof) of each server under GetSecretValue at c=${p.connections}, ${opts.warmupS} s warm-up + ${opts.durationS} s, ` +
        'one server loaded at a time; only samples taken under load count.',
      `  lockstep: ${f(p.lockstepRun.rps)} req/s, server CPU ${f(p.lockstepCpuUs)} us per request (/proc); ` +
        `profile: ${f(L.busyMs)} ms busy, ${f(L.idlePct, 1)}% idle, ${us(L.busyUsPerReq)} us busy per request`,
      `  bare:     ${f(p.bareRun.rps)} req/s, server CPU ${f(p.bareCpuUs)} us per request (/proc); ` +
        `profile: ${f(p.bare.busyMs)} ms busy, ${f(p.bare.idlePct, 1)}% idle, ${us(p.bare.busyUsPerReq)} us busy per request`,
      '  (profile time is wall time of the main thread; "% busy" leaves idle out. us/req: per request served under load.)',
      '',
      'Lockstep, top self time:',
      '',
    );
    table(['self us/req', 'self % busy', 'total us/req', 'function', 'where'],
      L.topSelf.map((r) => [us(r.selfUsPerReq), f(r.selfPct, 1), us(r.totalUsPerReq), r.name, r.where]));
    out.push('', 'Lockstep, top inclusive time (the function and everything it calls):', '');
    table(['total us/req', 'total % busy', 'self us/req', 'function', 'where'],
      L.topTotal.map((r) => [us(r.totalUsPerReq), f(r.totalPct, 1), us(r.selfUsPerReq), r.name, r.where]));
    out.push('', "Lockstep, time per file (self: the file's own frames; inclusive: with everything they call):", '');
    table(['self us/req', 'self % busy', 'file'], L.byFile.map((r) => [us(r.selfUsPerReq), f(r.selfPct, 1), r.name]));
    out.push('');
    table(['inclusive us/req', 'incl % busy', 'file'],
      L.byFileInclusive.filter((r) => r.name.startsWith('dist/')).map((r) => [us(r.totalUsPerReq), f(r.totalPct, 1), r.name]));
    out.push('', 'Bare node:http server, top self time:', '');
    table(['self us/req', 'self % busy', 'total us/req', 'function', 'where'],
      p.bare.topSelf.slice(0, 10).map((r) => [us(r.selfUsPerReq), f(r.selfPct, 1), us(r.totalUsPerReq), r.name, r.where]));
    out.push('');
  }
  if (targets.length) {
    out.push('Targets:', '');
    table(['target', 'wanted', 'measured', 'met'], targets.map((t) => [t.name, t.target, t.actual, t.met ? 'yes' : 'NO']));
    out.push('');
  }
  for (const w of warnings) out.push(`warning: ${w}`);
  if (targets.some((t) => !t.met && t.name.startsWith('GetSecretValue'))) {
    out.push('GetSecretValue misses its target: `npm run bench -- --profile` shows where the server spends its time.');
  }
  out.push(problems.length ? `INVALID: ${problems.join('; ')}` : 'All responses were 2xx; no request errors.', '');
  return out.join('\n');
}
