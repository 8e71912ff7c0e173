// Domain ownership with --tenancy Granted, on the real control plane with cert-manager: a tenant
// who claims another tenant's domain first gets nothing (Stalled/NotGranted, no Certificate, no
// route), the granted owner gets its hosts whatever the order, a host freed by deletion passes
// only to a granted claimant, and removing a grant takes the hosts away.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { freshNamespace } from '../../src/dev/kube.ts';
import { repoRoot } from '../../src/dev/controlplane-assets.ts';
import { startOperator, type OperatorProcess } from '../../src/dev/operator.ts';
import { waitFor } from '../../src/dev/wait.ts';
import { domain, get, k, kubeconfig, server, waitForCondition } from './support.ts';

const owner = 'sec-ten-owner';
const squatter = 'sec-ten-squat';
const grantName = 'sec-ten-acme';
let op: OperatorProcess;

const grant = { apiVersion: 'mapi-operator.io/v1alpha2', kind: 'MailDomainGrant', metadata: { name: grantName }, spec: { namespaces: [owner], domains: ['acme-sec.example'], hostSuffixes: ['mail.acme-sec.example'] } };
const dnsNames = async (namespace: string, name: string) => (await get('certificate', namespace, name))?.spec?.dnsNames as string[] | undefined;
const ingressHosts = async (namespace: string, name: string) => ((await get('ingress', namespace, name))?.spec?.rules as { host: string }[] | undefined)?.map((r) => r.host);

before(async () => {
  for (const n of [owner, squatter]) await freshNamespace(k, n);
  await k(['delete', 'maildomaingrant', grantName, '--ignore-not-found']);
  await k.apply(grant);
  op = await startOperator({ kubeconfig, namespaces: [owner, squatter], name: 'sec-tenancy', tenancy: 'Granted' });
});

after(async () => {
  const code = await op?.stop();
  await k(['delete', 'maildomaingrant', grantName, '--ignore-not-found']);
  assert.equal(code, 0, `operator exit code on SIGTERM (log ${op?.logFile})`);
});

describe('MailDomainGrant', () => {
  test('the CRD is cluster-scoped and refuses a grant that grants nothing', async () => {
    const crd = await k.json<{ spec: { scope: string } }>(['get', 'crd', 'maildomaingrants.mapi-operator.io']);
    assert.equal(crd.spec.scope, 'Cluster');
    const r = await k(['apply', '--dry-run=server', '-f', '-'], JSON.stringify({ ...grant, metadata: { name: 'empty' }, spec: { namespaces: [owner] } }));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /grants nothing/);
  });

  test('tenancy is stated at start-up; a bad value is refused naming the flag', async () => {
    assert.match(op.logs(), /tenancy Granted/);
    const open = await startOperator({ kubeconfig, namespaces: [owner], name: 'sec-open', tenancy: 'Open' });
    try {
      await waitFor(() => /TENANCY OPEN: any namespace may claim any mail domain/.test(open.logs()), { describe: `the Open warning (log ${open.logFile})` });
    } finally {
      assert.equal(await open.stop(), 0);
    }
    const bad = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, [path.join(repoRoot, 'src/cli/main.ts'), 'run', '--kubeconfig', kubeconfig, '--tenancy', 'Sometimes'], { timeout: 30_000 }, (err, _out, stderr) => resolve({ code: (err as { code?: number } | null)?.code ?? 0, stderr }));
    });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--tenancy=Sometimes: use Granted .* or Open/);
  });
});

describe('claims under tenancy Granted', () => {
  test('the squatter comes first and gets nothing; the granted owner gets its hosts', async () => {
    await k.apply(server('mapi', squatter, 'mail.acme-sec.example'));
    await k.apply(domain('acme', squatter, 'mapi', 'acme-sec.example'));
    const s = await waitForCondition(op, 'mapiserver', squatter, 'mapi', 'Stalled', 'NotGranted');
    assert.match(s.message, /spec\.externalHost mail\.acme-sec\.example is not granted to namespace sec-ten-squat .*MailDomainGrant .*namespace sec-ten-squat in spec\.namespaces/);
    const d = await waitForCondition(op, 'maildomain', squatter, 'acme', 'Stalled', 'NotGranted');
    assert.match(d.message, /spec\.domain acme-sec\.example, autodiscover host autodiscover\.acme-sec\.example are not granted/);
    // The squatter is older than anything the owner will create, and still holds nothing.
    await new Promise((r) => setTimeout(r, 1100));
    await k.apply(server('mapi', owner, 'mail.acme-sec.example'));
    await k.apply(domain('acme', owner, 'mapi', 'acme-sec.example'));
    await waitFor(async () => (await dnsNames(owner, 'acme-autodiscover'))?.includes('autodiscover.acme-sec.example'), { timeoutMs: 60_000, describe: `owner's autodiscover Certificate (log ${op.logFile})` });
    await waitFor(async () => (await dnsNames(owner, 'mapi-mapi'))?.includes('mail.acme-sec.example'), { timeoutMs: 60_000, describe: 'owner\'s server Certificate' });
    assert.deepEqual(await ingressHosts(owner, 'mapi-mapi'), ['mail.acme-sec.example']);
    for (const [kind, name] of [['certificate', 'mapi-mapi'], ['ingress', 'mapi-mapi'], ['certificate', 'acme-autodiscover'], ['ingress', 'acme-autodiscover']]) {
      assert.equal(await get(kind!, squatter, name!), undefined, `no ${kind} ${name} for the squatter`);
    }
    const ownerStalled = (await get('maildomain', owner, 'acme'))?.status?.conditions?.find((c) => c.type === 'Stalled');
    assert.equal(ownerStalled?.status, 'False', JSON.stringify(ownerStalled));
  });

  test('a host freed by deletion does not pass to the ungranted squatter', async () => {
    await k.ok(['delete', 'maildomain', '-n', owner, 'acme', '--wait=true']);
    await k.ok(['delete', 'mapiserver', '-n', owner, 'mapi', '--wait=true']);
    // The squatter is looked at again (its rival went) and is still refused.
    await waitForCondition(op, 'maildomain', squatter, 'acme', 'Stalled', 'NotGranted');
    await waitForCondition(op, 'mapiserver', squatter, 'mapi', 'Stalled', 'NotGranted');
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(await get('certificate', squatter, 'acme-autodiscover'), undefined);
    assert.equal(await get('ingress', squatter, 'mapi-mapi'), undefined);
    // Re-applied, the owner takes its hosts back at once.
    await k.apply(domain('acme', owner, 'mapi', 'acme-sec.example'));
    await k.apply(server('mapi', owner, 'mail.acme-sec.example'));
    await waitFor(async () => (await dnsNames(owner, 'acme-autodiscover'))?.includes('autodiscover.acme-sec.example'), { timeoutMs: 60_000, describe: 'owner\'s Certificate again' });
  });

  test('removing the grant takes the hosts away: NotGranted, Certificate and route removed', async () => {
    await k.ok(['delete', 'maildomaingrant', grantName]);
    await waitForCondition(op, 'maildomain', owner, 'acme', 'Stalled', 'NotGranted');
    await waitForCondition(op, 'mapiserver', owner, 'mapi', 'Stalled', 'NotGranted');
    await waitFor(async () => (await get('certificate', owner, 'acme-autodiscover')) === undefined && (await get('ingress', owner, 'mapi-mapi')) === undefined,
      { timeoutMs: 30_000, describe: 'Certificate and Ingress removed once the grant is gone' });
    await k.apply(grant);
    await waitForCondition(op, 'maildomain', owner, 'acme', 'Stalled', 'NotStalled', 'False');
  });
});
