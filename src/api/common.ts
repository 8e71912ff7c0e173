// Pieces every kind of the API shares: the group and version, object names, references,
// durations, resolvers, issuer references and the check rows of status.
import { z } from 'zod';

export const GROUP = 'mapi-operator.io';
export const VERSION = 'v1alpha2';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const K8S_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * A string matching `pattern`, checked by zod and by a CEL rule with the same message: an
 * OpenAPI `pattern` would make the apiserver answer with the regular expression, not the fix.
 * Only for fields outside unbounded lists (a CEL rule's cost counts every possible entry).
 */
export function matching(pattern: RegExp, message: string) {
  return z
    .string()
    .refine((v) => pattern.test(v), { message, abort: true })
    .meta({ 'x-kubernetes-validations': [{ rule: `self.matches('${celString(pattern.source)}')`, message }] });
}

/** `text` inside a single-quoted CEL string literal. */
const celString = (text: string): string => text.replaceAll('\\', '\\\\').replaceAll("'", "\\'");

/** A Kubernetes object name (RFC 1123 subdomain). */
export const k8sName = (what: string) =>
  z.string().min(1).max(253).regex(K8S_NAME_PATTERN, `must be ${what}: a Kubernetes object name (lower-case letters, digits, - and .)`);

/** A reference by name whose bad value the apiserver explains in words (see matching()). */
export const k8sNameRef = (what: string) =>
  matching(K8S_NAME_PATTERN, `must be ${what}: a Kubernetes object name (lower-case letters, digits, - and .)`).min(1).max(253);

export const keyRef = z
  .object({
    name: k8sName('the name of an object in the same namespace').describe('Name of the object in the same namespace.'),
    key: z.string().min(1).max(253).describe('Key holding the PEM bundle.'),
  })
  .strict();

export const nameserver = matching(
  /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|[0-9a-fA-F:]+)(:\d{1,5})?$/,
  'must be an IP address with an optional port, such as 10.0.0.53 or 10.0.0.53:5353 or [2001:db8::53]:53',
)
  .max(64)
  .describe('A resolver as ip[:port]; IPv6 in brackets when a port follows.');

export const DURATION_PATTERN = /^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/;

/** A Go duration ("30s", "5m", "1h30m") at least `minSeconds` long, checked by the apiserver too. */
export function duration(minSeconds: number, field: string) {
  const format = 'must be a duration such as 30s, 5m or 1h';
  const message = `must be at least ${minSeconds}s (write ${minSeconds}s, 5m or 1h): a shorter ${field} probes in a tight loop`;
  const matches = `self.matches('${celString(DURATION_PATTERN.source)}')`;
  return z
    .string()
    .max(32)
    .refine((v) => DURATION_PATTERN.test(v), { message: format, abort: true })
    .refine((v) => durationSeconds(v) >= minSeconds, { message })
    // The pattern guard keeps duration() from failing on a value the first rule already rejects.
    .meta({ 'x-kubernetes-validations': [{ rule: matches, message: format }, { rule: `!${matches} || duration(self) >= duration('${minSeconds}s')`, message }] });
}

function durationSeconds(text: string): number {
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  return [...text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)].reduce((sum, p) => sum + Number(p[1]) * unit[p[2]!]!, 0);
}

export const IssuerRefSchema = z
  .object({
    name: k8sName('the name of a cert-manager Issuer or ClusterIssuer').describe('Name of the cert-manager Issuer or ClusterIssuer.'),
    kind: z.enum(['Issuer', 'ClusterIssuer']).default('ClusterIssuer').describe('Issuer (in the same namespace) or ClusterIssuer.'),
    group: z.literal('cert-manager.io').default('cert-manager.io').describe('Always cert-manager.io.'),
  })
  .strict();
export type IssuerRef = z.output<typeof IssuerRefSchema>;

export const CheckRowSchema = z.object({
  name: z.string().describe('certificate, dns/<host>, tls/<host>, http/<host>, rootdomain/<domain> or redirect/<host>.'),
  status: z.enum(['Passed', 'Failed', 'Warning', 'Unknown']).describe('The outcome of the check.'),
  reason: z.string().describe('CamelCase reason, stable across versions.'),
  message: z.string().describe('What is wrong and how to fix it.'),
  lastTransitionTime: z.string().describe('When the outcome last changed.'),
});
export type CheckRow = z.infer<typeof CheckRowSchema>;

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
