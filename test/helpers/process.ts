import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/*
 * The real `lockstep serve` binary (dist/cli/main.js, built by `npm run build`) run as a child
 * process, for tests that need signals, restarts and crashes. Every child and temporary directory
 * made here is remembered, so that `cleanupProcesses()` (call it from an `after` hook) and, as a
 * last resort, the process 'exit' handler never leave a server running.
 */

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The built CLI entry point. */
export const MAIN = join(ROOT, 'dist', 'cli', 'main.js');

/** An access key pair as in the credentials file. */
export interface AccessKeyPair {
  accessKeyId: string;
  secretAccessKey: string;
}

/** How a child exited. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One spawned `lockstep serve` process. */
export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  dataDir: string;
  /** Resolves once the listen line is logged; rejects when the process exits first or does not start in time. */
  ready: Promise<void>;
  /** Set once listening. */
  url: string;
  port: number;
  /** The `credentials` field of the listen line (the root credentials file). */
  credentialsFile: string;
  /** The parsed listen log line. */
  listenLine: Record<string, unknown>;
  /** Everything written to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** stdout lines that are JSON (pino). */
  logLines(): Record<string, unknown>[];
  /** True until the process has exited. */
  running(): boolean;
  kill(signal?: NodeJS.Signals): void;
  waitExit(timeoutMs?: number): Promise<ExitStatus>;
  /** The root key from <dataDir>/root-credentials. */
  readCredentials(): AccessKeyPair;
  /** An SDK client for this server (no retries); destroyed by `cleanupProcesses()`. */
  client(opts?: { region?: string; credentials?: AccessKeyPair }): SecretsManagerClient;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves with the exit status. */
  stop(graceMs?: number): Promise<ExitStatus>;
}

/** Options of one spawn. */
export interface SpawnOptions {
  /** Data directory; a fresh temporary one (removed by cleanup) when omitted. */
  dataDir?: string;
  /** Pass `--data-dir` (default true). */
  dataDirFlag?: boolean;
  /** Extra arguments after `serve`. `--port 0` is added unless `portFlag` is false. */
  args?: string[];
  portFlag?: boolean;
  /** Extra environment; LOCKSTEP_* and AWS_* of the test process are never passed on. undefined removes a variable. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** How long to wait for the listen line (default 15 s). */
  startTimeoutMs?: number;
}

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
const clients = new Set<SecretsManagerClient>();

process.on('exit', () => {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** A temporary directory removed by `cleanupProcesses()`. */
export function tempDir(prefix = 'lockstep-proc-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

/** Kills every child still running (SIGKILL), destroys SDK clients and removes temporary directories. */
export async function cleanupProcesses(): Promise<void> {
  for (const c of clients) c.destroy();
  clients.clear();
  const waits: Promise<unknown>[] = [];
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      waits.push(new Promise((resolve) => c.once('close', resolve)));
      c.kill('SIGKILL');
    }
  }
  await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 5_000).unref())]);
  children.clear();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

/** The environment a child gets: the test process's, without LOCKSTEP_* and AWS_*, plus `extra`. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('LOCKSTEP_') || k.startsWith('AWS_') || k.startsWith('NODE_TEST')) continue;
    env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Parses an AWS credentials file's [default] profile. */
export function parseCredentialsFile(text: string): AccessKeyPair {
  const get = (name: string) => {
    const m = new RegExp(`^\\s*${name}\\s*=\\s*(\\S+)\\s*$`, 'm').exec(text);
    if (!m) throw new Error(`credentials file has no ${name}`);
    return m[1];
  };
  if (!/^\[default\]\s*$/m.test(text)) throw new Error('credentials file has no [default] profile');
  return { accessKeyId: get('aws_access_key_id'), secretAccessKey: get('aws_secret_access_key') };
}

/** Spawns `node dist/cli/main.js serve`; does not wait for it to listen (await `.ready`). */
export function launchServer(opts: SpawnOptions = {}): ServerProcess {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  const dataDir = opts.dataDir ?? tempDir();
  const args = [MAIN, 'serve'];
  if (opts.portFlag !== false) args.push('--port', '0');
  if (opts.dataDirFlag !== false) args.push('--data-dir', dataDir);
  args.push(...(opts.args ?? []));
  const child = spawn(process.execPath, args, {
    cwd: opts.cwd ?? ROOT,
    env: childEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });

  const proc: ServerProcess = {
    child,
    pid: child.pid ?? -1,
    dataDir,
    ready: undefined as unknown as Promise<void>,
    url: '',
    port: 0,
    credentialsFile: '',
    listenLine: {},
    stdout: () => out,
    stderr: () => err,
    logLines: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    running: () => child.exitCode === null && child.signalCode === null,
    kill(signal = 'SIGTERM') {
      if (proc.running()) child.kill(signal);
    },
    waitExit(timeoutMs = 15_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`server pid ${proc.pid} did not exit within ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`)),
          timeoutMs,
        );
      });
      return Promise.race([exited, timeout]).finally(() => clearTimeout(timer));
    },
    readCredentials() {
      return parseCredentialsFile(readFileSync(join(dataDir, 'root-credentials'), 'utf8'));
    },
    client(o = {}) {
      const c = new SecretsManagerClient({
        endpoint: proc.url,
        region: o.region ?? 'us-east-1',
        credentials: { ...(o.credentials ?? proc.readCredentials()) }, // the SDK annotates the object it is given
        maxAttempts: 1,
      });
      clients.add(c);
      return c;
    },
    async stop(graceMs = 10_000) {
      if (!proc.running()) return exited;
      child.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(t);
      }
    },
  };

  proc.ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not log its listen line within ${opts.startTimeoutMs ?? 15_000} ms\nstdout:\n${out}\nstderr:\n${err}`));
    }, opts.startTimeoutMs ?? 15_000);
    const onData = () => {
      for (const line of proc.logLines()) {
        if (typeof line.url === 'string') {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          proc.listenLine = line;
          proc.url = line.url;
          proc.port = Number(new URL(line.url).port);
          proc.credentialsFile = typeof line.credentials === 'string' ? line.credentials : '';
          resolve();
          return;
        }
      }
    };
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
    });
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: string) => {
      err += chunk;
    });
    void exited.then((st) => {
      clearTimeout(timer);
      reject(
        Object.assign(new Error(`server exited (code ${st.code}, signal ${st.signal}) before listening\nstdout:\n${out}\nstderr:\n${err}`), {
          status: st,
        }),
      );
    });
  });
  // A rejection nobody awaits (a test that only wants the exit status) must not be unhandled.
  proc.ready.catch(() => undefined);
  return proc;
}

/**
 * Spawns a server and waits until it listens, then `settleMs` more (default 100): `lockstep serve`
 * logs its listen line before it installs its SIGTERM/SIGINT handlers, so a signal sent the instant
 * the line appears can kill it outright (see the serve tests). Pass 0 to get the raw behaviour.
 */
export async function spawnServer(opts: SpawnOptions & { settleMs?: number } = {}): Promise<ServerProcess> {
  const p = launchServer(opts);
  await p.ready;
  const settle = opts.settleMs ?? 100;
  if (settle > 0) await new Promise((r) => setTimeout(r, settle));
  return p;
}

/** Runs `node dist/cli/main.js <args>` to completion (for --help and start-up failures). */
export function runCli(args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number } = {}) {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: childEnv(opts.env),
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 15_000,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}
