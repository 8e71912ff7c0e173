import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideMailDomain, withoutServerRows } from '../../../src/controllers/maildomain/decide.ts';
import { certificateCheck, transitionEvents } from '../../../src/controllers/conditions.ts';
import { observedCertificate } from '../../../src/controllers/observed.ts';
import { mailDomain, mapiServer, NOW, row } from '../gate/fixtures.ts';
import { decideDomain, domainChecks, READY_CERT } from '../gate/world.ts';

type Plan = ReturnType<typeof decideMailDomain>;
const cond = (plan: Plan, type: string) => plan.status.conditions?.find((c) => c.type === type);
const events = (plan: Plan, before?: Plan) => transitionEvents(before?.status.conditions, plan.status.conditions);
const summary = (plan: Plan, type: string) => {
  const c = cond(plan, type);
  return c ? [c.status, c.reason] : undefined;
};
const kinds = (plan: Plan) => (plan.apply as { kind: string }[]).map((o) => o.kind);

const server = mapiServer();
const md = mailDomain('example.com', { aliases: ['example.org'] });

describe('decideMailDomain', () => {
  it('published and served, certificate Ready: Ready, accepted, passing verdict; its own Certificate and Ingress to the server\'s Service', () => {
    const plan = decideDomain(md, server, 'published');
    assert.deepEqual(kinds(plan), ['Certificate', 'Ingress']);
    const ingress = plan.apply[1] as { spec: { rules: { host: string; http: { paths: { backend: { service: { name: string } } }[] } }[] } };
    assert.deepEqual(ingress.spec.rules.map((r) => r.host), ['autodiscover.example.com', 'autodiscover.example.org']);
    assert.equal(ingress.spec.rules[0]?.http.paths[0]?.backend.service.name, 'bluemind-mapi');
    assert.equal(plan.accepted, true);
    assert.equal(plan.verdict?.passing, true);
    for (const type of ['Ready', 'Accepted', 'CertificateReady', 'AutodiscoverPublished', 'ChecksPassed']) assert.equal(cond(plan, type)?.status, 'True', type);
    assert.deepEqual(summary(plan, 'Stalled'), ['False', 'NotStalled']);
    assert.deepEqual(summary(plan, 'Reconciling'), ['False', 'Reconciled']);
    assert.deepEqual(plan.status.autodiscoverURLs, ['https://autodiscover.example.com/autodiscover/autodiscover.xml', 'https://autodiscover.example.org/autodiscover/autodiscover.xml']);
    for (const c of plan.status.conditions ?? []) assert.equal(c.observedGeneration, 1);
    // The external host's rows belong to the MapiServer's status.
    assert.ok(!plan.status.checks?.some((r) => r.name.endsWith('/mail.hoster.example')));
    assert.ok(events(plan).some((e) => e.reason === 'Ready'));
  });

  it('unpublished: Ready=False with its own reason and the host, still accepted (it counts in the server gate)', () => {
    const plan = decideDomain(md, server, 'unpublished');
    assert.deepEqual(summary(plan, 'Ready'), ['False', 'AutodiscoverNotPublished']);
    assert.match(cond(plan, 'Ready')?.message ?? '', /dns\/autodiscover\.example\.com Failed \(NameNotFound\)/);
    assert.deepEqual(summary(plan, 'AutodiscoverPublished'), ['False', 'AutodiscoverNotPublished']);
    assert.deepEqual(summary(plan, 'Reconciling'), ['True', 'AutodiscoverNotPublished']);
    assert.equal(plan.accepted, true);
    assert.equal(plan.verdict?.passing, false);
  });

  it('published but TLS broken: AutodiscoverTlsFailed', () => {
    const plan = decideDomain(md, server, 'tls-broken');
    assert.deepEqual(summary(plan, 'Ready'), ['False', 'AutodiscoverTlsFailed']);
    assert.deepEqual(summary(plan, 'AutodiscoverPublished'), ['True', 'AutodiscoverPublished']);
  });

  it('checks not run yet: ChecksPending, Unknown', () => {
    const plan = decideMailDomain({ md, server, claim: { owned: ['autodiscover.example.com', 'autodiscover.example.org'], conflicts: [] }, issuer: {}, certificate: READY_CERT, now: NOW, options: { allowClusterIssuers: true } });
    assert.deepEqual(summary(plan, 'Ready'), ['False', 'ChecksPending']);
    assert.deepEqual(summary(plan, 'ChecksPassed'), ['Unknown', 'ChecksPending']);
    assert.deepEqual(summary(plan, 'AutodiscoverPublished'), ['Unknown', 'ChecksPending']);
    assert.equal(plan.verdict?.reason, 'ChecksPending');
    assert.ok(!events(plan).some((e) => e.reason === 'ChecksPending'), 'a transient state is no news');
  });

  describe('a new process (restart, failover) before its own first check run', () => {
    const withoutChecks = (domain: typeof md, later = NOW) => decideMailDomain({
      md: domain, server, claim: { owned: ['autodiscover.example.com', 'autodiscover.example.org'], conflicts: [] },
      issuer: {}, certificate: READY_CERT, now: later, options: { allowClusterIssuers: true },
    });
    const later = new Date(NOW.getTime() + 60_000);

    for (const world of ['published', 'unpublished', 'tls-broken'] as const) {
      it(`keeps the status the last run wrote for this generation (${world}): no write, no flap, no Event`, () => {
        const converged = decideDomain(md, server, world);
        const restarted = withoutChecks({ ...md, status: converged.status }, later);
        assert.deepEqual(restarted.status, converged.status);
        assert.deepEqual(events(restarted, converged), []);
      });
    }

    it('the gate does not take the inherited rows: it waits for this process\'s own run', () => {
      const converged = decideDomain(md, server, 'published');
      const restarted = withoutChecks({ ...md, status: converged.status }, later);
      assert.equal(cond(restarted, 'Ready')?.status, 'True');
      assert.equal(restarted.verdict?.reason, 'ChecksPending');
      assert.equal(restarted.verdict?.passing, false);
      // Its server is told, so its status keeps the last run's report too.
      assert.equal(restarted.judgedByLastRun, true);
      assert.equal(converged.judgedByLastRun, false);
    });

    it('rows of another generation are not inherited: checks pending', () => {
      const converged = decideDomain(md, server, 'published');
      const edited = { ...md, metadata: { ...md.metadata, generation: 2 }, status: converged.status };
      assert.deepEqual(summary(withoutChecks(edited, later), 'ChecksPassed'), ['Unknown', 'ChecksPending']);
      assert.equal(withoutChecks(edited, later).judgedByLastRun, false);
    });

    it('the certificate is judged live, not inherited', () => {
      const converged = decideDomain(md, server, 'published');
      const restarted = decideMailDomain({
        md: { ...md, status: converged.status }, server, claim: { owned: ['autodiscover.example.com', 'autodiscover.example.org'], conflicts: [] },
        issuer: {}, certificate: { ready: { status: 'False', reason: 'Expired', message: 'the certificate expired' }, current: true },
        now: later, options: { allowClusterIssuers: true },
      });
      assert.deepEqual(summary(restarted, 'Ready'), ['False', 'CertificateNotReady']);
    });

    it('an SRV-only answer is not inherited (its row does not keep the SRV target): checks pending', () => {
      const converged = decideDomain(md, server, 'published');
      const checks = (converged.status.checks ?? []).map((r) => (r.name === 'dns/autodiscover.example.com' ? { ...r, reason: 'SrvRecordOnly' } : r));
      const restarted = withoutChecks({ ...md, status: { ...converged.status, checks } }, later);
      assert.deepEqual(summary(restarted, 'ChecksPassed'), ['Unknown', 'ChecksPending']);
    });
  });

  it('certificate not issued yet: CertificateNotReady', () => {
    const plan = decideDomain(md, server, 'published', { certificate: { ready: { status: 'False', reason: 'Issuing', message: 'ACME order pending' }, current: true } });
    assert.deepEqual(summary(plan, 'Ready'), ['False', 'CertificateNotReady']);
    assert.deepEqual(summary(plan, 'CertificateReady'), ['False', 'CertificateNotReady']);
    assert.match(cond(plan, 'Ready')?.message ?? '', /ACME order pending/);
  });

  describe('while cert-manager issues the certificate (every new domain\'s way): no verdict yet, not a failure', () => {
    const issuing = { ready: { status: 'False', reason: 'DoesNotExist', message: 'Issuing certificate as Secret does not exist' }, issuing: { status: 'True', reason: 'DoesNotExist', message: 'Issuing certificate as Secret does not exist' }, current: true };

    it('CertificateIssuing: Ready False, ChecksPassed and CertificateReady Unknown, the certificate row Unknown, no Warning Event', () => {
      const plan = decideDomain(md, server, 'published', { certificate: issuing });
      assert.deepEqual(summary(plan, 'Ready'), ['False', 'CertificateIssuing']);
      assert.deepEqual(summary(plan, 'Reconciling'), ['True', 'CertificateIssuing']);
      assert.deepEqual(summary(plan, 'ChecksPassed'), ['Unknown', 'CertificateIssuing']);
      assert.deepEqual(summary(plan, 'CertificateReady'), ['Unknown', 'Issuing']);
      const row = plan.status.checks?.find((r) => r.name === 'certificate');
      assert.deepEqual([row?.status, row?.reason], ['Unknown', 'Issuing']);
      assert.match(cond(plan, 'Ready')?.message ?? '', /not issued yet: waiting for cert-manager to issue Certificate example-com-autodiscover/);
      assert.deepEqual(events(plan).filter((e) => e.type === 'Warning'), []);
    });

    it('a failed attempt (lastFailureTime) is CertificateNotReady with a Warning, though cert-manager retries (Issuing again)', () => {
      const plan = decideDomain(md, server, 'published', { certificate: { ...issuing, failedAt: '2026-01-01T00:00:00Z' } });
      assert.deepEqual(summary(plan, 'Ready'), ['False', 'CertificateNotReady']);
      assert.deepEqual(summary(plan, 'CertificateReady'), ['False', 'CertificateNotReady']);
      assert.ok(events(plan).some((e) => e.type === 'Warning' && e.reason === 'CertificateNotReady'), JSON.stringify(events(plan)));
    });

    it('an expired certificate being renewed is CertificateNotReady: the expired one is what Outlook meets now', () => {
      const plan = decideDomain(md, server, 'published', { certificate: { ...issuing, ready: { status: 'False', reason: 'Expired', message: 'expired' } } });
      assert.deepEqual(summary(plan, 'Ready'), ['False', 'CertificateNotReady']);
    });

    it('issued at last: the Warning-free path ends Ready with Normal Events (certificate, Ready)', () => {
      const before = decideDomain(md, server, 'published', { certificate: issuing });
      const after = decideDomain({ ...md, status: before.status }, server, 'published');
      assert.deepEqual(summary(after, 'Ready'), ['True', 'Ready']);
      assert.deepEqual(events(after, before).map((e) => `${e.type} ${e.reason}`), ['Normal CertificateReady', 'Normal Ready']);
    });
  });

  it('serverRef names no MapiServer: ServerNotFound naming the field, Reconciling, nothing applied or pruned', () => {
    const plan = decideDomain(md, undefined, 'published');
    assert.deepEqual(summary(plan, 'Ready'), ['False', 'ServerNotFound']);
    assert.deepEqual(summary(plan, 'Reconciling'), ['True', 'ServerNotFound']);
    assert.deepEqual(summary(plan, 'Accepted'), ['False', 'ServerNotFound']);
    assert.match(cond(plan, 'Ready')?.message ?? '', /spec\.serverRef: no MapiServer bluemind in namespace mail/);
    assert.deepEqual([plan.apply, plan.prune, plan.accepted, plan.verdict], [[], [], false, undefined]);
  });

  it('a host owned by an older MailDomain: Stalled/HostConflict naming it, no certificate name nor route for it, not accepted', () => {
    const plan = decideDomain(md, server, 'published', {
      claim: { owned: ['autodiscover.example.com'], conflicts: [{ host: 'autodiscover.example.org', owner: { namespace: 'tenant-a', name: 'org' } }] },
    });
    assert.deepEqual(summary(plan, 'Stalled'), ['True', 'HostConflict']);
    assert.deepEqual(summary(plan, 'Ready'), ['False', 'HostConflict']);
    assert.deepEqual(summary(plan, 'Accepted'), ['False', 'HostConflict']);
    assert.match(cond(plan, 'Stalled')?.message ?? '', /autodiscover\.example\.org is already served by MailDomain tenant-a\/org/);
    const cert = plan.apply.find((o) => (o as { kind: string }).kind === 'Certificate') as { spec: { dnsNames: string[] } };
    assert.deepEqual(cert.spec.dnsNames, ['autodiscover.example.com']);
    assert.deepEqual([plan.accepted, plan.verdict, plan.stalled?.reason], [false, undefined, 'HostConflict']);
    assert.ok(events(plan).some((e) => e.type === 'Warning' && e.reason === 'HostConflict'));
  });

  it('every host owned elsewhere: nothing applied, its Certificate and Ingress pruned', () => {
    const plan = decideDomain(md, server, 'published', {
      claim: { owned: [], conflicts: [{ host: 'autodiscover.example.com', owner: { namespace: 'a', name: 'b' } }, { host: 'autodiscover.example.org', owner: { namespace: 'a', name: 'b' } }] },
    });
    assert.deepEqual(plan.apply, []);
    assert.deepEqual(plan.prune, [{ kind: 'Certificate', name: 'example-com-autodiscover' }, { kind: 'Ingress', name: 'example-com-autodiscover' }]);
  });

  it('issuer policies: ClusterIssuerNotAllowed (inherited issuer named), IssuerNotFound; the Certificate is left as it is', () => {
    const denied = decideDomain(md, server, 'published', { options: { allowClusterIssuers: false } });
    assert.deepEqual(summary(denied, 'Stalled'), ['True', 'ClusterIssuerNotAllowed']);
    assert.match(cond(denied, 'Stalled')?.message ?? '', /inherited from MapiServer bluemind/);
    assert.deepEqual(kinds(denied), ['Ingress']);
    assert.deepEqual(denied.prune, []);

    const own = mailDomain('example.com', { tls: { issuerRef: { name: 'tenant-ca', kind: 'Issuer' } } });
    const missing = decideDomain(own, server, 'published', { issuer: { exists: false } });
    assert.deepEqual(summary(missing, 'Stalled'), ['True', 'IssuerNotFound']);
    assert.match(cond(missing, 'Stalled')?.message ?? '', /spec\.tls\.issuerRef: Issuer tenant-ca does not exist in namespace mail/);
  });

  it('explicit autodiscover.hosts: judged per the domain they end with (the builders\' one mapping)', () => {
    const explicit = mailDomain('example.com', { aliases: ['mail.example.com'], autodiscover: { hosts: ['autodiscover.mail.example.com'], require: 'All' } });
    const plan = decideDomain(explicit, server, 'published');
    assert.deepEqual(plan.verdict?.hosts.map((h) => [h.host, h.domain]), [['autodiscover.mail.example.com', 'mail.example.com']]);
    // Only mail.example.com has a host: with require All, example.com has none and fails.
    assert.equal(plan.verdict?.passing, false);
    assert.match(plan.verdict?.message ?? '', /example\.com: no autodiscover host is declared for it in spec\.autodiscover\.hosts/);
  });

  it('SRV-published: the tls/ row of the SRV target (the external host) stays in the domain\'s status', () => {
    const results = [
      row('dns/autodiscover.example.com', 'Warning', 'SrvRecordOnly', { srvTarget: 'mail.hoster.example' }),
      row('tls/autodiscover.example.com', 'Warning', 'PublishedBySrvOnly'),
      row('tls/mail.hoster.example', 'Passed', 'CertificateValid'),
      row('http/mail.hoster.example', 'Passed', 'Served'),
    ];
    const single = mailDomain('example.com');
    const plan = decideDomain(single, server, 'published', { checks: { results, checkedAt: NOW } });
    assert.equal(plan.verdict?.passing, true, plan.verdict?.message);
    assert.deepEqual(plan.status.checks?.map((r) => r.name), ['certificate', 'dns/autodiscover.example.com', 'tls/autodiscover.example.com', 'tls/mail.hoster.example']);
  });

  it('withoutServerRows (the rows of its status and metrics): the certificate and the domain\'s hosts; the external host\'s only as an SRV target', () => {
    const own = [row('certificate', 'Passed', 'Ready'), row('dns/autodiscover.example.com', 'Passed', 'CnameToExternalHost'), row('tls/autodiscover.example.com', 'Passed', 'CertificateValid')];
    const external = [row('tls/mail.hoster.example', 'Passed', 'CertificateValid'), row('http/mail.hoster.example', 'Passed', 'Served')];
    assert.deepEqual(withoutServerRows([...own, ...external], 'Mail.Hoster.Example.').map((r) => r.name), own.map((r) => r.name));
    const srv = [row('dns/autodiscover.example.com', 'Warning', 'SrvRecordOnly', { srvTarget: 'Mail.Hoster.Example' }), ...external];
    assert.deepEqual(withoutServerRows(srv, 'mail.hoster.example').map((r) => r.name), ['dns/autodiscover.example.com', 'tls/mail.hoster.example']);
  });

  it('the server\'s own stall is reported on Accepted, not on the domain\'s verdict', () => {
    const plan = decideDomain(md, server, 'published', { serverStalled: { reason: 'HostConflict', message: 'externalHost taken' } });
    assert.deepEqual(summary(plan, 'Ready'), ['True', 'Ready']);
    assert.match(cond(plan, 'Accepted')?.message ?? '', /MapiServer bluemind is Stalled, HostConflict/);
  });

  it('an unchanged world writes the same status (lastTransitionTime kept)', () => {
    const first = decideDomain(md, server, 'published');
    const again = decideDomain({ ...md, status: first.status }, server, 'published', { now: new Date(NOW.getTime() + 60_000) });
    assert.deepEqual(again.status, first.status);
    assert.deepEqual(events(again, first), []);
    assert.equal(domainChecks(md, 'published').length, 8);
  });
});

