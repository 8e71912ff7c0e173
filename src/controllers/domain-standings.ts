// What the MapiServer's gate needs to know about each of its MailDomains, as the MailDomain
// controller last decided it. Kept in memory (not read back from status): the server's
// verdict then uses exactly the verdict the MailDomain's own conditions were built from, and
// a MailDomain not decided yet since this process started counts as "checks pending".
import type { CheckResult } from '../checks/types.ts';
import type { DomainVerdict } from '../gate/index.ts';
import { stableDigest } from '../api/stable-json.ts';

export interface DomainStanding {
  /** The MailDomain's generation this standing was decided for. */
  generation: number | undefined;
  serverKey: string;
  domain: string;
  accepted: boolean;
  stalled?: { reason: string; message: string };
  verdict?: DomainVerdict;
  /** Judged by the rows the last run left, not yet by this process's own checks. */
  judgedByLastRun?: true;
  /** http/ rows of its published autodiscover hosts: whether the running release answers. */
  httpResults: CheckResult[];
  /** The release those rows judged (releaseUnderProbe); rows of another release say nothing
   *  about the running one. */
  httpRelease?: string;
}

export class DomainStandings {
  readonly #byKey = new Map<string, { standing: DomainStanding; fingerprint: string }>();

  /** Records a standing; true when it differs from the one before (the server must look again). */
  set(domainKey: string, standing: DomainStanding): boolean {
    const fingerprint = stableDigest(standing);
    const before = this.#byKey.get(domainKey);
    this.#byKey.set(domainKey, { standing, fingerprint });
    return before?.fingerprint !== fingerprint;
  }

  get(domainKey: string): DomainStanding | undefined {
    return this.#byKey.get(domainKey)?.standing;
  }

  /** Forgets a MailDomain; returns the server it belonged to, if any. */
  delete(domainKey: string): string | undefined {
    const before = this.#byKey.get(domainKey);
    this.#byKey.delete(domainKey);
    return before?.standing.serverKey;
  }
}
