// A test PKI made with the openssl command line: a root, an intermediate, and leaves with the
// names and validity each scenario needs (valid, expired, not yet valid, wrong SAN, wildcard,
// self-signed). Uses `openssl ca` because it alone takes arbitrary start and end dates.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestCertificate {
  certPem: string;
  keyPem: string;
  /** What a correctly configured server sends: the leaf, then the intermediate (if any). */
  chainPem: string;
}

export interface LeafOptions {
  commonName?: string;
  dnsNames: string[];
  notBefore?: Date;
  notAfter?: Date;
  /** Who signs the leaf; default the intermediate. */
  issuer?: 'intermediate' | 'root';
}

export interface TestPki {
  dir: string;
  rootPem: string;
  intermediatePem: string;
  issue(options: LeafOptions): TestCertificate;
  selfSigned(options: LeafOptions): TestCertificate;
  cleanup(): void;
}

const DAY = 86_400_000;

/** The same certificate served without its intermediate: the "Missing Intermediate" case. */
export function leafOnly(certificate: TestCertificate): TestCertificate {
  return { ...certificate, chainPem: certificate.certPem };
}

export function daysFromNow(days: number): Date {
  return new Date(Date.now() + days * DAY);
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** GeneralizedTime as `openssl ca -startdate/-enddate` take it. */
function asn1Time(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

function caConfig(dir: string): string {
  return [
    '[ ca ]', 'default_ca = test_ca',
    '[ test_ca ]',
    `dir = ${dir}`,
    'database = $dir/index.txt', 'new_certs_dir = $dir/issued', 'serial = $dir/serial',
    'default_md = sha256', 'policy = any_name', 'unique_subject = no', 'copy_extensions = none', 'email_in_dn = no',
    '[ any_name ]', 'commonName = supplied',
    '[ req ]', 'distinguished_name = dn', 'prompt = no', '[ dn ]', 'CN = placeholder',
    '',
  ].join('\n');
}

function extensionsFile(kind: 'ca' | 'leaf', dnsNames: string[]): string {
  if (kind === 'ca') {
    return ['[ ext ]', 'basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid:always', ''].join('\n');
  }
  const san = dnsNames.map((n) => `DNS:${n}`).join(', ');
  return ['[ ext ]', 'basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature, keyEncipherment',
    'extendedKeyUsage = serverAuth', 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid:always',
    ...(san ? [`subjectAltName = ${san}`] : []), ''].join('\n');
}

export function createTestPki(label = 'mapi-operator Test'): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'mapi-pki-'));
  mkdirSync(path.join(dir, 'issued'));
  writeFileSync(path.join(dir, 'index.txt'), '');
  writeFileSync(path.join(dir, 'serial'), '1000\n');
  writeFileSync(path.join(dir, 'ca.cnf'), caConfig(dir));
  let counter = 0;

  const newKeyAndCsr = (name: string, commonName: string): void => {
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
    openssl(['req', '-new', '-config', 'ca.cnf', '-key', `${name}.key`, '-subj', `/CN=${commonName}`, '-out', `${name}.csr`], dir);
  };
  const sign = (name: string, kind: 'ca' | 'leaf', signer: string | null, dnsNames: string[], notBefore: Date, notAfter: Date): void => {
    writeFileSync(path.join(dir, `${name}.ext`), extensionsFile(kind, dnsNames));
    const signerArgs = signer === null ? ['-selfsign', '-keyfile', `${name}.key`] : ['-cert', `${signer}.pem`, '-keyfile', `${signer}.key`];
    openssl(['ca', '-batch', '-notext', '-config', 'ca.cnf', ...signerArgs, '-in', `${name}.csr`, '-out', `${name}.pem`,
      '-startdate', asn1Time(notBefore), '-enddate', asn1Time(notAfter), '-extfile', `${name}.ext`, '-extensions', 'ext'], dir);
  };
  const read = (file: string): string => readFileSync(path.join(dir, file), 'utf8');

  newKeyAndCsr('root', `${label} Root CA`);
  sign('root', 'ca', null, [], daysFromNow(-30), daysFromNow(3650));
  newKeyAndCsr('intermediate', `${label} Intermediate CA`);
  sign('intermediate', 'ca', 'root', [], daysFromNow(-30), daysFromNow(1825));
  const rootPem = read('root.pem');
  const intermediatePem = read('intermediate.pem');

  const leaf = (options: LeafOptions, signer: string | null): TestCertificate => {
    const name = `leaf${++counter}`;
    newKeyAndCsr(name, options.commonName ?? options.dnsNames[0] ?? name);
    sign(name, signer === null ? 'leaf' : 'leaf', signer, options.dnsNames, options.notBefore ?? daysFromNow(-1), options.notAfter ?? daysFromNow(90));
    const certPem = read(`${name}.pem`);
    const chainPem = signer === 'intermediate' ? certPem + intermediatePem : certPem;
    return { certPem, keyPem: read(`${name}.key`), chainPem };
  };

  return {
    dir,
    rootPem,
    intermediatePem,
    issue: (options) => leaf(options, options.issuer ?? 'intermediate'),
    selfSigned: (options) => leaf(options, null),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
