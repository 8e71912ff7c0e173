// Names, labels and owner references of everything built for one MailDomain. Kept in one
// place so the builders, the controller and the tests agree on them.
import type { V1OwnerReference } from '@kubernetes/client-node';
import { API_VERSION, type MailDomain } from '../api/maildomain.ts';

export const FIELD_MANAGER = 'mapi-operator';
export const MAILDOMAIN_LABEL = 'mapi-operator.io/maildomain';
export const TEMPLATE_HASH_ANNOTATION = 'mapi-operator.io/template-hash';
export const ACCESS_MOUNT_PATH = '/etc/mapi-operator/access';

export interface ChildNames {
  certificate: string;
  tlsSecret: string;
  ingress: string;
  service: string;
  deployment: string;
  accessConfigMap: string;
}

export function childNames(md: Pick<MailDomain, 'metadata' | 'spec'>): ChildNames {
  const name = md.metadata.name;
  return {
    certificate: name,
    tlsSecret: md.spec.tls.secretName ?? `${name}-tls`,
    ingress: name,
    service: `${name}-mapi`,
    deployment: `${name}-mapi`,
    accessConfigMap: `${name}-mapi-access`,
  };
}

/** Labels on every child; `selectorLabels` is the immutable subset a Deployment selects on. */
export function selectorLabels(md: Pick<MailDomain, 'metadata'>): Record<string, string> {
  return { 'app.kubernetes.io/name': 'mapi-server', 'app.kubernetes.io/instance': md.metadata.name };
}

export function commonLabels(md: Pick<MailDomain, 'metadata'>): Record<string, string> {
  return {
    ...selectorLabels(md),
    'app.kubernetes.io/managed-by': FIELD_MANAGER,
    'app.kubernetes.io/part-of': 'mapi-operator',
    [MAILDOMAIN_LABEL]: md.metadata.name,
  };
}

export function ownerReference(md: Pick<MailDomain, 'metadata'>): V1OwnerReference {
  if (!md.metadata.uid) throw new Error(`MailDomain ${md.metadata.namespace}/${md.metadata.name} has no uid: read it from the apiserver before building children`);
  return { apiVersion: API_VERSION, kind: 'MailDomain', name: md.metadata.name, uid: md.metadata.uid, controller: true, blockOwnerDeletion: true };
}

export function childMetadata(md: Pick<MailDomain, 'metadata'>, name: string, annotations?: Record<string, string>) {
  return {
    name,
    namespace: md.metadata.namespace,
    labels: commonLabels(md),
    ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
    ownerReferences: [ownerReference(md)],
  };
}
