// The reconcilers against the real control plane (shared, with cert-manager issuing from a test
// CA): the children of a MapiServer and of its MailDomains, owner references, field manager,
// labels, aliases, drift correction with foreign annotations kept, host claims across
// namespaces, issuer policy, a MailDomain waiting for its server, what one MailDomain's change
// touches, the size of the access list and garbage collection.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedKubeconfigPath } from '../../../src/dev/controlplane.ts';
import { testIssuerRef } from '../../../src/dev/cert-manager/issuer.ts';
import { freshNamespace, kubectlFor } from '../../../src/dev/kube.ts';
import { startOperator, type OperatorProcess } from '../../../src/dev/operator.ts';
import { waitFor } from '../../../src/dev/wait.ts';
import { mailDomainManifest, mailboxManifest, mapiServerManifest } from '../../support/fixtures.ts';

const ns = 'rec-children';
const other = 'rec-children-b';
const kubeconfig = sharedKubeconfigPath();
const k = kubectlFor(kubeconfig);
let operator: OperatorProcess;

interface Condition { type: string; status: string; reason: string; message: string }
interface Obj {
  metadata: {
    uid: string; name: string; resourceVersion: string;
    labels?: Record<string, string>; annotations?: Record<string, string>;
    ownerReferences?: { uid: string; controller?: boolean; kind: string; name: string }[];
    managedFields?: { manager: string; operation: string }[];
  };
  spec: Record<string, unknown>;
  status?: { observedGeneration?: number; conditions?: Condition[] } & Record<string, unknown>;
  data?: Record<string, string>;
}

const ISSUER = { name: testIssuerRef.name, kind: testIssuerRef.kind };
// A nameserver that refuses: the checks fail fast and the rollout stays held; this file is about
// the objects the operator writes, not about the gate opening.
const CHECKS = { nameservers: ['127.0.0.1:9'], interval: '1m' };

function server(name: string, namespace: string, externalHost: string) {
  return mapiServerManifest(name, namespace, {
    externalHost, replicas: 1, tls: { issuerRef: ISSUER }, exposure: { ingress: { className: 'nginx' } }, checks: CHECKS,
  });
}

function domain(name: string, namespace: string, domainName: string, aliases: string[] = [], serverRef = 'mapi') {
  return mailDomainManifest(name, namespace, { serverRef, domain: domainName, aliases });
}

const ingressOf = (namespace: string, name: string) => k.tryGet<{ spec: { rules?: { host: string; http: { paths: { backend: { service: { name: string } } }[] } }[] } }>('ingress', namespace, name);
const ingressHosts = async (namespace: string, name: string) => (await ingressOf(namespace, name))?.spec.rules?.map((r) => r.host);
const certNames = async (namespace: string, name: string) => (await k.tryGet<{ spec: { dnsNames: string[] } }>('certificate', namespace, name))?.spec.dnsNames;
const condition = async (kind: string, namespace: string, name: string, type: string) => (await k.tryGet<Obj>(kind, namespace, name))?.status?.conditions?.find((c) => c.type === type);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
/** status.domains.accepted of a MapiServer: the MailDomains it serves. */
const acceptedDomains = async (namespace: string, name: string) => ((await k.tryGet<Obj>('mapiserver', namespace, name))?.status?.['domains'] as { accepted?: number } | undefined)?.accepted;

const serverChildren: [string, string][] = [
  ['certificate', 'mapi-mapi'], ['ingress', 'mapi-mapi'], ['service', 'mapi-mapi'],
  ['deployment', 'mapi-mapi'], ['poddisruptionbudget', 'mapi-mapi'], ['configmap', 'mapi-mapi-access'],
];
const domainChildren: [string, string][] = [['certificate', 'children-example-autodiscover'], ['ingress', 'children-example-autodiscover']];

/** The ConfigMaps of the server's access list, by name. */
async function accessConfigMaps(namespace: string, serverName: string): Promise<Obj[]> {
  const list = await k.json<{ items: Obj[] }>(['get', 'configmaps', '-n', namespace, '-l', `app.kubernetes.io/managed-by=mapi-operator,mapi-operator.io/mapiserver=${serverName}`]);
  return list.items;
}

