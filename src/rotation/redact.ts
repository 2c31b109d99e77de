/** The longest error text kept in the journal, events and history. */
export const MAX_ERROR_CHARS = 1000;

/**
 * Fields of a JSON secret that describe where and as whom to connect, not how to prove it: the
 * connection descriptors of AWS's database secrets. They stay readable in error texts, so that
 * "cannot connect to PostgreSQL at db.internal:5432 as 'app'" says which server and which user.
 */
const DESCRIPTOR_FIELDS = new Set(
  ['engine', 'host', 'port', 'username', 'user', 'dbname', 'database', 'ssl', 'masterarn', 'alternateusername',
    'dbclusteridentifier', 'dbinstanceidentifier'],
);

/**
 * Removes secret material from an error text: every given value, and every string of four or more
 * characters inside a value that is a JSON object (a password field, say), becomes [REDACTED];
 * connection descriptors (host, port, username, engine, dbname, ...) are kept.
 */
export function redact(text: string, values: string[]): string {
  const needles = new Set<string>();
  for (const v of values) {
    if (v.length >= 4) needles.add(v);
    try {
      const parsed: unknown = JSON.parse(v);
      if (parsed && typeof parsed === 'object') {
        for (const [key, field] of Object.entries(parsed as Record<string, unknown>)) {
          if (DESCRIPTOR_FIELDS.has(key.toLowerCase())) continue;
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
