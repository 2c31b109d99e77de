// Part 2: CreateSecret then PutSecretValue through the AWS SDK for JavaScript v3, at a modest concurrency.
import { randomUUID } from 'node:crypto';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ChildServer } from './children.js';
import type { Creds } from './sign.js';
import { log, pct, pool } from './stats.js';

export interface WritePhase {
  operation: string;
  ops: number;
  seconds: number;
  opsPerS: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  firstError?: string;
  serverCpuPct: number;
  /** CPU of this process (the SDK client) during the phase, in % of one core. */
  clientCpuPct: number;
}

export interface WritesResult {
  concurrency: number;
  phases: WritePhase[];
  /** Both phases together: all operations over all time. */
  combinedOpsPerS: number;
}

async function phase(
  name: string,
  server: ChildServer,
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<WritePhase> {
  const cpu0 = server.cpuSeconds();
  const me0 = process.cpuUsage();
  const r = await pool(count, concurrency, task);
  const me = process.cpuUsage(me0);
  const p: WritePhase = {
    operation: name,
    ops: r.latenciesMs.length,
    seconds: r.seconds,
    opsPerS: r.latenciesMs.length / r.seconds,
    p50Ms: pct(r.latenciesMs, 50),
    p99Ms: pct(r.latenciesMs, 99),
    errors: r.errors.length,
    ...(r.errors.length ? { firstError: r.errors[0] } : {}),
    serverCpuPct: ((server.cpuSeconds() - cpu0) / r.seconds) * 100,
    clientCpuPct: ((me.user + me.system) / 1e6 / r.seconds) * 100,
  };
  log(
    `${name}: ${p.ops} ok, ${p.errors} failed in ${p.seconds.toFixed(1)} s = ${p.opsPerS.toFixed(0)} ops/s ` +
      `(p50 ${p.p50Ms.toFixed(1)} ms, p99 ${p.p99Ms.toFixed(1)} ms, server CPU ${p.serverCpuPct.toFixed(0)}%, SDK client CPU ${p.clientCpuPct.toFixed(0)}%)`,
  );
  return p;
}

export async function runWrites(server: ChildServer, creds: Creds, count: number, concurrency: number): Promise<WritesResult> {
  const client = new SecretsManagerClient({ endpoint: server.url, region: 'us-east-1', credentials: creds, maxAttempts: 1 });
  const run = randomUUID().slice(0, 8);
  const name = (i: number) => `bench/writes/${run}/${String(i).padStart(6, '0')}`;
  try {
    // One untimed call so that SDK start-up (credential and endpoint resolution) is not measured.
    await client.send(new CreateSecretCommand({ Name: `bench/writes/${run}/warm-up`, SecretString: 'x' }));
    const create = await phase('CreateSecret (SDK)', server, count, concurrency, async (i) => {
      await client.send(new CreateSecretCommand({ Name: name(i), SecretString: JSON.stringify({ password: randomUUID() }) }));
    });
    const put = await phase('PutSecretValue (SDK)', server, count, concurrency, async (i) => {
      await client.send(new PutSecretValueCommand({ SecretId: name(i), SecretString: JSON.stringify({ password: randomUUID() }) }));
    });
    return {
      concurrency,
      phases: [create, put],
      combinedOpsPerS: (create.ops + put.ops) / (create.seconds + put.seconds),
    };
  } finally {
    client.destroy();
  }
}
