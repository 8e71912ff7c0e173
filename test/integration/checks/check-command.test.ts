// `mapi-operator check` as a subprocess against the loopback world: exit codes, --json, the
// report, usage errors, and a run against a dead name server and a silent peer.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { parseMailDomain } from '../../../src/api/parse.ts';
import { autodiscoverHosts } from '../../../src/builders/hosts.ts';
import { domainCheckTarget } from '../../../src/gate/index.ts';
import { PROBE, startWorld, writeCheckFile, type World } from './world.ts';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function check(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, 'check', '--probe-loopback', ...args], { env: { ...process.env, NO_COLOR: '', ...env }, timeout: 90_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

interface JsonCheck {
  name: string;
  status: string;
  reason: string;
  message: string;
  details: Record<string, unknown>;
}

interface JsonDomain {
  name: string;
  domain: string;
  passing: boolean;
  reason: string;
  message: string;
  hosts: { host: string; domain: string; published: boolean; served: boolean }[];
}

interface JsonReport {
  gate: string;
  reason: string;
  message: string;
  domains: JsonDomain[];
  checks: (JsonCheck & { fix?: string })[];
}

function parseJson(run: Run): JsonReport {
  const lines = run.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `--json prints one line:\n${run.stdout}\n${run.stderr}`);
  return JSON.parse(lines[0] as string) as JsonReport;
}

const byName = (checks: (JsonCheck & { fix?: string })[], name: string) => {
  const found = checks.find((c) => c.name === name);
  assert.ok(found, `${name} missing from ${checks.map((c) => c.name).join(', ')}`);
  return found;
};

