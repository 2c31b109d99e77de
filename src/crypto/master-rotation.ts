import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openKeySecret, sealKeySecret } from '../auth/access-keys.js';
import { environmentContext } from '../rotation/functions/config.js';
import type { SealedKind, SealedRow, Store } from '../storage/types.js';
import { envelopeKekId, openValue, sealValue, type SealContext } from './envelope.js';
import { kekIdOf, singleKeyring, type Keyring } from './kek.js';
import type { LoadedMasterKey } from './keyring.js';
import { MASTER_KEY_FILE, decodeMasterKeys, readMasterKeyFile, writeMasterKeyFile } from './master-key-file.js';
import { keyIdOfKekId, materialContext } from './named-keys.js';

/*
 * Online rotation of the master key (`lockstep keys rotate`).
 *
 * 1. A new key becomes the active (first) key of master.key; the old keys stay in the file as retired
 *    keys. Running servers read the file again when it changes (FileKeyring): they seal under the new
 *    key from their next write on, and open values under either key.
 * 2. The database records the new key as the data directory's key (meta kek_id, which start-up
 *    checks) and that a rotation to it is under way (meta kek_rotation).
 * 3. Everything sealed directly under a master key is re-sealed under the new one, in batches, each
 *    batch one short transaction whose updates only apply to rows still holding the bytes that were
 *    read (compare-and-swap): named keys' material first, then secret values under the default key,
 *    access keys' secrets and function environments. Values under named keys are not touched (their
 *    data keys are wrapped by the named key, whose material was just re-wrapped).
 * 4. Passes repeat until one finds nothing left under an old key; then the rotation is recorded done.
 *
 * Every batch is atomic and no key is removed, so a crash or Ctrl-C at any point leaves every value
 * readable; running the command again resumes the rotation to the same key. With LOCKSTEP_MASTER_KEY
 * Lockstep cannot change the keys: the operator puts the new key first (LOCKSTEP_MASTER_KEY=new,old)
 * and the command re-wraps everything under it; servers only hold the keys of their own environment,
 * so that rotation is done with the servers stopped (or all restarted with new,old first).
 */

/** The meta entry recording a rotation under way: JSON `{target, startedMs}`, '' when none. */
const ROTATION_META = 'kek_rotation';
/** The meta entry start-up checks the master key against. */
const KEK_META = 'kek_id';

/** The order of re-wrapping: key material first, so named keys move to the new master key early. */
const KINDS: SealedKind[] = ['kms-key', 'version', 'access-key', 'function'];

const KIND_NAMES: Record<SealedKind, string> = {
  'kms-key': 'named keys', version: 'secret versions', 'access-key': 'access keys', function: 'function environments',
};

/** How a rotation runs. */
export interface MasterRotationOptions {
  store: Store;
  dataDir: string;
  loaded: LoadedMasterKey;
  env?: NodeJS.ProcessEnv;
  /** Rows per transaction (default 200). */
  batch?: number;
  /** A pause between batches, to spare a busy server (default 0). */
  throttleMs?: number;
  /** Progress lines. */
  log?(line: string): void;
  /** Stops between batches (Ctrl-C); the rotation stays recorded as under way. */
  signal?: AbortSignal;
  now?(): number;
}

/** What a rotation did. */
export interface MasterRotationResult {
  /** The key everything is sealed under now. */
  target: string;
  /** True when it continued a rotation that had been interrupted. */
  resumed: boolean;
  /** Finished (false: interrupted by the signal, or writers kept re-sealing under old keys). */
  complete: boolean;
  rewrapped: Record<SealedKind, number>;
  /** Values that no master key opens (damaged, or sealed under a key no longer held), left as they are. */
  unopenable: { kind: SealedKind; owner: string; part: string }[];
}

interface Plan {
  target: string;
  resumed: boolean;
}

/** Reads the rotation under way recorded in meta, if any. */
function pendingTarget(text: string | undefined): string | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as { target?: unknown };
    return typeof v.target === 'string' ? v.target : undefined;
  } catch {
    return undefined;
  }
}

/** Decides the target key with master.key as the key store: resume, repair, or a new key. */
function planFile(file: string, known: string | undefined, pending: string | undefined, log: (l: string) => void): Plan {
  const keys = readMasterKeyFile(file);
  const ids = keys.map(kekIdOf);
  if (known !== undefined && !ids.includes(known)) {
    throw new Error(`${file} does not hold the data directory's master key ${known}: it holds ${ids.join(', ')}`);
  }
  if (pending !== undefined) {
    const at = ids.indexOf(pending);
    if (at < 0) throw new Error(`a rotation to master key ${pending} is under way, but ${file} no longer holds that key`);
    if (at > 0) writeMasterKeyFile(file, [keys[at], ...keys.filter((_, i) => i !== at)]);
    log(`resuming the rotation to master key ${pending}`);
    return { target: pending, resumed: true };
  }
  if (known !== undefined && ids[0] !== known) {
    // master.key was written but the database not yet told (a crash between the two steps)
    log(`resuming the rotation to master key ${ids[0]}`);
    return { target: ids[0], resumed: true };
  }
  const fresh = randomBytes(32);
  writeMasterKeyFile(file, [fresh, ...keys]);
  const target = kekIdOf(fresh);
  fresh.fill(0);
  log(`new master key ${target} is active in ${file}; retired: ${ids.join(', ')}`);
  return { target, resumed: false };
}

