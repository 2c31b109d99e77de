// Small statistics and logging helpers shared by the bench parts.

/** The p-th percentile (nearest rank) of a list of numbers. */
export function pct(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export function median(values: readonly number[]): number {
  return pct(values, 50);
}

/** Seconds since t0 (a hrtime bigint). */
export function since(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Progress goes to stderr, so `--json` keeps stdout for the summary alone. */
export function log(msg: string): void {
  const t = new Date().toISOString().slice(11, 19);
  process.stderr.write(`[bench ${t}] ${msg}\n`);
}

/** Runs `count` tasks with at most `concurrency` in flight; returns each task's latency in ms and the failures. */
export async function pool(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<{ latenciesMs: number[]; errors: string[]; seconds: number }> {
  const latenciesMs: number[] = [];
  const errors: string[] = [];
  let next = 0;
  const t0 = process.hrtime.bigint();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const s = process.hrtime.bigint();
      try {
        await task(i);
        latenciesMs.push(Number(process.hrtime.bigint() - s) / 1e6);
      } catch (e) {
        errors.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { latenciesMs, errors, seconds: since(t0) };
}
