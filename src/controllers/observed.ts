// Live children as the pure decide functions see them: only the fields a decision reads.
import type { V1Deployment } from '@kubernetes/client-node';
import type { KubeObject } from '../kube/index.ts';
import type { RunningDeployment } from '../rollout/decision.ts';
import { APPLIED_HASH_ANNOTATION } from './drift.ts';
import type { ServedCertificates } from '../checks/types.ts';

export interface CertificateObserved {
  /** cert-manager's Ready condition on our Certificate, if cert-manager wrote one yet. */
  ready?: { status: string; reason?: string; message?: string };
  /** cert-manager's Issuing condition: True while it works on an issuance. */
  issuing?: { status: string; reason?: string; message?: string };
  /** status.lastFailureTime: cert-manager's last issuance attempt failed (cleared once one succeeds). */
  failedAt?: string;
  /** Whether cert-manager ever issued it (status.revision); undefined when not known. */
  issued?: boolean;
  /** Whether the observed status is for the dnsNames we asked for. */
  current: boolean;
}

interface CertificateObject extends KubeObject {
  spec?: { dnsNames?: string[] };
  status?: { revision?: number; lastFailureTime?: string; conditions?: { type: string; status: string; reason?: string; message?: string; observedGeneration?: number }[] };
}

const NOTHING_SERVED: ServedCertificates = Object.freeze([]);
// Per cached Certificate version (the informer replaces an object on each change): the server's
// Certificate is read by every MailDomain's check target, and each built its own revision
// string (5,001 copies of one string at 5,000 MailDomains).
const servedByCertificate = new WeakMap<object, ServedCertificates>();

/**
 * Each of the Certificate's names with the revision of the certificate cert-manager issued for
 * it, once Ready (nothing before): what the tls/ checks of those hosts must see served. Frozen:
 * every caller of the same Certificate version gets the same pairs.
 */
export function servedCertificates(obj: KubeObject | undefined): ServedCertificates {
  if (!obj) return NOTHING_SERVED;
  let served = servedByCertificate.get(obj);
  if (!served) servedByCertificate.set(obj, (served = servedCertificatesOf(obj as CertificateObject)));
  return served;
}

// A cached Certificate's spec and status are built again on each read (packed: see
// packed-children.ts): each is read once here.
function servedCertificatesOf(cert: CertificateObject): ServedCertificates {
  const status = cert.status;
  const ready = status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return NOTHING_SERVED;
  const revision = `${cert.metadata.uid ?? ''}/${status?.revision ?? 0}`;
  return Object.freeze((cert.spec?.dnsNames ?? []).map((host) => Object.freeze([host, revision] as const)));
}

/**
 * The hosts a Certificate should cover that nothing of ours can serve yet: all of them while
 * the Certificate does not exist or cert-manager has never issued it (no revision, not Ready),
 * and while its first issuance is not confirmed (below). A certificate that was issued once
 * keeps being served while a renewal or a change is pending, so those hosts are probed.
 */
export function unissuedHosts(obj: KubeObject | undefined, hosts: readonly string[]): string[] {
  const status = (obj as CertificateObject | undefined)?.status;
  if (obj === undefined) return [...hosts];
  if (status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True') return [];
  if (status?.revision === undefined || firstIssuanceUnconfirmed(status)) return [...hosts];
  return [];
}

/**
 * cert-manager records a first issuance in two writes: its issuing controller stores the
 * Secret, sets revision 1 and drops the Issuing condition (or sets it False, "Issued"); its
 * readiness controller then sets Ready. Taken as issued in between (~0.2 s), the hosts were
 * probed at once and again when Ready changed what they must serve, and each MailDomain's
 * status was written once more in between, a passing tls/ row beside "waiting for cert-manager"
 * (5,000 writes and check runs more at a hoster's onboarding). A failed attempt since
 * (lastFailureTime) or a new one (Issuing True) is no such moment.
 */
function firstIssuanceUnconfirmed(status: NonNullable<CertificateObject['status']>): boolean {
  if (status.revision !== 1 || status.lastFailureTime !== undefined) return false;
  const issuing = status.conditions?.find((c) => c.type === 'Issuing');
  return issuing === undefined || (issuing.status === 'False' && issuing.reason === 'Issued');
}

export function observedCertificate(obj: KubeObject | undefined, hosts: string[]): CertificateObserved | undefined {
  const cert = obj as CertificateObject | undefined;
  if (!cert) return undefined;
  const status = cert.status;
  const ready = status?.conditions?.find((c) => c.type === 'Ready');
  const sameNames = JSON.stringify(cert.spec?.dnsNames ?? []) === JSON.stringify(hosts);
  const fresh = ready?.observedGeneration === undefined || ready.observedGeneration === cert.metadata.generation;
  const issuing = status?.conditions?.find((c) => c.type === 'Issuing');
  const failedAt = status?.lastFailureTime;
  return { ...(ready ? { ready } : {}), ...(issuing ? { issuing } : {}), ...(failedAt ? { failedAt } : {}), issued: status?.revision !== undefined, current: sameNames && fresh };
}

export function runningDeployment(obj: KubeObject | undefined): RunningDeployment | undefined {
  const d = obj as unknown as V1Deployment | undefined;
  if (!d?.spec?.template) return undefined;
  const conditions = d.status?.conditions ?? [];
  return {
    replicas: d.spec.replicas ?? 1,
    template: d.spec.template,
    // The rollout memory the operator keeps on the Deployment (survives restarts).
    annotations: Object.fromEntries(Object.entries(d.metadata?.annotations ?? {}).filter(([k]) => k.startsWith('mapi-operator.io/') && k !== APPLIED_HASH_ANNOTATION)),
    status: {
      replicas: d.status?.replicas ?? 0,
      updatedReplicas: d.status?.updatedReplicas ?? 0,
      readyReplicas: d.status?.readyReplicas ?? 0,
      observedGeneration: d.status?.observedGeneration ?? 0,
      generation: d.metadata?.generation ?? 0,
      progressDeadlineExceeded: conditions.some((c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded'),
    },
  };
}
