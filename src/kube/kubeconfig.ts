// Where the operator's client gets its cluster, credentials and connections from.
//
// Two common cases are read here directly: the pod's service account (in-cluster) and a
// kubeconfig file whose user is a client certificate or a bearer token. Everything else
// (exec plugins, auth providers, basic auth, impersonation, proxies, several files merged
// from $KUBECONFIG) is handed to @kubernetes/client-node's KubeConfig, loaded only then.
// Why: importing @kubernetes/client-node loads its generated API (about 1,000 modules) and
// costs ~70 MiB of resident memory, over a quarter of the operator's memory goal, for a
// class of which the operator needs two methods.
//
// Connections: one keep-alive agent with one TLS context per loaded config. client-node's
// applyToHTTPSOptions reads the key files and gives an agent without keep-alive, so every
// request opened a new TLS connection and built a new TLS context (CA, certificate and key
// parsed again), churning native memory and handshakes.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import path from 'node:path';
import tls from 'node:tls';
import { load as loadYaml } from 'js-yaml';

/** The cluster entry, in client-node's shape (tests hand it to a client-node KubeConfig). */
export interface ClusterEntry {
  readonly name: string;
  readonly server: string;
  readonly skipTLSVerify: boolean;
  readonly caData?: string;
  readonly caFile?: string;
  readonly tlsServerName?: string;
}

/** What KubeClient needs of a configuration; client-node's KubeConfig satisfies it too. */
export interface ClusterConfig {
  getCurrentCluster(): ClusterEntry | null;
  /** Sets the agent (TLS, keep-alive) and the Authorization header on one request. */
  applyToHTTPSOptions(opts: https.RequestOptions): Promise<void>;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** A bearer token read from a file is read again after this long: kubelet rotates bound
 *  service-account tokens (client-go re-reads the file every minute as well). */
const TOKEN_FILE_TTL_MS = 60_000;
/** An idle kept-alive connection is closed after this long, before the apiserver's own idle
 *  time-out (90 s) closes it under a request being sent on it. Only idle sockets: a watch
 *  that is quiet longer is not touched by it. */
const IDLE_SOCKET_MS = 30_000;

interface Credentials {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  tokenFile?: string;
}

// Own classes, so a client that swaps plain agents for pooled ones of its own (client.ts does,
// for client-node's agents without keep-alive) leaves these, which keep alive and carry the
// TLS context, in place.
class ClusterHttpAgent extends http.Agent {}
class ClusterHttpsAgent extends https.Agent {}

/** A configuration read without client-node: one cluster, a certificate and/or a token. */
export class DirectClusterConfig implements ClusterConfig {
  readonly #cluster: ClusterEntry;
  readonly #agent: http.Agent;
  readonly #token: string | undefined;
  readonly #tokenFile: string | undefined;
  #fileToken: { value: string; readAt: number } | undefined;

  constructor(cluster: ClusterEntry, creds: Credentials) {
    this.#cluster = cluster;
    this.#token = creds.token;
    this.#tokenFile = creds.tokenFile;
    if (cluster.server.startsWith('http:')) {
      this.#agent = new ClusterHttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
    } else {
      // One TLS context for every connection of this config (tls.connect would build one
      // per connection from ca/cert/key otherwise).
      const secureContext = tls.createSecureContext({
        ...(creds.ca ? { ca: creds.ca } : {}),
        ...(creds.cert ? { cert: creds.cert } : {}),
        ...(creds.key ? { key: creds.key } : {}),
      });
      this.#agent = new ClusterHttpsAgent({
        keepAlive: true,
        timeout: IDLE_SOCKET_MS,
        secureContext,
        rejectUnauthorized: !cluster.skipTLSVerify,
        ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
      });
    }
  }

  getCurrentCluster(): ClusterEntry {
    return this.#cluster;
  }

  async applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
    opts.agent = this.#agent;
    const token = this.#bearerToken();
    if (token) opts.headers = { ...(opts.headers as Record<string, string> | undefined), Authorization: `Bearer ${token}` };
  }

  /** Closes kept-alive connections (tests, shutdown). */
  destroy(): void {
    this.#agent.destroy();
  }

  #bearerToken(): string | undefined {
    if (this.#token) return this.#token;
    if (!this.#tokenFile) return undefined;
    const now = Date.now();
    if (!this.#fileToken || now - this.#fileToken.readAt >= TOKEN_FILE_TTL_MS) {
      this.#fileToken = { value: readFileSync(this.#tokenFile, 'utf8').trim(), readAt: now };
    }
    return this.#fileToken.value;
  }
}

/** The pod's service account: the apiserver from the environment, its CA and token files. */
export function inClusterConfig(env: NodeJS.ProcessEnv = process.env, dir: string = SERVICE_ACCOUNT_DIR): DirectClusterConfig {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error('not in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are unset; pass --kubeconfig');
  const caFile = path.join(dir, 'ca.crt');
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new DirectClusterConfig({ name: 'inCluster', server, skipTLSVerify: false, caFile }, { ca: readFileSync(caFile), tokenFile: path.join(dir, 'token') });
}

type Named<T> = Array<{ name?: string } & T> | undefined;
interface KubeconfigFile {
  'current-context'?: string;
  clusters?: Named<{ cluster?: Record<string, unknown> }>;
  users?: Named<{ user?: Record<string, unknown> }>;
  contexts?: Named<{ context?: { cluster?: string; user?: string; namespace?: string } }>;
}

