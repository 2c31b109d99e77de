// IP address condition operators: IPv4 and IPv6 addresses and CIDR ranges.
import { memoize } from '../memo.js';
import { operator, type OperatorDef } from './operator.js';

/** An address range: 4 or 16 bytes and a prefix length in bits. */
export interface Cidr {
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

function parseIpv4(text: string): Uint8Array | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (m === null) return undefined;
  const bytes = m.slice(1).map(Number);
  return bytes.every((b) => b <= 255) ? Uint8Array.from(bytes) : undefined;
}

function parseIpv6(text: string): Uint8Array | undefined {
  let head = text;
  let v4: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groups(halves[0]);
  const right = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - left.length - right.length;
  if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) return undefined;
  const all = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(all[i])) return undefined;
    const n = parseInt(all[i], 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  }
  if (v4 !== undefined) out.set(v4, 12);
  return out;
}

/** Parses an IPv4 or IPv6 address to its bytes; IPv4-mapped IPv6 (`::ffff:a.b.c.d`) becomes IPv4. */
export function parseIp(text: string): Uint8Array | undefined {
  const t = text.trim();
  if (!t.includes(':')) return parseIpv4(t);
  const v6 = parseIpv6(t);
  if (v6 === undefined) return undefined;
  const mapped = v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? v6.slice(12) : v6;
}

/** Parses `address[/prefix]`; without a prefix the range is the one address (/32 or /128). */
export function parseCidr(text: string): Cidr | undefined {
  const [address, prefixText, extra] = text.trim().split('/');
  if (extra !== undefined) return undefined;
  const bytes = parseIp(address);
  if (bytes === undefined) return undefined;
  const max = bytes.length * 8;
  if (prefixText === undefined) return { bytes, prefix: max };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return undefined;
  return { bytes, prefix: Number(prefixText) };
}

/** True when the address lies in the range (an IPv4 address never lies in an IPv6 range). */
export function cidrContains(range: Cidr, address: Uint8Array): boolean {
  if (range.bytes.length !== address.length) return false;
  for (let bit = 0; bit < range.prefix; bit++) {
    const mask = 0x80 >> bit % 8;
    if ((range.bytes[bit >> 3] & mask) !== (address[bit >> 3] & mask)) return false;
  }
  return true;
}

// A policy's ranges and the few addresses requests come from parse once.
const cidrOf = memoize(parseCidr);
const addressOf = memoize(parseIp, 1000);

const test: OperatorDef['test'] = (value, policy) => {
  const range = cidrOf(policy);
  const address = addressOf(value);
  return range !== undefined && address !== undefined && cidrContains(range, address);
};

const validate = (v: string) => (parseCidr(v) === undefined ? `"${v}" is not an IP address or CIDR range` : undefined);

/** IpAddress and NotIpAddress. */
export const ipOperators: readonly OperatorDef[] = [
  operator('IpAddress', test, { validate }),
  operator('NotIpAddress', test, { validate, negated: true }),
];
