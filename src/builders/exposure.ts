// How hosts are exposed. The community ingress-nginx was retired in March 2026 and teams are
// moving to Gateway API, so exposure sits behind one interface that both a MapiServer (its
// external host) and a MailDomain (its autodiscover hosts) go through. Ingress is the first
// implementation; Gateway API HTTPRoutes are the next one.
import type { V1Ingress, V1HTTPIngressPath } from '@kubernetes/client-node';
import { childMetadata, type Owner } from './names.ts';

/** What a MAPI server serves on its external host. */
export const SERVER_PATHS = ['/mapi', '/ews', '/oab', '/autodiscover'] as const;
/** What a MailDomain's autodiscover hosts serve. */
export const AUTODISCOVER_PATHS = ['/autodiscover'] as const;
/** The Service port every exposure routes to (the gatekeeper's, or the server's when it runs alone). */
export const SERVICE_PORT_NAME = 'http';

export interface ExposureInput {
  owner: Owner;
  /** Name of the exposure object(s). */
  name: string;
  /** Hosts to route; hosts another resource has claimed are already left out. */
  hosts: string[];
  paths: readonly string[];
  /** The MapiServer's Service (a MailDomain's hosts go to its server too). */
  serviceName: string;
  /** Secret of the certificate for these hosts. */
  tlsSecret: string;
  ingress: { className?: string; annotations: Record<string, string> };
}

export interface ExposureBuilder {
  readonly kind: string;
  build(input: ExposureInput): object[];
}

/**
 * MAPI/HTTP must not be buffered: the server streams PENDING lines while a request waits
 * (X-PendingPeriod, 30 s by default) and NotificationWait lasts up to 5 minutes
 * ([MS-OXCMAPIHTTP]).
 * One small table per known controller; any other class gets only the user's annotations.
 * The long read time-out only matters for /mapi, but Ingress annotations are per object, and
 * a long time-out on /autodiscover costs nothing.
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

export function ingressAnnotations(ingress: ExposureInput['ingress']): Record<string, string> {
  const tuning = controllerTuning[ingress.className ?? ''] ?? {};
  // The user's own annotations win: they know their controller better than our table.
  return { ...tuning, ...ingress.annotations };
}

export function desiredIngress(input: ExposureInput): V1Ingress {
  const { owner, name, hosts, serviceName, tlsSecret, ingress } = input;
  const paths: V1HTTPIngressPath[] = input.paths.map((path) => ({
    path,
    pathType: 'Prefix',
    backend: { service: { name: serviceName, port: { name: SERVICE_PORT_NAME } } },
  }));
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: childMetadata(owner, name, ingressAnnotations(ingress)),
    spec: {
      ...(ingress.className ? { ingressClassName: ingress.className } : {}),
      tls: [{ hosts: [...hosts], secretName: tlsSecret }],
      rules: hosts.map((host) => ({ host, http: { paths } })),
    },
  };
}

export const ingressExposure: ExposureBuilder = {
  kind: 'Ingress',
  // An Ingress needs at least one rule: with every host claimed elsewhere there is nothing to expose.
  build: (input) => (input.hosts.length > 0 ? [desiredIngress(input)] : []),
};
