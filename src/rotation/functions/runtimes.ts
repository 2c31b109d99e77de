/** The Lambda runtime names Lockstep runs, on the machine's python3 and node. */
export const SUPPORTED_RUNTIMES = [
  'python3.8', 'python3.9', 'python3.10', 'python3.11', 'python3.12', 'python3.13',
  'nodejs18.x', 'nodejs20.x', 'nodejs22.x',
] as const;

/** Which interpreter runs a runtime. */
export type RuntimeFamily = 'python' | 'node';

/** The interpreter family of a supported runtime name, or undefined for any other name. */
export function runtimeFamily(runtime: string): RuntimeFamily | undefined {
  if (!(SUPPORTED_RUNTIMES as readonly string[]).includes(runtime)) return undefined;
  return runtime.startsWith('python') ? 'python' : 'node';
}

/** Where a handler string points: the candidate files (relative to the code root) and the function's name. */
export interface HandlerTarget {
  module: string; // as the runtime names it in errors, e.g. 'lambda_function' or 'src/index'
  candidates: string[]; // files that would hold the module, first match wins
  functionName: string; // python: attribute; node: property path, e.g. 'handler' or 'a.b'
}

/**
 * Splits a handler string as the runtimes do. Python: `pkg.module.func` (slashes allowed) →
 * pkg/module.py or pkg/module/__init__.py, attribute func. Node: `dir/file.func` → dir/file.js, .mjs
 * or .cjs, property path func. Undefined when the string cannot name a handler.
 */
export function parseHandler(family: RuntimeFamily, handler: string): HandlerTarget | undefined {
  if (!/^[^\s]{1,128}$/.test(handler) || handler.startsWith('/') || handler.split('/').includes('..')) return undefined;
  if (family === 'python') {
    const dot = handler.lastIndexOf('.');
    if (dot <= 0 || dot === handler.length - 1) return undefined;
    const module = handler.slice(0, dot).replace(/\//g, '.');
    const functionName = handler.slice(dot + 1);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(functionName)) return undefined;
    const parts = module.split('.');
    if (parts.some((p) => !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(p))) return undefined;
    const base = parts.join('/');
    return { module, candidates: [`${base}.py`, `${base}/__init__.py`], functionName };
  }
  const slash = handler.lastIndexOf('/');
  const dot = handler.indexOf('.', slash + 1);
  if (dot <= slash + 1 || dot === handler.length - 1) return undefined;
  const module = handler.slice(0, dot);
  const functionName = handler.slice(dot + 1);
  if (functionName.split('.').some((p) => p === '')) return undefined;
  return { module, candidates: ['.js', '.mjs', '.cjs'].map((ext) => module + ext), functionName };
}
