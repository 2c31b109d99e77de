// Part 3: ListSecrets over many secrets — seeding them, walking every page, timing the first and the
// last page, and the server's memory afterwards.
import { randomUUID } from 'node:crypto';
import { startLockstepChild, type ChildServer } from './children.js';
import { RawClient } from './http.js';
import { Signer, type Creds } from './sign.js';
import { log, median, pct, pool, since } from './stats.js';

export interface SeedResult {
  method: 'http' | 'inproc' | 'http+inproc';
  secrets: number;
  viaHttp: number;
  httpSeconds: number;
  httpRatePerS: number;
  /** What seeding all of them over HTTP would have taken at the measured rate. */
  httpProjectedSeconds: number;
  inprocSeconds: number;
  totalSeconds: number;
}

export interface ListResult {
  secrets: number;
  pageSize: number;
  seed: SeedResult;
  pages: number;
  listed: number;
  walkSeconds: number;
  /** Every page of the walk, once each. */
  walkPageP50Ms: number;
  walkPageP99Ms: number;
  walkPageMaxMs: number;
  firstPage: { p50Ms: number; samplesMs: number[] };
  lastPage: { p50Ms: number; samplesMs: number[]; items: number };
  memory: { afterStartRssKb: number; afterWalkRssKb: number; peakRssKb: number };
}

const secretName = (i: number) => `bench/list/${String(i).padStart(7, '0')}`;
const secretValue = (i: number) => JSON.stringify({ username: `user${i}`, password: randomUUID() });

/** Creates secrets [from, to) concurrently over HTTP, each call signed afresh. */
async function seedHttp(server: ChildServer, creds: Creds, from: number, to: number, concurrency: number): Promise<number> {
  const signer = new Signer(server.url, creds);
  const client = new RawClient(server.url, concurrency);
  try {
    const r = await pool(to - from, concurrency, async (k) => {
      const i = from + k;
      const req = await signer.sign('CreateSecret', { Name: secretName(i), SecretString: secretValue(i), ClientRequestToken: randomUUID() });
      const res = await client.send(req);
      if (res.status !== 200) throw new Error(`CreateSecret ${secretName(i)}: ${res.status} ${res.body.slice(0, 200)}`);
    });
    if (r.errors.length) throw new Error(`${r.errors.length} CreateSecret calls failed; first: ${r.errors[0]}`);
    return to - from;
  } finally {
    client.close();
  }
}

/** Creates secrets [from, to) with the server's own code in this process (no HTTP, no signatures). */
async function seedInProcess(dataDir: string, creds: Creds, from: number, to: number): Promise<void> {
  const { startLockstep } = await import('../../src/server/app.js');
  const { operations } = await import('../../src/secrets/service.js');
  const app = await startLockstep({
    port: 0, host: '127.0.0.1', dataDir, region: 'us-east-1', accountId: '123456789012',
    env: { LOCKSTEP_ROOT_ACCESS_KEY_ID: creds.accessKeyId, LOCKSTEP_ROOT_SECRET_ACCESS_KEY: creds.secretAccessKey },
  });
  try {
    const batch = 256;
    for (let i = from; i < to; i += batch) {
      const jobs: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(to, i + batch); j++) {
        jobs.push(operations.CreateSecret(app.ctx, { Name: secretName(j), SecretString: secretValue(j), ClientRequestToken: randomUUID() }));
      }
      await Promise.all(jobs);
    }
  } finally {
    await app.close();
  }
}

/**
 * Seeds `n` secrets into dataDir. 'auto' starts over HTTP and, when the measured rate says all of them
 * would take longer than budgetS, creates the rest in-process.
 */