/** Decides the target key with LOCKSTEP_MASTER_KEY as the key store: its first key. */
function planEnv(text: string, known: string | undefined, pending: string | undefined, log: (l: string) => void): Plan {
  const ids = decodeMasterKeys(text, 'LOCKSTEP_MASTER_KEY').map(kekIdOf);
  const target = ids[0];
  if (known !== undefined && !ids.includes(known)) {
    throw new Error(`LOCKSTEP_MASTER_KEY does not hold the data directory's master key ${known}: it holds ${ids.join(', ')}`);
  }
  if (pending !== undefined && pending !== target) {
    throw new Error(`a rotation to master key ${pending} is under way: put that key first in LOCKSTEP_MASTER_KEY to finish it`);
  }
  if (pending === undefined && known === target && ids.length === 1) {
    throw new Error(
      'the master key comes from LOCKSTEP_MASTER_KEY, which Lockstep cannot change. To rotate it, generate a key ' +
        '(openssl rand -base64 32), stop the servers, run `LOCKSTEP_MASTER_KEY=<new>,<current> lockstep keys rotate`, ' +
        'then start the servers with LOCKSTEP_MASTER_KEY=<new>,<current> (or <new> alone once the rotation has finished).',
    );
  }
  log(`${pending !== undefined || known === target ? 'resuming the rotation to' : 'rotating to'} master key ${target} (from LOCKSTEP_MASTER_KEY)`);
  return { target, resumed: pending !== undefined || known === target };
}

/** Re-seals one row from any master key to the target keyring. */
function reseal(row: SealedRow, from: Keyring, to: Keyring): Buffer {
  const generic = (ctx: SealContext) => sealValue(to, openValue(from, row.sealed, ctx), ctx);
  switch (row.kind) {
    case 'kms-key':
      return generic(materialContext(row.owner));
    case 'version':
      return generic({ secretArn: row.owner, versionId: row.part });
    case 'access-key':
      return sealKeySecret(to, row.owner, openKeySecret(from, { accessKeyId: row.owner, sealedSecret: row.sealed }));
    case 'function':
      return generic(environmentContext(row.owner));
  }
}

/** One pass over every sealed row; returns how many rows still needed work (re-wrapped or changed under it). */
async function pass(o: MasterRotationOptions, from: Keyring, target: string, result: MasterRotationResult): Promise<number> {
  const to = singleKeyring(from.get(target)!);
  const batch = o.batch ?? 200;
  const log = o.log ?? (() => undefined);
  const unopenable = new Set(result.unopenable.map((u) => `${u.kind}\0${u.owner}\0${u.part}`));
  let work = 0;
  for (const kind of KINDS) {
    let cursor: SealedRow['cursor'] | null = null;
    for (;;) {
      if (o.signal?.aborted) return work;
      const rows: SealedRow[] = await o.store.read((tx) => tx.keys.sealedRows(kind, cursor, batch));
      if (rows.length === 0) break;
      cursor = rows[rows.length - 1].cursor;
      const updates: [SealedRow, Buffer][] = [];
      for (const row of rows) {
        const kekId = envelopeKekId(row.sealed);
        if (kekId === target || (kekId !== undefined && keyIdOfKekId(kekId) !== undefined)) continue;
        try {
          updates.push([row, reseal(row, from, to)]);
        } catch {
          const id = `${row.kind}\0${row.owner}\0${row.part}`;
          if (!unopenable.has(id)) {
            unopenable.add(id);
            result.unopenable.push({ kind: row.kind, owner: row.owner, part: row.part });
          }
        }
      }
      if (updates.length === 0) continue;
      work += updates.length;
      const applied = await o.store.transaction(async (tx) => {
        let n = 0;
        for (const [row, sealed] of updates) if (await tx.keys.replaceSealed(row, sealed)) n++;
        return n;
      });
      result.rewrapped[kind] += applied;
      log(`re-wrapped ${result.rewrapped[kind]} ${KIND_NAMES[kind]}`);
      if (o.throttleMs) await sleep(o.throttleMs);
    }
  }
  return work;
}

/**
 * Rotates the master key of a data directory online, or resumes a rotation that was interrupted.
 * See the comment at the top of this file for the steps and the guarantees.
 */
export async function rotateMasterKey(o: MasterRotationOptions): Promise<MasterRotationResult> {
  const log = o.log ?? (() => undefined);
  const now = o.now ?? Date.now;
  const meta = await o.store.read(async (tx) => ({ known: await tx.meta.get(KEK_META), pending: pendingTarget(await tx.meta.get(ROTATION_META)) }));
  const plan = o.loaded.fromEnv
    ? planEnv((o.env ?? process.env).LOCKSTEP_MASTER_KEY ?? '', meta.known, meta.pending, log)
    : planFile(join(o.dataDir, MASTER_KEY_FILE), meta.known, meta.pending, log);
  const ring = o.loaded.keyring;
  if (!ring.get(plan.target)) throw new Error(`the master key ${plan.target} cannot be loaded`);
  await o.store.transaction(async (tx) => {
    await tx.meta.set(KEK_META, plan.target);
    await tx.meta.set(ROTATION_META, JSON.stringify({ target: plan.target, startedMs: now() }));
  });
  const result: MasterRotationResult = {
    target: plan.target, resumed: plan.resumed, complete: false, unopenable: [],
    rewrapped: { 'kms-key': 0, version: 0, 'access-key': 0, function: 0 },
  };
  for (let i = 0; i < 5; i++) {
    const work = await pass(o, ring, plan.target, result);
    if (o.signal?.aborted) return result;
    if (work === 0) {
      result.complete = true;
      break;
    }
  }
  if (result.complete) {
    await o.store.transaction(async (tx) => {
      await tx.meta.set(ROTATION_META, '');
      await tx.meta.set('kek_rotated_ms', String(now()));
    });
  }
  return result;
}
