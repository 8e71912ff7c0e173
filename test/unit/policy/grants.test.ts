// The grant filter beside "the oldest claim wins": which namespace may claim which host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grantFor, isGranted, notGrantedObjection, OPEN, ungranted, type Grant, type GrantPolicy } from '../../../src/policy/grants.ts';
import { claimHosts, type Claimant } from '../../../src/policy/host-claims.ts';

const grants: Grant[] = [
  { name: 'acme', namespaces: ['acme'], domains: ['acme.com'], hostSuffixes: ['mail.acme.net'] },
  { name: 'shared', namespaces: ['team-a', 'team-b'], domains: [], hostSuffixes: ['shared.example'] },
];
const granted: GrantPolicy = { tenancy: 'Granted', grants: () => grants };

test('a domain entry covers the domain and its autodiscover host; a suffix covers itself and names under it', () => {
  assert.equal(grantFor('acme', 'acme.com', grants)?.name, 'acme');
  assert.equal(grantFor('acme', 'autodiscover.acme.com', grants)?.name, 'acme');
  assert.equal(grantFor('acme', 'Autodiscover.ACME.com.', grants)?.name, 'acme', 'case and a trailing dot do not matter');
  assert.equal(grantFor('acme', 'other.acme.com', grants), undefined, 'a domain entry is not a suffix');
  assert.equal(grantFor('acme', 'mail.acme.net', grants)?.name, 'acme');
  assert.equal(grantFor('acme', 'eu.mail.acme.net', grants)?.name, 'acme');
  assert.equal(grantFor('acme', 'evilmail.acme.net', grants), undefined, 'a suffix matches at a label boundary only');
  assert.equal(grantFor('other', 'acme.com', grants), undefined, 'another namespace is not granted');
  assert.equal(grantFor('team-b', 'x.shared.example', grants)?.name, 'shared');
});

test('Open grants everything; Granted lists what is missing and names the grant needed', () => {
  assert.equal(isGranted(OPEN, 'anyone', 'acme.com'), true);
  assert.deepEqual(ungranted(OPEN, 'anyone', ['acme.com']), []);
  assert.deepEqual(ungranted(granted, 'acme', ['acme.com', 'acme.org', 'ACME.org']), ['acme.org']);
  const o = notGrantedObjection('MailDomain', 'tenant', [{ field: 'spec.domain', host: 'acme.com' }]);
  assert.equal(o?.reason, 'NotGranted');
  assert.match(o!.message, /spec\.domain acme\.com is not granted to namespace tenant .*MailDomainGrant .*namespace tenant in spec\.namespaces and acme\.com in spec\.domains or spec\.hostSuffixes/);
  assert.equal(notGrantedObjection('MapiServer', 'x', []), undefined);
});

test('an ungranted older claimant neither holds a host nor blocks the granted one; a freed host passes only to a granted claimant', () => {
  const squatter: Claimant = { namespace: 'tenant', name: 'first', creationTimestamp: '2026-01-01T00:00:00Z' };
  const owner: Claimant = { namespace: 'acme', name: 'acme', creationTimestamp: '2026-06-01T00:00:00Z' };
  const laterSquatter: Claimant = { namespace: 'tenant2', name: 'x', creationTimestamp: '2026-07-01T00:00:00Z' };
  const filtered = (all: Claimant[]) => (host: string) => all.filter((c) => isGranted(granted, c.namespace, host));
  assert.deepEqual(claimHosts(owner, ['acme.com'], filtered([squatter, owner])), { owned: ['acme.com'], conflicts: [] });
  // Without the filter the older squatter would win: the attack of the issue.
  assert.equal(claimHosts(owner, ['acme.com'], () => [squatter, owner]).conflicts[0]?.owner.name, 'first');
  // The owner is deleted: the later ungranted claimant still does not become a rival for the next granted one.
  const next: Claimant = { namespace: 'acme', name: 'acme-2', creationTimestamp: '2026-08-01T00:00:00Z' };
  assert.deepEqual(claimHosts(next, ['acme.com'], filtered([squatter, laterSquatter, next])).owned, ['acme.com']);
});