describe('mapi-operator check (subprocess)', () => {
  let world: World;
  let base: string[];
  let probe: string[];
  before(async () => {
    world = await startWorld();
    base = ['--nameserver', world.dns.nameserver, '--ca-file', world.caFile, '--https-port', String(world.httpsPort), '--http-port', String(world.httpPort)];
    probe = ['--probe-user', PROBE.username, '--probe-password-file', world.passwordFile, '--probe-address', PROBE.address];
  });
  after(() => world.stop());

  const domainFlags = ['--domain', 'example.test', '--alias', 'example.org', '--alias', 'example.net', '--external-host', 'mail.example.test'];

  it('exits 0 with gate Open when the domain publishes autodiscover (require Any), --json', async () => {
    const run = await check([...domainFlags, ...base, ...probe, '--json']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const report = parseJson(run);
    assert.deepEqual(Object.keys(report), ['gate', 'reason', 'message', 'domains', 'checks']);
    assert.deepEqual([report.gate, report.reason], ['Open', 'GatePassed']);
    assert.match(report.message, /1\/1 MailDomains pass/);
    assert.deepEqual(report.domains.map((d) => [d.domain, d.passing, d.reason]), [['example.test', true, 'ChecksPassed']]);
    assert.ok(!report.checks.some((c) => c.name === 'certificate'), 'no certificate check without a cluster');
    assert.deepEqual(Object.keys(report.checks[0] ?? {}), ['name', 'status', 'reason', 'message', 'details']);
    assert.equal(byName(report.checks, 'dns/autodiscover.example.test').reason, 'CnameToExternalHost');
    assert.equal(byName(report.checks, 'dns/autodiscover.example.org').reason, 'SrvRecordOnly');
    assert.equal(byName(report.checks, 'dns/autodiscover.example.net').reason, 'NameNotFound');
    assert.equal(byName(report.checks, 'tls/mail.example.test').status, 'Passed');
    const http = byName(report.checks, 'http/autodiscover.example.test');
    assert.deepEqual([http.status, http.reason], ['Passed', 'Served'], http.message);
    assert.match(http.message, /hands out MAPI over HTTP at https:\/\/mail\.example\.test/);
    assert.equal(byName(report.checks, 'redirect/autodiscover.example.test').reason, 'RedirectToHttps');
    assert.ok(!run.stdout.includes(PROBE.password) && !run.stderr.includes(PROBE.password));
  });

  it('exits 1 with gate Closed when every domain must publish (require All)', async () => {
    const run = await check([...domainFlags, ...base, '--require', 'All', '--no-http', '--json']);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const report = parseJson(run);
    assert.equal(report.gate, 'Closed');
    assert.ok(!report.checks.some((c) => c.name.startsWith('http/') || c.name.startsWith('redirect/')), '--no-http');
  });

  it('reads a MapiServer and its MailDomain from one file (-f), with --require overriding autodiscover.require', async () => {
    const file = writeCheckFile(world, 'server-and-domain.yaml', { servers: [{ name: 'bluemind', externalHost: 'mail.example.test', domains: 'All' }], domains: [{ name: 'example-test', domain: 'example.test', aliases: ['example.org', 'example.net'], require: 'All' }] });
    const flags = ['--ca-file', world.caFile, '--https-port', String(world.httpsPort), '--no-http', '--json'];
    const strict = await check(['-f', file, ...flags]);
    assert.equal(strict.code, 1, strict.stdout + strict.stderr);
    const report = parseJson(strict);
    assert.equal(byName(report.checks, 'dns/autodiscover.example.net').reason, 'NameNotFound');
    assert.deepEqual([report.reason, report.domains[0]?.reason], ['DomainsNotReady', 'AutodiscoverNotPublished']);
    const lenient = await check(['-f', file, '--require', 'Any', ...flags]);
    assert.equal(lenient.code, 0, lenient.stdout + lenient.stderr);
  });

  it('a MapiServer with two MailDomains: gate.domains All holds naming the unpublished one, Any opens', async () => {
    const domains = [{ name: 'example-test', domain: 'example.test' }, { name: 'example-net', domain: 'example.net' }];
    const flags = ['--ca-file', world.caFile, '--https-port', String(world.httpsPort), '--no-http'];
    const all = writeCheckFile(world, 'two-domains-all.yaml', { servers: [{ name: 'bluemind', externalHost: 'mail.example.test', domains: 'All' }], domains });
    const closed = await check(['-f', all, ...flags, '--json']);
    assert.equal(closed.code, 1, closed.stdout + closed.stderr);
    const report = parseJson(closed);
    assert.deepEqual([report.gate, report.reason], ['Closed', 'DomainsNotReady']);
    assert.match(report.message, /1\/2 MailDomains pass .*blocking \(1\): example\.net \(AutodiscoverNotPublished: dns\/autodiscover\.example\.net Failed \(NameNotFound\)/);
    assert.deepEqual(report.domains.map((d) => [d.name, d.passing]), [['example-test', true], ['example-net', false]]);

    const text = await check(['-f', all, ...flags, '--explain']);
    assert.equal(text.code, 1, text.stderr);
    assert.match(text.stdout, /^Gate: CLOSED \(DomainsNotReady\)/m);
    assert.match(text.stdout, /^MailDomains \(gate\.domains: All\): 1\/2 pass$/m);
    assert.match(text.stdout, /^ {2}\[FAIL\] example\.net +AutodiscoverNotPublished$/m);
    assert.match(text.stdout, /^To fix:\n {2}dns\/autodiscover\.example\.net: publish autodiscover\.example\.net\. 3600 IN CNAME mail\.example\.test\. \(or, without a record at autodiscover\.example\.net: _autodiscover\._tcp\.example\.net\. 3600 IN SRV 0 0 443 mail\.example\.test\.\)$/m);
    assert.equal(text.stderr, '', 'no progress lines into a pipe');

    const any = writeCheckFile(world, 'two-domains-any.yaml', { servers: [{ name: 'bluemind', externalHost: 'mail.example.test', domains: 'Any' }], domains });
    const open = await check(['-f', any, ...flags, '--json', '--explain']);
    assert.equal(open.code, 0, open.stdout + open.stderr);
    const openReport = parseJson(open);
    assert.equal(openReport.reason, 'GatePassed');
    assert.match(byName(openReport.checks, 'dns/autodiscover.example.net').fix ?? '', /IN CNAME mail\.example\.test\./);
    assert.equal(byName(openReport.checks, 'tls/mail.example.test').fix, undefined);
  });

  it('a MailDomain alone with --external-host', async () => {
    const file = writeCheckFile(world, 'domain-alone.yaml', { servers: [], domains: [{ name: 'example-test', domain: 'example.test' }] });
    const flags = ['--nameserver', world.dns.nameserver, '--ca-file', world.caFile, '--https-port', String(world.httpsPort), '--no-http', '--json'];
    const run = await check(['-f', file, '--external-host', 'mail.example.test', ...flags]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const missing = await check(['-f', file, ...flags]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /holds MailDomains but no MapiServer: .*--external-host/);
  });

  it('explicit autodiscover.hosts map to the same domains as the operator maps them (one function)', async () => {
    const file = writeCheckFile(world, 'explicit-hosts.yaml', {
      servers: [{ name: 'bluemind', externalHost: 'mail.example.test', domains: 'All' }],
      domains: [{ name: 'example-test', domain: 'example.test', aliases: ['sub.example.test', 'example.org'], hosts: ['autodiscover.sub.example.test', 'autodiscover.example.test', 'autodiscover.example.org'] }],
    });
    const run = await check(['-f', file, '--ca-file', world.caFile, '--https-port', String(world.httpsPort), '--no-http', '--json']);
    assert.ok(run.code === 0 || run.code === 1, run.stderr);
    const cli = parseJson(run).domains[0]?.hosts.map(({ host, domain }) => ({ domain, host }));
    // The operator's side over the very same document: the builders' mapping and the gate's target.
    const doc = (readFileSync(file, 'utf8').split('\n---\n').map((d) => load(d)) as { kind: string }[]).find((d) => d.kind === 'MailDomain');
    const md = parseMailDomain(doc);
    assert.ok(md.ok);
    const operator = autodiscoverHosts(md.value.spec);
    assert.deepEqual(cli, operator);
    assert.deepEqual(domainCheckTarget(md.value.spec, { externalHost: 'mail.example.test', checks: { interval: '5m', nameservers: [] } }, { includeHttp: false }).autodiscoverHosts, operator);
    assert.deepEqual(operator.map((h) => h.domain), ['sub.example.test', 'example.test', 'example.org']);
  });

  it('a file the schema rejects: exit 2 naming the document and the field', async () => {
    const file = writeCheckFile(world, 'upper-case.yaml', { servers: [{ name: 'bluemind', externalHost: 'mail.example.test', domains: 'All' }], domains: [{ name: 'example-test', domain: 'Example.TEST' }] });
    const run = await check(['-f', file]);
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.match(run.stderr, /MailDomain example-test: spec\.domain: must be lower-case/);
  });

  it('prints a per-host report with the gate, without colours when stdout is no terminal', async () => {
    const run = await check([...domainFlags, ...base, '--no-http']);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(!run.stdout.includes('\u001b['), 'no escape codes into a pipe');
    assert.match(run.stdout, /^mail\.example\.test\n {2}\[PASS\] tls/m);
    assert.match(run.stdout, /^autodiscover\.example\.net\n {2}\[FAIL\] dns {9}NameNotFound\n.*could not be resolved in DNS \(NXDOMAIN\): publish a CNAME autodiscover\.example\.net → mail\.example\.test/m);
    assert.match(run.stdout, /^Gate: OPEN \(GatePassed\)/m);
  });

  it('takes the probe password from MAPI_PROBE_PASSWORD and never prints it', async () => {
    const run = await check([...domainFlags, ...base, '--probe-user', PROBE.username, '--probe-address', PROBE.address], { MAPI_PROBE_PASSWORD: PROBE.password });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /\[PASS\] http {8}Served\n.*hands out MAPI over HTTP/);
    assert.ok(!run.stdout.includes(PROBE.password));
  });

  const usage: { name: string; args: string[]; stderr: RegExp }[] = [
    { name: 'no target', args: [], stderr: /missing --domain/ },
    { name: 'no external host', args: ['--domain', 'example.test'], stderr: /missing --external-host/ },
    { name: 'a password on the command line', args: ['--domain', 'example.test', '--external-host', 'mail.example.test', '--probe-password', 'x'], stderr: /no password flag: .*--probe-password-file.*MAPI_PROBE_PASSWORD/ },
    { name: 'a bad name server', args: ['--domain', 'example.test', '--external-host', 'mail.example.test', '--nameserver', 'dns.example.com'], stderr: /--nameserver "dns\.example\.com" is not IP\[:PORT\]/ },
    { name: 'a bad require', args: ['--domain', 'example.test', '--external-host', 'mail.example.test', '--require', 'Most'], stderr: /--require "Most" is not Any or All/ },
    { name: 'a bad time-out', args: ['--domain', 'example.test', '--external-host', 'mail.example.test', '--timeout', '0'], stderr: /--timeout "0"/ },
    { name: 'a URL as domain', args: ['--domain', 'https://example.test', '--external-host', 'mail.example.test'], stderr: /--domain "https:\/\/example\.test" must be a valid DNS name/ },
    { name: 'an upper-case domain (the schema rejects it)', args: ['--domain', 'Example.TEST', '--external-host', 'mail.example.test'], stderr: /--domain "Example\.TEST" must be lower-case/ },
    { name: 'an upper-case alias', args: ['--domain', 'example.test', '--alias', 'example.org', '--alias', 'Example.NET', '--external-host', 'mail.example.test'], stderr: /--alias "Example\.NET" must be lower-case/ },
    { name: 'an IP literal as external host', args: ['--domain', 'example.test', '--external-host', '192.0.2.1'], stderr: /--external-host "192\.0\.2\.1" must be a host name, not an IP address/ },
    { name: 'an autodiscover host outside the domain', args: ['--domain', 'example.test', '--autodiscover-host', 'autodiscover.other.test', '--external-host', 'mail.example.test'], stderr: /--autodiscover-host "autodiscover\.other\.test" must be the domain or an alias, or end with one/ },
    { name: 'a missing file', args: ['-f', '/nonexistent/maildomain.yaml'], stderr: /-f \/nonexistent\/maildomain\.yaml cannot be read \(ENOENT\)/ },
    { name: 'a probe user without password', args: ['--domain', 'example.test', '--external-host', 'mail.example.test', '--probe-user', 'u', '--probe-address', 'u@example.test'], stderr: /no probe password/ },
    { name: 'an unknown flag', args: ['--domian', 'example.test'], stderr: /--domian/ },
  ];
  for (const c of usage) {
    it(`exits 2 on a usage error: ${c.name}`, async () => {
      const run = await check(c.args, { MAPI_PROBE_PASSWORD: '' });
      assert.equal(run.code, 2, run.stdout + run.stderr);
      assert.match(run.stderr, c.stderr);
      assert.match(run.stderr, /mapi-operator check --help/);
    });
  }

  it('--help names every flag and says the port flags are for testing', async () => {
    const run = await check(['--help']);
    assert.equal(run.code, 0);
    for (const flag of ['-f, --file', '--domain', '--alias', '--external-host', '--nameserver', '--ca-file', '--probe-user', '--probe-password-file', '--probe-address', '--require', '--no-http', '--json', '--explain', '--timeout', '--https-port', '--http-port']) {
      assert.ok(run.stdout.includes(flag), `help lacks ${flag}`);
    }
    assert.match(run.stdout, /For testing only \(production always uses 443 and 80\)/);
  });

  it('ends against a dead name server and a silent peer, gate Closed with the reasons', { timeout: 60_000 }, async () => {
    // The silent name server is asked first and never answers; the real one then resolves
    // mail.example.com to a peer that accepts TCP and never speaks TLS.
    const run = await check(['--domain', 'example.com', '--external-host', 'mail.example.com',
      '--nameserver', world.silentNameserver.nameserver, '--nameserver', world.dns.nameserver,
      '--https-port', String(world.httpsPort), '--http-port', String(world.httpPort), '--timeout', '3', '--json']);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    const report = parseJson(run);
    assert.equal(report.gate, 'Closed');
    assert.equal(byName(report.checks, 'tls/mail.example.com').reason, 'ConnectionTimedOut');
    assert.equal(byName(report.checks, 'http/mail.example.com').status, 'Failed');

    const dead = await check(['--domain', 'example.com', '--external-host', 'mail.example.com',
      '--nameserver', world.silentNameserver.nameserver, '--https-port', String(world.httpsPort), '--timeout', '3', '--json']);
    assert.equal(dead.code, 1, dead.stdout + dead.stderr);
    const deadReport = parseJson(dead);
    assert.deepEqual([byName(deadReport.checks, 'dns/autodiscover.example.com').status, byName(deadReport.checks, 'dns/autodiscover.example.com').reason], ['Failed', 'QueryTimedOut']);
    // Cause before advice: the name server was not reached, so no "publish a record".
    assert.deepEqual([byName(deadReport.checks, 'tls/mail.example.com').status, byName(deadReport.checks, 'tls/mail.example.com').reason], ['Unknown', 'NameServerUnreachable']);
  });
});
