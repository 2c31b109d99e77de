import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

/** The product's seed document. */
export const SEED_URL = new URL('../../../shared/seed/rotation-strategies.md', import.meta.url);

/** The JSON block that follows a heading of the seed document, verbatim. */
export function seedJson(heading: string): string {
  const md = readFileSync(SEED_URL, 'utf8');
  const at = md.indexOf(heading);
  assert.ok(at >= 0, `heading ${heading} not in the seed`);
  const start = md.indexOf('```json\n', at) + '```json\n'.length;
  return md.slice(start, md.indexOf('```', start));
}
