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
}

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
  mailboxes.addHandlers({
    onAdd: (o) => index.add(o),
    onUpdate: (o, n) => { index.remove(o); index.add(n); },
    onDelete: (o) => index.remove(o),
  });

  function domainState(namespace: string, name: string): { state: DomainState; md?: MailDomain } {
    const raw = mailDomains.get(namespace, name);
    if (!raw || raw.metadata.deletionTimestamp) return { state: { kind: 'Missing', name } };
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
    const data = (cm as { data?: Record<string, string> } | undefined)?.data?.[shardKey(shard)];
    if (!data) return false;
    try {
      return (JSON.parse(data) as Record<string, boolean>)[address.toLowerCase()] === effective;
    } catch {
      return false;
    }
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

  const byDomain = (md: KubeObject): string[] =>
    mailboxes.list(md.metadata.namespace).filter((m) => (m.spec as { domainRef?: string }).domainRef === md.metadata.name).map((m) => `${m.metadata.namespace}/${m.metadata.name}`);
  const byAccessConfigMap = (cm: KubeObject): string[] => {
    const owner = cm.metadata.ownerReferences?.find((o) => o.kind === 'MailDomain');
    const md = owner ? mailDomains.get(cm.metadata.namespace, owner.name) : undefined;
    if (!md) return [];
    // Only the Mailboxes whose shard this is.
    const match = /-(\d{2})$/.exec(cm.metadata.name ?? '');
    const shard = match ? Number(match[1]) : undefined;
    return byDomain(md).filter((k) => {
      if (shard === undefined) return true;
      const m = mailboxes.getByKey(k);
      const address = (m?.spec as { address?: string } | undefined)?.address;
      return address !== undefined && shardOf(address) === shard;
    });
  };
  const sameAddress = (m: KubeObject): string[] => index.sharing(m).map((o) => `${o.metadata.namespace}/${o.metadata.name}`);

  const controller = manager.addController({
    name: MAILBOX_CONTROLLER_NAME,
    primary: mailboxes,
    watches: [
      { informer: mailDomains, map: byDomain },
      { informer: configMaps, map: byAccessConfigMap },
      { informer: mailboxes, map: sameAddress },
    ],
    reconcile,
    concurrency: opts.concurrency ?? 4,
    updatePredicate: (o, n) => o.metadata.generation !== n.metadata.generation || o.metadata.deletionTimestamp !== n.metadata.deletionTimestamp,
  });
  return { controller };
}
