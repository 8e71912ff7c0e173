// Events are for transitions a person cares about: one per cause, none that Ready already says.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { transitionEvents } from '../../../src/controllers/conditions.ts';
import type { Condition } from '../../../src/api/conditions.ts';

const c = (type: string, status: 'True' | 'False' | 'Unknown', reason: string, message = `${type} ${reason}`): Condition =>
  ({ type, status, reason, message, lastTransitionTime: '2026-01-01T00:00:00Z' });

describe('transitionEvents', () => {
  it('a certificate not issued turns CertificateReady and ChecksPassed False for one cause: one Warning, the certificate\'s', () => {
    const before = [c('CertificateReady', 'Unknown', 'Pending'), c('ChecksPassed', 'Unknown', 'ChecksPending')];
    const after = [c('CertificateReady', 'False', 'CertificateNotReady', 'Certificate d0-autodiscover is not ready: Issuing'), c('ChecksPassed', 'False', 'CertificateNotReady', 'the autodiscover certificate is not ready')];
    assert.deepEqual(transitionEvents(before, after), [{ type: 'Warning', reason: 'CertificateNotReady', message: 'Certificate d0-autodiscover is not ready: Issuing' }]);
  });

  it('the same cause reaching another condition a reconcile later is not reported again', () => {
    // First the checks wait for a Certificate that does not exist yet, then it exists, not Ready.
    const first = [c('CertificateReady', 'Unknown', 'Pending'), c('ChecksPassed', 'False', 'CertificateNotReady')];
    const second = [c('CertificateReady', 'False', 'CertificateNotReady'), c('ChecksPassed', 'False', 'CertificateNotReady')];
    assert.deepEqual(transitionEvents(undefined, first).map((e) => e.reason), ['CertificateNotReady']);
    assert.deepEqual(transitionEvents(first, second), []);
    // Issued, then failing to renew: news again.
    const issued = [c('CertificateReady', 'True', 'CertificateReady'), c('ChecksPassed', 'True', 'ChecksPassed')];
    assert.deepEqual(transitionEvents(issued, second).map((e) => e.reason), ['CertificateNotReady']);
  });

  it('checks passing and Ready at once: the Ready Event says it, no ChecksPassed Event beside it', () => {
    const before = [c('ChecksPassed', 'False', 'AutodiscoverTlsFailed'), c('Ready', 'False', 'AutodiscoverTlsFailed')];
    const after = [c('ChecksPassed', 'True', 'ChecksPassed'), c('Ready', 'True', 'Ready', 'autodiscover for example.com is published and served')];
    assert.deepEqual(transitionEvents(before, after).map((e) => e.reason), ['Ready']);
  });

  it('checks passing while Ready still waits (a server whose pods are not up yet): the ChecksPassed Event stays', () => {
    const before = [c('ChecksPassed', 'False', 'DomainsNotReady'), c('Ready', 'False', 'DomainsNotReady')];
    const after = [c('ChecksPassed', 'True', 'GatePassed'), c('Ready', 'False', 'PodsStarting')];
    assert.deepEqual(transitionEvents(before, after).map((e) => e.reason), ['ChecksPassed']);
  });

  it('different causes each keep their Event', () => {
    const after = [c('CertificateReady', 'False', 'CertificateNotReady'), c('Stalled', 'True', 'HostConflict')];
    assert.deepEqual(transitionEvents(undefined, after).map((e) => e.reason), ['CertificateNotReady', 'HostConflict']);
  });
});
