// One row per host, judged over every address the host resolves to. Outlook (like any client)
// connects to whichever address the resolver hands it, so a host is only as good as its worst
// front: a second A record behind an expired certificate warns every user sent there.
import type { CheckResult, CheckStatus } from './types.ts';

export interface AddressOutcome {
  address: string;
  status: CheckStatus;
  reason: string;
  message: string;
}

/** Worst last: a failure outweighs a result that could not be had, which outweighs a warning. */
const SEVERITY: Record<CheckStatus, number> = { Passed: 0, Warning: 1, Unknown: 2, Failed: 3 };

export function worstStatus(statuses: CheckStatus[]): CheckStatus {
  return statuses.reduce<CheckStatus>((worst, s) => (SEVERITY[s] > SEVERITY[worst] ? s : worst), 'Passed');
}

/**
 * Folds per-address results (each already judged as if the host had one address) into one row:
 * the status and reason of the worst address, a message that names the address(es) it concerns
 * when the addresses disagree, and every outcome in `details.addresses`.
 */
export function combineAddressResults(host: string, perAddress: { address: string; result: CheckResult }[], notProbed = 0): CheckResult {
  const first = perAddress[0];
  if (!first) throw new Error(`no address result for ${host}`);
  const outcomes: AddressOutcome[] = perAddress.map(({ address, result }) => ({ address, status: result.status, reason: result.reason, message: result.message }));
  const status = worstStatus(outcomes.map((o) => o.status));
  const worst = perAddress.find((p) => p.result.status === status) ?? first;
  const unprobed = notProbed > 0 ? ` (only the first ${perAddress.length} of ${perAddress.length + notProbed} addresses were probed)` : '';
  const details = { ...worst.result.details, addresses: outcomes, ...(notProbed > 0 ? { addressesNotProbed: notProbed } : {}) };
  const agree = outcomes.every((o) => o.status === status && o.reason === worst.result.reason);
  if (perAddress.length === 1 || agree) {
    const all = perAddress.length > 1 ? `all ${perAddress.length} addresses of ${host} (${outcomes.map((o) => o.address).join(', ')}): ` : '';
    return { ...worst.result, message: `${all}${worst.result.message}${unprobed}`, details };
  }
  const bad = outcomes.filter((o) => o.status === status);
  const others = outcomes.filter((o) => o.status !== status).map((o) => `${o.address} ${o.status} (${o.reason})`);
  const which = bad.length === 1 ? `address ${bad[0]?.address}` : `addresses ${bad.map((o) => o.address).join(', ')}`;
  const message = `${host} has ${outcomes.length} addresses and clients are sent to any of them; ${which}: ${worst.result.message}` +
    ` — the other addresses: ${others.join(', ')}${unprobed}`;
  return { ...worst.result, status, message, details };
}
