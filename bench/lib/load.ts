// Fixed-request load generation against a child server: autocannon (always available) or wrk (when
// installed). Each measurement is a warm-up run whose numbers are thrown away, then a measured run.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon, { type Result } from 'autocannon';
import type { ChildServer } from './children.js';
import type { SignedRequest } from './sign.js';

export type Tool = 'autocannon' | 'wrk';

/** How a part loads its servers: the tool, the concurrencies and timings of each run, the generator's processes. */
export interface LoadMatrix {
  tool: Tool;
  concurrencies: number[];
  durationS: number;
  warmupS: number;
  rounds: number;
  workers: number;
  threads: number;
  tmpDir: string;
}

/** One measured run. Latencies in milliseconds, rates per second. */
export interface LoadResult {
  tool: string;
  connections: number;
  durationS: number;
  requests: number;
  /** Requests answered during the warm-up (not part of any figure here). */
  warmupRequests: number;
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** CPU the server process used during the measured run, in % of one core. */
  serverCpuPct: number;
  /** CPU the load generator used during the measured run, in % of one core. */
  generatorCpuPct: number;
}

/** How to load a server. */
export interface LoadSpec {
  server: ChildServer;
  req: SignedRequest;
  connections: number;
  durationS: number;
  warmupS: number;
  /** autocannon only: worker threads (0: run on this thread). */
  workers?: number;
  /** wrk only: threads (default 1; never more than connections). */
  threads?: number;
  tmpDir: string;
}

export function wrkAvailable(): boolean {
  return spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;
}

/** Runs warm-up and measurement with the given tool. */
export async function runLoad(tool: Tool, spec: LoadSpec): Promise<LoadResult> {
  return tool === 'wrk' ? runWrk(spec) : runAutocannon(spec);
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

// ---------------------------------------------------------------------------------------- autocannon

function cannon(spec: LoadSpec, durationS: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: spec.server.url,
        connections: spec.connections,
        duration: durationS,
        pipelining: 1,
        timeout: 10,
        method: spec.req.method,
        headers: spec.req.headers,
        body: spec.req.body,
        ...(spec.workers ? { workers: spec.workers } : {}),
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

async function runAutocannon(spec: LoadSpec): Promise<LoadResult> {
  return spec.workers ? runAutocannonWorkers(spec) : runAutocannonSteady(spec);
}

/**
 * One autocannon run of warm-up + measurement on the same connections; only what completes after the
 * warm-up counts. So the figures are steady state: connection set-up and JIT warm-up are not in them.
 * Latencies are kept exactly (autocannon's own histogram has 1 ms resolution).
 */
async function runAutocannonSteady(spec: LoadSpec): Promise<LoadResult> {
  let lat = new Float64Array(1 << 16);
  let n = 0;
  let warmup = 0;
  let non2xx = 0;
  let errors = 0;
  let timeouts = 0;
  const statusCodes: Record<string, number> = {};
  let measuring = spec.warmupS === 0;
  let cpu0 = spec.server.cpuSeconds();
  let gen0 = process.cpuUsage();
  let t0 = process.hrtime.bigint();
  const startMeasuring = () => {
    measuring = true;
    cpu0 = spec.server.cpuSeconds();
    gen0 = process.cpuUsage();
    t0 = process.hrtime.bigint();
  };
  const timer = spec.warmupS > 0 ? setTimeout(startMeasuring, spec.warmupS * 1000) : undefined;
  await new Promise<Result>((resolve, reject) => {
    const inst = autocannon(
      {
        url: spec.server.url,
        connections: spec.connections,
        duration: spec.warmupS + spec.durationS,
        pipelining: 1,
        timeout: 10,
        method: spec.req.method,
        headers: spec.req.headers,
        body: spec.req.body,
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    inst.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (!measuring) {
        warmup++;
        return;
      }
      if (n === lat.length) {
        const bigger = new Float64Array(lat.length * 2);
        bigger.set(lat);
        lat = bigger;
      }
      lat[n++] = ms;
      statusCodes[status] = (statusCodes[status] ?? 0) + 1;
      if (status < 200 || status > 299) non2xx++;
    });
    inst.on('reqError', (e: Error) => {
      if (!measuring) return;
      errors++;
      if (/timed out/.test(e.message)) timeouts++;
    });
  });
  clearTimeout(timer);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const gen = process.cpuUsage(gen0);
  const cpu1 = spec.server.cpuSeconds();
  const sorted = lat.subarray(0, n).sort();
  return {
    tool: 'autocannon',
    connections: spec.connections,
    durationS: wall,
    requests: n,
    warmupRequests: warmup,
    rps: n / wall,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    maxMs: n ? sorted[n - 1] : NaN,
    non2xx,
    errors,
    timeouts,
    statusCodes,
    serverCpuPct: ((cpu1 - cpu0) / wall) * 100,
    generatorCpuPct: ((gen.user + gen.system) / 1e6 / wall) * 100,
  };
}

/** autocannon with worker threads: a separate warm-up run, then its own (1 ms resolution) histogram. */
async function runAutocannonWorkers(spec: LoadSpec): Promise<LoadResult> {
  const warm = spec.warmupS > 0 ? await cannon(spec, spec.warmupS) : undefined;
  const cpu0 = spec.server.cpuSeconds();
  const gen0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = await cannon(spec, spec.durationS);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const gen = process.cpuUsage(gen0);
  const cpu1 = spec.server.cpuSeconds();
  const statusCodes: Record<string, number> = {};
  let requests = 0;
  for (const [code, { count }] of Object.entries(r.statusCodeStats)) {
    statusCodes[code] = count;
    requests += count;
  }
  return {
    tool: `autocannon (${spec.workers} workers)`,
    connections: spec.connections,
    durationS: r.duration,
    requests,
    warmupRequests: warm ? Object.values(warm.statusCodeStats).reduce((a, s) => a + s.count, 0) : 0,
    rps: requests / r.duration,
    p50Ms: r.latency.p50,
    p90Ms: r.latency.p90,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes,
    serverCpuPct: ((cpu1 - cpu0) / wall) * 100,
    generatorCpuPct: ((gen.user + gen.system) / 1e6 / wall) * 100,
  };
}

// ---------------------------------------------------------------------------------------------- wrk

/** A Lua string literal holding s exactly. */
function lua(s: string): string {
  let out = '"';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9 _.,:;=\/+{}()\-]/.test(c) ? c : `\\${b}`;
  }
  return out + '"';
}

