// A stand-in for the ingress controller in end-to-end tests (no ingress controller or
// container runs here; kwok pods are not processes). It plays the part a real front plays:
// - HTTPS on one loopback port: for each SNI name it finds the Ingress rule for that host and
//   serves the certificate from the Ingress's TLS Secret (so cert-manager's Secret is what a
//   client sees, as in production); no rule → the handshake fails;
// - routes a request by host and path prefix to the Ingress backend Service, finds the Ready
//   pods that Service selects, and answers as the MAPI server their image stands for: an image
//   whose tag contains "broken" answers 503 (the release does not work), no Ready pod answers
//   503 too, anything else is forwarded to a MAPI test server (401 challenges, PING);
// - plain HTTP on another port: the HTTP redirect method (302 to https) for known hosts.
// The test DNS zone points every host at this front's address, so the operator's probes go
// where DNS sends them.
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { KubeClient, Informer, loadKubeConfig, type KubeObject } from '../kube/index.ts';
import { startMapiTestServer, type MapiTestServer } from './mapi-test-server.ts';
import type { TestPki } from './pki.ts';
import type { GatewayStandIn } from './gateway-front.ts';

interface IngressObj extends KubeObject {
  spec?: {
    tls?: { hosts?: string[]; secretName?: string }[];
    rules?: { host?: string; http?: { paths?: { path?: string; backend?: { service?: { name?: string } } }[] } }[];
  };
}
interface PodObj extends KubeObject {
  spec?: { containers?: { image?: string }[] };
  status?: { conditions?: { type: string; status: string }[] };
}

export interface IngressFront {
  address: string;
  httpsPort: number;
  httpPort: number;
  /** Requests answered, newest last: host, path, status, image. */
  log: { host: string; path: string; status: number; image?: string }[];
  stop(): Promise<void>;
}

const ref = (group: string, version: string, plural: string, kind: string) => ({ group, version, plural, kind, namespaced: true });

