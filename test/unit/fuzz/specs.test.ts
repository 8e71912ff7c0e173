// Fuzzing the pure path (fast-check): any JSON through the zod schemas answers ok or an error
// naming a field, never throws; every spec they accept goes through the decisions and builders
// of both controllers without throwing and yields children with names and labels the apiserver
// accepts (the server-side dry run of the same objects is test/security/fuzz-dry-run.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseMailDomain, parseMailbox, parseMapiServer, parseMapiServerSpec, parseMailDomainSpec, parseMailboxSpec } from '../../../src/api/parse.ts';
import { anything, mailDomainSpec, mailboxSpec, mapiServerSpec, objectName } from './arbitraries.ts';
import { buildAll } from './build.ts';

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

test('the schemas answer any JSON without throwing', () => {
  fc.assert(fc.property(anything, (value) => {
    for (const parse of [parseMapiServerSpec, parseMailDomainSpec, parseMailboxSpec, parseMapiServer, parseMailDomain, parseMailbox]) {
      const r = parse(value);
      if (!r.ok) assert.ok(r.message.length > 0, 'an error says what is wrong');
    }
  }), { numRuns: 500 });
});

test('accepted specs build children without throwing; child names and label values are valid', () => {
  const world = fc.tuple(objectName, mapiServerSpec, objectName).chain(([serverName, serverSpec, domainName]) =>
    mailDomainSpec(serverName).chain((mdSpec) => fc.tuple(fc.constant(serverName), fc.constant(serverSpec), fc.constant(domainName), fc.constant(mdSpec), mailboxSpec(domainName, mdSpec.domain))));
  let built = 0;
  fc.assert(fc.property(world, ([serverName, serverSpec, domainName, mdSpec, mbxSpec]) => {
    const objects = buildAll({ serverName, serverSpec, domainName, mdSpec, mbxSpec });
    if (!objects) return;
    built++;
    for (const o of objects.children) {
      const meta = (o as { kind: string; metadata: { name: string; labels?: Record<string, string> } });
      assert.ok(meta.metadata.name.length <= 63 && DNS_LABEL.test(meta.metadata.name), `${meta.kind} name ${meta.metadata.name}`);
      for (const v of Object.values(meta.metadata.labels ?? {})) assert.ok(v.length <= 63 && LABEL_VALUE.test(v), `${meta.kind} label value ${v}`);
    }
  }), { numRuns: 300 });
  assert.ok(built > 150, `most generated worlds are valid and reach the builders (${built}/300)`);
});

test('found by the fuzz test: duplicate env names are refused on the spec, naming the variable', () => {
  const r = parseMapiServerSpec({ externalHost: 'mail.example.com', image: 'bm-mapi', tls: { issuerRef: { name: 'ca' } }, env: [{ name: 'A', value: '1' }, { name: 'A', value: '2' }] });
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.message, /duplicate environment variable A: list each variable once/);
});
