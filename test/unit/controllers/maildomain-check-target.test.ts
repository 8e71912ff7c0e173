// What the MailDomain controller asks the check scheduler to probe: the hosts whose certificate
// was never issued are named as such (not handshaken), the server's external host included,
// until cert-manager issues each certificate.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../../src/kube/index.ts';
import type { CheckRequest, CheckRuns } from '../../../src/controllers/checks/check-runs.ts';
import { domainChildNames, serverChildNames } from '../../../src/builders/index.ts';
import type { MailDomain } from '../../../src/api/maildomain.ts';
import type { MapiServer } from '../../../src/api/mapiserver.ts';
import type { FakeKube } from '../../support/fake-kube.ts';
import { NS, domain, server, servedDomain } from './served-domain.ts';

describe('the MailDomain check target and the certificates not issued yet', () => {
  let kube: FakeKube;
  let reconcile: () => Promise<unknown>;
  const ensured: CheckRequest[] = [];
  const certificate = (name: string, dnsNames: string[], issued: boolean): KubeObject => ({
    apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name, namespace: NS },
    spec: { dnsNames },
    status: issued ? { revision: 1, conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: '' }] } : { conditions: [{ type: 'Ready', status: 'False', reason: 'DoesNotExist', message: '' }] },
  } as KubeObject);
  // The names depend on the metadata only (the TLS Secret's on spec.tls, unused here).
  const withTls = <T extends KubeObject>(o: T) => ({ ...o, spec: { ...(o as { spec?: object }).spec, tls: {} } });
  const serverCert = serverChildNames(withTls(server) as unknown as MapiServer).certificate;
  const domainCert = domainChildNames(withTls(domain) as unknown as MailDomain).certificate;
  const unissuedNow = async () => {
    await reconcile();
    return ensured.at(-1)?.target.unissuedHosts;
  };

  before(async () => {
    const checks: Partial<CheckRuns> = { snapshot: () => undefined, supersededSince: () => undefined, ensure: (_k, _key, req: CheckRequest) => { ensured.push(req); }, forget: () => undefined };
    ({ kube, reconcile } = await servedDomain(checks));
  });
  after(() => kube.stop());

  it('before any Certificate exists: the autodiscover host and the external host', async () => {
    assert.deepEqual(await unissuedNow(), ['autodiscover.a.test', 'mail.s0.test']);
  });

  it('being issued: still both', async () => {
    kube.put(certificate(serverCert, ['mail.s0.test'], false));
    kube.put(certificate(domainCert, ['autodiscover.a.test'], false));
    assert.deepEqual(await unissuedNow(), ['autodiscover.a.test', 'mail.s0.test']);
  });

  it('issued but not yet Ready (cert-manager\'s issuing controller wrote, its readiness controller not yet): the same target, so no run and no status write in between', async () => {
    await reconcile();
    const whileIssuing = JSON.stringify(ensured.at(-1)?.target);
    const notConfirmed = (issuing?: object): KubeObject => ({
      ...certificate(domainCert, ['autodiscover.a.test'], false),
      status: { revision: 1, conditions: [{ type: 'Ready', status: 'False', reason: 'DoesNotExist', message: '' }, ...(issuing ? [issuing] : [])] },
    } as KubeObject);
    kube.put(notConfirmed());
    await reconcile();
    assert.equal(JSON.stringify(ensured.at(-1)?.target), whileIssuing, 'the Issuing condition dropped');
    kube.put(notConfirmed({ type: 'Issuing', status: 'False', reason: 'Issued', message: '' }));
    await reconcile();
    assert.equal(JSON.stringify(ensured.at(-1)?.target), whileIssuing, 'Issuing False, "Issued" (cert-manager with server-side apply)');
  });

  it('the domain\'s issued: only the external host; both issued: none', async () => {
    kube.put(certificate(domainCert, ['autodiscover.a.test'], true));
    assert.deepEqual(await unissuedNow(), ['mail.s0.test']);
    kube.put(certificate(serverCert, ['mail.s0.test'], true));
    assert.equal(await unissuedNow(), undefined);
  });
});
