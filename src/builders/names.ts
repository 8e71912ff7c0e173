// Names, labels and owner references of everything built for a MapiServer and its
// MailDomains. Kept in one place so the builders, the controllers and the tests agree on them.
import type { V1OwnerReference } from '@kubernetes/client-node';
import { API_VERSION } from '../api/common.ts';
import type { MapiServer } from '../api/mapiserver.ts';
import type { MailDomain } from '../api/maildomain.ts';

export const FIELD_MANAGER = 'mapi-operator';
export const MAPISERVER_LABEL = 'mapi-operator.io/mapiserver';
export const MAILDOMAIN_LABEL = 'mapi-operator.io/maildomain';
export const TEMPLATE_HASH_ANNOTATION = 'mapi-operator.io/template-hash';
export const ACCESS_MOUNT_PATH = '/etc/mapi-operator/access';

/** Either owner kind: the builders label and own children of both alike. */
export type Owner = Pick<MapiServer, 'kind' | 'metadata'> | (Pick<MailDomain, 'kind' | 'metadata'> & { spec: Pick<MailDomain['spec'], 'serverRef'> });

export interface ServerChildNames {
  certificate: string;
  tlsSecret: string;
  ingress: string;
  service: string;
  deployment: string;
  pdb: string;
  /** The index ConfigMap of the access list (it also holds the only shard of a small list). */
  accessConfigMap: string;
}

export interface DomainChildNames {
  certificate: string;
  tlsSecret: string;
  ingress: string;
}

export function serverChildNames(server: Pick<MapiServer, 'metadata' | 'spec'>): ServerChildNames {
  const base = `${server.metadata.name}-mapi`;
  return {
    certificate: base,
    tlsSecret: server.spec.tls.secretName ?? `${base}-tls`,
    ingress: base,
    service: base,
    deployment: base,
    pdb: base,
    accessConfigMap: `${base}-access`,
  };
}

/** Shard ConfigMap `i` of the access list (only exists when the list has more than one shard). */
export function accessShardName(server: Pick<MapiServer, 'metadata'>, i: number): string {
  return `${server.metadata.name}-mapi-access-${i}`;
}

export function domainChildNames(md: Pick<MailDomain, 'metadata' | 'spec'>): DomainChildNames {
  const base = `${md.metadata.name}-autodiscover`;
  return { certificate: base, tlsSecret: md.spec.tls.secretName ?? `${base}-tls`, ingress: base };
}

/** The immutable labels a Deployment selects its pods on (and the Service routes by). */
export function selectorLabels(server: Pick<MapiServer, 'metadata'>): Record<string, string> {
  return { 'app.kubernetes.io/name': 'mapi-server', 'app.kubernetes.io/instance': server.metadata.name };
}

/** The server a child belongs to: the owner itself, or the MapiServer a MailDomain names. */
export function serverNameOf(owner: Owner): string {
  return owner.kind === 'MapiServer' ? owner.metadata.name : owner.spec.serverRef;
}

/**
 * Labels on every child. Every child of a server and of its MailDomains carries the server
 * label, so "everything serving bluemind" is one label selector; a MailDomain's children
 * also carry their MailDomain's name, so deleting or listing one domain touches only its own.
 */
export function commonLabels(owner: Owner): Record<string, string> {
  return {
    'app.kubernetes.io/managed-by': FIELD_MANAGER,
    'app.kubernetes.io/part-of': 'mapi-operator',
    [MAPISERVER_LABEL]: serverNameOf(owner),
    ...(owner.kind === 'MailDomain' ? { [MAILDOMAIN_LABEL]: owner.metadata.name } : {}),
  };
}

export function ownerReference(owner: Pick<Owner, 'kind' | 'metadata'>): V1OwnerReference {
  const { kind, metadata } = owner;
  if (!metadata.uid) {
    throw new Error(`${kind} ${metadata.namespace}/${metadata.name} has no metadata.uid: build children only from an object read from the apiserver (an owner reference needs its uid)`);
  }
  return { apiVersion: API_VERSION, kind, name: metadata.name, uid: metadata.uid, controller: true, blockOwnerDeletion: true };
}

export interface ChildMetadata {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences: V1OwnerReference[];
}

export function childMetadata(owner: Owner, name: string, annotations?: Record<string, string>): ChildMetadata {
  return {
    name,
    namespace: owner.metadata.namespace,
    labels: commonLabels(owner),
    ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
    ownerReferences: [ownerReference(owner)],
  };
}
