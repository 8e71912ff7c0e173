import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autodiscoverHosts, mailDomainNames, autodiscoverURLs, externalURL } from '../../../src/builders/hosts.ts';
import { mailDomain } from './fixtures.ts';

test('autodiscover hosts: defaults per domain and alias; explicit hosts go to the longest domain they end with', () => {
  const cases = [
    {
      spec: { aliases: ['example.org', 'example.net'] },
      hosts: [
        { domain: 'example.com', host: 'autodiscover.example.com' },
        { domain: 'example.org', host: 'autodiscover.example.org' },
        { domain: 'example.net', host: 'autodiscover.example.net' },
      ],
    },
    { spec: {}, hosts: [{ domain: 'example.com', host: 'autodiscover.example.com' }] },
    {
      spec: { aliases: ['example.org', 'mail.example.com'], autodiscover: { hosts: ['ad.example.org', 'autodiscover.mail.example.com', 'autodiscover.example.com', 'example.org'] } },
      hosts: [
        { domain: 'example.org', host: 'ad.example.org' },
        { domain: 'mail.example.com', host: 'autodiscover.mail.example.com' },
        { domain: 'example.com', host: 'autodiscover.example.com' },
        { domain: 'example.org', host: 'example.org' },
      ],
    },
  ];
  for (const { spec, hosts } of cases) assert.deepEqual(autodiscoverHosts(mailDomain(spec).spec), hosts);
});

test('an explicit host outside every domain is refused naming the field (the schema prevents it)', () => {
  const spec = { domain: 'example.com', aliases: [], autodiscover: { hosts: ['autodiscover.evil.example'], require: 'Any' as const } };
  assert.throws(() => autodiscoverHosts(spec), /spec\.autodiscover\.hosts\[0\] autodiscover\.evil\.example ends with neither spec\.domain nor an alias/);
});

test('mail domain names, external URL, autodiscover URLs', () => {
  assert.deepEqual(mailDomainNames(mailDomain({ aliases: ['example.org'] }).spec), ['example.com', 'example.org']);
  assert.equal(externalURL('mail.hoster.example'), 'https://mail.hoster.example');
  assert.deepEqual(autodiscoverURLs(['autodiscover.example.com']), ['https://autodiscover.example.com/autodiscover/autodiscover.xml']);
});
