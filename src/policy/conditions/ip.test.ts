import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cidrContains, parseCidr, parseIp } from './ip.js';

const inRange = (range: string, address: string) => {
  const r = parseCidr(range);
  const a = parseIp(address);
  return r !== undefined && a !== undefined && cidrContains(r, a);
};

test('parseIp reads IPv4, IPv6 (with :: and an IPv4 tail) and unmaps IPv4-mapped addresses', () => {
  assert.deepEqual([...(parseIp('203.0.113.7') ?? [])], [203, 0, 113, 7]);
  assert.equal(parseIp('2001:db8::1')?.length, 16);
  assert.deepEqual([...(parseIp('::ffff:10.1.2.3') ?? [])], [10, 1, 2, 3]);
  assert.deepEqual([...(parseIp('64:ff9b::192.0.2.33') ?? [])].slice(12), [192, 0, 2, 33]);
  assert.deepEqual([...(parseIp('::') ?? [])], Array(16).fill(0));
  for (const bad of ['256.0.0.1', '1.2.3', '1:2:3:4:5:6:7:8:9', '2001:db8:::1', '1::2::3', 'g::1', '', 'localhost']) {
    assert.equal(parseIp(bad), undefined, bad);
  }
});

test('parseCidr: prefixes and their limits', () => {
  assert.deepEqual(parseCidr('10.0.0.0/8')?.prefix, 8);
  assert.deepEqual(parseCidr('10.0.0.1')?.prefix, 32);
  assert.deepEqual(parseCidr('2001:DB8::')?.prefix, 128);
  for (const bad of ['10.0.0.0/33', '2001:db8::/129', '10.0.0.0/x', '10.0.0.0/8/8']) assert.equal(parseCidr(bad), undefined, bad);
});

test('cidrContains compares the prefix bits of the same family', () => {
  assert.equal(inRange('203.0.113.0/24', '203.0.113.255'), true);
  assert.equal(inRange('203.0.113.0/24', '203.0.114.0'), false);
  assert.equal(inRange('203.0.113.128/25', '203.0.113.127'), false);
  assert.equal(inRange('0.0.0.0/0', '8.8.8.8'), true);
  assert.equal(inRange('2001:DB8:1234:5678::/64', '2001:db8:1234:5678:ffff:ffff:ffff:ffff'), true);
  assert.equal(inRange('2001:DB8:1234:5678::/64', '2001:db8:1234:5679::'), false);
  assert.equal(inRange('2001:db8::/33', '2001:db8:7fff::1'), true);
  assert.equal(inRange('2001:db8::/33', '2001:db8:8000::1'), false);
  assert.equal(inRange('::/0', '203.0.113.1'), false, 'IPv4 is not in an IPv6 range');
  assert.equal(inRange('203.0.113.0/24', '::ffff:203.0.113.9'), true);
});
