import { createHash, randomUUID } from 'node:crypto';
import type { FunctionRecord } from '../../storage/types.js';
import { functionConfiguration, openVariables, sealVariables, validateVariables } from './config.js';
import type { LambdaEnv } from './env.js';
import { LambdaErrors } from './errors.js';
import { executionRole, roleRefusal } from './execution-role.js';
import { FUNCTION_NAME, functionArn, resolveFunctionName } from './names.js';
import { removeFunctionFiles } from './process-runtime.js';
import { SUPPORTED_RUNTIMES, parseHandler, runtimeFamily } from './runtimes.js';
import { inspectZip, type ZipListing } from './zip.js';

type Input = Record<string, unknown>;

const ROLE = /^arn:aws[a-zA-Z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{0,12}:\S+$/;

function validationError(value: unknown, field: string, constraint: string): never {
  throw LambdaErrors.invalidParameter(
    `1 validation error detected: Value '${String(value)}' at '${field}' failed to satisfy constraint: ${constraint}`,
  );
}

function stringField(input: Input, field: string): string | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw LambdaErrors.invalidContent(`Could not parse request body into json: ${field} must be a string`);
  return v;
}

function intField(input: Input, field: string, min: number, max: number): number | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw LambdaErrors.invalidContent(`Could not parse request body into json: ${field} must be an integer`);
  const name = field[0].toLowerCase() + field.slice(1);
  if (v < min) validationError(v, name, `Member must have value greater than or equal to ${min}`);
  if (v > max) validationError(v, name, `Member must have value less than or equal to ${max}`);
  return v;
}

function checkRuntime(runtime: string): void {
  if (!runtimeFamily(runtime)) {
    throw LambdaErrors.invalidParameter(
      `The runtime parameter of ${runtime} is not supported by Lockstep. Supported runtimes: ${SUPPORTED_RUNTIMES.join(', ')}.`,
    );
  }
}

function checkRole(role: string): void {
  if (!ROLE.test(role)) validationError(role, 'role', 'Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+');
}

/** Refuses features Lockstep does not implement, with a message that says so, instead of ignoring them. */
function refuseUnsupported(input: Input): void {
  const unsupported: [string, boolean][] = [
    ['Code.S3Bucket / Code.S3Key (upload the zip as ZipFile)', Boolean(input.S3Bucket || (input.Code as Input | undefined)?.S3Bucket)],
    ['container images (ImageUri, PackageType Image)', Boolean(input.ImageUri || (input.Code as Input | undefined)?.ImageUri || input.PackageType === 'Image')],
    ['Layers', Array.isArray(input.Layers) && input.Layers.length > 0],
    ['VpcConfig', Boolean((input.VpcConfig as Input | undefined)?.SubnetIds && ((input.VpcConfig as Input).SubnetIds as unknown[]).length > 0)],
    ['FileSystemConfigs', Array.isArray(input.FileSystemConfigs) && input.FileSystemConfigs.length > 0],
    ['Publish (versions)', input.Publish === true],
    ['Tags', Boolean(input.Tags && Object.keys(input.Tags as object).length > 0)],
    ['CodeSigningConfigArn', Boolean(input.CodeSigningConfigArn)],
  ];
  const named = unsupported.filter(([, on]) => on).map(([what]) => what);
  if (named.length > 0) throw LambdaErrors.invalidParameter(`Lockstep's Lambda API does not support ${named.join(', ')}.`);
}

function decodeZip(v: unknown): Buffer {
  if (typeof v !== 'string' || v.length === 0) throw LambdaErrors.invalidParameter('Code.ZipFile is required: upload the function code as a zip file.');
  const text = v.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) {
    throw LambdaErrors.invalidContent('Could not parse request body into json: ZipFile is not valid base64');
  }
  return Buffer.from(text, 'base64');
}

/** Refuses a handler the zip does not hold, naming the files that were looked for. */
export function checkHandler(runtime: string, handler: string, listing: ZipListing): void {
  const family = runtimeFamily(runtime)!;
  const target = parseHandler(family, handler);
  const form = family === 'python' ? 'module.function, e.g. lambda_function.lambda_handler' : 'file.function, e.g. index.handler';
  if (!target) throw LambdaErrors.invalidParameter(`The handler '${handler}' is not valid for ${runtime}: it must have the form ${form}.`);
  if (target.candidates.some((c) => listing.files.has(c))) return;
  const held = [...listing.files].sort();
  const shown = held.slice(0, 10).join(', ') + (held.length > 10 ? `, ... (${held.length} files)` : '');
  throw LambdaErrors.invalidParameter(
    `The handler '${handler}' names the module '${target.module}', but the zip has no ${target.candidates.join(' or ')} ` +
      `at the path the handler gives (relative to the zip root). The zip holds: ${shown || 'no files'}.`,
  );
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('base64');
}

