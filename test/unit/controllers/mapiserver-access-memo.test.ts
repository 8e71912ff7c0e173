// The MapiServer controller keeps each MailDomain's part of the access list between
// reconciles and hands the builder the same list object while nothing changed. What must
// hold: every change a Mailbox or a MailDomain can make still reaches the list, and a
// reconcile where nothing changed builds no new list.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../../src/kube/index.ts';
import { ClusterView } from '../../../src/controllers/cluster-view.ts';
import { MAPISERVER_CONTROLLER, registerMapiServerController } from '../../../src/controllers/mapiserver/controller.ts';
import { DomainStandings } from '../../../src/controllers/domain-standings.ts';
import type { CheckRuns } from '../../../src/controllers/checks/check-runs.ts';
import { ACCESS_INDEX_KEY } from '../../../src/builders/access.ts';
import { e2eDomain, e2eMailbox, e2eServer } from '../../../src/dev/world.ts';
import { fakeKube, type FakeKube } from '../../support/fake-kube.ts';

const NS = 'tenant-a';

describe('the access list kept between MapiServer reconciles', () => {
  let kube: FakeKube;
  let view: ClusterView;
  const standings = new DomainStandings();
  const reconcile = async () => {
    await kube.settle();
    await kube.reconcilers.get(MAPISERVER_CONTROLLER)!(`${NS}/s0`, { log: kube.manager.logger, signal: new AbortController().signal });
    await kube.settle();
  };
  /** Address → effective switch, and the domains of the index, as the live ConfigMap holds them. */
  const list = () => {
    const cm = kube.get('ConfigMap', NS, 's0-mapi-access')!;
    const data = (cm as unknown as { data: Record<string, string> }).data;
    const mailboxes: Record<string, boolean> = {};
    for (const [k, v] of Object.entries(data)) if (k !== ACCESS_INDEX_KEY) Object.assign(mailboxes, JSON.parse(v));
    return { mailboxes, domains: Object.keys((JSON.parse(data[ACCESS_INDEX_KEY]!) as { domains: object }).domains).sort() };
  };
  const mailbox = (name: string, domainRef: string, address: string, mapiEnabled = true) => e2eMailbox({ name, namespace: NS, domainRef, address, mapiEnabled }) as KubeObject;
  const accessWrites = () => kube.writes.filter((w) => w.startsWith('ConfigMap')).length;

  before(async () => {
    kube = fakeKube();
    kube.put(e2eServer({ name: 's0', namespace: NS, externalHost: 'mail.s0.test', nameserver: '127.0.0.1:53', domains: 'Any', replicas: 1 }) as KubeObject);
    for (const d of ['a', 'b']) {
      kube.put(e2eDomain({ name: d, namespace: NS, server: 's0', domain: `${d}.test` }) as KubeObject);
      for (const u of ['u1', 'u2']) kube.put(mailbox(`${d}-${u}`, d, `${u}@${d}.test`));
    }
    view = new ClusterView(kube.manager, { tenancy: 'Open' });
    const checks = { snapshot: () => undefined, ensure: () => undefined, forget: () => false } as unknown as CheckRuns;
    registerMapiServerController({ manager: kube.manager, view, checks, standings });
    await kube.start();
    await reconcile();
  });
  after(() => kube.stop());

  it('starts with every Mailbox of every domain', () => {
    assert.deepEqual(list(), { mailboxes: { 'u1@a.test': true, 'u2@a.test': true, 'u1@b.test': true, 'u2@b.test': true }, domains: ['a.test', 'b.test'] });
  });

  it('a reconcile where nothing changed writes nothing (and a Mailbox status write is no change)', async () => {
    const writes = accessWrites();
    const mb = kube.get('Mailbox', NS, 'a-u1')!;
    kube.put({ ...mb, status: { observedGeneration: 1 } }, { specChanged: false });
    await reconcile();
    assert.equal(accessWrites(), writes);
  });

  it('a Mailbox switched off reaches the list', async () => {
    const mb = kube.get('Mailbox', NS, 'a-u1')!;
    kube.put({ ...mb, spec: { ...(mb.spec as object), mapiEnabled: false } });
    await reconcile();
    assert.equal(list().mailboxes['u1@a.test'], false);
  });

  it('a Mailbox added, and one deleted, reach the list', async () => {
    kube.put(mailbox('b-u3', 'b', 'u3@b.test'));
    kube.remove('Mailbox', NS, 'a-u2');
    await reconcile();
    assert.deepEqual(Object.keys(list().mailboxes).sort(), ['u1@a.test', 'u1@b.test', 'u2@b.test', 'u3@b.test']);
  });

  it('a Mailbox moved to another domain leaves the first one\'s part and joins the other\'s', async () => {
    const mb = kube.get('Mailbox', NS, 'b-u3')!;
    kube.put({ ...mb, spec: { ...(mb.spec as object), domainRef: 'a', address: 'u3@a.test' } });
    await reconcile();
    const { mailboxes } = list();
    assert.equal(mailboxes['u3@b.test'], undefined);
    assert.equal(mailboxes['u3@a.test'], true);
  });

  it('a MailDomain switched off switches its Mailboxes off; an alias added reaches the index', async () => {
    const md = kube.get('MailDomain', NS, 'b')!;
    kube.put({ ...md, spec: { ...(md.spec as object), aliases: ['b-alias.test'], mapi: { enabled: false } } });
    await reconcile();
    const { mailboxes, domains } = list();
    assert.equal(mailboxes['u1@b.test'], false);
    assert.deepEqual(domains, ['a.test', 'b-alias.test', 'b.test']);
  });

  it('a MailDomain refused by its own controller (a standing not accepted) leaves the list', async () => {
    const md = kube.get('MailDomain', NS, 'b')!;
    standings.set(`${NS}/b`, { generation: md.metadata.generation, serverKey: `${NS}/s0`, domain: 'b.test', accepted: false, httpResults: [] });
    await reconcile();
    assert.deepEqual(list().domains, ['a.test']);
    assert.equal(list().mailboxes['u1@b.test'], undefined);
    standings.delete(`${NS}/b`);
  });

  it('a MailDomain deleted and made again under its name between two reconciles (a new uid, generation 1 again) is read afresh', async () => {
    kube.remove('MailDomain', NS, 'a');
    kube.put(e2eDomain({ name: 'a', namespace: NS, server: 's0', domain: 'a.test', mapiEnabled: false }) as KubeObject);
    await reconcile();
    assert.equal(list().mailboxes['u3@a.test'], false);
  });
});

