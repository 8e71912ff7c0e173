// What the checks read from the resource's namespace before probing: the trust bundle
// (checks.caBundle) and the probe credentials (checks.probeCredentials). A reference that
// cannot be used must say so in status, each case with its own reason naming the field and
// the fix; silently probing without it would only show up as a puzzling TLS or 401 failure.
import { parseCertificates } from '../checks/chain.ts';
import type { CheckResult } from '../checks/types.ts';

export type ReadOutcome = { found: false } | { found: true; value: string | undefined };

const row = (name: string, reason: string, message: string): CheckResult => ({ name, status: 'Failed', reason, message, details: {} });

/** The row for checks.caBundle, or the PEM to trust. */
export function caBundleReference(ref: { kind: 'ConfigMap' | 'Secret'; name: string; key: string }, read: ReadOutcome): { pem: string } | { problem: CheckResult } {
  const field = `spec.checks.caBundle.${ref.kind === 'ConfigMap' ? 'configMapKeyRef' : 'secretKeyRef'}`;
  const name = 'reference/caBundle';
  if (!read.found) return { problem: row(name, 'CaBundleNotFound', `${field}: ${ref.kind} ${ref.name} does not exist in this namespace; create it with the CA certificate(s) in PEM under key ${ref.key}, or remove ${field}`) };
  if (read.value === undefined || read.value.trim() === '') return { problem: row(name, 'CaBundleKeyMissing', `${field}: ${ref.kind} ${ref.name} has no key ${ref.key}; put the CA certificate(s) in PEM under that key, or name the right key`) };
  if (!read.value.includes('-----BEGIN CERTIFICATE-----')) return { problem: row(name, 'CaBundleNoPem', `${field}: key ${ref.key} of ${ref.kind} ${ref.name} holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" block); put the CA certificate(s) there in PEM`) };
  try {
    if (parseCertificates(read.value).length === 0) throw new Error('no certificate');
  } catch (err) {
    return { problem: row(name, 'CaBundleBadPem', `${field}: key ${ref.key} of ${ref.kind} ${ref.name} holds a PEM block that is not a valid X.509 certificate (${(err as Error).message.slice(0, 120)}); replace it with the CA certificate in PEM`) };
  }
  return { pem: read.value };
}

/** The row for checks.probeCredentials, or the credentials. */
export function probeCredentialsReference(secretName: string, read: Record<'username' | 'password' | 'address', ReadOutcome>): { credentials: { username: string; password: string; address: string } } | { problem: CheckResult } {
  const field = 'spec.checks.probeCredentials.secretName';
  const name = 'reference/probeCredentials';
  if (!read.username.found) return { problem: row(name, 'ProbeCredentialsNotFound', `${field}: Secret ${secretName} does not exist in this namespace; create it with keys username, password and address, or remove spec.checks.probeCredentials`) };
  const missing = (['username', 'password', 'address'] as const).filter((k) => { const r = read[k]; return !r.found || !r.value; });
  if (missing.length > 0) return { problem: row(name, 'ProbeCredentialsIncomplete', `${field}: Secret ${secretName} lacks ${missing.join(', ')}; add ${missing.length > 1 ? 'these keys' : 'this key'} (username, password and address of a test mailbox)`) };
  const value = (k: 'username' | 'password' | 'address') => (read[k] as { value: string }).value;
  return { credentials: { username: value('username'), password: value('password'), address: value('address') } };
}
