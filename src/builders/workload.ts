// The MAPI server's Service and Deployment. The pod template is built on its own, so the
// rollout gate can choose between the desired template and the last one it let through.
import { createHash } from 'node:crypto';
import type { V1Deployment, V1PodTemplateSpec, V1Service, V1EnvVar, V1ResourceRequirements } from '@kubernetes/client-node';
import type { MailDomain } from '../api/maildomain.ts';
import { ACCESS_MOUNT_PATH, TEMPLATE_HASH_ANNOTATION, childMetadata, childNames, commonLabels, selectorLabels } from './names.ts';
import { SERVICE_PORT_NAME } from './exposure.ts';
import { accessShardNames } from './access.ts';
import { stableJson } from '../api/stable-json.ts';

const SERVICE_PORT = 80;
const ACCESS_VOLUME = 'mapi-access';

export function templateHash(template: V1PodTemplateSpec): string {
  const { metadata, ...rest } = template;
  const { [TEMPLATE_HASH_ANNOTATION]: _ignored, ...annotations } = metadata?.annotations ?? {};
  return createHash('sha256').update(stableJson({ ...rest, metadata: { ...metadata, annotations } })).digest('hex').slice(0, 16);
}

export function desiredPodTemplate(md: MailDomain): V1PodTemplateSpec {
  const names = childNames(md);
  const { mapi } = md.spec;
  const template: V1PodTemplateSpec = {
    metadata: { labels: commonLabels(md), annotations: {} },
    spec: {
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'mapi',
          image: mapi.image,
          ports: [{ name: SERVICE_PORT_NAME, containerPort: mapi.port, protocol: 'TCP' }],
          env: mapi.env as unknown as V1EnvVar[],
          resources: mapi.resources as V1ResourceRequirements,
          readinessProbe: { tcpSocket: { port: SERVICE_PORT_NAME }, periodSeconds: 10, failureThreshold: 3 },
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          volumeMounts: [{ name: ACCESS_VOLUME, mountPath: ACCESS_MOUNT_PATH, readOnly: true }],
        },
      ],
      // Mounted as a directory (no subPath): the kubelet swaps the files in place, so a
      // mailbox change reaches the server without restarting the pod.
      volumes: [
        {
          name: ACCESS_VOLUME,
          projected: {
            sources: [names.accessConfigMap, ...accessShardNames(md)].map((name) => ({ configMap: { name } })),
          },
        },
      ],
    },
  };
  template.metadata!.annotations![TEMPLATE_HASH_ANNOTATION] = templateHash(template);
  return template;
}

export function desiredService(md: MailDomain): V1Service {
  const names = childNames(md);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMetadata(md, names.service),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(md),
      ports: [{ name: SERVICE_PORT_NAME, port: SERVICE_PORT, targetPort: SERVICE_PORT_NAME, protocol: 'TCP' }],
    },
  };
}

export interface DeploymentDecision {
  replicas: number;
  template: V1PodTemplateSpec;
  progressDeadlineSeconds?: number;
}

export function desiredDeployment(md: MailDomain, decision: DeploymentDecision): V1Deployment {
  const names = childNames(md);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMetadata(md, names.deployment),
    spec: {
      replicas: decision.replicas,
      selector: { matchLabels: selectorLabels(md) },
      // Never drop below the running count while replacing pods: MAPI sessions are long.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      revisionHistoryLimit: 5,
      progressDeadlineSeconds: decision.progressDeadlineSeconds ?? 600,
      template: decision.template,
    },
  };
}
