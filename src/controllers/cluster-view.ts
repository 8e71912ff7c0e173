// What the three controllers read, gathered in one place: the informer caches, the objects
// parsed once per version, and the reverse indexes (server → domains, domain → mailboxes,
// host → claimants). Nothing here writes to the apiserver.
import type { FieldPacker, Informer, KubeObject, Manager } from '../kube/index.ts';
import { Indexer, objectKey } from '../kube/index.ts';
import { PARSED_SPEC, VALID_AS_IS, compactMailbox, sameFields } from './mailbox/cached-mailbox.ts';
import { PackedMailboxStore, mailboxDomainKey, packedMailboxStore } from './mailbox/mailbox-store.ts';
import { mailDomainStatusPacker } from './maildomain/packed-status.ts';
import { certificatePacker, httpRoutePacker, ingressPacker } from './packed-children.ts';
import { VersionTwins } from '../kube/version-twins.ts';
import type { MapiServer } from '../api/mapiserver.ts';
import type { MailDomain } from '../api/maildomain.ts';
import type { MailboxSpec } from '../api/mailbox.ts';
import type { MailboxView } from './mailbox/verdict.ts';
import { parseMailDomain, parseMailboxSpec, parseMapiServer, type ParseResult } from '../api/parse.ts';
import { autodiscoverHosts } from '../builders/hosts.ts';
import { adoptBuiltAccessData } from '../builders/access.ts';
import { claimHosts, type Claimant, type HostConflict } from '../policy/host-claims.ts';
import { isGranted, type Grant, type GrantPolicy, type Tenancy } from '../policy/grants.ts';
import { parseMailDomainGrantSpec } from '../api/grant.ts';
import {
  CERTIFICATES, CLUSTERISSUERS, CONFIGMAPS, DEPLOYMENTS, MAILDOMAINGRANTS, GATEWAYS, HTTPROUTES, INGRESSES, ISSUERS, LISTENERSETS, MAILBOXES, MAILDOMAINS, MANAGED_SELECTOR, MAPISERVERS,
  PODDISRUPTIONBUDGETS, SERVICES,
} from './resources.ts';
import { MAX_ROUTE_CHUNKS, chunkName, gatewayNamespace, type ExposureObserved, type GatewayObject, type ListenerSetObject, type RouteObject } from '../exposure/index.ts';
import type { MapiServerSpec } from '../api/mapiserver.ts';

export type { MailboxView };

/** "namespace/name": the informer's own key string for a cached object (objectKey). */
export const keyOf = (o: KubeObject): string => objectKey(o);
// Watching some namespaces, the operator caches their MailDomains twice (with and without status).
const mailDomainTwins = new VersionTwins();

/** The MailDomain informers' compact transform: when the MailDomains are cached twice, the
 *  second to take in a version shares the first's metadata and spec (VersionTwins). Named and
 *  shared: the manager tells informers apart by their transform, and both MailDomain caches
 *  must take the same one to stay one cache when every namespace is watched. (The status is
 *  kept apart, deflated: mailDomainStatusPacker.) */
export function compactMailDomain<T extends KubeObject>(obj: T): T {
  return mailDomainTwins.adopt(obj);
}

const claimantOf = (o: KubeObject): Claimant => ({
  namespace: o.metadata.namespace ?? '',
  name: o.metadata.name ?? '',
  ...(o.metadata.creationTimestamp ? { creationTimestamp: o.metadata.creationTimestamp } : {}),
});

/** Parse results cached per object version: the informer replaces an object on every change,
 *  so an object seen again is unchanged and is not validated twice. */
function memoParse<T>(parse: (o: unknown) => ParseResult<T>): (o: KubeObject) => ParseResult<T> {
  const cache = new WeakMap<object, ParseResult<T>>();
  return (o) => {
    let r = cache.get(o);
    if (!r) cache.set(o, (r = parse(o)));
    return r;
  };
}

/**
 * parseMailboxSpec once per spec, remembered on the cached object itself (and on the next
 * versions that keep the spec: derivedFromSpec, so a status write does not parse it again): at
 * 100,000 Mailboxes a WeakMap entry and a parsed copy of each spec were ~120 B a Mailbox. A
 * spec the schema passes unchanged (every Mailbox the apiserver defaulted) is its own parsed
 * value, frozen as the cache is read-only; only a spec that parses to something else keeps
 * its result.
 */
