import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claimHosts, ownerOf, type Claimant } from '../../../src/policy/host-claims.ts';

const c = (namespace: string, name: string, creationTimestamp?: string): Claimant => ({ namespace, name, ...(creationTimestamp ? { creationTimestamp } : {}) });

test('the oldest claimant owns a host, across namespaces', () => {
  const old = c('tenant-a', 'mail', '2026-01-01T00:00:00Z');
  const young = c('tenant-b', 'mail', '2026-02-01T00:00:00Z');
  assert.deepEqual(ownerOf([young, old]), old);
  const r = claimHosts(young, ['mail.example.com', 'autodiscover.example.org'], (h) => (h === 'mail.example.com' ? [old, young] : [young]));
  assert.deepEqual(r.owned, ['autodiscover.example.org']);
  assert.deepEqual(r.conflicts, [{ host: 'mail.example.com', owner: { namespace: 'tenant-a', name: 'mail' } }]);
});

test('a tie in creation time falls to the smaller namespace/name, the same on every replica', () => {
  const t = '2026-01-01T00:00:00Z';
  const a = c('a', 'x', t);
  const b = c('b', 'x', t);
  assert.deepEqual(ownerOf([b, a]), a);
  assert.equal(claimHosts(b, ['h.example'], () => [a, b]).conflicts.length, 1);
  assert.equal(claimHosts(a, ['h.example'], () => [a, b]).owned.length, 1);
});

test('a host nobody else declares is owned, even when the index does not list self yet', () => {
  const self = c('ns', 'new', '2026-03-01T00:00:00Z');
  assert.deepEqual(claimHosts(self, ['mail.example.com'], () => []), { owned: ['mail.example.com'], conflicts: [] });
});
