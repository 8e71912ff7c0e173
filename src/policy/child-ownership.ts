// Which existing objects the operator may write to (pure). It creates children under names it
// derives; in a shared namespace an object of that name may already exist — the user's own
// Service, ConfigMap or TLS Secret. Applying over it would take its fields, add our owner
// reference and, later, let garbage collection delete it. So an object is ours only when its
// controller owner reference is the resource we reconcile (uid, not name: a MapiServer deleted
// and re-created under the same name is another resource).

export interface ObjectMetaLike {
  metadata?: {
    name?: string;
    annotations?: Record<string, string>;
    ownerReferences?: { uid?: string; controller?: boolean; kind?: string; name?: string }[];
  };
}

/** cert-manager writes the name of the Certificate that issued a Secret into this annotation. */
export const CERT_MANAGER_CERTIFICATE_NAME = 'cert-manager.io/certificate-name';

export function isControlledBy(object: ObjectMetaLike, ownerUid: string | undefined): boolean {
  return ownerUid !== undefined && (object.metadata?.ownerReferences ?? []).some((r) => r.controller === true && r.uid === ownerUid);
}

/** Who controls a foreign object, for the message ("MapiServer other", "nobody"). */
export function controllerOf(object: ObjectMetaLike): string {
  const c = (object.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
  return c ? `${c.kind ?? 'an object'} ${c.name ?? ''}`.trim() : 'no controller';
}

/**
 * A Secret a Certificate of ours may write to: none yet, or one cert-manager issued for this very
 * Certificate. cert-manager overwrites a Secret's tls.crt/tls.key in place, so a Secret that
 * holds someone's own certificate and key would be lost the moment our Certificate issues.
 */
export function secretUsableBy(secret: ObjectMetaLike | undefined, certificateName: string): boolean {
  if (!secret) return true;
  return secret.metadata?.annotations?.[CERT_MANAGER_CERTIFICATE_NAME] === certificateName;
}

export interface Refusal {
  /** kstatus reason on Stalled: NameInUse, SecretInUse or ApplyRejected. */
  reason: 'NameInUse' | 'SecretInUse' | 'ApplyRejected';
  /** "Service mapi-mapi". */
  object: string;
  message: string;
}
