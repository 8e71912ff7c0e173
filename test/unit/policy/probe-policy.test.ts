// Where probes may go: names and resolved addresses, under the default (public only) and the
// two opt-ins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PUBLIC_ONLY, refusedAddressUnder, refusedHostName } from '../../../src/policy/probe-policy.ts';
import { redactForStatus, redactResults } from '../../../src/policy/status-redaction.ts';

test('host names never probed: IP literals, single labels, loopback and cluster-internal names', () => {
  const refused = ['10.0.0.1', '169.254.169.254', '::1', '[::1]', 'kubernetes', 'localhost', 'foo.localhost', 'mail.default.svc', 'mail.default.svc.cluster.local', 'x.cluster.local', 'api.svc.'];
  for (const h of refused) assert.ok(refusedHostName(h), `${h} must be refused`);
  for (const h of ['mail.example.com', 'autodiscover.example.org.', 'svc.example.com', 'cluster.local.example.com']) assert.equal(refusedHostName(h), null, h);
  assert.match(refusedHostName('mail.default.svc')!, /cluster-internal/);
});

test('default policy: public addresses only', () => {
  const refused: [string, RegExp][] = [
    ['127.0.0.1', /loopback/], ['127.8.9.10', /loopback/], ['::1', /loopback/], ['::ffff:127.0.0.1', /loopback/],
    ['169.254.169.254', /link-local/], ['fe80::1', /link-local/], ['fd00:ec2::254', /metadata|unique local/],
    ['10.0.0.1', /private \(10/], ['172.16.0.1', /172\.16/], ['172.31.255.255', /172\.16/], ['192.168.1.1', /192\.168/], ['100.64.0.1', /shared/],
    ['fc00::1', /unique local/], ['fd12:3456::1', /unique local/], ['::ffff:10.1.2.3', /private/], ['0.0.0.0', /this network/], ['::', /unspecified/],
  ];
  for (const [a, why] of refused) assert.match(refusedAddressUnder(a, PUBLIC_ONLY) ?? 'allowed', why, a);
  for (const a of ['203.0.113.7', '8.8.8.8', '172.15.0.1', '172.32.0.1', '100.128.0.1', '2001:db8::1', '2a00:1450::1']) assert.equal(refusedAddressUnder(a, PUBLIC_ONLY), null, a);
});

test('opt-ins: private networks and loopback, never link-local or metadata', () => {
  const priv = { loopback: false, privateNetworks: true };
  assert.equal(refusedAddressUnder('10.0.0.1', priv), null);
  assert.equal(refusedAddressUnder('fd12::1', priv), null);
  assert.match(refusedAddressUnder('127.0.0.1', priv)!, /loopback/);
  const loop = { loopback: true, privateNetworks: false };
  assert.equal(refusedAddressUnder('127.0.0.1', loop), null);
  assert.equal(refusedAddressUnder('::1', loop), null);
  assert.match(refusedAddressUnder('10.0.0.1', loop)!, /private/);
  const all = { loopback: true, privateNetworks: true };
  assert.match(refusedAddressUnder('169.254.169.254', all)!, /link-local/);
  assert.match(refusedAddressUnder('fd00:ec2::254', all)!, /metadata/);
});

test('status messages keep the class of failure, not another server\'s names or redirect tokens', () => {
  const mismatch = 'SSL Certificate Name Mismatch: the certificate presented by autodiscover.example.com is valid for kubernetes.default.svc, internal.corp.example, not for autodiscover.example.com; issue it with autodiscover.example.com in the Subject Alternative Names';
  const r = redactForStatus(mismatch);
  assert.doesNotMatch(r, /kubernetes|internal\.corp/);
  assert.match(r, /Name Mismatch: .*valid for other names, not for autodiscover\.example\.com/);
  const redirect = redactForStatus('An Unexpected Redirect Response was Received (302 → https://login.internal.example/sso?token=s3cr3t&x=1#frag)');
  assert.doesNotMatch(redirect, /s3cr3t|token|frag/);
  assert.match(redirect, /https:\/\/login\.internal\.example\/sso\)/);
  assert.doesNotMatch(redactForStatus('SSL Certificate Trust Failure: a.example presents a self-signed certificate (CN=vault.internal); Outlook will warn'), /vault/);
  assert.doesNotMatch(redactForStatus('SSL Certificate Trust Failure: the chain of a.example ends at CN=Corp Root CA, O=Secret Corp, which is not a trusted root: use'), /Secret Corp/);
  assert.doesNotMatch(redactForStatus('The chain certificate CN=Internal Issuing CA expired on 2020-01-01T00:00:00.000Z: renew it'), /Internal Issuing/);
});

test('redactResults: a row with nothing to redact is kept as it is (not copied); a redacted one is a new row', () => {
  const clean = { name: 'tls/autodiscover.example.com', status: 'Passed' as const, reason: 'CertificateValid', message: 'autodiscover.example.com: trusted certificate', details: {} };
  const leaky = { name: 'tls/a.example', status: 'Failed' as const, reason: 'SelfSigned', message: 'a.example presents a self-signed certificate (CN=vault.internal)', details: {} };
  const [keptRow, redactedRow] = redactResults([clean, leaky]);
  assert.equal(keptRow, clean);
  assert.notEqual(redactedRow, leaky);
  assert.equal(redactedRow?.message, 'a.example presents a self-signed certificate');
  assert.equal(leaky.message, 'a.example presents a self-signed certificate (CN=vault.internal)', 'the input row is left alone');
});
