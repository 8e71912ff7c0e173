// The local control plane behaves like a cluster: the version we built, workloads that
// really roll out on kwok nodes, garbage collection of owned objects, namespace deletion.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { controlPlaneVersions } from '../../src/dev/controlplane-assets.ts';
import { groupAlive } from '../../src/dev/controlplane-process.ts';
import { sharedKubeconfigPath, startControlPlane } from '../../src/dev/controlplane.ts';
import { waitFor } from '../../src/dev/wait.ts';
import { auditCounts, auditWrites } from '../../src/dev/audit-log.ts';

const kc = new k8s.KubeConfig();
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;
const namespaces: string[] = [];

function isNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === 404;
}

async function newNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name } } });
  namespaces.push(name);
  return name;
}

function deployment(name: string, replicas: number): k8s.V1Deployment {
  const labels = { app: name };
  return {
    metadata: { name, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'server', image: 'registry.example/mapi-test:1.0', ports: [{ containerPort: 8080 }] }] },
      },
    },
  };
}

before(() => {
  kc.loadFromFile(sharedKubeconfigPath());
  core = kc.makeApiClient(k8s.CoreV1Api);
  apps = kc.makeApiClient(k8s.AppsV1Api);
});

after(async () => {
  // Best effort: namespace deletion is itself under test below; leftovers die with the cluster.
  await Promise.all(namespaces.map((name) => core.deleteNamespace({ name }).catch(() => undefined)));
});

describe('shared control plane', () => {
  test('/version reports the Kubernetes version it was built from', async () => {
    const version = await kc.makeApiClient(k8s.VersionApi).getCode();
    assert.equal(version.gitVersion, controlPlaneVersions().KUBERNETES_VERSION);
    assert.equal(version.gitVersion, 'v1.36.3');
    assert.equal(`${version.major}.${version.minor}`, '1.36');
  });

  test('kwok nodes are registered and Ready', async () => {
    const nodes = await core.listNode({ labelSelector: 'type=kwok' });
    assert.ok(nodes.items.length >= 2, `expected at least 2 kwok nodes, got ${nodes.items.length}`);
    for (const node of nodes.items) {
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
      assert.equal(ready?.status, 'True', `node ${node.metadata?.name} Ready condition: ${JSON.stringify(ready)}`);
    }
  });

  test('a Deployment rolls out: ReplicaSet, scheduled pods, Running and Ready', async () => {
    const ns = await newNamespace('rollout');
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('web', 3) });
    const status = await waitFor(
      async () => {
        const d = await apps.readNamespacedDeployment({ name: 'web', namespace: ns });
        return d.status?.readyReplicas === 3 && d.status.updatedReplicas === 3 ? d.status : undefined;
      },
      { timeoutMs: 90_000, describe: `deployment ${ns}/web to have 3 ready replicas` },
    );
    assert.equal(status.availableReplicas, 3);

    const rs = await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=web' });
    assert.equal(rs.items.length, 1);
    assert.equal(rs.items[0]?.metadata?.ownerReferences?.[0]?.kind, 'Deployment');

    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' });
    assert.equal(pods.items.length, 3);
    for (const pod of pods.items) {
      assert.equal(pod.status?.phase, 'Running', `pod ${pod.metadata?.name} phase`);
      assert.match(pod.spec?.nodeName ?? '', /^kwok-node-\d+$/, `pod ${pod.metadata?.name} scheduled on a kwok node`);
      assert.equal(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
      assert.match(pod.status?.podIP ?? '', /^10\.244\./, 'kwok assigns a pod IP from its CIDR');
    }
  });

  test('deleting an owner garbage-collects what it owns', async () => {
    const ns = await newNamespace('gc');
    const owner = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'owner' }, data: { a: '1' } } });
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: {
        metadata: {
          name: 'owned',
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata?.uid as string }],
        },
      },
    });
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('app', 1) });
    await waitFor(
      async () => (await apps.readNamespacedDeployment({ name: 'app', namespace: ns })).status?.readyReplicas === 1,
      { timeoutMs: 90_000, describe: `deployment ${ns}/app to be ready` },
    );

    await core.deleteNamespacedConfigMap({ name: 'owner', namespace: ns });
    await apps.deleteNamespacedDeployment({ name: 'app', namespace: ns, propagationPolicy: 'Background' });

    await waitFor(
      async () => {
        try {
          await core.readNamespacedConfigMap({ name: 'owned', namespace: ns });
          return false;
        } catch (err) {
          if (isNotFound(err)) return true;
          throw err;
        }
      },
      { timeoutMs: 60_000, describe: `configmap ${ns}/owned to be garbage-collected after its owner was deleted` },
    );
    await waitFor(
      async () => {
        const [rs, pods] = await Promise.all([
          apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=app' }),
          core.listNamespacedPod({ namespace: ns, labelSelector: 'app=app' }),
        ]);
        if (rs.items.length + pods.items.length > 0) {
          throw new Error(`${rs.items.length} ReplicaSet(s) and ${pods.items.length} Pod(s) remain`);
        }
        return true;
      },
      { timeoutMs: 60_000, describe: `ReplicaSets and Pods of deployment ${ns}/app to be garbage-collected` },
    );
  });

  test('deleting a namespace with workloads in it finishes', async () => {
    const ns = await newNamespace('nsdel');
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('app', 2) });
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'cfg' } } });
    await waitFor(
      async () => (await apps.readNamespacedDeployment({ name: 'app', namespace: ns })).status?.readyReplicas === 2,
      { timeoutMs: 90_000, describe: `deployment ${ns}/app to be ready` },
    );
    await core.deleteNamespace({ name: ns });
    await waitFor(
      async () => {
        try {
          const n = await core.readNamespace({ name: ns });
          throw new Error(`namespace still exists, phase ${n.status?.phase}: ${JSON.stringify(n.status?.conditions ?? [])}`);
        } catch (err) {
          if (isNotFound(err)) return true;
          throw err;
        }
      },
      { timeoutMs: 90_000, intervalMs: 500, describe: `namespace ${ns} to be deleted` },
    );
  });
});

