// cert-manager Certificates: one for a server's external host, one per MailDomain for its
// autodiscover hosts (one tenant's broken DNS never blocks another's certificate, and no
// certificate nears the 100-name limit of public CAs).
import type { ICertificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import type { IssuerRef } from '../api/common.ts';
import { childMetadata, commonLabels, type Owner } from './names.ts';

export interface CertificateInput {
  owner: Owner;
  name: string;
  secretName: string;
  hosts: string[];
  issuerRef: IssuerRef;
}

export function desiredCertificate({ owner, name, secretName, hosts, issuerRef }: CertificateInput): ICertificate {
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: childMetadata(owner, name),
    spec: {
      secretName,
      dnsNames: [...hosts],
      issuerRef: { name: issuerRef.name, kind: issuerRef.kind, group: issuerRef.group },
      privateKey: { rotationPolicy: 'Always' },
      // The Secret carries the same labels, so it is found with its owner's selector.
      secretTemplate: { labels: commonLabels(owner) },
    },
  };
}
