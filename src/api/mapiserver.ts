// MapiServer: one MAPI server (bm-mapi, gromox, an Exchange-style server) behind one external
// host, serving every MailDomain that names it. The one source of truth for its TypeScript
// type, the operator's own validation and the CRD (see generate-crds.ts).
import { z } from 'zod';
import { dnsName } from './dns-name.ts';
import { conditionsField } from './conditions.ts';
import { API_VERSION, CheckRowSchema, IssuerRefSchema, duration, k8sName, keyRef, nameserver, type ObjectMeta } from './common.ts';

/** Ports of the gatekeeper sidecar in every MAPI pod: the MAPI server cannot listen on them. */
export const GATEKEEPER_PORTS = { listen: 18080, metrics: 19090 } as const;
const gatekeeperPortMessage = `spec.port ${GATEKEEPER_PORTS.listen} and ${GATEKEEPER_PORTS.metrics} are the gatekeeper sidecar's ports (spec.gatekeeper.enabled): set spec.port to another port, such as 8080`;

const passThrough = (what: string) => z.looseObject({}).describe(`${what}; passed through to the pod unchanged.`);

export const MapiServerSpecSchema = z
  .object({
    externalHost: dnsName('mail.example.com').describe("The server's external host (its external-url): Outlook's MAPI and EWS URLs point here."),
    image: z.string().min(1).max(1024).describe('The MAPI server image, such as registry.example/bm-mapi:5.3.0.'),
    replicas: z.number().int().min(0).max(1000).default(2).describe('MAPI server pods once the gate has opened; the gate never scales a running server down.'),
    port: z.number().int().min(1).max(65535).default(8080).describe('Container port the MAPI server listens on (plain HTTP; TLS ends at the front).'),
    // Unique by name, as Kubernetes merges env by name: a duplicate would make the apiserver
    // refuse the whole Deployment (found by the fuzz test), so it is refused here, on the spec.
    env: z.array(z.looseObject({ name: z.string().min(1).describe('Variable name.') }))
      .superRefine((env, ctx) => {
        const seen = new Set<string>();
        env.forEach((e, i) => {
          if (seen.has(e.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate environment variable ${e.name}: list each variable once` });
          seen.add(e.name);
        });
      })
      .default([])
      .describe('Environment of the MAPI container (unique names); passed through.')
      .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] }),
    resources: passThrough('Resource requests and limits of the MAPI container').default({}),
    pod: z
      .object({
        nodeSelector: z.record(z.string(), z.string()).optional().describe('Node labels the MAPI pods must run on.'),
        tolerations: z.array(z.looseObject({})).optional().describe('Tolerations of the MAPI pods; passed through.'),
        affinity: passThrough('Affinity of the MAPI pods').optional(),
        topologySpreadConstraints: z.array(z.looseObject({})).optional().describe('Topology spread of the MAPI pods; passed through.'),
        imagePullSecrets: z
          .array(z.object({ name: k8sName('the name of a Secret').describe('Secret with registry credentials.') }).strict())
          .optional()
          .describe('Secrets to pull the MAPI image with.'),
        serviceAccountName: k8sName('the name of a ServiceAccount').optional().describe('ServiceAccount of the MAPI pods (no token is mounted).'),
        labels: z.record(z.string(), z.string()).optional().describe('Extra labels on the MAPI pods.'),
        annotations: z.record(z.string(), z.string()).optional().describe('Extra annotations on the MAPI pods.'),
      })
      .strict()
      .default({})
      .describe('Scheduling and identity of the MAPI pods.'),
    tls: z
      .object({
        issuerRef: IssuerRefSchema.describe('cert-manager issuer that signs the certificates of the server and, unless they name their own, of its MailDomains.'),
        secretName: k8sName('the name of a Secret').optional().describe("Secret for the external host's certificate; default <name>-mapi-tls."),
      })
      .strict()
      .describe('Certificates, issued by cert-manager.'),
    exposure: z
      .object({
        ingress: z
          .object({
            className: z.string().max(253).optional().describe('IngressClass name; known classes get tuning for long, unbuffered /mapi requests.'),
            annotations: z.record(z.string(), z.string()).default({}).describe('Copied onto every Ingress; they win over the tuning table.'),
          })
          .strict()
          .optional()
          .describe('Expose the hosts through Ingress objects.'),
        gateway: z
          .object({
            parentRef: z
              .object({
                name: k8sName('the name of a Gateway').describe('The shared Gateway the routes attach to.'),
                namespace: z.string().min(1).max(63).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name (lower-case letters, digits and -)').optional()
                  .describe("The Gateway's namespace; default the MapiServer's."),
                sectionName: z.string().min(1).max(253).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a listener name of the Gateway').optional()
                  .describe('A listener of the Gateway the platform team provides for these hosts (with its certificate); without it the operator adds its own HTTPS listeners through a ListenerSet where the Gateway allows it.'),
              })
              .strict()
              .describe('The Gateway (Gateway API) the HTTPRoutes attach to.'),
          })
          .strict()
          .optional()
          .describe('Expose the hosts through Gateway API HTTPRoutes on a shared Gateway.'),
      })
      .strict()
      .refine((e) => (e.ingress === undefined) !== (e.gateway === undefined), { message: 'set exactly one of spec.exposure.ingress or spec.exposure.gateway' })
      .meta({ 'x-kubernetes-validations': [{ rule: 'has(self.ingress) != has(self.gateway)', message: 'set exactly one of spec.exposure.ingress or spec.exposure.gateway' }] })
      .default({ ingress: { annotations: {} } })
      .describe('How the external host and the autodiscover hosts are exposed: exactly one of ingress or gateway.'),
    gate: z
      .object({
        mode: z.enum(['Enforce', 'Warn']).default('Enforce').describe("Enforce holds the rollout while the gate is closed; Warn rolls out and reports (bm-mapi's non.blocking.checks)."),
        domains: z.enum(['All', 'Any']).default('All').describe('All: every accepted MailDomain must pass (what bm-mapi checks at start-up); Any: at least one.'),
      })
      .strict()
      .default({ mode: 'Enforce', domains: 'All' })
      .describe('When the server may roll out.'),
    checks: z
      .object({
        interval: duration(30, 'checks.interval').default('5m').describe('Re-check period, at least 30s; failures retry sooner with backoff.'),
        nameservers: z.array(nameserver).max(8).default([]).describe("Resolvers the DNS checks ask; default the operator pod's resolver."),
        caBundle: z
          .object({
            configMapKeyRef: keyRef.optional().describe('A ConfigMap key holding PEM certificates.'),
            secretKeyRef: keyRef.optional().describe('A Secret key holding PEM certificates.'),
          })
          .strict()
          .refine((b) => !(b.configMapKeyRef && b.secretKeyRef), { message: 'set either configMapKeyRef or secretKeyRef, not both' })
          .optional()
          .describe('Extra trust anchors (PEM) for the TLS checks, for a private CA.')
          .meta({
            'x-kubernetes-validations': [
              { rule: '!(has(self.configMapKeyRef) && has(self.secretKeyRef))', message: 'set either configMapKeyRef or secretKeyRef, not both' },
            ],
          }),
        probeCredentials: z
          .object({ secretName: k8sName('the name of a Secret').describe('Secret with keys username, password and address.') })
          .strict()
          .optional()
          .describe('A test mailbox for authenticated autodiscover and MAPI PING probes.'),
      })
      .strict()
      .default({ interval: '5m', nameservers: [] })
      .describe('How the DNS, TLS and HTTP checks run.'),
    gatekeeper: z
      .object({
        enabled: z.boolean().default(true).describe('Run the gatekeeper sidecar that enforces the per-domain and per-mailbox MAPI switches; false makes them advisory.'),
      })
      .strict()
      .default({ enabled: true })
      .describe('The access gate in every MAPI pod.'),
  })
  .strict()
  // The pod would fail to start (two containers on one port); found by the fuzz test.
  .superRefine((spec, ctx) => {
    if (spec.gatekeeper.enabled && (spec.port === GATEKEEPER_PORTS.listen || spec.port === GATEKEEPER_PORTS.metrics)) {
      ctx.addIssue({ code: 'custom', path: ['port'], message: gatekeeperPortMessage });
    }
  })
  .meta({
    'x-kubernetes-validations': [
      {
        rule: `!has(self.port) || (self.port != ${GATEKEEPER_PORTS.listen} && self.port != ${GATEKEEPER_PORTS.metrics}) || (has(self.gatekeeper) && has(self.gatekeeper.enabled) && !self.gatekeeper.enabled)`,
        message: gatekeeperPortMessage,
        fieldPath: '.port',
        reason: 'FieldValueInvalid',
      },
    ],
  });

export const RolloutStatusSchema = z.object({
  state: z.enum(['Held', 'Progressing', 'Available', 'RolledBack']).describe('Held, Progressing, Available or RolledBack.'),
  reason: z.string().describe('CamelCase reason.'),
  message: z.string().optional().describe('What holds or moves the rollout.'),
  currentImage: z.string().optional().describe('Image of the running pods.'),
  desiredImage: z.string().optional().describe('Image in spec.image.'),
});

export const DomainsStatusSchema = z.object({
  accepted: z.number().int().describe('MailDomains this server serves.'),
  passing: z.number().int().describe('Accepted MailDomains whose checks pass.'),
  summary: z.string().describe('passing/accepted, for kubectl get.'),
  blocking: z.array(z.string()).max(20).optional().describe('Domains that keep the gate closed (first 20).'),
});

export const ExposureStatusSchema = z.object({
  kind: z.enum(['Ingress', 'Gateway']).describe('Ingress or Gateway (API).'),
  parent: z.string().optional().describe('Gateway: namespace/name[/listener] the routes attach to.'),
  attachment: z.enum(['ListenerSet', 'Gateway']).optional().describe("Gateway: the HTTPS listeners are the operator's ListenerSet or the Gateway's own."),
  warnings: z.array(z.string()).max(10).optional().describe('What the operator cannot set for MAPI long polls and someone must (an Ingress class it cannot tune).'),
});

export const MapiServerStatusSchema = z.object({
  observedGeneration: z.number().int().optional().describe('The generation this status describes.'),
  conditions: conditionsField(),
  externalURL: z.string().optional().describe('https://<externalHost>.'),
  exposure: ExposureStatusSchema.optional().describe('How the hosts are exposed; the Exposed condition says whether the front took them.'),
  domains: DomainsStatusSchema.optional().describe('The hosted MailDomains.'),
  checks: z.array(CheckRowSchema).optional().describe('Server-level checks: certificate, tls/<externalHost>, http/<externalHost>.'),
  rollout: RolloutStatusSchema.optional().describe('The MAPI Deployment and the gate.'),
});

export type MapiServerSpecInput = z.input<typeof MapiServerSpecSchema>;
export type MapiServerSpec = z.output<typeof MapiServerSpecSchema>;
export type MapiServerStatus = z.infer<typeof MapiServerStatusSchema>;
export type RolloutStatus = z.infer<typeof RolloutStatusSchema>;

export interface MapiServer {
  apiVersion: typeof API_VERSION;
  kind: 'MapiServer';
  metadata: ObjectMeta;
  spec: MapiServerSpec;
  status?: MapiServerStatus;
}
