// The gate: one module, pure, that decides whether a MAPI server may start. The operator's
// controllers and `mapi-operator check` call exactly these functions.
//
//   targets.ts         MapiServer / MailDomain → what the check engine probes
//   domain-verdict.ts  rule 1: one MailDomain passes (certificate, dns/ + tls/ per require)
//   server-verdict.ts  rule 2: the server's gate opens (certificate, tls/<externalHost>,
//                      gate.domains All|Any over the accepted MailDomains); the reasons
//   remedies.ts        for a failing row, the DNS record or certificate change that fixes it
//   results.ts         small shared readers (what counts as passing, bounded messages)
//
// What a closed gate does to a running Deployment (hold, never scale down, roll back) is the
// rollout's business: src/rollout/decision.ts.
export { domainCheckTarget, serverCheckTarget, type CheckTargetExtras } from './targets.ts';
export { domainVerdict, type DomainVerdict, type DomainVerdictInput, type DomainReason, type HostVerdict } from './domain-verdict.ts';
export {
  serverVerdict, MAX_BLOCKING,
  type ServerVerdict, type ServerVerdictInput, type ServerReason, type DomainState, type GatePolicy, type GateDecision,
} from './server-verdict.ts';
export { remedyFor } from './remedies.ts';
