import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandIPv6, refusedAddress } from '../../../src/checks/address-policy.ts';

describe('refusedAddress (where probes never go)', () => {
  const refused = ['169.254.169.254', '169.254.0.1', 'fe80::1', 'FE80::abcd:1', 'febf::1', 'fd00:ec2::254', '::ffff:169.254.169.254', '0.0.0.0', '::', '224.0.0.1', 'ff02::1'];
  for (const address of refused) {
    it(`refuses ${address}`, () => assert.ok(refusedAddress(address), address));
  }
  const allowed = ['203.0.113.7', '127.0.0.21', '::1', '2001:db8::1', '10.0.0.1', 'fd00:ec2::253', 'fec0::1', '::ffff:203.0.113.7'];
  for (const address of allowed) {
    it(`allows ${address} (loopback stays allowed for the tests)`, () => assert.equal(refusedAddress(address), null));
  }
  it('names the metadata endpoint', () => {
    assert.match(refusedAddress('169.254.169.254') ?? '', /link-local .*metadata/);
    assert.match(refusedAddress('fd00:ec2::254') ?? '', /metadata endpoint/);
  });
  it('expands IPv6 forms', () => {
    assert.deepEqual(expandIPv6('fd00:ec2::254'), [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254]);
    assert.deepEqual(expandIPv6('::ffff:1.2.3.4'), [0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]);
  });
});
