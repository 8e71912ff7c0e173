import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckResult } from '../../../src/checks/types.ts';
import { domainVerdict, serverVerdict, MAX_BLOCKING, type DomainState, type ServerReason, type ServerVerdictInput } from '../../../src/gate/index.ts';
import { certificateRow, domainRows, EXTERNAL, row, serverRows } from './fixtures.ts';

/** A domain as its own verdict (the real domainVerdict) over its rows. */
function domain(name: string, overrides: CheckResult[] = [], extra: Partial<DomainState> = {}): DomainState {
  const verdict = domainVerdict(domainRows([name], overrides), { require: 'Any', autodiscoverHosts: [{ domain: name, host: `autodiscover.${name}` }], certificate: certificateRow() });
  return { name: name.replaceAll('.', '-'), domain: name, accepted: true, verdict, ...extra };
}
const unpublished = (name: string, extra: Partial<DomainState> = {}) => domain(name, [row(`dns/autodiscover.${name}`, 'Failed', 'NameNotFound')], extra);

function input(over: Partial<ServerVerdictInput>): ServerVerdictInput {
  return {
    externalHost: EXTERNAL, certificate: certificateRow(), results: serverRows(), checksRan: true,
    domains: [domain('example.com'), domain('example.org')], policy: { domains: 'All', mode: 'Enforce' }, ...over,
  };
}

interface Case {
  name: string;
  input: Partial<ServerVerdictInput>;
  open: boolean;
  reason: ServerReason;
  counts?: [accepted: number, passing: number];
  blocking?: string[];
  message?: RegExp;
  blocksRollout?: boolean;
}

const cases: Case[] = [
  { name: 'all domains pass (All)', input: {}, open: true, reason: 'GatePassed', counts: [2, 2], blocking: [] },
  {
    name: 'one domain fails (All): closed, named with its own reason', input: { domains: [domain('example.com'), unpublished('example.org')] },
    open: false, reason: 'DomainsNotReady', counts: [2, 1], blocking: ['example.org'], message: /1\/2 MailDomains pass .*example\.org \(AutodiscoverNotPublished: /,
  },
  { name: 'one domain fails (Any): open', input: { domains: [domain('example.com'), unpublished('example.org')], policy: { domains: 'Any', mode: 'Enforce' } }, open: true, reason: 'GatePassed', counts: [2, 1], blocking: [] },
  {
    name: 'every domain fails (Any): closed, all named', input: { domains: [unpublished('example.com'), unpublished('example.org')], policy: { domains: 'Any', mode: 'Enforce' } },
    open: false, reason: 'DomainsNotReady', blocking: ['example.com', 'example.org'],
  },
  {
    name: 'Warn: closed all the same, but it does not block the rollout', input: { domains: [unpublished('example.com')], policy: { domains: 'All', mode: 'Warn' } },
    open: false, reason: 'DomainsNotReady', blocksRollout: false,
  },
  { name: 'Enforce: a closed gate blocks the rollout', input: { domains: [unpublished('example.com')] }, open: false, reason: 'DomainsNotReady', blocksRollout: true },
  { name: 'no MailDomain at all', input: { domains: [] }, open: false, reason: 'NoMailDomains', counts: [0, 0], message: /spec\.serverRef/ },
  {
    name: 'a stalled or unaccepted MailDomain is not counted: alone, it leaves no MailDomain',
    input: { domains: [unpublished('example.com', { stalled: { reason: 'HostConflict', message: 'x' } }), unpublished('example.org', { accepted: false })] },
    open: false, reason: 'NoMailDomains', counts: [0, 0], message: /2 stalled or not accepted/,
  },
  {
    name: 'a stalled MailDomain neither holds nor opens the gate (All)',
    input: { domains: [domain('example.com'), unpublished('example.org', { stalled: { reason: 'HostConflict', message: 'x' } })] },
    open: true, reason: 'GatePassed', counts: [1, 1],
  },
  { name: 'certificate not Ready comes first', input: { certificate: certificateRow('Failed') }, open: false, reason: 'CertificateNotReady' },
  { name: 'no certificate row outside a cluster: not required', input: { certificate: undefined }, open: true, reason: 'GatePassed' },
  { name: 'tls of the external host fails', input: { results: serverRows('Failed') }, open: false, reason: 'ExternalHostTlsFailed', message: /tls\/mail\.hoster\.example Failed/ },
  { name: 'tls of the external host expiring soon still counts', input: { results: serverRows('Warning') }, open: true, reason: 'GatePassed' },
  { name: 'server checks not yet run', input: { checksRan: false, results: [] }, open: false, reason: 'ChecksPending' },
  {
    name: 'domain checks not yet run (no verdict, or ChecksPending): ChecksPending naming them',
    input: { domains: [domain('example.com'), { name: 'example-org', domain: 'example.org', accepted: true }, { ...domain('example.net'), verdict: domainVerdict([], { require: 'Any', autodiscoverHosts: [{ domain: 'example.net', host: 'autodiscover.example.net' }] }) }] },
    open: false, reason: 'ChecksPending', blocking: ['example.org', 'example.net'],
  },
  {
    name: 'a pending and a failing domain: DomainsNotReady',
    input: { domains: [unpublished('example.com'), { name: 'example-org', domain: 'example.org', accepted: true }] },
    open: false, reason: 'DomainsNotReady',
  },
];

describe('serverVerdict', () => {
  for (const c of cases) {
    it(c.name, () => {
      const v = serverVerdict(input(c.input));
      assert.deepEqual([v.open, v.reason], [c.open, c.reason], v.message);
      if (c.counts) assert.deepEqual([v.accepted, v.passing], c.counts);
      if (c.blocking) assert.deepEqual(v.blocking, c.blocking);
      if (c.message) assert.match(v.message, c.message);
      if (c.blocksRollout !== undefined) assert.equal(v.blocksRollout, c.blocksRollout);
    });
  }

  it(`names at most ${MAX_BLOCKING} blocking domains, in the list and in the message`, () => {
    const many = Array.from({ length: 1000 }, (_, i) => unpublished(`d${i}.example`));
    const v = serverVerdict(input({ domains: many }));
    assert.equal(v.blocking.length, MAX_BLOCKING);
    assert.deepEqual(v.blocking.slice(0, 2), ['d0.example', 'd1.example']);
    assert.match(v.message, /and 980 more/);
    assert.ok(v.message.length <= 4000, `message is ${v.message.length} characters`);
    assert.equal(v.accepted, 1000);
  });
});
