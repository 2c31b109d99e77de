import { RotateSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { requireSecret } from '../../src/secrets/context.js';
import { rotationHistory, type RunHistory } from '../../src/rotation/history.js';
import type { TestServer } from './server.js';

/** The ARN of a built-in rotation function in the test server's Region and account. */
export function builtinArn(name: string): string {
  return `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
}

/** Starts a rotation now with a built-in function; the token (AWSPENDING version id). */
export async function rotate(sm: SecretsManagerClient, secretId: string, functionName?: string): Promise<string> {
  const out = await sm.send(
    new RotateSecretCommand({
      SecretId: secretId,
      ...(functionName ? { RotationLambdaARN: builtinArn(functionName), RotationRules: { AutomaticallyAfterDays: 30 } } : {}),
    }),
  );
  return out.VersionId!;
}

/** The run of a token once it has ended (read from the in-process server's journal). */
export async function finishedRun(srv: TestServer, secretId: string, token: string, timeoutMs = 30_000): Promise<RunHistory> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const runs = await srv.app.ctx.store.read(async (tx) => rotationHistory(tx, await requireSecret(srv.app.ctx, tx, secretId), 50));
    const run = runs.find((r) => r.Token === token);
    if (run && run.State !== 'running') return run;
    if (Date.now() > until) throw new Error(`the rotation of ${secretId} did not end: ${JSON.stringify(run)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Rotates and waits; the ended run. */
export async function rotateAndWait(srv: TestServer, sm: SecretsManagerClient, secretId: string, functionName?: string): Promise<RunHistory> {
  const token = await rotate(sm, secretId, functionName);
  return finishedRun(srv, secretId, token);
}