describe('observedCertificate reads what says cert-manager is at work, or failed', () => {
  const certObj = (status: object) => ({ apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'c', namespace: 'mail', generation: 1 }, spec: { dnsNames: ['autodiscover.example.com'] }, status });
  const issuingCond = { type: 'Issuing', status: 'True', reason: 'DoesNotExist', message: 'Issuing certificate as Secret does not exist' };
  const notReady = { type: 'Ready', status: 'False', reason: 'DoesNotExist', message: 'Issuing certificate as Secret does not exist', observedGeneration: 1 };

  const row = (status: object, names = ['autodiscover.example.com']) => {
    const r = certificateCheck('c', observedCertificate(certObj(status), names));
    return [r.status, r.reason];
  };

  it('not looked at yet, Issuing, or never issued, and no failure: one Unknown/Issuing row (the step between them is no news)', () => {
    assert.deepEqual(row({}), ['Unknown', 'Issuing'], 'no conditions yet');
    assert.deepEqual(row({ conditions: [notReady, issuingCond] }), ['Unknown', 'Issuing']);
    assert.deepEqual(row({ conditions: [notReady] }), ['Unknown', 'Issuing'], 'never issued: cert-manager is about to');
    assert.deepEqual(row({ revision: 1, conditions: [{ ...notReady, reason: 'Ready', status: 'True' }] }, ['autodiscover.example.org']), ['Unknown', 'Issuing'], 'issued for other names: reissuing');
    assert.deepEqual(row({ revision: 1, conditions: [notReady] }), ['Unknown', 'Issuing'], 'issued, the readiness check not caught up yet (Issuing gone, Ready still DoesNotExist)');
    assert.deepEqual(row({ revision: 1, conditions: [{ ...notReady, reason: 'MissingData' }] }), ['Unknown', 'Issuing']);
    assert.equal(certificateCheck('c', observedCertificate(certObj({}), ['autodiscover.example.com'])).message, certificateCheck('c', observedCertificate(certObj({ conditions: [notReady, issuingCond] }), ['autodiscover.example.com'])).message);
  });

  it('a failed attempt (even while retrying), an expired one, or an issued one not ready and not reissuing: Failed', () => {
    const failedIssuing = { type: 'Issuing', status: 'False', reason: 'Failed', message: 'The certificate request has failed to complete and will be retried: denied' };
    assert.deepEqual(row({ lastFailureTime: '2026-01-01T00:00:00Z', conditions: [notReady, failedIssuing] }), ['Failed', 'Failed']);
    assert.match(certificateCheck('c', observedCertificate(certObj({ lastFailureTime: '2026-01-01T00:00:00Z', conditions: [notReady, failedIssuing] }), ['autodiscover.example.com'])).message, /will be retried: denied/);
    assert.deepEqual(row({ lastFailureTime: '2026-01-01T00:00:00Z', conditions: [notReady, issuingCond] }), ['Failed', 'DoesNotExist']);
    assert.deepEqual(row({ revision: 1, lastFailureTime: '2026-01-01T00:00:00Z', conditions: [notReady] }), ['Failed', 'DoesNotExist'], 'the Secret missing after a failed attempt');
    assert.deepEqual(row({ revision: 1, conditions: [{ ...notReady, reason: 'Expired' }, issuingCond] }), ['Failed', 'Expired']);
    assert.deepEqual(row({ revision: 1, conditions: [{ ...notReady, reason: 'SecretMismatch' }] }), ['Failed', 'SecretMismatch']);
  });
});