function wrkScript(req: SignedRequest): string {
  const lines = [`wrk.method = ${lua(req.method)}`, `wrk.path = ${lua(req.path)}`, `wrk.body = ${lua(req.body)}`, 'wrk.headers = {}'];
  for (const [k, v] of Object.entries(req.headers)) {
    // wrk.format adds "Host" and "Content-Length" under exactly these spellings unless present.
    const name = k.toLowerCase() === 'host' ? 'Host' : k.toLowerCase() === 'content-length' ? 'Content-Length' : k;
    lines.push(`wrk.headers[${lua(name)}] = ${lua(v)}`);
  }
  lines.push(
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    '  io.write(string.format(\'@@WRK {"durationUs":%d,"requests":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\\n\',',
    '    summary.duration, summary.requests, e.connect, e.read, e.write, e.status, e.timeout,',
    '    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))',
    'end',
  );
  return lines.join('\n') + '\n';
}

/** utime+stime of this process's reaped children, in seconds (cutime + cstime of /proc/self/stat). */
function childrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / 100;
}

function wrk(spec: LoadSpec, durationS: number): Promise<{ out: Record<string, number>; genCpuS: number }> {
  const script = join(spec.tmpDir, `wrk-${process.pid}.lua`);
  writeFileSync(script, wrkScript(spec.req));
  const threads = Math.max(1, Math.min(spec.threads ?? 1, spec.connections));
  const args = ['-t', String(threads), '-c', String(spec.connections), '-d', `${durationS}s`, '--timeout', '10s', '-s', script, spec.server.url];
  return new Promise((resolve, reject) => {
    const before = childrenCpuSeconds();
    const p = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('@@WRK '));
      if (code !== 0 || !line) {
        reject(new Error(`wrk failed (${code}): ${stderr || stdout}`));
        return;
      }
      resolve({ out: JSON.parse(line.slice(6)) as Record<string, number>, genCpuS: childrenCpuSeconds() - before });
    });
  });
}

async function runWrk(spec: LoadSpec): Promise<LoadResult> {
  const warm = spec.warmupS > 0 ? await wrk(spec, spec.warmupS) : undefined;
  const cpu0 = spec.server.cpuSeconds();
  const t0 = process.hrtime.bigint();
  const { out: o, genCpuS } = await wrk(spec, spec.durationS);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = spec.server.cpuSeconds();
  const durationS = o.durationUs / 1e6;
  const threads = Math.max(1, Math.min(spec.threads ?? 1, spec.connections));
  return {
    tool: threads > 1 ? `wrk (${threads} threads)` : 'wrk',
    connections: spec.connections,
    durationS,
    requests: o.requests,
    warmupRequests: warm ? warm.out.requests : 0,
    rps: o.requests / durationS,
    p50Ms: o.p50 / 1000,
    p90Ms: o.p90 / 1000,
    p99Ms: o.p99 / 1000,
    maxMs: o.max / 1000,
    // wrk counts responses with status > 399 (it does not tell 2xx from 3xx; Lockstep sends no 3xx).
    non2xx: o.status,
    errors: o.connect + o.read + o.write + o.timeout,
    timeouts: o.timeout,
    statusCodes: { '2xx/3xx': o.requests - o.status, '>=400': o.status },
    serverCpuPct: ((cpu1 - cpu0) / wall) * 100,
    generatorCpuPct: (genCpuS / wall) * 100,
  };
}
