import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Certificate, type ICertificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import type { V1ConfigMap, V1Deployment, V1Ingress, V1PodDisruptionBudget, V1PodTemplateSpec, V1Service } from '@kubernetes/client-node';
import {
  desiredServerObjects, desiredServerPodTemplate, templateHash, accessShardNames, TEMPLATE_HASH_ANNOTATION, GATEKEEPER_LISTEN_PORT,
  type ServerObjectsInput,
} from '../../../src/builders/index.ts';
import { mapiServer, accessInput } from './fixtures.ts';

type Obj = { kind: string; metadata: { name: string; labels: Record<string, string>; ownerReferences: { kind: string; name: string }[]; annotations?: Record<string, string> } };
const GATEKEEPER_IMAGE = 'registry.example/mapi-operator:0.2.0';

function build(overrides: Partial<ServerObjectsInput> = {}, server = mapiServer()) {
  const input: ServerObjectsInput = {
    server,
    exposeExternalHost: true,
    deployment: { replicas: 2, template: desiredServerPodTemplate(server, { gatekeeperImage: GATEKEEPER_IMAGE }) },
    access: accessInput(3),
    ...overrides,
  };
  const objects = desiredServerObjects(input) as Obj[];
  const one = <T>(kind: string) => objects.find((o) => o.kind === kind) as T;
  return { objects, one };
}

