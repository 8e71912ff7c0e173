#!/usr/bin/env node
// `npm run demo`: the whole product on a local control plane, start to finish, in about two
// minutes. Everything runs on this machine: kube-apiserver, etcd, the controller manager and
// kwok (pods become Ready without containers), cert-manager's real controller with a test CA,
// BIND serving the mail domains' DNS, and a stand-in for the ingress controller.
//   1. one MapiServer hosting two MailDomains: example.test publishes autodiscover,
//      example-shop.test does not yet — the server's rollout is held, naming it;
//   2. autodiscover published for example-shop.test's alias: the gate opens by itself, MAPI
//      rolls out;
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
import { e2eDomain, e2eMailbox, e2eServer, startWorld, toFront } from '../src/dev/world.ts';
import { freshNamespace } from '../src/dev/kube.ts';
import { ensureFirstRunDependencies } from '../src/dev/first-run.ts';
import { outlookClient } from '../src/dev/outlook-client.ts';
import { repoRoot } from '../src/dev/controlplane-assets.ts';

const keep = process.argv.includes('--keep');
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const step = (s: string) => console.log(`\n${bold(`▶ ${s}`)}`);
const ns = 'mail';

step('Checking what the demo needs on this machine (Go 1.26, BIND, openssl)');
try {
  const installed = await ensureFirstRunDependencies({ log: (line) => console.log(`  ${line}`) });
  console.log(installed.length > 0 ? `  installed: ${installed.join(', ')}` : '  all there');
} catch (err) {
  // The message is the exact command to run; nothing was started yet.
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}

step('Starting a local control plane (etcd, kube-apiserver, controller manager, scheduler, kwok) and cert-manager');
const started = Date.now();
const env = await startTestEnvironment();
process.env.MAPI_TEST_KUBECONFIG = env.controlPlane.kubeconfigPath;
console.log(`  ready in ${((Date.now() - started) / 1000).toFixed(1)} s — export KUBECONFIG=${env.controlPlane.kubeconfigPath}`);

