// The chart's RBAC is enough: the real operator, authenticated with a token of the chart's
// ServiceAccount and started with the chart's own arguments and environment, converges a
// MapiServer, a MailDomain and a Mailbox (status, children, Events, Lease) with no 403 in its
// log, for the cluster-wide shape and for watchNamespaces with rbac.readSecrets=false.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { load } from 'js-yaml';
import { testIssuerRef } from '../../../src/dev/cert-manager/issuer.ts';
import { fetchText, startOperator, type OperatorProcess } from '../../../src/dev/operator.ts';
import { waitFor } from '../../../src/dev/wait.ts';
import { one, operatorContainer, releaseNs, tmp, type Obj } from './helm.ts';
import { applyRbac, cleanUp, clusterNs, freshNamespaces, k, kubeconfig, outside, run, runLabel, watchedA, watchedB } from './rbac-support.ts';

before(freshNamespaces);
after(cleanUp);

// --- RBAC is enough: the real operator --------------------------------------------------

async function serviceAccountKubeconfig(sa: string): Promise<string> {
  const admin = load(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[] };
  const cluster = admin.clusters[0]!.cluster;
  const token = (await k.ok(['create', 'token', sa, '-n', releaseNs, '--duration=1h'])).trim();
  const file = path.join(tmp, `${sa}.kubeconfig`);
  writeFileSync(file, JSON.stringify({
    apiVersion: 'v1', kind: 'Config',
    clusters: [{ name: 'mapi-test', cluster: { server: cluster.server, 'certificate-authority-data': cluster['certificate-authority-data'] } }],
    users: [{ name: sa, user: { token } }],
    contexts: [{ name: sa, context: { cluster: 'mapi-test', user: sa } }],
    'current-context': sa,
  }), { mode: 0o600 });
  return file;
}

/** The Deployment's arguments, minus the addresses and log level startOperator sets itself. */
function chartArgs(objects: Obj[]): string[] {
  const args = operatorContainer(objects).args ?? [];
  assert.equal(args[0], 'run');
  return args.slice(1).filter((a) => !/^--(metrics-addr|health-addr|log-level|log-format)=/.test(a));
}

function chartEnv(objects: Obj[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of operatorContainer(objects).env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = releaseNs;
    else assert.fail(`env ${e.name}: the test does not know how to resolve ${JSON.stringify(e.valueFrom)}`);
  }
  return env;
}

const forbiddenLines = (log: string): string[] => log.split('\n').filter((l) => /forbidden|→ 403\b|"statusCode":\s*403\b|\b403 Forbidden\b/i.test(l));

async function stopOperator(op: OperatorProcess): Promise<number | null> {
  const code = await Promise.race([op.stop(), delay(45_000).then(() => 'timeout' as const)]);
  if (code === 'timeout') {
    await op.kill9();
    assert.fail(`the operator did not exit within 45 s of SIGTERM (log ${op.logFile})`);
  }
  return code;
}

