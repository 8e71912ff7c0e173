// MailDomain: the one source of truth for its TypeScript type, the operator's own validation
// and the CRD (crds/ is generated from this file; see generate-crds.ts).
import { z } from 'zod';
import { dnsName, DNS_NAME_MAX_LENGTH } from './dns-name.ts';
import { conditionsField } from './conditions.ts';

export const GROUP = 'mapi-operator.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

const MAX_ALIASES = 100;
const k8sName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a Kubernetes object name (lower-case letters, digits, - and .)');

const keyRef = z
  .object({
    name: k8sName.describe('Name of the object in the MailDomain namespace.'),
    key: z.string().min(1).max(253).describe('Key holding the PEM bundle.'),
  })
  .strict();

const nameserver = z
  .string()
  .max(64)
  .regex(
    /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|[0-9a-fA-F:]+)(:\d{1,5})?$/,
    'must be an IP address with an optional port, such as 10.0.0.53 or 10.0.0.53:5353 or [2001:db8::53]:53',
  );

const duration = z
  .string()
  .max(32)
  .regex(/^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/, 'must be a duration such as 30s, 5m or 1h');

export const IssuerRefSchema = z
  .object({
    name: k8sName.describe('Name of the cert-manager Issuer or ClusterIssuer.'),
    kind: z.enum(['Issuer', 'ClusterIssuer']).default('ClusterIssuer'),
    group: z.literal('cert-manager.io').default('cert-manager.io'),
  })
  .strict();

export const MailDomainSpecSchema = z
  .object({
    domain: dnsName('example.com').describe('The mail domain, lower-case, without a trailing dot.'),
    aliases: z
      .array(dnsName('example.org'))
      .max(MAX_ALIASES)
      .default([])
      .describe(`Alias domains served by the same server; unique, not the domain itself, at most ${MAX_ALIASES}.`)
      .meta({ 'x-kubernetes-list-type': 'set' }),
    externalHost: dnsName('mail.example.com').describe("The server's external host (its external-url)."),
    autodiscover: z
      .object({
        hosts: z
          .array(dnsName('autodiscover.example.com'))
          .max(MAX_ALIASES + 1)
          .default([])
          .describe('Autodiscover hosts; empty means autodiscover.<domain> and autodiscover.<alias> for every alias.')
          .meta({ 'x-kubernetes-list-type': 'set' }),
      })
      .strict()
      .default({ hosts: [] }),
    tls: z
      .object({
        issuerRef: IssuerRefSchema.describe('cert-manager issuer that signs the certificate.'),
        secretName: k8sName.optional().describe('Secret for the certificate; default <name>-tls.'),
      })
      .strict(),
    ingress: z
      .object({
        className: z.string().max(253).optional().describe('IngressClass name.'),
        annotations: z.record(z.string(), z.string()).default({}).describe('Copied onto the Ingress.'),
      })
      .strict()
      .default({ annotations: {} }),
    mapi: z
      .object({
        enabled: z.boolean().default(true).describe('Domain-wide MAPI switch; false scales MAPI to 0 and removes /mapi from the Ingress.'),
        image: z.string().min(1).max(1024).describe('MAPI server image.'),
        replicas: z.number().int().min(0).max(1000).default(2),
        port: z.number().int().min(1).max(65535).default(8080).describe('Container port the Service targets.'),
        env: z.array(z.looseObject({ name: z.string().min(1) })).default([]).describe('Passed through to the container.'),
        resources: z.looseObject({}).default({}).describe('Passed through to the container.'),
      })
      .strict(),
    checks: z
      .object({
        mode: z.enum(['Enforce', 'Warn']).default('Enforce').describe('Enforce holds the rollout while checks fail; Warn rolls out and reports.'),
        require: z.enum(['Any', 'All']).default('Any').describe('Any: the domain or at least one alias publishes autodiscover; All: every one.'),
        interval: duration.default('5m').describe('Re-check period; failures retry sooner with backoff.'),
        nameservers: z.array(nameserver).max(8).default([]).describe('Resolvers as ip[:port]; default the pod resolver.'),
        caBundle: z
          .object({ configMapKeyRef: keyRef.optional(), secretKeyRef: keyRef.optional() })
          .strict()
          .optional()
          .describe('Extra trust anchors (PEM) for the TLS checks.')
          .meta({
            'x-kubernetes-validations': [
              {
                rule: '!(has(self.configMapKeyRef) && has(self.secretKeyRef))',
                message: 'set either configMapKeyRef or secretKeyRef, not both',
              },
            ],
          }),
        probeCredentials: z
          .object({ secretName: k8sName.describe('Secret with keys username, password and address.') })
          .strict()
          .optional(),
      })
      .strict()
      .default({ mode: 'Enforce', require: 'Any', interval: '5m', nameservers: [] }),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.aliases.includes(spec.domain)) {
      ctx.addIssue({ code: 'custom', path: ['aliases'], message: aliasEqualsDomainMessage });
    }
    const seen = new Set<string>();
    spec.aliases.forEach((alias, i) => {
      if (seen.has(alias)) ctx.addIssue({ code: 'custom', path: ['aliases', i], message: `duplicate alias ${alias}: list each alias once` });
      seen.add(alias);
    });
  })
  .meta({
    'x-kubernetes-validations': [
      {
        rule: '!has(self.aliases) || !(self.domain in self.aliases)',
        message: 'must not contain spec.domain: the domain is always served; list only the other domains',
        fieldPath: '.aliases',
        reason: 'FieldValueInvalid',
      },
    ],
  });

const aliasEqualsDomainMessage = 'must not contain spec.domain: the domain is always served; list only the other domains';

export const CheckRowSchema = z.object({
  name: z.string(),
  status: z.enum(['Passed', 'Failed', 'Warning', 'Unknown']),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: z.string(),
});

export const RolloutStatusSchema = z.object({
  state: z.enum(['Held', 'Progressing', 'Available', 'RolledBack', 'Disabled']),
  reason: z.string(),
  message: z.string().optional(),
  currentImage: z.string().optional(),
  desiredImage: z.string().optional(),
  lastGoodTemplateHash: z.string().optional(),
});

export const MailDomainStatusSchema = z.object({
  observedGeneration: z.number().int().optional(),
  conditions: conditionsField(),
  externalURL: z.string().optional(),
  autodiscoverURLs: z.array(z.string()).optional(),
  checks: z.array(CheckRowSchema).optional(),
  rollout: RolloutStatusSchema.optional(),
});

export type MailDomainSpecInput = z.input<typeof MailDomainSpecSchema>;
export type MailDomainSpec = z.output<typeof MailDomainSpecSchema>;
export type MailDomainStatus = z.infer<typeof MailDomainStatusSchema>;
export type CheckRow = z.infer<typeof CheckRowSchema>;
export type RolloutStatus = z.infer<typeof RolloutStatusSchema>;

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  deletionTimestamp?: string;
}

export interface MailDomain {
  apiVersion: typeof API_VERSION;
  kind: 'MailDomain';
  metadata: ObjectMeta;
  spec: MailDomainSpec;
  status?: MailDomainStatus;
}

export const MAILDOMAIN_DNS_NAME_MAX = DNS_NAME_MAX_LENGTH;
