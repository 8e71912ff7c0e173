// Reading a shared Gateway per the Gateway API spec (attachment, listener hostnames, allowed
// namespaces) and mirroring the route's and ListenerSet's conditions into Exposed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exposureReport, gatewayAttachment, listenerHostMatches, missingListeners, type GatewayObject } from '../../../src/exposure/index.ts';

const spec = (sectionName?: string) => ({ parentRef: { name: 'edge', namespace: 'gateways', ...(sectionName ? { sectionName } : {}) } });
const gw = (s: GatewayObject['spec']): GatewayObject => ({ metadata: { name: 'edge', namespace: 'gateways' }, spec: s });
const https = (name: string, hostname?: string, from?: string) => ({ name, protocol: 'HTTPS', port: 443, ...(hostname ? { hostname } : {}), ...(from ? { allowedRoutes: { namespaces: { from } } } : {}) });
const report = (observed: Parameters<typeof exposureReport>[0]['observed'], hosts = ['mail.example.com'], sectionName?: string) =>
  exposureReport({ exposure: { gateway: spec(sectionName) }, namespace: 'mail', name: 'bluemind-mapi', hosts, observed });

test('hostname matching: exact, wildcard below the suffix (any depth, not the suffix itself), none matches all', () => {
  assert.equal(listenerHostMatches('mail.example.com', 'mail.example.com'), true);
  assert.equal(listenerHostMatches('*.example.com', 'mail.example.com'), true);
  assert.equal(listenerHostMatches('*.example.com', 'autodiscover.mail.example.com'), true);
  assert.equal(listenerHostMatches('*.example.com', 'example.com'), false);
  assert.equal(listenerHostMatches('*.example.com', 'mail.example.org'), false);
  assert.equal(listenerHostMatches(undefined, 'anything.test'), true);
});

test('attachment: ListenerSet only where allowedListeners admits the namespace and no listener is named', () => {
  assert.equal(gatewayAttachment(spec(), 'mail', gw({ allowedListeners: { namespaces: { from: 'All' } } })), 'ListenerSet');
  assert.equal(gatewayAttachment(spec(), 'mail', gw({ allowedListeners: { namespaces: { from: 'Same' } } })), 'Gateway');
  assert.equal(gatewayAttachment(spec(), 'gateways', gw({ allowedListeners: { namespaces: { from: 'Same' } } })), 'ListenerSet');
  assert.equal(gatewayAttachment(spec(), 'mail', gw({})), 'Gateway', 'default None');
  const selector = gw({ allowedListeners: { namespaces: { from: 'Selector', selector: { matchLabels: { mail: 'yes' } } } } });
  assert.equal(gatewayAttachment(spec(), 'mail', selector, { mail: 'yes' }), 'ListenerSet');
  assert.equal(gatewayAttachment(spec(), 'mail', selector, { mail: 'no' }), 'Gateway');
  assert.equal(gatewayAttachment(spec('https'), 'mail', gw({ allowedListeners: { namespaces: { from: 'All' } } })), 'Gateway', 'a named listener is the platform team\'s');
});

test('missing listeners are named: by host, by allowedRoutes, by sectionName', () => {
  assert.equal(missingListeners(spec(), 'mail', gw({ listeners: [https('wild', '*.example.com', 'All')] }), ['mail.example.com']), undefined);
  const noHost = missingListeners(spec(), 'mail', gw({ listeners: [https('other', '*.example.org', 'All'), { name: 'http', protocol: 'HTTP', hostname: 'mail.example.com' }] }), ['mail.example.com', 'autodiscover.a.test']);
  assert.equal(noHost?.reason, 'ListenerMissing');
  assert.match(noHost?.message ?? '', /no HTTPS listener on Gateway gateways\/edge takes mail\.example\.com, autodiscover\.a\.test/);
  const sameOnly = missingListeners(spec(), 'mail', gw({ listeners: [https('wild', '*.example.com')] }), ['mail.example.com']);
  assert.match(sameOnly?.message ?? '', /do not admit HTTPRoutes from namespace mail/);
  const unnamed = missingListeners(spec('https-mail'), 'mail', gw({ listeners: [https('wild', '*.example.com', 'All')] }), ['mail.example.com']);
  assert.deepEqual([unnamed?.reason, /no listener named https-mail.*it has: wild/.test(unnamed?.message ?? '')], ['ListenerNotFound', true]);
});

test('Exposed: Gateway API missing, Gateway missing, a listener missing before the controller speaks', () => {
  assert.equal(report({ gatewayApi: false }).condition.reason, 'GatewayAPINotInstalled');
  const missing = report({ gatewayApi: true });
  assert.deepEqual([missing.condition.status, missing.condition.reason], ['False', 'GatewayNotFound']);
  assert.match(missing.condition.message, /Gateway gateways\/edge does not exist/);
  const gap = report({ gatewayApi: true, gateway: gw({ listeners: [https('other', '*.example.org', 'All')] }) });
  assert.deepEqual([gap.condition.reason, gap.attachment], ['ListenerMissing', 'Gateway']);
});

