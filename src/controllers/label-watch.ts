// Children are found by owner reference, and also by label: someone who removes the owner
// reference of a child by hand (kubectl edit, a GitOps tool adopting it) must be noticed at
// once, not at the next resync, because from then on the child is no longer ours to write
// (apply-plan.ts reports it as NameInUse) and garbage collection no longer reaches it.
import type { Informer, KubeObject } from '../kube/index.ts';
import { MAILDOMAIN_LABEL, MAPISERVER_LABEL, labelValue } from '../builders/names.ts';

const hasController = (o: KubeObject): boolean => (o.metadata.ownerReferences ?? []).some((r) => r.controller === true);

/** Maps a labelled child without a controller to the owners (of `owners`) its labels name. */
export function ownersByLabel(owners: Informer<KubeObject>, ownerKind: 'MapiServer' | 'MailDomain'): (obj: KubeObject) => string[] {
  return (obj) => {
    if (hasController(obj)) return [];
    const labels = obj.metadata.labels ?? {};
    // A MailDomain's children carry both labels; a server's only its own.
    const value = ownerKind === 'MailDomain' ? labels[MAILDOMAIN_LABEL] : labels[MAILDOMAIN_LABEL] === undefined ? labels[MAPISERVER_LABEL] : undefined;
    if (value === undefined) return [];
    const namespace = obj.metadata.namespace;
    return owners.list(namespace).filter((o) => labelValue(o.metadata.name ?? '') === value).map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
  };
}
