// A served host whose certificate cert-manager never issued is not handshaken: its tls/ row
// says so, the scheduler does not retry it as a failure, and the gate calls the short moment
// between the issuance and the next run "checks pending", not a TLS failure. At a hoster's
// onboarding (thousands of certificates over an hour) each of those handshakes could only fail,
// and they were retried every few seconds beside cert-manager.
import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { runChecks } from '../../../src/checks/engine.ts';
import { CERTIFICATE_NOT_ISSUED, certificateNotIssued } from '../../../src/checks/tls-check.ts';
import type { CheckResult, CheckTarget, TlsHandshake } from '../../../src/checks/types.ts';
import { CheckScheduler } from '../../../src/controllers/checks/check-scheduler.ts';
import { unissuedHosts } from '../../../src/controllers/observed.ts';
import { domainVerdict, serverVerdict } from '../../../src/gate/index.ts';
import { domainCheckTarget } from '../../../src/gate/targets.ts';
import type { KubeObject } from '../../../src/kube/index.ts';
import { certificate, fakeDns, fakeIO, fixedClock, handshake } from '../checks/fake-io.ts';

const EXTERNAL = 'mail.hoster.example';
const HOST = 'autodiscover.d0.example';
const passed = (name: string): CheckResult => ({ name, status: 'Passed', reason: 'Ok', message: 'ok', details: {} });

type Condition = { type: string; status: string; reason: string; message: string };
const cert = (o: { ready?: 'True' | 'False'; revision?: number; issuing?: Omit<Condition, 'type' | 'message'>; lastFailureTime?: string } = {}): KubeObject => ({
  apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'd0-autodiscover', namespace: 'mail', uid: 'uid-1' },
  spec: { dnsNames: [HOST] },
  status: {
    ...(o.revision ? { revision: o.revision } : {}),
    ...(o.lastFailureTime ? { lastFailureTime: o.lastFailureTime } : {}),
    conditions: [
      ...(o.ready ? [{ type: 'Ready', status: o.ready, reason: 'x', message: '' }] : []),
      ...(o.issuing ? [{ type: 'Issuing', message: '', ...o.issuing }] : []),
    ],
  },
});

describe('unissuedHosts', () => {
  it('every host while the Certificate is missing or was never issued; none once issued, even while a renewal fails', () => {
    assert.deepEqual(unissuedHosts(undefined, [HOST]), [HOST], 'not created yet');
    assert.deepEqual(unissuedHosts(cert(), [HOST]), [HOST], 'no status yet');
    assert.deepEqual(unissuedHosts(cert({ ready: 'False' }), [HOST]), [HOST], 'being issued');
    assert.deepEqual(unissuedHosts(cert({ ready: 'True', revision: 1 }), [HOST]), []);
    assert.deepEqual(unissuedHosts(cert({ ready: 'False', revision: 3 }), [HOST]), [], 'a failing renewal: the last certificate is still served');
    assert.deepEqual(unissuedHosts(cert({ ready: 'True' }), [HOST]), [], 'Ready from a Secret that was already there');
  });

  it('every host between the first issuance and cert-manager\'s Ready; none once an attempt failed or a new one started', () => {
    assert.deepEqual(unissuedHosts(cert({ ready: 'False', revision: 1 }), [HOST]), [HOST], 'revision 1, the Issuing condition dropped, Ready not set yet');
    assert.deepEqual(unissuedHosts(cert({ ready: 'False', revision: 1, issuing: { status: 'False', reason: 'Issued' } }), [HOST]), [HOST], 'the same with server-side apply');
    assert.deepEqual(unissuedHosts(cert({ revision: 1 }), [HOST]), [HOST], 'no Ready condition yet');
    assert.deepEqual(unissuedHosts(cert({ ready: 'True', revision: 1, issuing: { status: 'False', reason: 'Issued' } }), [HOST]), [], 'Ready');
    assert.deepEqual(unissuedHosts(cert({ ready: 'False', revision: 1, issuing: { status: 'True', reason: 'DoesNotExist' } }), [HOST]), [], 'its Secret gone, issuing again: the host is probed and the failure reported');
    assert.deepEqual(unissuedHosts(cert({ ready: 'False', revision: 1, issuing: { status: 'False', reason: 'Failed' }, lastFailureTime: '2026-12-08T00:00:00Z' }), [HOST]), [], 'a renewal failed');
    assert.deepEqual(unissuedHosts(cert({ ready: 'False', revision: 2 }), [HOST]), [], 'a later issuance: the one before is served');
  });
});

