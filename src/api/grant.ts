// MailDomainGrant: which namespaces may serve which mail domains and host names. Cluster-scoped,
// written by the platform team (tenants get no RBAC for it), read by the operator when it runs
// with --tenancy Granted. The same idea as cert-manager's approver-policy (who may request a
// certificate for which names) and Gateway API's allowedRoutes (which namespaces may attach to
// a listener): the owner of the shared resource says who may use which part of it.
import { z } from 'zod';
import { dnsName } from './dns-name.ts';
import { conditionsField } from './conditions.ts';
import type { API_VERSION, ObjectMeta } from './common.ts';

export const MAX_GRANT_ENTRIES = 100;
const NAMESPACE_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const MailDomainGrantSpecSchema = z
  .object({
    namespaces: z
      .array(z.string().min(1).max(63).regex(NAMESPACE_PATTERN, 'must be a namespace name such as team-mail'))
      .min(1)
      .max(MAX_GRANT_ENTRIES)
      .describe('The namespaces this grant applies to (exact names).')
      .meta({ 'x-kubernetes-list-type': 'set' }),
    domains: z
      .array(dnsName('example.com'))
      .max(MAX_GRANT_ENTRIES)
      .default([])
      .describe('Mail domains these namespaces may serve: the domain as a MailDomain spec.domain or alias, and its autodiscover.<domain> host.')
      .meta({ 'x-kubernetes-list-type': 'set' }),
    hostSuffixes: z
      .array(dnsName('mail.example.com'))
      .max(MAX_GRANT_ENTRIES)
      .default([])
      .describe('Host names these namespaces may claim: the suffix itself and every name under it (a MapiServer externalHost, MailDomain domains, aliases and autodiscover hosts).')
      .meta({ 'x-kubernetes-list-type': 'set' }),
  })
  .strict()
  .refine((s) => s.domains.length + s.hostSuffixes.length > 0, { message: 'grants nothing: list at least one of spec.domains or spec.hostSuffixes' })
  .meta({ 'x-kubernetes-validations': [{ rule: 'size(self.domains) + size(self.hostSuffixes) > 0', message: 'grants nothing: list at least one of spec.domains or spec.hostSuffixes' }] });

export const MailDomainGrantStatusSchema = z.object({
  conditions: conditionsField(),
});

export type MailDomainGrantSpec = z.output<typeof MailDomainGrantSpecSchema>;

export interface MailDomainGrant {
  apiVersion: typeof API_VERSION;
  kind: 'MailDomainGrant';
  metadata: Omit<ObjectMeta, 'namespace'> & { namespace?: string };
  spec: MailDomainGrantSpec;
}

export function parseMailDomainGrantSpec(spec: unknown): { ok: true; value: MailDomainGrantSpec } | { ok: false; message: string } {
  const r = MailDomainGrantSpecSchema.safeParse(spec);
  return r.success ? { ok: true, value: r.data } : { ok: false, message: r.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; ') };
}
