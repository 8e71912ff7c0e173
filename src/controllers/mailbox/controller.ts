// The Mailbox controller: writes each Mailbox's status (the Get-CASMailbox view). The access
// list itself is part of the MapiServer's desired state (its controller watches Mailboxes);
// a Mailbox is Ready once its effective value is in that list and the server runs.
import type { KubeObject, Manager, ReconcileContext, ReconcileResult } from '../../kube/index.ts';
import { applyStatusIfChanged, splitKey } from '../../kube/index.ts';
import { API_VERSION } from '../../api/common.ts';
import { shortDigest } from '../../api/stable-json.ts';
import type { MailDomain } from '../../api/maildomain.ts';
import type { MapiServer } from '../../api/mapiserver.ts';
import type { MailboxStatus } from '../../api/mailbox.ts';
import type { Condition } from '../../api/conditions.ts';
import { ACCESS_INDEX_KEY, serverChildNames, shardOf } from '../../builders/index.ts';
import { keyOf, type ClusterView } from '../cluster-view.ts';
import { mailboxVerdicts, type MailboxView } from './verdict.ts';
import { lowerCaseAddress, type PackedMailboxStore } from './mailbox-store.ts';
import {
  decideMailbox, domainPasses, domainVerdictInProgress, domainVerdictPending, firstStatusDelay, firstStatusHold, heldMailboxesNeedALook, rolloutSummary, serverHeldForDomains, serverRolloutInProgress, UNTIL_DOMAIN_CHANGES,
  type DomainState, type FirstStatusHold,
} from './decide.ts';

export const MAILBOX_CONTROLLER = 'mailbox';

export interface MailboxControllerOptions {
  manager: Manager;
  view: ClusterView;
  concurrency?: number;
  now?: () => Date;
}

/** Mailboxes by namespace and lower-cased address, as the Mailbox informer's store indexes them
 *  (PackedMailboxStore.keysDeclaring): a duplicate check looks at the few Mailboxes sharing an
 *  address, not all of them. The store answers with keys and slot numbers; the Mailboxes are
 *  read from it when asked for. */
export class AddressIndex {
  readonly #store: PackedMailboxStore;
  constructor(store: PackedMailboxStore) {
    this.#store = store;
  }
  static address(obj: KubeObject): string | undefined {
    return lowerCaseAddress(obj);
  }
  static sameKey(a: KubeObject, b: KubeObject): boolean {
    return a.metadata.namespace === b.metadata.namespace && AddressIndex.address(a) === AddressIndex.address(b);
  }
  /** The cached Mailboxes declaring the address `obj` declares (itself included, if cached). */
  sharing(obj: KubeObject): KubeObject[] {
    const address = AddressIndex.address(obj);
    return address === undefined ? [] : this.declaring(obj.metadata.namespace, address);
  }
  /** The address string a cached Mailbox already holds for this address (spelled the same),
   *  else `address` itself: a reader keeps that one string instead of a copy. */
  canonical(namespace: string | undefined, address: string): string {
    return this.#store.heldAddress(namespace ?? '', address) ?? address;
  }
  /** Keys of the Mailboxes declaring this lower-cased address. */
  keysDeclaring(namespace: string | undefined, address: string): string[] {
    return this.#store.keysDeclaring(namespace ?? '', address);
  }
  declaring(namespace: string | undefined, address: string): KubeObject[] {
    return this.keysDeclaring(namespace, address).flatMap((k) => {
      const o = this.#store.get(k);
      return o ? [o] : [];
    });
  }
}

// A shard's entries as a Map: JSON.parse makes a dictionary-mode object of 100,000 keys, which
// took 116 B a Mailbox (its address string included) against the Map's 90
// (`npm run bench:memory -- --section access`).
type Entries = ReadonlyMap<string, unknown>;
const NO_ENTRIES: Entries = new Map();

