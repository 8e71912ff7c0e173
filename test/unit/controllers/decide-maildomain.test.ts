import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mailDomain } from '../../support/fixtures.ts';
import { decideMailDomain, checkRows, type MailDomainInputs } from '../../../src/controllers/maildomain/decide.ts';
import type { CheckResult } from '../../../src/checks/types.ts';
import type { MailDomain } from '../../../src/api/maildomain.ts';

const now = new Date('2026-11-22T12:00:00Z');
const passed = (name: string): CheckResult => ({ name, status: 'Passed', reason: 'Ok', message: `${name} ok`, details: {} });
const failed = (name: string): CheckResult => ({ name, status: 'Failed', reason: 'NXDOMAIN', message: `${name} could not be resolved`, details: {} });
const gateFrom = (results: CheckResult[]) => {
  const bad = results.filter((r) => r.status === 'Failed' || r.status === 'Unknown');
  return bad.length === 0 ? { open: true, reason: 'ChecksPassed', message: 'all pass' } : { open: false, reason: 'AutodiscoverNotPublished', message: bad.map((r) => r.message).join('; ') };
};

function inputs(md: MailDomain, over: Partial<MailDomainInputs> = {}): MailDomainInputs {
  return {
    md,
    claimants: [{ namespace: md.metadata.namespace, name: md.metadata.name, creationTimestamp: '2026-01-02T00:00:00Z', spec: md.spec }],
    certificate: { ready: { status: 'True', reason: 'Ready', message: 'Certificate is up to date' }, current: true },
    checks: { results: [passed('tls/mail.example.com'), passed('dns/autodiscover.example.com'), passed('tls/autodiscover.example.com')], checkedAt: now },
    gate: gateFrom,
    mailboxes: [],
    now,
    options: { allowClusterIssuers: true, progressDeadlineMs: 60_000 },
    ...over,
  };
}

const cond = (plan: ReturnType<typeof decideMailDomain>, type: string) => plan.status.conditions?.find((c) => c.type === type);
const kinds = (plan: ReturnType<typeof decideMailDomain>) => (plan.apply as { kind: string }[]).map((o) => o.kind).filter((k) => k !== 'ConfigMap');
const deployment = (plan: ReturnType<typeof decideMailDomain>) => (plan.apply as { kind: string; spec: { replicas: number } }[]).find((o) => o.kind === 'Deployment')!;

test('checks pass and certificate ready on a new MailDomain: rolls out, Reconciling until pods are ready', () => {
  const md = mailDomain();
  const plan = decideMailDomain(inputs(md));
  assert.deepEqual(kinds(plan), ['Service', 'Deployment', 'Certificate', 'Ingress']);
  assert.equal(deployment(plan).spec.replicas, 2);
  assert.equal(cond(plan, 'Ready')?.status, 'False');
  assert.equal(cond(plan, 'Reconciling')?.status, 'True');
  assert.equal(cond(plan, 'CertificateReady')?.status, 'True');
  assert.equal(cond(plan, 'ChecksPassed')?.status, 'True');
  assert.equal(plan.status.rollout?.state, 'Progressing');
  assert.equal(plan.status.externalURL, 'https://mail.example.com');
  assert.deepEqual(plan.status.autodiscoverURLs, ['https://autodiscover.example.com/autodiscover/autodiscover.xml']);
  for (const c of plan.status.conditions ?? []) assert.equal(c.observedGeneration, 1);
});

test('autodiscover not published: held at 0 replicas, RolloutHeld=True naming the host', () => {
  const md = mailDomain();
  const plan = decideMailDomain(inputs(md, { checks: { results: [passed('tls/mail.example.com'), failed('dns/autodiscover.example.com')], checkedAt: now } }));
  assert.equal(deployment(plan).spec.replicas, 0);
  assert.equal(cond(plan, 'RolloutHeld')?.status, 'True');
  assert.match(cond(plan, 'RolloutHeld')?.message ?? '', /autodiscover\.example\.com/);
  assert.equal(cond(plan, 'AutodiscoverPublished')?.status, 'False');
  assert.equal(plan.status.rollout?.state, 'Held');
});

test('checks not run yet: held, conditions Unknown rather than False', () => {
  const plan = decideMailDomain(inputs(mailDomain(), { checks: undefined }));
  assert.equal(deployment(plan).spec.replicas, 0);
  assert.equal(cond(plan, 'ChecksPassed')?.status, 'Unknown');
  assert.equal(cond(plan, 'AutodiscoverPublished')?.status, 'Unknown');
});

test('certificate mirrored from cert-manager with its message; pending before it has a Ready condition', () => {
  const bad = decideMailDomain(inputs(mailDomain(), { certificate: { ready: { status: 'False', reason: 'Failed', message: 'ACME order failed' }, current: true } }));
  assert.equal(cond(bad, 'CertificateReady')?.status, 'False');
  assert.match(cond(bad, 'CertificateReady')?.message ?? '', /ACME order failed/);
  const pending = decideMailDomain(inputs(mailDomain(), { certificate: undefined }));
  assert.equal(cond(pending, 'CertificateReady')?.status, 'Unknown');
});

