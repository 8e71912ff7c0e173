// The reconciler against the real control plane: children, owner references, field manager,
// aliases, drift correction, foreign annotations kept, garbage collection, host conflicts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedKubeconfigPath } from '../../../src/dev/controlplane.ts';
import { freshNamespace, kubectlFor } from '../../../src/dev/kube.ts';
import { startOperator, type OperatorProcess } from '../../../src/dev/operator.ts';
import { waitFor } from '../../../src/dev/wait.ts';

const ns = 'rec-children';
const other = 'rec-children-b';
const kubeconfig = sharedKubeconfigPath();
const k = kubectlFor(kubeconfig);
let operator: OperatorProcess;

type Obj = { metadata: { uid: string; name: string; annotations?: Record<string, string>; ownerReferences?: { uid: string; controller?: boolean; kind: string }[]; managedFields?: { manager: string; operation: string }[] }; spec: Record<string, unknown>; status?: Record<string, unknown> };

function mailDomain(name: string, namespace: string, domain: string, aliases: string[] = [], externalHost = `mail.${domain}`) {
  return {
    apiVersion: 'mapi-operator.io/v1alpha1', kind: 'MailDomain', metadata: { name, namespace },
    spec: {
      domain, aliases, externalHost,
      tls: { issuerRef: { name: 'test-ca', kind: 'ClusterIssuer' } },
      ingress: { className: 'nginx' },
      mapi: { image: 'registry.example/bm-mapi:4.1.0', replicas: 1 },
      // A nameserver that refuses: checks fail fast, the rollout stays held; this file is about children.
      checks: { nameservers: ['127.0.0.1:9'], interval: '1m' },
    },
  };
}

const ingressHosts = async (namespace: string, name: string) => {
  const ing = await k.tryGet<{ spec: { rules?: { host: string }[] } }>('ingress', namespace, name);
  return ing?.spec.rules?.map((r) => r.host);
};
const certNames = async (namespace: string, name: string) => (await k.tryGet<{ spec: { dnsNames: string[] } }>('certificate', namespace, name))?.spec.dnsNames;

before(async () => {
  for (const n of [ns, other]) await freshNamespace(k, n);
  operator = await startOperator({ kubeconfig, namespaces: [ns, other], name: 'children' });
});

after(async () => {
  const code = await operator?.stop();
  assert.equal(code, 0, `operator exit code on SIGTERM (log ${operator?.logFile})`);
  for (const n of [ns, other]) await k(['delete', 'namespace', n, '--wait=false']);
});

