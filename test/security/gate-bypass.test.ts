// The gate cannot be bypassed by hand, on the real control plane: a never-released server held
// at 0 and scaled up with kubectl goes back to 0, also after an operator restart; the release
// decision the operator keeps on the Deployment is absent while it holds.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshNamespace } from '../../src/dev/kube.ts';
import { startOperator, type OperatorProcess } from '../../src/dev/operator.ts';
import { waitFor } from '../../src/dev/wait.ts';
import { ROLLOUT_STARTED_ANNOTATION, LAST_GOOD_TEMPLATE_ANNOTATION } from '../../src/rollout/decision.ts';
import { domain, get, k, kubeconfig, server } from './support.ts';

const ns = 'sec-gate';
let op: OperatorProcess;

before(async () => {
  await freshNamespace(k, ns);
  op = await startOperator({ kubeconfig, namespaces: [ns], name: 'sec-gate' });
});

after(async () => {
  const code = await op?.stop();
  assert.equal(code, 0, `operator exit code on SIGTERM (log ${op?.logFile})`);
});

const replicas = async () => (await get('deployment', ns, 'held-mapi'))?.spec?.replicas as number | undefined;

async function scaleByHandAndSeeItRestored(to: number): Promise<void> {
  await k.ok(['scale', 'deployment', '-n', ns, 'held-mapi', `--replicas=${to}`]);
  await waitFor(async () => (await replicas()) === 0, { timeoutMs: 30_000, describe: `held-mapi back at 0 replicas after a scale to ${to} (log ${op.logFile})` });
  const d = await get('deployment', ns, 'held-mapi');
  assert.equal(d?.metadata.annotations?.[ROLLOUT_STARTED_ANNOTATION], undefined, 'no release recorded');
  assert.equal(d?.metadata.annotations?.[LAST_GOOD_TEMPLATE_ANNOTATION], undefined);
  const held = (await get('mapiserver', ns, 'held'))?.status?.conditions?.find((c) => c.type === 'RolloutHeld');
  assert.equal(held?.status, 'True');
}

test('a held Deployment scaled by hand goes back to 0, before and after an operator restart', async () => {
  await k.apply(server('held', ns, 'mail.held-gate.example', { replicas: 2 }));
  await k.apply(domain('held', ns, 'held', 'held-gate.example'));
  await waitFor(async () => (await replicas()) === 0, { timeoutMs: 60_000, describe: `held-mapi created at 0 replicas (log ${op.logFile})` });
  await scaleByHandAndSeeItRestored(3);
  await scaleByHandAndSeeItRestored(1);

  // The decision lives on the Deployment, not in the process: a new operator holds it too.
  assert.equal(await op.stop(), 0);
  await k.ok(['scale', 'deployment', '-n', ns, 'held-mapi', '--replicas=5']);
  op = await startOperator({ kubeconfig, namespaces: [ns], name: 'sec-gate-2' });
  await waitFor(async () => (await replicas()) === 0, { timeoutMs: 60_000, describe: `a restarted operator restores 0 replicas (log ${op.logFile})` });
  await scaleByHandAndSeeItRestored(2);
});
