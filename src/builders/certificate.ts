// cert-manager Certificate: one certificate for externalHost and every autodiscover host,
// so no host Outlook contacts raises a certificate warning.
import type { ICertificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import type { MailDomain } from '../api/maildomain.ts';
import { childMetadata, childNames, commonLabels } from './names.ts';

export function desiredCertificate(md: MailDomain, hosts: string[]): ICertificate {
  const names = childNames(md);
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: childMetadata(md, names.certificate),
    spec: {
      secretName: names.tlsSecret,
      dnsNames: hosts,
      issuerRef: { name: md.spec.tls.issuerRef.name, kind: md.spec.tls.issuerRef.kind, group: md.spec.tls.issuerRef.group },
      privateKey: { rotationPolicy: 'Always' },
      secretTemplate: { labels: commonLabels(md) },
    },
  };
}
