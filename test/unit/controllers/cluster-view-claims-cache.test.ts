// The cluster-wide caches a ClusterView asks for when the operator watches some namespaces:
// the MailDomains (read only for who declared which host) without status, the MapiServers
// whole (a MailDomain reads its server's Stalled condition through it). Watching every
// namespace, the cluster-wide MailDomains are the controllers' own cache (same request).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Manager, ResourceRef } from '../../../src/kube/index.ts';
import type { InformerRequest } from '../../../src/kube/manager.ts';
import { ClusterView } from '../../../src/controllers/cluster-view.ts';
import { fakeKube } from '../../support/fake-kube.ts';
import { mailDomainStatusPacker } from '../../../src/controllers/maildomain/packed-status.ts';

function requestsOf(watchesAllNamespaces: boolean): Array<{ plural: string; req: InformerRequest }> {
  const kube = fakeKube();
  const requests: Array<{ plural: string; req: InformerRequest }> = [];
  const informer = kube.manager.informer.bind(kube.manager);
  const manager = Object.assign(Object.create(kube.manager) as Manager, {
    watchesAllNamespaces,
    informer: (resource: ResourceRef, req: InformerRequest = {}) => {
      requests.push({ plural: resource.plural, req });
      return informer(resource, req);
    },
  });
  new ClusterView(manager, { tenancy: 'Open' });
  return requests;
}

const clusterWide = (requests: Array<{ plural: string; req: InformerRequest }>, plural: string) =>
  requests.filter((r) => r.plural === plural && r.req.namespaces?.length === 0);

describe('ClusterView: the cluster-wide caches for host claims', () => {
  it('watching some namespaces: the cluster-wide MailDomains without status, the MapiServers whole', () => {
    const requests = requestsOf(false);
    const domains = clusterWide(requests, 'maildomains');
    assert.equal(domains.length, 1);
    assert.equal(domains[0]!.req.withoutStatus, true);
    const servers = clusterWide(requests, 'mapiservers');
    assert.equal(servers.length, 1);
    assert.notEqual(servers[0]!.req.withoutStatus, true);
    // The controllers' own MailDomain cache keeps the status.
    const own = requests.filter((r) => r.plural === 'maildomains' && r.req.namespaces === undefined);
    assert.equal(own.length, 1);
    assert.notEqual(own[0]!.req.withoutStatus, true);
    assert.equal(own[0]!.req.pack, mailDomainStatusPacker, 'its statuses kept packed');
  });

  it('watching every namespace: the same request as the controllers\' cache (one informer)', () => {
    const requests = requestsOf(true);
    const domains = clusterWide(requests, 'maildomains');
    assert.equal(domains.length, 1);
    assert.equal(domains[0]!.req.withoutStatus, false);
    assert.equal(domains[0]!.req.pack, mailDomainStatusPacker, 'the same packer: the same informer');
  });
});
