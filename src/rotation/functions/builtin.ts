import type { ServiceContext } from '../../secrets/context.js';
import { functionNameOf, type FunctionSource, type RotationFunction } from '../registry.js';
import { inProcessSecretsApi } from '../rotators/secrets-api.js';
import type { EngineFamily } from '../rotators/secret-json.js';
import { RotationStepError, runDatabaseStep, type Strategy } from '../rotators/strategy.js';
import { DbError, type DatabaseDriver, type DriverOptions } from '../rotators/types.js';

/** AWS's ready-made rotation functions, by name: which engine family and which strategy. */
export const BUILTIN_FUNCTIONS: Record<string, { family: EngineFamily; strategy: Strategy }> = {
  SecretsManagerRDSPostgreSQLRotationSingleUser: { family: 'postgres', strategy: 'single' },
  SecretsManagerRDSPostgreSQLRotationMultiUser: { family: 'postgres', strategy: 'alternating' },
  SecretsManagerRDSMySQLRotationSingleUser: { family: 'mysql', strategy: 'single' },
  SecretsManagerRDSMySQLRotationMultiUser: { family: 'mysql', strategy: 'alternating' },
  SecretsManagerRDSMariaDBRotationSingleUser: { family: 'mysql', strategy: 'single' },
  SecretsManagerRDSMariaDBRotationMultiUser: { family: 'mysql', strategy: 'alternating' },
};

/** Where the built-in functions run: the service they call in-process and how they reach databases. */
export interface BuiltinEnv {
  ctx: ServiceContext;
  driverOptions: DriverOptions;
}

/**
 * The built-in rotation functions as a source: AWS's function names in this server's Region and
 * account resolve to in-process rotators, with no deployment step.
 */
export function builtinFunctionSource(env: BuiltinEnv): FunctionSource {
  const api = inProcessSecretsApi(env.ctx);
  // Drivers (and the pg / mysql2 libraries) load on first use, not at server start.
  const drivers = new Map<EngineFamily, Promise<DatabaseDriver>>();
  const driverFor = (family: EngineFamily): Promise<DatabaseDriver> => {
    let d = drivers.get(family);
    if (!d) {
      d = family === 'postgres'
        ? import('../rotators/postgres.js').then((m) => m.postgresDriver(env.driverOptions))
        : import('../rotators/mysql.js').then((m) => m.mysqlDriver(env.driverOptions));
      drivers.set(family, d);
    }
    return d;
  };
  return {
    async find(_tx, arn) {
      const name = functionNameOf(arn, env.ctx.region, env.ctx.accountId);
      const spec = name !== undefined && Object.hasOwn(BUILTIN_FUNCTIONS, name) ? BUILTIN_FUNCTIONS[name] : undefined;
      if (!spec) return undefined;
      const fn: RotationFunction = {
        arn,
        async invoke(event) {
          try {
            const driver = await driverFor(spec.family);
            await runDatabaseStep({ api, driver, family: spec.family, strategy: spec.strategy }, event);
            return { ok: true };
          } catch (e) {
            if (e instanceof RotationStepError) return { ok: false, error: e.message, restart: e.restart };
            if (e instanceof DbError) return { ok: false, error: e.message };
            const err = e as { name?: string; code?: string; message?: string };
            return { ok: false, error: `${err.code ?? err.name ?? 'Error'}: ${err.message ?? String(e)}` };
          }
        },
      };
      return fn;
    },
  };
}
