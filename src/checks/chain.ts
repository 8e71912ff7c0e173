// Works out where a presented certificate chain leads, independently of OpenSSL's single
// error code (which names one problem only, checked against the machine's clock): the checks
// need to tell a self-signed leaf, an untrusted root and a missing intermediate apart.
import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import type { CertificateInfo, ChainStatus } from './types.ts';

const MAX_CHAIN_LENGTH = 10;

export function splitPemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

export function parseCertificates(pem: string): X509Certificate[] {
  return splitPemCertificates(pem).map((block) => new X509Certificate(block));
}

let systemAnchors: X509Certificate[] | undefined;

/** Node's bundled Mozilla roots (what `tls` trusts by default), parsed once. */
export function systemTrustAnchors(): X509Certificate[] {
  systemAnchors ??= rootCertificates.map((pem) => new X509Certificate(pem));
  return systemAnchors;
}

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/**
 * Signed by its own key under its own name. Not checkIssued(cert): OpenSSL's issuer check also
 * wants keyCertSign, which a self-signed server certificate usually lacks.
 */
export function isSelfSigned(cert: X509Certificate): boolean {
  try {
    return cert.subject === cert.issuer && cert.verify(cert.publicKey);
  } catch {
    return false;
  }
}

/**
 * Builds the path leaf → ... → anchor through the presented certificates. `presented[0]` is
 * the leaf. A leaf whose issuer is neither presented nor an anchor is the "Missing Intermediate
 * Certificates in Chain" case (OpenSSL: UNABLE_TO_GET_ISSUER_CERT_LOCALLY /
 * UNABLE_TO_VERIFY_LEAF_SIGNATURE).
 */
export function evaluateChain(presented: X509Certificate[], anchors: X509Certificate[]): ChainStatus {
  let current = presented[0];
  if (!current) return 'Invalid';
  const used = new Set<string>([current.fingerprint256]);
  const anchorPrints = new Set(anchors.map((a) => a.fingerprint256));
  for (let depth = 0; depth < MAX_CHAIN_LENGTH; depth++) {
    const cert: X509Certificate = current;
    if (anchorPrints.has(cert.fingerprint256)) return 'Trusted';
    if (anchors.some((anchor) => signedBy(cert, anchor))) return 'Trusted';
    if (isSelfSigned(cert)) return depth === 0 ? 'SelfSigned' : 'UntrustedRoot';
    const next = presented.find((c) => !used.has(c.fingerprint256) && signedBy(cert, c));
    // Only the leaf's own issuer missing is the classic "server forgot the intermediate"; further
    // up, a chain that stops short of an anchor is a trust failure.
    if (!next) return depth === 0 ? 'MissingIntermediate' : 'UntrustedRoot';
    used.add(next.fingerprint256);
    current = next;
  }
  return 'Invalid';
}

/**
 * Leaf first (`presented[0]`), then each certificate's issuer among the others presented, then
 * its issuers among the trust anchors: what a status reports of a chain. Servers need not send
 * their chain in order of issuance (Node's `issuerCertificate` follows the order sent), and a
 * root only the trust store holds is not sent at all.
 */
export function chainOfIssuance(presented: readonly X509Certificate[], anchors: readonly X509Certificate[]): X509Certificate[] {
  const [leaf, ...rest] = presented;
  if (!leaf) return [];
  const used = new Set(presented.map((c) => c.fingerprint256));
  const chain = [leaf];
  for (let top = leaf; !top.checkIssued(top);) {
    const i = rest.findIndex((cert) => top.checkIssued(cert));
    const issuer = i >= 0 ? rest.splice(i, 1)[0]! : anchors.find((anchor) => anchor.subject === top.issuer && !used.has(anchor.fingerprint256) && top.checkIssued(anchor));
    if (!issuer) break;
    used.add(issuer.fingerprint256);
    chain.push(issuer);
    top = issuer;
  }
  return chain;
}

export function certificateInfo(cert: X509Certificate): CertificateInfo {
  const san = cert.subjectAltName ?? '';
  const entries = san.split(/,\s*/).filter((e) => e.length > 0);
  return {
    // cert-manager issues leaves with an empty subject (names in the SAN only): Node then
    // reports no subject at all.
    subject: (cert.subject ?? '').replace(/\n/g, ', '),
    issuer: (cert.issuer ?? '').replace(/\n/g, ', '),
    dnsNames: entries.filter((e) => e.startsWith('DNS:')).map((e) => e.slice(4)),
    ipAddresses: entries.filter((e) => e.startsWith('IP Address:')).map((e) => e.slice(11)),
    notBefore: cert.validFromDate.getTime(),
    notAfter: cert.validToDate.getTime(),
    selfSigned: isSelfSigned(cert),
    fingerprint256: cert.fingerprint256,
  };
}
