import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { strToU8, zipSync } from 'fflate';
import { AddPermissionCommand, CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { executionRole } from './iam.js';
import { childEnv, type ServerProcess } from './process.js';
import { sdkSignedPost } from './raw.js';
import { startServer, type TestServer } from './server.js';

/*
 * What the Lambda, rotation-function and aws CLI tests share: zipping and registering a function,
 * a server with a Lambda client, the Lockstep.* extension calls (the rotation history), waiting and
 * polling, and running the real `aws` CLI (or any other command) to completion.
 */

// ---- zipping and registering functions ----

/** A zip of text files (name → content). */
export function zipOf(files: Record<string, string>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, strToU8(v)])));
}

/** What `createRotationFunction` registers. */
export interface RotationFunctionSpec {
  name: string;
  role: string;
  /** File name → source text, zipped as the function's code. */
  code: Record<string, string>;
  handler: string;
  timeout: number;
  /** Environment variables; no Environment at all when omitted. */
  env?: Record<string, string>;
  /** Default python3.12. */
  runtime?: 'python3.12';
}

/**
 * CreateFunction with the zipped code, then AddPermission for secretsmanager.amazonaws.com to invoke it
 * (statement id `secretsmanager`); resolves with the FunctionArn.
 */
export async function createRotationFunction(lambda: LambdaClient, spec: RotationFunctionSpec): Promise<string> {
  const arn = (await lambda.send(new CreateFunctionCommand({
    FunctionName: spec.name, Runtime: spec.runtime ?? 'python3.12', Role: spec.role, Handler: spec.handler, Timeout: spec.timeout,
    Environment: spec.env ? { Variables: spec.env } : undefined,
    Code: { ZipFile: zipOf(spec.code) },
  }))).FunctionArn!;
  await lambda.send(new AddPermissionCommand({
    FunctionName: spec.name, StatementId: 'secretsmanager', Action: 'lambda:InvokeFunction', Principal: 'secretsmanager.amazonaws.com',
  }));
  return arn;
}

/** An in-process server and a Lambda client for it (no retries). */
export interface ServerAndLambda {
  srv: TestServer;
  lambda: LambdaClient;
}

/**
 * Registers the file's `before` / `after` hooks: starts a server and a Lambda client before the tests
 * (handing both to `ready`; with `executionRole`, a role of that name functions may run as), destroys
 * the client and stops the server after.
 */
export function useLambdaServer(ready: (s: ServerAndLambda) => void, opts: { executionRole?: string } = {}): void {
  let srv: TestServer;
  let lambda: LambdaClient;
  before(async () => {
    srv = await startServer();
    if (opts.executionRole !== undefined) await executionRole(srv.endpoint, srv.credentials, opts.executionRole);
    lambda = new LambdaClient({ endpoint: srv.endpoint, region: srv.region, credentials: srv.credentials, maxAttempts: 1 });
    ready({ srv, lambda });
  });
  after(async () => {
    lambda.destroy();
    await srv.stop();
  });
}

// ---- waiting ----

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Calls `fn` every `everyMs` until it returns something other than undefined; fails after `timeoutMs`. */
export async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined> | T | undefined, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** True while the process exists and is not a zombie (a killed process its parent has not reaped yet). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

// ---- the Lockstep.* extension API and the rotation history ----

export interface StepEntry { Step: string; Attempt: number; StartedDate: number; DurationMs: number; Outcome: string; Error?: string }
export interface RunEntry { RunId: number; Token: string; Kind: string; State: string; NextStep?: string; LastError?: string; Steps: StepEntry[] }

/** A server the helpers below can reach: a `lockstep serve` child, or anything with its URL and root key. */
export type Reachable = Pick<ServerProcess, 'url' | 'readCredentials'>;

/** Where and as whom to send (the root key, us-east-1). */
function target(p: Reachable) {
  return { endpoint: p.url, region: 'us-east-1', credentials: p.readCredentials() };
}

/** A `Lockstep.<op>` call, which must answer 200; its JSON body. */
export async function extension(p: Reachable, op: string, input: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await sdkSignedPost(target(p), '', JSON.stringify(input), { rawTarget: `Lockstep.${op}` });
  assert.equal(res.status, 200, `Lockstep.${op}: ${res.body}`);
  return res.json!;
}

/** Lockstep.GetRotationHistory of a secret: its runs, newest first. */
export const history = async (p: Reachable, secretId: string) => (await extension(p, 'GetRotationHistory', { SecretId: secretId })).Runs as RunEntry[];

/** The run of a rotation token (Lockstep.GetRotationHistory, polled every 100 ms), once it has ended. */
export async function finishedRotationRun(server: Reachable, secretId: string, token: string, timeoutMs = 30_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await sdkSignedPost(target(server), '', JSON.stringify({ SecretId: secretId }), { rawTarget: 'Lockstep.GetRotationHistory' });
    assert.equal(res.status, 200, res.body);
    const run = (res.json!.Runs as any[]).find((r) => r.Token === token);
    if (run && run.State !== 'running') return run;
    if (Date.now() > until) throw new Error(`the rotation of ${secretId} did not end: ${res.body}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// ---- running commands (the aws CLI) ----

/** How a command ended: its exit code (1 when it could not run or was killed), stdout and stderr. */
export interface CommandRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args` to completion with `env`; never rejects. */
export function runCommand(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { timeoutMs: number; cwd?: string; maxBuffer?: number },
): Promise<CommandRun> {
  return new Promise((resolve) => {
    execFile(cmd, args, {
      env, encoding: 'utf8', timeout: opts.timeoutMs,
      ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
      ...(opts.maxBuffer === undefined ? {} : { maxBuffer: opts.maxBuffer }),
    }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Environment for aws / python: only the given credentials file, no config (a file that does not exist
 * in `dataDir`), no instance metadata, one attempt, no pager, no python warnings; plus `extra`.
 */
export function awsCliEnv(credentialsFile: string, dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return childEnv({
    AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
    AWS_CONFIG_FILE: join(dataDir, 'no-such-config'),
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_MAX_ATTEMPTS: '1',
    AWS_PAGER: '',
    PYTHONWARNINGS: 'ignore',
    ...extra,
  });
}
