import type { ServerResponse } from 'node:http';
import { ServiceError } from '../errors.js';

/** The content type of awsJson1.1 requests and responses. */
export const AWS_JSON_11 = 'application/x-amz-json-1.1';

/** Writes a JSON response with a request id. */
export function sendJson(res: ServerResponse, status: number, body: unknown, requestId: string, contentType = AWS_JSON_11): void {
  const text = JSON.stringify(body);
  // The flat-array form of writeHead skips building and re-validating a header object.
  res.writeHead(status, ['content-type', contentType, 'content-length', String(Buffer.byteLength(text)), 'x-amzn-requestid', requestId]);
  res.end(text);
}

/** Writes an error in AWS's JSON shape; server faults never carry internal detail. */
export function sendError(res: ServerResponse, err: ServiceError, requestId: string): void {
  const body: Record<string, string> = { __type: err.code, Message: err.message };
  if (err.status >= 500) body.Message = `${err.message} (request id ${requestId})`;
  if (!res.headersSent) {
    const extra = err.code === 'RequestEntityTooLargeException' ? { connection: 'close' } : undefined;
    const text = JSON.stringify(body);
    res.writeHead(err.status, {
      'content-type': AWS_JSON_11,
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': requestId,
      'x-amzn-errortype': err.code,
      ...extra,
    });
    res.end(text);
  } else {
    res.destroy();
  }
}
