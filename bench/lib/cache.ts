// Part 6: the cost of a cache hit in SecretCache (lockstep/client), and the throughput of
// `lockstep agent` (the AWS Secrets Manager Agent's HTTP interface over that cache) next to
// GetSecretValue straight from the Lockstep server, with the same load generator in the same run.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretCache } from '../../src/client/cache.js';
import { ROOT, baseEnv, startChild, startLockstepChild, type ChildServer } from './children.js';
import { benchSecretString, combineLoads, type ServerFigures } from './gsv.js';
import { RawClient } from './http.js';
import { runLoad, type LoadMatrix, type LoadResult } from './load.js';
import { Signer, type Creds, type SignedRequest } from './sign.js';
import { log, median, since } from './stats.js';

export const CACHE_SECRET = 'bench/cache-secret';

/** One way of getting a value, timed in a tight loop. */
export interface HitCost {
  name: string;
  /** Median over the rounds, nanoseconds per get. */
  nsPerGet: number;
  roundsNs: number[];
}

/** One side (agent or direct GetSecretValue) at one concurrency, all rounds together. */
/** One side of the comparison (the agent, or the Lockstep server answered directly). */
export type SideFigures = ServerFigures;

export interface AgentRow {
  connections: number;
  agent: SideFigures;
  direct: SideFigures;
  /** agent req/s / direct GetSecretValue req/s. */
  ratio: number;
  /** CPU the Lockstep server used while the agent was loaded (the agent's hits never reach it), % of one core. */
  lockstepCpuDuringAgentPct: number;
}

export interface CacheResult {
  seconds: number;
  hit: {
    gets: number;
    rounds: number;
    warmupGets: number;
    secretCache: HitCost;
    awaitedMap: HitCost;
    map: HitCost;
  };
  agent: {
    tool: string;
    durationS: number;
    warmupS: number;
    /** Bytes of the agent's answer and of GetSecretValue's, for the same secret. */
    agentResponseBytes: number;
    directResponseBytes: number;
    ttlSeconds: number;
    rows: AgentRow[];
  };
}

/** Times `loop(n)` (which performs n gets) in rounds; ns per get of each round. */
async function timeRounds(n: number, rounds: number, loop: (n: number) => Promise<number> | number): Promise<number[]> {
  const out: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    const sink = await loop(n);
    const ns = Number(process.hrtime.bigint() - t0) / n;
    if (sink <= 0) throw new Error('the loop read nothing'); // and keeps the reads from being optimised away
    out.push(ns);
  }
  return out;
}

/** The hit cost of SecretCache next to a Map, in this process. */
async function hitCost(client: SecretsManagerClient, gets: number, rounds: number) {
  const cache = new SecretCache({ client, push: false }); // TTL 5 minutes: no background check during the loops
  try {
    const value = await cache.getString(CACHE_SECRET); // the one fetch
    const map = new Map<string, string>([[CACHE_SECRET, value], ['other', 'x']]);
    const fromMap = async (k: string) => map.get(k)!;
    const loops = {
      secretCache: async (n: number) => {
        let sink = 0;
        for (let i = 0; i < n; i++) sink += (await cache.getString(CACHE_SECRET)).length;
        return sink;
      },
      awaitedMap: async (n: number) => {
        let sink = 0;
        for (let i = 0; i < n; i++) sink += (await fromMap(CACHE_SECRET)).length;
        return sink;
      },
      map: (n: number) => {
        let sink = 0;
        for (let i = 0; i < n; i++) sink += map.get(CACHE_SECRET)!.length;
        return sink;
      },
    };
    const warmupGets = Math.min(gets, 200_000);
    for (const l of Object.values(loops)) await l(warmupGets); // let the JIT settle on each loop
    const samples: Record<keyof typeof loops, number[]> = { secretCache: [], awaitedMap: [], map: [] };
    const names = Object.keys(loops) as (keyof typeof loops)[];
    for (let r = 0; r < rounds; r++) {
      // One round of each per pass, the order rotating, so drift on a shared machine hits all alike.
      for (let k = 0; k < names.length; k++) {
        const name = names[(r + k) % names.length];
        samples[name].push(...(await timeRounds(gets, 1, loops[name])));
      }
    }
    const cost = (name: string, xs: number[]): HitCost => ({ name, nsPerGet: median(xs), roundsNs: xs });
    const result = {
      gets, rounds, warmupGets,
      secretCache: cost('await cache.getString(id)  (SecretCache hit)', samples.secretCache),
      awaitedMap: cost('await of an async function returning Map.get', samples.awaitedMap),
      map: cost('Map.get', samples.map),
    };
    if (cache.stats.fetches !== 1) throw new Error(`the cache fetched ${cache.stats.fetches} times during the hit loops`);
    return result;
  } finally {
    cache.close();
  }
}

/** `lockstep agent` as a child process; its listen line (JSON, on stderr) carries the url. */
function startAgentChild(lockstepUrl: string, creds: Creds, token: string, ttlSeconds: number, timeoutMs = 30_000): Promise<ChildServer> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(baseEnv())) if (!k.startsWith('AWS_')) env[k] = v;
  Object.assign(env, {
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    AWS_TOKEN: token,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: join(ROOT, 'bench', '.no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(ROOT, 'bench', '.no-aws-credentials'),
  });
  const args = [
    'dist/cli/main.js', 'agent', '--port', '0', '--host', '127.0.0.1', '--endpoint', lockstepUrl, '--region', 'us-east-1',
    '--ttl-seconds', String(ttlSeconds),
  ];
  // The agent logs its listen line on stderr; the bench stops it with the other children on any exit.
  return startChild('agent', args, env, timeoutMs, 'stderr');
}

