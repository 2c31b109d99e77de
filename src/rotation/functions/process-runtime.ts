import { execFile, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { FunctionRecord } from '../../storage/types.js';
import type { SessionKeys } from '../../sts/temporary-keys.js';
import { NODE_BOOTSTRAP } from './bootstrap/node.js';
import { PYTHON_BOOTSTRAP } from './bootstrap/python.js';
import { openVariables } from './config.js';
import type { LambdaEnv } from './env.js';
import { invocationKeys, type InvocationKeys } from './execution-role.js';
import { appendLog, functionDir } from './logs.js';
import { runtimeFamily, type RuntimeFamily } from './runtimes.js';
import { extractZip, inspectZip } from './zip.js';

/** How one invocation ended: the handler's payload, or the error it raised (or the runtime's). */
export type InvokeOutcome =
  | { ok: true; payload: unknown; payloadText: string; logs: string; durationMs: number; requestId: string }
  | {
      ok: false;
      errorType: string;
      errorMessage: string;
      stackTrace?: string[];
      logs: string;
      durationMs: number;
      timedOut?: boolean;
      requestId: string;
    };

/** Options of one invocation. */
export interface InvokeOptions {
  timeoutMs?: number; // default: the function's Timeout
  requestId?: string; // default: a fresh UUID
  eventJson?: string; // the event as JSON text, passed through verbatim (instead of serialising `event`)
}

/** Lambda's limit on a synchronous response payload (6 MB). */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;
const MAX_OUTPUT_BYTES = 1024 * 1024; // what one invocation's stdout+stderr may add to the log
const KEEP_OLD_REVISIONS_MS = 16 * 60 * 1000; // longer than the longest Timeout: no running invocation loses its code

const running = new Set<number>();

/** What an invocation a shutting-down server refuses to start ends with. */
const SHUTTING_DOWN: Ending = { errorType: 'ServiceException', errorMessage: 'Lockstep is shutting down; the function was not started.' };

/** Invocations not yet finished, their keys revoked included. */
const inflight = new Set<Promise<unknown>>();

/** Kills every running invocation's process group (for shutdown). */
export function stopAllInvocations(): void {
  for (const pid of running) killGroup(pid);
}

/** Resolves once every invocation started so far has ended and revoked its keys (for shutdown, before the store closes). */
export async function invocationsSettled(): Promise<void> {
  while (inflight.size > 0) await Promise.allSettled([...inflight]);
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is already gone
  }
}

let python: Promise<string> | undefined;

/** The absolute path of the machine's python3 (resolved once, so pyenv-style shims work without their environment). */
function pythonExecutable(): Promise<string> {
  python ??= new Promise<string>((resolve, reject) => {
    execFile('python3', ['-c', 'import sys; print(sys.executable)'], { timeout: 20_000 }, (err, stdout) => {
      const exe = String(stdout).trim();
      if (err || exe === '') reject(new Error('python3 is not installed on the Lockstep host (or does not start)'));
      else resolve(exe);
    });
  }).catch((e: unknown) => {
    python = undefined;
    throw e;
  });
  return python;
}

