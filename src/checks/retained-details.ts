// What the operator keeps of a check result once its run is over. The details of a probe (every
// address's outcome, the certificate chain as served, each HTTP exchange) explain a row to the
// person running `mapi-operator check`; the operator writes only name, status, reason and
// message to status, and at a hoster's 5,000 MailDomains those details, held by the probe cache
// and every resource's last results, were ~14 MiB of a ~210 MiB heap.
import type { CheckResult } from './types.ts';

/**
 * The details the operator reads after a run, and nothing else:
 * - `srvTarget` of a dns/ row: the gate and the SRV-target tls/ rows follow it;
 * - the leaf certificate's `notAfter` (as `chain[0]`): the certificate expiry metric.
 */
export function detailsReadAfterRun(result: CheckResult): CheckResult {
  const d = result.details;
  const kept: Record<string, unknown> = {};
  if (typeof d['srvTarget'] === 'string') kept['srvTarget'] = d['srvTarget'];
  const leaf = (d['chain'] as { notAfter?: unknown }[] | undefined)?.[0];
  if (typeof leaf?.notAfter === 'string') kept['chain'] = [{ notAfter: leaf.notAfter }];
  return { ...result, details: 'srvTarget' in kept || 'chain' in kept ? kept : NO_DETAILS };
}

/** Most rows keep no detail: one shared, frozen empty object instead of one each (~56 B per
 *  row, rows of every MailDomain's latest results and of the probe cache). Frozen: a change
 *  to it would show in every row. */
const NO_DETAILS: Record<string, unknown> = Object.freeze({});
