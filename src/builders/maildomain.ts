// A MailDomain → the objects the operator applies for it: one Certificate for its autodiscover
// hosts and their exposure, routed to its server's Service. Owned by the MailDomain, so a
// change or a deletion of one domain touches only its own children.
import type { MapiServer } from '../api/mapiserver.ts';
import type { MailDomain } from '../api/maildomain.ts';
import { domainChildNames, serverChildNames } from './names.ts';
import { AUTODISCOVER_PATHS, exposureFor, type ExposureBuilder, type GatewayAttachment } from './exposure.ts';
import { desiredCertificate } from './certificate.ts';

export interface DomainObjectsInput {
  md: MailDomain;
  /** The MapiServer md.spec.serverRef names. */
  server: MapiServer;
  /** The autodiscover hosts this MailDomain owns (hosts another MailDomain claimed first left out). */
  hosts: string[];
  exposure?: ExposureBuilder;
  /** Gateway API: where the routes attach, decided from the live Gateway. */
  gatewayAttachment?: GatewayAttachment;
}

export function desiredDomainObjects(input: DomainObjectsInput): object[] {
  const { md, server, hosts } = input;
  if (md.spec.serverRef !== server.metadata.name || md.metadata.namespace !== server.metadata.namespace) {
    throw new Error(
      `MailDomain ${md.metadata.namespace}/${md.metadata.name} names spec.serverRef ${md.spec.serverRef}, not MapiServer ${server.metadata.namespace}/${server.metadata.name}: build its children with the server it names`,
    );
  }
  // No host to serve: nothing to certify or route (an Ingress needs a rule, a Certificate a name).
  if (hosts.length === 0) return [];
  const names = domainChildNames(md);
  const exposure = input.exposure ?? exposureFor(server.spec.exposure);
  return [
    desiredCertificate({ owner: md, name: names.certificate, secretName: names.tlsSecret, hosts, issuerRef: md.spec.tls.issuerRef ?? server.spec.tls.issuerRef }),
    ...exposure.build({
      owner: md,
      name: names.ingress,
      hosts,
      paths: AUTODISCOVER_PATHS,
      serviceName: serverChildNames(server).service,
      tlsSecret: names.tlsSecret,
      exposure: server.spec.exposure,
      ...(input.gatewayAttachment ? { attachment: input.gatewayAttachment } : {}),
    }),
  ];
}