/** Writes the bootstrap of a family under <dataDir>/functions/.runtime once; returns its path. */
function bootstrapFile(dataDir: string, family: RuntimeFamily): string {
  const source = family === 'python' ? PYTHON_BOOTSTRAP : NODE_BOOTSTRAP;
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const file = join(dataDir, 'functions', '.runtime', `bootstrap-${hash}.${family === 'python' ? 'py' : 'mjs'}`);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${randomUUID()}`;
    writeFileSync(tmp, source, { mode: 0o600 });
    renameSync(tmp, file);
  }
  return file;
}

const REVISION_DIR = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\.extract-.*)$/;

/** The function's code, extracted once per revision to <dataDir>/functions/<name>/<revisionId>/ (0700). */
export function codeDirectory(dataDir: string, fn: FunctionRecord): string {
  const base = functionDir(dataDir, fn.name);
  const dir = join(base, fn.revisionId);
  if (existsSync(dir)) return dir;
  mkdirSync(base, { recursive: true, mode: 0o700 });
  const tmp = join(base, `.extract-${randomUUID()}`);
  try {
    inspectZip(fn.code);
    extractZip(fn.code, tmp);
    try {
      renameSync(tmp, dir);
    } catch (e) {
      if (!existsSync(dir)) throw e; // another invocation extracted it first
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  pruneRevisions(base, fn.revisionId, KEEP_OLD_REVISIONS_MS);
  return dir;
}

function pruneRevisions(base: string, keep: string, olderThanMs: number): void {
  for (const entry of readdirSync(base)) {
    if (entry === keep || !REVISION_DIR.test(entry)) continue;
    const path = join(base, entry);
    try {
      if (Date.now() - statSync(path).mtimeMs >= olderThanMs) rmSync(path, { recursive: true, force: true });
    } catch {
      // removed meanwhile
    }
  }
}

/** Removes a function's extracted code and scratch space; its log stays readable. */
export function removeFunctionFiles(dataDir: string, name: string): void {
  const base = functionDir(dataDir, name);
  if (!existsSync(base)) return;
  pruneRevisions(base, '', 0);
  rmSync(join(base, 'tmp'), { recursive: true, force: true });
}

/** The URL a function reaches the server at: a wildcard listen address becomes loopback. */
export function functionEndpoint(serverUrl: string): string {
  const u = new URL(serverUrl);
  if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
  else if (u.hostname === '[::]') u.hostname = '[::1]';
  return u.origin;
}

/** The environment of a function's process: Lambda's variables, the function's own, nothing of the server's. */
function childEnvironment(
  env: LambdaEnv, fn: FunctionRecord, family: RuntimeFamily, exe: string, codeDir: string, scratch: string, creds: SessionKeys,
): Record<string, string> {
  const vars = openVariables(env.keyring, fn);
  const out: Record<string, string> = {
    PATH: [dirname(exe), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    HOME: scratch,
    TMPDIR: scratch,
    AWS_ENDPOINT_URL: functionEndpoint(env.endpointUrl()),
    ...vars,
    AWS_REGION: env.region,
    AWS_DEFAULT_REGION: env.region,
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    AWS_SESSION_TOKEN: creds.sessionToken,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_FUNCTION_TIMEOUT: String(fn.timeoutS),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `${new Date().toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    LAMBDA_TASK_ROOT: codeDir,
    _HANDLER: fn.handler,
  };
  if (family === 'python') {
    out.PYTHONPATH = vars.PYTHONPATH ? `${vars.PYTHONPATH}:${codeDir}` : codeDir;
    out.PYTHONUNBUFFERED = '1';
  }
  return out;
}

/** Collects an invocation's stdout and stderr in arrival order, up to a cap. */
class Output {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private dropped = 0;
  push(c: Buffer): void {
    if (this.size + c.length > MAX_OUTPUT_BYTES) {
      const room = MAX_OUTPUT_BYTES - this.size;
      if (room > 0) this.chunks.push(c.subarray(0, room));
      this.size += Math.max(room, 0);
      this.dropped += c.length - Math.max(room, 0);
      return;
    }
    this.chunks.push(c);
    this.size += c.length;
  }
  text(): string {
    let s = Buffer.concat(this.chunks).toString('utf8');
    if (s !== '' && !s.endsWith('\n')) s += '\n';
    if (this.dropped > 0) s += `[Lockstep: ${this.dropped} more bytes of output were not kept]\n`;
    return s;
  }
}

type Failure = Extract<InvokeOutcome, { ok: false }>;
type Ending = Omit<Failure, 'logs' | 'durationMs' | 'requestId' | 'ok'> | { ok: true; payload: unknown; payloadText: string };

/** What the bootstrap wrote to fd 3, as an outcome. */
function readResult(raw: Buffer, tooLarge: boolean, requestId: string, exit: { code: number | null; signal: string | null }): Ending {
  if (tooLarge) {
    return { errorType: 'Function.ResponseSizeTooLarge', errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).` };
  }
  if (raw.length === 0) {
    const how = exit.signal ? `signal: ${exit.signal === 'SIGKILL' ? 'killed' : exit.signal}` : `exit status ${exit.code}`;
    return { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${how}` };
  }
  try {
    const r = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    if (r.ok === true && typeof r.payload === 'string') {
      if (Buffer.byteLength(r.payload) > MAX_RESPONSE_BYTES) return readResult(raw, true, requestId, exit);
      return { ok: true, payload: JSON.parse(r.payload), payloadText: r.payload };
    }
    if (r.ok === false && typeof r.errorType === 'string') {
      const stack = Array.isArray(r.stackTrace) ? r.stackTrace.map(String) : undefined;
      return { errorType: r.errorType, errorMessage: String(r.errorMessage ?? ''), stackTrace: stack };
    }
  } catch {
    // fall through
  }
  return { errorType: 'Runtime.InvalidResponse', errorMessage: `RequestId: ${requestId} Error: the runtime returned a result that is not valid JSON` };
}

