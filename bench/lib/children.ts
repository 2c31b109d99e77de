// Child processes under test: the Lockstep server (dist/cli/main.js serve) and the bare node:http
// baseline, each on its own event loop and process, so the load generator never shares one with them.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLK_TCK = 100; // USER_HZ on Linux

/** A server running in a child process. */
export interface ChildServer {
  name: string;
  url: string;
  pid: number;
  proc: ChildProcess;
  /** Resident set size in KiB (VmRSS) and its peak (VmHWM), from /proc/<pid>/status. */
  memory(): { rssKb: number; hwmKb: number };
  /** CPU seconds (user + system) the process has used so far, from /proc/<pid>/stat. */
  cpuSeconds(): number;
  /** The last lines it wrote, for error reports. */
  outputTail(): string;
  /** SIGTERM, then wait for exit (SIGKILL after the grace period). */
  stop(graceMs?: number): Promise<number | null>;
}

/** The VmRSS / VmHWM of a process, in KiB. */
export function procMemory(pid: number): { rssKb: number; hwmKb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

/** CPU seconds of a process and its live children (the workers of `lockstep serve --workers N`). */
export function procTreeCpuSeconds(pid: number): number {
  let total = procCpuSeconds(pid);
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === pid) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) total += procCpuSeconds(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** utime + stime of a process in seconds, or NaN when it is gone. */
export function procCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // fields 14 and 15 of stat(5)
  } catch {
    return NaN;
  }
}

const live = new Set<ChildServer>();

/** Stops every child server still running (on exit, interrupt or failure). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop().catch(() => null)));
}

/** Spawns `node <args>` and waits for the JSON log line that carries `url` (on stdout, or on `logStream`). */
export function startChild(
  name: string, nodeArgs: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000, logStream: 'stdout' | 'stderr' = 'stdout',
): Promise<ChildServer> {
  const proc = spawn(process.execPath, nodeArgs, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const remember = (line: string) => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
  };
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));

  return new Promise<ChildServer>((resolve, reject) => {
    let buffered = '';
    let found = false;
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${name} did not report a url within ${timeoutMs} ms:\n${tail.join('\n')}`));
    }, timeoutMs);
    const other = logStream === 'stdout' ? proc.stderr! : proc.stdout!;
    other.setEncoding('utf8').on('data', (d: string) => d.split('\n').filter(Boolean).forEach(remember));
    proc[logStream]!.setEncoding('utf8').on('data', (d: string) => {
      buffered += d;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        remember(line);
        if (found) continue;
        try {
          const rec = JSON.parse(line) as { url?: unknown };
          if (typeof rec.url === 'string') {
            found = true;
            clearTimeout(timer);
            const child = server(rec.url);
            live.add(child);
            void exited.then(() => live.delete(child));
            resolve(child);
          }
        } catch {
          // not a JSON line
        }
      }
    });
    void exited.then((code) => {
      if (!found) {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${code}) before listening:\n${tail.join('\n')}`));
      }
    });

    function server(url: string): ChildServer {
      const pid = proc.pid!;
      return {
        name,
        url,
        pid,
        proc,
        memory: () => procMemory(pid),
        cpuSeconds: () => procTreeCpuSeconds(pid),
        outputTail: () => tail.join('\n'),
        async stop(graceMs = 15_000) {
          if (proc.exitCode === null && proc.signalCode === null) {
            proc.kill('SIGTERM');
            const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
            const code = await exited;
            clearTimeout(t);
            return code;
          }
          return exited;
        },
      };
    }
  });
}

/** This process's environment without LOCKSTEP_* settings, so a developer's own cannot leak into the run. */
export function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LOCKSTEP_') && k !== 'NODE_OPTIONS') env[k] = v;
  return env;
}

/** Starts `lockstep serve` from dist/ on a free port with the given data dir and root key. */
export function startLockstepChild(
  dataDir: string,
  creds: { accessKeyId: string; secretAccessKey: string },
  extraNodeArgs: string[] = [],
  serverWorkers = 1,
): Promise<ChildServer> {
  return startChild(
    'lockstep',
    [...extraNodeArgs, 'dist/cli/main.js', 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--workers', String(serverWorkers)],
    {
      ...baseEnv(),
      LOCKSTEP_ROOT_ACCESS_KEY_ID: creds.accessKeyId,
      LOCKSTEP_ROOT_SECRET_ACCESS_KEY: creds.secretAccessKey,
      LOCKSTEP_LOG_LEVEL: 'info',
    },
  );
}

/** Starts the bare node:http baseline answering `body` to everything. */
export function startBareChild(body: string, extraNodeArgs: string[] = []): Promise<ChildServer> {
  return startChild('bare', [...extraNodeArgs, 'bench/bare-server.mjs'], { ...baseEnv(), BARE_BODY: body });
}
