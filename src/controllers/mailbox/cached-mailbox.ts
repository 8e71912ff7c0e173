// What the operator keeps of each Mailbox in its cache: the fields its three controllers read,
// in a record laid out once (the Mailbox informer's store packs these into columns and builds
// one again on each read: mailbox-store.ts). A hoster caches 100,000 Mailboxes; the object the apiserver sends
// (managedFields dropped) took ~300 B each (a heap snapshot at 5,000 MailDomains): its
// metadata and the object itself each had a separate property array for the properties added
// after parsing (the cache key, the parsed spec), and every Mailbox carried its own apiVersion
// and kind slots.
import { API_VERSION } from '../../api/common.ts';
import { derivedFromSpec, reserveKeySlot, shareConditions, type KubeObject, type ObjectMeta } from '../../kube/index.ts';

/** Where memoMailboxSpec keeps a Mailbox's parsed spec (derivedFromSpec: a version that keeps
 *  the spec keeps its parse). */
export const PARSED_SPEC = derivedFromSpec(Symbol('parsedMailboxSpec'));

/** What PARSED_SPEC holds for a spec the schema passes unchanged: the spec is its own parse. */
export const VALID_AS_IS = Symbol('validAsIs');

/** The metadata fields the Mailbox and MapiServer controllers read, and the cache's
 *  bookkeeping (resourceVersion, generation). Labels, annotations, owner references and
 *  finalizers are nobody's business here; nor is the uid: a Mailbox owns no object, no Event
 *  names one, its status is applied by name, and 100,000 uids are 5.3 MiB of strings (a heap
 *  snapshot at 5,000 MailDomains). */
function keptMetadata(m: ObjectMeta): ObjectMeta {
  const kept = {
    name: m.name, namespace: m.namespace, resourceVersion: m.resourceVersion,
    generation: m.generation, creationTimestamp: m.creationTimestamp,
  };
  // Rare (a Mailbox being deleted): a second layout, not a slot in every record.
  return m.deletionTimestamp === undefined ? kept : { ...kept, deletionTimestamp: m.deletionTimestamp };
}

/**
 * A cached Mailbox. apiVersion and kind are the prototype's (one informer, one version):
 * readable like any object's, not copied by a spread (the Mailbox controller names them when
 * it writes a status). The slots for the key and the parse are reserved here, inside the
 * record, and stay invisible to spreads and JSON.
 */
export class CachedMailbox implements KubeObject {
  declare readonly apiVersion: typeof API_VERSION;
  declare readonly kind: 'Mailbox';
  metadata: ObjectMeta;
  spec: unknown;
  // Pooled in place by the cache (shareConditions); undefined until the first status write.
  status: unknown;
  [field: string]: unknown;

  /** `metadata`: what keptMetadata keeps. */
  constructor(metadata: ObjectMeta, spec: unknown, status: unknown) {
    this.metadata = metadata;
    this.spec = spec;
    this.status = status;
    reserveKeySlot(this);
    Object.defineProperty(this, PARSED_SPEC, { value: undefined, writable: true });
  }
}
Object.defineProperties(CachedMailbox.prototype, {
  apiVersion: { value: API_VERSION },
  kind: { value: 'Mailbox' },
});

/** The informer's compact transform for Mailboxes (ClusterView), on an object whose strings
 *  the cache pooled: 100,000 Mailboxes carry a few distinct condition lists between them, so
 *  theirs are shared (shareConditions), one frozen copy each. */
export function compactMailbox(obj: KubeObject): KubeObject {
  return shareConditions(new CachedMailbox(keptMetadata(obj.metadata), obj.spec, obj.status));
}

/** Whether a parsed spec has exactly the raw spec's fields, each the same value: the spec
 *  is then its own parse. */
export function sameFields(parsed: object, raw: unknown): boolean {
  if (raw === null || typeof raw !== 'object') return false;
  const a = Object.keys(parsed);
  return a.length === Object.keys(raw).length && a.every((k) => (parsed as Record<string, unknown>)[k] === (raw as Record<string, unknown>)[k]);
}
