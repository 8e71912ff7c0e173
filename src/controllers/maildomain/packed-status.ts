// The MailDomain caches keep each status deflated (FieldPacker): at a hoster's 5,000
// MailDomains their statuses were the largest thing the operator held after the Mailboxes.
// The dictionary is what a MailDomain status says: field names, condition types and reasons,
// and the messages of a Ready domain (for a placeholder domain and server; each status then
// repeats its own names, which deflate refers back to within the status). Only the ratio
// depends on it: a status that says something else packs larger, and reads back the same.
// Changing it is safe (the caches are rebuilt at each start), not free: measure with
// `npm run bench:memory -- --section domains`.
import { FieldPacker } from '../../kube/index.ts';

const HOST = 'autodiscover.example.org';
const at = '2026-01-01T00:00:00Z';
const condition = (type: string, status: string, reason: string, message: string) => ({ lastTransitionTime: at, message, observedGeneration: 1, reason, status, type });
const row = (name: string, status: string, reason: string, message: string) => ({ lastTransitionTime: at, message, name, reason, status });

const WORDS = [
  'ChecksPending', 'CertificateIssuing', 'AutodiscoverNotPublished', 'CertificateNotReady', 'HostConflict', 'ServerNotFound', 'IssuerNotFound',
  'DnsLookupFailed', 'HostNotResolved', 'NameServerUnreachable', 'ConnectFailed', 'ConnectionRefused', 'ConnectionTimedOut', 'HandshakeFailed',
  'NameMismatch', 'UntrustedRoot', 'SelfSigned', 'Expired', 'CertificateExpiringSoon', 'MissingIntermediate', 'PublishedBySrvOnly',
  'RootDomainCertificateValid', 'RootDomainStalls', 'RedirectToHttps', 'Failed', 'Warning', 'Unknown', 'False',
  'the DNS checks have not run yet', 'waiting for the MapiServer, nothing needs a person yet', 'waiting for cert-manager to issue Certificate ',
].join(' ');

const READY_STATUS = {
  autodiscoverURLs: [`https://${HOST}/autodiscover/autodiscover.xml`],
  checks: [
    row('certificate', 'Passed', 'Ready', 'Certificate is up to date and has not expired'),
    row(`dns/${HOST}`, 'Passed', 'AddressOfExternalHost', `${HOST} resolves to 127.0.0.1, the address of mail.example.org`),
    row(`tls/${HOST}`, 'Passed', 'CertificateValid', `${HOST}: trusted certificate for ${HOST}, valid until 2027-01-01T00:00:00.000Z`),
    row('rootdomain/example.org', 'Passed', 'RootDomainNotServing', 'example.org has no address (NODATA), so Outlook moves on to the autodiscover host at once'),
  ],
  conditions: [
    condition('Accepted', 'True', 'Accepted', 'served by MapiServer mapi'),
    condition('CertificateReady', 'True', 'CertificateReady', 'Certificate is up to date and has not expired'),
    condition('AutodiscoverPublished', 'True', 'AutodiscoverPublished', `published for ${HOST} (require: Any)`),
    condition('ChecksPassed', 'True', 'ChecksPassed', 'autodiscover is published and served for example.org (require: Any)'),
    condition('Stalled', 'False', 'NotStalled', 'nothing blocks reconciliation'),
    condition('Reconciling', 'False', 'Reconciled', 'up to date'),
    condition('Ready', 'True', 'Ready', 'autodiscover for example.org is published and served; MapiServer mapi serves it'),
    condition('Exposed', 'True', 'IngressApplied', `Ingress example-autodiscover for ${HOST}, tuned for ingress-nginx or F5 NGINX Ingress Controller`),
  ],
  observedGeneration: 1,
};

/** Deflate prefers near matches: the common case (a Ready status) last. */
export const mailDomainStatusPacker = new FieldPacker('MailDomainStatus', ['status'], `${WORDS} ${JSON.stringify(READY_STATUS)}`);