export function memoMailboxSpec(o: KubeObject): ParseResult<MailboxSpec> {
  const held = (o as unknown as { [PARSED_SPEC]?: ParseResult<MailboxSpec> | typeof VALID_AS_IS })[PARSED_SPEC];
  if (held === VALID_AS_IS) return { ok: true, value: o.spec as MailboxSpec };
  if (held !== undefined) return held;
  const r = parseMailboxSpec(o.spec);
  const asIs = r.ok && sameFields(r.value, o.spec);
  if (Object.isExtensible(o) || Object.hasOwn(o, PARSED_SPEC)) {
    if (asIs) Object.freeze(o.spec);
    Object.defineProperty(o, PARSED_SPEC, { value: asIs ? VALID_AS_IS : r });
  }
  return asIs ? { ok: true, value: o.spec as MailboxSpec } : r;
}

export class ClusterView {
  readonly servers: Informer<KubeObject>;
  readonly domains: Informer<KubeObject>;
  /** Every namespace, whatever the operator's shard: host ownership is decided cluster-wide. */
  readonly allServers: Informer<KubeObject>;
  readonly allDomains: Informer<KubeObject>;
  readonly mailboxes: Informer<KubeObject>;
  readonly deployments: Informer<KubeObject>;
  readonly services: Informer<KubeObject>;
  readonly configMaps: Informer<KubeObject>;
  readonly ingresses: Informer<KubeObject>;
  readonly certificates: Informer<KubeObject>;
  readonly pdbs: Informer<KubeObject>;
  readonly issuers: Informer<KubeObject>;
  /** Only while ClusterIssuers are allowed (the chart grants reading them only then). */
  readonly clusterIssuers: Informer<KubeObject> | undefined;
  /** Gateway API: only when the cluster serves it (a watch on a missing kind never syncs). */
  readonly gatewayApi: boolean;
  readonly httpRoutes: Informer<KubeObject> | undefined;
  readonly listenerSets: Informer<KubeObject> | undefined;
  /** Shared Gateways live in the platform team's namespaces: every namespace. */
  readonly gateways: Informer<KubeObject> | undefined;
  /** MailDomainGrants (cluster-scoped): only with tenancy Granted. */
  readonly grants: Informer<KubeObject> | undefined;
  readonly grantPolicy: GrantPolicy;

  readonly parseServer = memoParse<MapiServer>(parseMapiServer);
  readonly parseDomain = memoParse<MailDomain>(parseMailDomain);
  readonly parseMailboxSpec = memoMailboxSpec;

  readonly #domainsByServer: Indexer<KubeObject>;
  /** The Mailbox informer's store: its Mailboxes, and which declare a domain or an address. */
  readonly #mailboxStore: PackedMailboxStore;
  // Per MailDomain key, a number that changes whenever its Mailboxes do (one added, removed,
  // its spec changed or its deletion started; not a status write): what a server derived
  // from a domain's Mailboxes at one revision still holds while it stays. One counter for
  // all, so a number is never reused; a domain without Mailboxes has no entry (revision 0).
  readonly #mailboxRevisions = new Map<string, number>();
  #lastMailboxRevision = 0;
  readonly #serversByExternalHost: Indexer<KubeObject>;
  readonly #domainsByAutodiscoverHost: Indexer<KubeObject>;
  readonly #domainsByIssuer: Indexer<KubeObject>;
  readonly #serversByIssuer: Indexer<KubeObject>;

