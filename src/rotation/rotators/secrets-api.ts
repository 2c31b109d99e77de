import type { ServiceContext } from '../../secrets/context.js';
import { operations } from '../../secrets/service.js';
import { validateInput } from '../../protocols/validate.js';

/** The Secrets Manager operations a rotation function uses, by their API names. */
export interface SecretsApi {
  /** Calls one operation with an API-shaped input; ServiceError on failure, as over HTTP. */
  call(operation: string, input: Record<string, unknown>): Promise<Record<string, any>>;
}

/**
 * The in-process client of built-in rotation functions: every call goes through the same model
 * validation and operation handlers as an HTTP request, without the network.
 */
export function inProcessSecretsApi(ctx: ServiceContext): SecretsApi {
  return {
    async call(operation, input) {
      const handler = operations[operation];
      if (!handler) throw new Error(`unknown operation ${operation}`);
      return handler(ctx, validateInput(operation, JSON.parse(JSON.stringify(input))));
    },
  };
}
