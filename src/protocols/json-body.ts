// Parsing of awsJson request bodies: an empty body is {}, nesting is bounded by a linear byte scan
// before JSON.parse ever sees the text, and every failure is a SerializationException whose
// message never quotes the body (it may hold a secret).

import { Errors } from '../errors.js';

/** Limits applied while parsing a request body. */
export interface JsonBodyLimits {
  /** Deepest allowed nesting of arrays/objects; the top-level object counts as 1. Default 32. */
  maxDepth?: number;
}

const DEFAULT_MAX_DEPTH = 32;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** True when the buffer holds only JSON whitespace (or nothing). */
function isBlank(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
  }
  return true;
}

/**
 * Returns the index at which nesting first exceeds maxDepth, or -1. Works on raw bytes: UTF-8
 * continuation bytes are all >= 0x80, so they can never be mistaken for quotes or brackets.
 * Brackets inside strings are skipped, honouring backslash escapes (so `"\""` stays one string).
 */
export function findExcessiveNesting(buf: Uint8Array, maxDepth: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) {
      inString = true;
    } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      if (++depth > maxDepth) return i;
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
      depth--;
    }
  }
  return -1;
}

/** Parses an awsJson request body: {} for an empty body, SerializationException for bad or too-deep JSON. */
export function parseJsonBody(buf: Buffer, limits: JsonBodyLimits = {}): unknown {
  if (isBlank(buf)) return {};
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (findExcessiveNesting(buf, maxDepth) >= 0) {
    throw Errors.serialization(`Request body nesting exceeds the maximum depth of ${maxDepth}.`);
  }
  let text: string;
  try {
    text = utf8.decode(buf);
  } catch {
    throw Errors.serialization('Request body is not valid UTF-8.');
  }
  try {
    return JSON.parse(text);
  } catch {
    // JSON.parse's own message quotes part of the input; never pass it on.
    throw Errors.serialization('Request body is not valid JSON.');
  }
}
