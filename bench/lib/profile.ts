// Summaries of a V8 .cpuprofile (from `node --cpu-prof`): self and inclusive time per function, time
// per source file, all per request, so a hot path can be read without opening DevTools.
import { readFileSync } from 'node:fs';
import { ROOT } from './children.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One row: time in ms, as a share of busy (non-idle) time, and per request when known. */
export interface ProfileRow {
  name: string;
  where: string;
  selfMs: number;
  selfPct: number;
  selfUsPerReq: number;
  totalMs: number;
  totalPct: number;
  totalUsPerReq: number;
}

export interface ProfileSummary {
  file: string;
  /** Sampled time inside the window (all of the profile when no window was given). */
  sampledMs: number;
  busyMs: number;
  idlePct: number;
  requests: number;
  busyUsPerReq: number;
  topSelf: ProfileRow[];
  topTotal: ProfileRow[];
  /** Self time per file (native frames under their own names). */
  byFile: ProfileRow[];
  /** Time under any frame of a file (so a file's callees count): how much each module costs a request. */
  byFileInclusive: ProfileRow[];
}

const PSEUDO = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

function shortUrl(url: string): string {
  if (!url) return '';
  let u = url.replace(/^file:\/\//, '');
  if (u.startsWith(ROOT)) u = u.slice(ROOT.length);
  return u.replace(/^.*node_modules\//, 'node_modules/');
}

/**
 * Summarises a profile. `window` (CLOCK_MONOTONIC microseconds, the clock of process.hrtime and of V8's
 * profile timestamps) keeps only the samples taken under load; `requests` is how many were served then.
 */
export function summariseProfile(file: string, opts: { top?: number; requests?: number; window?: [number, number] } = {}): ProfileSummary {
  const n = opts.top ?? 20;
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of p.nodes) byId.set(node.id, node);
  for (const node of p.nodes) for (const c of node.children ?? []) parent.set(c, node.id);

  const keyOf = (f: ProfileNode['callFrame']) => `${f.functionName || '(anonymous)'}\t${shortUrl(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  const fileOf = (f: ProfileNode['callFrame']) => shortUrl(f.url) || f.functionName || '(native)';

  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const files = new Map<string, number>();
  const filesIncl = new Map<string, number>();
  let sampled = 0;
  let idle = 0;
  // timeDeltas[i] is the time from sample i-1 to sample i; sample i is charged the gap that follows it.
  let at = p.startTime;
  const times = p.samples.map((_, i) => (at += p.timeDeltas[i] ?? 0));
  let inWindow = (t: number) => !opts.window || (t >= opts.window[0] && t <= opts.window[1]);
  if (opts.window && !times.some(inWindow)) inWindow = () => true; // clocks did not line up: use everything
  for (let i = 0; i < p.samples.length; i++) {
    if (!inWindow(times[i])) continue;
    const dt = ((i + 1 < times.length ? times[i + 1] : p.endTime) - times[i]) / 1000;
    const leaf = byId.get(p.samples[i]);
    if (!leaf || dt < 0) continue;
    sampled += dt;
    const lf = leaf.callFrame;
    if (lf.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    const k = keyOf(lf);
    self.set(k, (self.get(k) ?? 0) + dt);
    files.set(fileOf(lf), (files.get(fileOf(lf)) ?? 0) + dt);
    const seen = new Set<string>();
    const seenFiles = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      if (f.functionName === '(root)') continue;
      const nk = keyOf(f);
      if (!seen.has(nk)) {
        seen.add(nk);
        total.set(nk, (total.get(nk) ?? 0) + dt);
      }
      const fk = fileOf(f);
      if (!seenFiles.has(fk)) {
        seenFiles.add(fk);
        filesIncl.set(fk, (filesIncl.get(fk) ?? 0) + dt);
      }
    }
  }
  const busy = Math.max(1e-9, sampled - idle);
  const reqs = opts.requests ?? NaN;
  const row = (k: string, selfMs: number, totalMs: number): ProfileRow => {
    const [name, where = ''] = k.split('\t');
    return {
      name, where, selfMs, selfPct: (selfMs / busy) * 100, selfUsPerReq: (selfMs * 1000) / reqs,
      totalMs, totalPct: (totalMs / busy) * 100, totalUsPerReq: (totalMs * 1000) / reqs,
    };
  };
  const top = (m: Map<string, number>, skip = (_k: string) => false) =>
    [...m.entries()].filter(([k]) => !skip(k)).sort((a, b) => b[1] - a[1]).slice(0, n);
  return {
    file,
    sampledMs: sampled,
    busyMs: busy,
    idlePct: (idle / Math.max(1e-9, sampled)) * 100,
    requests: reqs,
    busyUsPerReq: (busy * 1000) / reqs,
    topSelf: top(self).map(([k, ms]) => row(k, ms, total.get(k) ?? ms)),
    topTotal: top(total, (k) => PSEUDO.has(k.split('\t')[0])).map(([k, ms]) => row(k, self.get(k) ?? 0, ms)),
    byFile: top(files).map(([k, ms]) => row(k, ms, filesIncl.get(k) ?? ms)),
    byFileInclusive: top(filesIncl, (k) => PSEUDO.has(k)).map(([k, ms]) => row(k, files.get(k) ?? 0, ms)),
  };
}
