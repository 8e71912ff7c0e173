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
    const parsed = parseCheckArgs(['--domain', 'example.com', '--alias', 'example.org', '--external-host', 'Mail.Example.com', '--nameserver', '192.0.2.53', '--nameserver', '[2001:db8::53]:5353', '--no-http', '--timeout', '2.5'], {});
    assert.equal(parsed.target.externalHost, 'mail.example.com');
    assert.deepEqual(parsed.target.nameservers, ['192.0.2.53', '[2001:db8::53]:5353']);
    assert.equal(parsed.target.includeHttp, false);
    assert.equal(parsed.target.require, 'Any');
    assert.equal(parsed.timeoutMs, 2_500);
    assert.equal(parsed.target.certificate, undefined);
    assert.equal(parsed.target.probeCredentials, undefined);
  });

  it('reads the MailDomain out of a multi-document manifest', () => {
    const file = path.join(dir, 'md.yaml');
    writeFileSync(file, [
      'apiVersion: v1', 'kind: Namespace', 'metadata: { name: mail }', '---',
      'apiVersion: mapi-operator.io/v1alpha1', 'kind: MailDomain', 'metadata: { name: example-com }',
      'spec:', '  domain: example.com', '  aliases: [example.org]', '  externalHost: mail.example.com',
      '  autodiscover: { hosts: [autodiscover.example.org] }', '  checks: { require: All, nameservers: ["192.0.2.53:5353"] }', '',
    ].join('\n'));
    const { target } = parseCheckArgs(['-f', file], {});
    assert.deepEqual(target.autodiscoverHosts, [{ domain: 'example.org', host: 'autodiscover.example.org' }]);
    assert.equal(target.require, 'All');
    assert.deepEqual(target.nameservers, ['192.0.2.53:5353']);
  });

  it('reads the probe password from a file, trailing newline dropped, or from MAPI_PROBE_PASSWORD', () => {
    const file = path.join(dir, 'pw');
    writeFileSync(file, 'from-file\n');
    const common = ['--domain', 'example.com', '--external-host', 'mail.example.com', '--probe-user', 'probe', '--probe-address', 'ken@example.com'];
    assert.equal(parseCheckArgs([...common, '--probe-password-file', file], { MAPI_PROBE_PASSWORD: 'from-env' }).target.probeCredentials?.password, 'from-file');
    assert.equal(parseCheckArgs(common, { MAPI_PROBE_PASSWORD: 'from-env' }).target.probeCredentials?.password, 'from-env');
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
