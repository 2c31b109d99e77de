import { IamErrors } from './errors.js';

/*
 * Input validation of the query protocol, in one place: each operation lists its members with the
 * official model's constraints, and a request that breaks any of them gets AWS's ValidationError,
 * every fault listed: `2 validation errors detected: Value 'a b' at 'userName' failed to satisfy
 * constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+; Value null at ...`.
 */

/** One input member and its constraints, as the official model states them. */
export interface MemberSpec {
  /** The query parameter, e.g. `UserName`. */
  readonly name: string;
  readonly type?: 'string' | 'integer';
  readonly required?: boolean;
  /** Length bounds for strings, value bounds for integers. */
  readonly min?: number;
  readonly max?: number;
  /** The model's pattern, as written there (quoted in messages); matched against the whole value. */
  readonly pattern?: string;
  readonly enum?: readonly string[];
}

/** Validated input: strings and integers by member name; absent members are undefined. */
export type Input = Readonly<Record<string, string | number | undefined>>;

const compiled = new Map<string, RegExp>();

function patternOf(text: string): RegExp {
  let re = compiled.get(text);
  if (!re) {
    re = new RegExp(`^(?:${text})$`, 's');
    compiled.set(text, re);
  }
  return re;
}

/** The name AWS's messages use for a member: `UserName` → `userName`. */
export function fieldName(member: string): string {
  return member.charAt(0).toLowerCase() + member.slice(1);
}

/** The faults of one member's value, in AWS's words (empty when it is valid). */
export function memberFaults(spec: MemberSpec, value: string | undefined): string[] {
  const at = `at '${fieldName(spec.name)}' failed to satisfy constraint: Member must`;
  if (value === undefined) return spec.required ? [`Value null ${at} not be null`] : [];
  const faults: string[] = [];
  const shown = `Value '${value}' ${at}`;
  if (spec.type === 'integer') {
    if (!/^-?\d{1,15}$/.test(value)) return [`${shown} be a number`];
    const n = Number(value);
    if (spec.min !== undefined && n < spec.min) faults.push(`${shown} have value greater than or equal to ${spec.min}`);
    if (spec.max !== undefined && n > spec.max) faults.push(`${shown} have value less than or equal to ${spec.max}`);
    return faults;
  }
  const length = [...value].length;
  if (spec.min !== undefined && length < spec.min) faults.push(`${shown} have length greater than or equal to ${spec.min}`);
  if (spec.max !== undefined && length > spec.max) faults.push(`${shown} have length less than or equal to ${spec.max}`);
  if (spec.pattern !== undefined && !patternOf(spec.pattern).test(value)) faults.push(`${shown} satisfy regular expression pattern: ${spec.pattern}`);
  if (spec.enum !== undefined && !spec.enum.includes(value)) faults.push(`${shown} satisfy enum value set: [${spec.enum.join(', ')}]`);
  return faults;
}

/** The ValidationError message for a list of faults. */
export function validationMessage(faults: readonly string[]): string {
  return `${faults.length} validation error${faults.length === 1 ? '' : 's'} detected: ${faults.join('; ')}`;
}

/** Validates the members of a request; throws ValidationError listing every fault. */
export function validateMembers(specs: readonly MemberSpec[], params: (name: string) => string | undefined): Input {
  const out: Record<string, string | number | undefined> = {};
  const faults: string[] = [];
  for (const spec of specs) {
    const raw = params(spec.name);
    const f = memberFaults(spec, raw);
    faults.push(...f);
    if (raw !== undefined && f.length === 0) out[spec.name] = spec.type === 'integer' ? Number(raw) : raw;
  }
  if (faults.length > 0) throw IamErrors.validation(validationMessage(faults));
  return out;
}

// ---- the model's members, shared by the operations ----

const NAME = '[\\w+=,.@-]+';
const PATH = '(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)';
const POLICY_TEXT = '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+';

/** Members of the IAM operations, with the constraints of botocore's iam/2010-05-08 model. */
export const Members = {
  userName: (required = true): MemberSpec => ({ name: 'UserName', required, min: 1, max: 64, pattern: NAME }),
  existingUserName: (required = true): MemberSpec => ({ name: 'UserName', required, min: 1, max: 128, pattern: NAME }),
  roleName: (): MemberSpec => ({ name: 'RoleName', required: true, min: 1, max: 64, pattern: NAME }),
  policyName: (): MemberSpec => ({ name: 'PolicyName', required: true, min: 1, max: 128, pattern: NAME }),
  path: (): MemberSpec => ({ name: 'Path', min: 1, max: 512, pattern: PATH }),
  pathPrefix: (): MemberSpec => ({ name: 'PathPrefix', min: 1, max: 512, pattern: '\\u002F[\\u0021-\\u007F]*' }),
  marker: (): MemberSpec => ({ name: 'Marker', min: 1, max: 320, pattern: '[\\u0020-\\u00FF]+' }),
  maxItems: (): MemberSpec => ({ name: 'MaxItems', type: 'integer', min: 1, max: 1000 }),
  accessKeyId: (): MemberSpec => ({ name: 'AccessKeyId', required: true, min: 16, max: 128, pattern: '[\\w]+' }),
  status: (): MemberSpec => ({ name: 'Status', required: true, enum: ['Active', 'Inactive', 'Expired'] }),
  policyDocument: (name = 'PolicyDocument'): MemberSpec => ({ name, required: true, min: 1, max: 131072, pattern: POLICY_TEXT }),
  description: (): MemberSpec => ({ name: 'Description', max: 1000, pattern: '[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*' }),
  maxSessionDuration: (): MemberSpec => ({ name: 'MaxSessionDuration', type: 'integer', min: 3600, max: 43200 }),
} as const;
