// Resolves a host to its addresses by following the CNAME chain one query at a time, so the
// checks can say exactly where a chain breaks (dangling, looping, too long) instead of getting
// one opaque error from a recursive lookup.
import { normalizeHost } from './host-names.ts';
import type { DnsFailure, DnsResolver, ResolutionFailure } from './types.ts';

export type { ResolutionFailure } from './types.ts';

/** RFC 1034 does not bound chains; resolvers give up around 8-16 hops. Past 8 is a misconfiguration. */
export const MAX_CNAME_HOPS = 8;

export type AddressResolution =
  | { ok: true; chain: string[]; addresses: string[] }
  | {
      ok: false;
      failure: ResolutionFailure;
      /** The names visited, the queried host first. */
      chain: string[];
      /** For a dangling CNAME: what the last name answered (NXDOMAIN or NODATA). */
      cause?: DnsFailure;
      detail: string;
    };

export async function resolveAddresses(host: string, dns: DnsResolver): Promise<AddressResolution> {
  const chain = [normalizeHost(host)];
  for (;;) {
    const current = chain[chain.length - 1] as string;
    const kept = dns.shared?.of(current);
    if (kept) return continuedBy(chain, await kept);
    const cname = await dns.cname(current);
    if (cname.ok && cname.records.length > 0) {
      const next = normalizeHost(cname.records[0] as string);
      if (chain.includes(next)) {
        return { ok: false, failure: 'CNAME_LOOP', chain: [...chain, next], detail: `${current} points back at ${next}` };
      }
      chain.push(next);
      if (chain.length - 1 > MAX_CNAME_HOPS) {
        return { ok: false, failure: 'CHAIN_TOO_LONG', chain, detail: `more than ${MAX_CNAME_HOPS} CNAME hops` };
      }
      continue;
    }
    if (!cname.ok && cname.failure !== 'NODATA') {
      return endOfChain(chain, cname.failure, cname.detail);
    }
    // The name exists and is no alias: its own A/AAAA records are the answer.
    const [v4, v6] = await Promise.all([dns.a(current), dns.aaaa(current)]);
    const addresses = [...(v4.ok ? v4.records : []), ...(v6.ok ? v6.records : [])];
    if (addresses.length > 0) return { ok: true, chain, addresses };
    const hard = [v4, v6].find((r) => !r.ok && r.failure !== 'NODATA' && r.failure !== 'NXDOMAIN');
    if (hard && !hard.ok) return { ok: false, failure: hard.failure, chain, detail: hard.detail };
    const nx = [v4, v6].some((r) => !r.ok && r.failure === 'NXDOMAIN');
    return endOfChain(chain, nx ? 'NXDOMAIN' : 'NODATA', `${current} has no A or AAAA record`);
  }
}

/** `chain` (ending at a kept host) followed by that host's kept resolution: what walking on
 *  would have found, the same loop and length rules applied to the whole chain. */
function continuedBy(chain: string[], kept: AddressResolution): AddressResolution {
  const full = [...chain];
  for (const next of kept.chain.slice(1)) {
    if (full.includes(next)) {
      return { ok: false, failure: 'CNAME_LOOP', chain: [...full, next], detail: `${full[full.length - 1]} points back at ${next}` };
    }
    full.push(next);
    if (full.length - 1 > MAX_CNAME_HOPS) {
      return { ok: false, failure: 'CHAIN_TOO_LONG', chain: full, detail: `more than ${MAX_CNAME_HOPS} CNAME hops` };
    }
  }
  if (kept.ok) return { ok: true, chain: full, addresses: kept.addresses };
  if (kept.failure === 'NXDOMAIN' || kept.failure === 'NODATA') return endOfChain(full, kept.failure, kept.detail);
  return { ...kept, chain: full };
}

function endOfChain(chain: string[], failure: DnsFailure, detail: string): AddressResolution {
  const isEmptyAnswer = failure === 'NXDOMAIN' || failure === 'NODATA';
  if (chain.length > 1 && isEmptyAnswer) {
    return { ok: false, failure: 'DANGLING_CNAME', chain, cause: failure, detail };
  }
  return { ok: false, failure, chain, detail };
}
