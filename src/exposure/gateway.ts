// Exposure through Gateway API (standard channel, gateway.networking.k8s.io/v1): one HTTPRoute
// per owner for its hosts, attached either to the owner's own ListenerSet (HTTPS listeners for
// its hosts with the cert-manager Secret it already has) or to the shared Gateway's listeners.
// Everything the operator writes lives in the owner's namespace and refers only to objects
// there (the Service, the Secret), so no ReferenceGrant is ever needed: a route reaches a
// Gateway elsewhere through the listener's allowedRoutes, a ListenerSet through the Gateway's
// allowedListeners, both decided by the platform team.
import { childMetadata } from '../builders/names.ts';
import { MAX_ALIASES } from '../api/maildomain.ts';
import { SERVICE_PORT_NUMBER, type ExposureBuilder, type ExposureInput } from './types.ts';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
export const GATEWAY_API_VERSION = `${GATEWAY_GROUP}/v1`;
/** The port of the HTTPS listeners the operator adds through a ListenerSet. */
export const HTTPS_LISTENER_PORT = 443;

/**
 * HTTPRoute timeouts (Extended support). A MAPI NotificationWait holds its request up to
 * 5 minutes ([MS-OXCMAPIHTTP] 3.1.4.4) while the server streams PENDING lines; an unset
 * `request` timeout is implementation-specific (Envoy Gateway: 15 s), so it is set, to the
 * same 600 s the ingress tuning uses. `backendRequest` must be no more than `request`
 * (https://gateway-api.sigs.k8s.io/reference/spec/#httproutetimeouts). The other paths get
 * the same: OAB downloads and EWS requests need no shorter one.
 */
export const ROUTE_TIMEOUTS = { request: '600s', backendRequest: '600s' } as const;

type GatewaySpec = NonNullable<ExposureInput['exposure']['gateway']>;

export interface ParentRef {
  group: typeof GATEWAY_GROUP;
  kind: 'Gateway' | 'ListenerSet';
  name: string;
  namespace?: string;
  sectionName?: string;
}

/** The parent the HTTPRoute attaches to, as written in spec.parentRefs. */
export function routeParentRef(gateway: GatewaySpec, input: Pick<ExposureInput, 'name' | 'attachment'>): ParentRef {
  if (input.attachment === 'ListenerSet') return { group: GATEWAY_GROUP, kind: 'ListenerSet', name: input.name };
  const { name, namespace, sectionName } = gateway.parentRef;
  return { group: GATEWAY_GROUP, kind: 'Gateway', name, ...(namespace ? { namespace } : {}), ...(sectionName ? { sectionName } : {}) };
}

/**
 * An HTTPRoute takes at most 16 hostnames (spec.hostnames maxItems) and a ListenerSet 64
 * listeners, while a MailDomain may have up to MAX_ALIASES + 1 autodiscover hosts: the hosts go
 * in chunks of 16, each with its own route (and ListenerSet), named <name>, <name>-1, ...
 */
export const HOSTS_PER_ROUTE = 16;
export const MAX_ROUTE_CHUNKS = Math.ceil((MAX_ALIASES + 1) / HOSTS_PER_ROUTE);
export const chunkName = (name: string, i: number): string => (i === 0 ? name : `${name}-${i}`);
export function hostChunks(hosts: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < hosts.length; i += HOSTS_PER_ROUTE) out.push(hosts.slice(i, i + HOSTS_PER_ROUTE));
  return out;
}

/** A listener name per host: host names are valid section names (lower-case DNS names). */
export const listenerNameFor = (host: string): string => host.toLowerCase();

export function desiredHTTPRoute(input: ExposureInput): object {
  const { owner, name, hosts, serviceName } = input;
  const gateway = requireGateway(input);
  const backendRefs = [{ name: serviceName, port: SERVICE_PORT_NUMBER }];
  const match = (path: string) => ({ path: { type: 'PathPrefix', value: path } });
  const mapi = input.paths.filter((p) => p === '/mapi');
  const others = input.paths.filter((p) => p !== '/mapi');
  // One rule for /mapi (the long polls) and one for the rest, so a reader sees at once which
  // timeout MAPI gets; today both carry the same.
  const rules = [
    ...(mapi.length > 0 ? [{ matches: mapi.map(match), backendRefs, timeouts: { ...ROUTE_TIMEOUTS } }] : []),
    ...(others.length > 0 ? [{ matches: others.map(match), backendRefs, timeouts: { ...ROUTE_TIMEOUTS } }] : []),
  ];
  return {
    apiVersion: GATEWAY_API_VERSION,
    kind: 'HTTPRoute',
    metadata: childMetadata(owner, name),
    spec: { parentRefs: [routeParentRef(gateway, input)], hostnames: [...hosts], rules },
  };
}

export function desiredListenerSet(input: ExposureInput): object {
  const { owner, name, hosts, tlsSecret } = input;
  const { parentRef } = requireGateway(input);
  return {
    apiVersion: GATEWAY_API_VERSION,
    kind: 'ListenerSet',
    metadata: childMetadata(owner, name),
    spec: {
      parentRef: { group: GATEWAY_GROUP, kind: 'Gateway', name: parentRef.name, ...(parentRef.namespace ? { namespace: parentRef.namespace } : {}) },
      listeners: hosts.map((host) => ({
        name: listenerNameFor(host),
        hostname: host,
        port: HTTPS_LISTENER_PORT,
        protocol: 'HTTPS',
        // The Secret is in the ListenerSet's own namespace: no ReferenceGrant needed.
        tls: { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: tlsSecret }] },
        // Only this namespace's routes (ours) may use these listeners.
        allowedRoutes: { namespaces: { from: 'Same' }, kinds: [{ group: GATEWAY_GROUP, kind: 'HTTPRoute' }] },
      })),
    },
  };
}

function requireGateway(input: ExposureInput): GatewaySpec {
  const gateway = input.exposure.gateway;
  if (!gateway) throw new Error(`${input.owner.kind} ${input.owner.metadata.namespace}/${input.owner.metadata.name}: the Gateway API exposure needs spec.exposure.gateway (its MapiServer's)`);
  return gateway;
}

export const gatewayExposure: ExposureBuilder = {
  kinds: ['HTTPRoute', 'ListenerSet'],
  build: (input) => hostChunks(input.hosts).flatMap((hosts, i) => {
    const chunk = { ...input, hosts, name: chunkName(input.name, i) };
    // The listeners first: a route attached to a ListenerSet that does not exist yet is
    // refused (NoMatchingParent) until it does.
    return [...(input.attachment === 'ListenerSet' ? [desiredListenerSet(chunk)] : []), desiredHTTPRoute(chunk)];
  }),
};
