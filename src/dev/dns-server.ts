// A real DNS server for the tests: BIND 9 (`named`, installed by install-test-deps.sh) on
// 127.0.0.1 at a free high port, authoritative for the zones a test gives it, recursion off.
// That yields every answer the checks must tell apart:
//   NXDOMAIN: a name absent from a zone;  NODATA: a name with other record types only;
//   REFUSED: a name outside every zone (no recursion);  SERVFAIL: a zone whose file does not
//   load (`brokenZones`);  CNAME chains, loops and SRV records: plain zone records.
// A time-out needs a name server that never answers: startSilentNameserver().
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface DnsServerOptions {
  /** Zone origin → records in zone-file syntax, names relative to the origin ("autodiscover CNAME mail"). */
  zones: Record<string, string[]>;
  /** Zones declared but with a file that cannot load: BIND answers SERVFAIL for them. */
  brokenZones?: string[];
}

export interface TestDnsServer {
  address: string;
  port: number;
  /** "127.0.0.1:<port>", the form CheckTarget.nameservers and `--nameserver` take. */
  nameserver: string;
  /** named's process id (the scale benchmark reads its CPU time). */
  pid: number;
  /** Serves new zones from now on (like an operator publishing a DNS change): rewrites the
   *  zone files with a higher serial and reloads named (SIGHUP). */
  update(zones: Record<string, string[]>): Promise<void>;
  stop(): Promise<void>;
}

const NAMED = process.env['MAPI_TEST_NAMED'] ?? '/usr/sbin/named';

function zoneFile(origin: string, records: string[], serial = 1): string {
  return [
    '$TTL 60',
    `@ IN SOA ns.${origin}. hostmaster.${origin}. ${serial} 3600 600 86400 60`,
    `@ IN NS ns.${origin}.`,
    'ns IN A 127.0.0.1',
    ...records,
    '',
  ].join('\n');
}

function namedConf(dir: string, port: number, zones: string[], broken: string[]): string {
  return [
    'options {',
    `  directory "${dir}";`,
    `  pid-file "${dir}/named.pid";`,
    `  session-keyfile "${dir}/session.key";`,
    `  managed-keys-directory "${dir}";`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    '  listen-on-v6 { none; };',
    '  recursion no;',
    '  dnssec-validation no;',
    '  allow-query { any; };',
    '  notify no;',
    '};',
    'controls { };',
    ...[...zones, ...broken].map((z) => `zone "${z}" { type primary; file "${dir}/${z}.zone"; };`),
    '',
  ].join('\n');
}

async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    if ((await udpFree(port)) && (await tcpFree(port))) return port;
  }
  throw new Error('no free port for the test DNS server');
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => { socket.close(); resolve(false); });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function startDnsServer(options: DnsServerOptions): Promise<TestDnsServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function startOnce(options: DnsServerOptions): Promise<TestDnsServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mapi-dns-'));
  const port = await freePort();
  const zones = Object.keys(options.zones);
  const broken = options.brokenZones ?? [];
  for (const [origin, records] of Object.entries(options.zones)) writeFileSync(path.join(dir, `${origin}.zone`), zoneFile(origin, records));
  // A record with no type is a syntax error: the zone is declared but never loads.
  for (const origin of broken) writeFileSync(path.join(dir, `${origin}.zone`), `${zoneFile(origin, [])}broken IN NOT-A-TYPE x\n`);
  writeFileSync(path.join(dir, 'named.conf'), namedConf(dir, port, zones, broken));

  const child = spawn(NAMED, ['-g', '-n', '1', '-c', path.join(dir, 'named.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`named did not start within 15 s:\n${log}`)), 15_000);
    let started = false;
    const fail = (err: Error) => {
      if (started) return;
      started = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      reject(err);
    };
    child.once('error', (err) => fail(new Error(`cannot run ${NAMED} (run src/dev/install-test-deps.sh): ${err.message}`)));
    child.once('exit', (code) => fail(new Error(`named exited with ${code}:\n${log}`)));
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      // The last start-up line is "running" on its own ("running as: ..." comes earlier).
      if (!started && / running\r?\n/.test(log)) {
        started = true;
        clearTimeout(timer);
        resolve();
      }
    });
  });
  let serial = 1;
  const update = async (next: Record<string, string[]>): Promise<void> => {
    serial++;
    for (const [origin, records] of Object.entries(next)) writeFileSync(path.join(dir, `${origin}.zone`), zoneFile(origin, records, serial));
    writeFileSync(path.join(dir, 'named.conf'), namedConf(dir, port, Object.keys(next), broken));
    const before = log.length;
    child.kill('SIGHUP');
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { child.stderr?.off('data', seen); reject(new Error(`named did not reload within 10 s:\n${log.slice(before)}`)); }, 10_000);
      const seen = () => {
        // Reloading is asynchronous: done when every zone logged its new serial.
        const fresh = log.slice(before);
        if (Object.keys(next).every((origin) => fresh.includes(`zone ${origin}/IN: loaded serial ${serial}`))) {
          clearTimeout(timer);
          child.stderr?.off('data', seen);
          resolve();
        }
      };
      child.stderr?.on('data', seen);
    });
  };
  return {
    address: '127.0.0.1',
    port,
    nameserver: `127.0.0.1:${port}`,
    pid: child.pid!,
    update,
    stop: () => stopChild(child, dir),
  };
}

function stopChild(child: ChildProcess, dir: string): Promise<void> {
  return new Promise((resolve) => {
    const done = () => { rmSync(dir, { recursive: true, force: true }); resolve(); };
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => { clearTimeout(kill); done(); });
    child.kill('SIGTERM');
  });
}

/** A name server that receives queries and never answers: every query times out. */
export async function startSilentNameserver(): Promise<{ nameserver: string; stop(): Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  return { nameserver: `127.0.0.1:${port}`, stop: () => new Promise((resolve) => socket.close(() => resolve())) };
}