// Access ConfigMaps parsed once per object version (the informer replaces an object on each
// change): 10,000 Mailboxes would otherwise parse the same shard thousands of times.
// `canonical`: the string to keep for an address (AddressIndex.canonical: the one its Mailbox
// holds), so the entries add no copy of every address (~3 MiB at 100,000 Mailboxes).
const parsedAccess = new WeakMap<object, { count?: number; entries: Entries }>();
export function readAccessConfigMap(cm: KubeObject | undefined, canonical: (address: string) => string = (a) => a): { count?: number; entries: Entries } {
  if (!cm) return { entries: NO_ENTRIES };
  let r = parsedAccess.get(cm);
  if (!r) {
    const data = (cm as { data?: Record<string, string> }).data ?? {};
    let count: number | undefined;
    let entries: Entries = NO_ENTRIES;
    try {
      const index = data[ACCESS_INDEX_KEY] ? JSON.parse(data[ACCESS_INDEX_KEY]) as { shards?: { count?: number } } : undefined;
      count = index?.shards?.count;
      const shardKey = Object.keys(data).find((k) => /^mailboxes-\d+\.json$/.test(k));
      if (shardKey) {
        const parsed = JSON.parse(data[shardKey]!) as Record<string, unknown>;
        const map = new Map<string, unknown>();
        for (const address in parsed) map.set(canonical(address), parsed[address]);
        entries = map;
      }
    } catch {
      entries = NO_ENTRIES; // a hand-edited ConfigMap: the operator rewrites it
    }
    parsedAccess.set(cm, (r = { ...(count ? { count } : {}), entries }));
  }
  return r;
}

/**
 * What a server's Mailboxes read of it (rolloutSummary, decideMailbox, firstStatusDelay):
 * whether it serves MAPI and, while it does not, whether it has a rollout yet and whether that
 * rollout is on its way (serverRolloutInProgress). Its rollout state and reason are not part of
 * it: at 100,000 Mailboxes each change of them re-enqueued every one (600,000 reconciles in the
 * first 24 minutes of a 5,000-MailDomain onboarding).
 */
export function serverViewOfMailboxes(server: KubeObject): string {
  const status = server.status as MapiServer['status'] | undefined;
  const available = status?.conditions?.find((c) => c.type === 'MapiAvailable')?.status === 'True';
  return JSON.stringify([server.metadata.uid, available, available || status?.rollout !== undefined, !available && serverRolloutInProgress(status), serverHeldForDomains(status)]);
}

