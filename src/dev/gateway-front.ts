// A STAND-IN for a Gateway API implementation in end-to-end tests (no real Gateway
// controller can be built here: Traefik v3's module needs replace directives and module
// versions the Go proxy does not serve). It plays the controller's part the way the Gateway API
// spec (standard channel, v1.6) describes it, for Gateways of its own GatewayClass only:
// - ListenerSets: Accepted when their Gateway's allowedListeners admits their namespace
//   (Same, All; a Selector is refused: the stand-in reads no namespace labels), Programmed when every listener's
//   certificate Secret exists in the ListenerSet's namespace (else InvalidCertificateRef);
// - HTTPRoutes, per parentRef (a Gateway, or a ListenerSet, optionally one listener of it):
//   Accepted when some listener admits the route's namespace (allowedRoutes, default Same)
//   and its hostname intersects the route's hostnames (exact, or "*.example.com" for any host
//   below), else NotAllowedByListeners / NoMatchingListenerHostname / NoMatchingParent;
//   ResolvedRefs when the backend Services exist in the route's namespace (BackendNotFound,
//   or RefNotPermitted for another namespace: no ReferenceGrant support);
// - routeFor(host): what the HTTPS front (ingress-front.ts) serves for a host: the listener's
//   certificate and the route's path prefixes and Services.
// Statuses are written with a JSON merge patch as field manager gateway-standin.
import { KubeClient, Informer, loadKubeConfig, patchStatus, type KubeObject, type ResourceRef } from '../kube/index.ts';
import { listenerHostMatches } from '../exposure/gateway-attachment.ts';

export const STANDIN_GATEWAY_CLASS = 'mapi-operator-standin';
export const STANDIN_CONTROLLER = 'mapi-operator.io/gateway-standin';

const gw = (plural: string, kind: string): ResourceRef => ({ group: 'gateway.networking.k8s.io', version: 'v1', plural, kind, namespaced: true });
const GATEWAYS = gw('gateways', 'Gateway');
const LISTENERSETS = gw('listenersets', 'ListenerSet');
const HTTPROUTES = gw('httproutes', 'HTTPRoute');

interface Listener {
  name: string;
  hostname?: string;
  protocol?: string;
  tls?: { certificateRefs?: { name: string; namespace?: string }[] };
  allowedRoutes?: { namespaces?: { from?: string } };
}
interface GatewayObj extends KubeObject { spec?: { gatewayClassName?: string; listeners?: Listener[]; allowedListeners?: { namespaces?: { from?: string } } } }
interface ListenerSetObj extends KubeObject { spec?: { parentRef?: { name: string; namespace?: string }; listeners?: Listener[] } }
interface ParentRef { group?: string; kind?: string; name: string; namespace?: string; sectionName?: string }
interface RouteObj extends KubeObject {
  spec?: { parentRefs?: ParentRef[]; hostnames?: string[]; rules?: { matches?: { path?: { value?: string } }[]; backendRefs?: { name: string; namespace?: string }[] }[] };
}

/** A listener with the namespace of the object it was declared in (the Gateway or a ListenerSet). */
interface OwnedListener { listener: Listener; namespace: string }

export interface GatewayRoute {
  namespace: string;
  secretNamespace: string;
  secretName: string;
  paths: { path: string; service: string }[];
}

export interface GatewayStandIn {
  routeFor(host: string): GatewayRoute | undefined;
  stop(): Promise<void>;
}

type Cond = { type: string; status: 'True' | 'False'; reason: string; message: string };
const cond = (type: string, ok: boolean, reason: string, message: string): Cond => ({ type, status: ok ? 'True' : 'False', reason, message });

