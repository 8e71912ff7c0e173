// Names, labels and owner references of everything built for a MapiServer and its
// MailDomains. Kept in one place so the builders, the controllers and the tests agree on them.
import { createHash } from 'node:crypto';
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

/** A DNS-1035 label (what a Service name must be, and what every child name here is). */
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const MAX_LABEL = 63;

const shortHash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 8);

/**
 * `<owner>-<suffix>`, or, when that is not a valid DNS-1035 label of at most 63 characters (a
 * resource name may be a 253-character DNS subdomain with dots, or start with a digit), a
 * shortened form that is: the owner name with dots turned into dashes, cut to fit, then eight
 * hex characters of the SHA-256 of the full owner name, then the suffix. Stable (the same name
 * always gives the same child name) and distinct for distinct owner names (up to the hash).
 */
export function childName(ownerName: string, suffix: string): string {
  const plain = `${ownerName}-${suffix}`;
  if (plain.length <= MAX_LABEL && DNS_LABEL.test(plain)) return plain;
  const tail = `-${shortHash(ownerName)}-${suffix}`;
  let head = ownerName.toLowerCase().replace(/[^-a-z0-9]/g, '-');
  if (!/^[a-z]/.test(head)) head = `m${head}`;
  head = head.slice(0, Math.max(1, MAX_LABEL - tail.length)).replace(/-+$/, '');
  return `${head}${tail}`;
}

/**
 * A label value naming an owner: the name itself when it fits (63 characters), else its first
 * 54 characters, a dash and eight hex characters of its SHA-256 (stable, still readable).
 */
export function labelValue(name: string): string {
  if (name.length <= MAX_LABEL) return name;
  return `${name.slice(0, 54).replace(/[^A-Za-z0-9]+$/, '')}-${shortHash(name)}`;
}

export function serverChildNames(server: Pick<MapiServer, 'metadata' | 'spec'>): ServerChildNames {
  const base = childName(server.metadata.name, 'mapi');
  return {
    certificate: base,
    tlsSecret: server.spec.tls.secretName ?? childName(server.metadata.name, 'mapi-tls'),
    ingress: base,
    service: base,
    deployment: base,
    pdb: base,
    accessConfigMap: childName(server.metadata.name, 'mapi-access'),
  };
}

/** Shard ConfigMap `i` of the access list (only exists when the list has more than one shard). */
export function accessShardName(server: Pick<MapiServer, 'metadata'>, i: number): string {
  return childName(server.metadata.name, `mapi-access-${i}`);
}

export function domainChildNames(md: Pick<MailDomain, 'metadata' | 'spec'>): DomainChildNames {
  const base = childName(md.metadata.name, 'autodiscover');
  return { certificate: base, tlsSecret: md.spec.tls.secretName ?? childName(md.metadata.name, 'autodiscover-tls'), ingress: base };
}

/** The immutable labels a Deployment selects its pods on (and the Service routes by). */
export function selectorLabels(server: Pick<MapiServer, 'metadata'>): Record<string, string> {
  return { 'app.kubernetes.io/name': 'mapi-server', 'app.kubernetes.io/instance': labelValue(server.metadata.name) };
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
    [MAPISERVER_LABEL]: labelValue(serverNameOf(owner)),
    ...(owner.kind === 'MailDomain' ? { [MAILDOMAIN_LABEL]: labelValue(owner.metadata.name) } : {}),
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
