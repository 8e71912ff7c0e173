#!/usr/bin/env node
// `npm run demo`: the whole product on a local control plane, start to finish, in about two
// minutes. Everything runs on this machine: kube-apiserver, etcd, the controller manager and
// kwok (pods become Ready without containers), cert-manager's real controller with a test CA,
// BIND serving the mail domain's DNS, and a stand-in for the ingress controller.
//   1. a MailDomain whose autodiscover is not published yet: the rollout is held, and says why;
//   2. autodiscover published for the alias domain: the gate opens by itself, MAPI rolls out;
//   3. `mapi-operator check`, the Remote-Connectivity-Analyzer-style report, against it;
//   4. Mailboxes: MAPI on for one, off for another (Get-CASMailbox view).
// `npm run demo -- --keep` leaves it all running until Ctrl-C.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestEnvironment } from '../src/dev/controlplane-environment.ts';
import { startOperator } from '../src/dev/operator.ts';
import { waitFor } from '../src/dev/wait.ts';
import { e2eMailDomain, startWorld, toFront } from '../src/dev/world.ts';
import { freshNamespace } from '../src/dev/kube.ts';
import { repoRoot } from '../src/dev/controlplane-assets.ts';

const keep = process.argv.includes('--keep');
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const step = (s: string) => console.log(`\n${bold(`▶ ${s}`)}`);
const ns = 'mail';

step('Starting a local control plane (etcd, kube-apiserver, controller manager, scheduler, kwok) and cert-manager');
const started = Date.now();
const env = await startTestEnvironment();
process.env.MAPI_TEST_KUBECONFIG = env.controlPlane.kubeconfigPath;
console.log(`  ready in ${((Date.now() - started) / 1000).toFixed(1)} s — export KUBECONFIG=${env.controlPlane.kubeconfigPath}`);

const zonesWithout = { 'example.test': toFront('mail'), 'example-alias.test': [] as string[] };
const zonesWith = { 'example.test': toFront('mail'), 'example-alias.test': ['autodiscover IN CNAME mail.example.test.'] };
const world = await startWorld(zonesWithout);
const k = world.k;
const show = async (args: string[]) => console.log((await k.ok(args)).replace(/^/gm, '  '));
let operator: Awaited<ReturnType<typeof startOperator>> | undefined;

const shutdown = async () => {
  await operator?.stop();
  await world.stop();
  await env.stop();
};

try {
  await freshNamespace(k, ns);
  await world.publishCa(ns);
  step(`DNS (BIND on ${world.dns.nameserver}): mail.example.test → the front; no autodiscover record anywhere yet`);
  operator = await startOperator({ kubeconfig: world.kubeconfig, namespaces: [ns], name: 'demo', args: world.operatorArgs });
  console.log(`  operator running (log ${operator.logFile}, metrics ${operator.metricsUrl()}/metrics)`);

  step('kubectl apply: MailDomain example.test (alias example-alias.test)');
  const md = e2eMailDomain({ name: 'example', namespace: ns, domain: 'example.test', aliases: ['example-alias.test'], nameserver: world.dns.nameserver });
  const manifest = path.join(tmpdir(), 'mapi-demo-maildomain.json');
  writeFileSync(manifest, JSON.stringify(md, null, 2));
  await k.ok(['apply', '-f', manifest]);
  await waitFor(async () => {
    const o = await k.tryGet<{ status?: { rollout?: { reason: string } } }>('maildomain', ns, 'example');
    return o?.status?.rollout?.reason === 'AutodiscoverNotPublished';
  }, { describe: 'the rollout held for autodiscover', timeoutMs: 120_000 });
  await show(['get', 'maildomain', '-n', ns, '-o', 'wide']);
  console.log('  Why (kubectl get md example -o jsonpath=\'{.status.conditions[?(@.type=="RolloutHeld")].message}\'):');
  await show(['get', 'md', '-n', ns, 'example', '-o', 'jsonpath={.status.conditions[?(@.type=="RolloutHeld")].message}{"\\n"}']);
  await show(['get', 'deployment', '-n', ns]);

  step('Publishing autodiscover.example-alias.test (CNAME → mail.example.test): the gate opens on its own (require: Any)');
  await world.setZones(zonesWith);
  await k.ok(['wait', '--for=condition=Ready', 'maildomain/example', '-n', ns, '--timeout=180s']);
  await show(['get', 'maildomain,certificate,ingress,deployment', '-n', ns]);
  await show(['get', 'pods', '-n', ns, '-o', 'wide']);

  step('mapi-operator check — the same checks from anywhere (here pointed at the local front and DNS)');
  const caFile = path.join(tmpdir(), 'mapi-demo-ca.pem');
  writeFileSync(caFile, world.caPem);
  const report = await new Promise<string>((resolve) => {
    execFile(process.execPath, [path.join(repoRoot, 'src/cli/main.ts'), 'check', '--domain', 'example.test', '--alias', 'example-alias.test',
      '--external-host', 'mail.example.test', '--nameserver', world.dns.nameserver, '--ca-file', caFile,
      '--https-port', String(world.front.httpsPort), '--http-port', String(world.front.httpPort)],
    { timeout: 90_000 }, (err, stdout, stderr) => resolve(`${stdout}${stderr}${err ? `(exit ${(err as { code?: number }).code})\n` : '(exit 0)\n'}`));
  });
  console.log(report.replace(/^/gm, '  '));

  step('Mailboxes: MAPI per mailbox, like Set-CASMailbox -MAPIEnabled (kubectl get mbx is the Get-CASMailbox view)');
  for (const [name, address, mapiEnabled] of [['ken', 'ken.sanchez@example.test', true], ['pilar', 'pilar.pinilla@example-alias.test', false]] as const) {
    await k.apply({ apiVersion: 'mapi-operator.io/v1alpha1', kind: 'Mailbox', metadata: { name, namespace: ns }, spec: { domainRef: 'example', address, mapiEnabled } });
  }
  await k.ok(['wait', '--for=condition=Ready', 'mailbox/ken', 'mailbox/pilar', '-n', ns, '--timeout=120s']);
  await show(['get', 'mailboxes', '-n', ns]);
  console.log('  The MAPI pods read this list from /etc/mapi-operator/access (no restart on change):');
  await show(['get', 'configmap', '-n', ns, 'example-mapi-access', '-o', 'jsonpath={.data.access\\.json}']);

  step('Events');
  await show(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.kind=MailDomain', '--sort-by=.metadata.creationTimestamp']);

  if (keep) {
    console.log(`\nStill running. export KUBECONFIG=${env.controlPlane.kubeconfigPath}  — Ctrl-C to stop.`);
    await new Promise<void>((resolve) => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve); });
  }
  step(`Done in ${((Date.now() - started) / 1000).toFixed(0)} s; stopping everything`);
} catch (err) {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  if (operator) console.error(`operator log: ${operator.logFile}`);
  process.exitCode = 1;
} finally {
  await shutdown();
}
