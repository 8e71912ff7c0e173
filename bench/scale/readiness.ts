// What the scale benchmark waits for, read from watches (the operator's own Informer) instead
// of polled LISTs: at 5,000 MailDomains a LIST of every Certificate every 2 s, and of 100,000
// Mailboxes every 3 s, was load on the apiserver of its own, in both legs of the measurement.
import { Informer, type KubeClient, type KubeObject, type ResourceRef } from '../../src/kube/index.ts';
import { CERTIFICATES, DEPLOYMENTS, MAILBOXES, MAILDOMAINS, MAPISERVERS } from '../../src/controllers/resources.ts';

type Obj = KubeObject & { status?: { conditions?: Array<{ type: string; status: string; lastTransitionTime?: string }>; observedGeneration?: number; readyReplicas?: number }; spec?: { replicas?: number } };

export const isReady = (o: Obj): boolean => o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const isAvailable = (d: Obj): boolean => (d.spec?.replicas ?? 0) > 0 && d.status?.readyReplicas === d.spec?.replicas;

/** When the last of these objects became Ready, from their own Ready conditions (epoch ms, the
 *  condition's 1 s resolution); undefined if one is not Ready or does not say when. */
export function lastBecameReady(objects: Obj[]): number | undefined {
  let last = Number.NEGATIVE_INFINITY;
  for (const o of objects) {
    const ready = o.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
    const at = Date.parse(ready?.lastTransitionTime ?? '');
    if (!Number.isFinite(at)) return undefined;
    last = Math.max(last, at);
  }
  return Number.isFinite(last) ? last : undefined;
}

export class ReadinessWatch {
  readonly #informers = new Map<string, Informer<Obj>>();
  readonly #client: KubeClient;
  readonly #namespace: string;

  constructor(client: KubeClient, namespace: string) {
    this.#client = client;
    this.#namespace = namespace;
  }

  /** The synced objects of a kind, its watch started on first use (undefined until synced). */
  #objects(resource: ResourceRef): Obj[] | undefined {
    let inf = this.#informers.get(resource.plural);
    if (!inf) {
      inf = new Informer<Obj>({ client: this.#client, resource, namespaces: [this.#namespace] });
      this.#informers.set(resource.plural, inf);
      inf.start();
    }
    return inf.hasSynced() ? inf.list() : undefined;
  }

  /** Every Certificate Ready and every Deployment available (kwok pods Ready). */
  childrenReady(certs: number, deployments: number): boolean {
    const c = this.#objects(CERTIFICATES);
    const d = this.#objects(DEPLOYMENTS);
    return c !== undefined && d !== undefined && c.filter(isReady).length >= certs && d.filter(isAvailable).length >= deployments;
  }

  /** Every MapiServer and MailDomain Ready, every Mailbox Ready for its generation (a
   *  Mailbox waiting for its server's access list has a status too: not done). */
  allReady(servers: number, domains: number, mailboxes: number): boolean {
    const s = this.#objects(MAPISERVERS);
    const d = this.#objects(MAILDOMAINS);
    const m = this.#objects(MAILBOXES);
    if (s === undefined || d === undefined || m === undefined) return false;
    return s.filter(isReady).length >= servers && d.filter(isReady).length >= domains
      && m.filter((x) => x.status?.observedGeneration === x.metadata.generation && isReady(x)).length >= mailboxes;
  }

  /** Once allReady: when the last MapiServer, MailDomain or Mailbox became Ready, by its own
   *  condition. The watches behind allReady start only after the children are ready (100,000
   *  Mailboxes watched from the start were load in both legs) and take a minute to list them
   *  at N=5,000: the time they first see everything Ready is later than the fact. */
  lastBecameReady(): number | undefined {
    let last = Number.NEGATIVE_INFINITY;
    for (const resource of [MAPISERVERS, MAILDOMAINS, MAILBOXES]) {
      const objects = this.#objects(resource);
      const at = objects === undefined ? undefined : lastBecameReady(objects);
      if (at === undefined) return undefined;
      last = Math.max(last, at);
    }
    return last;
  }

  /** How far from every resource Ready: Ready counts per kind, and the Ready reasons of the
   *  MailDomains that are not (what a run that gives up reports). */
  progress(): { servers: number; domains: number; mailboxes: number; domainsNotReady: Record<string, number> } | undefined {
    const s = this.#objects(MAPISERVERS);
    const d = this.#objects(MAILDOMAINS);
    const m = this.#objects(MAILBOXES);
    if (s === undefined || d === undefined || m === undefined) return undefined;
    const domainsNotReady: Record<string, number> = {};
    for (const o of d) {
      if (isReady(o)) continue;
      const reason = (o.status?.conditions as Array<{ type: string; reason?: string }> | undefined)?.find((c) => c.type === 'Ready')?.reason ?? 'NoStatus';
      domainsNotReady[reason] = (domainsNotReady[reason] ?? 0) + 1;
    }
    return {
      servers: s.filter(isReady).length, domains: d.filter(isReady).length,
      mailboxes: m.filter((x) => x.status?.observedGeneration === x.metadata.generation && isReady(x)).length, domainsNotReady,
    };
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#informers.values()].map((i) => i.stop()));
    this.#informers.clear();
  }
}
