// Objects as the apiserver serves them to the operator (shapes copied from a bench:scale run:
// managedFields of the creator and of the operator's status apply, the status the Mailbox
// controller writes), and a KubeClient stand-in that serves them as list pages and watch
// lines, so the real Informer (and its real watch decoder) fills its store from JSON text.
import { PassThrough } from 'node:stream';
import type { KubeClient, KubeObject } from '../../src/kube/index.ts';

const NS = 'tenant-a';
const T0 = Date.parse('2026-12-02T05:10:21Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const uid = (i: number) => `02884a94-bdaf-4861-8f9a-${i.toString(16).padStart(12, '0')}`;

const conditionFields = { '.': {}, 'f:lastTransitionTime': {}, 'f:message': {}, 'f:observedGeneration': {}, 'f:reason': {}, 'f:status': {}, 'f:type': {} };

/** A Mailbox after the operator wrote its status; `kubectlApply` adds the client-side apply
 *  annotation `kubectl apply` leaves (a full copy of the manifest). */
export function mailbox(i: number, o: { rv?: number; ready?: boolean; kubectlApply?: boolean } = {}): KubeObject {
  const domain = `d${Math.floor(i / 20)}`;
  const spec = { address: `u${i % 20}@${domain}.test`, domainRef: domain, mapiEnabled: true };
  const name = `${domain}-u${i % 20}`;
  const created = iso(T0 + Math.floor(i / 50) * 1000);
  const written = iso(T0 + 120_000 + Math.floor(i / 50) * 1000);
  const ready = o.ready ?? true;
  // managedFields entries as served (KubeObject types only the fields the operator reads).
  const managedFields = [
    { apiVersion: 'mapi-operator.io/v1alpha2', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:address': {}, 'f:domainRef': {}, 'f:mapiEnabled': {} } }, manager: 'kubectl', operation: 'Apply', time: created },
    {
      apiVersion: 'mapi-operator.io/v1alpha2', fieldsType: 'FieldsV1', manager: 'mapi-operator', operation: 'Apply', subresource: 'status', time: written,
      fieldsV1: { 'f:status': { 'f:conditions': { 'k:{"type":"Ready"}': conditionFields, 'k:{"type":"Reconciling"}': conditionFields, 'k:{"type":"Stalled"}': conditionFields }, 'f:mapiEnabled': {}, 'f:observedGeneration': {} } },
    },
  ];
  return {
    apiVersion: 'mapi-operator.io/v1alpha2', kind: 'Mailbox',
    metadata: {
      creationTimestamp: created, generation: 1, name, namespace: NS, resourceVersion: String(o.rv ?? 6000 + i), uid: uid(i),
      ...(o.kubectlApply ? { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': `${JSON.stringify({ apiVersion: 'mapi-operator.io/v1alpha2', kind: 'Mailbox', metadata: { annotations: {}, name, namespace: NS }, spec })}\n` } } : {}),
      managedFields: managedFields as KubeObject['metadata']['managedFields'],
    },
    spec,
    status: {
      conditions: [
        { lastTransitionTime: iso(T0 + 12_000), message: 'nothing blocks reconciliation', observedGeneration: 1, reason: 'NotStalled', status: 'False', type: 'Stalled' },
        { lastTransitionTime: written, message: 'up to date', observedGeneration: 1, reason: 'Reconciled', status: 'False', type: 'Reconciling' },
        ready
          ? { lastTransitionTime: written, message: 'Outlook may connect over MAPI/HTTP', observedGeneration: 1, reason: 'MapiEnabled', status: 'True', type: 'Ready' }
          : { lastTransitionTime: written, message: `MAPI for ${domain}.test is not rolled out yet (MapiServer s0: rollout Progressing)`, observedGeneration: 1, reason: 'MailDomainNotReady', status: 'False', type: 'Ready' },
      ],
      mapiEnabled: true,
      observedGeneration: 1,
    },
  };
}

/** A Ready MailDomain as a hoster's operator leaves it (copied from a bench:scale N=5,000 run:
 *  the creator's and the operator's status managedFields, four check rows, eight conditions). */
export function mailDomain(i: number): KubeObject {
  const name = `d${i}`;
  const domain = `${name}.test`;
  const host = `autodiscover.${domain}`;
  const created = iso(T0 + Math.floor(i / 30) * 1000);
  const accepted = iso(T0 + 200_000 + Math.floor(i / 5) * 1000);
  const certified = iso(T0 + 900_000 + Math.floor(i / 2) * 1000);
  const checked = iso(T0 + 1_300_000 + Math.floor(i / 2) * 1000);
  const condition = (type: string, status: string, reason: string, message: string, at: string) => ({ lastTransitionTime: at, message, observedGeneration: 1, reason, status, type });
  const row = (name: string, reason: string, message: string, at: string) => ({ lastTransitionTime: at, message, name, reason, status: 'Passed' });
  const conditionTypes = ['Accepted', 'AutodiscoverPublished', 'CertificateReady', 'ChecksPassed', 'Exposed', 'Ready', 'Reconciling', 'Stalled'];
  const managedFields = [
    { apiVersion: 'mapi-operator.io/v1alpha2', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:autodiscover': { 'f:require': {} }, 'f:domain': {}, 'f:serverRef': {} } }, manager: 'bench', operation: 'Apply', time: created },
    {
      apiVersion: 'mapi-operator.io/v1alpha2', fieldsType: 'FieldsV1', manager: 'mapi-operator', operation: 'Apply', subresource: 'status', time: checked,
      fieldsV1: { 'f:status': { 'f:autodiscoverURLs': {}, 'f:checks': {}, 'f:conditions': Object.fromEntries(conditionTypes.map((t) => [`k:{"type":"${t}"}`, conditionFields])), 'f:observedGeneration': {} } },
    },
  ];
  return {
    apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MailDomain',
    metadata: { creationTimestamp: created, generation: 1, name, namespace: NS, resourceVersion: String(300_000 + i), uid: uid(i), managedFields: managedFields as KubeObject['metadata']['managedFields'] },
    spec: { aliases: [], autodiscover: { hosts: [], require: 'Any' }, domain, mapi: { enabled: true }, serverRef: 's0', tls: {} },
    status: {
      autodiscoverURLs: [`https://${host}/autodiscover/autodiscover.xml`],
      checks: [
        row('certificate', 'Ready', 'Certificate is up to date and has not expired', certified),
        row(`dns/${host}`, 'AddressOfExternalHost', `${host} resolves to 127.0.0.1, the address of mail.s0.test`, certified),
        row(`tls/${host}`, 'CertificateValid', `${host}: trusted certificate for ${host}, valid until 2027-03-03T13:50:30.000Z`, checked),
        row(`rootdomain/${domain}`, 'RootDomainNotServing', `${domain} has no address (NODATA), so Outlook moves on to the autodiscover host at once`, certified),
      ],
      conditions: [
        condition('Accepted', 'True', 'Accepted', 'served by MapiServer s0', accepted),
        condition('CertificateReady', 'True', 'CertificateReady', 'Certificate is up to date and has not expired', certified),
        condition('AutodiscoverPublished', 'True', 'AutodiscoverPublished', `published for ${host} (require: Any)`, certified),
        condition('ChecksPassed', 'True', 'ChecksPassed', `autodiscover is published and served for ${domain} (require: Any)`, checked),
        condition('Stalled', 'False', 'NotStalled', 'nothing blocks reconciliation', accepted),
        condition('Reconciling', 'False', 'Reconciled', 'up to date', checked),
        condition('Ready', 'True', 'Ready', `autodiscover for ${domain} is published and served; MapiServer s0 serves it`, checked),
        condition('Exposed', 'True', 'IngressApplied', `Ingress ${name}-autodiscover for ${host}, tuned for ingress-nginx or F5 NGINX Ingress Controller`, accepted),
      ],
      observedGeneration: 1,
    },
  };
}

export interface FakeApi {
  client: KubeClient;
  /** Sends watch events (JSON lines, as the apiserver writes them) to every open watch. */
  send(events: Array<{ type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject }>): void;
}

/** Serves `items` (already JSON text per page, like a response body) to list requests of `plural`. */
export function fakeApi(items: KubeObject[], pageSize = 500, plural: string = MAILBOXES.plural): FakeApi {
  const pages: string[] = [];
  for (let i = 0; i < items.length || i === 0; i += pageSize) {
    const last = i + pageSize >= items.length;
    pages.push(JSON.stringify({ metadata: { resourceVersion: '99999', ...(last ? {} : { continue: String(pages.length + 1) }) }, items: items.slice(i, i + pageSize).map((o) => ({ ...o, apiVersion: undefined, kind: undefined })) }));
  }
  const watches = new Set<PassThrough>();
  const client = {
    async request<T>(opts: { path: string; query?: Record<string, unknown> }): Promise<T> {
      // Other kinds (a ClusterView watches a dozen) are empty.
      if (!opts.path.endsWith(`/${plural}`)) return { metadata: { resourceVersion: '1' }, items: [] } as T;
      // The real client parses the response text; so does this one.
      return JSON.parse(pages[Number(opts.query?.continue ?? 0)]!) as T;
    },
    async stream(opts: { path: string; signal: AbortSignal }): Promise<PassThrough> {
      const res = new PassThrough() as PassThrough & { complete: boolean };
      res.complete = false;
      // Other kinds' watches stay quiet until aborted.
      if (opts.path.endsWith(`/${plural}`)) watches.add(res);
      const end = () => { watches.delete(res); res.destroy(); };
      if (opts.signal.aborted) end();
      else opts.signal.addEventListener('abort', end, { once: true });
      return res;
    },
  } as unknown as KubeClient;
  return {
    client,
    send(events) {
      const text = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
      for (const w of watches) w.write(text);
    },
  };
}

export const MAILBOXES = { group: 'mapi-operator.io', version: 'v1alpha2', plural: 'mailboxes', kind: 'Mailbox', namespaced: true } as const;
export const MAILDOMAINS = { group: 'mapi-operator.io', version: 'v1alpha2', plural: 'maildomains', kind: 'MailDomain', namespaced: true } as const;

const childLabels = (domain: string) => ({ 'app.kubernetes.io/managed-by': 'mapi-operator', 'app.kubernetes.io/part-of': 'mapi-operator', 'mapi-operator.io/maildomain': domain, 'mapi-operator.io/mapiserver': 's0' });
const childMeta = (i: number, created: string, annotations: Record<string, string>) => ({
  annotations, creationTimestamp: created, generation: 1, labels: childLabels(`d${i}`), name: `d${i}-autodiscover`, namespace: NS,
  ownerReferences: [{ apiVersion: 'mapi-operator.io/v1alpha2', blockOwnerDeletion: true, controller: true, kind: 'MailDomain', name: `d${i}`, uid: uid(i) }],
  resourceVersion: String(400_000 + i), uid: uid(1_000_000 + i),
});

/** A MailDomain's autodiscover Certificate, issued (copied from a bench:scale run). */
export function autodiscoverCertificate(i: number): KubeObject {
  const host = `autodiscover.d${i}.test`;
  const created = iso(T0 + Math.floor(i / 30) * 1000);
  const issued = iso(T0 + 900_000 + Math.floor(i / 2) * 1000);
  return {
    apiVersion: 'cert-manager.io/v1', kind: 'Certificate',
    metadata: childMeta(i, created, { 'mapi-operator.io/applied-hash': `4f77df29932837${i.toString(16).padStart(6, '0')}` }),
    spec: { dnsNames: [host], issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'mapi-test-ca' }, privateKey: { rotationPolicy: 'Always' }, secretName: `d${i}-autodiscover-tls`, secretTemplate: { labels: childLabels(`d${i}`) } },
    status: {
      conditions: [{ lastTransitionTime: issued, message: 'Certificate is up to date and has not expired', observedGeneration: 1, reason: 'Ready', status: 'True', type: 'Ready' }],
      notAfter: iso(T0 + 90 * 86_400_000), notBefore: issued, renewalTime: iso(T0 + 60 * 86_400_000), revision: 1,
    },
  } as KubeObject;
}

/** A MailDomain's autodiscover Ingress for ingress-nginx (copied from a bench:scale run). */
export function autodiscoverIngress(i: number): KubeObject {
  const host = `autodiscover.d${i}.test`;
  const created = iso(T0 + Math.floor(i / 30) * 1000);
  return {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress',
    metadata: childMeta(i, created, {
      'mapi-operator.io/applied-hash': `e08031de2c30${i.toString(16).padStart(8, '0')}`,
      'nginx.ingress.kubernetes.io/backend-protocol': 'HTTP', 'nginx.ingress.kubernetes.io/proxy-buffering': 'off', 'nginx.ingress.kubernetes.io/proxy-http-version': '1.1',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '600', 'nginx.ingress.kubernetes.io/proxy-request-buffering': 'off', 'nginx.ingress.kubernetes.io/proxy-send-timeout': '600',
      'nginx.org/proxy-buffering': 'False', 'nginx.org/proxy-read-timeout': '600s', 'nginx.org/proxy-send-timeout': '600s',
    }),
    spec: {
      ingressClassName: 'nginx',
      rules: [{ host, http: { paths: [{ backend: { service: { name: 's0-mapi', port: { name: 'http' } } }, path: '/autodiscover', pathType: 'Prefix' }] } }],
      tls: [{ hosts: [host], secretName: `d${i}-autodiscover-tls` }],
    },
    status: { loadBalancer: {} },
  } as KubeObject;
}
