// What the front says about our exposure, as one `Exposed` condition and warnings for the
// owner's status. For Gateway API it mirrors the HTTPRoute's Accepted and ResolvedRefs
// conditions for our parent (and the ListenerSet's Accepted and Programmed), so a route the
// Gateway refuses is a reason on the MapiServer or MailDomain; before the Gateway's controller
// has spoken, it predicts what is missing from the Gateway's own listeners. Pure.
import type { MapiServerSpec } from '../api/mapiserver.ts';
import { gatewayAttachment, gatewayNamespace, missingListeners, type GatewayObject } from './gateway-attachment.ts';
import { GATEWAY_GROUP, ROUTE_TIMEOUTS, chunkName, hostChunks, routeParentRef, type ParentRef } from './gateway.ts';
import { controllerTuning, ingressTuningWarning } from './ingress.ts';
import type { ExposureKind, GatewayAttachment } from './types.ts';

interface Cond { type: string; status: string; reason?: string; message?: string }
export interface RouteObject {
  metadata: { name?: string; namespace?: string; generation?: number };
  status?: { parents?: { parentRef: Partial<ParentRef>; controllerName?: string; conditions?: (Cond & { observedGeneration?: number })[] }[] };
}
export interface ListenerSetObject {
  metadata: { name?: string; generation?: number };
  status?: { conditions?: Cond[]; listeners?: { name: string; conditions?: Cond[] }[] };
}

export interface ExposureObserved {
  /** Whether this cluster serves the Gateway API kinds (looked up when the operator started). */
  gatewayApi: boolean;
  /** The parent Gateway; undefined when it does not exist. */
  gateway?: GatewayObject;
  /** Labels of the owner's namespace, for Selector rules; undefined: not known. */
  namespaceLabels?: Record<string, string>;
  /** Our HTTPRoutes and ListenerSets as the apiserver has them (with their status), by name. */
  routes?: RouteObject[];
  listenerSets?: ListenerSetObject[];
  /** Which of our exposure objects exist (the owner's exposure names), for pruning. */
  existing?: { kind: ExposureKind; name: string }[];
}

export interface ExposureReportInput {
  exposure: MapiServerSpec['exposure'];
  namespace: string;
  /** Name of our Ingress / HTTPRoute / ListenerSet. */
  name: string;
  hosts: string[];
  observed: ExposureObserved;
}

