// Exposure: how a MapiServer's external host and its MailDomains' autodiscover hosts reach the
// outside. One interface (types.ts), two implementations: Ingress (ingress.ts, with a tuning
// table per controller) and Gateway API (gateway.ts); report.ts turns what the front says
// about them into status.
import type { MapiServerSpec } from '../api/mapiserver.ts';
import { gatewayExposure } from './gateway.ts';
import { ingressExposure } from './ingress.ts';
import { EXPOSURE_KINDS, type ExposureBuilder, type ExposureKind, type GatewayAttachment } from './types.ts';

export * from './types.ts';
export * from './ingress.ts';
export * from './gateway.ts';
export * from './gateway-attachment.ts';
export * from './report.ts';

/** The builder spec.exposure asks for (the schema guarantees exactly one is set). */
export function exposureFor(exposure: MapiServerSpec['exposure']): ExposureBuilder {
  return exposure.gateway ? gatewayExposure : ingressExposure;
}

/**
 * What to remove of an owner's exposure objects: with no host, whatever the current exposure
 * writes; and any object of a kind it no longer writes (ingress ↔ gateway, a ListenerSet no
 * longer used) that exists. Only existing ones, so a converged owner prunes nothing.
 */
export function exposurePrune(exposure: MapiServerSpec['exposure'], attachment: GatewayAttachment | undefined, noHosts: boolean, existing: readonly ExposureKind[] = []): ExposureKind[] {
  const current = noHosts ? exposureFor(exposure).kinds : [];
  const left = (noHosts ? EXPOSURE_KINDS : unusedExposureKinds(exposure, attachment)).filter((k) => existing.includes(k));
  return EXPOSURE_KINDS.filter((k) => current.includes(k) || left.includes(k));
}

/** Kinds the current exposure does not write: left over from another one, to be pruned. */
export function unusedExposureKinds(exposure: MapiServerSpec['exposure'], attachment?: GatewayAttachment): ExposureKind[] {
  const used = new Set<string>(exposureFor(exposure).kinds);
  // Routes on the Gateway's own listeners need no ListenerSet of ours.
  if (exposure.gateway && attachment !== 'ListenerSet') used.delete('ListenerSet');
  return EXPOSURE_KINDS.filter((k) => !used.has(k));
}