test('server children: access list, Service, Deployment, PDB, Certificate and Ingress of the external host, all owned and labelled', () => {
  const { objects, one } = build({ deployment: { replicas: 3, template: desiredServerPodTemplate(mapiServer()), annotations: { 'mapi-operator.io/released': 'abc' } } });
  assert.deepEqual(objects.map((o) => `${o.kind}/${o.metadata.name}`), [
    'ConfigMap/bluemind-mapi-access', 'Service/bluemind-mapi', 'Deployment/bluemind-mapi', 'PodDisruptionBudget/bluemind-mapi',
    'Certificate/bluemind-mapi', 'Ingress/bluemind-mapi',
  ]);
  for (const o of objects) {
    assert.deepEqual(o.metadata.ownerReferences.map((r) => `${r.kind}/${r.name}`), ['MapiServer/bluemind'], o.kind);
    assert.equal(o.metadata.labels['mapi-operator.io/mapiserver'], 'bluemind', o.kind);
    assert.equal(o.metadata.labels['mapi-operator.io/maildomain'], undefined, o.kind);
  }

  const cert = one<ICertificate>('Certificate');
  assert.deepEqual(cert.spec, {
    secretName: 'bluemind-mapi-tls', dnsNames: ['mail.hoster.example'],
    issuerRef: { name: 'letsencrypt', kind: 'ClusterIssuer', group: 'cert-manager.io' },
    privateKey: { rotationPolicy: 'Always' }, secretTemplate: { labels: cert.metadata!.labels },
  });
  new Certificate(cert).validate(); // cert-manager's own schema accepts it

  const svc = one<V1Service>('Service');
  assert.deepEqual(svc.spec?.ports, [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
  assert.deepEqual(svc.spec?.selector, { 'app.kubernetes.io/name': 'mapi-server', 'app.kubernetes.io/instance': 'bluemind' });

  const dep = one<V1Deployment>('Deployment');
  assert.equal(dep.spec?.replicas, 3);
  assert.deepEqual(dep.spec?.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
  assert.equal(dep.spec?.progressDeadlineSeconds, 600);
  assert.deepEqual(dep.metadata?.annotations, { 'mapi-operator.io/released': 'abc' });
  assert.deepEqual(dep.spec?.selector.matchLabels, svc.spec?.selector);

  const pdb = one<V1PodDisruptionBudget>('PodDisruptionBudget');
  assert.equal(pdb.apiVersion, 'policy/v1');
  assert.deepEqual(pdb.spec, { maxUnavailable: 1, selector: { matchLabels: svc.spec?.selector }, unhealthyPodEvictionPolicy: 'AlwaysAllow' });

  const ing = one<V1Ingress>('Ingress');
  assert.deepEqual(ing.spec?.tls, [{ hosts: ['mail.hoster.example'], secretName: 'bluemind-mapi-tls' }]);
  assert.deepEqual(ing.spec?.rules?.map((r) => r.host), ['mail.hoster.example']);
  for (const p of ing.spec?.rules?.[0]?.http?.paths ?? []) assert.deepEqual(p.backend.service, { name: 'bluemind-mapi', port: { name: 'http' } });
  assert.deepEqual(ing.spec?.rules?.[0]?.http?.paths.map((p) => `${p.pathType} ${p.path}`), ['Prefix /mapi', 'Prefix /ews', 'Prefix /oab', 'Prefix /autodiscover']);
});

test('external host claimed by another MapiServer: no Certificate and no exposure, the rest stays', () => {
  const { objects } = build({ exposeExternalHost: false });
  assert.deepEqual(objects.map((o) => o.kind), ['ConfigMap', 'Service', 'Deployment', 'PodDisruptionBudget']);
});

test('Ingress: ingress-nginx gets no buffering and long reads; user annotations win and pass through; other classes get only theirs', () => {
  const cases: { ingress: { className?: string; annotations: Record<string, string> }; expect?: Record<string, string>; className?: string }[] = [
    {
      ingress: { className: 'nginx', annotations: { 'nginx.ingress.kubernetes.io/proxy-read-timeout': '900', 'team/owner': 'mail' } },
      expect: { 'nginx.ingress.kubernetes.io/proxy-buffering': 'off', 'nginx.ingress.kubernetes.io/proxy-request-buffering': 'off', 'nginx.ingress.kubernetes.io/proxy-read-timeout': '900', 'team/owner': 'mail' },
      className: 'nginx',
    },
    { ingress: { className: 'traefik', annotations: {} }, expect: undefined, className: 'traefik' },
    { ingress: { annotations: { a: 'b' } }, expect: { a: 'b' }, className: undefined },
  ];
  for (const c of cases) {
    const { one } = build({}, mapiServer({ exposure: { ingress: c.ingress } }));
    const ing = one<V1Ingress>('Ingress');
    assert.equal(ing.spec?.ingressClassName, c.className);
    const annotations = ing.metadata?.annotations;
    if (c.expect === undefined) assert.equal(annotations, undefined);
    else for (const [k, v] of Object.entries(c.expect)) assert.equal(annotations?.[k], v, k);
    if (c.className === 'nginx') assert.ok(Number(annotations?.['nginx.ingress.kubernetes.io/proxy-send-timeout']) >= 330);
  }
});

test('pod template, minimal spec: MAPI container on spec.port, hardened pod, long grace period, the access volume with every possible source optional', () => {
  const t = desiredServerPodTemplate(mapiServer());
  const spec = t.spec!;
  assert.equal(spec.automountServiceAccountToken, false);
  assert.deepEqual(spec.securityContext, { seccompProfile: { type: 'RuntimeDefault' } });
  assert.ok(spec.terminationGracePeriodSeconds! >= 330, 'NotificationWait lasts up to 5 minutes');
  for (const field of ['nodeSelector', 'tolerations', 'affinity', 'topologySpreadConstraints', 'imagePullSecrets', 'serviceAccountName'] as const) {
    assert.equal(spec[field], undefined, field);
  }
  const sources = spec.volumes?.[0]?.projected?.sources ?? [];
  assert.deepEqual(sources.map((s) => s.configMap?.name), [...accessShardNames(mapiServer()), 'bluemind-mapi-access']);
  assert.ok(sources.every((s) => s.configMap?.optional === true));
  assert.equal(sources.length, 65);
  for (const c of spec.containers) for (const m of c.volumeMounts ?? []) assert.equal(m.subPath, undefined, 'no subPath: files are swapped in place');
  assert.deepEqual(t.metadata?.labels, {
    'app.kubernetes.io/managed-by': 'mapi-operator', 'app.kubernetes.io/part-of': 'mapi-operator', 'mapi-operator.io/mapiserver': 'bluemind',
    'app.kubernetes.io/name': 'mapi-server', 'app.kubernetes.io/instance': 'bluemind',
  });
});

test('pod template, full spec: image, port, env, resources and every pod field passed through; selector labels cannot be overridden', () => {
  const pod = {
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    tolerations: [{ key: 'mail', operator: 'Exists', effect: 'NoSchedule' }],
    affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname' } }] } },
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' }],
    imagePullSecrets: [{ name: 'registry' }],
    serviceAccountName: 'mapi',
    labels: { team: 'mail', 'app.kubernetes.io/instance': 'hijack' },
    annotations: { 'prometheus.io/scrape': 'true' },
  };
  const server = mapiServer({ image: 'registry.example/bm-mapi:5.3.1', port: 8443, env: [{ name: 'JAVA_OPTS', value: '-Xmx1g' }], resources: { limits: { memory: '2Gi' } }, pod });
  const t = desiredServerPodTemplate(server);
  const { labels, annotations: _a, ...passedThrough } = pod;
  for (const [field, value] of Object.entries(passedThrough)) assert.deepEqual(t.spec?.[field as keyof typeof t.spec], value, field);
  assert.equal(t.metadata?.labels?.team, 'mail');
  assert.equal(t.metadata?.labels?.['app.kubernetes.io/instance'], 'bluemind', `not ${labels['app.kubernetes.io/instance']}`);
  assert.equal(t.metadata?.annotations?.['prometheus.io/scrape'], 'true');
  const c = t.spec!.containers[0]!;
  assert.equal(c.image, 'registry.example/bm-mapi:5.3.1');
  assert.deepEqual(c.ports, [{ name: 'http', containerPort: 8443, protocol: 'TCP' }]);
  assert.deepEqual(c.env, [{ name: 'JAVA_OPTS', value: '-Xmx1g' }]);
  assert.deepEqual(c.resources, { limits: { memory: '2Gi' } });
});

/** The container port the Service's targetPort `http` lands on, and the MAPI container's port. */
function wiring(t: V1PodTemplateSpec) {
  const owners = t.spec!.containers.filter((c) => c.ports?.some((p) => p.name === 'http'));
  assert.equal(owners.length, 1, 'exactly one container owns the port the Service targets');
  const mapi = t.spec!.containers.find((c) => c.name === 'mapi')!;
  return {
    containers: t.spec!.containers.map((c) => c.name),
    servicePort: owners[0]!.ports!.find((p) => p.name === 'http')!.containerPort,
    serviceContainer: owners[0]!.name,
    mapiPort: mapi.ports![0]!,
    readiness: mapi.readinessProbe?.tcpSocket?.port,
    accessMounts: t.spec!.containers.map((c) => c.volumeMounts?.find((m) => m.mountPath === '/etc/mapi-operator/access')),
  };
}

test('gatekeeper on/off: who owns the port the Service targets', () => {
  const mount = { name: 'mapi-access', mountPath: '/etc/mapi-operator/access', readOnly: true };
  const cases = [
    {
      name: 'enabled with an image: the gatekeeper owns http and forwards to the MAPI port',
      server: mapiServer({ port: 8080 }), image: GATEKEEPER_IMAGE,
      expect: { containers: ['mapi', 'gatekeeper'], servicePort: GATEKEEPER_LISTEN_PORT, serviceContainer: 'gatekeeper', mapiPort: { name: 'mapi', containerPort: 8080, protocol: 'TCP' }, readiness: 'mapi', accessMounts: [mount, mount] },
    },
    {
      name: 'enabled without an image: the server alone owns http',
      server: mapiServer({ port: 8080 }), image: undefined,
      expect: { containers: ['mapi'], servicePort: 8080, serviceContainer: 'mapi', mapiPort: { name: 'http', containerPort: 8080, protocol: 'TCP' }, readiness: 'http', accessMounts: [mount] },
    },
    {
      name: 'disabled: no sidecar even with an image',
      server: mapiServer({ port: 9000, gatekeeper: { enabled: false } }), image: GATEKEEPER_IMAGE,
      expect: { containers: ['mapi'], servicePort: 9000, serviceContainer: 'mapi', mapiPort: { name: 'http', containerPort: 9000, protocol: 'TCP' }, readiness: 'http', accessMounts: [mount] },
    },
  ];
  for (const c of cases) {
    const t = desiredServerPodTemplate(c.server, { gatekeeperImage: c.image });
    assert.deepEqual(wiring(t), c.expect, c.name);
  }
  const gk = desiredServerPodTemplate(mapiServer({ port: 8080 }), { gatekeeperImage: GATEKEEPER_IMAGE }).spec!.containers[1]!;
  assert.equal(gk.image, GATEKEEPER_IMAGE);
  assert.ok(gk.args?.join(' ').includes('--upstream-port 8080'), 'forwards to spec.port');
  assert.notEqual(
    templateHash(desiredServerPodTemplate(mapiServer(), { gatekeeperImage: GATEKEEPER_IMAGE })),
    templateHash(desiredServerPodTemplate(mapiServer())),
  );
});

test('spec.port on a gatekeeper port: the schema refuses it; a server that got past the schema is refused by the builder too', () => {
  for (const port of [18080, 19090]) {
    assert.throws(() => mapiServer({ port }), new RegExp(`spec\\.port: spec\\.port 18080 and 19090 are the gatekeeper sidecar's ports .*set spec\\.port to another port`));
    const unchecked = mapiServer();
    unchecked.spec = { ...unchecked.spec, port };
    assert.throws(() => desiredServerPodTemplate(unchecked, { gatekeeperImage: GATEKEEPER_IMAGE }), new RegExp(`spec.port ${port} is taken by the gatekeeper sidecar .*set spec.port to another port`));
    assert.doesNotThrow(() => desiredServerPodTemplate(mapiServer({ port, gatekeeper: { enabled: false } }), { gatekeeperImage: GATEKEEPER_IMAGE }));
  }
});

test('template hash: stable, follows the image, ignores replicas, and the template does not change when the list grows from 3 to 100,000', () => {
  const a = desiredServerPodTemplate(mapiServer({ replicas: 1 }), { gatekeeperImage: GATEKEEPER_IMAGE });
  const b = desiredServerPodTemplate(mapiServer({ replicas: 5 }), { gatekeeperImage: GATEKEEPER_IMAGE });
  const c = desiredServerPodTemplate(mapiServer({ image: 'registry.example/bm-mapi:5.4.0' }), { gatekeeperImage: GATEKEEPER_IMAGE });
  const hash = (t: V1PodTemplateSpec) => t.metadata?.annotations?.[TEMPLATE_HASH_ANNOTATION];
  assert.equal(hash(a), hash(b));
  assert.notEqual(hash(a), hash(c));
  assert.equal(templateHash(a), hash(a));

  const small = build({ access: accessInput(3) });
  const large = build({ access: accessInput(100_000) });
  const template = (r: ReturnType<typeof build>) => r.one<V1Deployment>('Deployment').spec!.template;
  assert.deepEqual(template(large), template(small));
  assert.equal(templateHash(template(large)), hash(template(small)));
  const configMaps = (r: ReturnType<typeof build>) => r.objects.filter((o) => o.kind === 'ConfigMap').map((o) => (o as V1ConfigMap).metadata!.name);
  assert.ok(configMaps(large).length > configMaps(small).length);
  const projected = new Set(template(large).spec!.volumes![0]!.projected!.sources!.map((s) => s.configMap!.name));
  for (const name of configMaps(large)) assert.ok(projected.has(name!), `${name} is a source of the template`);
});