/** Lambda's START/END/REPORT framing of one invocation's output. */
function logText(fn: FunctionRecord, requestId: string, output: string, ending: Ending, durationMs: number, timeoutMs: number): string {
  let s = `START RequestId: ${requestId} Version: $LATEST\n${output}`;
  if (!('ok' in ending) && !ending.timedOut && (ending.errorType.startsWith('Runtime.') || ending.errorType === 'InvalidParameterValueException')) s += `${ending.errorMessage}\n${ending.errorType}\n`;
  s += `END RequestId: ${requestId}\n`;
  s += `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${Math.max(1, Math.ceil(durationMs))} ms\tMemory Size: ${fn.memoryMb} MB\t\n`;
  if (!('ok' in ending) && ending.timedOut) {
    s += `${new Date().toISOString()} ${requestId} Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds\n`;
  }
  return s;
}

/**
 * Runs one invocation of a process function: python3 or node runs the bootstrap, which calls the
 * handler with (event, context) and reports on fd 3. The whole process group is killed at the
 * Timeout. Output is framed like Lambda's and appended to the function's log.
 */
export function invokeFunction(env: LambdaEnv, fn: FunctionRecord, event: unknown, opts: InvokeOptions = {}): Promise<InvokeOutcome> {
  const p = invokeOnce(env, fn, event, opts);
  inflight.add(p);
  void p.finally(() => inflight.delete(p)).catch(() => undefined);
  return p;
}

async function invokeOnce(env: LambdaEnv, fn: FunctionRecord, event: unknown, opts: InvokeOptions): Promise<InvokeOutcome> {
  const requestId = opts.requestId ?? randomUUID();
  const timeoutMs = opts.timeoutMs ?? fn.timeoutS * 1000;
  const t0 = performance.now();
  const output = new Output();
  let ending: Ending;
  try {
    ending = await run(env, fn, opts.eventJson ?? JSON.stringify(event ?? {}), requestId, timeoutMs, output);
  } catch (e) {
    ending = { errorType: 'Runtime.InvalidEntrypoint', errorMessage: `RequestId: ${requestId} Error: ${(e as Error).message ?? String(e)}` };
  }
  const durationMs = performance.now() - t0;
  const logs = logText(fn, requestId, output.text(), ending, durationMs, timeoutMs);
  try {
    appendLog(env.dataDir, fn.name, logs);
  } catch (e) {
    env.logger?.warn({ function: fn.name, err: (e as Error).message }, 'could not write the function log');
  }
  return 'ok' in ending ? { ...ending, logs, durationMs, requestId } : { ok: false, ...ending, logs, durationMs, requestId };
}

