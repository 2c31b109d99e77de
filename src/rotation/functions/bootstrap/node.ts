/**
 * The node bootstrap (an ES module): `node bootstrap.mjs TASK_ROOT HANDLER REQUEST_ID DEADLINE_MS
 * FUNCTION_ARN`, the event on stdin. It imports the handler (.js, .mjs or .cjs), calls it with
 * (event, context, callback) — async and callback styles — and writes the outcome as one JSON document
 * to fd 3, so nothing the function prints can corrupt it; prints go to the log.
 */
export const NODE_BOOTSTRAP = String.raw`
import { closeSync, existsSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';

const RESULT_FD = 3;
const [taskRoot, handlerString, requestId, deadlineText, functionArn] = process.argv.slice(2);
const deadline = Number(deadlineText);
let reported = false;

function report(obj) {
  if (reported) return;
  reported = true;
  const data = Buffer.from(JSON.stringify(obj), 'utf8');
  let at = 0;
  while (at < data.length) at += writeSync(RESULT_FD, data, at);
  closeSync(RESULT_FD);
}

function exitWith(obj) {
  report(obj);
  process.exit(0);
}

function errorOf(e) {
  if (e instanceof Error) {
    return { errorType: e.name || 'Error', errorMessage: e.message, stackTrace: String(e.stack || '').split('\n') };
  }
  let message;
  try {
    message = typeof e === 'string' ? e : JSON.stringify(e);
  } catch {
    message = String(e);
  }
  return { errorType: typeof e, errorMessage: String(message), stackTrace: [] };
}

function fail(e, errorType) {
  const err = errorOf(e);
  if (errorType) {
    err.errorMessage = err.errorType + ': ' + err.errorMessage;
    err.errorType = errorType;
  }
  process.stderr.write(new Date().toISOString() + '\t' + requestId + '\tERROR\tInvoke Error \t' +
    JSON.stringify({ errorType: err.errorType, errorMessage: err.errorMessage, stack: err.stackTrace }) + '\n');
  exitWith({ ok: false, ...err });
}

function succeed(value) {
  let payload;
  try {
    payload = JSON.stringify(value === undefined ? null : value);
  } catch (e) {
    exitWith({ ok: false, errorType: 'Runtime.MarshalError', errorMessage: 'Unable to stringify response body: ' + (e && e.message), stackTrace: [] });
    return;
  }
  exitWith({ ok: true, payload: payload === undefined ? 'null' : payload });
}

for (const [method, level] of [['log', 'INFO'], ['info', 'INFO'], ['warn', 'WARN'], ['error', 'ERROR'], ['debug', 'DEBUG'], ['trace', 'TRACE']]) {
  console[method] = (...args) => {
    process.stdout.write(new Date().toISOString() + '\t' + requestId + '\t' + level + '\t' + format(...args) + '\n');
  };
}

process.on('uncaughtException', (e) => fail(e));
process.on('unhandledRejection', (reason) => fail(reason, 'Runtime.UnhandledPromiseRejection'));

let pending;
process.on('beforeExit', () => {
  if (pending) {
    const p = pending;
    pending = undefined;
    p();
  } else {
    succeed(null);
  }
});

async function loadHandler() {
  const slash = handlerString.lastIndexOf('/');
  const dot = handlerString.indexOf('.', slash + 1);
  const modulePath = handlerString.slice(0, dot);
  const path = handlerString.slice(dot + 1).split('.');
  const file = ['.js', '.mjs', '.cjs'].map((ext) => join(taskRoot, modulePath + ext)).find((f) => existsSync(f));
  if (!file) {
    exitWith({ ok: false, errorType: 'Runtime.ImportModuleError', errorMessage: "Error: Cannot find module '" + modulePath + "'", stackTrace: [] });
  }
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    fail(e, e instanceof SyntaxError ? 'Runtime.UserCodeSyntaxError' : 'Runtime.ImportModuleError');
  }
  const walk = (root) => path.reduce((o, key) => (o == null ? undefined : o[key]), root);
  let fn = walk(mod);
  if (typeof fn !== 'function' && mod.default != null) fn = walk(mod.default);
  if (typeof fn !== 'function') {
    exitWith({ ok: false, errorType: 'Runtime.HandlerNotFound', errorMessage: handlerString + ' is undefined or not exported', stackTrace: [] });
  }
  return fn;
}

async function main() {
  const raw = readFileSync(0, 'utf8');
  const event = raw.trim() === '' ? {} : JSON.parse(raw);
  process.chdir(taskRoot);
  const handler = await loadHandler();
  let settled = false;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION || '$LATEST',
    invokedFunctionArn: functionArn,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: undefined,
    clientContext: undefined,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  const callback = (err, value) => {
    if (settled) return;
    settled = true;
    const send = () => (err != null ? fail(err) : succeed(value));
    if (context.callbackWaitsForEmptyEventLoop) pending = send;
    else send();
  };
  context.done = callback;
  context.succeed = (value) => callback(null, value);
  context.fail = (err) => callback(err == null ? 'handled' : err);
  let returned;
  try {
    returned = handler(event, context, callback);
  } catch (e) {
    fail(e);
  }
  if (returned && typeof returned.then === 'function') {
    returned.then((value) => { settled = true; succeed(value); }, (e) => { settled = true; fail(e); });
  }
}

main().catch((e) => fail(e));
`;
