import { ServiceError } from '../errors.js';
import type { Tx } from '../storage/types.js';

/** The event a rotation function receives for each step, as AWS sends it. */
export interface RotationEvent {
  Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
  SecretId: string;
  ClientRequestToken: string;
  RotationToken?: string;
}

/** What one invocation of a step came to. */
export type StepOutcome =
  | { ok: true }
  | {
      ok: false;
      error: string;
      timedOut?: boolean;
      /** The pending value itself is unusable (the database refused the password): start again from createSecret. */
      restart?: boolean;
    };

/** A rotation function the engine can invoke, whatever runs it. */
export interface RotationFunction {
  arn: string;
  invoke(event: RotationEvent): Promise<StepOutcome>;
}

/** A handler for the module runtime: called in-process with the event, like a Lambda handler. */
export type ModuleHandler = (event: RotationEvent, context: { functionArn: string }) => Promise<unknown> | unknown;

/** Where rotation functions come from: in-process modules, registered (process) functions, built-ins. */
export interface FunctionSource {
  /** The function for an ARN, or undefined when this source has none by that ARN. */
  find(tx: Tx, arn: string): Promise<RotationFunction | undefined>;
}

/** The message AWS gives when it cannot invoke a rotation function. */
export const CANNOT_INVOKE =
  'Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.';

/** A function name out of a Lambda function ARN of this region and account (or a bare name). */
export function functionNameOf(arn: string, region: string, accountId: string): string | undefined {
  const prefix = `arn:aws:lambda:${region}:${accountId}:function:`;
  if (arn.startsWith(prefix)) {
    const rest = arn.slice(prefix.length);
    const name = rest.split(':')[0];
    return /^[A-Za-z0-9_-]{1,64}$/.test(name) ? name : undefined;
  }
  return undefined;
}

/** Module functions: JS handlers registered by code that embeds Lockstep. */
export class ModuleFunctions implements FunctionSource {
  private readonly handlers = new Map<string, ModuleHandler>();

  constructor(
    private readonly region: string,
    private readonly accountId: string,
  ) {}

  /** Registers a handler under a function name; returns the ARN to give RotateSecret. */
  register(name: string, handler: ModuleHandler): string {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw new Error(`invalid function name '${name}'`);
    this.handlers.set(name, handler);
    return `arn:aws:lambda:${this.region}:${this.accountId}:function:${name}`;
  }

  async find(_tx: Tx, arn: string): Promise<RotationFunction | undefined> {
    const name = functionNameOf(arn, this.region, this.accountId);
    const handler = name === undefined ? undefined : this.handlers.get(name);
    if (!handler) return undefined;
    return {
      arn,
      async invoke(event) {
        try {
          await handler(event, { functionArn: arn });
          return { ok: true };
        } catch (e) {
          const err = e as { name?: string; message?: string };
          return { ok: false, error: `${err?.name ?? 'Error'}: ${err?.message ?? String(e)}` };
        }
      },
    };
  }
}

/** Resolves a rotation function ARN through the sources in order; AWS's AccessDeniedException when none has it. */
export async function resolveFunction(sources: FunctionSource[], tx: Tx, arn: string): Promise<RotationFunction> {
  for (const source of sources) {
    const fn = await source.find(tx, arn);
    if (fn) return fn;
  }
  throw new ServiceError('AccessDeniedException', CANNOT_INVOKE);
}
