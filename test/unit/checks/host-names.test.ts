import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { certificateCoversHost, hostMatchesPattern, normalizeHost } from '../../../src/checks/host-names.ts';

describe('hostMatchesPattern (RFC 6125 6.4.3)', () => {
  const cases: [host: string, pattern: string, matches: boolean][] = [
    ['mail.example.com', 'mail.example.com', true],
    ['MAIL.Example.com.', 'mail.example.com', true],
    ['mail.example.com', 'mail.example.org', false],
    ['mail.example.com', '*.example.com', true],
    ['autodiscover.example.com', '*.example.com', true],
    ['example.com', '*.example.com', false],
    ['a.b.example.com', '*.example.com', false],
    ['mail.example.com', 'm*.example.com', false],
    ['mail.example.com', '*.*.com', false],
    ['example.com', '*.com', false],
    ['mail.example.com', 'mail.*.com', false],
  ];
  for (const [host, pattern, matches] of cases) {
    it(`${host} ${matches ? 'matches' : 'does not match'} ${pattern}`, () => {
      assert.equal(hostMatchesPattern(host, pattern), matches);
    });
  }
});

describe('certificateCoversHost', () => {
  it('is true when any SAN covers the host', () => {
    assert.equal(certificateCoversHost('autodiscover.example.org', ['mail.example.com', 'autodiscover.example.org']), true);
  });
  it('is false for an empty SAN list (the CN is not used)', () => {
    assert.equal(certificateCoversHost('mail.example.com', []), false);
  });
});

describe('normalizeHost', () => {
  it('lower-cases and drops the trailing dot', () => {
    assert.equal(normalizeHost(' Mail.Example.COM. '), 'mail.example.com');
  });
});
