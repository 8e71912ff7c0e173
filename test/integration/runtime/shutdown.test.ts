// SIGTERM on a running manager process: in-flight reconciles finish, the lease is released,
// the servers close and the process exits 0.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { applyObject } from '../../../src/kube/apply.ts';
import type { KubeClient } from '../../../src/kube/client.ts';
import type { Lease } from '../../../src/kube/leader-election.ts';
import { sharedKubeconfigPath } from '../../../src/dev/controlplane.ts';
import { createNamespace, deleteNamespace, ensureWidgetCrd, sharedClient, waitFor, widgets } from './helpers.ts';

describe('graceful shutdown of a manager process', { timeout: 90_000 }, () => {
  let client: KubeClient;
  let ns: string;
  before(async () => {
    client = sharedClient();
    ns = await createNamespace(client, 'term');
    await ensureWidgetCrd(client);
  });
  after(async () => {
    await deleteNamespace(client, ns);
  });

  it('on SIGTERM finishes the reconcile in flight, releases the lease and exits 0', async () => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('./manager-process.ts', import.meta.url))], {
      env: { ...process.env, KUBECONFIG_PATH: sharedKubeconfigPath(), NAMESPACE: ns, IDENTITY: 'term-test', SLOW_MS: '3000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Array<Record<string, unknown>> = [];
    let stderr = '';
    let buffered = '';
    child.stdout.on('data', (c: Buffer) => {
      buffered += c.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const l of parts) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
    });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor('the process to lead', () => lines.some((l) => l.msg === 'became leader'), 30_000);
      await applyObject(client, { apiVersion: `${widgets.group}/v1`, kind: 'Widget', metadata: { name: 'slow', namespace: ns }, spec: { size: 1 } }, { fieldManager: 'test-user' });
      // Let the 3 s reconcile start, then ask the process to stop in the middle of it.
      await new Promise((r) => setTimeout(r, 1_000));
      child.kill('SIGTERM');
      let hung: ReturnType<typeof setTimeout> | undefined;
      const code = await Promise.race([exited, new Promise<'hung'>((r) => { hung = setTimeout(() => r('hung'), 20_000); })]);
      clearTimeout(hung);
      assert.equal(code, 0, `exit code (stderr: ${stderr.slice(-2000)})`);
      const reconciled = lines.find((l) => l.msg === 'reconciled' && l.name === 'slow');
      assert.ok(reconciled, 'the reconcile in flight finished before exit');
      assert.equal(reconciled.controller, 'widget');
      assert.equal(reconciled.namespace, ns);
      assert.ok(lines.some((l) => l.msg === 'released the lease'));
      assert.ok(lines.some((l) => l.msg === 'stopped' && l.reason === 'signal'));
      const lease = await client.request<Lease>({ path: `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/mapi-operator-leader` });
      assert.equal(lease.spec?.holderIdentity ?? '', '');
      assert.equal(lease.spec?.leaseDurationSeconds, 1);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