/** Loads a function or answers Lambda's ResourceNotFoundException. */
export async function loadFunction(env: LambdaEnv, name: string): Promise<FunctionRecord> {
  const fn = await env.store.read((tx) => tx.functions.get(name));
  if (!fn) throw LambdaErrors.functionNotFound(functionArn(env.region, env.accountId, name));
  return fn;
}

/** Refuses, in Lambda's words and saying why, a role that Lambda could not assume. */
export async function checkExecutionRole(env: LambdaEnv, role: string, arn: string): Promise<void> {
  const found = await executionRole(env, role, arn);
  if (typeof found === 'string') throw LambdaErrors.invalidParameter(roleRefusal(found));
}

/** CreateFunction: validates everything up front, then stores the function (201, its configuration). */
export async function createFunction(env: LambdaEnv, input: Input): Promise<Record<string, unknown>> {
  const name = resolveFunctionName(input.FunctionName, env.region, env.accountId);
  if (!FUNCTION_NAME.test(name)) validationError(name, 'functionName', 'Member must have length less than or equal to 64');
  refuseUnsupported(input);
  const runtime = stringField(input, 'Runtime');
  if (!runtime) throw LambdaErrors.invalidParameter(`Runtime is required for a zip function. Supported runtimes: ${SUPPORTED_RUNTIMES.join(', ')}.`);
  checkRuntime(runtime);
  const handler = stringField(input, 'Handler');
  if (!handler) throw LambdaErrors.invalidParameter('Handler is required for a zip function.');
  const role = stringField(input, 'Role');
  if (!role) throw LambdaErrors.invalidParameter('Role is required: the ARN of the function\'s execution role.');
  checkRole(role);
  const description = stringField(input, 'Description') ?? '';
  if (description.length > 256) validationError(description, 'description', 'Member must have length less than or equal to 256');
  const timeoutS = intField(input, 'Timeout', 1, 900) ?? 3;
  const memoryMb = intField(input, 'MemorySize', 128, 10240) ?? 128;
  const vars = validateVariables((input.Environment as Input | undefined)?.Variables);
  const code = decodeZip((input.Code as Input | undefined)?.ZipFile);
  checkHandler(runtime, handler, inspectZip(code));

  const arn = functionArn(env.region, env.accountId, name);
  await checkExecutionRole(env, role, arn);
  const now = env.now();
  const fn: FunctionRecord = {
    name, arn, runtime, handler, role, description, timeoutS, memoryMb,
    sealedEnvironment: sealVariables(env.keyring, arn, vars),
    code, codeSha256: sha256(code), codeSize: code.length, policy: null,
    createdMs: now, lastModifiedMs: now, revisionId: randomUUID(),
  };
  await env.store.transaction(async (tx) => {
    if (await tx.functions.get(name)) throw LambdaErrors.conflict(`Function already exist: ${name}`);
    await tx.functions.put(fn);
  });
  return functionConfiguration(fn, vars);
}

/** GetFunction: configuration and code location. */
export async function getFunction(env: LambdaEnv, name: string): Promise<Record<string, unknown>> {
  const fn = await loadFunction(env, name);
  return { Configuration: functionConfiguration(fn, openVariables(env.keyring, fn)), Code: { RepositoryType: 'S3' } };
}

/** GetFunctionConfiguration. */
export async function getConfiguration(env: LambdaEnv, name: string): Promise<Record<string, unknown>> {
  const fn = await loadFunction(env, name);
  return functionConfiguration(fn, openVariables(env.keyring, fn));
}

/** ListFunctions, by name, with an opaque Marker. */
export async function listFunctions(env: LambdaEnv, query: URLSearchParams): Promise<Record<string, unknown>> {
  const maxText = query.get('MaxItems');
  const max = maxText === null ? 50 : Number(maxText);
  if (!Number.isInteger(max) || max < 1 || max > 10000) validationError(maxText, 'maxItems', 'Member must have value between 1 and 10000');
  const marker = query.get('Marker');
  let after = '';
  if (marker) {
    after = Buffer.from(marker, 'base64url').toString('utf8');
    if (!FUNCTION_NAME.test(after)) throw LambdaErrors.invalidParameter('The Marker is not valid.');
  }
  const all = (await env.store.read((tx) => tx.functions.list())).filter((f) => f.name > after);
  const page = all.slice(0, max);
  const out: Record<string, unknown> = { Functions: page.map((f) => functionConfiguration(f, openVariables(env.keyring, f))) };
  if (all.length > max) out.NextMarker = Buffer.from(page[page.length - 1].name).toString('base64url');
  return out;
}