const zonesWithout = { 'example.test': toFront('mail', 'autodiscover'), 'example-shop.test': [] as string[], 'shop-alias.test': [] as string[] };
const zonesWith = { ...zonesWithout, 'shop-alias.test': ['autodiscover IN CNAME mail.example.test.'] };
const KEN = 'ken.sanchez@example.test';
const PILAR = 'pilar.pinilla@shop-alias.test';
const PASSWORD = 'Demo-Passw0rd';
// The gatekeeper sidecar runs for real (kwok pods are not processes: a stand-in lays out its
// access volume like the kubelet and starts it in front of a MAPI test server).
const world = await startWorld(zonesWithout, { gatekeepers: { users: { [KEN]: PASSWORD, [PILAR]: PASSWORD } } });
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
  step(`DNS (BIND on ${world.dns.nameserver}): mail.example.test and autodiscover.example.test → the front; nothing for example-shop.test yet`);
  operator = await startOperator({ kubeconfig: world.kubeconfig, namespaces: [ns], name: 'demo', args: world.operatorArgs });
  console.log(`  operator running (log ${operator.logFile}, metrics ${operator.metricsUrl()}/metrics)`);

  step('kubectl apply: MapiServer bluemind (mail.example.test) hosting MailDomains example.test and example-shop.test (alias shop-alias.test)');
  const manifest = path.join(tmpdir(), 'mapi-demo.json');
  writeFileSync(manifest, JSON.stringify({
    apiVersion: 'v1', kind: 'List', items: [
      e2eServer({ name: 'bluemind', namespace: ns, externalHost: 'mail.example.test', nameserver: world.dns.nameserver }),
      e2eDomain({ name: 'example', namespace: ns, server: 'bluemind', domain: 'example.test' }),
      e2eDomain({ name: 'shop', namespace: ns, server: 'bluemind', domain: 'example-shop.test', aliases: ['shop-alias.test'] }),
    ],
  }, null, 2));
  await k.ok(['apply', '-f', manifest]);
  await waitFor(async () => {
    const o = await k.tryGet<{ status?: { rollout?: { reason: string }; domains?: { accepted: number; passing: number } } }>('mapiserver', ns, 'bluemind');
    return o?.status?.rollout?.reason === 'DomainsNotReady' && o.status.domains?.passing === 1;
  }, { describe: 'the rollout held for example-shop.test', timeoutMs: 120_000 });
  await show(['get', 'mapi', '-n', ns]);
  console.log('  Why (kubectl get mapisrv bluemind -o jsonpath=\'{.status.conditions[?(@.type=="RolloutHeld")].message}\'):');
  await show(['get', 'mapisrv', '-n', ns, 'bluemind', '-o', 'jsonpath={.status.conditions[?(@.type=="RolloutHeld")].message}{"\\n"}']);
  await show(['get', 'deployment', '-n', ns]);

  step('Publishing autodiscover.shop-alias.test (CNAME → mail.example.test): the gate opens on its own (the domain or one alias is enough)');
  await world.setZones(zonesWith);
  await k.ok(['wait', '--for=condition=Ready', 'mapiserver/bluemind', 'maildomain/example', 'maildomain/shop', '-n', ns, '--timeout=300s']);
  await show(['get', 'mapi,certificate,ingress,deployment,poddisruptionbudget', '-n', ns]);
  await show(['get', 'pods', '-n', ns, '-o', 'wide']);

  step('mapi-operator check — the same checks from anywhere (here pointed at the local front and DNS)');
  const caFile = path.join(tmpdir(), 'mapi-demo-ca.pem');
  writeFileSync(caFile, world.caPem);
  const report = await new Promise<string>((resolve) => {
    execFile(process.execPath, [path.join(repoRoot, 'src/cli/main.ts'), 'check', '--domain', 'example-shop.test', '--alias', 'shop-alias.test',
      '--external-host', 'mail.example.test', '--nameserver', world.dns.nameserver, '--ca-file', caFile,
      '--https-port', String(world.front.httpsPort), '--http-port', String(world.front.httpPort), '--probe-loopback'],
    { timeout: 90_000 }, (err, stdout, stderr) => resolve(`${stdout}${stderr}${err ? `(exit ${(err as { code?: number }).code})\n` : '(exit 0)\n'}`));
  });
  console.log(report.replace(/^/gm, '  '));

  step('Mailboxes: MAPI per mailbox, like Set-CASMailbox -MAPIEnabled (kubectl get mbx is the Get-CASMailbox view)');
  for (const [name, domainRef, address, mapiEnabled] of [['ken', 'example', KEN, true], ['pilar', 'shop', PILAR, false]] as const) {
    await k.apply(e2eMailbox({ name, namespace: ns, domainRef, address, mapiEnabled }));
  }
  await k.ok(['wait', '--for=condition=Ready', 'mailbox/ken', 'mailbox/pilar', '-n', ns, '--timeout=120s']);
  await show(['get', 'mailboxes', '-n', ns]);
  console.log('  The gatekeeper in every MAPI pod reads this list from /etc/mapi-operator/access (no restart on change):');
  await show(['get', 'configmap', '-n', ns, 'bluemind-mapi-access', '-o', 'jsonpath={.data.access\\.json}{"\\n"}{.data.mailboxes-0\\.json}{"\\n"}']);

  step('What Outlook gets, through the front and the gatekeeper in the MAPI pod');
  const outlook = outlookClient({ front: world.front, caPem: world.caPem, password: PASSWORD, mailboxIdOf: (a) => world.mapi!.mailboxIdOf(a) });
  for (const address of [KEN, PILAR]) {
    const seen = await waitFor(async () => {
      const s = await outlook.sees('mail.example.test', address);
      const expectOn = address === KEN;
      return s.mapiSettings === expectOn && s.responseCode === (expectOn ? '0' : '11') ? s : undefined;
    }, { describe: `the gatekeeper's decision for ${address}`, timeoutMs: 60_000 });
    console.log(`  ${address}: autodiscover ${seen.autodiscoverStatus} ${seen.mapiSettings ? 'with' : 'without'} MAPI/HTTP settings; MAPI Connect X-ResponseCode ${seen.responseCode}${seen.responseCode === '11' ? ' (no privilege: MAPI is off for this mailbox)' : ''}`);
  }

  step('Events');
  await show(['get', 'events', '-n', ns, '--sort-by=.metadata.creationTimestamp']);

  if (keep) {
    console.log(`\nStill running. export KUBECONFIG=${env.controlPlane.kubeconfigPath}  — Ctrl-C to stop.`);
    await new Promise<void>((resolve) => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve); });
  }
  step(`Done in ${((Date.now() - started) / 1000).toFixed(0)} s; stopping everything`);
} catch (err) {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  // What the resources said when it failed: the first thing anyone debugging asks for.
  const state = await k(['get', 'mapi', '-n', ns, '-o', 'yaml']).catch(() => undefined);
  if (state?.stdout) console.error(state.stdout.split('\n').filter((l) => /reason:|message:|type:|status:|name:/.test(l)).slice(0, 80).join('\n'));
  if (operator) console.error(`operator log: ${operator.logFile}`);
  process.exitCode = 1;
} finally {
  await shutdown();
}