export function registerMailboxController(opts: MailboxControllerOptions) {
  const { manager, view } = opts;
  const now = opts.now ?? (() => new Date());
  const index = new AddressIndex(view.mailboxStore);
  let enqueue: (key: string) => void = () => {};
  view.mailboxes.addHandlers({
    // A Mailbox left an address: a duplicate of its old address may now be the first.
    onUpdate: (o, n) => {
      if (!AddressIndex.sameKey(o, n)) for (const peer of index.sharing(o)) enqueue(keyOf(peer));
    },
  });

  // A cached MailDomain's status is built again on each read (packed, src/kube/packed-fields.ts)
  // and domainState runs for every Mailbox reconcile: the last one read is kept, as a domain's
  // Mailboxes mostly reconcile one after another (woken together).
  let lastStatusRead: { of: KubeObject; status: unknown } | undefined;
  const statusOf = (raw: KubeObject): unknown => {
    if (lastStatusRead?.of !== raw) lastStatusRead = { of: raw, status: raw.status };
    return lastStatusRead.status;
  };

  function domainState(namespace: string, name: string): { state: DomainState; md?: MailDomain; server?: MapiServer } {
    const raw = view.domains.get(namespace, name);
    if (!raw || raw.metadata.deletionTimestamp) return { state: { kind: 'Missing', name } };
    const parsed = view.parseDomain(raw);
    if (!parsed.ok) return { state: { kind: 'Invalid', name, message: parsed.message } };
    const md = parsed.value;
    const server = view.server(namespace, md.spec.serverRef);
    const serverRaw = server ? view.servers.get(namespace, md.spec.serverRef) ?? view.allServers.get(namespace, md.spec.serverRef) : undefined;
    const status = serverRaw?.status as MapiServer['status'] | undefined;
    const available = status?.conditions?.find((c: Condition) => c.type === 'MapiAvailable');
    const rollout = status?.rollout;
    const domainStatus = statusOf(raw) as Parameters<typeof domainVerdictPending>[1];
    return {
      md,
      ...(server ? { server } : {}),
      state: {
        kind: 'Found', name, domain: md.spec.domain, mapiEnabled: md.spec.mapi.enabled,
        verdictPending: domainVerdictPending(raw.metadata.generation, domainStatus),
        verdictInProgress: domainVerdictInProgress(raw.metadata.generation, domainStatus),
        mapiAvailable: available?.status === 'True',
        // Read only while MAPI is not available (firstStatusDelay), like the message below.
        serverInProgress: server !== undefined && available?.status !== 'True' && serverRolloutInProgress(status),
        serverHeldForOtherDomains: server !== undefined && serverHeldForDomains(status) && domainPasses(raw.metadata.generation, domainStatus),
        // Read only while MAPI is not available (decideMailbox): kept empty otherwise so a
        // rollout of a new release does not look like a change to every Mailbox's domain.
        rolloutMessage: available?.status === 'True' ? '' : rolloutSummary(md.spec.serverRef, name, server !== undefined, rollout),
      },
    };
  }

  const canonicalIn = (namespace: string | undefined) => (address: string) => index.canonical(namespace, address);

  /** Whether the server's access list carries this address with this value. */
  function published(server: MapiServer, address: string, effective: boolean): boolean {
    const names = serverChildNames(server);
    const namespace = server.metadata.namespace;
    const { count } = readAccessConfigMap(view.configMaps.get(namespace, names.accessConfigMap), canonicalIn(namespace));
    if (!count) return false;
    const shard = shardOf(address, count);
    const cmName = count === 1 ? names.accessConfigMap : `${names.accessConfigMap}-${shard}`;
    return readAccessConfigMap(view.configMaps.get(namespace, cmName), canonicalIn(namespace)).entries.get(address.toLowerCase()) === effective;
  }

  function peersOf(raw: KubeObject): MailboxView[] {
    const views: MailboxView[] = [];
    const all = index.sharing(raw);
    if (!all.some((o) => o.metadata.name === raw.metadata.name)) all.push(raw);
    for (const o of all) {
      const p = view.parseMailboxSpec(o);
      if (p.ok) views.push({ namespace: o.metadata.namespace ?? '', name: o.metadata.name ?? '', ...(o.metadata.creationTimestamp ? { creationTimestamp: o.metadata.creationTimestamp } : {}), spec: p.value });
    }
    return views;
  }

  // When this process first held back a new Mailbox's status for the grace (firstStatusDelay).
  const firstSeen = new Map<string, number>();

  async function reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult> {
    const { namespace = '', name } = splitKey(key);
    const raw = view.mailboxes.get(namespace, name);
    if (!raw || raw.metadata.deletionTimestamp) {
      firstSeen.delete(key);
      return;
    }
    const obj = { ...raw, apiVersion: API_VERSION, kind: 'Mailbox' } as KubeObject;
    const previous = raw.status as MailboxStatus | undefined;
    const spec = view.parseMailboxSpec(raw);
    let status: MailboxStatus;
    let domain: DomainState | undefined;
    if (!spec.ok) {
      status = decideMailbox({ generation: raw.metadata.generation, previous, invalidSpec: spec.message, published: false, now: now() });
    } else {
      const { state, md, server } = domainState(namespace, spec.value.domainRef);
      domain = state;
      // Only the Mailboxes sharing this address matter for the duplicate rule.
      const verdict = md ? mailboxVerdicts(md, peersOf(raw)).get(name) : undefined;
      const isPublished = server && verdict?.valid ? published(server, spec.value.address, verdict.effective) : false;
      status = decideMailbox({ generation: raw.metadata.generation, previous, domain: state, ...(verdict ? { verdict } : {}), published: isPublished, now: now() });
    }
    const nowMs = now().getTime();
    const seen = firstSeen.get(key) ?? nowMs;
    const delay = firstStatusDelay(previous, status, domain, nowMs - seen);
    if (delay === UNTIL_DOMAIN_CHANGES) {
      // The time cert-manager and the first checks take is no part of the grace.
      firstSeen.delete(key);
      return undefined;
    }
    if (delay !== undefined) {
      firstSeen.set(key, seen);
      return { requeueAfterMs: delay };
    }
    firstSeen.delete(key);
    await applyStatusIfChanged(manager.client, obj, status, { signal: ctx.signal });
    return undefined;
  }

  // A MailDomain's or a server's status changes often; its Mailboxes only care about what
  // domainState reads, so they are enqueued only when that view changed.
  // Digests, not the views' JSON (~190 B a MailDomain): one per MailDomain and server for good.
  const lastState = new Map<string, string>();
  const whenChanged = (k: string, state: string | undefined, keys: () => string[]): string[] => {
    const fingerprint = state === undefined ? undefined : shortDigest(state);
    if (lastState.get(k) === fingerprint) return [];
    if (fingerprint === undefined) lastState.delete(k);
    else lastState.set(k, fingerprint);
    return keys();
  };
  // A Mailbox without a status under a domain with no verdict yet waits for that verdict
  // (firstStatusDelay); a change that leaves it waiting the same way does not wake it. While a
  // hoster onboards, the server's rollout appearing and each domain's steps through "no verdict
  // yet" woke all 100,000 Mailboxes of 5,000 MailDomains three times, to decide to wait again.
  // (heldMailboxesNeedALook: a Mailbox held while the verdict is in progress has no timer).
  const hasStatus = (mailboxKey: string): boolean => ((view.mailboxes.getByKey(mailboxKey)?.status as MailboxStatus | undefined)?.conditions?.length ?? 0) > 0;
  const lastHold = new Map<string, FirstStatusHold>();
  const wakeable = (domainKey: string, state: DomainState, sameSpec: boolean): string[] => {
    const hold = firstStatusHold(state);
    const before = lastHold.get(domainKey);
    if (hold === undefined) lastHold.delete(domainKey);
    else lastHold.set(domainKey, hold);
    const keys = view.mailboxKeysOf(domainKey);
    return sameSpec && !heldMailboxesNeedALook(before, hold) ? keys.filter(hasStatus) : keys;
  };
  const lastSpec = new Map<string, string>();
  const byDomainChange = (md: KubeObject): string[] => {
    const k = keyOf(md);
    const { state } = domainState(md.metadata.namespace ?? '', md.metadata.name ?? '');
    // The generation too: aliases (spec) decide AddressNotInDomain.
    const spec = `${md.metadata.uid}/${md.metadata.generation}`;
    const sameSpec = lastSpec.get(k) === spec;
    if (state.kind === 'Missing') lastSpec.delete(k);
    else lastSpec.set(k, spec);
    const fingerprint = state.kind === 'Missing' ? undefined : JSON.stringify([md.metadata.uid, md.metadata.generation, state]);
    return whenChanged(`md:${k}`, fingerprint, () => wakeable(k, state, sameSpec));
  };
  const byServerChange = (server: KubeObject): string[] => {
    const k = keyOf(server);
    const alive = view.servers.getByKey(k) ?? view.allServers.getByKey(k);
    const fingerprint = alive ? serverViewOfMailboxes(server) : undefined;
    // A server's change is no change of its domains' specs.
    return whenChanged(`srv:${k}`, fingerprint, () => view.domainKeysOf(k).flatMap((d) => {
      const { namespace = '', name } = splitKey(d);
      return wakeable(d, domainState(namespace, name).state, true);
    }));
  };
  // An access ConfigMap rewrite concerns the Mailboxes whose entry it added, removed or
  // changed: compare with the version seen before.
  const lastEntries = new Map<string, Entries>();
  const lastCount = new Map<string, number>();
  const byAccessConfigMap = (cm: KubeObject): string[] => {
    if (!/-mapi-access(-\d+)?$/.test(cm.metadata.name ?? '')) return [];
    const k = keyOf(cm);
    const liveCm = view.configMaps.getByKey(k);
    const parsed = liveCm ? readAccessConfigMap(liveCm, canonicalIn(cm.metadata.namespace)) : undefined;
    const current = parsed?.entries ?? NO_ENTRIES;
    const before = lastEntries.get(k) ?? NO_ENTRIES;
    if (liveCm) lastEntries.set(k, current);
    else lastEntries.delete(k);
    // The index changing its shard count moves every address to another shard: a Mailbox
    // looked at between a shard's write and the index's searched the shard the old count
    // names, so every Mailbox of the server looks again.
    const countBefore = lastCount.get(k);
    if (parsed?.count !== undefined) lastCount.set(k, parsed.count);
    else lastCount.delete(k);
    if (countBefore !== undefined && parsed?.count !== undefined && countBefore !== parsed.count) {
      const owner = cm.metadata.ownerReferences?.find((o) => o.kind === 'MapiServer' && o.controller);
      if (owner) return view.domainKeysOf(`${cm.metadata.namespace}/${owner.name}`).flatMap((d) => view.mailboxKeysOf(d));
    }
    if (before === current) return [];
    const changed = new Set<string>();
    for (const [address, value] of current) if (before.get(address) !== value) changed.add(address);
    for (const address of before.keys()) if (!current.has(address)) changed.add(address);
    return [...changed].flatMap((address) => index.keysDeclaring(cm.metadata.namespace, address));
  };
  const sameAddress = (m: KubeObject): string[] => index.sharing(m).filter((o) => o.metadata.name !== m.metadata.name).map(keyOf);

  const controller = manager.addController({
    name: MAILBOX_CONTROLLER,
    primary: view.mailboxes,
    watches: [
      { informer: view.domains, map: byDomainChange },
      { informer: view.servers, map: byServerChange },
      { informer: view.configMaps, map: byAccessConfigMap },
      { informer: view.mailboxes, map: sameAddress },
    ],
    reconcile,
    concurrency: opts.concurrency ?? 4,
    updatePredicate: (o, n) => o.metadata.generation !== n.metadata.generation || o.metadata.deletionTimestamp !== n.metadata.deletionTimestamp,
  });
  enqueue = (key) => controller.enqueue(key);
  return { controller };
}
