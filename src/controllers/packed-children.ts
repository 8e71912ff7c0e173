// The per-domain children the operator caches by the thousand at a hoster (a Certificate and
// an Ingress or HTTPRoute per MailDomain) keep their spec and status deflated (FieldPacker):
// ~1.2 KB of JS heap each at 5,000 MailDomains, read only when their owner reconciles (to judge
// the certificate, to skip an apply that would change nothing). Their metadata stays as it is:
// the indexes and the event filters read it on every event.
//
// Each dictionary is what such an object says as the builders write it, for a placeholder
// domain and server (each object then repeats its own names, which deflate refers back to).
// Only the ratio depends on it: an object that says something else packs larger, and reads
// back the same. Measure a change with `npm run bench:memory -- --section children`.
import { FieldPacker } from '../kube/index.ts';

const HOST = 'autodiscover.example.org';
const LABELS = { 'app.kubernetes.io/managed-by': 'mapi-operator', 'app.kubernetes.io/part-of': 'mapi-operator', 'mapi-operator.io/maildomain': 'example', 'mapi-operator.io/mapiserver': 'mapi' };
const at = '2026-01-01T00:00:00Z';

const CERTIFICATE = {
  spec: {
    dnsNames: [HOST],
    issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'letsencrypt' },
    privateKey: { rotationPolicy: 'Always' },
    secretName: 'example-autodiscover-tls',
    secretTemplate: { labels: LABELS },
  },
  status: {
    conditions: [
      { lastTransitionTime: at, message: 'Issuing certificate as Secret does not exist', observedGeneration: 1, reason: 'DoesNotExist', status: 'True', type: 'Issuing' },
      { lastTransitionTime: at, message: 'Certificate is up to date and has not expired', observedGeneration: 1, reason: 'Ready', status: 'True', type: 'Ready' },
    ],
    notAfter: at, notBefore: at, renewalTime: at, revision: 1,
  },
};

const BACKEND = { service: { name: 'mapi-mapi', port: { name: 'http' } } };

const INGRESS = {
  spec: {
    ingressClassName: 'nginx',
    rules: [{ host: HOST, http: { paths: [{ backend: BACKEND, path: '/autodiscover', pathType: 'Prefix' }] } }],
    tls: [{ hosts: [HOST], secretName: 'example-autodiscover-tls' }],
  },
  status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } },
};

const HTTPROUTE = {
  spec: {
    hostnames: [HOST],
    parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'shared', namespace: 'gateway', sectionName: 'https' }],
    rules: [{ backendRefs: [{ group: '', kind: 'Service', name: 'mapi-mapi', port: 80, weight: 1 }], matches: [{ path: { type: 'PathPrefix', value: '/autodiscover' } }], timeouts: { backendRequest: '600s', request: '600s' } }],
  },
  status: {
    parents: [{
      conditions: [
        { lastTransitionTime: at, message: 'Route was valid', observedGeneration: 1, reason: 'Accepted', status: 'True', type: 'Accepted' },
        { lastTransitionTime: at, message: 'All references resolved', observedGeneration: 1, reason: 'ResolvedRefs', status: 'True', type: 'ResolvedRefs' },
      ],
      controllerName: 'gateway.envoyproxy.io/gatewayclass-controller',
      parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'shared', namespace: 'gateway', sectionName: 'https' },
    }],
  },
};

const dictionary = (example: { spec: unknown; status: unknown }) => `${JSON.stringify(example.status)}${JSON.stringify(example.spec)}`;

export const certificatePacker = new FieldPacker('CertificateSpecStatus', ['spec', 'status'], dictionary(CERTIFICATE));
export const ingressPacker = new FieldPacker('IngressSpecStatus', ['spec', 'status'], dictionary(INGRESS));
export const httpRoutePacker = new FieldPacker('HTTPRouteSpecStatus', ['spec', 'status'], dictionary(HTTPROUTE));