const labels = { [runLabel]: run };
/** tenancy=Granted (the chart default): the platform team's grant for a namespace's hosts. */
const grant = (namespace: string, domain: string): Obj => ({
  apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MailDomainGrant', metadata: { name: `chart-${namespace}-${run}`, labels },
  spec: { namespaces: [namespace], domains: [domain], hostSuffixes: [`mail.${domain}`] },
} as Obj);
function mapiServer(namespace: string, host: string, checks: Record<string, unknown> = {}): Obj {
  return {
    apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MapiServer', metadata: { name: 'bluemind', namespace, labels },
    spec: {
      externalHost: host, image: 'registry.example/bm-mapi:5.3.0', replicas: 1,
      tls: { issuerRef: testIssuerRef }, exposure: { ingress: { className: 'nginx' } },
      // A nameserver that refuses: the checks fail fast and the rollout stays held.
      checks: { nameservers: ['127.0.0.1:9'], interval: '1m', ...checks },
    },
  };
}
const mailDomain = (namespace: string, domain: string): Obj => ({ apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MailDomain', metadata: { name: 'example', namespace, labels }, spec: { serverRef: 'bluemind', domain } });
const mailbox = (namespace: string, domain: string): Obj => ({ apiVersion: 'mapi-operator.io/v1alpha2', kind: 'Mailbox', metadata: { name: 'ken', namespace, labels }, spec: { domainRef: 'example', address: `ken.sanchez@${domain}` } });

const observed = async (kind: string, ns: string, name: string): Promise<Obj | undefined> => {
  const o = await k.tryGet<Obj>(kind, ns, name);
  return o && (o.status as { observedGeneration?: number } | undefined)?.observedGeneration === o.metadata.generation ? o : undefined;
};

/** Everything the operator does for the three kinds, each through a permission of its own. */
async function proveConverged(op: OperatorProcess, ns: string, leaseName: string): Promise<void> {
  await waitFor(async () => (await fetchText(`${op.healthUrl()}/readyz`)).status === 200, { timeoutMs: 60_000, describe: `/readyz 200 (log ${op.logFile})` });
  await waitFor(async () => (await k.tryGet<{ spec?: { holderIdentity?: string } }>('lease', releaseNs, leaseName))?.spec?.holderIdentity || undefined, { timeoutMs: 60_000, describe: `Lease ${releaseNs}/${leaseName} held` });
  const server = await waitFor(() => observed('mapiserver', ns, 'bluemind'), { timeoutMs: 90_000, describe: `MapiServer ${ns}/bluemind status for its generation (log ${op.logFile})` });
  await waitFor(() => observed('maildomain', ns, 'example'), { timeoutMs: 60_000, describe: `MailDomain ${ns}/example status (log ${op.logFile})` });
  await waitFor(async () => typeof ((await k.tryGet<Obj>('mailbox', ns, 'ken'))?.status as { mapiEnabled?: unknown } | undefined)?.mapiEnabled === 'boolean', { timeoutMs: 60_000, describe: `Mailbox ${ns}/ken status.mapiEnabled` });
  for (const kind of ['deployments', 'services', 'certificates.cert-manager.io']) {
    await waitFor(async () => {
      const list = await k.json<{ items: Obj[] }>(['get', kind, '-n', ns]);
      return list.items.some((o) => o.metadata.ownerReferences?.some((r) => r.controller && r.uid === server.metadata.uid));
    }, { timeoutMs: 60_000, describe: `a ${kind} owned by the MapiServer in ${ns}` });
  }
  await waitFor(async () => {
    const events = await k.json<{ items: { regarding?: { kind?: string }; reportingController?: string }[] }>(['get', 'events.events.k8s.io', '-n', ns]);
    return events.items.some((e) => e.reportingController === 'mapi-operator');
  }, { timeoutMs: 60_000, describe: `an Event from mapi-operator in ${ns}` });
}

describe('RBAC is enough: the real operator as the chart ServiceAccount', () => {
  test('default (ClusterRole): MapiServer, MailDomain and Mailbox converge and no request is forbidden', { timeout: 5 * 60_000 }, async () => {
    const objects = await applyRbac('mapi-operator', { labelSelector: `${runLabel}=${run}` });
    const op = await startOperator({ kubeconfig: await serviceAccountKubeconfig(one(objects, 'ServiceAccount').metadata.name), args: chartArgs(objects), env: chartEnv(objects), name: 'chart-cluster' });
    try {
      const domain = `cl-${run}.example`;
      await k.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'probe-creds', namespace: clusterNs }, stringData: { username: 'probe', password: 'secret', address: `probe@${domain}` } });
      await k.apply(grant(clusterNs, domain));
      await k.apply(mapiServer(clusterNs, `mail.${domain}`, { probeCredentials: { secretName: 'probe-creds' } }));
      await k.apply(mailDomain(clusterNs, domain));
      await k.apply(mailbox(clusterNs, domain));
      await proveConverged(op, clusterNs, 'mapi-operator-leader');
    } finally {
      assert.equal(await stopOperator(op), 0, `exit code on SIGTERM (log ${op.logFile})`);
    }
    assert.deepEqual(forbiddenLines(op.logs()), [], `no 403 in the operator log (${op.logFile})`);
  });

  test('watchNamespaces + rbac.readSecrets=false: converges with no 403 and leaves other namespaces alone', { timeout: 5 * 60_000 }, async () => {
    const objects = await applyRbac('mapi-scoped', { watchNamespaces: [watchedA, watchedB], rbac: { readSecrets: false } });
    const op = await startOperator({ kubeconfig: await serviceAccountKubeconfig(one(objects, 'ServiceAccount').metadata.name), args: chartArgs(objects), env: chartEnv(objects), name: 'chart-scoped' });
    try {
      const domain = `sc-${run}.example`;
      await k.apply(mapiServer(outside, `mail.out-${run}.example`));
      await k.apply(grant(watchedA, domain));
      await k.apply(mapiServer(watchedA, `mail.${domain}`));
      await k.apply(mailDomain(watchedA, domain));
      await k.apply(mailbox(watchedA, domain));
      await proveConverged(op, watchedA, 'mapi-scoped-mapi-operator-leader');
      assert.equal((await k.tryGet<Obj>('mapiserver', outside, 'bluemind'))?.status, undefined, 'the MapiServer outside watchNamespaces has no status');
    } finally {
      assert.equal(await stopOperator(op), 0, `exit code on SIGTERM (log ${op.logFile})`);
    }
    assert.deepEqual(forbiddenLines(op.logs()), [], `no 403 in the operator log (${op.logFile})`);
  });
});

