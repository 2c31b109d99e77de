import { createHash } from 'node:crypto';
import { Errors } from '../errors.js';

/** Encodes where a listing continues, bound to the query it came from. */
export function encodePageToken(query: unknown, position: unknown): string {
  return Buffer.from(JSON.stringify({ q: queryHash(query), p: position }), 'utf8').toString('base64url');
}

/** Decodes a NextToken; one that is malformed or belongs to another query gives InvalidNextTokenException. */
export function decodePageToken<T>(token: string, query: unknown, check: (p: unknown) => p is T): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw Errors.invalidNextToken();
  }
  if (
    typeof parsed !== 'object' || parsed === null ||
    (parsed as { q?: unknown }).q !== queryHash(query) || !check((parsed as { p?: unknown }).p)
  ) {
    throw Errors.invalidNextToken();
  }
  return (parsed as { p: T }).p;
}

function queryHash(query: unknown): string {
  return createHash('sha256').update(JSON.stringify(query)).digest('base64url').slice(0, 16);
}
