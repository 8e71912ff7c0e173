// Which Mailboxes a change of their MailDomain or MapiServer wakes. A Mailbox without a status
// whose domain has no verdict yet waits for that verdict (its first status is held back): a
// change that leaves it waiting (same domain spec, MAPI still not available) does not wake
// it; one with a status is woken. A verdict, a new spec (aliases decide whether an address
// belongs) or MAPI becoming available wakes every one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../../src/kube/index.ts';
import { ClusterView } from '../../../src/controllers/cluster-view.ts';
import { MAILBOX_CONTROLLER, registerMailboxController } from '../../../src/controllers/mailbox/controller.ts';
import { firstStatusHold, heldMailboxesNeedALook } from '../../../src/controllers/mailbox/decide.ts';
import { e2eDomain, e2eMailbox, e2eServer } from '../../../src/dev/world.ts';
import { fakeKube } from '../../support/fake-kube.ts';

const NS = 'tenant-a';
const T = '2026-01-01T00:00:00Z';
const ready = (status: string, reason: string, generation = 1) => ({ observedGeneration: generation, conditions: [{ type: 'Ready', status, reason, message: reason, lastTransitionTime: T }] });
const serverStatus = (available: boolean) => ({
  conditions: [{ type: 'MapiAvailable', status: available ? 'True' : 'False', reason: 'x', message: 'x', lastTransitionTime: T }],
  rollout: { state: available ? 'Available' : 'Held', reason: 'DomainsNotReady', message: 'x' },
});

/** Server s0, MailDomain a, Mailboxes `waiting` (no status) and `written` (a status); `change`
 *  puts a new version of the MailDomain or the server and returns the Mailboxes it wakes. */
async function world(t: { after: (fn: () => void) => void }) {
  const kube = fakeKube();
  t.after(() => kube.stop());
  kube.put(e2eServer({ name: 's0', namespace: NS, externalHost: 'mail.s0.test', nameserver: '127.0.0.1:53' }) as KubeObject);
  kube.put(e2eDomain({ name: 'a', namespace: NS, server: 's0', domain: 'a.test' }) as KubeObject);
  kube.put(e2eMailbox({ name: 'waiting', namespace: NS, domainRef: 'a', address: 'w@a.test' }) as KubeObject);
  const written = kube.put(e2eMailbox({ name: 'written', namespace: NS, domainRef: 'a', address: 'x@a.test' }) as KubeObject);
  kube.put({ ...written, status: ready('False', 'MailDomainNotReady') }, { specChanged: false });
  const view = new ClusterView(kube.manager, { tenancy: 'Open' });
  registerMailboxController({ manager: kube.manager, view });
  await kube.start();
  const watches = kube.watches.get(MAILBOX_CONTROLLER)!;
  const mapOf = (informer: unknown) => watches.find((w) => w.informer === informer)!.map as (o: KubeObject) => string[];
  const change = async (kind: 'MailDomain' | 'MapiServer', name: string, patch: object, specChanged = false) => {
    kube.put({ ...kube.get(kind, NS, name)!, ...patch }, { specChanged });
    await kube.settle();
    const informer = kind === 'MailDomain' ? view.domains : view.servers;
    return mapOf(informer)(informer.getByKey(`${NS}/${name}`)!).sort();
  };
  return { kube, change };
}

