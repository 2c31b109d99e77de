import { CANNOT_INVOKE, functionNameOf, type FunctionSource, type RotationFunction } from '../registry.js';
import type { LambdaEnv } from './env.js';
import { allowsInvoke } from './policy.js';
import { invokeFunction } from './process-runtime.js';

/** The service principal Secrets Manager invokes rotation functions as. */
export const SECRETS_MANAGER_PRINCIPAL = 'secretsmanager.amazonaws.com';

/**
 * Registered (process) functions as a source of rotation functions. `find` answers only for a
 * function whose policy lets secretsmanager.amazonaws.com invoke it (so RotateSecret fails with
 * AWS's AccessDeniedException otherwise); each invocation re-reads the function and checks the
 * policy again with the secret's ARN as AWS:SourceArn and this account as AWS:SourceAccount.
 */
export function processFunctionSource(env: LambdaEnv): FunctionSource {
  return {
    async find(tx, arn) {
      const name = functionNameOf(arn, env.region, env.accountId);
      const fn = name === undefined ? undefined : await tx.functions.get(name);
      if (!fn || !allowsInvoke(fn, SECRETS_MANAGER_PRINCIPAL, undefined, env.accountId)) return undefined;
      const found: RotationFunction = {
        arn,
        async invoke(event) {
          const current = await env.store.read((t) => t.functions.get(fn.name));
          if (!current) return { ok: false, error: `ResourceNotFoundException: Function not found: ${fn.arn}` };
          if (!allowsInvoke(current, SECRETS_MANAGER_PRINCIPAL, event.SecretId, env.accountId)) {
            return { ok: false, error: `AccessDeniedException: ${CANNOT_INVOKE}` };
          }
          const o = await invokeFunction(env, current, event);
          return o.ok ? { ok: true } : { ok: false, error: `${o.errorType}: ${o.errorMessage}`, timedOut: o.timedOut };
        },
      };
      return found;
    },
  };
}
