// End to end with spec.exposure.gateway: operator process + control plane with the Gateway
// API standard-channel CRDs + cert-manager's controller + BIND + the HTTPS front, whose
// Gateway API side is a STAND-IN controller (src/dev/gateway-front.ts: no real Gateway
// implementation builds from the Go module proxy here). The gate behaves as with Ingress: a
// held first rollout naming the blocking domain, rolled out once it is published; a route the
// Gateway refuses is a reason on the MapiServer.
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import assert from 'node:assert/strict';
import { freshNamespace } from '../../src/dev/kube.ts';
import { startOperator, type OperatorProcess } from '../../src/dev/operator.ts';
import { waitFor } from '../../src/dev/wait.ts';
import { STANDIN_CONTROLLER, STANDIN_GATEWAY_CLASS } from '../../src/dev/gateway-front.ts';
import { e2eDomain, e2eServer, startWorld, toFront, type World, type Zones } from '../../src/dev/world.ts';

const ns = 'e2e-gateway';
const platform = 'e2e-gateway-platform';
let world: World;
let operator: OperatorProcess;

type Cond = { type: string; status: string; reason: string; message: string };
type Obj = { metadata: { generation: number }; status?: { conditions?: Cond[]; rollout?: { state: string }; domains?: { passing: number; blocking?: string[] }; exposure?: { kind: string; attachment?: string; parent?: string } } };
type Dep = { spec: { replicas: number }; status?: { readyReplicas?: number } };
type Route = { spec: { parentRefs: { kind: string; name: string; namespace?: string }[]; hostnames: string[]; rules: { matches: { path: { value: string } }[]; timeouts?: { request?: string; backendRequest?: string } }[] }; status?: { parents?: { controllerName: string; conditions: Cond[] }[] } };
type ListenerSet = { spec: { parentRef: { name: string; namespace?: string }; listeners: { hostname: string; protocol: string; tls: { certificateRefs: { name: string }[] } }[] } };

const ALL = ['gw-hoster.test', 'gwa.test', 'gwb.test', 'gwc.test', 'gw-closed.test'];
let published = new Set(['gwa.test', 'gwb.test']);
const zones = (): Zones => Object.fromEntries(ALL.map((d) => [d, [...toFront('mail'), ...(published.has(d) ? toFront('autodiscover') : [])]]));

const get = <T = Obj>(kind: string, name: string, namespace = ns) => world.k.tryGet<T>(kind, namespace, name);
const cond = async (kind: string, name: string, type: string) => (await get(kind, name))?.status?.conditions?.find((c) => c.type === type);
const waitCond = (kind: string, name: string, type: string, want: (c: Cond) => boolean, describe: string, timeoutMs = 120_000) =>
  waitFor(async () => {
    const c = await cond(kind, name, type);
    return c && want(c) ? c : undefined;
  }, { describe: `${kind} ${name}: ${describe}`, timeoutMs, intervalMs: 500 });

/** The certificate the front presents for a host (TLS handshake only, trusting the test CA). */
function peerCertificate(host: string): Promise<tls.PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: world.front.address, port: world.front.httpsPort, servername: host, ca: world.caPem, timeout: 10_000 }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve(cert);
    });
    socket.once('error', reject);
    socket.once('timeout', () => socket.destroy(new Error(`TLS handshake with the front for ${host} timed out`)));
  });
}

/** The platform team's shared Gateway, of the stand-in's class. */
function gateway(name: string, spec: Record<string, unknown>) {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name, namespace: platform }, spec: { gatewayClassName: STANDIN_GATEWAY_CLASS, ...spec } };
}

before(async () => {
  world = await startWorld(zones());
  await freshNamespace(world.k, ns);
  await freshNamespace(world.k, platform);
  await world.publishCa(ns);
  // "edge" lets every namespace attach ListenerSets: the operator adds its own HTTPS listeners.
  await world.k.apply(gateway('edge', {
    allowedListeners: { namespaces: { from: 'All' } },
    listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }],
  }));
  // "closed" allows no ListenerSet and has one HTTPS listener for its own namespace only.
  await world.k.apply(gateway('closed', {
    listeners: [{ name: 'https', port: 443, protocol: 'HTTPS', hostname: '*.gw-closed.test', tls: { mode: 'Terminate', certificateRefs: [{ name: 'wildcard-tls' }] } }],
  }));
  operator = await startOperator({ kubeconfig: world.kubeconfig, namespaces: [ns], name: 'e2e-gateway', args: [...world.operatorArgs, '--progress-deadline', '25s'] });
});