function checkRevision(fn: FunctionRecord, input: Input): void {
  const rev = input.RevisionId;
  if (rev !== undefined && rev !== null && rev !== fn.revisionId) throw LambdaErrors.precondition();
}

/** Applies a change to a stored function in one transaction, with a new revision id. */
async function change(env: LambdaEnv, name: string, input: Input, edit: (fn: FunctionRecord) => FunctionRecord): Promise<FunctionRecord> {
  return env.store.transaction(async (tx) => {
    const fn = await tx.functions.get(name);
    if (!fn) throw LambdaErrors.functionNotFound(functionArn(env.region, env.accountId, name));
    checkRevision(fn, input);
    const next = { ...edit(fn), lastModifiedMs: env.now(), revisionId: randomUUID() };
    await tx.functions.put(next);
    return next;
  });
}

/** UpdateFunctionCode: a new zip (DryRun validates only). */
export async function updateCode(env: LambdaEnv, name: string, input: Input): Promise<Record<string, unknown>> {
  refuseUnsupported(input);
  const code = decodeZip(input.ZipFile);
  const listing = inspectZip(code);
  const current = await loadFunction(env, name);
  checkHandler(current.runtime, current.handler, listing);
  if (input.DryRun === true) {
    checkRevision(current, input);
    return functionConfiguration({ ...current, codeSha256: sha256(code), codeSize: code.length }, openVariables(env.keyring, current));
  }
  const fn = await change(env, name, input, (f) => {
    checkHandler(f.runtime, f.handler, listing);
    return { ...f, code, codeSha256: sha256(code), codeSize: code.length };
  });
  return functionConfiguration(fn, openVariables(env.keyring, fn));
}

/** UpdateFunctionConfiguration: runtime, handler, role, description, timeout, memory, environment. */
export async function updateConfiguration(env: LambdaEnv, name: string, input: Input): Promise<Record<string, unknown>> {
  refuseUnsupported(input);
  const runtime = stringField(input, 'Runtime');
  if (runtime !== undefined) checkRuntime(runtime);
  const handler = stringField(input, 'Handler');
  const role = stringField(input, 'Role');
  if (role !== undefined) checkRole(role);
  const description = stringField(input, 'Description');
  if (description !== undefined && description.length > 256) validationError(description, 'description', 'Member must have length less than or equal to 256');
  const timeoutS = intField(input, 'Timeout', 1, 900);
  const memoryMb = intField(input, 'MemorySize', 128, 10240);
  const env_ = input.Environment as Input | undefined;
  const vars = env_ === undefined || env_ === null ? undefined : validateVariables(env_.Variables);
  if (role !== undefined) await checkExecutionRole(env, role, functionArn(env.region, env.accountId, name));
  const fn = await change(env, name, input, (f) => {
    const next: FunctionRecord = {
      ...f,
      runtime: runtime ?? f.runtime,
      handler: handler ?? f.handler,
      role: role ?? f.role,
      description: description ?? f.description,
      timeoutS: timeoutS ?? f.timeoutS,
      memoryMb: memoryMb ?? f.memoryMb,
    };
    if (vars !== undefined) next.sealedEnvironment = sealVariables(env.keyring, f.arn, vars);
    if (runtime !== undefined || handler !== undefined) checkHandler(next.runtime, next.handler, inspectZip(f.code));
    return next;
  });
  return functionConfiguration(fn, openVariables(env.keyring, fn));
}

/** DeleteFunction: removes the function and its extracted code; its log stays readable. */
export async function deleteFunction(env: LambdaEnv, name: string): Promise<void> {
  const deleted = await env.store.transaction((tx) => tx.functions.delete(name));
  if (!deleted) throw LambdaErrors.functionNotFound(functionArn(env.region, env.accountId, name));
  try {
    removeFunctionFiles(env.dataDir, name);
  } catch (e) {
    env.logger?.warn({ function: name, err: (e as Error).message }, 'could not remove the files of a deleted function');
  }
}
