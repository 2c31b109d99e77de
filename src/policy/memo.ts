/**
 * A bounded memo of a pure function of one string (policy values parse the same way every time).
 * Results, `undefined` included, are shared: callers must not change them. Emptied when full.
 */
export function memoize<V>(fn: (text: string) => V, limit = 10_000): (text: string) => V {
  const memo = new Map<string, V>();
  return (text) => {
    let v = memo.get(text);
    if (v === undefined && !memo.has(text)) {
      v = fn(text);
      if (memo.size >= limit) memo.clear();
      memo.set(text, v);
    }
    return v as V;
  };
}

