import { statSync } from 'node:fs';
import { kekIdOf, type Kek, type Keyring } from './kek.js';
import { readMasterKeyFile } from './master-key-file.js';

/**
 * The master keys of master.key, read again whenever the file changes: a running server learns of
 * a rotation (`lockstep keys rotate`) without a restart. Sealing asks for `active`, which checks the
 * file (one stat) and follows a new active key at once; opening a value under a key id it does not
 * know makes it look at the file again. Keys are only ever added in memory, never forgotten, so a
 * file edited by hand can never make this process lose a key it had. A file that cannot be read or
 * parsed is ignored until it changes again (the keys already known stay in use).
 */
export class FileKeyring implements Keyring {
  private readonly byId = new Map<string, Kek>();
  private current: Kek;
  private stamp = '';

  /** Reads the file; a missing or malformed file is an error here (start-up), never later. */
  constructor(private readonly file: string) {
    const keys = readMasterKeyFile(file);
    this.stamp = this.stampOf() ?? '';
    this.current = this.adopt(keys);
  }

  /** The key that seals: the first key of the file as it is now. */
  get active(): Kek {
    this.refresh();
    return this.current;
  }

  /** A key by id; an unknown id makes the file be read again if it changed. */
  get(id: string): Kek | undefined {
    const hit = this.byId.get(id);
    if (hit || !this.refresh()) return hit;
    return this.byId.get(id);
  }

  /** The ids of every key known, the active one first. */
  ids(): string[] {
    this.refresh();
    return [this.current.id, ...[...this.byId.keys()].filter((id) => id !== this.current.id)];
  }

  /** Reads the file again if it changed since the last read; true when it was read. */
  refresh(): boolean {
    const stamp = this.stampOf();
    if (stamp === undefined || stamp === this.stamp) return false;
    let keys: Buffer[];
    try {
      keys = readMasterKeyFile(this.file);
    } catch {
      return false; // a file being edited by hand: keep what we have, look again when it changes
    }
    this.stamp = stamp;
    this.current = this.adopt(keys);
    return true;
  }

  private adopt(keys: Buffer[]): Kek {
    let first: Kek | undefined;
    for (const key of keys) {
      const id = kekIdOf(key);
      let kek = this.byId.get(id);
      if (!kek) {
        kek = { id, key: Buffer.from(key) };
        this.byId.set(id, kek);
      }
      first ??= kek;
      key.fill(0);
    }
    return first!;
  }

  private stampOf(): string | undefined {
    try {
      const st = statSync(this.file, { bigint: true });
      return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    } catch {
      return undefined;
    }
  }
}
