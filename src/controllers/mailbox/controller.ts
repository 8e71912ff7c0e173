// The Mailbox controller: writes each Mailbox's status (the Get-CASMailbox view). The access
// list itself is part of the MailDomain's desired state (its controller watches Mailboxes).
import type { Manager, KubeObject, ReconcileResult, ReconcileContext, Informer } from '../../kube/index.ts';
import { applyStatusIfChanged, splitKey } from '../../kube/index.ts';
import { API_VERSION, type MailDomain } from '../../api/maildomain.ts';
import type { MailboxStatus } from '../../api/mailbox.ts';
import { parseMailDomain, parseMailboxSpec } from '../../api/parse.ts';
import { childNames, shardName, shardKey, shardOf } from '../../builders/index.ts';
import { CONFIGMAPS, MAILBOXES, MAILDOMAINS, MANAGED_SELECTOR } from '../resources.ts';
import { mailboxVerdicts, type MailboxView } from './verdict.ts';
import { decideMailbox, type DomainState } from './decide.ts';

export const MAILBOX_CONTROLLER_NAME = 'mailbox';

export interface MailboxControllerOptions {
  manager: Manager;
  concurrency?: number;
  now?: () => Date;
}

/** Mailboxes by namespace and lower-cased address, kept current from informer events, so a
 *  duplicate check looks at the few Mailboxes sharing an address, not all of them. */
