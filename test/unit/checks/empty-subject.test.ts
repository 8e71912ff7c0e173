// cert-manager issues certificates whose subject is empty (the names are in the SAN only).
// Reading one must not throw: in the operator that happens inside a socket event, where an
// exception would end the process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { certificateInfo } from '../../../src/checks/chain.ts';

test('certificateInfo reads a certificate with an empty subject, as cert-manager issues them', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'empty-subject-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem'), '-subj', '/', '-addext', 'subjectAltName=DNS:mail.example.com',
    ], { stdio: 'ignore' });
    const cert = new X509Certificate(readFileSync(path.join(dir, 'c.pem')));
    const info = certificateInfo(cert);
    assert.equal(info.subject, '');
    assert.deepEqual(info.dnsNames, ['mail.example.com']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
