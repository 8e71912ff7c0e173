// Exposure through Ingress objects, with a tuning table per known controller class.
import type { V1Ingress, V1HTTPIngressPath } from '@kubernetes/client-node';
import { childMetadata } from '../builders/names.ts';
import { SERVICE_PORT_NAME, type ExposureBuilder, type ExposureInput } from './types.ts';

type IngressSpec = NonNullable<ExposureInput['exposure']['ingress']>;

/**
 * MAPI/HTTP must not be buffered: the server streams PENDING lines while a request waits
 * (X-PendingPeriod, 30 s by default) and NotificationWait lasts up to 5 minutes
 * ([MS-OXCMAPIHTTP] 2.2.2.2, 3.1.4.4), so the front needs no response buffering and a read
 * time-out of at least 330 s. Each entry says what its controller needs, with its source.
 * The long read time-out only matters for /mapi, but Ingress annotations are per object, and
 * a long time-out on /ews, /oab and /autodiscover costs nothing.
 */
export interface ControllerTuning {
  /** Who reads these annotations. */
  controller: string;
  annotations: Record<string, string>;
  /** What the operator cannot set on an Ingress and the platform team must keep. */
  platform?: string;
}

// Community ingress-nginx (retired March 2026; still running in many clusters).
// https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/
// (proxy-buffering, proxy-request-buffering, proxy-read-timeout/proxy-send-timeout in seconds,
// proxy-http-version, backend-protocol).
const INGRESS_NGINX: Record<string, string> = {
  'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
  'nginx.ingress.kubernetes.io/proxy-request-buffering': 'off',
  'nginx.ingress.kubernetes.io/proxy-read-timeout': '600',
  'nginx.ingress.kubernetes.io/proxy-send-timeout': '600',
  'nginx.ingress.kubernetes.io/proxy-http-version': '1.1',
  'nginx.ingress.kubernetes.io/backend-protocol': 'HTTP',
};

// F5 NGINX Ingress Controller (nginx/kubernetes-ingress): nginx.org/ annotations.
// https://docs.nginx.com/nginx-ingress-controller/configuration/ingress-resources/advanced-configuration-with-annotations/
// proxy-buffering defaults to True and proxy-read-timeout/proxy-send-timeout to 60s.
const F5_NGINX: Record<string, string> = {
  'nginx.org/proxy-buffering': 'False',
  'nginx.org/proxy-read-timeout': '600s',
  'nginx.org/proxy-send-timeout': '600s',
};

// HAProxy Ingress (haproxy-ingress.github.io, jcmoraisjr): backend-scoped timeout-server
// (default 50s) is the longest wait for the server's next data.
// https://haproxy-ingress.github.io/docs/configuration/keys/#timeout
// HAProxy streams responses and buffers a request body only with option http-buffer-request
// (off by default), so there is nothing to turn off.
const HAPROXY_INGRESS: Record<string, string> = {
  'haproxy-ingress.github.io/timeout-server': '600s',
};

// HAProxy Kubernetes Ingress Controller (HAProxy Technologies) also answers to class haproxy:
// https://www.haproxy.com/documentation/kubernetes-ingress/community/configuration-reference/ingress/#timeout-server
const HAPROXY_TECH: Record<string, string> = {
  'haproxy.org/timeout-server': '600s',
};

// Contour (Envoy): the route timeout defaults to 15 s; response-timeout sets it per Ingress.
// https://projectcontour.io/docs/main/config/annotations/ (projectcontour.io/response-timeout)
// Envoy streams responses; its stream idle time-out (5 min by default) is reset by each PENDING line.
const CONTOUR: Record<string, string> = {
  'projectcontour.io/response-timeout': '600s',
};

/**
 * Known IngressClass names. Class `nginx` is the default name of both the community
 * ingress-nginx and F5's NGINX Ingress Controller; each ignores the other's prefix, so it gets
 * both sets. Class `haproxy` likewise serves both HAProxy controllers.
 */
export const controllerTuning: Record<string, ControllerTuning> = {
  nginx: { controller: 'ingress-nginx or F5 NGINX Ingress Controller', annotations: { ...INGRESS_NGINX, ...F5_NGINX } },
  'nginx-plus': { controller: 'F5 NGINX Plus Ingress Controller', annotations: F5_NGINX },
  haproxy: { controller: 'HAProxy Ingress or the HAProxy Kubernetes Ingress Controller', annotations: { ...HAPROXY_INGRESS, ...HAPROXY_TECH } },
  contour: { controller: 'Contour', annotations: CONTOUR },
  traefik: {
    controller: 'Traefik',
    // Traefik streams responses (no buffering unless a buffering middleware is added) and has
    // no per-Ingress time-outs: they live on the entry point (static configuration).
    // https://doc.traefik.io/traefik/routing/entrypoints/#respondingtimeouts: readTimeout
    // (60 s since v2.11.2) bounds reading the request, writeTimeout (0, none) the response,
    // and the servers transport's responseHeaderTimeout defaults to 0 (none):
    // https://doc.traefik.io/traefik/routing/services/#serverstransport
    annotations: {},
    platform: 'keep the websecure entry point transport.respondingTimeouts.writeTimeout at 0s or at least 330s, and add no buffering middleware to these routers',
  },
};

/** What to set on a class the table does not know (the status warning names it). */
export const UNTUNED_ADVICE =
  "disable response and request buffering and set a read (upstream response) time-out of at least 330s for /mapi with your controller's annotations in spec.exposure.ingress.annotations";

export function ingressAnnotations(ingress: IngressSpec): Record<string, string> {
  const tuning = controllerTuning[ingress.className ?? '']?.annotations ?? {};
  // The user's own annotations win: they know their controller better than our table.
  return { ...tuning, ...ingress.annotations };
}

/** A warning for the MapiServer's status when the operator cannot tune this class. */
export function ingressTuningWarning(ingress: IngressSpec): string | undefined {
  const className = ingress.className;
  const known = className !== undefined ? controllerTuning[className] : undefined;
  if (known) return known.platform ? `${known.controller}: the operator sets no annotation for it; the platform team must ${known.platform}` : undefined;
  const what = className === undefined ? 'no spec.exposure.ingress.className (the cluster default IngressClass)' : `IngressClass ${className}`;
  return `the operator cannot tune ${what} for MAPI long polls: ${UNTUNED_ADVICE} (known classes: ${Object.keys(controllerTuning).join(', ')})`;
}

export function desiredIngress(input: ExposureInput): V1Ingress {
  const { owner, name, hosts, serviceName, tlsSecret } = input;
  const ingress = input.exposure.ingress ?? { annotations: {} };
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
  kinds: ['Ingress'],
  // An Ingress needs at least one rule: with every host claimed elsewhere there is nothing to expose.
  build: (input) => (input.hosts.length > 0 ? [desiredIngress(input)] : []),
};
