// What reading a TLS peer's chain costs the tls/ probe: peerChain (the parsed certificates
// `getPeerX509Certificate()` gives, put in order of issuance and completed from the trust
// anchors) against the way it was read before (`getPeerCertificate(true)`, then each
// certificate parsed again from its DER), each followed by what the probe reads of every
// certificate (certificateInfo). One connection to a local server presenting leaf and
// intermediate, the root only in the trust store with Node's bundled roots; 5 interleaved
// rounds, the median, as a ratio to the old way measured in the same run.
//
//   npm run bench:peer-chain -- [--reads 2000]
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { certificateInfo, systemTrustAnchors } from '../src/checks/chain.ts';
import { peerChain } from '../src/checks/io.ts';
import { createTestPki } from '../src/dev/pki.ts';
import { median, positiveInteger } from './measure.ts';

const { values } = parseArgs({ options: { reads: { type: 'string', default: '2000' } } });
const reads = positiveInteger('reads', values.reads!);

function detailedChain(socket: tls.TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(new X509Certificate(cert.raw));
    cert = cert.issuerCertificate;
  }
  return chain;
}

const pki = createTestPki();
try {
  const leaf = pki.issue({ dnsNames: ['bench.tls.test'] });
  const server = tls.createServer({ key: leaf.keyPem, cert: leaf.chainPem }, (s) => s.on('error', () => {}));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const anchors = [...systemTrustAnchors(), new X509Certificate(pki.rootPem)];
  const context = tls.createSecureContext({ ca: [...tls.rootCertificates, pki.rootPem] });
  const port = (server.address() as { port: number }).port;
  const socket = tls.connect({ host: '127.0.0.1', port, servername: 'bench.tls.test', secureContext: context, rejectUnauthorized: false });
  await new Promise<void>((ok, fail) => { socket.once('secureConnect', ok); socket.once('error', fail); });

  const ways = { before: () => detailedChain(socket), peerChain: () => peerChain(socket, anchors) };
  const subjects = (chain: X509Certificate[]) => chain.map((c) => c.subject).join(' < ');
  if (subjects(ways.before()) !== subjects(ways.peerChain())) throw new Error(`the two ways read different chains: ${subjects(ways.before())} / ${subjects(ways.peerChain())}`);
  const usPerRead = (read: () => X509Certificate[]): number => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < reads; i++) read().map(certificateInfo);
    return Number(process.hrtime.bigint() - t) / reads / 1000;
  };
  usPerRead(ways.before);
  usPerRead(ways.peerChain);
  const samples = { before: [] as number[], peerChain: [] as number[] };
  for (let round = 0; round < 5; round++) {
    samples.before.push(usPerRead(ways.before));
    samples.peerChain.push(usPerRead(ways.peerChain));
  }
  const baseline = median(samples.before);
  const now = median(samples.peerChain);
  process.stdout.write(`| way (chain of ${ways.peerChain().length}, ${reads} reads a round) | µs per read | / baseline |\n|---|---|---|\n`);
  process.stdout.write(`| getPeerCertificate(true) + parse again (baseline) | ${baseline.toFixed(1)} | 1.00× |\n`);
  process.stdout.write(`| peerChain | ${now.toFixed(1)} | ${(now / baseline).toFixed(2)}× |\n`);
  socket.destroy();
  server.close();
} finally {
  pki.cleanup();
}