export async function startGatewayStandIn(opts: { kubeconfig: string }): Promise<GatewayStandIn> {
  const client = new KubeClient(loadKubeConfig(opts.kubeconfig));
  const informers = {
    gateways: new Informer<GatewayObj>({ client, resource: GATEWAYS }),
    listenerSets: new Informer<ListenerSetObj>({ client, resource: LISTENERSETS }),
    routes: new Informer<RouteObj>({ client, resource: HTTPROUTES }),
    services: new Informer<KubeObject>({ client, resource: { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true } }),
    secrets: new Informer<KubeObject>({ client, resource: { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true } }),
  };
  for (const i of Object.values(informers)) i.start();
  await Promise.all(Object.values(informers).map((i) => i.waitForSync(AbortSignal.timeout(30_000))));

  const ours = (g: GatewayObj | undefined): g is GatewayObj => g?.spec?.gatewayClassName === STANDIN_GATEWAY_CLASS;
  const admits = (from: string | undefined, fallback: string, ownerNs: string, ns: string) => {
    const rule = from ?? fallback;
    return rule === 'All' || (rule === 'Same' && ownerNs === ns);
  };

  function listenerSetVerdict(ls: ListenerSetObj): { accepted: Cond; gateway?: GatewayObj } {
    const ref = ls.spec?.parentRef;
    const g = ref ? informers.gateways.get(ref.namespace ?? ls.metadata.namespace, ref.name) : undefined;
    if (!ours(g)) return { accepted: cond('Accepted', false, 'NoMatchingParent', `no Gateway ${ref?.namespace ?? ls.metadata.namespace}/${ref?.name} of class ${STANDIN_GATEWAY_CLASS}`) };
    const from = g.spec?.allowedListeners?.namespaces?.from;
    if (from === 'Selector') return { accepted: cond('Accepted', false, 'NotAllowed', 'the stand-in does not implement allowedListeners Selector'), gateway: g };
    if (!admits(from, 'None', g.metadata.namespace ?? '', ls.metadata.namespace ?? '')) {
      return { accepted: cond('Accepted', false, 'NotAllowed', `Gateway ${g.metadata.namespace}/${g.metadata.name} allowedListeners (${from ?? 'None'}) does not admit namespace ${ls.metadata.namespace}`), gateway: g };
    }
    return { accepted: cond('Accepted', true, 'Accepted', 'attached'), gateway: g };
  }

  const secretOf = (l: OwnedListener) => {
    const ref = l.listener.tls?.certificateRefs?.[0];
    return ref ? { namespace: ref.namespace ?? l.namespace, name: ref.name } : undefined;
  };

  /** The listeners a parentRef of a route in `routeNs` points at, or why none. */
  function parentListeners(ref: ParentRef, routeNs: string): { listeners: OwnedListener[] } | { refused: Cond } {
    const ns = ref.namespace ?? routeNs;
    let all: OwnedListener[];
    if ((ref.kind ?? 'Gateway') === 'ListenerSet') {
      const ls = informers.listenerSets.get(ns, ref.name);
      if (!ls || !listenerSetVerdict(ls).accepted.status.startsWith('T')) return { refused: cond('Accepted', false, 'NoMatchingParent', `ListenerSet ${ns}/${ref.name} is missing or not attached to a Gateway`) };
      all = (ls.spec?.listeners ?? []).map((listener) => ({ listener, namespace: ns }));
    } else {
      const g = informers.gateways.get(ns, ref.name);
      if (!ours(g)) return { refused: cond('Accepted', false, 'NoMatchingParent', `no Gateway ${ns}/${ref.name} of class ${STANDIN_GATEWAY_CLASS}`) };
      all = (g.spec?.listeners ?? []).map((listener) => ({ listener, namespace: ns }));
    }
    const named = ref.sectionName ? all.filter((l) => l.listener.name === ref.sectionName) : all;
    if (named.length === 0) return { refused: cond('Accepted', false, 'NoMatchingParent', `no listener named ${ref.sectionName}`) };
    return { listeners: named };
  }

  function routeVerdict(route: RouteObj, ref: ParentRef): { conditions: Cond[]; attached: OwnedListener[] } {
    const routeNs = route.metadata.namespace ?? '';
    const parent = parentListeners(ref, routeNs);
    const resolved = resolvedRefs(route);
    if ('refused' in parent) return { conditions: [parent.refused, resolved], attached: [] };
    const admitted = parent.listeners.filter((l) => admits(l.listener.allowedRoutes?.namespaces?.from, 'Same', l.namespace, routeNs));
    if (admitted.length === 0) return { conditions: [cond('Accepted', false, 'NotAllowedByListeners', `no listener admits HTTPRoutes from namespace ${routeNs}`), resolved], attached: [] };
    const hostnames = route.spec?.hostnames ?? [];
    const matching = admitted.filter((l) => hostnames.length === 0 || hostnames.some((h) => listenerHostMatches(l.listener.hostname, h) || listenerHostMatches(h, l.listener.hostname ?? h)));
    if (matching.length === 0) return { conditions: [cond('Accepted', false, 'NoMatchingListenerHostname', `no listener hostname matches ${hostnames.join(', ')}`), resolved], attached: [] };
    return { conditions: [cond('Accepted', true, 'Accepted', 'accepted by the stand-in'), resolved], attached: matching };
  }

  function resolvedRefs(route: RouteObj): Cond {
    for (const rule of route.spec?.rules ?? []) {
      for (const b of rule.backendRefs ?? []) {
        if (b.namespace && b.namespace !== route.metadata.namespace) return cond('ResolvedRefs', false, 'RefNotPermitted', `backend ${b.namespace}/${b.name} is in another namespace (the stand-in has no ReferenceGrant support)`);
        if (!informers.services.get(route.metadata.namespace, b.name)) return cond('ResolvedRefs', false, 'BackendNotFound', `Service ${route.metadata.namespace}/${b.name} not found`);
      }
    }
    return cond('ResolvedRefs', true, 'ResolvedRefs', 'all references resolved');
  }

  // Writes: only when the status the stand-in would write differs from the stored one.
  const written = new Map<string, string>();
  async function write(ref: ResourceRef, o: KubeObject, status: unknown): Promise<void> {
    const key = `${ref.kind}/${o.metadata.namespace}/${o.metadata.name}`;
    const fingerprint = JSON.stringify([o.metadata.generation, status]);
    if (written.get(key) === fingerprint) return;
    const stamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const withTimes = JSON.parse(JSON.stringify(status), (k, v) => (v && typeof v === 'object' && 'reason' in v && 'status' in v ? { ...v, lastTransitionTime: stamp, observedGeneration: o.metadata.generation } : v));
    try {
      await patchStatus(client, ref, o.metadata.namespace, o.metadata.name ?? '', withTimes, { fieldManager: 'gateway-standin', timeoutMs: 10_000 });
      written.set(key, fingerprint);
    } catch {
      // Deleted meanwhile, or a conflict: the next event writes again.
    }
  }

  async function reconcileAll(): Promise<void> {
    for (const ls of informers.listenerSets.list()) {
      const { accepted } = listenerSetVerdict(ls);
      const listeners = (ls.spec?.listeners ?? []).map((listener) => {
        const s = secretOf({ listener, namespace: ls.metadata.namespace ?? '' });
        const ok = s !== undefined && s.namespace === ls.metadata.namespace && informers.secrets.get(s.namespace, s.name) !== undefined;
        return {
          name: listener.name, attachedRoutes: 0,
          supportedKinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }],
          conditions: [ok ? cond('ResolvedRefs', true, 'ResolvedRefs', 'certificate found') : cond('ResolvedRefs', false, 'InvalidCertificateRef', `Secret ${s?.namespace}/${s?.name} not found`)],
        };
      });
      const programmed = accepted.status === 'True' && listeners.every((l) => l.conditions[0]!.status === 'True');
      await write(LISTENERSETS, ls, {
        conditions: [accepted, cond('Programmed', programmed, programmed ? 'Programmed' : 'Invalid', programmed ? 'programmed' : 'a listener is not ready')],
        listeners,
      });
    }
    for (const route of informers.routes.list()) {
      const parents = (route.spec?.parentRefs ?? []).filter((ref) => {
        // Only parents the stand-in implements: its own Gateways, and ListenerSets attached to them.
        const ns = ref.namespace ?? route.metadata.namespace;
        if ((ref.kind ?? 'Gateway') === 'Gateway') return ours(informers.gateways.get(ns, ref.name));
        const ls = informers.listenerSets.get(ns, ref.name);
        return !ls || ours(listenerSetVerdict(ls).gateway);
      });
      if (parents.length === 0) continue;
      await write(HTTPROUTES, route, {
        parents: parents.map((ref) => ({ parentRef: ref, controllerName: STANDIN_CONTROLLER, conditions: routeVerdict(route, ref).conditions })),
      });
    }
  }

  // Any change anywhere: look at everything again (tests hold a handful of objects).
  let timer: NodeJS.Timeout | undefined;
  let running = Promise.resolve();
  const schedule = () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      running = running.then(reconcileAll, reconcileAll);
    }, 100);
  };
  const unsubscribe = Object.values(informers).map((i) => (i as Informer<KubeObject>).addHandlers({ onAdd: schedule, onUpdate: schedule, onDelete: schedule }));
  schedule();

  return {
    routeFor(host) {
      for (const route of informers.routes.list()) {
        for (const ref of route.spec?.parentRefs ?? []) {
          const v = routeVerdict(route, ref);
          const listener = v.attached.find((l) => listenerHostMatches(l.listener.hostname, host) && (route.spec?.hostnames ?? [host]).some((h) => h === host || listenerHostMatches(h, host)));
          const secret = listener && secretOf(listener);
          if (!listener || !secret) continue;
          const paths = (route.spec?.rules ?? []).flatMap((r) => (r.matches ?? []).map((m) => ({ path: m.path?.value ?? '/', service: r.backendRefs?.[0]?.name ?? '' })));
          return { namespace: route.metadata.namespace ?? '', secretNamespace: secret.namespace, secretName: secret.name, paths };
        }
      }
      return undefined;
    },
    async stop() {
      if (timer) clearTimeout(timer);
      for (const u of unsubscribe) u();
      await running;
      await Promise.all(Object.values(informers).map((i) => i.stop()));
    },
  };
}
