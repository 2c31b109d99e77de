// Part 1: GetSecretValue with real SigV4 signatures against Lockstep, next to a bare node:http
// server answering the same bytes, at several concurrencies, with the same generator and settings.
import { randomBytes } from 'node:crypto';
import type { ChildServer } from './children.js';
import { RawClient } from './http.js';
import { runLoad, type LoadMatrix, type LoadResult } from './load.js';
import type { Signer } from './sign.js';
import { log, median } from './stats.js';

export const GSV_SECRET = 'bench/get-secret-value';

/** The value GetSecretValue returns in the bench: a typical database credential. */
export function benchSecretString(): string {
  return JSON.stringify({
    engine: 'postgres', host: 'db.internal.example.com', port: 5432, dbname: 'app',
    username: 'app', password: randomBytes(24).toString('base64'),
  });
}

/** The combined figures of one server at one concurrency (one or more rounds). */
export interface ServerFigures {
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
  non2xx: number;
  errors: number;
  serverCpuPct: number;
  /** CPU time of the server per request, in microseconds. */
  cpuUsPerRequest: number;
  generatorCpuPct: number;
  rounds: LoadResult[];
}

export interface GsvRow {
  connections: number;
  /** Lockstep's server processes (`serve --workers`); the bare server is always one. */
  serverWorkers: number;
  lockstep: ServerFigures;
  bare: ServerFigures;
  /** lockstep rps / bare rps. */
  ratio: number;
}

export interface GsvResult {
  tool: string;
  durationS: number;
  warmupS: number;
  responseBytes: number;
  rows: GsvRow[];
}

/** The figures of several load runs taken together: request-weighted rate and CPU, median latencies. */
export function combineLoads(runs: LoadResult[]): ServerFigures {
  const requests = runs.reduce((a, r) => a + r.requests, 0);
  const seconds = runs.reduce((a, r) => a + r.durationS, 0);
  const cpuS = runs.reduce((a, r) => a + (r.serverCpuPct / 100) * r.durationS, 0);
  return {
    rps: requests / seconds,
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p90Ms: median(runs.map((r) => r.p90Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    maxMs: Math.max(...runs.map((r) => r.maxMs)),
    requests,
    non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    serverCpuPct: (cpuS / seconds) * 100,
    cpuUsPerRequest: (cpuS / Math.max(1, requests)) * 1e6,
    generatorCpuPct: runs.reduce((a, r) => a + r.generatorCpuPct * r.durationS, 0) / seconds,
    rounds: runs,
  };
}

/** One signed GetSecretValue: the body of a 200 with a SecretString, or an error. */
export async function fetchGsv(server: ChildServer, signer: Signer): Promise<string> {
  const client = new RawClient(server.url, 1);
  try {
    const r = await client.send(await signer.sign('GetSecretValue', { SecretId: GSV_SECRET }));
    if (r.status !== 200 || !r.body.includes('"SecretString"')) {
      throw new Error(`${server.name}: GetSecretValue answered ${r.status}: ${r.body.slice(0, 300)}`);
    }
    return r.body;
  } finally {
    client.close();
  }
}

/** Runs the matrix: for each concurrency, bare and Lockstep back to back (order alternating per round). */
export async function runGsv(opts: LoadMatrix & {
  lockstep: ChildServer;
  bare: ChildServer;
  signer: Signer;
  responseBytes: number;
  serverWorkers: number;
}): Promise<GsvResult> {
  const rows: GsvRow[] = [];
  let toolName = opts.tool as string;
  for (const c of opts.concurrencies) {
    const runs: Record<'lockstep' | 'bare', LoadResult[]> = { lockstep: [], bare: [] };
    for (let round = 0; round < opts.rounds; round++) {
      // A fresh signature per round: the server accepts a signing time up to 5 minutes old.
      const req = await opts.signer.sign('GetSecretValue', { SecretId: GSV_SECRET });
      const order: ('bare' | 'lockstep')[] = (round + c) % 2 === 0 ? ['bare', 'lockstep'] : ['lockstep', 'bare'];
      for (const which of order) {
        const server = which === 'bare' ? opts.bare : opts.lockstep;
        const r = await runLoad(opts.tool, {
          server, req, connections: c, durationS: opts.durationS, warmupS: opts.warmupS,
          workers: opts.workers, threads: opts.threads, tmpDir: opts.tmpDir,
        });
        toolName = r.tool;
        runs[which].push(r);
        log(
          `GetSecretValue c=${c} ${which === 'lockstep' ? `lockstep x${opts.serverWorkers}` : 'bare       '} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  ` +
            `p99 ${r.p99Ms.toFixed(2)} ms  non-2xx ${r.non2xx}  errors ${r.errors}  server CPU ${r.serverCpuPct.toFixed(0)}%  ` +
            `generator CPU ${r.generatorCpuPct.toFixed(0)}%`,
        );
      }
    }
    const lockstep = combineLoads(runs.lockstep);
    const bare = combineLoads(runs.bare);
    rows.push({ connections: c, serverWorkers: opts.serverWorkers, lockstep, bare, ratio: lockstep.rps / bare.rps });
  }
  return { tool: toolName, durationS: opts.durationS, warmupS: opts.warmupS, responseBytes: opts.responseBytes, rows };
}
