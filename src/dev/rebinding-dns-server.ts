// An attacker's name server for the DNS-rebinding tests: a tiny authoritative UDP responder on
// loopback whose A answer for a name changes from one query to the next (TTL 0, as rebinding
// servers publish), e.g. first 127.0.0.2, then 127.0.0.3 for every later query. BIND cannot do
// that (its answers only change on a reload), so this one answers by hand (RFC 1035 §4.1).
// Every other question about a served name is NODATA; any other name is NXDOMAIN. UDP only:
// its answers are far below 512 bytes, so a resolver never retries over TCP.
import dgram from 'node:dgram';
import net from 'node:net';

export interface RebindingDnsServerOptions {
  /** Name → the A answers in the order they are given; the last one repeats. */
  names: Record<string, string[]>;
}

export interface RebindingDnsServer {
  /** "127.0.0.1:<port>", the form CheckTarget.nameservers and `--nameserver` take. */
  nameserver: string;
  /** Every question asked, in order, as "<name> <TYPE>". */
  questions(): string[];
  /** The A answers given for `name`, in order. */
  answersGiven(name: string): string[];
  stop(): Promise<void>;
}

const TYPE_NAMES: Record<number, string> = { 1: 'A', 5: 'CNAME', 28: 'AAAA', 33: 'SRV' };

interface Question { id: number; recursionDesired: boolean; name: string; type: number; questionEnd: number }

/** The first question of a query, or undefined for anything that is not one. */
function readQuestion(msg: Buffer): Question | undefined {
  if (msg.length < 12 || (msg[2]! & 0x80) !== 0 || msg.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let i = 12;
  for (;;) {
    const len = msg[i];
    if (len === undefined || len > 63) return undefined;
    i += 1;
    if (len === 0) break;
    labels.push(msg.subarray(i, i + len).toString('latin1'));
    i += len;
  }
  if (i + 4 > msg.length) return undefined;
  return { id: msg.readUInt16BE(0), recursionDesired: (msg[2]! & 0x01) !== 0, name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(i), questionEnd: i + 4 };
}

function answer(query: Buffer, q: Question, rcode: number, address?: string): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  header.writeUInt16BE(0x8400 | (q.recursionDesired ? 0x0100 : 0) | rcode, 2); // QR, AA, RD echoed
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(address ? 1 : 0, 6);
  const question = query.subarray(12, q.questionEnd);
  if (!address) return Buffer.concat([header, question]);
  const record = Buffer.alloc(16);
  record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
  record.writeUInt16BE(1, 2); // A
  record.writeUInt16BE(1, 4); // IN
  record.writeUInt32BE(0, 6); // TTL 0: "ask me again next time"
  record.writeUInt16BE(4, 10);
  address.split('.').forEach((octet, k) => record.writeUInt8(Number(octet), 12 + k));
  return Buffer.concat([header, question, record]);
}

export async function startRebindingDnsServer(options: RebindingDnsServerOptions): Promise<RebindingDnsServer> {
  const names = new Map(Object.entries(options.names).map(([name, answers]) => {
    if (answers.length === 0 || !answers.every((a) => net.isIPv4(a))) throw new Error(`${name}: give one or more IPv4 answers`);
    return [name.toLowerCase().replace(/\.$/, ''), answers] as const;
  }));
  const asked: string[] = [];
  const given = new Map<string, string[]>();
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, peer) => {
    const q = readQuestion(msg);
    if (!q) return;
    asked.push(`${q.name} ${TYPE_NAMES[q.type] ?? q.type}`);
    const answers = names.get(q.name);
    let reply: Buffer;
    if (!answers) reply = answer(msg, q, 3); // NXDOMAIN
    else if (q.type !== 1) reply = answer(msg, q, 0); // NODATA
    else {
      const sent = given.get(q.name) ?? [];
      const address = answers[Math.min(sent.length, answers.length - 1)] as string;
      given.set(q.name, [...sent, address]);
      reply = answer(msg, q, 0, address);
    }
    socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => { socket.off('error', reject); resolve(); });
  });
  return {
    nameserver: `127.0.0.1:${socket.address().port}`,
    questions: () => [...asked],
    answersGiven: (name) => [...(given.get(name.toLowerCase()) ?? [])],
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
