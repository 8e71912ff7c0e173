import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { domainCheckTarget, serverCheckTarget } from '../../../src/gate/index.ts';
import { mailDomain, mapiServer } from './fixtures.ts';

const server = mapiServer({ checks: { nameservers: ['192.0.2.53'] } });
const credentials = { username: 'probe', password: 'secret', address: 'ken@example.com' };

describe('check targets', () => {
  it('a MailDomain: its hosts (the builders\' mapping), its require, the server\'s host and name servers, the caller\'s extras', () => {
    const md = mailDomain('example.com', { aliases: ['mail.example.com', 'example.org'], autodiscover: { hosts: ['autodiscover.mail.example.com', 'ad.example.org'], require: 'All' } });
    const target = domainCheckTarget(md.spec, server.spec, { includeHttp: true, release: 'abc123', caBundlePem: 'PEM', probeCredentials: credentials });
    assert.deepEqual(target, {
      domain: 'example.com',
      aliases: ['mail.example.com', 'example.org'],
      autodiscoverHosts: [{ domain: 'mail.example.com', host: 'autodiscover.mail.example.com' }, { domain: 'example.org', host: 'ad.example.org' }],
      require: 'All',
      externalHost: 'mail.hoster.example',
      nameservers: ['192.0.2.53'],
      includeHttp: true,
      release: 'abc123',
      caBundlePem: 'PEM',
      probeCredentials: credentials,
    });
  });

  it('defaults: autodiscover.<domain> and one per alias; no optional extras', () => {
    const target = domainCheckTarget(mailDomain('example.com', { aliases: ['example.org'] }).spec, server.spec, { includeHttp: false });
    assert.deepEqual(target.autodiscoverHosts.map((h) => h.host), ['autodiscover.example.com', 'autodiscover.example.org']);
    assert.deepEqual(Object.keys(target).sort(), ['aliases', 'autodiscoverHosts', 'domain', 'externalHost', 'includeHttp', 'nameservers', 'require']);
  });

  it('the server: only its external host (no autodiscover host, no root domain to warn about)', () => {
    const target = serverCheckTarget(server.spec, { includeHttp: true });
    assert.deepEqual([target.domain, target.aliases, target.autodiscoverHosts, target.externalHost, target.nameservers], ['mail.hoster.example', [], [], 'mail.hoster.example', ['192.0.2.53']]);
  });
});