async function resourceVersions(namespace: string, objects: [string, string][]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [kind, name] of objects) out[`${kind}/${name}`] = (await k.tryGet<Obj>(kind, namespace, name))?.metadata.resourceVersion ?? 'absent';
  return out;
}

before(async () => {
  for (const n of [ns, other]) await freshNamespace(k, n);
  operator = await startOperator({ kubeconfig, namespaces: [ns, other], name: 'children' });
});

after(async () => {
  const code = await operator?.stop();
  assert.equal(code, 0, `operator exit code on SIGTERM (log ${operator?.logFile})`);
  for (const n of [ns, other]) await k(['delete', 'namespace', n, '--wait=false']);
});

describe('MapiServer and MailDomain children', () => {
  test('create: the server and the domain children exist, owned by the right kind, applied by mapi-operator, labelled', async () => {
    await k.apply(server('mapi', ns, 'mail.children.example'));
    await k.apply(domain('children-example', ns, 'children.example', ['children-alias.example']));
    const srv = await waitFor(() => k.tryGet<Obj>('mapiserver', ns, 'mapi'), { describe: 'the MapiServer' });
    const md = await waitFor(() => k.tryGet<Obj>('maildomain', ns, 'children-example'), { describe: 'the MailDomain' });
    const owned = async (kind: string, name: string, owner: Obj, ownerKind: string, labels: Record<string, string>) => {
      const obj = await waitFor(() => k.tryGet<Obj>(kind, ns, name), { describe: `${kind} ${name}`, timeoutMs: 30_000 });
      const refs = obj.metadata.ownerReferences ?? [];
      assert.equal(refs.length, 1, `${kind} ${name} has one owner`);
      assert.equal(refs[0]!.kind, ownerKind, `${kind} ${name} is owned by a ${ownerKind}`);
      assert.equal(refs[0]!.uid, owner.metadata.uid, `${kind} ${name} is owned by ${ownerKind} ${owner.metadata.name}`);
      assert.equal(refs[0]!.controller, true);
      assert.ok(obj.metadata.managedFields?.some((f) => f.manager === 'mapi-operator' && f.operation === 'Apply'), `${kind} ${name} applied with field manager mapi-operator`);
      for (const [key, value] of Object.entries(labels)) assert.equal(obj.metadata.labels?.[key], value, `${kind} ${name} label ${key}`);
    };
    const common = { 'app.kubernetes.io/managed-by': 'mapi-operator', 'mapi-operator.io/mapiserver': 'mapi' };
    for (const [kind, name] of serverChildren) await owned(kind, name, srv, 'MapiServer', common);
    for (const [kind, name] of domainChildren) await owned(kind, name, md, 'MailDomain', { ...common, 'mapi-operator.io/maildomain': 'children-example' });
    assert.equal((await k.tryGet<Obj>('deployment', ns, 'mapi-mapi'))?.metadata.labels?.['mapi-operator.io/maildomain'], undefined, 'a server child names no MailDomain');

    assert.deepEqual(await certNames(ns, 'mapi-mapi'), ['mail.children.example']);
    assert.deepEqual(await ingressHosts(ns, 'mapi-mapi'), ['mail.children.example']);
    assert.deepEqual(await certNames(ns, 'children-example-autodiscover'), ['autodiscover.children.example', 'autodiscover.children-alias.example']);
    const ing = await ingressOf(ns, 'children-example-autodiscover');
    assert.deepEqual(ing?.spec.rules?.map((r) => r.host), ['autodiscover.children.example', 'autodiscover.children-alias.example']);
    assert.deepEqual([...new Set(ing?.spec.rules?.flatMap((r) => r.http.paths.map((p) => p.backend.service.name)))], ['mapi-mapi'], "the domain's hosts go to the server's Service");
    const dep = await k.json<{ spec: { replicas: number } }>(['get', 'deployment', '-n', ns, 'mapi-mapi']);
    assert.equal(dep.spec.replicas, 0, 'held at 0 replicas while the checks fail');

    const status = await waitFor(async () => {
      const o = await k.tryGet<Obj>('mapiserver', ns, 'mapi');
      return o?.status?.observedGeneration === 1 && (o.status.domains as { accepted?: number } | undefined)?.accepted === 1 ? o.status : undefined;
    }, { describe: 'MapiServer status for generation 1 with its MailDomain accepted' });
    assert.equal(status['externalURL'], 'https://mail.children.example');
    assert.equal(status.conditions?.find((c) => c.type === 'RolloutHeld')?.status, 'True');
    assert.equal(status.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
    const accepted = await waitFor(() => condition('maildomain', ns, 'children-example', 'Accepted'), { describe: 'MailDomain Accepted' });
    assert.equal(accepted.status, 'True', accepted.message);
    assert.match(await k.ok(['get', 'mapisrv', '-n', ns]), /EXTERNAL\s+DOMAINS\s+READY\s+ROLLOUT\s+REASON\s+AGE\n\S*mapi\s+mail\.children\.example\s+0\/1\s+False\s+Held/);
    assert.match(await k.ok(['get', 'md', '-n', ns]), /DOMAIN\s+SERVER\s+READY\s+REASON\s+AGE\n\S*children-example\s+children\.example\s+mapi\s+False/);
  });

  test('the access list has only as many ConfigMaps as it needs: one for a domain and three Mailboxes', async () => {
    for (const user of ['ken', 'ann', 'joe']) {
      await k.apply(mailboxManifest(user, ns, { domainRef: 'children-example', address: `${user}@children.example`, ...(user === 'joe' ? { mapiEnabled: false } : {}) }));
    }
    const cms = await waitFor(async () => {
      const list = await accessConfigMaps(ns, 'mapi');
      const shard = list.find((c) => c.metadata.name === 'mapi-mapi-access')?.data?.['mailboxes-0.json'];
      return shard && Object.keys(JSON.parse(shard) as object).length === 3 ? list : undefined;
    }, { describe: 'the three Mailboxes in the access list' });
    assert.deepEqual(cms.map((c) => c.metadata.name), ['mapi-mapi-access'], 'one ConfigMap: index and the only shard together');
    assert.deepEqual(JSON.parse(cms[0]!.data!['mailboxes-0.json']!), { 'ann@children.example': true, 'joe@children.example': false, 'ken@children.example': true });
    const index = JSON.parse(cms[0]!.data!['access.json']!) as { domains: Record<string, { mailDomain: string }>; shards: { count: number } };
    assert.equal(index.shards.count, 1);
    assert.deepEqual(Object.keys(index.domains).sort(), ['children-alias.example', 'children.example']);
  });

  test("a MailDomain change (aliases added, then removed) moves its Ingress rules and Certificate SANs; the server's children and other domains' stay", async () => {
    // A second domain on the same server, to show that a sibling's children do not move either.
    await k.apply(domain('sibling-example', ns, 'sibling.example'));
    await waitFor(() => ingressHosts(ns, 'sibling-example-autodiscover'), { describe: "the sibling's Ingress" });
    // Settled: the server has seen both domains.
    await waitFor(async () => (await acceptedDomains(ns, 'mapi')) === 2, { describe: 'server status: 2 domains' });
    const unmoved: [string, string][] = [...serverChildren.filter(([kind]) => kind !== 'configmap'), ['certificate', 'sibling-example-autodiscover'], ['ingress', 'sibling-example-autodiscover']];
    // cert-manager and the Deployment controller write the status of these objects (a new
    // resourceVersion each time): compare once they are done, so only our writes could move them.
    for (const name of ['mapi-mapi', 'sibling-example-autodiscover']) {
      await waitFor(async () => (await k.tryGet<Obj>('certificate', ns, name))?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True', { describe: `Certificate ${name} issued`, timeoutMs: 60_000 });
    }
    await waitFor(async () => {
      const d = await k.tryGet<{ metadata: { generation: number }; status?: { observedGeneration?: number } }>('deployment', ns, 'mapi-mapi');
      return d?.status?.observedGeneration === d?.metadata.generation;
    }, { describe: 'the Deployment observed' });
    const versionsBefore = await resourceVersions(ns, unmoved);
    const shardBefore = (await k.tryGet<Obj>('configmap', ns, 'mapi-mapi-access'))?.data?.['mailboxes-0.json'];

    await k.apply(domain('children-example', ns, 'children.example', ['children-alias.example', 'children-new.example']));
    await waitFor(async () => (await ingressHosts(ns, 'children-example-autodiscover'))?.includes('autodiscover.children-new.example'), { describe: 'Ingress rule for the new alias' });
    await waitFor(async () => (await certNames(ns, 'children-example-autodiscover'))?.includes('autodiscover.children-new.example'), { describe: 'SAN for the new alias' });
    // The access list maps every domain name to its MailDomain (the per-domain MAPI switch), so
    // the alias reaches the index; the mailboxes and the pod template stay as they are.
    await waitFor(async () => (JSON.parse((await k.tryGet<Obj>('configmap', ns, 'mapi-mapi-access'))?.data?.['access.json'] ?? '{}') as { domains?: Record<string, unknown> }).domains?.['children-new.example'], { describe: 'the alias in the access index' });
    await waitFor(async () => (await k.tryGet<Obj>('maildomain', ns, 'children-example'))?.status?.observedGeneration === 2, { describe: 'MailDomain status for generation 2' });

    await k.apply(domain('children-example', ns, 'children.example', []));
    await waitFor(async () => same(await ingressHosts(ns, 'children-example-autodiscover'), ['autodiscover.children.example']), { describe: 'Ingress without the aliases' });
    await waitFor(async () => same(await certNames(ns, 'children-example-autodiscover'), ['autodiscover.children.example']), { describe: 'Certificate without the aliases' });
    await waitFor(async () => (await k.tryGet<Obj>('maildomain', ns, 'children-example'))?.status?.observedGeneration === 3, { describe: 'MailDomain status for generation 3' });
    // The server reconciles on its domains' changes; give it a resync-free moment to act on them.
    await waitFor(async () => !(JSON.parse((await k.tryGet<Obj>('configmap', ns, 'mapi-mapi-access'))?.data?.['access.json'] ?? '{}') as { domains?: Record<string, unknown> }).domains?.['children-alias.example'], { describe: 'the aliases gone from the access index' });

    assert.deepEqual(await resourceVersions(ns, unmoved), versionsBefore, "the server's Certificate, Ingress, Service, Deployment, PDB and the sibling's children did not move");
    assert.equal((await k.tryGet<Obj>('configmap', ns, 'mapi-mapi-access'))?.data?.['mailboxes-0.json'], shardBefore, 'the Mailboxes in the access list did not change');
  });

  test('a field we own edited by someone else is restored; an annotation of their own is kept', async () => {
    const name = 'children-example-autodiscover';
    await k.ok(['annotate', 'ingress', '-n', ns, name, 'team.example/owner=mail-team']);
    await k.ok(['annotate', 'ingress', '-n', ns, name, '--overwrite', 'nginx.ingress.kubernetes.io/proxy-buffering=on']);
    await waitFor(async () => (await k.tryGet<Obj>('ingress', ns, name))?.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-buffering'] === 'off', { describe: 'proxy-buffering restored to off' });
    await k.ok(['patch', 'ingress', '-n', ns, name, '--type=json', '-p', '[{"op":"replace","path":"/spec/rules/0/host","value":"evil.example"}]']);
    await waitFor(async () => (await ingressHosts(ns, name))?.[0] === 'autodiscover.children.example', { describe: 'rule host restored' });
    // A later change of ours must not remove what another manager added.
    await k.apply(domain('children-example', ns, 'children.example', ['children-alias.example']));
    await waitFor(async () => (await ingressHosts(ns, name))?.includes('autodiscover.children-alias.example'), { describe: 'alias rule' });
    const ing = await k.tryGet<Obj>('ingress', ns, name);
    assert.equal(ing?.metadata.annotations?.['team.example/owner'], 'mail-team');
    assert.equal(ing?.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-buffering'], 'off');
  });

  test('an autodiscover host claimed by an older MailDomain in another namespace: Stalled/HostConflict naming it, no rule and no SAN for it', async () => {
    await k.apply(server('mapi', other, 'mail.intruder.example'));
    // children.example as an alias claims autodiscover.children.example, which rec-children/children-example has.
    await k.apply(domain('intruder', other, 'intruder.example', ['children.example']));
    const stalled = await waitFor(async () => {
      const c = await condition('maildomain', other, 'intruder', 'Stalled');
      return c?.status === 'True' ? c : undefined;
    }, { describe: 'intruder Stalled' });
    assert.equal(stalled.reason, 'HostConflict');
    assert.match(stalled.message, new RegExp(`autodiscover\\.children\\.example is already served by MailDomain ${ns}/children-example`));
    await waitFor(async () => same(await ingressHosts(other, 'intruder-autodiscover'), ['autodiscover.intruder.example']), { describe: 'intruder Ingress without the claimed host' });
    await waitFor(async () => same(await certNames(other, 'intruder-autodiscover'), ['autodiscover.intruder.example']), { describe: 'intruder Certificate without the claimed host' });
    assert.ok((await ingressHosts(ns, 'children-example-autodiscover'))?.includes('autodiscover.children.example'), 'the owner keeps its host');
  });

  test('an externalHost claimed by an older MapiServer in another namespace: Stalled/HostConflict naming it, no route and no certificate', async () => {
    await k.apply(server('thief', other, 'mail.children.example'));
    const stalled = await waitFor(async () => {
      const c = await condition('mapiserver', other, 'thief', 'Stalled');
      return c?.status === 'True' ? c : undefined;
    }, { describe: 'thief Stalled' });
    assert.equal(stalled.reason, 'HostConflict');
    assert.match(stalled.message, new RegExp(`spec\\.externalHost mail\\.children\\.example is already served by MapiServer ${ns}/mapi`));
    // It still gets its Service and its held Deployment; the host stays with its owner.
    await waitFor(() => k.tryGet('service', other, 'thief-mapi'), { describe: "thief's Service" });
    assert.equal(await k.tryGet('ingress', other, 'thief-mapi'), undefined, 'no Ingress for the claimed host');
    assert.equal(await k.tryGet('certificate', other, 'thief-mapi'), undefined, 'no Certificate for the claimed host');
    assert.deepEqual(await ingressHosts(ns, 'mapi-mapi'), ['mail.children.example'], 'the owner keeps its host');
  });

  test('a namespaced Issuer that lives in another namespace is refused with the fix', async () => {
    await k.apply({ apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: 'elsewhere', namespace: other }, spec: { selfSigned: {} } });
    await k.apply(mailDomainManifest('issuer-elsewhere', ns, { serverRef: 'mapi', domain: 'issuer.children.example', tls: { issuerRef: { name: 'elsewhere', kind: 'Issuer' } } }));
    const stalled = await waitFor(async () => {
      const c = await condition('maildomain', ns, 'issuer-elsewhere', 'Stalled');
      return c?.reason === 'IssuerNotFound' ? c : undefined;
    }, { describe: 'Stalled/IssuerNotFound' });
    assert.equal(stalled.status, 'True');
    assert.match(stalled.message, new RegExp(`spec\\.tls\\.issuerRef: Issuer elsewhere does not exist in namespace ${ns}; create it there \\(an Issuer must live in the same namespace\\) or name a ClusterIssuer`));
    assert.equal((await condition('maildomain', ns, 'issuer-elsewhere', 'Ready'))?.reason, 'IssuerNotFound');
    // Never a Certificate signed by the other namespace's Issuer: none at all until the policy allows one.
    assert.equal(await k.tryGet('certificate', ns, 'issuer-elsewhere-autodiscover'), undefined);
    await k.ok(['delete', 'maildomain', '-n', ns, 'issuer-elsewhere']);
  });

  test('a MailDomain whose serverRef names no MapiServer: Ready=False/ServerNotFound naming the field, then served once the server appears', async () => {
    await k.apply(domain('early', ns, 'early.children.example', [], 'later'));
    const ready = await waitFor(async () => {
      const c = await condition('maildomain', ns, 'early', 'Ready');
      return c?.reason === 'ServerNotFound' ? c : undefined;
    }, { describe: 'Ready=False/ServerNotFound' });
    assert.equal(ready.status, 'False');
    assert.match(ready.message, new RegExp(`spec\\.serverRef: no MapiServer later in namespace ${ns}; create it, or set spec\\.serverRef to an existing MapiServer`));
    assert.equal((await condition('maildomain', ns, 'early', 'Stalled'))?.status, 'False', 'waiting, not stalled');
    assert.equal(await k.tryGet('ingress', ns, 'early-autodiscover'), undefined, 'nothing is exposed without a server');

    await k.apply(server('later', ns, 'mail.later.children.example'));
    const accepted = await waitFor(async () => {
      const c = await condition('maildomain', ns, 'early', 'Accepted');
      return c?.status === 'True' ? c : undefined;
    }, { describe: 'Accepted once the server exists' });
    assert.match(accepted.message, /served by MapiServer later/);
    const ing = await waitFor(() => ingressOf(ns, 'early-autodiscover'), { describe: "the domain's Ingress" });
    assert.equal(ing.spec.rules?.[0]?.http.paths[0]?.backend.service.name, 'later-mapi');
    assert.deepEqual(await waitFor(() => certNames(ns, 'early-autodiscover'), { describe: "the domain's Certificate" }), ['autodiscover.early.children.example']);
    // On the Ready path: what is left is the gate's own work (certificate, DNS), not the server reference.
    const now = await waitFor(async () => {
      const c = await condition('maildomain', ns, 'early', 'Ready');
      return c && c.reason !== 'ServerNotFound' ? c : undefined;
    }, { describe: 'Ready no longer ServerNotFound' });
    assert.notEqual(now.reason, 'ServerNotFound');
    await waitFor(async () => (await acceptedDomains(ns, 'later')) === 1, { describe: 'the new server counts the domain' });
  });

  test('delete: a MailDomain takes only its own children, the MapiServer the rest; objects we did not create are left alone; freed hosts go to the next claimant', async () => {
    await k.ok(['create', 'configmap', '-n', ns, 'not-ours', '--from-literal=a=b']);
    await k.ok(['label', 'configmap', '-n', ns, 'not-ours', 'mapi-operator.io/mapiserver=mapi']);
    const serverVersions = await resourceVersions(ns, serverChildren.filter(([kind]) => kind !== 'configmap'));
    await k.ok(['delete', 'maildomain', '-n', ns, 'children-example']);
    for (const [kind, name] of domainChildren) {
      await waitFor(async () => (await k.tryGet(kind, ns, name)) === undefined, { describe: `${kind} ${name} garbage-collected`, timeoutMs: 60_000 });
    }
    assert.deepEqual(await resourceVersions(ns, serverChildren.filter(([kind]) => kind !== 'configmap')), serverVersions, "the server's children stay as they were");
    assert.ok(await k.tryGet('ingress', ns, 'sibling-example-autodiscover'), "the sibling's children stay");
    // The autodiscover host is free now: the MailDomain in the other namespace gets it.
    await waitFor(async () => (await ingressHosts(other, 'intruder-autodiscover'))?.includes('autodiscover.children.example'), { describe: 'the freed autodiscover host goes to the remaining claimant', timeoutMs: 30_000 });

    await k.ok(['delete', 'maildomain', '-n', ns, 'sibling-example']);
    await k.ok(['delete', 'mapiserver', '-n', ns, 'mapi']);
    for (const [kind, name] of [...serverChildren, ['certificate', 'sibling-example-autodiscover'], ['ingress', 'sibling-example-autodiscover']] as [string, string][]) {
      await waitFor(async () => (await k.tryGet(kind, ns, name)) === undefined, { describe: `${kind} ${name} garbage-collected`, timeoutMs: 60_000 });
    }
    assert.ok(await k.tryGet('configmap', ns, 'not-ours'), 'a ConfigMap we did not create survives, even with our label on it');
    for (const user of ['ken', 'ann', 'joe']) assert.ok(await k.tryGet('mailbox', ns, user), 'Mailboxes are the user’s, never deleted by the operator');
    // The external host is free now: the newer MapiServer gets its route and certificate.
    await waitFor(async () => same(await ingressHosts(other, 'thief-mapi'), ['mail.children.example']), { describe: 'the freed externalHost goes to the remaining claimant', timeoutMs: 30_000 });
    await waitFor(() => certNames(other, 'thief-mapi'), { describe: "the remaining claimant's Certificate" });
  });
});
