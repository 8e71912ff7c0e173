// MailDomain → the objects the operator applies. Pure: no client, no clock, no network.
import type { MailDomain } from '../api/maildomain.ts';
import { desiredCertificate } from './certificate.ts';
import { ingressExposure, type ExposureBuilder } from './exposure.ts';
import { desiredAccessConfigMaps, type MailboxAccess } from './access.ts';
import { desiredDeployment, desiredService, type DeploymentDecision } from './workload.ts';

export interface DesiredInput {
  md: MailDomain;
  /** Served hosts this MailDomain owns (hosts claimed by an older MailDomain removed). */
  hosts: string[];
  deployment: DeploymentDecision;
  mailboxes: MailboxAccess[];
  exposure?: ExposureBuilder;
}

export function desiredObjects(input: DesiredInput): object[] {
  const { md, hosts } = input;
  const exposure = input.exposure ?? ingressExposure;
  return [
    ...desiredAccessConfigMaps(md, input.mailboxes),
    desiredService(md),
    desiredDeployment(md, input.deployment),
    // An Ingress needs at least one rule; with every host claimed elsewhere there is nothing
    // to expose or certify.
    ...(hosts.length > 0 ? [desiredCertificate(md, hosts), ...exposure.build({ md, hosts })] : []),
  ];
}

export * from './names.ts';
export * from './hosts.ts';
export * from './certificate.ts';
export * from './exposure.ts';
export * from './workload.ts';
export * from './access.ts';
