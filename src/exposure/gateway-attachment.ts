// Reading a shared Gateway the way the Gateway API spec does, to decide how our hosts get
// HTTPS listeners and to say what is missing before a route is refused:
// - a ListenerSet of ours may attach when the Gateway's spec.allowedListeners admits our
//   namespace (https://gateway-api.sigs.k8s.io/reference/api-types/listenerset/; the default
//   is None);
// - otherwise a listener of the Gateway must take each host: protocol HTTPS, a hostname that
//   matches (exact, or a wildcard "*.example.com" matching any host below example.com, or none),
//   and allowedRoutes admitting HTTPRoutes from our namespace (default: Same).
// Pure: the Gateway object and the namespace's labels come in.
import type { ExposureInput, GatewayAttachment } from './types.ts';

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
export interface GatewayListener {
  name: string;
  hostname?: string;
  port?: number;
  protocol?: string;
  allowedRoutes?: { namespaces?: { from?: string; selector?: LabelSelector }; kinds?: { group?: string; kind: string }[] };
}
export interface GatewayObject {
  metadata: { name?: string; namespace?: string };
  spec?: {
    listeners?: GatewayListener[];
    allowedListeners?: { namespaces?: { from?: string; selector?: LabelSelector } };
  };
}

type GatewaySpec = NonNullable<ExposureInput['exposure']['gateway']>;

export const gatewayNamespace = (gateway: GatewaySpec, ownerNamespace: string): string => gateway.parentRef.namespace ?? ownerNamespace;
export const gatewayKey = (gateway: GatewaySpec, ownerNamespace: string): string => `${gatewayNamespace(gateway, ownerNamespace)}/${gateway.parentRef.name}`;

/** Whether a label selector selects these labels (undefined labels: not known, assume it does). */
export function selects(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!labels) return true;
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    const ok = e.operator === 'In' ? has && (e.values ?? []).includes(value!)
      : e.operator === 'NotIn' ? !has || !(e.values ?? []).includes(value!)
        : e.operator === 'Exists' ? has
          : e.operator === 'DoesNotExist' ? !has : false;
    if (!ok) return false;
  }
  return true;
}

function namespaceAdmitted(from: string | undefined, fallback: string, selector: LabelSelector | undefined, gatewayNs: string, ns: string, labels?: Record<string, string>): boolean {
  const rule = from ?? fallback;
  if (rule === 'All') return true;
  if (rule === 'Same') return gatewayNs === ns;
  if (rule === 'Selector') return selects(selector, labels);
  return false; // None
}

/**
 * ListenerSet when the Gateway admits ListenerSets from our namespace and no listener was
 * named (a sectionName means the platform team provides the listener); else the Gateway's
 * own listeners. An absent Gateway gets Gateway: nothing is added before it exists.
 */
export function gatewayAttachment(gateway: GatewaySpec, ownerNamespace: string, live: GatewayObject | undefined, namespaceLabels?: Record<string, string>): GatewayAttachment {
  if (gateway.parentRef.sectionName || !live) return 'Gateway';
  const allowed = live.spec?.allowedListeners?.namespaces;
  return namespaceAdmitted(allowed?.from, 'None', allowed?.selector, gatewayNamespace(gateway, ownerNamespace), ownerNamespace, namespaceLabels) ? 'ListenerSet' : 'Gateway';
}

/** Gateway API hostname matching: a wildcard takes one or more labels in place of "*". */
export function listenerHostMatches(listenerHostname: string | undefined, host: string): boolean {
  if (!listenerHostname) return true;
  const l = listenerHostname.toLowerCase();
  const h = host.toLowerCase();
  if (l.startsWith('*.')) return h.endsWith(l.slice(1)) && h.length > l.length - 1;
  return l === h;
}

function acceptsHTTPRoute(listener: GatewayListener): boolean {
  const kinds = listener.allowedRoutes?.kinds;
  if (kinds && kinds.length > 0) return kinds.some((k) => k.kind === 'HTTPRoute' && (k.group ?? 'gateway.networking.k8s.io') === 'gateway.networking.k8s.io');
  // Without kinds, an HTTPS listener takes HTTPRoutes.
  return true;
}

export interface ListenerGap {
  reason: 'ListenerNotFound' | 'ListenerMissing';
  message: string;
}

/**
 * The listeners the platform team must provide when the routes attach to the Gateway itself:
 * undefined when every host has one, else what is missing, by name.
 */
export function missingListeners(gateway: GatewaySpec, ownerNamespace: string, live: GatewayObject, hosts: string[], namespaceLabels?: Record<string, string>): ListenerGap | undefined {
  const gwNs = gatewayNamespace(gateway, ownerNamespace);
  const gwName = `Gateway ${gwNs}/${gateway.parentRef.name}`;
  const section = gateway.parentRef.sectionName;
  const listeners = live.spec?.listeners ?? [];
  const candidates = section ? listeners.filter((l) => l.name === section) : listeners;
  if (section && candidates.length === 0) {
    return {
      reason: 'ListenerNotFound',
      message: `${gwName} has no listener named ${section} (spec.exposure.gateway.parentRef.sectionName; it has: ${listeners.map((l) => l.name).join(', ') || 'none'}): ask the platform team to add it, or name an existing one`,
    };
  }
  const missing: string[] = [];
  const refused: string[] = [];
  for (const host of hosts) {
    const https = candidates.filter((l) => l.protocol === 'HTTPS' && listenerHostMatches(l.hostname, host));
    if (https.length === 0) missing.push(host);
    else if (!https.some((l) => acceptsHTTPRoute(l) && namespaceAdmitted(l.allowedRoutes?.namespaces?.from, 'Same', l.allowedRoutes?.namespaces?.selector, gwNs, ownerNamespace, namespaceLabels))) refused.push(host);
  }
  if (missing.length === 0 && refused.length === 0) return undefined;
  const parts: string[] = [];
  if (missing.length > 0) {
    parts.push(`no HTTPS listener${section ? ` ${section}` : ''} on ${gwName} takes ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''}`);
  }
  if (refused.length > 0) {
    parts.push(`the HTTPS listeners on ${gwName} for ${refused.slice(0, 10).join(', ')} do not admit HTTPRoutes from namespace ${ownerNamespace} (allowedRoutes)`);
  }
  return {
    reason: 'ListenerMissing',
    message: `${parts.join('; ')}: the platform team must add an HTTPS listener for each host (its own hostname, or a wildcard such as *.${missing[0]?.split('.').slice(1).join('.') || 'example.com'}) with a certificate for it and allowedRoutes admitting namespace ${ownerNamespace}, or set allowedListeners on the Gateway so the operator adds its own through a ListenerSet`,
  };
}
