// What one status write costs the apiserver (and etcd), server-side apply against a JSON merge
// patch, and a status of the Ready condition alone against the Mailbox controller's three
// (Stalled, Reconciling, Ready), on a private control plane: the same client and concurrency,
// rounds interleaved; the two statuses go to two sets of Mailboxes (an apply that leaves out
// conditions it applied before removes them, a change of its own). At a
// hoster's onboarding the operator writes 100,000 Mailbox statuses beside cert-manager's work;
// this says what the write's form is worth, and what the Mailbox CRD's CEL rules (the address
// and domainRef patterns, which the apiserver validates on every write of the object, status
// included) cost against the same CRD without them, under another group. CPU is read from
// /proc for the kube-apiserver and etcd processes; nothing else runs on that control plane (no
// kwok, no controllers of ours).
//
//   npm run bench:status-write -- [--objects 2000] [--rounds 3] [--concurrency 16]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as yaml from 'js-yaml';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { startControlPlane } from '../src/dev/controlplane.ts';
import { applyCrdFolder } from '../src/dev/controlplane-environment.ts';
import { ensureControlPlaneBinaries, repoRoot } from '../src/dev/controlplane-assets.ts';
import { e2eMailbox } from '../src/dev/world.ts';
import { applyObject, applyStatus, patchStatus, KubeClient, loadKubeConfig, type KubeObject, type ResourceRef } from '../src/kube/index.ts';
import { MAILBOXES } from '../src/controllers/resources.ts';
import { pool } from './scale/harness.ts';
import { cpuSeconds, median, positiveInteger } from './measure.ts';

const { values } = parseArgs({ options: { objects: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '3' }, concurrency: { type: 'string', default: '16' } } });
const objects = positiveInteger('objects', values.objects!);
const rounds = positiveInteger('rounds', values.rounds!);
const concurrency = positiveInteger('concurrency', values.concurrency!);
const NS = 'status-write';
const NO_CEL_GROUP = 'nocel.bench.mapi-operator.io';

/** Every x-kubernetes-validations list taken out of a schema, in place. */
function withoutCel(node: unknown): void {
  if (Array.isArray(node)) node.forEach(withoutCel);
  else if (node !== null && typeof node === 'object') {
    delete (node as Record<string, unknown>)['x-kubernetes-validations'];
    Object.values(node).forEach(withoutCel);
  }
}

/** The Mailbox CRD under NO_CEL_GROUP without its CEL rules, in a folder of its own. */
function mailboxCrdWithoutCel(): string {
  const crd = yaml.load(readFileSync(path.join(repoRoot, 'crds', 'mapi-operator.io_mailboxes.yaml'), 'utf8')) as { metadata: { name: string }; spec: { group: string } };
  crd.metadata.name = `mailboxes.${NO_CEL_GROUP}`;
  crd.spec.group = NO_CEL_GROUP;
  withoutCel(crd.spec);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mapi-nocel-crd-'));
  writeFileSync(path.join(dir, 'mailboxes.yaml'), yaml.dump(crd));
  return dir;
}

/** A status as the Mailbox controller writes it; `variant` makes every write a change. */
function mailboxStatus(variant: number, readyOnly = false) {
  const at = new Date(Date.UTC(2026, 11, 3, 0, 0, variant)).toISOString().replace('.000', '');
  const ready = variant % 2 === 0;
  return {
    observedGeneration: 1,
    mapiEnabled: true,
    conditions: [
      ...(readyOnly ? [] : [{ type: 'Stalled', status: 'False', observedGeneration: 1, lastTransitionTime: at, reason: 'NotStalled', message: 'nothing blocks reconciliation' },
      { type: 'Reconciling', status: ready ? 'False' : 'True', observedGeneration: 1, lastTransitionTime: at, reason: ready ? 'Reconciled' : 'MailDomainNotReady', message: ready ? 'up to date' : `waiting (${variant})` }]),
      { type: 'Ready', status: ready ? 'True' : 'False', observedGeneration: 1, lastTransitionTime: at, reason: ready ? 'MapiEnabled' : 'MailDomainNotReady', message: ready ? 'Outlook may connect over MAPI/HTTP' : `MAPI is not rolled out yet (${variant})` },
    ],
  };
}