export interface ExposedCondition {
  type: 'Exposed';
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

export interface ExposureReport {
  /** Gateway API: where the routes attach (the builders need it). */
  attachment?: GatewayAttachment;
  condition: ExposedCondition;
  warnings: string[];
  /** For status.exposure. */
  summary: { kind: 'Ingress' | 'Gateway'; parent?: string; attachment?: GatewayAttachment; warnings?: string[] };
}

const exposed = (status: ExposedCondition['status'], reason: string, message: string): ExposedCondition => ({ type: 'Exposed', status, reason, message });

// What the person reading a refused route's reason should do, per Gateway API route reason.
const ROUTE_FIX: Record<string, string> = {
  NotAllowedByListeners: 'no listener admits HTTPRoutes from this namespace: ask the platform team to admit it in the listener\'s allowedRoutes',
  NoMatchingListenerHostname: 'no listener hostname matches these hosts: ask the platform team for an HTTPS listener per host or a wildcard covering them',
  NoMatchingParent: 'the parent has no listener for this route (sectionName or port): name an existing listener',
  UnsupportedValue: 'the Gateway\'s implementation refused a field, likely the timeouts (Extended support): choose an implementation that supports HTTPRoute timeouts',
  BackendNotFound: 'the MAPI Service is missing: it is created with the MapiServer; look at the MapiServer\'s status',
  RefNotPermitted: 'a reference crosses namespaces without a ReferenceGrant',
  InvalidCertificateRef: 'the certificate Secret is not there yet (cert-manager issues it) or is not a TLS Secret',
  NotAllowed: 'the Gateway\'s allowedListeners does not admit ListenerSets from this namespace',
};

function sameParent(seen: Partial<ParentRef>, want: ParentRef, routeNamespace: string): boolean {
  return (seen.group ?? GATEWAY_GROUP) === want.group &&
    (seen.kind ?? 'Gateway') === want.kind &&
    seen.name === want.name &&
    (seen.namespace ?? routeNamespace) === (want.namespace ?? routeNamespace) &&
    (seen.sectionName ?? '') === (want.sectionName ?? '');
}

const describeParent = (p: ParentRef, ns: string) => `${p.kind} ${p.namespace ?? ns}/${p.name}${p.sectionName ? ` (listener ${p.sectionName})` : ''}`;

function refusal(what: string, by: string, c: Cond): ExposedCondition {
  const reason = c.reason || 'Refused';
  const fix = ROUTE_FIX[reason];
  return exposed('False', reason, `${what} not ${c.type === 'Accepted' ? 'accepted' : c.type === 'ResolvedRefs' ? 'resolved' : c.type.toLowerCase()} by ${by}: ${reason}${c.message ? `: ${c.message}` : ''}${fix ? `; ${fix}` : ''}`);
}

export function exposureReport(input: ExposureReportInput): ExposureReport {
  const { exposure, namespace, name, hosts, observed } = input;
  if (!exposure.gateway) {
    const ingress = exposure.ingress ?? { annotations: {} };
    const warning = ingressTuningWarning(ingress);
    const warnings = warning ? [warning] : [];
    const summary = { kind: 'Ingress' as const, ...(warnings.length ? { warnings } : {}) };
    if (hosts.length === 0) return { condition: exposed('False', 'NothingToExpose', 'no host of this resource is its own to expose'), warnings, summary };
    const tuned = controllerTuning[ingress.className ?? ''];
    const condition = warning && !tuned
      ? exposed('True', 'IngressNotTuned', `Ingress ${name} for ${hosts.join(', ')}; ${warning}`)
      : exposed('True', 'IngressApplied', `Ingress ${name} for ${hosts.join(', ')}${tuned ? `, tuned for ${tuned.controller}` : ''}${warning ? `; ${warning}` : ''}`);
    return { condition, warnings, summary };
  }

  const gateway = exposure.gateway;
  const gwNs = gatewayNamespace(gateway, namespace);
  const gwName = `Gateway ${gwNs}/${gateway.parentRef.name}`;
  const base = { kind: 'Gateway' as const, parent: `${gwNs}/${gateway.parentRef.name}${gateway.parentRef.sectionName ? `/${gateway.parentRef.sectionName}` : ''}` };
  if (!observed.gatewayApi) {
    return {
      condition: exposed('False', 'GatewayAPINotInstalled', 'this cluster does not serve the Gateway API kinds (gateway.networking.k8s.io/v1 Gateway, HTTPRoute, ListenerSet) to the operator, or they were installed after it started: install the Gateway API standard channel (v1.5 or later), grant the operator its Gateway API rules (the operator logs any missing one at start-up) and restart it, or use spec.exposure.ingress'),
      warnings: [], summary: base,
    };
  }
  if (hosts.length === 0) return { condition: exposed('False', 'NothingToExpose', 'no host of this resource is its own to expose'), warnings: [], summary: base };
  if (!observed.gateway) {
    return {
      condition: exposed('False', 'GatewayNotFound', `spec.exposure.gateway.parentRef: ${gwName} does not exist: create it (the platform team's shared Gateway), or name an existing one`),
      warnings: [], summary: base,
    };
  }
  const attachment = gatewayAttachment(gateway, namespace, observed.gateway, observed.namespaceLabels);
  const summary = { ...base, attachment };
  const done = (condition: ExposedCondition): ExposureReport => ({ attachment, condition, warnings: [], summary });
  // The platform's listeners must take every host; checked once, over all of them.
  const gap = attachment === 'Gateway' ? missingListeners(gateway, namespace, observed.gateway, hosts, observed.namespaceLabels) : undefined;
  // One route (and ListenerSet) per chunk of hosts: the first refusal wins, then any pending.
  const verdicts = hostChunks(hosts).map((chunk, i) => chunkVerdict({
    gateway, namespace, name: chunkName(name, i), hosts: chunk, attachment, gwName, gap,
    route: observed.routes?.find((r) => r.metadata.name === chunkName(name, i)),
    listenerSet: observed.listenerSets?.find((l) => l.metadata.name === chunkName(name, i)),
  }));
  const refused = verdicts.find((v) => v.status === 'False');
  if (refused) return done(refused);
  const pending = verdicts.find((v) => v.status === 'Unknown');
  if (pending) return done(pending);
  return done(verdicts.length === 1 ? verdicts[0]! : exposed('True', 'RouteAccepted', `${verdicts.length} HTTPRoutes (${verdicts.map((_, i) => chunkName(name, i)).join(', ')}) for ${hosts.length} hosts accepted by ${gwName}; request timeout ${ROUTE_TIMEOUTS.request}`));
}

interface ChunkInput {
  gateway: NonNullable<MapiServerSpec['exposure']['gateway']>;
  namespace: string;
  name: string;
  hosts: string[];
  attachment: GatewayAttachment;
  gwName: string;
  gap: ReturnType<typeof missingListeners>;
  route: RouteObject | undefined;
  listenerSet: ListenerSetObject | undefined;
}

function chunkVerdict({ gateway, namespace, name, hosts, attachment, gwName, gap, route, listenerSet }: ChunkInput): ExposedCondition {
  const want = routeParentRef(gateway, { name, attachment });
  const routeName = `HTTPRoute ${name}`;
  const done = (c: ExposedCondition) => c;

  // The route's own status for our parent is the authority once the controller wrote it.
  const parentStatus = route?.status?.parents?.find((p) => sameParent(p.parentRef, want, namespace));
  const current = (c: Cond & { observedGeneration?: number }) => c.observedGeneration === undefined || c.observedGeneration === route?.metadata.generation;
  const routeConds = (parentStatus?.conditions ?? []).filter(current);
  const by = `${describeParent(want, namespace)}${parentStatus?.controllerName ? ` (${parentStatus.controllerName})` : ''}`;
  for (const type of ['Accepted', 'ResolvedRefs']) {
    const c = routeConds.find((x) => x.type === type);
    if (c?.status === 'False') return done(refusal(routeName, by, c));
  }
  if (attachment === 'ListenerSet') {
    const ls = listenerSet;
    for (const type of ['Accepted', 'Programmed']) {
      const c = ls?.status?.conditions?.find((x) => x.type === type);
      if (c?.status === 'False') {
        const listener = ls?.status?.listeners?.flatMap((l) => (l.conditions ?? []).filter((x) => x.status === 'False' && x.type !== 'Programmed').map((x) => ({ l, x })))[0];
        return done(listener ? refusal(`ListenerSet ${name} listener ${listener.l.name}`, gwName, listener.x) : refusal(`ListenerSet ${name}`, gwName, c));
      }
    }
  } else {
    // A refusal the controller has not written yet: say it now, by name.
    if (gap && routeConds.find((x) => x.type === 'Accepted')?.status !== 'True') return done(exposed('False', gap.reason, gap.message));
  }
  const accepted = routeConds.find((x) => x.type === 'Accepted');
  const resolved = routeConds.find((x) => x.type === 'ResolvedRefs');
  if (accepted?.status === 'True' && resolved?.status !== 'Unknown') {
    return done(exposed('True', 'RouteAccepted', `${routeName} for ${hosts.join(', ')} accepted by ${by}${attachment === 'ListenerSet' ? ` on the HTTPS listeners of ListenerSet ${name}` : ''}; request timeout ${ROUTE_TIMEOUTS.request}`));
  }
  return done(exposed('Unknown', 'RoutePending', `waiting for the controller of ${gwName} to accept ${routeName}${attachment === 'ListenerSet' ? ` and ListenerSet ${name}` : ''}`));
}