describe('a MailDomain\'s Mailbox revision (what the kept parts are checked against)', () => {
  it('changes on a Mailbox added, its spec changed, moved or deleted; not on a status write', async () => {
    const kube = fakeKube();
    const view = new ClusterView(kube.manager, { tenancy: 'Open' });
    await kube.start();
    const rev = (d: string) => view.mailboxRevision(`${NS}/${d}`);
    assert.equal(rev('a'), 0);
    kube.put(e2eMailbox({ name: 'm', namespace: NS, domainRef: 'a', address: 'm@a.test' }) as KubeObject);
    await kube.settle();
    const added = rev('a');
    assert.notEqual(added, 0);
    const mb = kube.get('Mailbox', NS, 'm')!;
    kube.put({ ...mb, status: { observedGeneration: 1 } }, { specChanged: false });
    await kube.settle();
    assert.equal(rev('a'), added, 'a status write is no change');
    kube.put({ ...kube.get('Mailbox', NS, 'm')!, spec: { domainRef: 'a', address: 'm@a.test', mapiEnabled: false } });
    await kube.settle();
    const switched = rev('a');
    assert.notEqual(switched, added);
    kube.put({ ...kube.get('Mailbox', NS, 'm')!, spec: { domainRef: 'b', address: 'm@b.test', mapiEnabled: false } });
    await kube.settle();
    assert.equal(rev('a'), 0, 'a domain left without Mailboxes forgets its revision');
    const moved = rev('b');
    assert.notEqual(moved, 0);
    assert.notEqual(moved, switched);
    kube.remove('Mailbox', NS, 'm');
    await kube.settle();
    assert.equal(rev('b'), 0);
    await kube.stop();
  });
});
