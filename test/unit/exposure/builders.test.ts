// The exposure builders: HTTPRoutes (paths, timeouts, parents) and ListenerSets for
// spec.exposure.gateway, through the same server and MailDomain builders as Ingress.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desiredDomainObjects, desiredServerObjects, desiredServerPodTemplate } from '../../../src/builders/index.ts';
import { ROUTE_TIMEOUTS, exposurePrune, unusedExposureKinds } from '../../../src/exposure/index.ts';
import { mapiServer, mailDomain, accessInput } from '../builders/fixtures.ts';

type Obj = { kind: string; metadata: { name: string; namespace: string; ownerReferences: { kind: string }[] }; spec: Record<string, unknown> };
type Route = Obj & { spec: { parentRefs: Record<string, unknown>[]; hostnames: string[]; rules: { matches: { path: { type: string; value: string } }[]; backendRefs: { name: string; port: number }[]; timeouts: { request: string; backendRequest: string } }[] } };
type LS = Obj & { spec: { parentRef: Record<string, unknown>; listeners: { name: string; hostname: string; port: number; protocol: string; tls: unknown; allowedRoutes: unknown }[] } };

const gatewayServer = (parentRef: { name: string; namespace?: string; sectionName?: string } = { name: 'edge', namespace: 'gateways' }) =>
  mapiServer({ exposure: { gateway: { parentRef } } });

function serverObjects(attachment?: 'ListenerSet' | 'Gateway', server = gatewayServer()) {
  return desiredServerObjects({
    server, exposeExternalHost: true, access: accessInput(1),
    deployment: { replicas: 0, template: desiredServerPodTemplate(server) },
    ...(attachment ? { gatewayAttachment: attachment } : {}),
  }) as Obj[];
}

test('server on a Gateway: one HTTPRoute for the external host, /mapi with its own rule, 600s timeouts everywhere, to the Service port', () => {
  const objects = serverObjects();
  assert.deepEqual(objects.filter((o) => ['Ingress', 'HTTPRoute', 'ListenerSet'].includes(o.kind)).map((o) => `${o.kind}/${o.metadata.name}`), ['HTTPRoute/bluemind-mapi']);
  const route = objects.find((o) => o.kind === 'HTTPRoute') as Route;
  assert.equal(route.metadata.namespace, 'mail');
  assert.deepEqual(route.metadata.ownerReferences.map((o) => o.kind), ['MapiServer']);
  assert.deepEqual(route.spec.hostnames, ['mail.hoster.example']);
  assert.deepEqual(route.spec.parentRefs, [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'edge', namespace: 'gateways' }]);
  assert.deepEqual(route.spec.rules.map((r) => r.matches.map((m) => `${m.path.type} ${m.path.value}`)), [['PathPrefix /mapi'], ['PathPrefix /ews', 'PathPrefix /oab', 'PathPrefix /autodiscover']]);
  for (const rule of route.spec.rules) {
    assert.deepEqual(rule.backendRefs, [{ name: 'bluemind-mapi', port: 80 }]);
    assert.deepEqual(rule.timeouts, { request: '600s', backendRequest: '600s' });
  }
  // NotificationWait holds up to 5 minutes and PENDING lines stream meanwhile: at least 330 s.
  assert.ok(Number.parseInt(ROUTE_TIMEOUTS.request, 10) >= 330);
});

test('a sectionName is passed to the parentRef: the platform team provides that listener', () => {
  const route = serverObjects(undefined, gatewayServer({ name: 'edge', sectionName: 'https-wildcard' })).find((o) => o.kind === 'HTTPRoute') as Route;
  assert.deepEqual(route.spec.parentRefs, [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'edge', sectionName: 'https-wildcard' }]);
});

