// Mailbox: Exchange's Set-CASMailbox -MAPIEnabled as a Kubernetes resource.
import { z } from 'zod';
import { conditionsField } from './conditions.ts';
import { K8S_NAME_PATTERN, matching, type API_VERSION, type ObjectMeta } from './common.ts';

// Local part as RFC 5322's dot-atom (what mail servers accept in practice), domain as a
// DNS name in any case (domains are case-insensitive; the operator compares lower-cased).
export const ADDRESS_PATTERN =
  "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)+$";
const addressRegExp = new RegExp(ADDRESS_PATTERN);
const addressMessage = 'must be an e-mail address such as ken.sanchez@example.com';

export const MailboxSpecSchema = z
  .object({
    domainRef: matching(K8S_NAME_PATTERN, 'must name a MailDomain object (its metadata.name)')
      .min(1)
      .max(253)
      .describe('Name of a MailDomain in the same namespace.'),
    address: z
      .string()
      .min(3)
      .max(320)
      .refine((v) => addressRegExp.test(v), { message: addressMessage })
      .describe('The mailbox address; must be in the domain or one of its aliases.')
      .meta({
        'x-kubernetes-validations': [
          { rule: `self.matches('${ADDRESS_PATTERN.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}')`, message: addressMessage },
        ],
      }),
    mapiEnabled: z.boolean().default(true).describe('MAPI access for this mailbox (Exchange: MAPIEnabled); default true.'),
  })
  .strict();

export const MailboxStatusSchema = z.object({
  observedGeneration: z.number().int().optional().describe('The generation this status describes.'),
  mapiEnabled: z.boolean().optional().describe('Effective MAPI access: the MailDomain switch AND this mailbox’s.'),
  conditions: conditionsField(),
});

export type MailboxSpec = z.output<typeof MailboxSpecSchema>;
export type MailboxStatus = z.infer<typeof MailboxStatusSchema>;

export interface Mailbox {
  apiVersion: typeof API_VERSION;
  kind: 'Mailbox';
  metadata: ObjectMeta;
  spec: MailboxSpec;
  status?: MailboxStatus;
}
