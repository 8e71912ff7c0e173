// zod schema → Kubernetes structural OpenAPI v3 schema → CustomResourceDefinition.
import { z } from 'zod';
import { GROUP, VERSION } from './common.ts';
import { MapiServerSpecSchema, MapiServerStatusSchema } from './mapiserver.ts';
import { MailDomainSpecSchema, MailDomainStatusSchema } from './maildomain.ts';
import { MailboxSpecSchema, MailboxStatusSchema } from './mailbox.ts';
import { MailDomainGrantSpecSchema, MailDomainGrantStatusSchema } from './grant.ts';

type JsonSchema = Record<string, unknown>;

// Keywords a structural schema may carry; anything else zod emits ($schema, ids, the
// JavaScript safe-integer bounds) is dropped rather than rejected by the apiserver.
const KEEP = new Set([
  'type', 'description', 'default', 'enum', 'format', 'pattern', 'minLength', 'maxLength',
  'minimum', 'maximum', 'minItems', 'maxItems', 'items', 'properties', 'required',
  'additionalProperties', 'nullable', 'x-kubernetes-validations', 'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys', 'x-kubernetes-map-type', 'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
]);

export function toStructural(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(node)) {
    if (!KEEP.has(k)) continue;
    if (k === 'maximum' && v === Number.MAX_SAFE_INTEGER) continue;
    if (k === 'minimum' && v === Number.MIN_SAFE_INTEGER) continue;
    if (k === 'properties') {
      out[k] = Object.fromEntries(Object.entries(v as Record<string, JsonSchema>).map(([p, s]) => [p, toStructural(s)]));
    } else if (k === 'items' || (k === 'additionalProperties' && typeof v === 'object')) {
      out[k] = toStructural(v as JsonSchema);
    } else {
      out[k] = v;
    }
  }
  // A loose object (`z.looseObject({})`): pass-through content such as resources or env.
  const props = out.properties as Record<string, unknown> | undefined;
  const ap = out.additionalProperties;
  if (typeof ap === 'object' && ap !== null && Object.keys(ap).length === 0) {
    delete out.additionalProperties;
    out['x-kubernetes-preserve-unknown-fields'] = true;
  }
  if (ap === false) delete out.additionalProperties; // structural schemas prune unknown fields anyway
  if (props && Object.keys(props).length === 0 && out['x-kubernetes-preserve-unknown-fields']) delete out.properties;
  if (Array.isArray(out.required) && out.required.length === 0) delete out.required;
  return out;
}

function schemaOf(s: z.ZodType): JsonSchema {
  return toStructural(z.toJSONSchema(s, { target: 'openapi-3.0', io: 'input', unrepresentable: 'throw' }) as JsonSchema);
}

export interface KindInfo {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  columns: { name: string; type: string; jsonPath: string; description?: string; priority?: number }[];
  /** Default Namespaced; the platform team's policy kinds are cluster-scoped. */
  scope?: 'Namespaced' | 'Cluster';
}

const readyColumn = { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' };
const ageColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

const reasonColumn = (path: string) => ({ name: 'Reason', type: 'string', jsonPath: path });

export const kinds: KindInfo[] = [
  {
    kind: 'MapiServer',
    plural: 'mapiservers',
    singular: 'mapiserver',
    shortNames: ['mapisrv'],
    description:
      'One MAPI-over-HTTP server for Outlook behind one external host, serving every MailDomain that names it: its Deployment, Service, certificate, exposure, access list and the rollout gate over its domains.',
    spec: MapiServerSpecSchema,
    status: MapiServerStatusSchema,
    columns: [
      { name: 'External', type: 'string', jsonPath: '.spec.externalHost' },
      { name: 'Domains', type: 'string', jsonPath: '.status.domains.summary', description: 'MailDomains passing / accepted' },
      readyColumn,
      { name: 'Rollout', type: 'string', jsonPath: '.status.rollout.state' },
      reasonColumn('.status.rollout.reason'),
      ageColumn,
    ],
  },
  {
    kind: 'MailDomain',
    plural: 'maildomains',
    singular: 'maildomain',
    shortNames: ['md'],
    description:
      'A mail domain (and its aliases) hosted by a MapiServer: its autodiscover hosts, their certificate and exposure, the autodiscover checks and the domain-wide MAPI switch.',
    spec: MailDomainSpecSchema,
    status: MailDomainStatusSchema,
    columns: [
      { name: 'Domain', type: 'string', jsonPath: '.spec.domain' },
      { name: 'Server', type: 'string', jsonPath: '.spec.serverRef' },
      readyColumn,
      reasonColumn('.status.conditions[?(@.type=="Ready")].reason'),
      ageColumn,
    ],
  },
  {
    kind: 'Mailbox',
    plural: 'mailboxes',
    singular: 'mailbox',
    shortNames: ['mbx'],
    description: "A mailbox's MAPI access (Exchange: Set-CASMailbox -MAPIEnabled); the effective value is in status.",
    spec: MailboxSpecSchema,
    status: MailboxStatusSchema,
    columns: [
      { name: 'Address', type: 'string', jsonPath: '.spec.address' },
      { name: 'Domain', type: 'string', jsonPath: '.spec.domainRef' },
      { name: 'MAPI', type: 'boolean', jsonPath: '.status.mapiEnabled' },
      readyColumn,
      ageColumn,
    ],
  },
  {
    kind: 'MailDomainGrant',
    plural: 'maildomaingrants',
    singular: 'maildomaingrant',
    shortNames: ['mdgrant'],
    scope: 'Cluster',
    description:
      'Which namespaces may serve which mail domains and host names (platform team, cluster-scoped). Read when the operator runs with --tenancy Granted: a MapiServer or MailDomain whose hosts are not granted to its namespace is Stalled/NotGranted.',
    spec: MailDomainGrantSpecSchema,
    status: MailDomainGrantStatusSchema,
    columns: [
      { name: 'Namespaces', type: 'string', jsonPath: '.spec.namespaces' },
      { name: 'Domains', type: 'string', jsonPath: '.spec.domains' },
      { name: 'Suffixes', type: 'string', jsonPath: '.spec.hostSuffixes' },
      ageColumn,
    ],
  },
];

export function customResourceDefinition(info: KindInfo): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${info.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'mapi-operator', 'app.kubernetes.io/part-of': 'mapi-operator' },
    },
    spec: {
      group: GROUP,
      scope: info.scope ?? 'Namespaced',
      names: {
        kind: info.kind,
        listKind: `${info.kind}List`,
        plural: info.plural,
        singular: info.singular,
        shortNames: info.shortNames,
        categories: ['mapi'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: info.columns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: info.description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: 'mapi-operator.io/v1alpha2' },
                kind: { type: 'string', description: `${info.kind}` },
                metadata: { type: 'object' },
                spec: { description: `What you declare for this ${info.kind}; the apiserver and the operator check it with the same rules.`, ...schemaOf(info.spec) },
                status: { description: `What the operator observed for this ${info.kind}; written by the operator only.`, ...schemaOf(info.status) },
              },
            },
          },
        },
      ],
    },
  };
}

export const crdFileName = (info: KindInfo): string => `${GROUP}_${info.plural}.yaml`;
