import type { FilterKey } from '../types.js';

const TAG_EXISTS = (fn: string, col: 'key' | 'value') =>
  `EXISTS (SELECT 1 FROM tags t WHERE t.secret_id = secrets.id AND ${fn}(t.${col}, ?))`;

/** SQL for one value of one filter key: a prefix match (or word match for 'all'). */
function valueSql(key: FilterKey, value: string): { sql: string; params: unknown[] } {
  switch (key) {
    case 'name':
      return { sql: 'ls_prefix(name, ?)', params: [value] };
    case 'description':
      return { sql: 'ls_iprefix(description, ?)', params: [value] };
    case 'tag-key':
      return { sql: TAG_EXISTS('ls_prefix', 'key'), params: [value] };
    case 'tag-value':
      return { sql: TAG_EXISTS('ls_prefix', 'value'), params: [value] };
    case 'primary-region':
      return { sql: 'ls_prefix(primary_region, ?)', params: [value] };
    case 'owning-service':
      return { sql: 'ls_prefix(owning_service, ?)', params: [value] };
    case 'all': {
      const words = value.split(/\s+/).filter(Boolean);
      if (words.length === 0) return { sql: '1', params: [] };
      const one =
        `(ls_words(name, ?) OR ls_words(description, ?) OR ls_words(primary_region, ?) OR ls_words(owning_service, ?)` +
        ` OR ${TAG_EXISTS('ls_words', 'key')} OR ${TAG_EXISTS('ls_words', 'value')})`;
      return { sql: words.map(() => one).join(' AND '), params: words.flatMap((w) => [w, w, w, w, w, w]) };
    }
  }
}

/**
 * SQL for one ListSecrets filter: a secret matches when any positive value matches (or there is none)
 * and no negated value ('!' prefix) matches.
 */
export function filterSql(f: { key: FilterKey; values: string[] }): { sql: string; params: unknown[] } {
  const pos = f.values.filter((v) => !v.startsWith('!'));
  const neg = f.values.filter((v) => v.startsWith('!')).map((v) => v.slice(1));
  const parts: string[] = [];
  const params: unknown[] = [];
  if (pos.length) {
    const ors = pos.map((v) => valueSql(f.key, v));
    parts.push('(' + ors.map((o) => o.sql).join(' OR ') + ')');
    for (const o of ors) params.push(...o.params);
  }
  for (const v of neg) {
    const o = valueSql(f.key, v);
    parts.push(`NOT coalesce((${o.sql}), 0)`);
    params.push(...o.params);
  }
  return { sql: parts.length ? parts.join(' AND ') : '1', params };
}
