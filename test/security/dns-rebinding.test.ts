// No DNS rebinding between the check and the connection. The attacker owns a zone and a name
// server whose answer for a name flips from an address the policy allows (127.0.0.2, standing
// in for the tenant's real front) to one it refuses (127.0.0.3, standing in for something
// inside the cluster), with TTL 0 so that every question gets the current answer. Real parts:
// the real check IO and engine, real TLS from the test PKI, TLS and HTTP listeners on both
// addresses counting every TCP connection they accept. Under --probe-allow-network
// 127.0.0.2/32 only the first address may be dialled; the proof is that the 127.0.0.3
// listeners count 0 connections whatever the attacker answers and whenever it answers it.
// First through the check IO and engine directly, then through the operator as a process
// started with the flag (real control plane from the global setup). No traffic goes anywhere
// but loopback.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { createRealCheckIO, type RealCheckIOOptions } from '../../src/checks/io.ts';
import { runChecks } from '../../src/checks/engine.ts';
import type { CheckResult, CheckTarget } from '../../src/checks/types.ts';
import { pickSharedPort } from '../../src/dev/https-fixtures.ts';
import { createTestPki, type TestPki } from '../../src/dev/pki.ts';
import { startRebindingDnsServer, type RebindingDnsServer } from '../../src/dev/rebinding-dns-server.ts';
import { parseProbeNetwork, type ProbePolicy } from '../../src/policy/probe-policy.ts';
import { freshNamespace } from '../../src/dev/kube.ts';
import { startOperator, type OperatorProcess } from '../../src/dev/operator.ts';
import { waitFor } from '../../src/dev/wait.ts';
import { CERTIFICATE_NOT_ISSUED } from '../../src/checks/tls-check.ts';
import { get, k, kubeconfig, server } from './support.ts';

const ALLOWED = '127.0.0.2';
const REFUSED = '127.0.0.3';
/** Each scenario its own name, so each starts at the attacker's first answer. */
const PINNED = 'mail.pinned.rebind.test';
const FLIPPING = 'mail.flipping.rebind.test';
const REFUSED_FIRST = 'mail.refused-first.rebind.test';
const OPERATOR_HOST = 'mail.operator.rebind.test';
const ns = 'sec-rebinding';

interface CountingServer { connections: number; close(): Promise<void> }