await ensureControlPlaneBinaries();
const cp = await startControlPlane({ kwok: false });
try {
  await applyCrdFolder(cp, path.join(repoRoot, 'crds'));
  const noCelDir = mailboxCrdWithoutCel();
  await applyCrdFolder(cp, noCelDir);
  rmSync(noCelDir, { recursive: true, force: true });
  const NO_CEL_MAILBOXES: ResourceRef = { ...MAILBOXES, group: NO_CEL_GROUP };
  const client = new KubeClient(loadKubeConfig(cp.kubeconfigPath));
  await applyObject(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const mailboxSet = (prefix: string) => Array.from({ length: objects }, (_, i) => ({ ...e2eMailbox({ name: `${prefix}${i}`, namespace: NS, domainRef: 'd0', address: `${prefix}${i}@d0.test` }) }) as KubeObject);
  const mailboxes = mailboxSet('m');
  const readyOnlyMailboxes = mailboxSet('r');
  const noCelMailboxes = mailboxSet('c').map((m) => ({ ...m, apiVersion: `${NO_CEL_GROUP}/${MAILBOXES.version}` }));
  await pool([...mailboxes, ...readyOnlyMailboxes, ...noCelMailboxes], concurrency, async (m) => { await applyObject(client, m, { fieldManager: 'bench' }); });
  const procs = cp.processes();
  const pidOf = (name: string) => procs.find((p) => p.name === name)?.pid ?? (() => { throw new Error(`no ${name} process (have ${procs.map((p) => p.name).join(', ')})`); })();
  const apiserver = pidOf('kube-apiserver');
  const etcd = pidOf('etcd');

  type Form = 'apply' | 'merge-patch' | 'apply, Ready only' | 'merge-patch, CRD without CEL rules';
  const FORMS: Form[] = ['apply', 'merge-patch', 'apply, Ready only', 'merge-patch, CRD without CEL rules'];
  const write: Record<Form, (m: KubeObject, status: unknown) => Promise<unknown>> = {
    apply: (m, status) => applyStatus(client, m, status),
    'merge-patch': (m, status) => patchStatus(client, MAILBOXES, NS, m.metadata.name!, status),
    'apply, Ready only': (m, status) => applyStatus(client, m, status),
    'merge-patch, CRD without CEL rules': (m, status) => patchStatus(client, NO_CEL_MAILBOXES, NS, m.metadata.name!, status),
  };
  const targets = (form: Form) => (form === 'apply, Ready only' ? readyOnlyMailboxes : form === 'merge-patch, CRD without CEL rules' ? noCelMailboxes : mailboxes);
  const statusOf = (form: Form, variant: number) => mailboxStatus(variant, form === 'apply, Ready only');
  const results: Record<Form, Array<{ apiserverMs: number; etcdMs: number; wallMs: number }>> = { apply: [], 'merge-patch': [], 'apply, Ready only': [], 'merge-patch, CRD without CEL rules': [] };
  let variant = 0;
  // Every object once under each form first (the first write adds the managedFields entry).
  for (const form of FORMS) {
    const status = statusOf(form, ++variant);
    await pool(targets(form), concurrency, async (m) => { await write[form](m, status); });
  }
  for (let r = 0; r < rounds; r++) {
    const order: Form[] = r % 2 === 0 ? FORMS : [...FORMS].reverse();
    for (const form of order) {
      const status = statusOf(form, ++variant);
      const a0 = cpuSeconds(apiserver);
      const e0 = cpuSeconds(etcd);
      const t0 = performance.now();
      await pool(targets(form), concurrency, async (m) => { await write[form](m, status); });
      const wallMs = performance.now() - t0;
      results[form].push({ apiserverMs: ((cpuSeconds(apiserver) - a0) * 1000) / objects, etcdMs: ((cpuSeconds(etcd) - e0) * 1000) / objects, wallMs: wallMs / objects });
      process.stdout.write(`round ${r + 1} ${form}: apiserver ${results[form].at(-1)!.apiserverMs.toFixed(2)} ms, etcd ${results[form].at(-1)!.etcdMs.toFixed(2)} ms CPU per write; ${(objects / (wallMs / 1000)).toFixed(0)} writes/s\n`);
    }
  }
  const m = (form: Form, k: 'apiserverMs' | 'etcdMs' | 'wallMs') => median(results[form].map((x) => x[k]));
  process.stdout.write(`\n${objects} Mailboxes, ${rounds} rounds interleaved, ${concurrency} at once (medians)\n\n`);
  process.stdout.write(`| status write | apiserver CPU per write (ms) | etcd CPU per write (ms) | writes/s | apiserver CPU / apply | / merge-patch |\n|---|---|---|---|---|---|\n`);
  for (const form of FORMS) {
    process.stdout.write(`| ${form} | ${m(form, 'apiserverMs').toFixed(2)} | ${m(form, 'etcdMs').toFixed(2)} | ${(1000 / m(form, 'wallMs')).toFixed(0)} | ${(m(form, 'apiserverMs') / m('apply', 'apiserverMs')).toFixed(2)} | ${(m(form, 'apiserverMs') / m('merge-patch', 'apiserverMs')).toFixed(2)} |\n`);
  }
} finally {
  await cp.stop();
}