async function run(env: LambdaEnv, fn: FunctionRecord, eventJson: string, requestId: string, timeoutMs: number, output: Output): Promise<Ending> {
  const family = runtimeFamily(fn.runtime);
  if (!family) return { errorType: 'Runtime.InvalidRuntime', errorMessage: `The runtime ${fn.runtime} is not supported by Lockstep.` };
  let codeDir: string;
  try {
    codeDir = codeDirectory(env.dataDir, fn);
  } catch (e) {
    return { errorType: 'InvalidZipFileException', errorMessage: `Could not extract the function's code: ${(e as Error).message}` };
  }
  const exe = family === 'python' ? await pythonExecutable() : process.execPath;
  const bootstrap = bootstrapFile(env.dataDir, family);
  const scratch = join(functionDir(env.dataDir, fn.name), 'tmp');
  mkdirSync(scratch, { recursive: true, mode: 0o700 });
  if (env.closing?.()) return SHUTTING_DOWN;
  let keys: InvocationKeys;
  try {
    keys = await invocationKeys(env, fn, timeoutMs);
  } catch (e) {
    return { errorType: 'InvalidParameterValueException', errorMessage: (e as Error).message };
  }
  try {
    // The session is an access like any other: recorded before the function can use it.
    if (env.audit) {
      try {
        await env.audit({
          time: new Date(env.now()).toISOString(), kind: 'api', requestId, principal: 'lambda.amazonaws.com', accessKeyId: keys.accessKeyId,
          action: 'sts:AssumeRole', resource: fn.role, outcome: 'success', detail: { function: fn.arn, expires: new Date(keys.expiresMs).toISOString() },
        });
      } catch {
        return { errorType: 'ServiceException', errorMessage: 'The execution role session could not be recorded in the audit trail; the function was not started.' };
      }
    }
    // A server shutting down starts nothing more (stopAllInvocations has already run); checked right
    // before the spawn, with no await in between.
    if (env.closing?.()) return SHUTTING_DOWN;
    return await spawnInvocation(env, fn, family, exe, bootstrap, codeDir, scratch, keys, eventJson, requestId, timeoutMs, output);
  } finally {
    await keys.revoke().catch((e: unknown) =>
      env.logger?.warn({ function: fn.name, accessKeyId: keys.accessKeyId, err: (e as Error).message }, 'could not revoke an invocation\'s keys; they expire on their own'));
  }
}

async function spawnInvocation(
  env: LambdaEnv, fn: FunctionRecord, family: RuntimeFamily, exe: string, bootstrap: string, codeDir: string, scratch: string,
  keys: SessionKeys, eventJson: string, requestId: string, timeoutMs: number, output: Output,
): Promise<Ending> {
  const childEnv = childEnvironment(env, fn, family, exe, codeDir, scratch, keys);
  const deadline = Date.now() + timeoutMs;

  const child = spawn(exe, [bootstrap, codeDir, fn.handler, requestId, String(deadline), fn.arn], {
    cwd: codeDir,
    env: childEnv,
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    detached: true, // its own process group, so a timeout kills everything it started
  });
  const pid = child.pid;
  if (pid !== undefined) running.add(pid);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(pid);
  }, timeoutMs);
  const result: Buffer[] = [];
  let resultBytes = 0;
  let tooLarge = false;
  child.stdout!.on('data', (c: Buffer) => output.push(c));
  child.stderr!.on('data', (c: Buffer) => output.push(c));
  (child.stdio[3] as Readable).on('data', (c: Buffer) => {
    if (tooLarge || resultBytes + c.length > MAX_RESPONSE_BYTES + 64 * 1024) {
      tooLarge = true;
      return;
    }
    result.push(c);
    resultBytes += c.length;
  });
  for (const s of [child.stdin!, child.stdout!, child.stderr!, child.stdio[3] as Readable]) s.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const exit = await new Promise<{ code: number | null; signal: string | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.stdin!.end(eventJson);
  });
  clearTimeout(timer);
  killGroup(pid); // whatever the function left behind goes with it
  if (pid !== undefined) running.delete(pid);
  let lingering: NodeJS.Timeout | undefined;
  await Promise.race([closed, new Promise<void>((resolve) => (lingering = setTimeout(resolve, 2_000)))]);
  clearTimeout(lingering);
  for (const s of [child.stdout!, child.stderr!, child.stdio[3] as Readable]) s.destroy();

  if (exit.error) return { errorType: 'Runtime.InvalidEntrypoint', errorMessage: `RequestId: ${requestId} Error: could not start ${exe}: ${exit.error.message}` };
  if (timedOut) {
    return {
      errorType: 'Sandbox.Timedout',
      errorMessage: `RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
      timedOut: true,
    };
  }
  return readResult(Buffer.concat(result), tooLarge, requestId, exit);
}

/** The payload Invoke returns for a failed invocation, in the runtime's own shape. */
export function errorPayload(fn: FunctionRecord, o: Failure): Record<string, unknown> {
  if (o.timedOut || o.errorType === 'Runtime.ExitError') return { errorType: o.errorType, errorMessage: o.errorMessage };
  if (runtimeFamily(fn.runtime) === 'node') return { errorType: o.errorType, errorMessage: o.errorMessage, trace: o.stackTrace ?? [] };
  return { errorMessage: o.errorMessage, errorType: o.errorType, requestId: o.requestId, stackTrace: o.stackTrace ?? [] };
}
