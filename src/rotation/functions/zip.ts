import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { unzipSync } from 'fflate';
import { LambdaErrors } from './errors.js';

/** Lambda's limit on a zip uploaded directly (50 MB). */
export const MAX_ZIP_BYTES = 50 * 1024 * 1024;
/** Lambda's limit on the unzipped size of a function (250 MB). */
export const MAX_UNZIPPED_BYTES = 262_144_000;
/** A bound on the number of entries, so a zip of millions of empty files is refused up front. */
export const MAX_ZIP_ENTRIES = 20_000;

/** What a zip holds, read from its central directory without inflating anything. */
export interface ZipListing {
  files: Set<string>; // normalised relative paths of regular files
  unzippedSize: number;
}

const UNZIP_FAILED = 'Could not unzip uploaded file. Please check your file, then try to upload again.';

/** A zip entry name as a relative path, or an error message when it would leave the code directory. */
function normaliseEntry(name: string): { path: string; dir: boolean } | string {
  if (name.includes('\0')) return `The zip entry '${name.replace(/\0/g, '\\0')}' has a NUL byte in its name.`;
  if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name)) {
    return `The zip entry '${name}' has an absolute path; entries must be relative to the zip root.`;
  }
  const segments = name.split(/[/\\]/);
  if (segments.includes('..')) return `The zip entry '${name}' has a '..' path segment; entries must stay inside the zip root.`;
  const dir = name.endsWith('/');
  const parts = segments.filter((s) => s !== '' && s !== '.');
  return { path: parts.join('/'), dir };
}

/**
 * Checks a zip before anything is inflated: its size, that it parses, that no entry escapes the
 * root, and that the unzipped total declared by the central directory is within Lambda's limit.
 * Throws InvalidParameterValueException with a readable reason.
 */
export function inspectZip(zip: Buffer): ZipListing {
  if (zip.length > MAX_ZIP_BYTES) {
    throw LambdaErrors.invalidParameter(`Zipped file size (${zip.length} bytes) must be smaller than ${MAX_ZIP_BYTES} bytes.`);
  }
  if (zip.length === 0) throw LambdaErrors.invalidParameter(UNZIP_FAILED);
  const files = new Set<string>();
  const dirs = new Set<string>();
  let unzippedSize = 0;
  let entries = 0;
  let problem: string | undefined;
  try {
    unzipSync(zip, {
      filter(f) {
        if (problem) return false;
        entries++;
        if (entries > MAX_ZIP_ENTRIES) problem = `The zip has more than ${MAX_ZIP_ENTRIES} entries.`;
        const n = normaliseEntry(f.name);
        if (typeof n === 'string') problem ??= n;
        else if (n.path !== '') {
          if (f.compression !== 0 && f.compression !== 8) {
            problem ??= `The zip entry '${f.name}' uses compression method ${f.compression}; only stored and deflated entries are supported.`;
          }
          unzippedSize += f.originalSize;
          const parts = n.path.split('/');
          for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
          if (n.dir) dirs.add(n.path);
          else files.add(n.path);
        }
        return false;
      },
    });
  } catch {
    throw LambdaErrors.invalidParameter(UNZIP_FAILED);
  }
  if (problem) throw LambdaErrors.invalidParameter(problem);
  if (unzippedSize > MAX_UNZIPPED_BYTES) {
    throw LambdaErrors.invalidParameter(`Unzipped size must be smaller than ${MAX_UNZIPPED_BYTES} bytes`);
  }
  for (const f of files) {
    if (dirs.has(f)) throw LambdaErrors.invalidParameter(`The zip has '${f}' both as a file and as a directory.`);
  }
  return { files, unzippedSize };
}

/**
 * Writes a zip's files under dir (directories 0700, files 0600). Call inspectZip first: it is what
 * bounds the sizes; here every entry inflates into a buffer of its declared size, never more.
 */
export function extractZip(zip: Buffer, dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const out = unzipSync(zip);
  for (const [name, data] of Object.entries(out)) {
    const n = normaliseEntry(name);
    if (typeof n === 'string') throw LambdaErrors.invalidParameter(n);
    if (n.path === '') continue;
    const target = join(dir, n.path);
    if (n.dir) {
      mkdirSync(target, { recursive: true, mode: 0o700 });
      continue;
    }
    mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
    writeFileSync(target, data, { mode: 0o600 });
  }
}
