// How the hosts are exposed. DESIGN.md: ingress-nginx was retired in March 2026 and teams are
// moving to Gateway API, so exposure sits behind one interface; Ingress is the first
// implementation, an HTTPRoute builder is the second one to come.
import type { V1Ingress, V1HTTPIngressPath } from '@kubernetes/client-node';
import type { MailDomain } from '../api/maildomain.ts';
import { childMetadata, childNames } from './names.ts';

/** Paths a MAPI server serves behind the front (PROTOCOL.md). */
export const MAPI_PATH = '/mapi';
export const OTHER_PATHS = ['/autodiscover', '/ews', '/oab'] as const;
export const SERVICE_PORT_NAME = 'http';

export interface ExposureInput {
  md: MailDomain;
  /** Hosts this MailDomain may serve (conflicting hosts already removed). */
  hosts: string[];
}

export interface ExposureBuilder {
  readonly kind: string;
  build(input: ExposureInput): object[];
}

/**
 * MAPI/HTTP must not be buffered: the server streams keep-alive lines every ≤30 s and
 * NotificationWait lasts up to 5 minutes (MS-OXCMAPIHTTP 2.2.7; BlueMind's nginx config).
 * One small table per known controller; anything else gets only the user's annotations.
 */
export const controllerTuning: Record<string, Record<string, string>> = {
  nginx: {
    'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
    'nginx.ingress.kubernetes.io/proxy-request-buffering': 'off',
    'nginx.ingress.kubernetes.io/proxy-read-timeout': '600',
    'nginx.ingress.kubernetes.io/proxy-send-timeout': '600',
    'nginx.ingress.kubernetes.io/proxy-http-version': '1.1',
    'nginx.ingress.kubernetes.io/backend-protocol': 'HTTP',
  },
};

export function ingressAnnotations(md: MailDomain): Record<string, string> {
  const tuning = controllerTuning[md.spec.ingress.className ?? ''] ?? {};
  // The user's own annotations win: they know their controller better than our table.
  return { ...tuning, ...md.spec.ingress.annotations };
}

export function servedPaths(md: MailDomain): string[] {
  return md.spec.mapi.enabled ? [MAPI_PATH, ...OTHER_PATHS] : [...OTHER_PATHS];
}

export const ingressExposure: ExposureBuilder = {
  kind: 'Ingress',
  build({ md, hosts }: ExposureInput): object[] {
    return [desiredIngress(md, hosts)];
  },
};

export function desiredIngress(md: MailDomain, hosts: string[]): V1Ingress {
  const names = childNames(md);
  const paths: V1HTTPIngressPath[] = servedPaths(md).map((path) => ({
    path,
    pathType: 'Prefix',
    backend: { service: { name: names.service, port: { name: SERVICE_PORT_NAME } } },
  }));
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: childMetadata(md, names.ingress, ingressAnnotations(md)),
    spec: {
      ...(md.spec.ingress.className ? { ingressClassName: md.spec.ingress.className } : {}),
      tls: hosts.length > 0 ? [{ hosts, secretName: names.tlsSecret }] : [],
      rules: hosts.map((host) => ({ host, http: { paths } })),
    },
  };
}
