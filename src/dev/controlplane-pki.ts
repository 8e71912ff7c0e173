// The control plane's own PKI, made with openssl: one CA that signs the apiserver's serving
// certificate and every client identity (client-certificate authentication, as kubeadm and
// envtest do), plus the service-account signing key pair.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args, { timeout: 30_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

export interface KeyPair {
  cert: string; // path to PEM certificate
  key: string; // path to PEM private key
}

export interface ClientIdentity {
  user: string;
  groups: string[];
}

export interface ControlPlanePki {
  dir: string;
  ca: KeyPair;
  apiserver: KeyPair;
  serviceAccountKey: string; // private key (RSA), signs service-account tokens
  serviceAccountPub: string;
  clients: Record<string, KeyPair>;
}

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function subject(cn: string, orgs: string[] = []): string {
  // openssl -subj syntax; '/' and '=' cannot appear in our names.
  return orgs.map((o) => `/O=${o}`).join('') + `/CN=${cn}`;
}

async function signedLeaf(dir: string, name: string, ca: KeyPair, subj: string, extensions: string[]): Promise<KeyPair> {
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}.crt`);
  const ext = path.join(dir, `${name}.ext`);
  await writeFile(ext, extensions.join('\n') + '\n');
  await openssl(['req', '-new', ...ecKey, '-keyout', key, '-out', csr, '-subj', subj]);
  await openssl([
    'x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', `0x${randomSerial()}`,
    '-days', '30', '-sha256', '-extfile', ext, '-out', cert,
  ]);
  return { cert, key };
}

function randomSerial(): string {
  // positive 128-bit serial: clear the top bit
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

/**
 * Creates the CA, the apiserver serving certificate (valid for 127.0.0.1, localhost and the
 * in-cluster `kubernetes` Service names) and one client certificate per identity.
 */
export async function createControlPlanePki(
  dir: string,
  opts: { serviceIP: string; clients: Record<string, ClientIdentity> },
): Promise<ControlPlanePki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca: KeyPair = { cert: path.join(dir, 'ca.crt'), key: path.join(dir, 'ca.key') };
  const serviceAccountKey = path.join(dir, 'sa.key');
  const serviceAccountPub = path.join(dir, 'sa.pub');
  await Promise.all([
    openssl([
      'req', '-x509', ...ecKey, '-keyout', ca.key, '-out', ca.cert, '-days', '30', '-sha256',
      '-subj', '/CN=mapi-operator-test-cluster-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ]),
    openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', serviceAccountKey]).then(() =>
      openssl(['pkey', '-in', serviceAccountKey, '-pubout', '-out', serviceAccountPub]),
    ),
  ]);
  const leafUsage = ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment'];
  const san = [
    'IP:127.0.0.1', `IP:${opts.serviceIP}`, 'DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local',
  ].join(',');
  const [apiserver, ...clientPairs] = await Promise.all([
    signedLeaf(dir, 'apiserver', ca, subject('kube-apiserver'), [...leafUsage, 'extendedKeyUsage=serverAuth', `subjectAltName=${san}`]),
    ...Object.entries(opts.clients).map(([name, id]) =>
      signedLeaf(dir, `client-${name}`, ca, subject(id.user, id.groups), [...leafUsage, 'extendedKeyUsage=clientAuth']),
    ),
  ]);
  const clients: Record<string, KeyPair> = {};
  Object.keys(opts.clients).forEach((name, i) => {
    const pair = clientPairs[i];
    if (pair) clients[name] = pair;
  });
  return { dir, ca, apiserver: apiserver as KeyPair, serviceAccountKey, serviceAccountPub, clients };
}