/** User fields read here; a user with any other field (exec, auth-provider, username, as …)
 *  goes to client-node, which implements them. */
const DIRECT_USER_FIELDS = new Set(['client-certificate', 'client-certificate-data', 'client-key', 'client-key-data', 'token', 'tokenFile']);
const DIRECT_CLUSTER_FIELDS = new Set(['server', 'certificate-authority', 'certificate-authority-data', 'insecure-skip-tls-verify', 'tls-server-name', 'extensions']);

/**
 * Reads a kubeconfig file directly when its current context uses only what this module
 * supports; undefined when it needs client-node (see DIRECT_*_FIELDS). Errors name the file
 * and the field.
 */
export function directConfigFromFile(file: string): DirectClusterConfig | undefined {
  const doc = loadYaml(readFileSync(file, 'utf8')) as KubeconfigFile | undefined;
  if (!doc || typeof doc !== 'object') throw new Error(`${file}: not a kubeconfig (expected a YAML map with clusters, users and contexts)`);
  const contextName = doc['current-context'];
  if (!contextName) return undefined; // client-node decides what no current context means
  const context = doc.contexts?.find((c) => c.name === contextName)?.context;
  if (!context?.cluster) throw new Error(`${file}: current-context "${contextName}" is not among contexts[] or names no cluster`);
  const cluster = doc.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster) throw new Error(`${file}: context "${contextName}" names cluster "${context.cluster}", which is not among clusters[]`);
  const user = (context.user ? doc.users?.find((u) => u.name === context.user)?.user : undefined) ?? {};
  if (Object.keys(cluster).some((k) => !DIRECT_CLUSTER_FIELDS.has(k)) || Object.keys(user).some((k) => !DIRECT_USER_FIELDS.has(k))) return undefined;
  const server = cluster.server;
  if (typeof server !== 'string' || !/^https?:\/\//.test(server)) throw new Error(`${file}: clusters[${context.cluster}].cluster.server must be an http(s) URL, got ${JSON.stringify(server)}`);
  const dir = path.dirname(path.resolve(file));
  const abs = (p: unknown): string | undefined => (typeof p === 'string' && p ? path.resolve(dir, p) : undefined);
  const data = (v: unknown): Buffer | undefined => (typeof v === 'string' && v ? Buffer.from(v, 'base64') : undefined);
  const fileOrData = (f: unknown, d: unknown): Buffer | undefined => {
    const p = abs(f);
    return p ? readFileSync(p) : data(d);
  };
  const skipTLSVerify = cluster['insecure-skip-tls-verify'] === true;
  // client-node refuses plain http unless TLS checks are off: keep its rule.
  if (server.startsWith('http:') && !skipTLSVerify) throw new Error(`${file}: cluster "${context.cluster}" is plain http; set insecure-skip-tls-verify: true to allow it, or use https`);
  const caFile = abs(cluster['certificate-authority']);
  const caData = typeof cluster['certificate-authority-data'] === 'string' ? cluster['certificate-authority-data'] : undefined;
  const tlsServerName = typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined;
  const entry: ClusterEntry = {
    name: context.cluster, server, skipTLSVerify,
    ...(caFile ? { caFile } : {}), ...(caData ? { caData } : {}), ...(tlsServerName ? { tlsServerName } : {}),
  };
  const creds: Credentials = {};
  const ca = fileOrData(cluster['certificate-authority'], caData);
  const cert = fileOrData(user['client-certificate'], user['client-certificate-data']);
  const key = fileOrData(user['client-key'], user['client-key-data']);
  if (ca) creds.ca = ca;
  if (cert) creds.cert = cert;
  if (key) creds.key = key;
  if (Boolean(cert) !== Boolean(key)) throw new Error(`${file}: user "${context.user}" has a client certificate without its key or a key without its certificate; set both client-certificate(-data) and client-key(-data)`);
  if (typeof user.token === 'string' && user.token) creds.token = user.token;
  const tokenFile = abs(user.tokenFile);
  if (tokenFile) creds.tokenFile = tokenFile;
  return new DirectClusterConfig(entry, creds);
}

/** client-node's KubeConfig, loaded only for configurations this module does not read. */
function clientNodeConfig(load: (kc: { loadFromFile(f: string): void; loadFromDefault(): void }) => void): ClusterConfig & { getCurrentCluster(): ClusterEntry | null } {
  const { KubeConfig } = createRequire(import.meta.url)('@kubernetes/client-node') as typeof import('@kubernetes/client-node');
  const kc = new KubeConfig();
  load(kc);
  return kc;
}

/**
 * `--kubeconfig` path first; else in-cluster (service account) when running in a pod; else
 * the default loading rules ($KUBECONFIG, ~/.kube/config) through client-node.
 */
export function loadKubeConfig(kubeconfigPath?: string): ClusterConfig {
  let config: ClusterConfig;
  if (kubeconfigPath) {
    config = directConfigFromFile(kubeconfigPath) ?? clientNodeConfig((kc) => kc.loadFromFile(kubeconfigPath));
  } else if (process.env.KUBERNETES_SERVICE_HOST && process.env.KUBERNETES_SERVICE_PORT) {
    config = inClusterConfig();
  } else {
    config = clientNodeConfig((kc) => kc.loadFromDefault());
  }
  if (!config.getCurrentCluster()) throw new Error('no Kubernetes cluster configured: pass --kubeconfig, set KUBECONFIG, or run in a pod');
  return config;
}
