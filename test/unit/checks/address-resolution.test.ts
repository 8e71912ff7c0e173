import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_CNAME_HOPS, resolveAddresses } from '../../../src/checks/address-resolution.ts';
import { fakeDns, type FakeName } from './fake-io.ts';

function chainOf(length: number): Record<string, FakeName> {
  const zone: Record<string, FakeName> = {};
  for (let i = 0; i < length; i++) zone[`h${i}.example.com`] = { cname: `h${i + 1}.example.com` };
  zone[`h${length}.example.com`] = { a: ['203.0.113.7'] };
  return zone;
}

describe('resolveAddresses', () => {
  const cases: { name: string; zone: Record<string, FakeName>; host: string; ok: boolean; failure?: string; cause?: string; addresses?: string[]; chain?: string[] }[] = [
    { name: 'A record', zone: { 'a.example.com': { a: ['203.0.113.7'] } }, host: 'a.example.com', ok: true, addresses: ['203.0.113.7'], chain: ['a.example.com'] },
    { name: 'A and AAAA', zone: { 'a.example.com': { a: ['203.0.113.7'], aaaa: ['2001:db8::7'] } }, host: 'a.example.com', ok: true, addresses: ['203.0.113.7', '2001:db8::7'] },
    { name: 'AAAA only', zone: { 'a.example.com': { aaaa: ['2001:db8::7'] } }, host: 'a.example.com', ok: true, addresses: ['2001:db8::7'] },
    {
      name: 'CNAME chain', host: 'autodiscover.example.org', ok: true, addresses: ['203.0.113.7'],
      zone: { 'autodiscover.example.org': { cname: 'lb.example.net.' }, 'lb.example.net': { cname: 'mail.example.com' }, 'mail.example.com': { a: ['203.0.113.7'] } },
      chain: ['autodiscover.example.org', 'lb.example.net', 'mail.example.com'],
    },
    { name: 'NXDOMAIN', zone: {}, host: 'x.example.com', ok: false, failure: 'NXDOMAIN' },
    { name: 'NODATA', zone: { 'x.example.com': { srv: [] } }, host: 'x.example.com', ok: false, failure: 'NODATA' },
    { name: 'dangling CNAME to NXDOMAIN', zone: { 'x.example.com': { cname: 'gone.example.net' } }, host: 'x.example.com', ok: false, failure: 'DANGLING_CNAME', cause: 'NXDOMAIN' },
    { name: 'dangling CNAME to NODATA', zone: { 'x.example.com': { cname: 'y.example.net' }, 'y.example.net': {} }, host: 'x.example.com', ok: false, failure: 'DANGLING_CNAME', cause: 'NODATA' },
    { name: 'CNAME loop', zone: { 'a.example.com': { cname: 'b.example.com' }, 'b.example.com': { cname: 'a.example.com' } }, host: 'a.example.com', ok: false, failure: 'CNAME_LOOP', chain: ['a.example.com', 'b.example.com', 'a.example.com'] },
    { name: 'CNAME to itself', zone: { 'a.example.com': { cname: 'a.example.com' } }, host: 'a.example.com', ok: false, failure: 'CNAME_LOOP' },
    { name: `exactly ${MAX_CNAME_HOPS} hops`, zone: chainOf(MAX_CNAME_HOPS), host: 'h0.example.com', ok: true, addresses: ['203.0.113.7'] },
    { name: `${MAX_CNAME_HOPS + 1} hops`, zone: chainOf(MAX_CNAME_HOPS + 1), host: 'h0.example.com', ok: false, failure: 'CHAIN_TOO_LONG' },
    { name: 'SERVFAIL at the start', zone: { 'x.example.com': { fail: 'SERVFAIL' } }, host: 'x.example.com', ok: false, failure: 'SERVFAIL' },
    { name: 'SERVFAIL mid-chain', zone: { 'x.example.com': { cname: 'y.example.net' }, 'y.example.net': { fail: 'SERVFAIL' } }, host: 'x.example.com', ok: false, failure: 'SERVFAIL' },
    { name: 'REFUSED', zone: { 'x.example.com': { fail: 'REFUSED' } }, host: 'x.example.com', ok: false, failure: 'REFUSED' },
    { name: 'time-out', zone: { 'x.example.com': { fail: 'TIMEOUT' } }, host: 'x.example.com', ok: false, failure: 'TIMEOUT' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const result = await resolveAddresses(c.host, fakeDns(c.zone));
      assert.equal(result.ok, c.ok);
      if (result.ok) {
        assert.deepEqual(result.addresses, c.addresses);
      } else {
        assert.equal(result.failure, c.failure);
        if (c.cause) assert.equal(result.cause, c.cause);
      }
      if (c.chain) assert.deepEqual(result.chain, c.chain);
    });
  }
});
