import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/*
 * The master key file, <data-dir>/master.key: base64 keys of 32 bytes, one a line. The first is the
 * active key (it seals); the others are retired keys, kept so that values not yet re-wrapped by a
 * rotation still open. Lines starting with '#' are comments. A data directory that never rotated
 * holds exactly one line, as before rotation existed.
 */

/** The name of the master key file inside a data directory. */
export const MASTER_KEY_FILE = 'master.key';

const BASE64_KEY = /^[A-Za-z0-9+/]+={0,2}$/;

/** Decodes one base64 master key, insisting on exactly 32 bytes. */
export function decodeMasterKey(text: string, origin: string): Buffer {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (!BASE64_KEY.test(trimmed) || key.length !== 32) {
    throw new Error(`${origin} must hold the base64 encoding of exactly 32 bytes`);
  }
  return key;
}

/**
 * Decodes a list of master keys: one a line (master.key) or separated by commas (LOCKSTEP_MASTER_KEY),
 * the active key first; blank lines and '#' comments are skipped.
 */
export function decodeMasterKeys(text: string, origin: string): Buffer[] {
  const items = text
    .split(/[\n,]/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (items.length === 0) throw new Error(`${origin} must hold the base64 encoding of exactly 32 bytes`);
  return items.map((item, i) => decodeMasterKey(item, items.length > 1 ? `${origin} (key ${i + 1})` : origin));
}

/** Reads master.key: its keys, the active one first. */
export function readMasterKeyFile(file: string): Buffer[] {
  return decodeMasterKeys(readFileSync(file, 'utf8'), file);
}

/** Creates master.key with one fresh random key (mode 0600); fails if the file exists. */
export function createMasterKeyFile(file: string): void {
  const fd = openSync(file, 'wx', 0o600);
  try {
    writeSync(fd, randomBytes(32).toString('base64') + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces master.key atomically (a new file, mode 0600, synced, then renamed over the old one), so
 * a crash leaves either the old or the new file, never a part of one. `keys[0]` becomes active.
 */
export function writeMasterKeyFile(file: string, keys: Buffer[]): void {
  if (keys.length === 0) throw new Error('master.key needs at least one key');
  const lines = [
    '# Lockstep master keys. The first key is the active one; the others are retired keys that still',
    '# open values sealed before a rotation finished re-wrapping them. Keep this file secret (mode 0600).',
    ...keys.map((k) => k.toString('base64')),
  ];
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, lines.join('\n') + '\n');
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, file);
  syncDirectory(dirname(file));
}

/** Makes a rename in a directory durable (best effort: not every platform can open a directory). */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // not supported here; the rename itself is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