/** Counts every TCP connection accepted, before any TLS or HTTP byte is read. */
async function counting(server: net.Server, address: string, port: number): Promise<CountingServer> {
  const state = { connections: 0 };
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    state.connections++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, address, resolve); });
  return {
    get connections() { return state.connections; },
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

/** HTTP requests received, by the address they reached (the listener's own address). */
const requests: Record<string, number> = {};
const requestsTo = (address: string) => requests[address] ?? 0;

/** A mail server's answer to the unauthenticated probes: a 401 with a challenge ("served"). */
const challenge: http.RequestListener = (req, res) => {
  const local = req.socket.localAddress ?? '?';
  requests[local] = (requests[local] ?? 0) + 1;
  req.resume();
  req.once('end', () => res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="mail"', 'Content-Length': '0' }).end());
};

let pki: TestPki;
let dns: RebindingDnsServer;
let httpsPort: number;
let httpPort: number;
const listeners: Record<string, { https: CountingServer; http: CountingServer }> = {};
const connectionsTo = (address: string) => listeners[address]!.https.connections + listeners[address]!.http.connections;

before(async () => {
  pki = createTestPki('rebinding test');
  const leaf = pki.issue({ dnsNames: [PINNED, FLIPPING, REFUSED_FIRST, OPERATOR_HOST] });
  httpsPort = await pickSharedPort([ALLOWED, REFUSED]);
  httpPort = await pickSharedPort([ALLOWED, REFUSED]);
  for (const address of [ALLOWED, REFUSED]) {
    listeners[address] = {
      https: await counting(https.createServer({ key: leaf.keyPem, cert: leaf.chainPem }, challenge), address, httpsPort),
      http: await counting(http.createServer(challenge), address, httpPort),
    };
  }
  dns = await startRebindingDnsServer({ names: { [PINNED]: [ALLOWED, REFUSED], [FLIPPING]: [ALLOWED, REFUSED], [REFUSED_FIRST]: [REFUSED, ALLOWED], [OPERATOR_HOST]: [ALLOWED, REFUSED] } });
});

after(async () => {
  for (const l of Object.values(listeners)) { await l.https.close(); await l.http.close(); }
  await dns?.stop();
  pki?.cleanup();
});

/** What `run --probe-allow-network 127.0.0.2/32` builds (loopback itself stays refused). */
function allowOnly(cidr: string): ProbePolicy {
  const network = parseProbeNetwork(cidr);
  assert.ok(network.ok, cidr);
  return { loopback: false, privateNetworks: false, allowNetworks: [network.cidr] };
}

function checkIO(extra: Partial<RealCheckIOOptions> = {}) {
  return createRealCheckIO({
    nameservers: [dns.nameserver], caBundlePem: pki.rootPem, probePolicy: allowOnly(`${ALLOWED}/32`),
    httpsPortFor: () => httpsPort, httpPortFor: () => httpPort, limits: { connectTimeoutMs: 2_000, totalTimeoutMs: 4_000 },
    ...extra,
  });
}

const targetFor = (externalHost: string): CheckTarget => ({
  domain: 'rebind.test', aliases: [], externalHost, autodiscoverHosts: [], require: 'Any',
  nameservers: [dns.nameserver], caBundlePem: pki.rootPem, includeHttp: true,
});

const row = (results: CheckResult[], name: string): CheckResult => {
  const found = results.find((r) => r.name === name);
  assert.ok(found, `${name} in ${results.map((r) => r.name).join(', ')}`);
  return found;
};

describe('a name that rebinds from an allowed to a refused address', () => {
  test('the TLS and HTTP probes of the host connect to the allowed address only, in two runs', async () => {
    const io = checkIO();
    const before = { allowed: connectionsTo(ALLOWED), refused: connectionsTo(REFUSED), allowedRequests: requestsTo(ALLOWED), refusedRequests: requestsTo(REFUSED) };
    for (let run = 1; run <= 2; run++) {
      const results = await runChecks(targetFor(PINNED), io);
      const tls = row(results, `tls/${PINNED}`);
      const served = row(results, `http/${PINNED}`);
      assert.equal(tls.status, 'Passed', `run ${run}: ${tls.reason}: ${tls.message}`);
      assert.equal(served.status, 'Passed', `run ${run}: ${served.reason}: ${served.message}`);
    }
    // Per run one TLS handshake and three HTTPS requests (the POX POST, two MAPI PINGs), all on
    // one TLS connection to 127.0.0.2: the handshake's, which the IO keeps for the requests.
    assert.equal(connectionsTo(REFUSED) - before.refused, 0, 'not one connection to 127.0.0.3');
    assert.equal(requestsTo(REFUSED) - before.refusedRequests, 0, 'not one request to 127.0.0.3');
    assert.equal(requestsTo(ALLOWED) - before.allowedRequests, 6, 'every request of both runs reached 127.0.0.2');
    assert.equal(connectionsTo(ALLOWED) - before.allowed, 2, 'one connection per run (each run\'s handshake), every probe on one of them');
    // The IO asked the attacker once: its TTL 0 does not make every probe ask again.
    assert.deepEqual(dns.answersGiven(PINNED), [ALLOWED]);
  });

  test('when every question is asked again, each probe dials only what it judged; the later answers are refused, never followed', async () => {
    // The answer cache off: every resolution reaches the attacker, who flips after the first.
    const io = checkIO({ dnsCache: { answerMs: 0, failureMs: 0 } });
    const before = { allowed: connectionsTo(ALLOWED), refused: connectionsTo(REFUSED) };
    const handshake = await io.tls.handshake(FLIPPING);
    assert.deepEqual(handshake.ok ? [handshake.address, handshake.chainStatus] : handshake, [ALLOWED, 'Trusted']);
    const pox = { scheme: 'https' as const, host: FLIPPING, method: 'POST' as const, path: '/autodiscover/autodiscover.xml', headers: {}, body: '', verifyTls: false };
    const rebound = await io.http.request(pox);
    assert.deepEqual(rebound.ok ? rebound.status : [rebound.failure, rebound.detail], ['NOT_ALLOWED', `${REFUSED} is loopback (127.0.0.0/8)`]);
    // Pinning the address the host had a moment ago does not help: it must be a current answer.
    const pinned = await io.http.request({ ...pox, address: ALLOWED });
    assert.deepEqual(pinned.ok ? pinned.status : [pinned.failure, pinned.detail], ['NOT_ALLOWED', `${ALLOWED} is not an address of ${FLIPPING}`]);
    assert.equal(connectionsTo(REFUSED) - before.refused, 0, 'not one connection to 127.0.0.3');
    assert.equal(connectionsTo(ALLOWED) - before.allowed, 1, 'the one handshake judged on 127.0.0.2');
    assert.deepEqual(dns.answersGiven(FLIPPING), [ALLOWED, REFUSED, REFUSED], 'the attacker did rebind');
  });

  test('when the first answer is the refused address: a refused-target result and no connection at all', async () => {
    const io = checkIO();
    const before = { allowed: connectionsTo(ALLOWED), refused: connectionsTo(REFUSED) };
    const results = await runChecks(targetFor(REFUSED_FIRST), io);
    const tls = row(results, `tls/${REFUSED_FIRST}`);
    assert.deepEqual([tls.status, tls.reason], ['Failed', 'AddressNotAllowed'], tls.message);
    assert.match(tls.message, /127\.0\.0\.3 is loopback \(127\.0\.0\.0\/8\)/);
    const served = row(results, `http/${REFUSED_FIRST}`);
    assert.deepEqual([served.status, served.reason], ['Failed', 'AddressNotAllowed'], served.message);
    assert.match(served.message, /127\.0\.0\.3 is loopback/);
    assert.equal(connectionsTo(REFUSED) - before.refused, 0, 'not one connection to 127.0.0.3');
    assert.equal(connectionsTo(ALLOWED) - before.allowed, 0, 'nor to the address the attacker would answer next');
    assert.deepEqual(dns.answersGiven(REFUSED_FIRST), [REFUSED]);
  });
});

describe('the operator run with --probe-allow-network 127.0.0.2/32 (and no --probe-loopback)', () => {
  let op: OperatorProcess;
  before(async () => {
    await freshNamespace(k, ns);
    op = await startOperator({
      kubeconfig, namespaces: [ns], name: 'sec-rebinding', probeLoopback: false,
      args: ['--probe-allow-network', `${ALLOWED}/32`, '--https-port', String(httpsPort), '--http-port', String(httpPort)],
    });
  });
  after(async () => { assert.equal(await op.stop(), 0, `exit code (log ${op.logFile})`); });

  test('probes the host on 127.0.0.2, follows the rebinding to a refused result, and never connects to 127.0.0.3', async () => {
    const before = { allowed: connectionsTo(ALLOWED), refused: connectionsTo(REFUSED) };
    await k.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'rebinding-ca', namespace: ns }, data: { 'ca.crt': pki.rootPem } });
    await k.apply(server('rebinding', ns, OPERATOR_HOST, {
      checks: { nameservers: [dns.nameserver], interval: '30s', caBundle: { configMapKeyRef: { name: 'rebinding-ca', key: 'ca.crt' } } },
    }));
    // Probed once its certificate is issued; the row before that says so (not a probe).
    const tlsRow = async () => (await get('mapiserver', ns, 'rebinding'))?.status?.checks?.find((r) => r.name === `tls/${OPERATOR_HOST}` && r.reason !== CERTIFICATE_NOT_ISSUED);
    const first = await waitFor(tlsRow, { timeoutMs: 60_000, describe: `tls/${OPERATOR_HOST} row (log ${op.logFile})` });
    assert.equal(first.status, 'Passed', `${first.reason}: ${first.message}`);
    assert.match(op.logs(), /probes reach public addresses and 127\.0\.0\.2\/32/);
    assert.ok(connectionsTo(ALLOWED) > before.allowed, 'the handshake reached 127.0.0.2');
    // Once the pinned answer is 30 s old the attacker's next answer (127.0.0.3) is asked for
    // and judged: the row says so, and still nothing connects there.
    const rebound = await waitFor(async () => { const r = await tlsRow(); return r?.reason === 'AddressNotAllowed' ? r : undefined; },
      { timeoutMs: 120_000, describe: `tls/${OPERATOR_HOST} AddressNotAllowed after the rebinding (log ${op.logFile})` });
    assert.match(rebound.message, /127\.0\.0\.3 is loopback/);
    assert.deepEqual(dns.answersGiven(OPERATOR_HOST).slice(0, 2), [ALLOWED, REFUSED]);
    assert.equal(connectionsTo(REFUSED) - before.refused, 0, 'not one connection to 127.0.0.3');
  });
});