async function seed(
  dataDir: string,
  creds: Creds,
  n: number,
  mode: 'auto' | 'http' | 'inproc',
  budgetS: number,
  concurrency: number,
): Promise<SeedResult> {
  const t0 = process.hrtime.bigint();
  let viaHttp = 0;
  let httpSeconds = 0;
  if (mode !== 'inproc') {
    const server = await startLockstepChild(dataDir, creds);
    try {
      const probe = mode === 'http' ? n : Math.min(n, 5000);
      const h0 = process.hrtime.bigint();
      viaHttp += await seedHttp(server, creds, 0, probe, concurrency);
      httpSeconds = since(h0);
      const projected = (httpSeconds / viaHttp) * n;
      log(`seeded ${viaHttp} secrets over HTTP in ${httpSeconds.toFixed(1)} s (${(viaHttp / httpSeconds).toFixed(0)}/s; all ${n} would take ~${projected.toFixed(0)} s)`);
      if (viaHttp < n && projected <= budgetS) {
        const h1 = process.hrtime.bigint();
        viaHttp += await seedHttp(server, creds, viaHttp, n, concurrency);
        httpSeconds += since(h1);
        log(`seeded all ${n} secrets over HTTP in ${httpSeconds.toFixed(1)} s`);
      }
    } finally {
      await server.stop();
    }
  }
  let inprocSeconds = 0;
  if (viaHttp < n) {
    const i0 = process.hrtime.bigint();
    log(`seeding ${n - viaHttp} secrets in-process (server code, no HTTP)`);
    await seedInProcess(dataDir, creds, viaHttp, n);
    inprocSeconds = since(i0);
    log(`seeded ${n - viaHttp} secrets in-process in ${inprocSeconds.toFixed(1)} s`);
  }
  const rate = viaHttp > 0 ? viaHttp / httpSeconds : NaN;
  return {
    method: viaHttp === n ? 'http' : viaHttp === 0 ? 'inproc' : 'http+inproc',
    secrets: n,
    viaHttp,
    httpSeconds,
    httpRatePerS: rate,
    httpProjectedSeconds: n / rate,
    inprocSeconds,
    totalSeconds: since(t0),
  };
}

export async function runList(opts: {
  dataDir: string;
  creds: Creds;
  secrets: number;
  seedMode: 'auto' | 'http' | 'inproc';
  seedBudgetS: number;
  seedConcurrency: number;
  repeats: number;
}): Promise<ListResult> {
  const pageSize = 100;
  const seeded = await seed(opts.dataDir, opts.creds, opts.secrets, opts.seedMode, opts.seedBudgetS, opts.seedConcurrency);

  // A fresh server process on the seeded data: what it holds in memory comes from serving, not seeding.
  const server = await startLockstepChild(opts.dataDir, opts.creds);
  const signer = new Signer(server.url, opts.creds);
  const client = new RawClient(server.url, 1);
  try {
    const afterStartRssKb = server.memory().rssKb;
    const page = async (token?: string) => {
      const req = await signer.sign('ListSecrets', { MaxResults: pageSize, ...(token ? { NextToken: token } : {}) });
      const res = await client.send(req);
      if (res.status !== 200) throw new Error(`ListSecrets answered ${res.status}: ${res.body.slice(0, 300)}`);
      const out = JSON.parse(res.body) as { SecretList: unknown[]; NextToken?: string };
      return { ms: res.ms, items: out.SecretList.length, next: out.NextToken };
    };

    const walk: number[] = [];
    let listed = 0;
    let token: string | undefined;
    let lastToken: string | undefined;
    let lastItems = 0;
    const w0 = process.hrtime.bigint();
    do {
      lastToken = token;
      const p = await page(token);
      walk.push(p.ms);
      listed += p.items;
      lastItems = p.items;
      token = p.next;
    } while (token);
    const walkSeconds = since(w0);
    log(`walked ${walk.length} pages (${listed} secrets) in ${walkSeconds.toFixed(1)} s; page p50 ${pct(walk, 50).toFixed(1)} ms, p99 ${pct(walk, 99).toFixed(1)} ms`);
    if (listed !== opts.secrets) throw new Error(`the walk listed ${listed} secrets, expected ${opts.secrets}`);

    const first: number[] = [];
    const last: number[] = [];
    for (let i = 0; i < opts.repeats; i++) {
      first.push((await page()).ms);
      last.push((await page(lastToken)).ms);
    }
    const mem = server.memory();
    log(`first page p50 ${median(first).toFixed(1)} ms, last page p50 ${median(last).toFixed(1)} ms; server RSS ${(mem.rssKb / 1024).toFixed(0)} MiB`);
    return {
      secrets: opts.secrets,
      pageSize,
      seed: seeded,
      pages: walk.length,
      listed,
      walkSeconds,
      walkPageP50Ms: pct(walk, 50),
      walkPageP99Ms: pct(walk, 99),
      walkPageMaxMs: Math.max(...walk),
      firstPage: { p50Ms: median(first), samplesMs: first },
      lastPage: { p50Ms: median(last), samplesMs: last, items: lastItems },
      memory: { afterStartRssKb, afterWalkRssKb: mem.rssKb, peakRssKb: mem.hwmKb },
    };
  } finally {
    client.close();
    await server.stop();
  }
}