export async function startIngressFront(opts: { kubeconfig: string; pki: TestPki; address?: string; gatekeepers?: { forService(namespace: string, selector: Record<string, string>): { port: number } | undefined }; gateway?: GatewayStandIn }): Promise<IngressFront> {
  const address = opts.address ?? '127.0.0.1';
  const client = new KubeClient(loadKubeConfig(opts.kubeconfig));
  const informers = {
    ingresses: new Informer<IngressObj>({ client, resource: ref('networking.k8s.io', 'v1', 'ingresses', 'Ingress') }),
    secrets: new Informer<KubeObject>({ client, resource: ref('', 'v1', 'secrets', 'Secret') }),
    services: new Informer<KubeObject>({ client, resource: ref('', 'v1', 'services', 'Service') }),
    pods: new Informer<PodObj>({ client, resource: ref('', 'v1', 'pods', 'Pod') }),
  };
  for (const i of Object.values(informers)) i.start();
  await Promise.all(Object.values(informers).map((i) => i.waitForSync(AbortSignal.timeout(30_000))));

  // The MAPI server that healthy pods stand for; its own certificate is never seen by clients.
  const internal = opts.pki.issue({ dnsNames: ['mapi-backend.test'] });
  const backend: MapiTestServer = await startMapiTestServer({
    address, certificate: { keyPem: internal.keyPem, chainPem: internal.chainPem },
    externalHost: 'unused.test', credentials: { username: 'probe', password: 'probe-secret' },
  });

  // An Ingress rule for the host, else an HTTPRoute the Gateway stand-in attached for it (in
  // the same shape; its certificate may live in the Gateway's namespace).
  const ruleFor = (host: string): { ing: IngressObj; rule: NonNullable<NonNullable<IngressObj['spec']>['rules']>[number]; secretNamespace?: string } | undefined => {
    for (const ing of informers.ingresses.list()) {
      const rule = ing.spec?.rules?.find((r) => r.host === host);
      if (rule) return { ing, rule };
    }
    const route = opts.gateway?.routeFor(host);
    if (!route) return undefined;
    return {
      ing: { metadata: { namespace: route.namespace }, spec: { tls: [{ hosts: [host], secretName: route.secretName }] } },
      rule: { host, http: { paths: route.paths.map((p) => ({ path: p.path, backend: { service: { name: p.service } } })) } },
      secretNamespace: route.secretNamespace,
    };
  };

  const contexts = new Map<string, { version: string; ctx: tls.SecureContext }>();
  const sniCallback = (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => {
    const found = ruleFor(servername);
    const secretName = found?.ing.spec?.tls?.find((t) => t.hosts?.includes(servername))?.secretName;
    const secretNamespace = found?.secretNamespace ?? found?.ing.metadata.namespace;
    const secret = secretName ? informers.secrets.get(secretNamespace, secretName) as { data?: Record<string, string>; metadata: { resourceVersion?: string } } | undefined : undefined;
    const crt = secret?.data?.['tls.crt'];
    const key = secret?.data?.['tls.key'];
    if (!crt || !key) return cb(new Error(`no certificate for ${servername}`));
    const cacheKey = `${secretNamespace}/${secretName}`;
    const cached = contexts.get(cacheKey);
    if (cached && cached.version === secret!.metadata.resourceVersion) return cb(null, cached.ctx);
    const ctx = tls.createSecureContext({ cert: Buffer.from(crt, 'base64'), key: Buffer.from(key, 'base64') });
    contexts.set(cacheKey, { version: secret!.metadata.resourceVersion ?? '', ctx });
    cb(null, ctx);
  };

  const log: IngressFront['log'] = [];
  const readyImage = (namespace: string, serviceName: string): string | undefined => {
    const svc = informers.services.get(namespace, serviceName) as { spec?: { selector?: Record<string, string> } } | undefined;
    const selector = svc?.spec?.selector ?? {};
    if (Object.keys(selector).length === 0) return undefined;
    const ready = informers.pods.list(namespace).filter((p) =>
      Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v) &&
      !p.metadata.deletionTimestamp &&
      p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    // With old and new pods behind one Service a client may land on any of them: one broken
    // ready pod is enough to fail a probe (deterministic, unlike a real round robin).
    const images = ready.map((p) => p.spec?.containers?.[0]?.image ?? '');
    return images.find((i) => i.includes('broken')) ?? images[0];
  };

  const handler: http.RequestListener = (req, res) => {
    const host = String(req.headers.host ?? '').replace(/:\d+$/, '');
    const path = req.url ?? '/';
    const found = ruleFor(host);
    const route = found?.rule.http?.paths?.find((p) => path.startsWith(p.path ?? '/'));
    const service = route?.backend?.service?.name;
    const answer = (status: number, image?: string) => {
      log.push({ host, path, status, ...(image ? { image } : {}) });
      if (log.length > 1000) log.shift();
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end(status === 404 ? 'default backend - 404' : 'Service Unavailable');
    };
    if (!found || !service) return answer(404);
    const image = readyImage(found.ing.metadata.namespace ?? '', service);
    if (!image || image.includes('broken')) return answer(503, image);
    // Pods that run the gatekeeper sidecar: the Service's port is the gatekeeper's (plain HTTP
    // on the pod), run for real by the gatekeeper pods stand-in.
    const svc = informers.services.get(found.ing.metadata.namespace, service) as { spec?: { selector?: Record<string, string> } } | undefined;
    const sidecar = opts.gatekeepers?.forService(found.ing.metadata.namespace ?? '', svc?.spec?.selector ?? {});
    if (sidecar) {
      const upstream = http.request({
        host: '127.0.0.1', port: sidecar.port, method: req.method, path,
        headers: { ...req.headers, host }, agent: false,
      }, (up) => {
        log.push({ host, path, status: up.statusCode ?? 0, image });
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => { if (!res.headersSent) answer(502, image); else res.destroy(); });
      req.pipe(upstream);
      return;
    }
    // Forward to the MAPI test server, as the Service would to a pod.
    const upstream = https.request({
      host: backend.address, port: backend.port, method: req.method, path,
      headers: { ...req.headers, host }, rejectUnauthorized: false, agent: false, timeout: 5_000,
    }, (up) => {
      log.push({ host, path, status: up.statusCode ?? 0, image });
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => { if (!res.headersSent) answer(502, image); else res.destroy(); });
    req.pipe(upstream);
  };

  const secure = https.createServer({ SNICallback: sniCallback }, handler);
  const plain = http.createServer((req, res) => {
    const host = String(req.headers.host ?? '').replace(/:\d+$/, '');
    if (ruleFor(host) && (req.url ?? '').toLowerCase().startsWith('/autodiscover/')) {
      res.writeHead(302, { Location: `https://${host}${req.url}` });
      return res.end();
    }
    res.writeHead(404);
    res.end();
  });
  const listen = (server: http.Server) => new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, () => resolve((server.address() as { port: number }).port));
  });
  const [httpsPort, httpPort] = [await listen(secure), await listen(plain)];
  return {
    address, httpsPort, httpPort, log,
    async stop() {
      secure.closeAllConnections();
      plain.closeAllConnections();
      await Promise.all([new Promise((r) => secure.close(r)), new Promise((r) => plain.close(r))]);
      await backend.close();
      await Promise.all(Object.values(informers).map((i) => i.stop()));
    },
  };
}
