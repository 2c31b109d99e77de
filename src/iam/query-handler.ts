import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Authenticator } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import { callRecord, type AuditRecord } from '../monitoring/audit.js';
import { isServiceError, ServiceError } from '../errors.js';
import { readBody } from '../server/body.js';
import { STS_NAMESPACE, STS_VERSION, stsOperations } from '../sts/service.js';
import type { IamEnv } from './env.js';
import { IamErrors, queryAuthError } from './errors.js';
import { runOperation, type CallMeta, type QueryOperation, type Result } from './operation.js';
import { encodePolicyDocument } from './policy-documents.js';
import { IAM_NAMESPACE, IAM_VERSION, iamOperations } from './service.js';
import { errorDocument, resultDocument, type XmlValue } from './xml.js';

/*
 * The query protocol on the server's one endpoint: `POST /`, a form-encoded body
 * (`Action=CreateUser&Version=2010-05-08&UserName=...`), no X-Amz-Target, signed for `iam` or
 * `sts`. Answers are XML in the shapes botocore's iam and sts models read.
 */

/** The two query-protocol services. */
export type QueryService = 'iam' | 'sts';

const SERVICES: Record<QueryService, { version: string; namespace: string; operations: Readonly<Record<string, QueryOperation>> }> = {
  iam: { version: IAM_VERSION, namespace: IAM_NAMESPACE, operations: iamOperations },
  sts: { version: STS_VERSION, namespace: STS_NAMESPACE, operations: stsOperations },
};

/** What the handler needs: the operations' environment, the authenticator and the body cap. */
export interface QueryEnv extends IamEnv {
  auth: Authenticator;
  maxBodyBytes: number;
  logger?: Logger;
  /** Writes a call's audit record; the call is answered only once it resolves. */
  audit?: (record: AuditRecord) => Promise<void>;
}

const SCOPE_SERVICE = /Credential=[^/\s,]+\/[^/\s,]*\/[^/\s,]*\/([^/\s,]+)\//;

/**
 * The service of a query-protocol request for IAM or STS: a form-encoded request without
 * X-Amz-Target whose SigV4 credential scope names `iam` or `sts`; undefined for anything else.
 */
export function queryServiceOf(headers: IncomingHttpHeaders): QueryService | undefined {
  if (headers['x-amz-target'] !== undefined) return undefined;
  const type = headers['content-type'];
  if (typeof type !== 'string' || !/^application\/x-www-form-urlencoded\b/i.test(type)) return undefined;
  const auth = headers.authorization;
  const m = typeof auth === 'string' ? SCOPE_SERVICE.exec(auth) : null;
  return m !== null && (m[1] === 'iam' || m[1] === 'sts') ? m[1] : undefined;
}

/** Members whose strings are policy documents: URL-encoded on the wire, as IAM sends them. */
const POLICY_DOCUMENTS = new Set(['PolicyDocument', 'AssumeRolePolicyDocument']);

/** The result with its policy documents URL-encoded. */
function encodeDocuments(v: XmlValue): XmlValue {
  if (Array.isArray(v)) return v.map(encodeDocuments);
  if (v === null || typeof v !== 'object' || v instanceof Date) return v;
  const out: Record<string, XmlValue> = {};
  for (const [k, x] of Object.entries(v as Record<string, XmlValue>)) {
    out[k] = POLICY_DOCUMENTS.has(k) && typeof x === 'string' ? encodePolicyDocument(x) : encodeDocuments(x);
  }
  return out;
}

function sendXml(res: ServerResponse, status: number, text: string, requestId: string, extra: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    'content-type': 'text/xml',
    'content-length': String(Buffer.byteLength(text)),
    'x-amzn-requestid': requestId,
    ...extra,
  });
  res.end(text);
}

/** Runs one IAM or STS request end to end and writes its XML answer, errors included. */
export async function handleQuery(env: QueryEnv, service: QueryService, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
  const spec = SERVICES[service];
  // Once the caller is known, the call is audited (never its parameters or answer, which may hold keys).
  let audited: { caller: Principal; action: string; meta: CallMeta } | undefined;
  let unrecorded = false;
  const failure = () => new ServiceError('ServiceFailure', `An error occurred on the server side (request id ${requestId}).`, 500);
  const record = async (outcome: AuditRecord['outcome'], errorCode?: string): Promise<boolean> => {
    if (!audited || !env.audit) return true;
    const { caller, action, meta } = audited;
    try {
      await env.audit(callRecord(env.now(), requestId, { principal: caller, sourceIp: req.socket.remoteAddress }, action, outcome, { ...meta, errorCode }));
      return true;
    } catch {
      return false;
    }
  };
  try {
    const body = await readBody(req, env.maxBodyBytes);
    const caller = await env.auth.authenticate({ method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body }, service);
    const form = new URLSearchParams(body.toString('utf8'));
    const action = form.get('Action');
    // Only an action this server knows is named in the record, never text a caller made up.
    audited = { caller, action: `${service}:UnknownAction`, meta: {} };
    if (action === null || action === '') throw IamErrors.missingAction();
    const version = form.get('Version') ?? spec.version;
    const op = version === spec.version && Object.hasOwn(spec.operations, action) ? spec.operations[action] : undefined;
    if (op === undefined) throw IamErrors.invalidAction(action, version);
    audited.action = `${service}:${action}`;
    const result: Result = await runOperation(env, op, `${service}:${action}`, caller, (n) => form.get(n) ?? undefined, [...form.keys()], audited.meta);
    const encoded = result === undefined ? undefined : (encodeDocuments(result) as Record<string, XmlValue>);
    const document = resultDocument(action, spec.namespace, encoded, requestId);
    if (!(await record('success'))) {
      unrecorded = true;
      throw failure();
    }
    sendXml(res, 200, document, requestId);
  } catch (e) {
    let err: ServiceError;
    if (isServiceError(e) && e.fault === 'client') err = queryAuthError(e);
    else if (unrecorded) err = failure();
    else {
      env.logger?.error({ requestId, err: e instanceof Error ? { type: e.name, stack: e.stack?.split('\n').slice(1, 6).join('\n') } : typeof e }, `${service} internal error`);
      err = failure();
    }
    const denied = err.code === 'AccessDenied' || err.code === 'AccessDeniedException';
    if (!unrecorded && !(await record(denied ? 'denied' : 'error', err.code))) err = failure();
    const close = err.code === 'RequestEntityTooLargeException' ? { connection: 'close' } : undefined;
    sendXml(res, err.status, errorDocument(spec.namespace, err.code, err.message, requestId, err.fault === 'client' ? 'Sender' : 'Receiver'), requestId, close);
  }
}
