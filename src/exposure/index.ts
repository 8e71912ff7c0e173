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

export interface ExposureObjectRef {
  kind: ExposureKind;
  name: string;
}

/**
 * What to remove of an owner's exposure objects: with no host, whatever the current exposure
 * writes under its name; and every existing exposure object of ours that the desired objects
 * no longer include (ingress ↔ gateway, a ListenerSet no longer used, a host chunk gone).
 * Only existing ones beyond that, so a converged owner prunes nothing.
 */
export function exposurePrune(input: {
  exposure: MapiServerSpec['exposure'];
  name: string;
  noHosts: boolean;
  desired: readonly object[];
  existing?: readonly ExposureObjectRef[];
}): ExposureObjectRef[] {
  const isExposure = (k: unknown): k is ExposureKind => (EXPOSURE_KINDS as readonly unknown[]).includes(k);
  const keep = new Set((input.desired as { kind?: string; metadata?: { name?: string } }[]).filter((o) => isExposure(o.kind)).map((o) => `${o.kind}/${o.metadata?.name}`));
  const out = new Map<string, ExposureObjectRef>();
  if (input.noHosts) for (const kind of exposureFor(input.exposure).kinds) out.set(`${kind}/${input.name}`, { kind, name: input.name });
  for (const e of input.existing ?? []) if (!keep.has(`${e.kind}/${e.name}`)) out.set(`${e.kind}/${e.name}`, e);
  return [...out.values()].sort((a, b) => EXPOSURE_KINDS.indexOf(a.kind) - EXPOSURE_KINDS.indexOf(b.kind) || a.name.localeCompare(b.name));
}

/** Kinds the current exposure does not write: left over from another one, to be pruned. */
export function unusedExposureKinds(exposure: MapiServerSpec['exposure'], attachment?: GatewayAttachment): ExposureKind[] {
  const used = new Set<string>(exposureFor(exposure).kinds);
  // Routes on the Gateway's own listeners need no ListenerSet of ours.
  if (exposure.gateway && attachment !== 'ListenerSet') used.delete('ListenerSet');
  return EXPOSURE_KINDS.filter((k) => !used.has(k));
}