class AddressIndex {
  readonly #byAddress = new Map<string, Map<string, KubeObject>>();
  static key(obj: KubeObject): string | undefined {
    const address = (obj.spec as { address?: unknown } | undefined)?.address;
    return typeof address === 'string' ? `${obj.metadata.namespace}/${address.toLowerCase()}` : undefined;
  }
  add(obj: KubeObject): void {
    const k = AddressIndex.key(obj);
    if (!k) return;
    let m = this.#byAddress.get(k);
    if (!m) this.#byAddress.set(k, (m = new Map()));
    m.set(obj.metadata.name ?? '', obj);
  }
  remove(obj: KubeObject): void {
    const k = AddressIndex.key(obj);
    if (!k) return;
    const m = this.#byAddress.get(k);
    m?.delete(obj.metadata.name ?? '');
    if (m?.size === 0) this.#byAddress.delete(k);
  }
  sharing(obj: KubeObject): KubeObject[] {
    const k = AddressIndex.key(obj);
    return k ? [...(this.#byAddress.get(k)?.values() ?? [])] : [];
  }
  /** The Mailboxes declaring `address` (already lower-cased) in `namespace`. */
  declaring(namespace: string | undefined, address: string): KubeObject[] {
    return [...(this.#byAddress.get(`${namespace}/${address}`)?.values() ?? [])];
  }
}

type ShardEntries = Record<string, boolean>;
const NO_ENTRIES: ShardEntries = Object.freeze({}) as ShardEntries;
// Parsed once per object: the informer replaces an object on every change, so an object
// seen again is unchanged. 10,000 Mailboxes otherwise parse the same shard 600 times over.
const parsedShards = new WeakMap<object, ShardEntries>();
function shardEntries(cm: KubeObject | undefined, shard: number): ShardEntries {
  if (!cm) return NO_ENTRIES;
  let entries = parsedShards.get(cm);
  if (!entries) {
    const data = (cm as { data?: Record<string, string> }).data?.[shardKey(shard)];
    try {
      entries = data ? JSON.parse(data) as ShardEntries : NO_ENTRIES;
    } catch {
      entries = NO_ENTRIES;
    }
    parsedShards.set(cm, entries);
  }
  return entries;
}
const shardOfName = (name: string | undefined): number | undefined => {
  const match = /-(\d{2})$/.exec(name ?? '');
  return match ? Number(match[1]) : undefined;
};

function view(obj: KubeObject): MailboxView | undefined {
  const spec = parseMailboxSpec(obj.spec);
  return spec.ok ? { namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '', creationTimestamp: obj.metadata.creationTimestamp, spec: spec.value } : undefined;
}

export function registerMailboxController(opts: MailboxControllerOptions) {
  const { manager } = opts;
  const now = opts.now ?? (() => new Date());
  const mailboxes = manager.informer<KubeObject>(MAILBOXES);
  const mailDomains = manager.informer<KubeObject>(MAILDOMAINS);
  const configMaps: Informer<KubeObject> = manager.informer<KubeObject>(CONFIGMAPS, { labelSelector: MANAGED_SELECTOR });
  const index = new AddressIndex();
  let enqueue: (key: string) => void = () => {};
  mailboxes.addHandlers({
    onAdd: (o) => index.add(o),
    onUpdate: (o, n) => {
      index.remove(o);
      index.add(n);
      // A Mailbox left an address: a duplicate of its old address may now be the first.
      if (AddressIndex.key(o) !== AddressIndex.key(n)) for (const peer of index.sharing(o)) enqueue(`${peer.metadata.namespace}/${peer.metadata.name}`);
    },
    onDelete: (o) => index.remove(o),
  });

  // The MailDomain as the Mailboxes see it, computed once per MailDomain object (see parsedShards).
  const domainStates = new WeakMap<object, { state: DomainState; md?: MailDomain }>();
  function domainState(namespace: string, name: string): { state: DomainState; md?: MailDomain } {
    const raw = mailDomains.get(namespace, name);
    if (!raw || raw.metadata.deletionTimestamp) return { state: { kind: 'Missing', name } };
    let known = domainStates.get(raw);
    if (!known) domainStates.set(raw, (known = evaluateDomain(raw, name)));
    return known;
  }
  function evaluateDomain(raw: KubeObject, name: string): { state: DomainState; md?: MailDomain } {
    const parsed = parseMailDomain(raw);
    if (!parsed.ok) return { state: { kind: 'Invalid', name, message: parsed.message } };
    const md = parsed.value as MailDomain;
    const conditions = (raw.status as MailDomain['status'])?.conditions ?? [];
    const available = conditions.find((c) => c.type === 'MapiAvailable');
    const rollout = (raw.status as MailDomain['status'])?.rollout;
    return {
      md,
      state: {
        kind: 'Found', name, domain: md.spec.domain, mapiEnabled: md.spec.mapi.enabled,
        mapiAvailable: available?.status === 'True',
        rolloutMessage: rollout ? `rollout ${rollout.state}: ${rollout.message ?? rollout.reason}` : 'not reconciled yet',
      },
    };
  }

  function published(md: MailDomain, address: string, effective: boolean): boolean {
    const shard = shardOf(address);
    const cm = configMaps.get(md.metadata.namespace, shardName(childNames(md).accessConfigMap, shard));
    return shardEntries(cm, shard)[address.toLowerCase()] === effective;
  }

  async function reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    const { namespace = '', name } = splitKey(key);
    const raw = mailboxes.get(namespace, name);
    if (!raw || raw.metadata.deletionTimestamp) return;
    const obj = { ...raw, apiVersion: API_VERSION, kind: 'Mailbox' } as KubeObject;
    const previous = raw.status as MailboxStatus | undefined;
    const spec = parseMailboxSpec(raw.spec);
    let status: MailboxStatus;
    if (!spec.ok) {
      status = decideMailbox({ generation: raw.metadata.generation, previous, invalidSpec: spec.message, published: false, now: now() });
    } else {
      const { state, md } = domainState(namespace, spec.value.domainRef);
      let verdict;
      if (md) {
        // Only the Mailboxes sharing this address matter for the duplicate rule.
        const peers = index.sharing(raw).map(view).filter((v): v is MailboxView => v !== undefined);
        const self = view(raw);
        const all = self && !peers.some((p) => p.name === self.name) ? [...peers, self] : peers;
        verdict = mailboxVerdicts(md, all).get(name);
      }
      const isPublished = md && verdict?.valid ? published(md, spec.value.address, verdict.effective) : false;
      status = decideMailbox({ generation: raw.metadata.generation, previous, domain: state, ...(verdict ? { verdict } : {}), published: isPublished, now: now() });
    }
    await applyStatusIfChanged(manager.client, obj, status, { signal: ctx.signal });
    return undefined;
  }

  const keyOf = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;
  const byDomain = (md: KubeObject): string[] =>
    mailboxes.list(md.metadata.namespace).filter((m) => (m.spec as { domainRef?: string }).domainRef === md.metadata.name).map(keyOf);
  // A MailDomain's status changes often (check results, rollout); its Mailboxes only care
  // about what domainState reads. Re-evaluating 10,000 Mailboxes for nothing would starve
  // the queue, so they are enqueued only when that view changed.
  const lastDomainState = new Map<string, string>();
  const byDomainChange = (md: KubeObject): string[] => {
    const key = keyOf(md);
    const { state } = domainState(md.metadata.namespace ?? '', md.metadata.name ?? '');
    // The generation too: aliases (spec) decide AddressNotInDomain.
    const fingerprint = JSON.stringify([md.metadata.uid, md.metadata.generation, state]);
    if (lastDomainState.get(key) === fingerprint) return [];
    if (state.kind === 'Missing') lastDomainState.delete(key);
    else lastDomainState.set(key, fingerprint);
    return byDomain(md);
  };
  // A shard rewrite concerns the Mailboxes whose entry it added, removed or changed, not all
  // the Mailboxes hashed to it: compare with the last version of the shard seen. The index
  // (access.json) is not read by the Mailbox status, so it maps to nothing.
  const lastShard = new Map<string, ShardEntries>();
  const byAccessConfigMap = (cm: KubeObject): string[] => {
    const shard = shardOfName(cm.metadata.name);
    if (shard === undefined) return [];
    const key = keyOf(cm);
    const live = configMaps.getByKey(key);
    const current = live ? shardEntries(live, shard) : NO_ENTRIES;
    const previous = lastShard.get(key);
    if (live) lastShard.set(key, current);
    else lastShard.delete(key);
    if (previous === undefined) {
      // First sight (start-up, or a new MailDomain): every Mailbox hashed to this shard.
      const owner = cm.metadata.ownerReferences?.find((o) => o.kind === 'MailDomain');
      const md = owner ? mailDomains.get(cm.metadata.namespace, owner.name) : undefined;
      if (!md) return [];
      return byDomain(md).filter((k) => {
        const address = (mailboxes.getByKey(k)?.spec as { address?: string } | undefined)?.address;
        return address !== undefined && shardOf(address) === shard;
      });
    }
    if (previous === current) return [];
    const changed = new Set<string>();
    for (const [address, value] of Object.entries(current)) if (previous[address] !== value) changed.add(address);
    for (const address of Object.keys(previous)) if (!(address in current)) changed.add(address);
    return [...changed].flatMap((address) => index.declaring(cm.metadata.namespace, address).map(keyOf));
  };
  // Another Mailbox with the same address appeared, changed or went: the duplicate rule may
  // now decide differently for this one. Its own events come through the primary watch.
  const sameAddress = (m: KubeObject): string[] => index.sharing(m).filter((o) => o.metadata.name !== m.metadata.name).map(keyOf);

  const controller = manager.addController({
    name: MAILBOX_CONTROLLER_NAME,
    primary: mailboxes,
    watches: [
      { informer: mailDomains, map: byDomainChange },
      { informer: configMaps, map: byAccessConfigMap },
      { informer: mailboxes, map: sameAddress },
    ],
    reconcile,
    concurrency: opts.concurrency ?? 4,
    updatePredicate: (o, n) => o.metadata.generation !== n.metadata.generation || o.metadata.deletionTimestamp !== n.metadata.deletionTimestamp,
  });
  enqueue = (key) => controller.enqueue(key);
  return { controller };
}