  constructor(manager: Manager, options: { gatewayApi?: boolean; tenancy?: Tenancy; allowClusterIssuers?: boolean } = {}) {
    this.clusterIssuers = options.allowClusterIssuers === false ? undefined : manager.informer(CLUSTERISSUERS, { namespaces: [] });
    this.grants = options.tenancy === 'Granted' ? manager.informer(MAILDOMAINGRANTS, { namespaces: [] }) : undefined;
    const parseGrant = memoParse<Grant>((o) => {
      const obj = o as KubeObject;
      const p = parseMailDomainGrantSpec(obj.spec);
      return p.ok ? { ok: true, value: { name: obj.metadata.name ?? '', ...p.value } } : { ok: false, errors: [p.message], message: p.message };
    });
    // An invalid grant grants nothing (the apiserver refuses invalid ones anyway).
    const grantList = (): Grant[] => (this.grants?.list() ?? []).flatMap((o) => { const p = parseGrant(o); return p.ok ? [p.value] : []; });
    this.grantPolicy = { tenancy: options.tenancy ?? 'Open', grants: grantList };
    this.servers = manager.informer(MAPISERVERS, { useLabelSelector: true });
    this.domains = manager.informer(MAILDOMAINS, { compact: compactMailDomain, pack: mailDomainStatusPacker });
    this.allServers = manager.informer(MAPISERVERS, { namespaces: [] });
    // Watching some namespaces, the cluster-wide MailDomains are a second cache of the same
    // objects, read only for who declared which host: no status (at a hoster's size, every
    // check row of every MailDomain twice otherwise). Watching all, it is the same informer.
    this.allDomains = manager.informer(MAILDOMAINS, { namespaces: [], withoutStatus: !manager.watchesAllNamespaces, compact: compactMailDomain, pack: mailDomainStatusPacker });
    this.mailboxes = manager.informer(MAILBOXES, { compact: compactMailbox, store: packedMailboxStore });
    const owned = (ref: typeof DEPLOYMENTS, pack?: FieldPacker) => manager.informer<KubeObject>(ref, { labelSelector: MANAGED_SELECTOR, ...(pack ? { pack } : {}) });
    this.deployments = owned(DEPLOYMENTS);
    this.services = owned(SERVICES);
    // Its access lists arrive as the MapiServer controller built them: the cache keeps the
    // builder's strings rather than a second copy (adoptBuiltAccessData).
    this.configMaps = manager.informer<KubeObject>(CONFIGMAPS, { labelSelector: MANAGED_SELECTOR, compact: adoptBuiltAccessData });
    // One of each per MailDomain: spec and status kept deflated (packed-children.ts).
    this.ingresses = owned(INGRESSES, ingressPacker);
    this.certificates = owned(CERTIFICATES, certificatePacker);
    this.pdbs = owned(PODDISRUPTIONBUDGETS);
    this.issuers = manager.informer(ISSUERS);
    this.gatewayApi = options.gatewayApi ?? false;
    this.httpRoutes = this.gatewayApi ? owned(HTTPROUTES, httpRoutePacker) : undefined;
    this.listenerSets = this.gatewayApi ? owned(LISTENERSETS) : undefined;
    this.gateways = this.gatewayApi ? manager.informer(GATEWAYS, { namespaces: [] }) : undefined;

    const spec = (o: KubeObject) => (o.spec ?? {}) as Record<string, unknown>;
    this.#domainsByServer = new Indexer(this.domains, (o) => {
      const ref = spec(o).serverRef;
      return typeof ref === 'string' ? [`${o.metadata.namespace}/${ref}`] : [];
    });
    const domainOfMailbox = (o: KubeObject): string | undefined => {
      const ref = spec(o).domainRef;
      return typeof ref === 'string' ? mailboxDomainKey(o.metadata.namespace, ref) : undefined;
    };
    // The store indexes its Mailboxes by domain itself (before any handler sees an event).
    const mailboxStore = this.mailboxes.store;
    if (!(mailboxStore instanceof PackedMailboxStore)) throw new Error('ClusterView: the Mailbox informer must keep its Mailboxes in a PackedMailboxStore (the informer request\'s store)');
    this.#mailboxStore = mailboxStore;
    const bump = (o: KubeObject) => {
      const d = domainOfMailbox(o);
      if (d === undefined) return;
      if (mailboxStore.countOfDomain(d) === 0) this.#mailboxRevisions.delete(d);
      else this.#mailboxRevisions.set(d, ++this.#lastMailboxRevision);
    };
    this.mailboxes.addHandlers({
      onAdd: bump,
      onUpdate: (before, o) => {
        if (before.metadata.generation === o.metadata.generation && domainOfMailbox(before) === domainOfMailbox(o) &&
          (before.metadata.deletionTimestamp === undefined) === (o.metadata.deletionTimestamp === undefined)) return;
        bump(before);
        bump(o);
      },
      onDelete: bump,
    });
    this.#serversByExternalHost = new Indexer(this.allServers, (o) => {
      const p = this.parseServer(o);
      return p.ok && !o.metadata.deletionTimestamp ? [p.value.spec.externalHost] : [];
    });
    this.#domainsByAutodiscoverHost = new Indexer(this.allDomains, (o) => {
      const p = this.parseDomain(o);
      return p.ok && !o.metadata.deletionTimestamp ? autodiscoverHosts(p.value.spec).map((h) => h.host) : [];
    });
    const issuerIndex = (o: KubeObject): string[] => {
      const ref = (spec(o).tls as { issuerRef?: { kind?: string; name?: string } } | undefined)?.issuerRef;
      return ref?.kind === 'Issuer' && ref.name ? [`${o.metadata.namespace}/${ref.name}`] : [];
    };
    this.#domainsByIssuer = new Indexer(this.domains, issuerIndex);
    this.#serversByIssuer = new Indexer(this.servers, issuerIndex);
  }

  /** Whether a ClusterIssuer exists; undefined when it cannot be known (not watched, not synced). */
  clusterIssuerExists(name: string): boolean | undefined {
    const informer = this.clusterIssuers;
    return informer?.hasSynced() ? informer.get(undefined, name) !== undefined : undefined;
  }

  /** Whether the issuer an issuerRef names exists; undefined when it cannot be known. */
  issuerExists(namespace: string, ref: { kind: 'Issuer' | 'ClusterIssuer'; name: string } | undefined): boolean | undefined {
    if (!ref) return undefined;
    if (ref.kind === 'ClusterIssuer') return this.clusterIssuerExists(ref.name);
    return this.issuers.hasSynced() ? this.issuers.get(namespace, ref.name) !== undefined : undefined;
  }

  /** A watch mapping: a ClusterIssuer appearing or going wakes the objects of `target` naming it. */
  clusterIssuerWatch(target: Informer<KubeObject>, refOf: (o: KubeObject) => { kind?: string; name?: string } | undefined): { informer: Informer<KubeObject>; map: (obj: KubeObject) => string[] } | undefined {
    if (!this.clusterIssuers) return undefined;
    return { informer: this.clusterIssuers, map: (obj) => target.list().filter((o) => { const r = refOf(o); return r?.kind === 'ClusterIssuer' && r.name === obj.metadata.name; }).map(keyOf) };
  }

  /** Keys of the MailDomains whose spec.serverRef names this server (valid or not). */
  domainKeysOf(serverKey: string): string[] {
    return this.#domainsByServer.keys(serverKey);
  }

  /** The server keys a MailDomain pointed at, now and before its last change. */
  serverKeysOfDomain(domainKey: string): string[] {
    return this.#domainsByServer.valuesOf(domainKey);
  }

  /** The Mailbox informer's store, for lookups by domain and by address. */
  get mailboxStore(): PackedMailboxStore {
    return this.#mailboxStore;
  }

  mailboxKeysOf(domainKey: string): string[] {
    return this.#mailboxStore.keysOfDomain(domainKey);
  }

  /** Changes whenever the Mailboxes of this MailDomain do (see #mailboxRevisions); 0: none. */
  mailboxRevision(domainKey: string): number {
    return this.#mailboxRevisions.get(domainKey) ?? 0;
  }

  domainKeysUsingIssuer(issuerKey: string): string[] {
    return this.#domainsByIssuer.keys(issuerKey);
  }

  serverKeysUsingIssuer(issuerKey: string): string[] {
    return this.#serversByIssuer.keys(issuerKey);
  }

  /** Servers (any namespace) declaring this external host. */
  serverKeysClaiming(host: string): string[] {
    return this.#serversByExternalHost.keys(host);
  }

  /** MailDomains (any namespace) declaring this autodiscover host. */
  domainKeysClaiming(host: string): string[] {
    return this.#domainsByAutodiscoverHost.keys(host);
  }

  externalHostClaim(server: MapiServer): { owned: boolean; owner?: { namespace: string; name: string } } {
    // Only claimants granted the host compete for it (tenancy Granted): an ungranted one
    // never holds it, and a host freed by deletion passes to the next granted claimant.
    const claimants = (host: string) => this.serverKeysClaiming(host).flatMap((k) => {
      const o = this.allServers.getByKey(k);
      return o && isGranted(this.grantPolicy, o.metadata.namespace ?? '', host) ? [claimantOf(o)] : [];
    });
    const r = claimHosts(claimantOf(server as unknown as KubeObject), [server.spec.externalHost], claimants);
    return r.conflicts[0] ? { owned: false, owner: r.conflicts[0].owner } : { owned: true };
  }

  autodiscoverClaims(md: MailDomain): { owned: string[]; conflicts: HostConflict[] } {
    const claimants = (host: string) => this.domainKeysClaiming(host).flatMap((k) => {
      const o = this.allDomains.getByKey(k);
      return o && isGranted(this.grantPolicy, o.metadata.namespace ?? '', host) ? [claimantOf(o)] : [];
    });
    return claimHosts(claimantOf(md as unknown as KubeObject), autodiscoverHosts(md.spec).map((h) => h.host), claimants);
  }

  /**
   * A watch mapping for a controller: a MailDomainGrant that appears, changes or goes wakes
   * every object of `target`. Not only those in the namespaces it names: a claimant gaining or
   * losing a grant changes who owns a contested host, so its rivals in other namespaces must
   * look again too. Grants change rarely; an unchanged object costs no write (drift.ts).
   */
  grantWatch(target: Informer<KubeObject>): { informer: Informer<KubeObject>; map: (obj: KubeObject) => string[] } | undefined {
    return this.grants ? { informer: this.grants, map: () => target.keys() } : undefined;
  }

  /** A parsed, live (not deleting) MapiServer. */
  server(namespace: string, name: string): MapiServer | undefined {
    const o = this.servers.get(namespace, name) ?? this.allServers.get(namespace, name);
    if (!o || o.metadata.deletionTimestamp) return undefined;
    const p = this.parseServer(o);
    return p.ok ? p.value : undefined;
  }

  /** What the exposure report needs: the parent Gateway and our route and ListenerSet named `name`. */
  exposureObserved(exposure: MapiServerSpec['exposure'], namespace: string, name: string): ExposureObserved {
    // Every name our exposure may use: the base name and the host chunks of Gateway API.
    const names = Array.from({ length: MAX_ROUTE_CHUNKS }, (_, i) => chunkName(name, i));
    const found = (informer: Informer<KubeObject> | undefined) => names.flatMap((n) => { const o = informer?.get(namespace, n); return o ? [o] : []; });
    const routes = found(this.httpRoutes);
    const listenerSets = found(this.listenerSets);
    const existing = [
      ...found(this.ingresses).map((o) => ({ kind: 'Ingress' as const, name: o.metadata.name ?? '' })),
      ...routes.map((o) => ({ kind: 'HTTPRoute' as const, name: o.metadata.name ?? '' })),
      ...listenerSets.map((o) => ({ kind: 'ListenerSet' as const, name: o.metadata.name ?? '' })),
    ];
    if (!exposure.gateway) return { gatewayApi: this.gatewayApi, existing };
    const gateway = this.gateways?.get(gatewayNamespace(exposure.gateway, namespace), exposure.gateway.parentRef.name) as GatewayObject | undefined;
    return { gatewayApi: this.gatewayApi, existing, ...(gateway ? { gateway } : {}), routes: routes as RouteObject[], listenerSets: listenerSets as ListenerSetObject[] };
  }

  /** Keys of the MapiServers (this shard) whose exposure names this Gateway. */
  serverKeysUsingGateway(gatewayNs: string, gatewayName: string): string[] {
    const out: string[] = [];
    for (const o of this.servers.list()) {
      const p = this.parseServer(o);
      const gw = p.ok ? p.value.spec.exposure.gateway : undefined;
      if (gw && gw.parentRef.name === gatewayName && gatewayNamespace(gw, o.metadata.namespace ?? '') === gatewayNs) out.push(keyOf(o));
    }
    return out;
  }

  /** Valid Mailboxes referencing a MailDomain. */
  mailboxViews(domainKey: string): MailboxView[] {
    const views: MailboxView[] = [];
    for (const k of this.mailboxKeysOf(domainKey)) {
      const o = this.mailboxes.getByKey(k);
      if (!o || o.metadata.deletionTimestamp) continue;
      const p = this.parseMailboxSpec(o);
      if (p.ok) views.push({ namespace: o.metadata.namespace ?? '', name: o.metadata.name ?? '', ...(o.metadata.creationTimestamp ? { creationTimestamp: o.metadata.creationTimestamp } : {}), spec: p.value });
    }
    return views;
  }
}