describe('a private control plane', () => {
  test('restartApiServer keeps port and data; stop() leaves no process behind', async () => {
    const cp = await startControlPlane({ kwok: false });
    let pids: number[] = [];
    try {
      pids = cp.processes().map((p) => p.pid);
      assert.deepEqual(cp.processes().map((p) => p.name).sort(), ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
      const created = await cp.kubectl(['create', 'configmap', 'survivor', '--from-literal=k=v']);
      assert.equal(created.code, 0, created.stderr);
      const before = cp.processes().find((p) => p.name === 'kube-apiserver')?.pid;

      await cp.restartApiServer();

      const afterPid = cp.processes().find((p) => p.name === 'kube-apiserver')?.pid;
      assert.ok(afterPid !== undefined && afterPid !== before, 'a new kube-apiserver process runs');
      pids.push(afterPid);
      const read = await cp.kubectl(['get', 'configmap', 'survivor', '-o', 'jsonpath={.data.k}']);
      assert.equal(read.code, 0, read.stderr);
      assert.equal(read.stdout, 'v', 'data written before the restart is served after it, on the same server URL');
    } finally {
      await cp.stop();
    }
    const alive = pids.filter((pid) => groupAlive(pid));
    assert.deepEqual(alive, [], 'every component process group is gone after stop()');
  });

  test('audit: the audited user\'s requests by verb and resource, its writes with their bodies; nobody else\'s', async () => {
    const cp = await startControlPlane({ kwok: false, audit: { users: ['auditee'] } });
    try {
      const kubeconfig = cp.audit!.kubeconfigs['auditee']!;
      const from = Date.now();
      const asAuditee = (args: string[]) => cp.kubectl([`--kubeconfig=${kubeconfig}`, ...args]);
      for (const r of [await asAuditee(['create', 'configmap', 'audited', '--from-literal=k=v']), await asAuditee(['get', 'configmap', 'audited']), await cp.kubectl(['create', 'configmap', 'not-audited'])]) {
        assert.equal(r.code, 0, r.stderr);
      }
      let counts = new Map<string, number>();
      await waitFor(async () => {
        counts = await auditCounts(cp.audit!.logPath, { user: 'auditee', from });
        return counts.get('GET configmaps') === 1;
      }, { describe: 'the batched audit log flushed', timeoutMs: 15_000, intervalMs: 500 });
      assert.equal(counts.get('POST configmaps'), 1, JSON.stringify([...counts]));
      const writes = await auditWrites(cp.audit!.logPath, { user: 'auditee', from }, 10);
      assert.deepEqual(writes.map((w) => [w.verb, w.resource, w.namespace, w.name ?? JSON.parse(w.body).metadata.name]), [['POST', 'configmaps', 'default', 'audited']]);
      assert.match(writes[0]!.body, /"k":"v"/);
      assert.equal((await auditCounts(cp.audit!.logPath, { user: 'mapi-test-admin' })).size, 0, 'the admin\'s requests are not recorded');
      assert.equal((await auditCounts(cp.audit!.logPath, { user: 'auditee', from: Date.now() + 60_000 })).size, 0, 'nothing after the window');
    } finally {
      await cp.stop();
    }
  });
});
