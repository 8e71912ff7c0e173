// The check engine's public surface, for the controller and the `check` command.
export type {
  AutodiscoverHost, CertificateState, CheckIO, CheckResult, CheckStatus, CheckTarget, Clock,
  DnsResolver, HttpClient, ProbeCredentials, RequireMode, TlsDialer,
} from './types.ts';
export { runChecks, probeableHosts, type RunChecksOptions } from './engine.ts';
export { createRealCheckIO, systemClock, DEFAULT_PROBE_LIMITS, type ProbeLimits, type RealCheckIOOptions } from './io.ts';
export { ProbeCache, type ProbeCacheOptions } from './probe-cache.ts';
export { detailsReadAfterRun } from './retained-details.ts';
export { ProbeNotAllowedError } from './probe-limits.ts';
export { autodiscoverHostsFor } from './target.ts';