describe('the engine with a host whose certificate was never issued', () => {
  it('handshakes every other host, not that one, and says why in its row', async () => {
    const handshaken: string[] = [];
    const served = (h: string): TlsHandshake => {
      handshaken.push(h);
      const one = handshake({ chain: [certificate({ dnsNames: [h] })] });
      return { ...one, perAddress: [one] } as TlsHandshake;
    };
    const io = fakeIO({ dns: fakeDns({ [EXTERNAL]: { a: ['203.0.113.7'] }, [HOST]: { cname: EXTERNAL }, 'd0.example': { a: ['203.0.113.7'] } }), tls: { handshake: async (h) => served(h) }, clock: fixedClock() });
    const target = (unissued: string[]): CheckTarget => domainCheckTarget(
      { domain: 'd0.example', aliases: [], autodiscover: { require: 'Any', hosts: [] } } as unknown as Parameters<typeof domainCheckTarget>[0],
      { externalHost: EXTERNAL, checks: { nameservers: [] } } as unknown as Parameters<typeof domainCheckTarget>[1],
      { includeHttp: false, unissuedHosts: unissued });

    const before = await runChecks(target([HOST]), io);
    assert.ok(!handshaken.includes(HOST), `handshaken: ${handshaken.join(', ')}`);
    assert.ok(handshaken.includes(EXTERNAL), 'the external host is probed');
    assert.deepEqual(before.find((r) => r.name === `tls/${HOST}`), certificateNotIssued(HOST));
    assert.equal(before.find((r) => r.name === `dns/${HOST}`)?.status, 'Passed', 'DNS is checked all the same: what to publish is news before the certificate');

    const after = await runChecks(target([]), io);
    assert.ok(handshaken.includes(HOST), 'probed once issued');
    assert.equal(after.find((r) => r.name === `tls/${HOST}`)?.status, 'Passed');
    assert.notEqual(JSON.stringify(target([HOST])), JSON.stringify(target([])), 'the issuance changes the target: the scheduler runs it at once');
  });
});

describe('the engine and the http/ probe of a host whose certificate was never issued', () => {
  it('sends no HTTPS request to it (over HTTPS it could only fail, and a failure is retried within seconds) and says why in its row', async () => {
    const requested: string[] = [];
    const io = fakeIO({
      dns: fakeDns({ [EXTERNAL]: { a: ['203.0.113.7'] }, [HOST]: { cname: EXTERNAL }, 'd0.example': { a: ['203.0.113.7'] } }),
      tls: { handshake: async (h) => { const one = handshake({ chain: [certificate({ dnsNames: [h] })] }); return { ...one, perAddress: [one] } as TlsHandshake; } },
      http: { request: async (r) => { requested.push(`${r.scheme}://${r.host}${r.path}`); return { ok: false, failure: 'REFUSED', detail: 'ECONNREFUSED' } as never; } },
      clock: fixedClock(),
    });
    const target = (unissued: string[]): CheckTarget => domainCheckTarget(
      { domain: 'd0.example', aliases: [], autodiscover: { require: 'Any', hosts: [] } } as unknown as Parameters<typeof domainCheckTarget>[0],
      { externalHost: EXTERNAL, checks: { nameservers: [] } } as unknown as Parameters<typeof domainCheckTarget>[1],
      { includeHttp: true, unissuedHosts: unissued });
    const before = await runChecks(target([HOST]), io);
    assert.ok(!requested.some((u) => u.startsWith(`https://${HOST}`)), `requested: ${requested.join(', ')}`);
    assert.deepEqual(before.find((r) => r.name === `http/${HOST}`), certificateNotIssued(HOST, `http/${HOST}`));
    assert.ok(requested.some((u) => u.startsWith(`http://${HOST}`)), 'the plain-HTTP redirect check needs no certificate and runs');
    assert.ok(requested.some((u) => u.startsWith(`https://${EXTERNAL}`)), 'the external host (issued) is probed');
    requested.length = 0;
    const after = await runChecks(target([]), io);
    assert.ok(requested.some((u) => u.startsWith(`https://${HOST}`)), 'probed once issued');
    assert.notEqual(after.find((r) => r.name === `http/${HOST}`)?.reason, CERTIFICATE_NOT_ISSUED);
  });
});

