// cert-manager in the shared control plane: its real controller (built from its Go module
// by tools/controlplane/cert-manager.sh), run out of cluster, with a CA ClusterIssuer
// backed by a throw-away test CA. Certificates naming `testIssuerRef` become Ready with a
// real signed certificate in their Secret, as in a cluster running cert-manager.
import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { certManagerControllerBinary, controlPlaneVersions, repoRoot } from '../controlplane-assets.ts';
import { freePorts, type ControlPlane } from '../controlplane.ts';

const execFileAsync = promisify(execFile);

/** The issuer every integration test can name in a Certificate or a MailDomain's tls.issuerRef. */
export const testIssuerRef = { name: 'mapi-test-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' } as const;
/** cert-manager's cluster resource namespace, and the Secret there holding the test CA (tls.crt, tls.key). */
export const certManagerNamespace = 'cert-manager';
export const testCaSecretName = 'mapi-test-ca';

export interface RunningIssuer {
  /** One line for logs: what issues certificates in this control plane. */
  describe: string;
  /** PEM of the CA that signs every issued certificate. */
  caCertPem: string;
  /** Stops cert-manager's controller and starts it again (same flags, same CA): a fresh
   *  process, without the work queues and informer notifications the one before had left. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Returns the cert-manager controller binary, building it (about 2 min with a warm Go cache) when missing. */
export async function ensureCertManagerController(): Promise<string> {
  const existing = certManagerControllerBinary();
  if (existing) return existing;
  process.stderr.write('building cert-manager controller (tools/controlplane/cert-manager.sh controller)\n');
  try {
    await execFileAsync('bash', [path.join(repoRoot, 'tools/controlplane/cert-manager.sh'), 'controller'], {
      maxBuffer: 64 * 1024 * 1024,
      timeout: 30 * 60_000,
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`building cert-manager's controller failed: ${e.stderr?.split('\n').slice(-30).join('\n') || e.message}`);
  }
  const built = certManagerControllerBinary();
  if (!built) throw new Error('tools/controlplane/cert-manager.sh controller succeeded but left no binary');
  return built;
}

async function kubectlOk(cp: ControlPlane, args: string[], input?: string): Promise<string> {
  const res = await cp.kubectl(args, input === undefined ? {} : { input });
  if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (exit ${res.code}): ${res.stderr.trim()}`);
  return res.stdout;
}

/**
 * Creates the test CA, its Secret and the ClusterIssuer, starts cert-manager's controller
 * as a component of the control plane, and waits until the ClusterIssuer is Ready.
 * cert-manager's CRDs must already be installed.
 */
export async function startCertificateIssuer(cp: ControlPlane): Promise<RunningIssuer> {
  const bin = await ensureCertManagerController();
  const caDir = path.join(cp.dir, 'cert-manager');
  await mkdir(caDir, { recursive: true, mode: 0o700 });
  const caKey = path.join(caDir, 'ca.key');
  const caCert = path.join(caDir, 'ca.crt');
  await execFileAsync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', caKey, '-out', caCert, '-days', '30', '-sha256', '-subj', '/O=mapi-operator tests/CN=mapi-operator test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);

  await kubectlOk(cp, ['create', 'namespace', certManagerNamespace, '--dry-run=client', '-o', 'yaml'])
    .then((yaml) => kubectlOk(cp, ['apply', '-f', '-'], yaml));
  const secret = await kubectlOk(cp, [
    '-n', certManagerNamespace, 'create', 'secret', 'tls', testCaSecretName, `--cert=${caCert}`, `--key=${caKey}`,
    '--dry-run=client', '-o', 'yaml',
  ]);
  await kubectlOk(cp, ['apply', '-f', '-'], secret);
  await kubectlOk(cp, ['apply', '-f', '-'], [
    'apiVersion: cert-manager.io/v1',
    'kind: ClusterIssuer',
    'metadata:',
    `  name: ${testIssuerRef.name}`,
    'spec:',
    '  ca:',
    `    secretName: ${testCaSecretName}`,
    '',
  ].join('\n'));

  const [healthPort] = (await freePorts(1)) as [number];
  const name = 'cert-manager-controller';
  const component = {
    name,
    bin,
    args: [
      `--kubeconfig=${cp.kubeconfigPath}`,
      `--cluster-resource-namespace=${certManagerNamespace}`,
      `--health-address=127.0.0.1:${healthPort}`,
      '--v=2',
    ],
    healthUrl: `http://127.0.0.1:${healthPort}/healthz`,
  };
  await cp.startComponent(component);
  const ready = await cp.kubectl(['wait', '--for=condition=Ready', `clusterissuer/${testIssuerRef.name}`, '--timeout=60s'], {
    timeoutMs: 70_000,
  });
  if (ready.code !== 0) {
    const status = await cp.kubectl(['get', `clusterissuer/${testIssuerRef.name}`, '-o', 'jsonpath={.status}']);
    throw new Error(
      `ClusterIssuer ${testIssuerRef.name} not Ready within 60 s: ${ready.stderr.trim()}; status: ${status.stdout}; ` +
        `controller log: ${path.join(cp.logDir, `${name}.log`)}`,
    );
  }
  return {
    describe: `cert-manager ${controlPlaneVersions().CERT_MANAGER_VERSION} controller, ClusterIssuer ${testIssuerRef.name} (CA)`,
    caCertPem: await readFile(caCert, 'utf8'),
    restart: async () => {
      await cp.stopComponent(name);
      await cp.startComponent(component);
    },
    stop: () => cp.stopComponent(name),
  };
}
