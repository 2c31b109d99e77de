import type { IncomingMessage } from 'node:http';
import { ServiceError } from '../errors.js';

/** The error for a body over the cap; answered before anything is parsed. */
export function tooLarge(max: number): ServiceError {
  return new ServiceError('RequestEntityTooLargeException', `Request body exceeds the maximum size of ${max} bytes.`, 413);
}

/** Reads a request body up to `max` bytes; a larger one (declared or actual) is refused early. */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) return Promise.reject(tooLarge(max));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > max) {
        failed = true;
        reject(tooLarge(max));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
    req.on('error', (e) => {
      if (!failed) {
        failed = true;
        reject(e);
      }
    });
  });
}
