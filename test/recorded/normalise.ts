/*
 * Normalisation shared by both sides of the recorded-AWS comparison (test/recorded.test.ts).
 *
 * The snapshot recorded against AWS already carries LocalStack's placeholders (`arn:<partition>:...:<SecretId-0idx>
 * <ArnPart-0idx>`, `<version_uuid:N>`, `datetime`, ...); Lockstep answers with real ARNs, UUIDs and Dates. Both
 * are passed through a Normaliser, configured per side, that maps them onto one vocabulary:
 *  - every secret ARN becomes `<arn:N>`, every version id `<version:N>`, numbered in order of first appearance
 *    within the scenario (one Normaliser per side and scenario, fed the responses in call order);
 *  - configured literal substrings (secret names, a random version id quoted in a message) become fixed tokens;
 *  - Dates (and epoch numbers or strings under a `...Date` key) become `datetime`;
 *  - binary values become Python's bytes repr (`b'...'`), the form boto3 responses were recorded in;
 *  - `ResponseMetadata` / `$metadata` and undefined members are dropped; everything else (empty lists, order of
 *    arrays, presence of keys) is kept, so that deepStrictEqual compares shapes exactly.
 */

/** How one side spells ARNs, version ids and literal values. */
export interface NormaliserOptions {
  /** True when the whole string is a secret ARN that should be replaced by an `<arn:N>` token. */
  isArn: (s: string) => boolean;
  /** True when the whole string is a secret version id that should be replaced by a `<version:N>` token. */
  isVersionId: (s: string) => boolean;
  /** Literal substrings replaced wherever they occur in strings (and object keys), longest first. */
  substitutions: ReadonlyArray<readonly [from: string, to: string]>;
}

const DATE_KEY = /Date$/;
const DROPPED_KEYS = new Set(['ResponseMetadata', '$metadata']);

/** Maps one side's responses onto the shared vocabulary; keeps numbering state across a scenario's calls. */
export class Normaliser {
  private readonly arns = new Map<string, string>();
  private readonly versions = new Map<string, string>();
  private readonly substitutions: ReadonlyArray<readonly [string, string]>;

  constructor(private readonly opts: NormaliserOptions) {
    this.substitutions = [...opts.substitutions]
      .filter(([from]) => from.length > 0)
      .sort((a, b) => b[0].length - a[0].length);
  }

  /** Normalises a response, error or request-independent value. */
  normalise(value: unknown, key?: string): unknown {
    if (value === undefined || value === null) return value;
    if (value instanceof Date) return 'datetime';
    if (value instanceof Uint8Array) return pythonBytesRepr(value);
    if (key !== undefined && DATE_KEY.test(key) && (typeof value === 'number' || typeof value === 'string')) {
      return 'datetime';
    }
    if (typeof value === 'string') return this.string(value);
    if (Array.isArray(value)) return value.map((v) => this.normalise(v));
    if (typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (DROPPED_KEYS.has(k) || v === undefined) continue;
        out[this.string(k)] = this.normalise(v, k);
      }
      return out;
    }
    return value;
  }

  private string(s: string): string {
    if (this.opts.isArn(s)) return token(this.arns, s, 'arn');
    if (this.opts.isVersionId(s)) return token(this.versions, s, 'version');
    let out = s;
    for (const [from, to] of this.substitutions) out = out.split(from).join(to);
    return out;
  }
}

function token(seen: Map<string, string>, value: string, kind: string): string {
  let t = seen.get(value);
  if (t === undefined) {
    t = `<${kind}:${seen.size + 1}>`;
    seen.set(value, t);
  }
  return t;
}

/** Python's repr() of a bytes value, e.g. b'footest' or b'\x00\xff' (the way boto3 responses were recorded). */
export function pythonBytesRepr(bytes: Uint8Array): string {
  const hasSingle = bytes.includes(0x27);
  const hasDouble = bytes.includes(0x22);
  const quote = hasSingle && !hasDouble ? '"' : "'";
  let body = '';
  for (const b of bytes) {
    if (b === 0x5c) body += '\\\\';
    else if (b === 0x09) body += '\\t';
    else if (b === 0x0a) body += '\\n';
    else if (b === 0x0d) body += '\\r';
    else if (String.fromCharCode(b) === quote) body += '\\' + quote;
    else if (b >= 0x20 && b < 0x7f) body += String.fromCharCode(b);
    else body += '\\x' + b.toString(16).padStart(2, '0');
  }
  return 'b' + quote + body + quote;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Options for the recorded (AWS) side: LocalStack's placeholders; `nameTokens[i]` is how secret i is spelt. */
export function recordedSide(nameTokens: readonly string[]): NormaliserOptions {
  return {
    isArn: (s) => s.startsWith('arn:<partition>:secretsmanager:<region>:111111111111:secret:'),
    isVersionId: (s) => /^<(version_uuid|uuid):\d+>$/.test(s),
    substitutions: nameTokens.map((t, i) => [t, `<name:${i}>`] as const),
  };
}

/**
 * Options for the Lockstep side. An ARN is only tokenised when it has AWS's exact shape for one of the scenario's
 * secrets (`arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 alphanumerics>`); a malformed ARN is kept
 * verbatim so that it shows up in the diff.
 */
export function actualSide(opts: {
  region: string;
  accountId: string;
  names: readonly string[];
  extraSubstitutions?: ReadonlyArray<readonly [string, string]>;
}): NormaliserOptions {
  const prefix = `arn:aws:secretsmanager:${opts.region}:${opts.accountId}:secret:`;
  const shapes = opts.names.map((n) => new RegExp('^' + escapeRegExp(prefix + n) + '-[A-Za-z0-9]{6}$'));
  return {
    isArn: (s) => shapes.some((re) => re.test(s)),
    isVersionId: (s) => UUID.test(s),
    substitutions: [
      ...opts.names.map((n, i) => [n, `<name:${i}>`] as const),
      ...(opts.extraSubstitutions ?? []),
    ],
  };
}

/** The comparable form of an error: AWS error code, message and HTTP status. */
export interface ComparableError {
  Error: { Code: string; Message: string };
  HTTPStatusCode: number | undefined;
}

/**
 * Reads a recorded error, either botocore's `response` dict ({Error: {Code, Message}, ResponseMetadata}) or the
 * str() of a ClientError ("An error occurred (Code) when calling the Op operation: Message"). Modelled Secrets
 * Manager errors are all HTTP 400; that is assumed where the recording kept no status.
 */
export function recordedError(rec: unknown): ComparableError {
  if (typeof rec === 'string') {
    const m = /^An error occurred \(([^)]+)\) when calling the \w+ operation: ([\s\S]*)$/.exec(rec);
    if (!m) throw new Error(`unrecognised recorded error string: ${rec}`);
    return { Error: { Code: m[1], Message: m[2] }, HTTPStatusCode: 400 };
  }
  const r = rec as { Error?: { Code?: string; Message?: string }; ResponseMetadata?: { HTTPStatusCode?: number } };
  if (!r || typeof r !== 'object' || !r.Error || typeof r.Error.Code !== 'string') {
    throw new Error(`recorded value is not an error: ${JSON.stringify(rec)}`);
  }
  return {
    Error: { Code: r.Error.Code, Message: r.Error.Message ?? '' },
    HTTPStatusCode: r.ResponseMetadata?.HTTPStatusCode ?? 400,
  };
}

/** Reads an SDK v3 service exception the same way. */
export function sdkError(e: unknown): ComparableError {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  return {
    Error: { Code: String(err?.name), Message: String(err?.message) },
    HTTPStatusCode: err?.$metadata?.httpStatusCode,
  };
}
