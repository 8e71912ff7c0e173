// What the MailDomain controller asks the check scheduler to probe: the hosts whose certificate
// was never issued are named as such (not handshaken), the server's external host included,
// until cert-manager issues each certificate.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../../src/kube/index.ts';
import { ClusterView } from '../../../src/controllers/cluster-view.ts';
import { MAILDOMAIN_CONTROLLER, registerMailDomainController } from '../../../src/controllers/maildomain/controller.ts';
import { DomainStandings } from '../../../src/controllers/domain-standings.ts';
import type { CheckRequest, CheckRuns } from '../../../src/controllers/checks/check-runs.ts';
import { domainChildNames, serverChildNames } from '../../../src/builders/index.ts';
import type { MailDomain } from '../../../src/api/maildomain.ts';
import type { MapiServer } from '../../../src/api/mapiserver.ts';
import { e2eDomain, e2eServer } from '../../../src/dev/world.ts';
import { fakeKube, type FakeKube } from '../../support/fake-kube.ts';

const NS = 'tenant-a';

describe('the MailDomain check target and the certificates not issued yet', () => {
  let kube: FakeKube;
  const ensured: CheckRequest[] = [];
  const base = e2eServer({ name: 's0', namespace: NS, externalHost: 'mail.s0.test', nameserver: '127.0.0.1:53', domains: 'Any', replicas: 1 }) as KubeObject & { spec: { tls: object } };
  const server = { ...base, spec: { ...base.spec, tls: { ...base.spec.tls, issuerRef: { name: 'ca', kind: 'Issuer' } } } } as KubeObject;
  const issuer = { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: 'ca', namespace: NS }, spec: { ca: { secretName: 'ca' } } } as KubeObject;
  const domain = e2eDomain({ name: 'a', namespace: NS, server: 's0', domain: 'a.test' }) as KubeObject;
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
    await kube.settle();
    await kube.reconcilers.get(MAILDOMAIN_CONTROLLER)!(`${NS}/a`, { log: kube.manager.logger, signal: new AbortController().signal });
    return ensured.at(-1)?.target.unissuedHosts;
  };

  before(async () => {
    kube = fakeKube();
    kube.put(issuer);
    kube.put(server);
    kube.put(domain);
    const view = new ClusterView(kube.manager, { tenancy: 'Open' });
    const checks = { snapshot: () => undefined, supersededSince: () => undefined, ensure: (_k: string, _key: string, req: CheckRequest) => { ensured.push(req); }, forget: () => false } as unknown as CheckRuns;
    registerMailDomainController({ manager: kube.manager, view, checks, standings: new DomainStandings(), enqueueServer: () => undefined });
    await kube.start();
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

  it('the domain\'s issued: only the external host; both issued: none', async () => {
    kube.put(certificate(domainCert, ['autodiscover.a.test'], true));
    assert.deepEqual(await unissuedNow(), ['mail.s0.test']);
    kube.put(certificate(serverCert, ['mail.s0.test'], true));
    assert.equal(await unissuedNow(), undefined);
  });
});
