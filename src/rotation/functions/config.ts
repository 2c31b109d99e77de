import type { Keyring } from '../../crypto/keyring.js';
import { openValue, sealValue } from '../../crypto/envelope.js';
import type { FunctionRecord } from '../../storage/types.js';
import { LambdaErrors } from './errors.js';

/** Variables Lambda sets itself and refuses in a function's Environment. */
export const RESERVED_VARIABLES = [
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_FUNCTION_TIMEOUT',
  'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME', 'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
];

/** Lambda's limit on the total size of a function's environment variables. */
export const MAX_ENVIRONMENT_BYTES = 4096;

/** What the sealed Environment of a function is bound to: its ARN and the fixed version id 'environment'. */
export function environmentContext(arn: string): { secretArn: string; versionId: string } {
  return { secretArn: arn, versionId: 'environment' };
}

/** Checks an Environment.Variables map as Lambda does (names, reserved keys, 4 KB). */
export function validateVariables(vars: unknown): Record<string, string> {
  if (vars === undefined || vars === null) return {};
  if (typeof vars !== 'object' || Array.isArray(vars)) {
    throw LambdaErrors.invalidContent('Could not parse request body into json: Environment.Variables must be an object of strings');
  }
  const out: Record<string, string> = {};
  const reserved: string[] = [];
  for (const [k, v] of Object.entries(vars as Record<string, unknown>)) {
    if (typeof v !== 'string') {
      throw LambdaErrors.invalidContent(`Could not parse request body into json: the value of environment variable ${k} must be a string`);
    }
    if (!/^[a-zA-Z][a-zA-Z0-9_]+$/.test(k)) {
      throw LambdaErrors.invalidParameter(
        `1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+] (key '${k}')`,
      );
    }
    if (RESERVED_VARIABLES.includes(k)) reserved.push(k);
    out[k] = v;
  }
  if (reserved.length > 0) {
    throw LambdaErrors.invalidParameter(
      'Lambda was unable to configure your environment variables because the environment variables you have provided ' +
        `contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`,
    );
  }
  const size = Buffer.byteLength(JSON.stringify(out));
  if (size > MAX_ENVIRONMENT_BYTES) {
    throw LambdaErrors.invalidParameter(
      `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. Size measured: ${size} bytes`,
    );
  }
  return out;
}

/** Seals a variables map for storage (null when empty). */
export function sealVariables(keyring: Keyring, arn: string, vars: Record<string, string>): Buffer | null {
  if (Object.keys(vars).length === 0) return null;
  return sealValue(keyring, { kind: 'string', text: JSON.stringify(vars) }, environmentContext(arn));
}

/** Opens a function's sealed variables. */
export function openVariables(keyring: Keyring, fn: FunctionRecord): Record<string, string> {
  if (!fn.sealedEnvironment) return {};
  const v = openValue(keyring, fn.sealedEnvironment, environmentContext(fn.arn));
  return v.kind === 'string' ? (JSON.parse(v.text) as Record<string, string>) : {};
}

/** Lambda's timestamp format: 2024-01-31T12:34:56.789+0000. */
export function lambdaTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** The FunctionConfiguration document of a function, as Lambda returns it. */
export function functionConfiguration(fn: FunctionRecord, vars: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    FunctionName: fn.name,
    FunctionArn: fn.arn,
    Runtime: fn.runtime,
    Role: fn.role,
    Handler: fn.handler,
    CodeSize: fn.codeSize,
    Description: fn.description,
    Timeout: fn.timeoutS,
    MemorySize: fn.memoryMb,
    LastModified: lambdaTimestamp(fn.lastModifiedMs),
    CodeSha256: fn.codeSha256,
    Version: '$LATEST',
    TracingConfig: { Mode: 'PassThrough' },
    RevisionId: fn.revisionId,
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: [process.arch === 'arm64' ? 'arm64' : 'x86_64'],
    EphemeralStorage: { Size: 512 },
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
    LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${fn.name}` },
  };
  if (Object.keys(vars).length > 0) out.Environment = { Variables: vars };
  return out;
}
