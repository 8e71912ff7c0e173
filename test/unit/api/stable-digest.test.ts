// stableDigest: the fixed-size fingerprint kept per MailDomain (check targets, gate standings)
// instead of the JSON itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shortDigest, stableDigest, stableJson } from '../../../src/api/stable-json.ts';
import { DomainStandings, type DomainStanding } from '../../../src/controllers/domain-standings.ts';

test('stableDigest: equal values digest alike whatever their key order; any change digests differently; the size is fixed', () => {
  const a = { hosts: ['autodiscover.d1.test', 'mail.s0.test'], caBundle: { kind: 'ConfigMap', name: 'test-ca', key: 'ca.crt' }, intervalMs: 300_000 };
  const b = { intervalMs: 300_000, caBundle: { key: 'ca.crt', name: 'test-ca', kind: 'ConfigMap' }, hosts: ['autodiscover.d1.test', 'mail.s0.test'] };
  assert.equal(stableDigest(a), stableDigest(b));
  assert.notEqual(stableDigest(a), stableDigest({ ...a, intervalMs: 30_000 }));
  assert.notEqual(stableDigest(a), stableDigest({ ...a, hosts: ['mail.s0.test', 'autodiscover.d1.test'] }), 'order within a list is meaning');
  assert.notEqual(stableDigest(a), stableDigest({ ...a, extra: 'x' }));
  const big = { rows: Array.from({ length: 200 }, (_, i) => ({ name: `tls/autodiscover.d${i}.test`, status: 'Pass', message: 'x'.repeat(50) })) };
  assert.ok(stableJson(big).length > 10_000);
  assert.equal(stableDigest(big).length, 44);
  assert.equal(stableDigest(a).length, 44);
});

test('DomainStandings.set: true for a first or changed standing, false for the same one again (built anew)', () => {
  const standings = new DomainStandings();
  const standing = (message: string): DomainStanding => ({
    generation: 3, serverKey: 'ns/s0', domain: 'd1.test', accepted: true,
    httpResults: [{ name: 'http/autodiscover.d1.test', status: 'Pass', message } as unknown as DomainStanding['httpResults'][number]],
  });
  assert.equal(standings.set('ns/d1', standing('answered')), true);
  assert.equal(standings.set('ns/d1', standing('answered')), false);
  assert.equal(standings.set('ns/d1', standing('timed out')), true);
  assert.equal(standings.get('ns/d1')?.httpResults[0]?.name, 'http/autodiscover.d1.test');
  assert.equal(standings.delete('ns/d1'), 'ns/s0');
  assert.equal(standings.set('ns/d1', standing('timed out')), true, 'forgotten: first again');
});

test('shortDigest: 24 characters whatever the text, equal for equal text, different for any change', () => {
  const view = JSON.stringify(['uid-1', 3, { kind: 'Found', name: 'd1', mapiEnabled: true, rolloutMessage: 'x'.repeat(500) }]);
  assert.equal(shortDigest(view).length, 24);
  assert.equal(shortDigest('').length, 24);
  assert.equal(shortDigest(view), shortDigest(`${view}`));
  assert.notEqual(shortDigest(view), shortDigest(view.replace('true', 'false')));
});
