import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { autodiscoverHostsFor } from '../../../src/checks/target.ts';
import { isNameserver, parseCheckArgs } from '../../../src/cli/check-command.ts';

describe('autodiscoverHostsFor', () => {
  it('defaults to autodiscover.<domain> and one per alias', () => {
    assert.deepEqual(autodiscoverHostsFor('Example.com', ['example.org']), [
      { domain: 'example.com', host: 'autodiscover.example.com' },
      { domain: 'example.org', host: 'autodiscover.example.org' },
    ]);
  });
  it('pairs explicit hosts with the most specific domain they belong to', () => {
    assert.deepEqual(autodiscoverHostsFor('example.com', ['mail.example.com', 'example.org'], ['autodiscover.mail.example.com', 'ad.example.org', 'autodiscover.hoster.net']), [
      { domain: 'mail.example.com', host: 'autodiscover.mail.example.com' },
      { domain: 'example.org', host: 'ad.example.org' },
      { domain: 'example.com', host: 'autodiscover.hoster.net' },
    ]);
  });
});

describe('parseCheckArgs', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'check-args-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('builds the target from flags', () => {
    const parsed = parseCheckArgs(['--domain', 'example.com', '--alias', 'example.org', '--external-host', 'mail.example.com', '--nameserver', '192.0.2.53', '--nameserver', '[2001:db8::53]:5353', '--no-http', '--timeout', '2.5'], {});
    assert.equal(parsed.server.spec.externalHost, 'mail.example.com');
    assert.deepEqual(parsed.server.spec.checks.nameservers, ['192.0.2.53', '[2001:db8::53]:5353']);
    assert.equal(parsed.extras.includeHttp, false);
    assert.deepEqual(parsed.domains.map((d) => [d.spec.domain, d.spec.aliases, d.spec.autodiscover.require]), [['example.com', ['example.org'], 'Any']]);
    assert.equal(parsed.timeoutMs, 2_500);
    assert.equal(parsed.extras.probeCredentials, undefined);
  });

  it('reads the MapiServer and its MailDomains out of a multi-document manifest, other kinds skipped', () => {
    const file = path.join(dir, 'md.yaml');
    writeFileSync(file, [
      'apiVersion: v1', 'kind: Namespace', 'metadata: { name: mail }', '---',
      'apiVersion: mapi-operator.io/v1alpha2', 'kind: MapiServer', 'metadata: { name: bluemind, namespace: mail }',
      'spec:', '  externalHost: mail.example.com', '  image: bm-mapi:5', '  tls: { issuerRef: { name: le } }', '  checks: { nameservers: ["192.0.2.53:5353"] }', '---',
      'apiVersion: mapi-operator.io/v1alpha2', 'kind: MailDomain', 'metadata: { name: example-com, namespace: mail }',
      'spec:', '  serverRef: bluemind', '  domain: example.com', '  aliases: [example.org]',
      '  autodiscover: { hosts: [autodiscover.example.org], require: All }', '',
    ].join('\n'));
    const { server, domains } = parseCheckArgs(['-f', file], {});
    assert.equal(server.spec.externalHost, 'mail.example.com');
    assert.deepEqual(server.spec.checks.nameservers, ['192.0.2.53:5353']);
    assert.deepEqual(domains.map((d) => [d.metadata.name, d.spec.autodiscover.hosts, d.spec.autodiscover.require]), [['example-com', ['autodiscover.example.org'], 'All']]);
  });

  it('reads the probe password from a file, trailing newline dropped, or from MAPI_PROBE_PASSWORD', () => {
    const file = path.join(dir, 'pw');
    writeFileSync(file, 'from-file\n');
    const common = ['--domain', 'example.com', '--external-host', 'mail.example.com', '--probe-user', 'probe', '--probe-address', 'ken@example.com'];
    assert.equal(parseCheckArgs([...common, '--probe-password-file', file], { MAPI_PROBE_PASSWORD: 'from-env' }).extras.probeCredentials?.password, 'from-file');
    assert.equal(parseCheckArgs(common, { MAPI_PROBE_PASSWORD: 'from-env' }).extras.probeCredentials?.password, 'from-env');
  });

  it('rejects a password flag with the way to pass it instead', () => {
    assert.throws(() => parseCheckArgs(['--domain', 'example.com', '--external-host', 'mail.example.com', '--probe-password=x'], {}), /--probe-password-file/);
  });
});

describe('isNameserver', () => {
  const cases: [string, boolean][] = [
    ['192.0.2.53', true], ['192.0.2.53:5353', true], ['2001:db8::53', true], ['[2001:db8::53]:53', true],
    ['192.0.2.53:0', false], ['192.0.2.53:70000', false], ['dns.example.com', false], ['192.0.2', false], ['', false],
  ];
  for (const [value, ok] of cases) {
    it(`"${value}" is ${ok ? '' : 'not '}a name server`, () => assert.equal(isNameserver(value), ok));
  }
});
