import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claimHosts, type Claimant } from '../../../src/controllers/maildomain/host-claims.ts';
import { setConditions } from '../../../src/controllers/conditions.ts';

const md = (namespace: string, name: string, created: string, domain: string, externalHost: string, aliases: string[] = []): Claimant => ({
  namespace, name, creationTimestamp: created, spec: { domain, aliases, externalHost, autodiscover: { hosts: [] } },
});

test('the older MailDomain owns a shared host, in any namespace; the newer one keeps the rest', () => {
  const a = md('tenant-a', 'a', '2026-01-01T00:00:00Z', 'example.com', 'mail.example.com');
  const b = md('tenant-b', 'b', '2026-02-01T00:00:00Z', 'example.org', 'mail.example.com', ['example.com']);
  assert.deepEqual(claimHosts(a, [a, b]), { owned: ['mail.example.com', 'autodiscover.example.com'], conflicts: [] });
  const r = claimHosts(b, [a, b]);
  assert.deepEqual(r.owned, ['autodiscover.example.org']);
  assert.deepEqual(r.conflicts, [
    { host: 'mail.example.com', owner: { namespace: 'tenant-a', name: 'a' } },
    { host: 'autodiscover.example.com', owner: { namespace: 'tenant-a', name: 'a' } },
  ]);
});

test('equal creation times are broken by namespace/name, the same way for both sides', () => {
  const a = md('x', 'a', '2026-01-01T00:00:00Z', 'example.com', 'mail.example.com');
  const b = md('x', 'b', '2026-01-01T00:00:00Z', 'example.com', 'mail.example.com');
  assert.equal(claimHosts(a, [a, b]).conflicts.length, 0);
  assert.equal(claimHosts(b, [a, b]).owned.length, 0);
});

test('conditions: lastTransitionTime moves only when the status flips; observedGeneration stamped', () => {
  const t1 = new Date('2026-11-22T10:00:00Z');
  const t2 = new Date('2026-11-22T11:00:00Z');
  const first = setConditions(undefined, [{ type: 'Ready', status: 'False', reason: 'Held', message: 'm' }], 1, t1);
  const same = setConditions(first, [{ type: 'Ready', status: 'False', reason: 'Other', message: 'n' }], 2, t2);
  assert.equal(same[0]?.lastTransitionTime, '2026-11-22T10:00:00Z');
  assert.equal(same[0]?.observedGeneration, 2);
  const flipped = setConditions(same, [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'ok' }], 2, t2);
  assert.equal(flipped[0]?.lastTransitionTime, '2026-11-22T11:00:00Z');
});
