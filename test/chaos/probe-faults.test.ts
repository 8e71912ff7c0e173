// Faults of the outside world the checks probe: the DNS server stops answering for 2 minutes;
// the HTTPS peer accepts connections and never answers. During each the operator stays up and
// healthy and never scales the running MAPI server down; afterwards everything converges
// (Ready again, nothing duplicated, orphaned or lost) and the time to converge is reported.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { OperatorProcess } from '../../src/dev/operator.ts';
import { openSockets } from '../../bench/scale/harness.ts';
import { converged, healthy, startChaosCluster, type ChaosCluster } from './cluster.ts';

let c: ChaosCluster;
let op: OperatorProcess;
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

before(async () => {
  c = await startChaosCluster('probes');
  op = await c.operator('probes');
  await c.addDomains(range(0, 20));
  await converged(c, 'before the faults');
});

after(async () => {
  await c?.stop();
});

describe('probe faults', { timeout: 30 * 60_000 }, () => {
  test('the DNS server stops answering for 2 minutes: the operator stays up, the server keeps its pods, and everything is Ready again after', async (t) => {
    c.dns.setSilent(true);
    const silentAt = Date.now();
    const sockets: number[] = [];
    while (Date.now() - silentAt < 120_000) {
      await new Promise((r) => setTimeout(r, 10_000));
      await healthy(op);
      sockets.push(openSockets(op.child.pid!));
    }
    const dropped = c.dns.total();
    c.dns.setSilent(false);
    const ms = await converged(c, 'after the DNS outage');
    t.diagnostic(`${dropped} DNS queries went unanswered in 2 min; operator sockets during the outage ${Math.min(...sockets)}–${Math.max(...sockets)}; converged ${ms} ms after DNS answered again`);
    await healthy(op);
  });

  test('an HTTPS peer that accepts and never answers: probes time out, nothing hangs, everything is Ready again after', async (t) => {
    c.tls.setHang(true);
    const hungAt = Date.now();
    const sockets: number[] = [];
    // Two check intervals (30 s each) of hanging connections.
    while (Date.now() - hungAt < 75_000) {
      await new Promise((r) => setTimeout(r, 5_000));
      await healthy(op);
      sockets.push(openSockets(op.child.pid!));
    }
    c.tls.setHang(false);
    const ms = await converged(c, 'after the hanging HTTPS peer');
    // Hung connections are closed by the probe time-out: the socket count stays bounded by
    // the hosts probed at once, not growing with every check round.
    t.diagnostic(`operator sockets while the peer hung: ${sockets.join(', ')}; converged ${ms} ms after it answered again`);
    assert.ok(Math.max(...sockets) < 200, `open sockets bounded (max ${Math.max(...sockets)})`);
    await healthy(op);
  });

  test('through both faults: the running MAPI server was never scaled down', () => {
    assert.deepEqual(c.guard.scaleDowns, []);
  });
});
