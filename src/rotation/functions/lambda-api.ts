import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { ServiceError, isServiceError } from '../../errors.js';
import type { LambdaEnv } from './env.js';
import { LambdaErrors, lambdaError, sendEmpty, sendLambdaError, sendLambdaJson } from './errors.js';
import {
  checkExecutionRole, createFunction, deleteFunction, getConfiguration, getFunction, listFunctions, loadFunction, updateCode, updateConfiguration,
} from './function-ops.js';
import { functionArn, resolveFunctionName } from './names.js';
import { addStatement, parsePolicy, removeStatement } from './policy.js';
import { MAX_RESPONSE_BYTES, errorPayload, invokeFunction } from './process-runtime.js';
import { tail } from './logs.js';

export type { LambdaEnv } from './env.js';

const PREFIX = '/2015-03-31/functions';

/** The largest request Lambda accepts (CreateFunction with a 50 MB zip, base64 in JSON); a body cap for these paths. */
export const LAMBDA_MAX_REQUEST_BYTES = 70_167_211;

/** True for request paths the Lambda-compatible API serves. */
export function isLambdaPath(url: string): boolean {
  return url.startsWith(PREFIX);
}

type Input = Record<string, unknown>;

function jsonBody(body: Buffer): Input {
  if (body.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw LambdaErrors.invalidContent(`Could not parse request body into json: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw LambdaErrors.invalidContent('Could not parse request body into json: the body must be a JSON object');
  }
  return v as Input;
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw LambdaErrors.invalidParameter(`The request path segment '${s}' is not valid percent-encoding.`);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** Invoke: runs the function (RequestResponse), queues it (Event) or only checks it (DryRun). */
async function invoke(env: LambdaEnv, req: IncomingMessage, res: ServerResponse, name: string, body: Buffer, requestId: string): Promise<void> {
  const type = header(req, 'x-amz-invocation-type') ?? 'RequestResponse';
  if (!['RequestResponse', 'Event', 'DryRun'].includes(type)) {
    throw LambdaErrors.invalidParameter(
      `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`,
    );
  }
  const logType = header(req, 'x-amz-log-type') ?? 'None';
  if (logType !== 'None' && logType !== 'Tail') {
    throw LambdaErrors.invalidParameter(
      `1 validation error detected: Value '${logType}' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]`,
    );
  }
  if (body.length > MAX_RESPONSE_BYTES) {
    throw lambdaError('RequestTooLargeException', `Request must be smaller than ${MAX_RESPONSE_BYTES} bytes for the InvokeFunction operation`);
  }
  const text = body.length === 0 ? '{}' : body.toString('utf8');
  try {
    JSON.parse(text);
  } catch (e) {
    throw LambdaErrors.invalidContent(`Could not parse request body into json: Could not parse payload into json: ${(e as Error).message}`);
  }
  const fn = await loadFunction(env, name);
  await checkExecutionRole(env, fn.role, fn.arn);
  if (type === 'DryRun') return sendEmpty(res, 204, requestId);
  if (type === 'Event') {
    void invokeFunction(env, fn, undefined, { eventJson: text, requestId: randomUUID() }).catch((e: unknown) =>
      env.logger?.error({ function: fn.name, err: (e as Error).message }, 'asynchronous invocation failed'),
    );
    return sendEmpty(res, 202, requestId);
  }
  const outcome = await invokeFunction(env, fn, undefined, { eventJson: text, requestId });
  const payload = outcome.ok ? outcome.payloadText : JSON.stringify(errorPayload(fn, outcome));
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': requestId,
    'x-amz-executed-version': '$LATEST',
  };
  if (!outcome.ok) headers['x-amz-function-error'] = 'Unhandled';
  if (logType === 'Tail') headers['x-amz-log-result'] = Buffer.from(tail(outcome.logs), 'utf8').toString('base64');
  res.writeHead(200, headers);
  res.end(payload);
}

/** AddPermission: one statement more in the function's resource policy (201, the statement). */
async function addPermission(env: LambdaEnv, name: string, input: Input): Promise<Record<string, unknown>> {
  return env.store.transaction(async (tx) => {
    const fn = await tx.functions.get(name);
    if (!fn) throw LambdaErrors.functionNotFound(functionArn(env.region, env.accountId, name));
    if (input.RevisionId != null && input.RevisionId !== fn.revisionId) throw LambdaErrors.precondition();
    const { policy, statement } = addStatement(fn, input);
    await tx.functions.put({ ...fn, policy, revisionId: randomUUID() });
    return { Statement: JSON.stringify(statement) };
  });
}

/** RemovePermission: drops a statement by its Sid (204). */
async function removePermission(env: LambdaEnv, name: string, sid: string, query: URLSearchParams): Promise<void> {
  await env.store.transaction(async (tx) => {
    const fn = await tx.functions.get(name);
    if (!fn) throw LambdaErrors.functionNotFound(functionArn(env.region, env.accountId, name));
    const rev = query.get('RevisionId');
    if (rev !== null && rev !== fn.revisionId) throw LambdaErrors.precondition();
    await tx.functions.put({ ...fn, policy: removeStatement(fn, sid), revisionId: randomUUID() });
  });
}

/** GetPolicy: the resource policy as a JSON string, and the function's revision id. */
async function getPolicy(env: LambdaEnv, name: string): Promise<Record<string, unknown>> {
  const fn = await loadFunction(env, name);
  if (!parsePolicy(fn.policy)) throw LambdaErrors.notFound();
  return { Policy: fn.policy, RevisionId: fn.revisionId };
}

/** Routes one request by method and path, as the Lambda REST API lays them out. */
async function route(env: LambdaEnv, req: IncomingMessage, res: ServerResponse, body: Buffer, requestId: string): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const method = req.method ?? 'GET';
  const rest = path.slice(PREFIX.length);
  if (rest !== '' && !rest.startsWith('/')) throw LambdaErrors.unknownOperation();
  const segs = rest.split('/').slice(1);
  if (segs.length === 1 && segs[0] === '') segs.pop();
  const ok = (status: number, out: unknown) => sendLambdaJson(res, status, out, requestId);

  if (segs.length === 0) {
    if (method === 'GET') return ok(200, await listFunctions(env, query));
    if (method === 'POST') return ok(201, await createFunction(env, jsonBody(body)));
    throw LambdaErrors.unknownOperation();
  }
  const name = resolveFunctionName(decodeSegment(segs[0]), env.region, env.accountId, query.get('Qualifier'));
  const sub = segs.slice(1).join('/');
  switch (`${method} ${segs.length > 2 && segs[1] === 'policy' ? 'policy/*' : sub}`) {
    case 'GET ': return ok(200, await getFunction(env, name));
    case 'DELETE ': await deleteFunction(env, name); return sendEmpty(res, 204, requestId);
    case 'GET configuration': return ok(200, await getConfiguration(env, name));
    case 'PUT configuration': return ok(200, await updateConfiguration(env, name, jsonBody(body)));
    case 'PUT code': return ok(200, await updateCode(env, name, jsonBody(body)));
    case 'POST invocations': return invoke(env, req, res, name, body, requestId);
    case 'POST policy': return ok(201, await addPermission(env, name, jsonBody(body)));
    case 'GET policy': return ok(200, await getPolicy(env, name));
    case 'DELETE policy/*':
      if (segs.length !== 3) throw LambdaErrors.unknownOperation();
      await removePermission(env, name, decodeSegment(segs[2]), query);
      return sendEmpty(res, 204, requestId);
    default: throw LambdaErrors.unknownOperation();
  }
}

/**
 * Serves one Lambda API request (rest-json, `/2015-03-31/functions...`). `verify` checks the SigV4
 * signature for service `lambda` and throws on failure. The handler writes the whole response,
 * errors included, in Lambda's shape.
 */
export async function handleLambda(
  env: LambdaEnv,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  requestId: string,
  verify: () => void,
): Promise<void> {
  try {
    verify();
  } catch (e) {
    // rest-json services answer signature failures with 403 (see src/auth/sigv4.ts).
    if (isServiceError(e)) return sendLambdaError(res, new ServiceError(e.code, e.message, 403), requestId);
    throw e;
  }
  try {
    await route(env, req, res, body, requestId);
  } catch (e) {
    if (isServiceError(e) && e.fault === 'client') return sendLambdaError(res, e, requestId);
    env.logger?.error({ requestId, err: e instanceof Error ? e.name : typeof e }, 'Lambda API internal error');
    sendLambdaError(res, lambdaError('ServiceException', 'internal error'), requestId);
  }
}
