// Rule 2 of the gate: when may the MAPI server start?
//
// A MapiServer's gate opens when its certificate and tls/<externalHost> pass and, per
// gate.domains, every accepted MailDomain passes (Any: at least one). bm-mapi checks this for
// every hosted domain at start-up and exits otherwise; holding before any pod starts says why.
// No accepted MailDomain → held. A stalled or unaccepted MailDomain is not served, so it is not
// counted: it can neither open nor hold the gate.
import type { CheckResult } from '../checks/types.ts';
import { normalizeHost } from '../checks/host-names.ts';
import { CERTIFICATE_NOT_ISSUED } from '../checks/tls-check.ts';
import type { DomainVerdict } from './domain-verdict.ts';
import { bounded, counts, describeResult, indexResults } from './results.ts';

/** At most this many names in status.domains.blocking and in messages (status stays small). */
export const MAX_BLOCKING = 20;

/** CamelCase, stable. */
export type ServerReason = 'GatePassed' | 'CertificateNotReady' | 'ExternalHostTlsFailed' | 'NoMailDomains' | 'DomainsNotReady' | 'ChecksPending';

export interface DomainState {
  /** The MailDomain's object name. */
  name: string;
  /** spec.domain. */
  domain: string;
  accepted: boolean;
  stalled?: { reason: string; message: string };
  /** Undefined while its checks have not run. */
  verdict?: DomainVerdict;
}

export interface GatePolicy {
  domains: 'All' | 'Any';
  mode: 'Enforce' | 'Warn';
}

export interface ServerVerdictInput {
  externalHost: string;
  /** The `certificate` row of the external host; absent outside a cluster (`mapi-operator check`). */
  certificate?: CheckResult;
  /** Server-level rows: tls/<externalHost>, http/<externalHost>. */
  results: readonly CheckResult[];
  domains: readonly DomainState[];
  policy: GatePolicy;
  /** Whether the server-level checks have run at least once. */
  checksRan: boolean;
}

/** What every consumer of a gate needs: open or not, and why. */
export interface GateDecision {
  open: boolean;
  reason: string;
  message: string;
}

export interface ServerVerdict extends GateDecision {
  reason: ServerReason;
  /** Closed in Enforce mode: the rollout must wait. In Warn mode a closed gate only reports. */
  blocksRollout: boolean;
  accepted: number;
  passing: number;
  /** spec.domain of the accepted MailDomains that keep the gate closed, first MAX_BLOCKING. */
  blocking: string[];
}

const isAccepted = (d: DomainState): boolean => d.accepted && !d.stalled;

export function serverVerdict(input: ServerVerdictInput): ServerVerdict {
  const { policy } = input;
  const accepted = input.domains.filter(isAccepted);
  const passing = accepted.filter((d) => d.verdict?.passing === true);
  const failing = accepted.filter((d) => d.verdict?.passing !== true);
  // The domains that keep the gate closed under the policy (Any: only when none passes).
  const holding = policy.domains === 'All' || passing.length === 0 ? failing : [];
  const counted = { accepted: accepted.length, passing: passing.length, blocking: holding.slice(0, MAX_BLOCKING).map((d) => d.domain) };
  const decide = (open: boolean, reason: ServerReason, message: string): ServerVerdict => ({
    open, reason, message: bounded(message, 4000), blocksRollout: !open && policy.mode === 'Enforce', ...counted,
  });

  if (input.certificate && input.certificate.status !== 'Passed') {
    return decide(false, 'CertificateNotReady', `the certificate of ${input.externalHost} is not ready: ${input.certificate.message}`);
  }
  const tlsName = `tls/${normalizeHost(input.externalHost)}`;
  const byName = indexResults(input.results);
  if (!input.checksRan || !byName.has(tlsName)) {
    return decide(false, 'ChecksPending', `the checks of ${input.externalHost} have not run yet`);
  }
  if (input.certificate && byName.get(tlsName)?.reason === CERTIFICATE_NOT_ISSUED) {
    return decide(false, 'ChecksPending', `the certificate of ${input.externalHost} is issued; its TLS check runs now`);
  }
  if (!counts(byName.get(tlsName))) {
    return decide(false, 'ExternalHostTlsFailed', describeResult(byName, tlsName));
  }
  if (accepted.length === 0) {
    const ignored = input.domains.length - accepted.length;
    return decide(false, 'NoMailDomains', `no accepted MailDomain names this server in spec.serverRef${ignored > 0 ? ` (${ignored} stalled or not accepted)` : ''}: create a MailDomain with spec.serverRef set to this MapiServer`);
  }
  if (holding.length === 0) {
    return decide(true, 'GatePassed', `certificate, ${tlsName} and ${passing.length}/${accepted.length} MailDomains pass (gate.domains: ${policy.domains})`);
  }
  const pending = holding.every((d) => d.verdict === undefined || d.verdict.reason === 'ChecksPending');
  // Each blocking domain with its own reason and the one row that decides it, kept short: the
  // message must stay readable (and within status limits) with thousands of domains.
  const detail = (v: DomainVerdict): string => bounded(v.hosts.find((h) => h.missing)?.missing ?? v.message, 140);
  const each = holding.slice(0, MAX_BLOCKING).map((d) => `${d.domain} (${d.verdict ? `${d.verdict.reason}: ${detail(d.verdict)}` : 'ChecksPending'})`);
  const shown = holding.length > MAX_BLOCKING ? `, the first ${MAX_BLOCKING}; and ${holding.length - MAX_BLOCKING} more` : '';
  const rule = policy.domains === 'All' ? 'every accepted MailDomain must pass' : 'at least one MailDomain must pass';
  return decide(false, pending ? 'ChecksPending' : 'DomainsNotReady',
    `${passing.length}/${accepted.length} MailDomains pass (gate.domains: ${policy.domains}: ${rule}); blocking (${holding.length}${shown}): ${each.join('; ')}`);
}