/** Runs part 6 with its own Lockstep server (a child process) and agent. */
export async function runCache(opts: LoadMatrix & {
  dataDir: string;
  creds: Creds;
  gets: number;
  hitRounds: number;
}): Promise<CacheResult> {
  const t0 = process.hrtime.bigint();
  const ttlSeconds = 300;
  const lockstep = await startLockstepChild(opts.dataDir, opts.creds);
  let agent: ChildServer | undefined;
  const sdk = new SecretsManagerClient({ endpoint: lockstep.url, region: 'us-east-1', credentials: { ...opts.creds }, maxAttempts: 1 });
  try {
    log(`cache: lockstep on ${lockstep.url} (pid ${lockstep.pid})`);
    await sdk.send(new CreateSecretCommand({ Name: CACHE_SECRET, SecretString: benchSecretString() }));

    const hit = await hitCost(sdk, opts.gets, opts.hitRounds);
    log(
      `cache: hit ${hit.secretCache.nsPerGet.toFixed(0)} ns/get (SecretCache), ${hit.awaitedMap.nsPerGet.toFixed(0)} ns (awaited Map.get), ` +
        `${hit.map.nsPerGet.toFixed(1)} ns (Map.get); ${opts.gets} gets x ${opts.hitRounds} rounds`,
    );

    const token = randomBytes(24).toString('base64url');
    agent = await startAgentChild(lockstep.url, opts.creds, token, ttlSeconds);
    log(`cache: lockstep agent on ${agent.url} (pid ${agent.pid})`);
    const path = `/secretsmanager/get?secretId=${encodeURIComponent(CACHE_SECRET)}`;
    const first = await fetch(agent.url + path, { headers: { 'X-Aws-Parameters-Secrets-Token': token } });
    const agentBody = await first.text();
    if (first.status !== 200 || !agentBody.includes('"SecretString"')) throw new Error(`the agent answered ${first.status}: ${agentBody.slice(0, 300)}`);
    // The agent answers GET with the token header; autocannon takes the method and path as given.
    // (SignedRequest's type says POST: that is what the other parts send.)
    const agentReq = { method: 'GET', path, headers: { 'X-Aws-Parameters-Secrets-Token': token }, body: '' } as unknown as SignedRequest;
    const agentServer: ChildServer = { ...agent, url: agent.url + path };
    const signer = new Signer(lockstep.url, opts.creds);
    const raw = new RawClient(lockstep.url, 1);
    const direct = await raw.send(await signer.sign('GetSecretValue', { SecretId: CACHE_SECRET })).finally(() => raw.close());
    if (direct.status !== 200) throw new Error(`GetSecretValue answered ${direct.status}: ${direct.body.slice(0, 300)}`);
    const directBody = direct.body;

    const rows: AgentRow[] = [];
    let toolName: string = opts.tool;
    for (const c of opts.concurrencies) {
      const runs: Record<'agent' | 'direct', LoadResult[]> = { agent: [], direct: [] };
      let lockstepCpuS = 0;
      let agentSeconds = 0;
      for (let round = 0; round < opts.rounds; round++) {
        // A fresh signature per round: the server accepts a signing time up to 5 minutes old.
        const directReq = await signer.sign('GetSecretValue', { SecretId: CACHE_SECRET });
        const order: ('agent' | 'direct')[] = (round + c) % 2 === 0 ? ['agent', 'direct'] : ['direct', 'agent'];
        for (const which of order) {
          const spec = {
            connections: c, durationS: opts.durationS, warmupS: opts.warmupS, workers: opts.workers, threads: opts.threads, tmpDir: opts.tmpDir,
          };
          const cpu0 = lockstep.cpuSeconds();
          const r = which === 'agent'
            ? await runLoad(opts.tool, { ...spec, server: agentServer, req: agentReq })
            : await runLoad(opts.tool, { ...spec, server: lockstep, req: directReq });
          if (which === 'agent') {
            lockstepCpuS += lockstep.cpuSeconds() - cpu0;
            agentSeconds += r.durationS + opts.warmupS;
          }
          toolName = r.tool;
          runs[which].push(r);
          log(
            `cache c=${c} ${which === 'agent' ? 'agent      ' : 'GSV direct '} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  ` +
              `p99 ${r.p99Ms.toFixed(2)} ms  non-2xx ${r.non2xx}  errors ${r.errors}  server CPU ${r.serverCpuPct.toFixed(0)}%  ` +
              `generator CPU ${r.generatorCpuPct.toFixed(0)}%`,
          );
        }
      }
      const a = combineLoads(runs.agent);
      const d = combineLoads(runs.direct);
      rows.push({ connections: c, agent: a, direct: d, ratio: a.rps / d.rps, lockstepCpuDuringAgentPct: (lockstepCpuS / agentSeconds) * 100 });
    }
    return {
      seconds: since(t0),
      hit,
      agent: {
        tool: toolName, durationS: opts.durationS, warmupS: opts.warmupS, agentResponseBytes: Buffer.byteLength(agentBody),
        directResponseBytes: Buffer.byteLength(directBody), ttlSeconds, rows,
      },
    };
  } finally {
    sdk.destroy();
    await agent?.stop();
    await lockstep.stop();
  }
}