test('ListenerSet attachment: the ListenerSet first, one HTTPS listener per host with its own Secret, routes of its namespace only; the route attaches to it', () => {
  const server = gatewayServer();
  const md = mailDomain({ aliases: ['example.org'] });
  const objects = desiredDomainObjects({ md, server, hosts: ['autodiscover.example.com', 'autodiscover.example.org'], gatewayAttachment: 'ListenerSet' }) as Obj[];
  assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`), ['Certificate/example-com-autodiscover', 'ListenerSet/example-com-autodiscover', 'HTTPRoute/example-com-autodiscover']);
  const ls = objects.find((o) => o.kind === 'ListenerSet') as LS;
  assert.deepEqual(ls.spec.parentRef, { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'edge', namespace: 'gateways' });
  assert.deepEqual(ls.spec.listeners.map((l) => [l.name, l.hostname, l.port, l.protocol]), [
    ['autodiscover.example.com', 'autodiscover.example.com', 443, 'HTTPS'],
    ['autodiscover.example.org', 'autodiscover.example.org', 443, 'HTTPS'],
  ]);
  for (const l of ls.spec.listeners) {
    assert.deepEqual(l.tls, { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: 'example-com-autodiscover-tls' }] });
    assert.deepEqual(l.allowedRoutes, { namespaces: { from: 'Same' }, kinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }] });
  }
  const route = objects.find((o) => o.kind === 'HTTPRoute') as Route;
  assert.deepEqual(route.spec.parentRefs, [{ group: 'gateway.networking.k8s.io', kind: 'ListenerSet', name: 'example-com-autodiscover' }]);
  assert.deepEqual(route.spec.rules.map((r) => r.matches.map((m) => m.path.value)), [['/autodiscover']]);
});

test('what is pruned when the exposure changes: the other kinds, and a ListenerSet no longer used', () => {
  assert.deepEqual(unusedExposureKinds({ ingress: { annotations: {} } }), ['HTTPRoute', 'ListenerSet']);
  const gateway = { gateway: { parentRef: { name: 'edge' } } };
  assert.deepEqual(unusedExposureKinds(gateway, 'ListenerSet'), ['Ingress']);
  assert.deepEqual(unusedExposureKinds(gateway, 'Gateway'), ['Ingress', 'ListenerSet']);
  assert.deepEqual(unusedExposureKinds(gateway), ['Ingress', 'ListenerSet']);
});

test('more hosts than an HTTPRoute takes (16): one route and ListenerSet per chunk of 16, named <name>, <name>-1, ...', () => {
  const server = gatewayServer();
  const aliases = Array.from({ length: 19 }, (_, i) => `alias${i}.example`);
  const md = mailDomain({ aliases });
  const hosts = ['example.com', ...aliases].map((d) => `autodiscover.${d}`);
  const objects = desiredDomainObjects({ md, server, hosts, gatewayAttachment: 'ListenerSet' }) as (LS | Route)[];
  assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`), [
    'Certificate/example-com-autodiscover',
    'ListenerSet/example-com-autodiscover', 'HTTPRoute/example-com-autodiscover',
    'ListenerSet/example-com-autodiscover-1', 'HTTPRoute/example-com-autodiscover-1',
  ]);
  const routes = objects.filter((o): o is Route => o.kind === 'HTTPRoute');
  assert.deepEqual(routes.map((r) => r.spec.hostnames.length), [16, 4]);
  assert.deepEqual(routes.flatMap((r) => r.spec.hostnames), hosts, 'every host once, in order');
  assert.deepEqual(routes.map((r) => r.spec.parentRefs[0]?.name), ['example-com-autodiscover', 'example-com-autodiscover-1'], 'each route on its own ListenerSet');
  const sets = objects.filter((o): o is LS => o.kind === 'ListenerSet');
  assert.deepEqual(sets.map((l) => l.spec.listeners.map((x) => x.hostname)), routes.map((r) => r.spec.hostnames));
});

test('prune: existing exposure objects the desired ones no longer include, and nothing on a converged owner', () => {
  const server = gatewayServer();
  const desired = desiredDomainObjects({ md: mailDomain(), server, hosts: ['autodiscover.example.com'], gatewayAttachment: 'ListenerSet' });
  const name = 'example-com-autodiscover';
  const existing = [
    { kind: 'Ingress' as const, name }, // before the switch to Gateway API
    { kind: 'HTTPRoute' as const, name }, { kind: 'ListenerSet' as const, name },
    { kind: 'HTTPRoute' as const, name: `${name}-1` }, { kind: 'ListenerSet' as const, name: `${name}-1` }, // a chunk the hosts no longer need
  ];
  assert.deepEqual(exposurePrune({ exposure: server.spec.exposure, name, noHosts: false, desired, existing }), [
    { kind: 'Ingress', name }, { kind: 'HTTPRoute', name: `${name}-1` }, { kind: 'ListenerSet', name: `${name}-1` },
  ]);
  assert.deepEqual(exposurePrune({ exposure: server.spec.exposure, name, noHosts: false, desired, existing: existing.slice(1, 3) }), [], 'converged');
  assert.deepEqual(exposurePrune({ exposure: server.spec.exposure, name, noHosts: true, desired: [] }), [{ kind: 'HTTPRoute', name }, { kind: 'ListenerSet', name }]);
});
