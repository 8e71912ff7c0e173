// The outside world of an end-to-end test, all on loopback: a real DNS server (BIND) whose
// zones point the hosts at the ingress front, the front itself (serving cert-manager's
// certificates), and the trust anchor of the test CA, published in a ConfigMap the
// MailDomains name in checks.caBundle.
import { sharedKubeconfigPath } from './controlplane.ts';
import { certManagerNamespace, testCaSecretName, testIssuerRef } from './cert-manager/issuer.ts';
import { startDnsServer, type TestDnsServer } from './dns-server.ts';
import { startFramingServer, type FramingServer } from './mapi-framing-server.ts';
import { startGatekeeperPods, type GatekeeperPods } from './gatekeeper-pods.ts';
import { startIngressFront, type IngressFront } from './ingress-front.ts';
import { startGatewayStandIn, type GatewayStandIn } from './gateway-front.ts';
import { kubectlFor, type Kubectl } from './kube.ts';
import { createTestPki, type TestPki } from './pki.ts';

export type Zones = Record<string, string[]>;

/** The image name the operator puts in the sidecar; no image is pulled here (kwok). */
export const GATEKEEPER_TEST_IMAGE = 'registry.example/mapi-operator:dev';

export interface World {
  kubeconfig: string;
  k: Kubectl;
  dns: TestDnsServer;
  front: IngressFront;
  /** The Gateway API stand-in behind the same front (Gateways of class mapi-operator-standin). */
  gateway: GatewayStandIn;
  pki: TestPki;
  caPem: string;
  /** Flags that point the operator's probes at the front (loopback 443/80 may be taken). */
  operatorArgs: string[];
  /** With `gatekeepers`: the MAPI test server behind every gatekeeper, and the gatekeepers. */
  mapi?: FramingServer;
  gatekeepers?: GatekeeperPods;
  /** Replaces the zones and makes BIND serve them (like publishing a DNS change). */
  setZones(zones: Zones): Promise<void>;
  /** A ConfigMap `test-ca` (key ca.crt) in the namespace, for checks.caBundle. */
  publishCa(namespace: string): Promise<void>;
  stop(): Promise<void>;
}

export interface WorldOptions {
  /** Run every gatekeeper sidecar for real (gatekeeper pods stand-in) in front of a MAPI test
   *  server that knows these users (address → password); `operatorArgs` then carries
   *  --gatekeeper-image so the operator adds the sidecar. */
  gatekeepers?: { users: Record<string, string> };
}

export async function startWorld(zones: Zones, options: WorldOptions = {}): Promise<World> {
  const kubeconfig = sharedKubeconfigPath();
  const k = kubectlFor(kubeconfig);
  const secret = await k.json<{ data: Record<string, string> }>(['get', 'secret', '-n', certManagerNamespace, testCaSecretName]);
  const caPem = Buffer.from(secret.data['tls.crt']!, 'base64').toString('utf8');
  const pki = createTestPki('mapi-operator e2e');
  const dns = await startDnsServer({ zones });
  const gateway = await startGatewayStandIn({ kubeconfig });
  const mapi = options.gatekeepers ? await startFramingServer({ users: options.gatekeepers.users, pendingMs: 2_000 }) : undefined;
  const gatekeepers = mapi ? await startGatekeeperPods({ kubeconfig, upstreamPort: mapi.port }) : undefined;
  const front = await startIngressFront({ kubeconfig, pki, gateway, ...(gatekeepers ? { gatekeepers } : {}) });
  return {
    kubeconfig, k, dns, front, gateway, pki, caPem,
    ...(mapi && gatekeepers ? { mapi, gatekeepers } : {}),
    // The whole world is on loopback: startOperator passes --probe-loopback (tests only).
    operatorArgs: [
      '--https-port', String(front.httpsPort), '--http-port', String(front.httpPort),
      ...(gatekeepers ? ['--gatekeeper-image', GATEKEEPER_TEST_IMAGE] : []),
    ],
    setZones: (next) => dns.update(next),
    async publishCa(namespace) {
      const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'test-ca', namespace }, data: { 'ca.crt': caPem } };
      await k.apply(cm);
    },
    async stop() {
      await front.stop();
      await gatekeepers?.stop();
      await mapi?.close();
      await gateway.stop();
      await dns.stop();
      pki.cleanup();
    },
  };
}

/** Zone records sending `names` (relative to the origin) to the front on 127.0.0.1. */
export const toFront = (...names: string[]): string[] => names.map((n) => `${n} IN A 127.0.0.1`);

export interface E2eServerOptions {
  name: string;
  namespace: string;
  externalHost: string;
  image?: string;
  replicas?: number;
  mode?: 'Enforce' | 'Warn';
  domains?: 'All' | 'Any';
  nameserver: string;
  gatekeeper?: boolean;
  /** Expose through this Gateway (Gateway API) instead of an Ingress. */
  gateway?: { name: string; namespace?: string; sectionName?: string };
  /** checks.interval; 30s (the shortest allowed) unless given. */
  checkInterval?: string;
}

/** A MapiServer as the end-to-end tests and the demo declare it: the test CA's ClusterIssuer,
 *  checks every 30 s against the test DNS server, the test CA trusted through caBundle. */
export function e2eServer(o: E2eServerOptions) {
  return {
    apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MapiServer', metadata: { name: o.name, namespace: o.namespace },
    spec: {
      externalHost: o.externalHost,
      image: o.image ?? 'registry.example/bm-mapi:5.3.0',
      replicas: o.replicas ?? 2,
      tls: { issuerRef: { name: testIssuerRef.name, kind: testIssuerRef.kind } },
      exposure: o.gateway ? { gateway: { parentRef: o.gateway } } : { ingress: { className: 'nginx' } },
      gate: { mode: o.mode ?? 'Enforce', domains: o.domains ?? 'All' },
      checks: {
        interval: o.checkInterval ?? '30s',
        nameservers: [o.nameserver],
        caBundle: { configMapKeyRef: { name: 'test-ca', key: 'ca.crt' } },
      },
      ...(o.gatekeeper === false ? { gatekeeper: { enabled: false } } : {}),
    },
  };
}

export interface E2eDomainOptions {
  name: string;
  namespace: string;
  server: string;
  domain: string;
  aliases?: string[];
  require?: 'Any' | 'All';
  mapiEnabled?: boolean;
}

export function e2eDomain(o: E2eDomainOptions) {
  return {
    apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MailDomain', metadata: { name: o.name, namespace: o.namespace },
    spec: {
      serverRef: o.server,
      domain: o.domain,
      aliases: o.aliases ?? [],
      autodiscover: { require: o.require ?? 'Any' },
      ...(o.mapiEnabled === false ? { mapi: { enabled: false } } : {}),
    },
  };
}

export function e2eMailbox(o: { name: string; namespace: string; domainRef: string; address: string; mapiEnabled?: boolean }) {
  return {
    apiVersion: 'mapi-operator.io/v1alpha2', kind: 'Mailbox', metadata: { name: o.name, namespace: o.namespace },
    spec: { domainRef: o.domainRef, address: o.address, mapiEnabled: o.mapiEnabled ?? true },
  };
}