after(async () => {
  await operator?.stop();
  await world?.k(['delete', 'namespace', ns, platform, '--wait=false']);
  await world?.stop();
});

describe('spec.exposure.gateway: one MapiServer, many MailDomains behind a shared Gateway', () => {
  const nameserver = () => world.dns.nameserver;
  const server = (extra: Record<string, unknown> = {}) =>
    e2eServer({ name: 'hoster', namespace: ns, externalHost: 'mail.gw-hoster.test', nameserver: nameserver(), gateway: { name: 'edge', namespace: platform }, ...extra });

  test('the first rollout is held naming the unpublished domain; the others are Ready through their ListenerSets', async () => {
    await world.k.apply(server());
    for (const d of ['gwa', 'gwb', 'gwc']) await world.k.apply(e2eDomain({ name: d, namespace: ns, server: 'hoster', domain: `${d}.test` }));

    const held = await waitFor(async () => {
      const s = await get('mapiserver', 'hoster');
      const c = s?.status?.conditions?.find((x) => x.type === 'RolloutHeld');
      return c?.status === 'True' && c.reason === 'DomainsNotReady' && s?.status?.domains?.passing === 2 ? { c, s } : undefined;
    }, { describe: 'RolloutHeld=True naming gwc.test, 2 of 3 passing', timeoutMs: 180_000, intervalMs: 500 });
    assert.match(held.c.message, /gwc\.test/);
    assert.deepEqual(held.s.status?.domains?.blocking, ['gwc.test']);
    assert.equal((await get<Dep>('deployment', 'hoster-mapi'))?.spec.replicas, 0, 'held at 0 replicas');
    assert.deepEqual(held.s.status?.exposure, { kind: 'Gateway', parent: `${platform}/edge`, attachment: 'ListenerSet' });

    // The server's route: its host, the four paths, long timeouts, on its own ListenerSet.
    const route = await get<Route>('httproute', 'hoster-mapi');
    assert.ok(route, 'HTTPRoute hoster-mapi');
    assert.deepEqual(route.spec.hostnames, ['mail.gw-hoster.test']);
    assert.deepEqual(route.spec.parentRefs.map((p) => [p.kind, p.name]), [['ListenerSet', 'hoster-mapi']]);
    assert.deepEqual(route.spec.rules.flatMap((r) => r.matches.map((m) => m.path.value)).sort(), ['/autodiscover', '/ews', '/mapi', '/oab']);
    const mapiRule = route.spec.rules.find((r) => r.matches.some((m) => m.path.value === '/mapi'));
    assert.equal(mapiRule?.timeouts?.request, '600s');
    assert.equal(route.status?.parents?.[0]?.controllerName, STANDIN_CONTROLLER);
    const ls = await get<ListenerSet>('listenerset', 'gwa-autodiscover');
    assert.deepEqual(ls?.spec.parentRef, { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'edge', namespace: platform });
    assert.deepEqual(ls?.spec.listeners.map((l) => [l.hostname, l.protocol, l.tls.certificateRefs[0]?.name]), [['autodiscover.gwa.test', 'HTTPS', 'gwa-autodiscover-tls']]);

    const exposed = await waitCond('mapiserver', 'hoster', 'Exposed', (c) => c.status === 'True', 'Exposed=True');
    assert.equal(exposed.reason, 'RouteAccepted');
    await waitCond('maildomain', 'gwa', 'Ready', (c) => c.status === 'True', 'Ready');
    await waitCond('maildomain', 'gwb', 'Ready', (c) => c.status === 'True', 'Ready');
    // The blocking domain's own route is accepted: what holds it is DNS, not the front.
    assert.equal((await waitCond('maildomain', 'gwc', 'Exposed', (x) => x.status === 'True', 'Exposed=True')).reason, 'RouteAccepted');
    const c = await waitCond('maildomain', 'gwc', 'Ready', (x) => x.status === 'False', 'Ready=False');
    assert.equal(c.reason, 'AutodiscoverNotPublished');
    // The front serves the ListenerSet listener's certificate (cert-manager's Secret) for the host.
    const cert = await peerCertificate('autodiscover.gwa.test');
    assert.match(cert.subjectaltname ?? '', /DNS:autodiscover\.gwa\.test/);
  });

  test('publishing the blocking domain lets the first rollout through', async () => {
    published = new Set([...published, 'gwc.test']);
    await world.setZones(zones());
    await waitFor(async () => {
      const d = await get<Dep>('deployment', 'hoster-mapi');
      const s = await get('mapiserver', 'hoster');
      return d?.spec.replicas === 2 && d.status?.readyReplicas === 2 && s?.status?.rollout?.state === 'Available' ? d : undefined;
    }, { describe: 'hoster: 2 ready pods and rollout Available', timeoutMs: 180_000, intervalMs: 500 });
    await world.k.ok(['wait', '--for=condition=Ready', 'mapiserver/hoster', '-n', ns, '--timeout=90s']);
    await waitCond('maildomain', 'gwc', 'Ready', (c) => c.status === 'True', 'Ready');
    // The running release answers through the routes: the probes' requests reached it.
    await waitFor(() => world.front.log.find((l) => l.host === 'autodiscover.gwa.test' && l.path.toLowerCase().startsWith('/autodiscover') && l.status !== 404 && l.status !== 503),
      { describe: 'an autodiscover request for autodiscover.gwa.test routed to the MAPI pods', timeoutMs: 90_000, intervalMs: 500 });
  });

  test('a route the Gateway refuses is a reason on the MapiServer', async () => {
    await world.k.apply(e2eServer({ name: 'closed', namespace: ns, externalHost: 'mail.gw-closed.test', nameserver: nameserver(), gateway: { name: 'closed', namespace: platform } }));
    const refused = await waitFor(async () => {
      const route = await get<Route>('httproute', 'closed-mapi');
      const accepted = route?.status?.parents?.[0]?.conditions.find((x) => x.type === 'Accepted');
      const exposed = await cond('mapiserver', 'closed', 'Exposed');
      return accepted?.status === 'False' && exposed?.reason === accepted.reason ? { accepted, exposed } : undefined;
    }, { describe: 'the route refused by the Gateway and its reason on the MapiServer', timeoutMs: 90_000, intervalMs: 500 });
    assert.equal(refused.accepted.reason, 'NotAllowedByListeners');
    assert.equal(refused.exposed.status, 'False');
    assert.match(refused.exposed.message, new RegExp(`HTTPRoute closed-mapi not accepted by Gateway ${platform}/closed`));
    assert.match(refused.exposed.message, /allowedRoutes/);
    assert.equal((await get('mapiserver', 'closed'))?.status?.exposure?.attachment, 'Gateway', 'no ListenerSet where the Gateway allows none');
    assert.equal(await get('listenerset', 'closed-mapi'), undefined);
    await waitFor(async () => (await world.k.json<{ items: { type: string; reason: string }[] }>(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=closed'])).items
      .find((e) => e.type === 'Warning' && e.reason === 'NotAllowedByListeners'), { describe: 'a Warning Event NotAllowedByListeners on the MapiServer', timeoutMs: 30_000 });
  });

  test('switching a MapiServer from ingress to gateway replaces its Ingress with an HTTPRoute and a ListenerSet', async () => {
    const exists = async (kind: string, name: string) => (await get(kind, name)) !== undefined;
    const base = { name: 'switch', namespace: ns, externalHost: 'mail.gw-switch.test', nameserver: nameserver() };
    await world.k.apply(e2eServer(base));
    await waitFor(() => exists('ingress', 'switch-mapi'), { describe: 'the Ingress switch-mapi', timeoutMs: 60_000 });
    assert.equal((await get('mapiserver', 'switch'))?.status?.exposure?.kind, 'Ingress');
    await world.k.apply(e2eServer({ ...base, gateway: { name: 'edge', namespace: platform } }));
    await waitFor(async () => !(await exists('ingress', 'switch-mapi')) && (await exists('httproute', 'switch-mapi')) && (await exists('listenerset', 'switch-mapi')),
      { describe: 'Ingress switch-mapi removed; HTTPRoute and ListenerSet switch-mapi there', timeoutMs: 60_000 });
    await waitCond('mapiserver', 'switch', 'Exposed', (c) => c.status === 'True' && c.reason === 'RouteAccepted', 'Exposed=True RouteAccepted');
  });
});
