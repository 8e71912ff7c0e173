// The types the MailDomain controller works with, gathered in one place.
export type { MailDomain, MailDomainStatus, CheckRow } from '../../api/maildomain.ts';
export type { CheckResult } from '../../checks/types.ts';
