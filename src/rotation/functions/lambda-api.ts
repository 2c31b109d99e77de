import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { ServiceError, isServiceError } from '../../errors.js';
import type { Principal } from '../../auth/principal.js';
import { callRecord, type AuditRecord } from '../../monitoring/audit.js';
import type { FunctionRecord } from '../../storage/types.js';
import { authorizeLambda, type LambdaCall } from './authorize.js';
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
async function invoke(env: LambdaEnv, req: IncomingMessage, fn: FunctionRecord, body: Buffer, requestId: string): Promise<Reply> {
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
  await checkExecutionRole(env, fn.role, fn.arn);
  if (type === 'DryRun') return { status: 204 };
  if (type === 'Event') {
    // Queued once the call's audit record is written, as the answer goes out.
    return {
      status: 202,
      after: () => void invokeFunction(env, fn, undefined, { eventJson: text, requestId: randomUUID() }).catch((e: unknown) =>
        env.logger?.error({ function: fn.name, err: (e as Error).message }, 'asynchronous invocation failed'),
      ),
    };
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
  return { status: 200, raw: { headers, payload } };
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

/** What a route answers; written once the call's audit record is. */
interface Reply {
  status: number;
  json?: unknown;
  raw?: { headers: Record<string, string | number>; payload: string };
  /** Runs after the answer is sent (an asynchronous invocation). */
  after?: () => void;
}

/** The action each route is authorized as, by `<method> <sub-path>`. */
const ACTIONS: Record<string, string> = {
  'GET ': 'GetFunction',
  'DELETE ': 'DeleteFunction',
  'GET configuration': 'GetFunctionConfiguration',
  'PUT configuration': 'UpdateFunctionConfiguration',
  'PUT code': 'UpdateFunctionCode',
  'POST invocations': 'InvokeFunction',
  'POST policy': 'AddPermission',
  'GET policy': 'GetPolicy',
  'DELETE policy/*': 'RemovePermission',
};

/** Routes one request by method and path, as the Lambda REST API lays them out; authorizes it first. */
async function route(env: LambdaEnv, call: LambdaCall, req: IncomingMessage, body: Buffer, requestId: string): Promise<Reply> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const method = req.method ?? 'GET';
  const rest = path.slice(PREFIX.length);
  if (rest !== '' && !rest.startsWith('/')) throw LambdaErrors.unknownOperation();
  const segs = rest.split('/').slice(1);
  if (segs.length === 1 && segs[0] === '') segs.pop();
  const ok = (status: number, json: unknown): Reply => ({ status, json });

  if (segs.length === 0) {
    // Known before anything can fail, so that the audit record names the action.
    if (method === 'GET' || method === 'POST') call.action = method === 'GET' ? 'lambda:ListFunctions' : 'lambda:CreateFunction';
    if (method === 'GET') {
      await authorizeLambda(env, call, 'lambda:ListFunctions', '*');
      return ok(200, await listFunctions(env, query));
    }
    if (method === 'POST') {
      const input = jsonBody(body);
      const named = typeof input.FunctionName === 'string' ? input.FunctionName : '';
      let arn = '*';
      try {
        arn = functionArn(env.region, env.accountId, resolveFunctionName(named, env.region, env.accountId));
      } catch {
        // createFunction explains what is wrong with the name
      }
      await authorizeLambda(env, call, 'lambda:CreateFunction', arn, undefined, typeof input.Role === 'string' ? input.Role : undefined);
      return ok(201, await createFunction(env, input));
    }
    throw LambdaErrors.unknownOperation();
  }
  const sub = segs.slice(1).join('/');
  const key = `${method} ${segs.length > 2 && segs[1] === 'policy' ? 'policy/*' : sub}`;
  const action = Object.hasOwn(ACTIONS, key) ? ACTIONS[key] : undefined;
  if (action === undefined || (key === 'DELETE policy/*' && segs.length !== 3)) throw LambdaErrors.unknownOperation();
  call.action = `lambda:${action}`;
  const name = resolveFunctionName(decodeSegment(segs[0]), env.region, env.accountId, query.get('Qualifier'));
  // Decided on the function's ARN and its resource policy; a function that does not exist is
  // authorized on the ARN named, and the operation then says it was not found.
  const fn = await env.store.read((tx) => tx.functions.get(name));
  const input = key.startsWith('PUT') || key === 'POST policy' ? jsonBody(body) : {};
  const passRole = key === 'PUT configuration' && typeof input.Role === 'string' ? input.Role : undefined;
  await authorizeLambda(env, call, `lambda:${action}`, fn?.arn ?? functionArn(env.region, env.accountId, name), fn, passRole);
  switch (key) {
    case 'GET ': return ok(200, await getFunction(env, name));
    case 'DELETE ': await deleteFunction(env, name); return { status: 204 };
    case 'GET configuration': return ok(200, await getConfiguration(env, name));
    case 'PUT configuration': return ok(200, await updateConfiguration(env, name, input));
    case 'PUT code': return ok(200, await updateCode(env, name, input));
    case 'POST invocations': return invoke(env, req, fn ?? (await loadFunction(env, name)), body, requestId);
    case 'POST policy': return ok(201, await addPermission(env, name, input));
    case 'GET policy': return ok(200, await getPolicy(env, name));
    default:
      await removePermission(env, name, decodeSegment(segs[2]), query);
      return { status: 204 };
  }
}

/**
 * Serves one Lambda API request (rest-json, `/2015-03-31/functions...`). `verify` checks the SigV4
 * signature for service `lambda`, throws on failure and names the caller. The call is authorized,
 * run, and recorded in the audit trail before its answer goes out (if the record cannot be written,
 * the caller gets ServiceException instead). The handler writes the whole response, errors included,
 * in Lambda's shape.
 */
export async function handleLambda(
  env: LambdaEnv,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  requestId: string,
  verify: () => Principal,
): Promise<void> {
  let call: LambdaCall;
  try {
    call = { principal: verify(), sourceIp: req.socket.remoteAddress };
  } catch (e) {
    // rest-json services answer signature failures with 403 (see src/auth/sigv4.ts).
    if (isServiceError(e)) return sendLambdaError(res, new ServiceError(e.code, e.message, 403), requestId);
    throw e;
  }
  let reply: Reply;
  try {
    reply = await route(env, call, req, body, requestId);
  } catch (e) {
    let err: ServiceError;
    if (isServiceError(e) && e.fault === 'client') err = e;
    else {
      env.logger?.error({ requestId, err: e instanceof Error ? e.name : typeof e }, 'Lambda API internal error');
      err = lambdaError('ServiceException', 'internal error');
    }
    const written = await record(env, call, requestId, err.code === 'AccessDeniedException' ? 'denied' : 'error', err.code);
    return sendLambdaError(res, written ? err : lambdaError('ServiceException', 'internal error'), requestId);
  }
  if (!(await record(env, call, requestId, 'success'))) return sendLambdaError(res, lambdaError('ServiceException', 'internal error'), requestId);
  if (reply.raw) {
    res.writeHead(reply.status, reply.raw.headers);
    res.end(reply.raw.payload);
  } else if (reply.json !== undefined) sendLambdaJson(res, reply.status, reply.json, requestId);
  else sendEmpty(res, reply.status, requestId);
  reply.after?.();
}

/** Writes the call's audit record; false when it could not be written. */
async function record(env: LambdaEnv, call: LambdaCall, requestId: string, outcome: AuditRecord['outcome'], errorCode?: string): Promise<boolean> {
  if (!env.audit) return true;
  try {
    await env.audit(callRecord(env.now(), requestId, call, call.action ?? 'lambda:UnknownOperation', outcome, { resource: call.resource, errorCode, decision: call.decision }));
    return true;
  } catch {
    return false;
  }
}