describe('the scheduler and a row not probed', () => {
  it('is no failure: the next run is an interval away (a failure retries after 5 s), and an unchanged run wakes nobody', async (t) => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    t.after(() => mock.timers.reset());
    const runs: number[] = [];
    const changes: string[] = [];
    const scheduler = new CheckScheduler<string>({
      run: async () => { runs.push(Date.now()); return [passed(`dns/${HOST}`), certificateNotIssued(HOST)]; },
      onChange: (key) => changes.push(key),
      random: () => 0.5,
    });
    scheduler.ensure('k', 'target', 60_000);
    for (let i = 0; i < 10; i++) await Promise.resolve();
    assert.equal(runs.length, 1);
    assert.equal(scheduler.nextRunInMs('k'), 60_000);
    for (let s = 0; s < 60; s++) {
      mock.timers.tick(1_000);
      for (let i = 0; i < 10; i++) await Promise.resolve();
    }
    assert.deepEqual(runs, [0, 60_000]);
    assert.deepEqual(changes, ['k'], 'the first run only');
    await scheduler.stop();
  });
});

describe('the gate between the issuance and the run that probes', () => {
  const ready: CheckResult = { name: 'certificate', status: 'Passed', reason: 'Ready', message: 'issued', details: {} };
  const pendingCert: CheckResult = { name: 'certificate', status: 'Unknown', reason: 'Pending', message: 'waiting for cert-manager', details: {} };
  const input = (certificateRow: CheckResult) => ({ require: 'Any' as const, autodiscoverHosts: [{ domain: 'd0.example', host: HOST }], certificate: certificateRow });

  it('a MailDomain: CertificateNotReady while not issued; then checks pending, not AutodiscoverTlsFailed', () => {
    const rows = [passed(`dns/${HOST}`), certificateNotIssued(HOST)];
    assert.equal(domainVerdict([pendingCert, ...rows], input(pendingCert)).reason, 'CertificateNotReady');
    const justIssued = domainVerdict([ready, ...rows], input(ready));
    assert.equal(justIssued.reason, 'ChecksPending');
    assert.equal(justIssued.passing, false);
    assert.match(justIssued.message, /TLS checks of autodiscover\.d0\.example run now/);
    assert.equal(domainVerdict([ready, passed(`dns/${HOST}`), passed(`tls/${HOST}`)], input(ready)).reason, 'ChecksPassed');
  });

  it('a MapiServer: the same for its external host', () => {
    const base = { externalHost: EXTERNAL, domains: [], policy: { domains: 'All' as const, mode: 'Enforce' as const }, checksRan: true };
    assert.equal(serverVerdict({ ...base, certificate: pendingCert, results: [certificateNotIssued(EXTERNAL)] }).reason, 'CertificateNotReady');
    const justIssued = serverVerdict({ ...base, certificate: ready, results: [certificateNotIssued(EXTERNAL)] });
    assert.equal(justIssued.reason, 'ChecksPending');
    assert.notEqual(serverVerdict({ ...base, certificate: ready, results: [passed(`tls/${EXTERNAL}`)] }).reason, 'ChecksPending');
    assert.equal(CERTIFICATE_NOT_ISSUED, certificateNotIssued(EXTERNAL).reason);
  });
});