describe('MailDomain children', () => {
  test('create: Certificate, Ingress, Service, Deployment and access ConfigMaps exist, owned, applied by mapi-operator', async () => {
    await k.apply(mailDomain('example-com', ns, 'children.example', ['children-alias.example']));
    const md = await waitFor(() => k.tryGet<Obj>('maildomain', ns, 'example-com'), { describe: 'the MailDomain' });
    const children: [string, string][] = [
      ['certificate', 'example-com'], ['ingress', 'example-com'], ['service', 'example-com-mapi'],
      ['deployment', 'example-com-mapi'], ['configmap', 'example-com-mapi-access'], ['configmap', 'example-com-mapi-access-15'],
    ];
    for (const [kind, name] of children) {
      const obj = await waitFor(() => k.tryGet<Obj>(kind, ns, name), { describe: `${kind} ${name}`, timeoutMs: 30_000 });
      const owner = obj.metadata.ownerReferences?.[0];
      assert.equal(owner?.uid, md.metadata.uid, `${kind} ${name} is owned by the MailDomain`);
      assert.equal(owner?.controller, true);
      assert.ok(obj.metadata.managedFields?.some((f) => f.manager === 'mapi-operator' && f.operation === 'Apply'), `${kind} ${name} applied with field manager mapi-operator`);
    }
    assert.deepEqual(await certNames(ns, 'example-com'), ['mail.children.example', 'autodiscover.children.example', 'autodiscover.children-alias.example']);
    const dep = await k.json<{ spec: { replicas: number } }>(['get', 'deployment', '-n', ns, 'example-com-mapi']);
    assert.equal(dep.spec.replicas, 0, 'held at 0 replicas while the checks fail');
    const status = await waitFor(async () => {
      const o = await k.tryGet<Obj>('maildomain', ns, 'example-com');
      return (o?.status as { observedGeneration?: number } | undefined)?.observedGeneration === 1 ? o!.status : undefined;
    }, { describe: 'status.observedGeneration 1' });
    assert.equal((status as { externalURL: string }).externalURL, 'https://mail.children.example');
    const conds = (status as { conditions: { type: string; status: string; reason: string }[] }).conditions;
    assert.equal(conds.find((c) => c.type === 'RolloutHeld')?.status, 'True');
    assert.equal(conds.find((c) => c.type === 'Ready')?.status, 'False');
    const printed = await k.ok(['get', 'md', '-n', ns]);
    assert.match(printed, /DOMAIN\s+EXTERNAL\s+READY\s+ROLLOUT\s+AGE/);
    assert.match(printed, /example-com\s+children\.example\s+mail\.children\.example\s+False\s+Held/);
  });

  test('aliases added, then removed: Ingress rules and Certificate SANs follow', async () => {
    await k.apply(mailDomain('example-com', ns, 'children.example', ['children-alias.example', 'children-new.example']));
    await waitFor(async () => (await ingressHosts(ns, 'example-com'))?.includes('autodiscover.children-new.example'), { describe: 'Ingress rule for the new alias' });
    await waitFor(async () => (await certNames(ns, 'example-com'))?.includes('autodiscover.children-new.example'), { describe: 'SAN for the new alias' });
    await k.apply(mailDomain('example-com', ns, 'children.example', []));
    await waitFor(async () => JSON.stringify(await ingressHosts(ns, 'example-com')) === JSON.stringify(['mail.children.example', 'autodiscover.children.example']), { describe: 'Ingress without the aliases' });
    assert.deepEqual(await certNames(ns, 'example-com'), ['mail.children.example', 'autodiscover.children.example']);
  });

  test('a field we own edited by someone else is restored; an annotation of their own is kept', async () => {
    await k.ok(['annotate', 'ingress', '-n', ns, 'example-com', 'team.example/owner=mail-team']);
    await k.ok(['annotate', 'ingress', '-n', ns, 'example-com', '--overwrite', 'nginx.ingress.kubernetes.io/proxy-buffering=on']);
    await waitFor(async () => (await k.tryGet<Obj>('ingress', ns, 'example-com'))?.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-buffering'] === 'off', { describe: 'proxy-buffering restored to off' });
    await k.ok(['patch', 'ingress', '-n', ns, 'example-com', '--type=json', '-p', '[{"op":"replace","path":"/spec/rules/0/host","value":"evil.example"}]']);
    await waitFor(async () => (await ingressHosts(ns, 'example-com'))?.[0] === 'mail.children.example', { describe: 'rule host restored' });
    // A later change of ours must not remove what another manager added.
    await k.apply(mailDomain('example-com', ns, 'children.example', ['children-alias.example']));
    await waitFor(async () => (await ingressHosts(ns, 'example-com'))?.includes('autodiscover.children-alias.example'), { describe: 'alias rule' });
    const ing = await k.tryGet<Obj>('ingress', ns, 'example-com');
    assert.equal(ing?.metadata.annotations?.['team.example/owner'], 'mail-team');
  });

  test('a host claimed by an older MailDomain in another namespace: Stalled/HostConflict naming it, no rule and no SAN for it', async () => {
    await k.apply(mailDomain('intruder', other, 'intruder.example', [], 'mail.children.example'));
    const status = await waitFor(async () => {
      const o = await k.tryGet<Obj>('maildomain', other, 'intruder');
      const stalled = (o?.status as { conditions?: { type: string; status: string; reason: string; message: string }[] } | undefined)?.conditions?.find((c) => c.type === 'Stalled');
      return stalled?.status === 'True' ? stalled : undefined;
    }, { describe: 'intruder Stalled' });
    assert.equal(status.reason, 'HostConflict');
    assert.match(status.message, new RegExp(`mail\\.children\\.example is already served by MailDomain ${ns}/example-com`));
    await waitFor(async () => JSON.stringify(await ingressHosts(other, 'intruder')) === JSON.stringify(['autodiscover.intruder.example']), { describe: 'intruder Ingress without the stolen host' });
    assert.deepEqual(await certNames(other, 'intruder'), ['autodiscover.intruder.example']);
    assert.equal((await ingressHosts(ns, 'example-com'))?.[0], 'mail.children.example', 'the owner keeps its host');
  });

  test('a namespaced Issuer that lives in another namespace is refused with the fix', async () => {
    await k.apply({ apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: 'elsewhere', namespace: other }, spec: { selfSigned: {} } });
    const manifest = mailDomain('issuer-elsewhere', ns, 'issuer.children.example');
    manifest.spec.tls = { issuerRef: { name: 'elsewhere', kind: 'Issuer' } };
    await k.apply(manifest);
    const c = await waitFor(async () => {
      const o = await k.tryGet<Obj>('maildomain', ns, 'issuer-elsewhere');
      const cert = (o?.status as { conditions?: { type: string; status: string; reason: string; message: string }[] } | undefined)?.conditions?.find((x) => x.type === 'CertificateReady');
      return cert?.reason === 'IssuerNotFound' ? cert : undefined;
    }, { describe: 'CertificateReady=False/IssuerNotFound' });
    assert.equal(c.status, 'False');
    assert.match(c.message, new RegExp(`Issuer elsewhere does not exist in namespace ${ns}: an Issuer must live in the MailDomain's namespace; create it there or use a ClusterIssuer`));
    const cert = await k.tryGet<{ spec: { issuerRef: { name: string; kind: string } } }>('certificate', ns, 'issuer-elsewhere');
    assert.deepEqual(cert?.spec.issuerRef, { name: 'elsewhere', kind: 'Issuer', group: 'cert-manager.io' }, 'the Certificate names the Issuer in its own namespace, never the other one');
    await k.ok(['delete', 'maildomain', '-n', ns, 'issuer-elsewhere']);
  });

  test('delete: the children are garbage-collected; objects we did not create are left alone', async () => {
    await k.ok(['create', 'configmap', '-n', ns, 'not-ours', '--from-literal=a=b']);
    await k.ok(['delete', 'maildomain', '-n', ns, 'example-com']);
    for (const [kind, name] of [['deployment', 'example-com-mapi'], ['ingress', 'example-com'], ['certificate', 'example-com'], ['service', 'example-com-mapi'], ['configmap', 'example-com-mapi-access']]) {
      await waitFor(async () => (await k.tryGet(kind!, ns, name!)) === undefined, { describe: `${kind} ${name} garbage-collected`, timeoutMs: 60_000 });
    }
    assert.ok(await k.tryGet('configmap', ns, 'not-ours'), 'a ConfigMap we did not create survives');
    // The host is free now: the other MailDomain gets it.
    await waitFor(async () => (await ingressHosts(other, 'intruder'))?.includes('mail.children.example'), { describe: 'the freed host goes to the remaining MailDomain', timeoutMs: 30_000 });
  });
});
