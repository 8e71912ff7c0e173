// A MapiServer → the objects the operator applies for it: the external host's Certificate and
// exposure, the Service, the MAPI Deployment, its PodDisruptionBudget and the access list.
// The pod template is built on its own, so the rollout gate can choose between the desired
// template and the last one it let through, and hand the choice back in `deployment`.
import type {
  V1Container, V1Deployment, V1EnvVar, V1PodDisruptionBudget, V1PodTemplateSpec, V1ResourceRequirements, V1Service,
  V1Affinity, V1Toleration, V1TopologySpreadConstraint,
} from '@kubernetes/client-node';
import type { MapiServer } from '../api/mapiserver.ts';
import { ACCESS_MOUNT_PATH, TEMPLATE_HASH_ANNOTATION, childMetadata, commonLabels, selectorLabels, serverChildNames } from './names.ts';
import { SERVER_PATHS, SERVICE_PORT_NAME, SERVICE_PORT_NUMBER, exposureFor, type ExposureBuilder, type GatewayAttachment } from './exposure.ts';
import { desiredCertificate } from './certificate.ts';
import { accessShardNames, desiredAccessConfigMaps, type AccessListInput } from './access.ts';
import { templateHash } from './workload.ts';
import { GATEKEEPER_LISTEN_PORT, GATEKEEPER_METRICS_PORT, gatekeeperContainer } from './gatekeeper.ts';

export const SERVICE_PORT = SERVICE_PORT_NUMBER;
/** The MAPI container's port name when the gatekeeper sits in front of it. */
export const MAPI_PORT_NAME = 'mapi';
export const ACCESS_VOLUME = 'mapi-access';
/**
 * A NotificationWait lasts up to 5 minutes ([MS-OXCMAPIHTTP]); a pod that is replaced or
 * evicted lets the ones in flight finish instead of cutting Outlook off mid-request.
 */
export const TERMINATION_GRACE_SECONDS = 330;
export const PROGRESS_DEADLINE_SECONDS = 600;

export interface ServerObjectsInput {
  server: MapiServer;
  /** False while another MapiServer owns spec.externalHost: no Certificate and no route for it. */
  exposeExternalHost: boolean;
  /** What the rollout gate decided: replicas and the template to run (desired or last released). */
  deployment: { replicas: number; template: V1PodTemplateSpec; annotations?: Record<string, string> };
  access: AccessListInput;
  exposure?: ExposureBuilder;
  /** Gateway API: where the routes attach, decided from the live Gateway. */
  gatewayAttachment?: GatewayAttachment;
}

export function desiredServerObjects(input: ServerObjectsInput): object[] {
  const { server, exposeExternalHost } = input;
  const names = serverChildNames(server);
  const exposure = input.exposure ?? exposureFor(server.spec.exposure);
  return [
    // The list first: a new pod finds it in place (its sources are optional, so it starts either way).
    ...desiredAccessConfigMaps(server, input.access),
    desiredService(server),
    desiredDeployment(server, input.deployment),
    desiredPodDisruptionBudget(server),
    ...(exposeExternalHost
      ? [
          desiredCertificate({ owner: server, name: names.certificate, secretName: names.tlsSecret, hosts: [server.spec.externalHost], issuerRef: server.spec.tls.issuerRef }),
          ...exposure.build({
            owner: server,
            name: names.ingress,
            hosts: [server.spec.externalHost],
            paths: SERVER_PATHS,
            serviceName: names.service,
            tlsSecret: names.tlsSecret,
            exposure: server.spec.exposure,
            ...(input.gatewayAttachment ? { attachment: input.gatewayAttachment } : {}),
          }),
        ]
      : []),
  ];
}

export function desiredService(server: MapiServer): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(server, serverChildNames(server).service),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(server),
      ports: [{ name: SERVICE_PORT_NAME, port: SERVICE_PORT, targetPort: SERVICE_PORT_NAME, protocol: 'TCP' }],
    },
  };
}

export function desiredDeployment(server: MapiServer, decision: ServerObjectsInput['deployment']): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMetadata(server, serverChildNames(server).deployment, decision.annotations),
    spec: {
      replicas: decision.replicas,
      selector: { matchLabels: selectorLabels(server) },
      // Never drop below the running count while replacing pods: MAPI sessions are long.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      revisionHistoryLimit: 5,
      progressDeadlineSeconds: PROGRESS_DEADLINE_SECONDS,
      template: decision.template,
    },
  };
}

