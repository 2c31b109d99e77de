import { join } from 'node:path';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './types.js';

/** The storage backends, by name. */
export const backends: Record<string, (dataDir: string) => Store> = {
  sqlite: (dataDir) => new SqliteStore(join(dataDir, 'lockstep.sqlite')),
};

/** Opens the named backend over a data directory. */
export function openStore(name: string, dataDir: string): Store {
  const make = backends[name];
  if (!make) throw new Error(`unknown storage backend '${name}' (known: ${Object.keys(backends).join(', ')})`);
  return make(dataDir);
}
