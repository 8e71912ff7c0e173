// The kinds the operator reads and writes, in one table.
import type { ResourceRef } from '../kube/index.ts';
import { GROUP, VERSION } from '../api/common.ts';

export const MAPISERVERS: ResourceRef = { group: GROUP, version: VERSION, plural: 'mapiservers', namespaced: true, kind: 'MapiServer' };
export const MAILDOMAINS: ResourceRef = { group: GROUP, version: VERSION, plural: 'maildomains', namespaced: true, kind: 'MailDomain' };
export const MAILDOMAINGRANTS: ResourceRef = { group: GROUP, version: VERSION, plural: 'maildomaingrants', namespaced: false, kind: 'MailDomainGrant' };
export const MAILBOXES: ResourceRef = { group: GROUP, version: VERSION, plural: 'mailboxes', namespaced: true, kind: 'Mailbox' };
export const CERTIFICATES: ResourceRef = { group: 'cert-manager.io', version: 'v1', plural: 'certificates', namespaced: true, kind: 'Certificate' };
export const CLUSTERISSUERS: ResourceRef = { group: 'cert-manager.io', version: 'v1', plural: 'clusterissuers', namespaced: false, kind: 'ClusterIssuer' };
export const ISSUERS: ResourceRef = { group: 'cert-manager.io', version: 'v1', plural: 'issuers', namespaced: true, kind: 'Issuer' };
export const DEPLOYMENTS: ResourceRef = { group: 'apps', version: 'v1', plural: 'deployments', namespaced: true, kind: 'Deployment' };
export const PODDISRUPTIONBUDGETS: ResourceRef = { group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', namespaced: true, kind: 'PodDisruptionBudget' };
export const SERVICES: ResourceRef = { group: '', version: 'v1', plural: 'services', namespaced: true, kind: 'Service' };
export const CONFIGMAPS: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', namespaced: true, kind: 'ConfigMap' };
export const SECRETS: ResourceRef = { group: '', version: 'v1', plural: 'secrets', namespaced: true, kind: 'Secret' };
export const INGRESSES: ResourceRef = { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', namespaced: true, kind: 'Ingress' };
// Gateway API, standard channel (only watched when the cluster serves it).
export const GATEWAYS: ResourceRef = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'gateways', namespaced: true, kind: 'Gateway' };
export const HTTPROUTES: ResourceRef = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', namespaced: true, kind: 'HTTPRoute' };
export const LISTENERSETS: ResourceRef = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'listenersets', namespaced: true, kind: 'ListenerSet' };

export const OWNED_KINDS: Record<string, ResourceRef> = {
  Certificate: CERTIFICATES,
  Deployment: DEPLOYMENTS,
  PodDisruptionBudget: PODDISRUPTIONBUDGETS,
  Service: SERVICES,
  ConfigMap: CONFIGMAPS,
  Ingress: INGRESSES,
  HTTPRoute: HTTPROUTES,
  ListenerSet: LISTENERSETS,
};

/** Children carry this label, so their informers cache only what the operator made. */
export const MANAGED_SELECTOR = 'app.kubernetes.io/managed-by=mapi-operator';
