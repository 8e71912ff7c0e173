import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalisedPath, requestKind } from '../../../src/gatekeeper/paths.ts';

test('the MAPI endpoints are recognised however the path is spelled', () => {
  for (const target of ['/mapi/emsmdb/?MailboxId=a@b', '/MAPI/EMSMDB/', '/mapi//emsmdb/', '/mapi/./emsmdb', '/x/../mapi/emsmdb/', '/mapi/%65msmdb/', '/mapi;x=1/emsmdb/', '\\mapi\\emsmdb\\', 'http://mail.example.com/mapi/emsmdb/?MailboxId=a@b']) {
    assert.equal(requestKind('POST', target), 'emsmdb', target);
  }
  assert.equal(requestKind('POST', '/mapi/nspi/?MailboxId=a@b'), 'nspi');
  assert.equal(requestKind('POST', '/Autodiscover/Autodiscover.xml'), 'autodiscover');
});

test('everything else is not the gatekeeper\'s business', () => {
  assert.equal(requestKind('GET', '/autodiscover/autodiscover.xml'), 'other');
  assert.equal(requestKind('GET', '/autodiscover/autodiscover.json/v1.0/ken@example.com?Protocol=AutodiscoverV1'), 'other');
  assert.equal(requestKind('POST', '/ews/exchange.asmx'), 'other');
  assert.equal(requestKind('GET', '/oab/x/oab.xml'), 'other');
  assert.equal(requestKind('POST', '/mapi/emsmdbx'), 'other');
  assert.equal(normalisedPath('/a/%zz/b'), '/a/%zz/b');
});