test("Exposed mirrors the route's conditions for our parent: refused with its reason and the fix, resolved refs, accepted; stale ones ignored", () => {
  const gateway = gw({ listeners: [https('wild', '*.example.com', 'All')] });
  const parentRef = { group: 'gateway.networking.k8s.io' as const, kind: 'Gateway' as const, name: 'edge', namespace: 'gateways' };
  const route = (conditions: { type: string; status: string; reason: string; message?: string; observedGeneration?: number }[]) =>
    ({ metadata: { name: 'bluemind-mapi', generation: 2 }, status: { parents: [{ parentRef, controllerName: 'example.io/gw', conditions }] } });
  const refused = report({ gatewayApi: true, gateway, routes: [route([{ type: 'Accepted', status: 'False', reason: 'NoMatchingListenerHostname', message: 'no match', observedGeneration: 2 }])] });
  assert.deepEqual([refused.condition.status, refused.condition.reason], ['False', 'NoMatchingListenerHostname']);
  assert.match(refused.condition.message, /HTTPRoute bluemind-mapi not accepted by Gateway gateways\/edge \(example\.io\/gw\): NoMatchingListenerHostname: no match; .*wildcard/);
  const unresolved = report({ gatewayApi: true, gateway, routes: [route([{ type: 'Accepted', status: 'True', reason: 'Accepted' }, { type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound' }])] });
  assert.equal(unresolved.condition.reason, 'BackendNotFound');
  const ok = report({ gatewayApi: true, gateway, routes: [route([{ type: 'Accepted', status: 'True', reason: 'Accepted' }, { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' }])] });
  assert.deepEqual([ok.condition.status, ok.condition.reason], ['True', 'RouteAccepted']);
  const stale = report({ gatewayApi: true, gateway, routes: [route([{ type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners', observedGeneration: 1 }])] });
  assert.deepEqual([stale.condition.status, stale.condition.reason], ['Unknown', 'RoutePending']);
  // Another parent's verdict is not ours.
  const other = report({ gatewayApi: true, gateway, routes: [{ metadata: { name: 'bluemind-mapi' }, status: { parents: [{ parentRef: { ...parentRef, name: 'other' }, conditions: [{ type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners' }] }] } }] });
  assert.equal(other.condition.reason, 'RoutePending');
});

test('ListenerSet attachment: a refused ListenerSet or a listener without its certificate is the reason', () => {
  const gateway = gw({ allowedListeners: { namespaces: { from: 'All' } } });
  const notAllowed = report({ gatewayApi: true, gateway, listenerSets: [{ metadata: { name: 'bluemind-mapi' }, status: { conditions: [{ type: 'Accepted', status: 'False', reason: 'NotAllowed', message: 'no' }] } }] });
  assert.deepEqual([notAllowed.attachment, notAllowed.condition.reason], ['ListenerSet', 'NotAllowed']);
  const cert = report({ gatewayApi: true, gateway, listenerSets: [{ metadata: { name: 'bluemind-mapi' }, status: {
    conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }, { type: 'Programmed', status: 'False', reason: 'Invalid' }],
    listeners: [{ name: 'mail.example.com', conditions: [{ type: 'ResolvedRefs', status: 'False', reason: 'InvalidCertificateRef', message: 'Secret missing' }] }],
  } }] });
  assert.equal(cert.condition.reason, 'InvalidCertificateRef');
  assert.match(cert.condition.message, /ListenerSet bluemind-mapi listener mail\.example\.com not resolved by Gateway gateways\/edge/);
});

test('several host chunks: Exposed is True only when every route is accepted; a pending one keeps it Unknown', () => {
  const gateway = gw({ allowedListeners: { namespaces: { from: 'All' } } });
  const hosts = Array.from({ length: 20 }, (_, i) => `autodiscover.d${i}.example`);
  const accepted = (name: string) => ({
    metadata: { name },
    status: { parents: [{ parentRef: { group: 'gateway.networking.k8s.io' as const, kind: 'ListenerSet' as const, name }, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }, { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' }] }] },
  });
  const one = report({ gatewayApi: true, gateway, routes: [accepted('bluemind-mapi')] }, hosts);
  assert.deepEqual([one.condition.status, one.condition.reason], ['Unknown', 'RoutePending']);
  assert.match(one.condition.message, /HTTPRoute bluemind-mapi-1/);
  const both = report({ gatewayApi: true, gateway, routes: [accepted('bluemind-mapi'), accepted('bluemind-mapi-1')] }, hosts);
  assert.deepEqual([both.condition.status, both.condition.reason], ['True', 'RouteAccepted']);
  assert.match(both.condition.message, /2 HTTPRoutes \(bluemind-mapi, bluemind-mapi-1\) for 20 hosts/);
});
