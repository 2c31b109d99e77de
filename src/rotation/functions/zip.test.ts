import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { extractZip, inspectZip, MAX_ZIP_BYTES } from './zip.js';
import { parseHandler, runtimeFamily } from './runtimes.js';
import { resolveFunctionName } from './names.js';

const zipOf = (files: Record<string, string>) => Buffer.from(zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, strToU8(v)]))));

test('inspectZip lists files and sizes from the central directory', () => {
  const l = inspectZip(zipOf({ 'a.py': 'x'.repeat(100), 'pkg/b.py': 'yy', './c.js': '' }));
  assert.deepEqual([...l.files].sort(), ['a.py', 'c.js', 'pkg/b.py']);
  assert.equal(l.unzippedSize, 102);
});

test('inspectZip refuses what would escape the root, or is no zip, or too large', () => {
  for (const name of ['../x', 'a/../../x', 'a\\..\\x', '/abs', 'C:/win', '\\abs']) {
    assert.throws(() => inspectZip(zipOf({ [name]: 'x' })), /InvalidParameterValue|path/, name);
  }
  assert.throws(() => inspectZip(Buffer.from('PK not really')), /Could not unzip uploaded file/);
  assert.throws(() => inspectZip(Buffer.alloc(0)), /Could not unzip uploaded file/);
  assert.throws(() => inspectZip(Buffer.alloc(MAX_ZIP_BYTES + 1)), /must be smaller than 52428800 bytes/);
  assert.throws(() => inspectZip(zipOf({ a: 'x', 'a/b': 'y' })), /both as a file and as a directory/);
});

test('extractZip writes files 0600 in directories 0700', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-zip-'));
  try {
    extractZip(zipOf({ 'a.py': 'print(1)', 'pkg/sub/b.py': 'b' }), join(dir, 'out'));
    assert.equal(readFileSync(join(dir, 'out', 'pkg', 'sub', 'b.py'), 'utf8'), 'b');
    assert.equal(statSync(join(dir, 'out', 'a.py')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'out', 'pkg')).mode & 0o777, 0o700);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('handlers split as the runtimes split them', () => {
  assert.equal(runtimeFamily('python3.13'), 'python');
  assert.equal(runtimeFamily('nodejs22.x'), 'node');
  assert.equal(runtimeFamily('python3.7'), undefined);
  assert.deepEqual(parseHandler('python', 'lambda_function.lambda_handler'), { module: 'lambda_function', candidates: ['lambda_function.py', 'lambda_function/__init__.py'], functionName: 'lambda_handler' });
  assert.deepEqual(parseHandler('python', 'a/b.c.h')?.candidates, ['a/b/c.py', 'a/b/c/__init__.py']);
  assert.deepEqual(parseHandler('node', 'src/index.handlers.rotate'), { module: 'src/index', candidates: ['src/index.js', 'src/index.mjs', 'src/index.cjs'], functionName: 'handlers.rotate' });
  for (const bad of ['nodot', 'trailing.', '.leading', '../up.handler', 'has space.h']) {
    assert.equal(parseHandler('python', bad), undefined, bad);
  }
  assert.equal(parseHandler('node', 'index'), undefined);
});

test('function names and ARNs resolve as Lambda resolves them', () => {
  const r = (v: string, q?: string) => resolveFunctionName(v, 'us-east-1', '123456789012', q);
  assert.equal(r('f'), 'f');
  assert.equal(r('f:$LATEST'), 'f');
  assert.equal(r('123456789012:function:f'), 'f');
  assert.equal(r('arn:aws:lambda:us-east-1:123456789012:function:f'), 'f');
  assert.equal(r('f', '$LATEST'), 'f');
  assert.throws(() => r('f:1'), /Function not found: arn:aws:lambda:us-east-1:123456789012:function:f:1/);
  assert.throws(() => r('f', 'prod'), /Function not found/);
  assert.throws(() => r('arn:aws:lambda:us-east-1:999999999999:function:f'), /Function not found/);
  assert.throws(() => r('bad name'), /failed to satisfy constraint/);
});