test('a host claimed by an older MailDomain in another namespace: Stalled/HostConflict naming it, no rule or SAN for it', () => {
  const older = mailDomain({ domain: 'example.net', externalHost: 'mail.example.com' }, 'other', 'tenant-a');
  const md = mailDomain();
  const plan = decideMailDomain(inputs(md, {
    claimants: [
      { namespace: 'tenant-a', name: 'other', creationTimestamp: '2026-01-01T00:00:00Z', spec: older.spec },
      { namespace: 'mail', name: 'example-com', creationTimestamp: '2026-01-02T00:00:00Z', spec: md.spec },
    ],
  }));
  assert.equal(cond(plan, 'Stalled')?.status, 'True');
  assert.equal(cond(plan, 'Stalled')?.reason, 'HostConflict');
  assert.match(cond(plan, 'Stalled')?.message ?? '', /mail\.example\.com is already served by MailDomain tenant-a\/other/);
  const objs = plan.apply as { kind: string; spec: { dnsNames?: string[]; rules?: { host: string }[] } }[];
  assert.deepEqual(objs.find((o) => o.kind === 'Certificate')?.spec.dnsNames, ['autodiscover.example.com']);
  assert.deepEqual(objs.find((o) => o.kind === 'Ingress')?.spec.rules?.map((r) => r.host), ['autodiscover.example.com']);
  assert.equal(deployment(plan).spec.replicas, 0);
  assert.equal(cond(plan, 'Ready')?.status, 'False');
});

test('an Issuer missing from the namespace is reported with the fix', () => {
  const md = mailDomain({ tls: { issuerRef: { name: 'ca', kind: 'Issuer' } } });
  const plan = decideMailDomain(inputs(md, { issuerExists: false }));
  assert.equal(cond(plan, 'CertificateReady')?.reason, 'IssuerNotFound');
  assert.match(cond(plan, 'CertificateReady')?.message ?? '', /must live in the MailDomain's namespace/);
});

test('ClusterIssuer refused when the operator is told to refuse them', () => {
  const plan = decideMailDomain(inputs(mailDomain(), { options: { allowClusterIssuers: false, progressDeadlineMs: 1 } }));
  assert.equal(cond(plan, 'Stalled')?.reason, 'ClusterIssuerNotAllowed');
});

test('mapi disabled: Ready with reason MapiDisabled, Deployment at 0, Certificate and Ingress kept', () => {
  const md = mailDomain({ mapi: { image: 'x:1', enabled: false } });
  const plan = decideMailDomain(inputs(md));
  assert.equal(deployment(plan).spec.replicas, 0);
  assert.equal(cond(plan, 'Ready')?.status, 'True');
  assert.equal(cond(plan, 'Ready')?.reason, 'MapiDisabled');
  assert.equal(cond(plan, 'MapiAvailable')?.status, 'False');
  assert.deepEqual(kinds(plan), ['Service', 'Deployment', 'Certificate', 'Ingress']);
});

test('check rows keep their transition time while the result is unchanged', () => {
  const first = checkRows(undefined, [passed('dns/a.example.com')], now);
  const later = checkRows(first, [passed('dns/a.example.com')], new Date('2026-11-22T13:00:00Z'));
  assert.deepEqual(later, first);
  const changed = checkRows(first, [failed('dns/a.example.com')], new Date('2026-11-22T13:00:00Z'));
  assert.equal(changed[0]?.lastTransitionTime, '2026-11-22T13:00:00Z');
});

test('Events only for condition transitions a person cares about', async () => {
  const { transitionEvents } = await import('../../../src/controllers/maildomain/decide.ts');
  const c = (type: string, status: 'True' | 'False' | 'Unknown', reason = 'R') => ({ type, status, reason, message: `${type} ${status}`, lastTransitionTime: 't' });
  assert.deepEqual(transitionEvents(undefined, [c('RolloutHeld', 'True', 'AutodiscoverNotPublished'), c('Reconciling', 'True')]), [
    { type: 'Warning', reason: 'AutodiscoverNotPublished', message: 'RolloutHeld True' },
  ]);
  assert.deepEqual(transitionEvents([c('RolloutHeld', 'True')], [c('RolloutHeld', 'True')]), []);
  assert.deepEqual(transitionEvents([c('RolloutHeld', 'True', 'CertificateNotReady')], [c('RolloutHeld', 'True', 'AutodiscoverNotPublished')]).map((e) => e.reason), ['AutodiscoverNotPublished']);
  assert.deepEqual(transitionEvents([c('Ready', 'False')], [c('Ready', 'True')]).map((e) => e.reason), ['Ready']);
  assert.deepEqual(transitionEvents(undefined, [c('RolloutHeld', 'True', 'ChecksPending'), c('CertificateReady', 'False', 'DoesNotExist')]), [], 'a new MailDomain passing through its first states is not news');
});