/**
 * At most one pod away at a time, at any replica count: with one replica that still lets a
 * node drain (a minAvailable: 1 would block it forever), with none it selects nothing. Pods
 * that are not ready (a release that never came up) may always be evicted, so a stuck
 * rollout cannot hold a drain either.
 */
export function desiredPodDisruptionBudget(server: MapiServer): V1PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMetadata(server, serverChildNames(server).pdb),
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: selectorLabels(server) },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  };
}

export interface PodTemplateOptions {
  /** The gatekeeper image (the operator's own); without it the pods run without the gatekeeper. */
  gatekeeperImage?: string;
}

/** Whether the pods run the gatekeeper sidecar: asked for in the spec and an image to run. */
export function runsGatekeeper(server: MapiServer, options: PodTemplateOptions): boolean {
  return server.spec.gatekeeper.enabled && Boolean(options.gatekeeperImage);
}

export function desiredServerPodTemplate(server: MapiServer, options: PodTemplateOptions = {}): V1PodTemplateSpec {
  const { spec } = server;
  const gatekeeper = runsGatekeeper(server, options);
  if (gatekeeper && (spec.port === GATEKEEPER_LISTEN_PORT || spec.port === GATEKEEPER_METRICS_PORT)) {
    throw new Error(
      `MapiServer ${server.metadata.namespace}/${server.metadata.name}: spec.port ${spec.port} is taken by the gatekeeper sidecar (ports ${GATEKEEPER_LISTEN_PORT} and ${GATEKEEPER_METRICS_PORT}): ` +
        'set spec.port to another port, such as 8080',
    );
  }
  const accessMount = { name: ACCESS_VOLUME, mountPath: ACCESS_MOUNT_PATH, readOnly: true };
  // With the gatekeeper, the port the Service targets (`http`) is the gatekeeper's and the
  // server's own port is only reachable through it; without, the server owns `http`.
  const mapiPortName = gatekeeper ? MAPI_PORT_NAME : SERVICE_PORT_NAME;
  const mapi: V1Container = {
    name: 'mapi',
    image: spec.image,
    ports: [{ name: mapiPortName, containerPort: spec.port, protocol: 'TCP' }],
    env: spec.env as unknown as V1EnvVar[],
    resources: spec.resources as V1ResourceRequirements,
    readinessProbe: { tcpSocket: { port: mapiPortName }, periodSeconds: 10, failureThreshold: 3 },
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    // Read-only for the server too: harmless, and a server that knows the format can use it.
    volumeMounts: [accessMount],
  };
  const containers = [mapi];
  if (gatekeeper) {
    containers.push(gatekeeperContainer({ image: options.gatekeeperImage!, upstreamPort: spec.port, accessMountPath: ACCESS_MOUNT_PATH, accessVolumeName: ACCESS_VOLUME }));
  }
  const pod = spec.pod;
  const template: V1PodTemplateSpec = {
    metadata: {
      // The selector labels last: extra labels can never move a pod out of its Deployment.
      labels: { ...pod.labels, ...commonLabels(server), ...selectorLabels(server) },
      annotations: { ...pod.annotations },
    },
    spec: {
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      ...(pod.serviceAccountName ? { serviceAccountName: pod.serviceAccountName } : {}),
      ...(pod.nodeSelector ? { nodeSelector: pod.nodeSelector } : {}),
      ...(pod.tolerations ? { tolerations: pod.tolerations as V1Toleration[] } : {}),
      ...(pod.affinity ? { affinity: pod.affinity as V1Affinity } : {}),
      ...(pod.topologySpreadConstraints ? { topologySpreadConstraints: pod.topologySpreadConstraints as unknown as V1TopologySpreadConstraint[] } : {}),
      ...(pod.imagePullSecrets ? { imagePullSecrets: pod.imagePullSecrets } : {}),
      containers,
      volumes: [
        {
          name: ACCESS_VOLUME,
          // A directory (no subPath), so the kubelet swaps the files in place and a switch
          // never restarts a pod. Every source is optional and all 64 possible shards are
          // listed, so the template stays the same however large the list grows. The index
          // comes last: where two sources hold the same file, the kubelet keeps the later
          // one, so while the list changes between one shard and several, the index
          // ConfigMap's own mailboxes-0.json (which matches its count) wins.
          projected: {
            sources: [...accessShardNames(server), serverChildNames(server).accessConfigMap].map((name) => ({ configMap: { name, optional: true } })),
          },
        },
      ],
    },
  };
  template.metadata!.annotations![TEMPLATE_HASH_ANNOTATION] = templateHash(template);
  return template;
}