describe('a MailDomain or MapiServer change wakes the Mailboxes it concerns', () => {
  it('those waiting for their domain\'s verdict only when it comes, the spec changes or MAPI becomes available', async (t) => {
    const { kube, change } = await world(t);
    const all = [`${NS}/waiting`, `${NS}/written`];

    assert.deepEqual(await change('MailDomain', 'a', { status: ready('False', 'CertificateIssuing') }), all, 'the first state seen');
    assert.deepEqual(await change('MapiServer', 's0', { status: serverStatus(false) }), [`${NS}/written`], 'the server\'s rollout appears: still waiting');
    assert.deepEqual(await change('MailDomain', 'a', { status: ready('False', 'ChecksPending') }), [`${NS}/written`], 'the domain\'s next step, still in progress (what the server says changed since the domain was last seen)');
    assert.deepEqual(await change('MailDomain', 'a', { status: ready('False', 'CertificateIssuing') }), [], 'still in progress: nothing a Mailbox reads changed');
    assert.deepEqual(await change('MailDomain', 'a', { status: ready('False', 'CertificateNotReady') }), all, 'a failed issuance: a verdict, held without a timer until now, so woken');
    assert.deepEqual(await change('MailDomain', 'a', { status: ready('False', 'ChecksPending') }), all, 'in progress again after a verdict: looked at once');
    assert.deepEqual(await change('MailDomain', 'a', { status: ready('False', 'CertificateIssuing') }), [], 'still in progress');
    const spec = { ...(kube.get('MailDomain', NS, 'a')!.spec as object), aliases: ['b.test'] };
    assert.deepEqual(await change('MailDomain', 'a', { spec, status: ready('False', 'ChecksPending', 2) }, true), all, 'a new spec');
    assert.deepEqual(await change('MapiServer', 's0', { status: serverStatus(true) }), all, 'MAPI available: no longer held');
    assert.deepEqual(await change('MailDomain', 'a', { status: ready('True', 'Ready', 2) }), all, 'a verdict');
  });

  it('those of a domain with a verdict whose server rolls out only when the rollout ends or is held for a reason', async (t) => {
    const { change } = await world(t);
    const rollout = (state: string, reason: string, available = false) => ({ status: {
      conditions: [{ type: 'MapiAvailable', status: available ? 'True' : 'False', reason, message: reason, lastTransitionTime: T }],
      rollout: { state, reason, message: reason },
    } });
    const all = [`${NS}/waiting`, `${NS}/written`];

    assert.deepEqual(await change('MailDomain', 'a', { status: ready('True', 'Ready') }), all, 'the first state seen: a verdict');
    assert.deepEqual(await change('MapiServer', 's0', rollout('Held', 'ChecksPending')), [`${NS}/written`], 'the server waits for its first checks: the first status stays held');
    assert.deepEqual(await change('MapiServer', 's0', rollout('Progressing', 'PodsStarting')), [], 'its pods start: nothing a Mailbox reads changed');
    assert.deepEqual(await change('MapiServer', 's0', rollout('Held', 'ExternalHostTlsFailed')), all, 'held for a reason: every Mailbox says so');
    assert.deepEqual(await change('MapiServer', 's0', rollout('Held', 'ChecksPending')), all, 'on its way again after a hold for a reason: looked at once');
    assert.deepEqual(await change('MapiServer', 's0', rollout('Held', 'DomainsNotReady')), all, 'held for its domains while this one passes: out of progress into the grace, looked at (to start its timer)');
    assert.deepEqual(await change('MapiServer', 's0', rollout('Held', 'ChecksPending')), [`${NS}/written`], 'from the grace into progress: the grace has a timer');
    assert.deepEqual(await change('MapiServer', 's0', rollout('Available', 'Serving', true)), all, 'MAPI available');
  });

  it('firstStatusHold: no verdict, MAPI on for the domain and not available; in progress or in the grace', () => {
    const found = { kind: 'Found' as const, name: 'a', domain: 'a.test', mapiEnabled: true, mapiAvailable: false, rolloutMessage: '', verdictPending: true };
    assert.equal(firstStatusHold(found), 'Grace');
    assert.equal(firstStatusHold({ ...found, verdictInProgress: true }), 'Progress');
    assert.equal(firstStatusHold({ ...found, verdictPending: false }), undefined);
    assert.equal(firstStatusHold({ ...found, verdictPending: false, serverInProgress: true }), 'Progress', 'a verdict, the server rolling out');
    assert.equal(firstStatusHold({ ...found, mapiAvailable: true }), undefined);
    assert.equal(firstStatusHold({ ...found, mapiEnabled: false }), undefined);
    assert.equal(firstStatusHold({ kind: 'Missing', name: 'a' }), undefined);
  });

  it('heldMailboxesNeedALook: out of progress, or out of any hold; not the same hold again, not into progress (the grace has a timer)', () => {
    assert.equal(heldMailboxesNeedALook('Progress', 'Grace'), true);
    assert.equal(heldMailboxesNeedALook('Progress', undefined), true);
    assert.equal(heldMailboxesNeedALook('Grace', undefined), true);
    assert.equal(heldMailboxesNeedALook(undefined, 'Grace'), true, 'the first state seen');
    assert.equal(heldMailboxesNeedALook('Progress', 'Progress'), false);
    assert.equal(heldMailboxesNeedALook('Grace', 'Grace'), false);
    assert.equal(heldMailboxesNeedALook('Grace', 'Progress'), false);
  });
});
