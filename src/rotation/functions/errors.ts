import type { ServerResponse } from 'node:http';
import { ServiceError } from '../../errors.js';

/*
 * Lambda's error shape (rest-json): the code in the `x-amzn-ErrorType` header and a body
 * `{"Type": "User", "message": "..."}`. The service model spells the message member `Message` for
 * ResourceNotFoundException and ServiceException and `message` for the rest; both SDKs read either.
 */

const CAPITAL_MESSAGE = new Set(['ResourceNotFoundException', 'ServiceException']);

/** HTTP status of each Lambda error code, as the service model declares it. */
const STATUS: Record<string, number> = {
  ResourceNotFoundException: 404,
  AccessDeniedException: 403,
  ResourceConflictException: 409,
  InvalidParameterValueException: 400,
  InvalidRequestContentException: 400,
  PolicyLengthExceededException: 400,
  PreconditionFailedException: 412,
  RequestTooLargeException: 413,
  UnsupportedMediaTypeException: 415,
  TooManyRequestsException: 429,
  ServiceException: 500,
  UnknownOperationException: 404,
};

/** A Lambda API error with its model status. */
export function lambdaError(code: string, message: string): ServiceError {
  return new ServiceError(code, message, STATUS[code] ?? 400);
}

/** Constructors for the Lambda errors this API raises. */
export const LambdaErrors = {
  invalidParameter: (message: string) => lambdaError('InvalidParameterValueException', message),
  invalidContent: (message: string) => lambdaError('InvalidRequestContentException', message),
  functionNotFound: (arn: string) => lambdaError('ResourceNotFoundException', `Function not found: ${arn}`),
  notFound: (message = 'The resource you requested does not exist.') => lambdaError('ResourceNotFoundException', message),
  conflict: (message: string) => lambdaError('ResourceConflictException', message),
  precondition: () =>
    lambdaError(
      'PreconditionFailedException',
      'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
    ),
  unknownOperation: () => lambdaError('UnknownOperationException', 'Unknown operation'),
};

/** Writes an error in Lambda's shape; server faults carry only the request id. */
export function sendLambdaError(res: ServerResponse, err: ServiceError, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const message = err.status >= 500 ? `An error occurred on the server side (request id ${requestId}).` : err.message;
  const body: Record<string, string> = { Type: err.status >= 500 ? 'Service' : 'User' };
  body[CAPITAL_MESSAGE.has(err.code) ? 'Message' : 'message'] = message;
  const text = JSON.stringify(body);
  res.writeHead(err.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
    'x-amzn-errortype': err.code,
  });
  res.end(text);
}

/** Writes a JSON response in Lambda's style. */
export function sendLambdaJson(res: ServerResponse, status: number, body: unknown, requestId: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
  });
  res.end(text);
}

/** Writes an empty response (204 and friends). */
export function sendEmpty(res: ServerResponse, status: number, requestId: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'x-amzn-requestid': requestId, ...headers });
  res.end();
}
