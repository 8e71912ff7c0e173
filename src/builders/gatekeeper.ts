// The gatekeeper sidecar of a MAPI pod (`mapi-operator gatekeeper`, src/gatekeeper/): it runs
// from the operator's own image, listens on the port the Service targets and forwards to the
// MAPI server container on localhost. Pure: the caller (the Deployment builder) adds it to the
// pod and points the Service's targetPort at GATEKEEPER_LISTEN_PORT.
//
// The pod's terminationGracePeriodSeconds is the Deployment builder's to set: the gatekeeper
// drains for --drain-timeout (25 s here) after SIGTERM, so the period must be longer, e.g. 30 s
// (Kubernetes' default) or more. A NotificationWait lasts up to 5 minutes; one still open after
// the drain is cut and Outlook reconnects to another pod, which is what it does after any
// network interruption.
import type { V1Container } from '@kubernetes/client-node';
import { GATEKEEPER_PORTS } from '../api/mapiserver.ts';

export const GATEKEEPER_LISTEN_PORT = GATEKEEPER_PORTS.listen;
export const GATEKEEPER_METRICS_PORT = GATEKEEPER_PORTS.metrics;
export const GATEKEEPER_CONTAINER_NAME = 'gatekeeper';
/**
 * V8's young generation may grow to 3 x 16 MiB and stays that size after a burst; the
 * gatekeeper's objects are small and short-lived, so 1 MiB semi-spaces cost little CPU and keep
 * RSS down (measured by bench/gatekeeper.ts).
 */
export const GATEKEEPER_NODE_OPTIONS = '--max-semi-space-size=1';
/** Time the gatekeeper gives requests in flight after SIGTERM; the grace period must exceed it. */
export const GATEKEEPER_DRAIN_SECONDS = 25;

export interface GatekeeperContainerOptions {
  /** The operator's image (the gatekeeper ships in it). */
  image: string;
  /** The MAPI server container's port on localhost. */
  upstreamPort: number;
  /** Where the access list volume is mounted (the volume itself is the Deployment builder's). */
  accessMountPath: string;
  /** Name of the access list volume (default "mapi-access"). */
  accessVolumeName?: string;
}

export function gatekeeperContainer(opts: GatekeeperContainerOptions): V1Container {
  return {
    name: GATEKEEPER_CONTAINER_NAME,
    image: opts.image,
    args: [
      'gatekeeper',
      '--listen-port', String(GATEKEEPER_LISTEN_PORT),
      '--upstream-port', String(opts.upstreamPort),
      '--access-dir', opts.accessMountPath,
      '--metrics-port', String(GATEKEEPER_METRICS_PORT),
      '--drain-timeout', `${GATEKEEPER_DRAIN_SECONDS}s`,
    ],
    env: [{ name: 'NODE_OPTIONS', value: GATEKEEPER_NODE_OPTIONS }],
    ports: [
      { name: 'http', containerPort: GATEKEEPER_LISTEN_PORT, protocol: 'TCP' },
      { name: 'gk-metrics', containerPort: GATEKEEPER_METRICS_PORT, protocol: 'TCP' },
    ],
    readinessProbe: { httpGet: { path: '/readyz', port: 'gk-metrics' }, periodSeconds: 5, failureThreshold: 2 },
    livenessProbe: { httpGet: { path: '/healthz', port: 'gk-metrics' }, periodSeconds: 10, failureThreshold: 3 },
    // A proxy with a small working set: about 60 MiB idle, 150 MiB with 10,000 long polls.
    resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [{ name: opts.accessVolumeName ?? 'mapi-access', mountPath: opts.accessMountPath, readOnly: true }],
  };
}
