// One MailDomain `a` (a.test) served by MapiServer `s0` whose issuer exists, in a fake apiserver,
// with the real MailDomain controller registered on checks the test stands in for.
import type { KubeObject } from '../../../src/kube/index.ts';
import { ClusterView } from '../../../src/controllers/cluster-view.ts';
import { MAILDOMAIN_CONTROLLER, registerMailDomainController } from '../../../src/controllers/maildomain/controller.ts';
import { DomainStandings } from '../../../src/controllers/domain-standings.ts';
import type { CheckRuns } from '../../../src/controllers/checks/check-runs.ts';
import { e2eDomain, e2eServer } from '../../../src/dev/world.ts';
import { fakeKube, type FakeKube } from '../../support/fake-kube.ts';

export const NS = 'tenant-a';

const base = e2eServer({ name: 's0', namespace: NS, externalHost: 'mail.s0.test', nameserver: '127.0.0.1:53', domains: 'Any', replicas: 1 }) as KubeObject & { spec: { tls: object } };
export const server = { ...base, spec: { ...base.spec, tls: { ...base.spec.tls, issuerRef: { name: 'ca', kind: 'Issuer' } } } } as KubeObject;
const issuer = { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: 'ca', namespace: NS }, spec: { ca: { secretName: 'ca' } } } as KubeObject;
export const domain = e2eDomain({ name: 'a', namespace: NS, server: 's0', domain: 'a.test' }) as KubeObject;

/** The fake apiserver with the three objects and the controller on `checks`, started. */
export async function servedDomain(checks: Partial<CheckRuns>): Promise<{ kube: FakeKube; reconcile: () => Promise<unknown> }> {
  const kube = fakeKube();
  kube.put(issuer);
  kube.put(server);
  kube.put(domain);
  const view = new ClusterView(kube.manager, { tenancy: 'Open' });
  registerMailDomainController({ manager: kube.manager, view, checks: checks as CheckRuns, standings: new DomainStandings(), enqueueServer: () => undefined });
  await kube.start();
  const reconcile = async () => {
    await kube.settle();
    const result = await kube.reconcilers.get(MAILDOMAIN_CONTROLLER)!(`${NS}/a`, { log: kube.manager.logger, signal: new AbortController().signal });
    await kube.settle();
    return result;
  };
  return { kube, reconcile };
}
