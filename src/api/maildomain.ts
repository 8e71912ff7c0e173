// MailDomain: one mail domain (and its aliases) hosted by a MapiServer in the same namespace.
import { z } from 'zod';
import { dnsName } from './dns-name.ts';
import { conditionsField } from './conditions.ts';
import { API_VERSION, CheckRowSchema, IssuerRefSchema, k8sName, k8sNameRef, type ObjectMeta } from './common.ts';

export { GROUP, VERSION, API_VERSION, type ObjectMeta, type CheckRow } from './common.ts';

export const MAX_ALIASES = 100;
const aliasEqualsDomainMessage = 'must not contain spec.domain: the domain is always served; list only the other domains';

export const MailDomainSpecSchema = z
  .object({
    serverRef: k8sNameRef('the name of a MapiServer in the same namespace').describe('The MapiServer (same namespace) that serves this domain.'),
    domain: dnsName('example.com').describe('The mail domain, lower-case, without a trailing dot; an IDN as punycode.'),
    aliases: z
      .array(dnsName('example.org'))
      .max(MAX_ALIASES)
      .default([])
      .describe(`Alias domains of the same mailboxes; unique, not the domain itself, at most ${MAX_ALIASES}.`)
      .meta({ 'x-kubernetes-list-type': 'set' }),
    autodiscover: z
      .object({
        hosts: z
          .array(dnsName('autodiscover.example.com'))
          .max(MAX_ALIASES + 1)
          .default([])
          .describe('Autodiscover hosts; empty means autodiscover.<domain> and autodiscover.<alias> for every alias. Each must end with the domain or an alias.')
          .meta({ 'x-kubernetes-list-type': 'set' }),
        require: z.enum(['Any', 'All']).default('Any').describe('Any: the domain or at least one alias publishes autodiscover (what bm-mapi requires); All: every one.'),
      })
      .strict()
      .default({ hosts: [], require: 'Any' })
      .describe('Where Outlook finds this domain’s settings.'),
    tls: z
      .object({
        issuerRef: IssuerRefSchema.optional().describe("cert-manager issuer for the autodiscover certificate; default the MapiServer's."),
        secretName: k8sName('the name of a Secret').optional().describe("Secret for the autodiscover hosts' certificate; default <name>-autodiscover-tls."),
      })
      .strict()
      .default({})
      .describe('The certificate of the autodiscover hosts (one per MailDomain).'),
    mapi: z
      .object({
        enabled: z.boolean().default(true).describe('Domain-wide MAPI switch (Exchange: MapiHttpEnabled); false refuses MAPI for every mailbox of the domain, mail delivery untouched.'),
      })
      .strict()
      .default({ enabled: true })
      .describe('MAPI for the whole domain.'),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.aliases.includes(spec.domain)) ctx.addIssue({ code: 'custom', path: ['aliases'], message: aliasEqualsDomainMessage });
    const seen = new Set<string>();
    spec.aliases.forEach((alias, i) => {
      if (seen.has(alias)) ctx.addIssue({ code: 'custom', path: ['aliases', i], message: `duplicate alias ${alias}: list each alias once` });
      seen.add(alias);
    });
    const domains = [spec.domain, ...spec.aliases];
    spec.autodiscover.hosts.forEach((host, i) => {
      if (!domains.some((d) => host === d || host.endsWith(`.${d}`))) {
        ctx.addIssue({ code: 'custom', path: ['autodiscover', 'hosts', i], message: hostOutsideMessage });
      }
    });
  })
  .meta({
    'x-kubernetes-validations': [
      { rule: '!has(self.aliases) || !(self.domain in self.aliases)', message: aliasEqualsDomainMessage, fieldPath: '.aliases', reason: 'FieldValueInvalid' },
      {
        rule: "!has(self.autodiscover) || !has(self.autodiscover.hosts) || self.autodiscover.hosts.all(h, h == self.domain || h.endsWith('.' + self.domain) || (has(self.aliases) && self.aliases.exists(a, h == a || h.endsWith('.' + a))))",
        message: 'every spec.autodiscover.hosts entry must be the domain or an alias, or end with one (write autodiscover.example.com): Outlook looks for autodiscover under the address’s own domain',
        fieldPath: '.autodiscover.hosts',
        reason: 'FieldValueInvalid',
      },
    ],
  });

const hostOutsideMessage = 'must be the domain or an alias, or end with one (write autodiscover.example.com): Outlook looks for autodiscover under the address’s own domain';

export const MailDomainStatusSchema = z.object({
  observedGeneration: z.number().int().optional().describe('The generation this status describes.'),
  conditions: conditionsField(),
  autodiscoverURLs: z.array(z.string()).optional().describe('The autodiscover URLs Outlook tries for this domain.'),
  checks: z.array(CheckRowSchema).optional().describe('dns/<host>, tls/<host>, http/<host>, rootdomain/<domain>, redirect/<host>.'),
});

export type MailDomainSpecInput = z.input<typeof MailDomainSpecSchema>;
export type MailDomainSpec = z.output<typeof MailDomainSpecSchema>;
export type MailDomainStatus = z.infer<typeof MailDomainStatusSchema>;

export interface MailDomain {
  apiVersion: typeof API_VERSION;
  kind: 'MailDomain';
  metadata: ObjectMeta;
  spec: MailDomainSpec;
  status?: MailDomainStatus;
}
