/** The longest error text kept in the journal, events and history. */
export const MAX_ERROR_CHARS = 1000;

/**
 * Removes secret material from an error text: every given value, and every string of four or more
 * characters inside a value that is a JSON object (a password field, say), becomes [REDACTED].
 */
export function redact(text: string, values: string[]): string {
  const needles = new Set<string>();
  for (const v of values) {
    if (v.length >= 4) needles.add(v);
    try {
      const parsed: unknown = JSON.parse(v);
      if (parsed && typeof parsed === 'object') {
        for (const field of Object.values(parsed as Record<string, unknown>)) {
          if (typeof field === 'string' && field.length >= 4) needles.add(field);
          if (typeof field === 'number' && String(field).length >= 6) needles.add(String(field));
        }
      }
    } catch {
      // not JSON: the value itself is enough
    }
  }
  let out = text;
  // Longest first, so a value that contains another is removed whole.
  for (const n of [...needles].sort((a, b) => b.length - a.length)) out = out.split(n).join('[REDACTED]');
  return out.length > MAX_ERROR_CHARS ? out.slice(0, MAX_ERROR_CHARS) + '…' : out;
}
