import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** A function's log is rotated to `log.1` (one old file kept) when it would grow past this size. */
export const LOG_MAX_BYTES = 4 * 1024 * 1024;
/** How much of an invocation's log Invoke returns with LogType=Tail (as Lambda does: the last 4 KB). */
export const LOG_TAIL_BYTES = 4096;

/** The directory of one function's files under a data directory: code revisions, log, scratch space. */
export function functionDir(dataDir: string, name: string): string {
  return join(dataDir, 'functions', name);
}

/** The path of a function's log file. */
export function logPath(dataDir: string, name: string): string {
  return join(functionDir(dataDir, name), 'log');
}

/** Appends text to a function's log (created 0600 in a 0700 directory), rotating it when it gets large. */
export function appendLog(dataDir: string, name: string, text: string, maxBytes = LOG_MAX_BYTES): void {
  mkdirSync(functionDir(dataDir, name), { recursive: true, mode: 0o700 });
  const file = logPath(dataDir, name);
  const bytes = Buffer.byteLength(text);
  try {
    if (statSync(file).size + bytes > maxBytes) renameSync(file, file + '.1');
  } catch {
    // no log yet
  }
  appendFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** A function's log, the rotated part first; undefined when it has never logged. */
export function readLog(dataDir: string, name: string): string | undefined {
  const file = logPath(dataDir, name);
  const parts: string[] = [];
  if (existsSync(file + '.1')) parts.push(readFileSync(file + '.1', 'utf8'));
  if (existsSync(file)) parts.push(readFileSync(file, 'utf8'));
  return parts.length === 0 ? undefined : parts.join('');
}

/** The last `max` bytes of text, cut at a character boundary. */
export function tail(text: string, max = LOG_TAIL_BYTES): string {
  const b = Buffer.from(text, 'utf8');
  if (b.length <= max) return text;
  let start = b.length - max;
  while (start < b.length && (b[start] & 0xc0) === 0x80) start++; // skip UTF-8 continuation bytes
  return b.subarray(start).toString('utf8');
}
