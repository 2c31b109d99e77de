import { IamErrors } from './errors.js';
import type { Input } from './members.js';

/** One page of a listing in IAM's shape: the items, `IsTruncated`, and the `Marker` of the next page. */
export interface Page<T> {
  items: T[];
  IsTruncated: boolean;
  Marker?: string;
}

/**
 * Pages a listing sorted by `keyOf` (unique keys) with the request's `Marker` and `MaxItems`
 * (default 100, as IAM). The marker is the last key returned, base64url-encoded: the next page
 * starts after it, so items created or deleted meanwhile neither repeat nor shift the listing.
 */
export function page<T>(items: readonly T[], keyOf: (t: T) => string, input: Input): Page<T> {
  const max = typeof input.MaxItems === 'number' ? input.MaxItems : 100;
  const sorted = [...items].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  let start = 0;
  if (typeof input.Marker === 'string') {
    const after = Buffer.from(input.Marker, 'base64url').toString('utf8');
    if (!/^[A-Za-z0-9_-]+$/.test(input.Marker) || after === '') throw IamErrors.validation('Invalid Marker.');
    start = sorted.findIndex((t) => keyOf(t) > after);
    if (start < 0) start = sorted.length;
  }
  const out = sorted.slice(start, start + max);
  const truncated = start + max < sorted.length;
  return {
    items: out,
    IsTruncated: truncated,
    ...(truncated ? { Marker: Buffer.from(keyOf(out[out.length - 1]), 'utf8').toString('base64url') } : {}),
  };
}
