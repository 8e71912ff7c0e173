// `mapi-operator run`: the operator process.
import { parseDuration } from '../api/duration.ts';
import { Manager } from '../kube/index.ts';
import { createLogger, LOG_FORMATS, type LogFormat } from '../observability/logger.ts';
import { createHash } from 'node:crypto';
import { createRealCheckIO, detailsReadAfterRun, runChecks, ProbeCache, systemClock } from '../checks/index.ts';
import type { CheckIO, CheckTarget } from '../checks/types.ts';
import { registerControllers } from '../controllers/register.ts';
import { discoverGatewayApi } from '../exposure/discovery.ts';
import { CheckMetrics } from '../controllers/checks/check-metrics.ts';
import { parseFlags, positiveInt, UsageError, envName, aliasedFlag, findKubeConfig, type FlagSpec } from './flags.ts';
import type { LevelWithSilent } from 'pino';
import { TENANCIES, type Tenancy } from '../policy/grants.ts';
import { parseProbeNetwork, type ProbePolicy } from '../policy/probe-policy.ts';
import { heapReleaseMetrics, startHeapRelease } from '../observability/heap-release.ts';

const mib = (bytes: number): number => Math.round(bytes / 1048576);

const options: FlagSpec = {
  help: { type: 'boolean', short: 'h' },
  kubeconfig: { type: 'string' },
  namespace: { type: 'string', multiple: true },
  'label-selector': { type: 'string' },
  concurrency: { type: 'string' },
  'mailbox-concurrency': { type: 'string' },
  'leader-elect': { type: 'boolean' },
  'leader-election-namespace': { type: 'string' },
  'leader-election-id': { type: 'string' },
  'leader-elect-lease-duration': { type: 'string' },
  'leader-elect-renew-deadline': { type: 'string' },
  'leader-elect-retry-period': { type: 'string' },
  'metrics-addr': { type: 'string' },
  'health-addr': { type: 'string' },
  // controller-runtime's names for the same two addresses, so manifests written for a
  // kubebuilder operator work unchanged.
  'metrics-bind-address': { type: 'string' },
  'health-probe-bind-address': { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  'allow-cluster-issuers': { type: 'string' },
  'progress-deadline': { type: 'string' },
  'resync-period': { type: 'string' },
  'gatekeeper-image': { type: 'string' },
  'probe-private-networks': { type: 'boolean' },
  'probe-loopback': { type: 'boolean' },
  'probe-allow-network': { type: 'string', multiple: true },
  tenancy: { type: 'string' },

  'https-port': { type: 'string' },
  'http-port': { type: 'string' },
};

const help = `Usage: mapi-operator run [flags]

Runs the operator: watches MapiServers, MailDomains and Mailboxes, provisions Certificates,
Ingresses, Services, PodDisruptionBudgets and the MAPI Deployment of each server, runs the
Outlook checks of every hosted domain and gates the rollout.

Flags (each also read from the environment variable shown):
  --kubeconfig PATH              kubeconfig file; default in-cluster, then $KUBECONFIG     ${envName('kubeconfig')}
  --namespace NS                 watch only this namespace (repeatable); default all         ${envName('namespace')} (comma-separated)
  --label-selector SEL           reconcile only MapiServers matching SEL (sharding)          ${envName('label-selector')}
  --concurrency N                objects of each kind reconciled at once (default 4)         ${envName('concurrency')}
  --mailbox-concurrency N        Mailboxes reconciled at once (default 16, at least --concurrency) ${envName('mailbox-concurrency')}
  --leader-elect                 elect a leader through a Lease (15s/10s/2s)                 ${envName('leader-elect')}
  --leader-election-namespace NS namespace of the Lease (default: the pod's, else default)   ${envName('leader-election-namespace')}
  --leader-election-id NAME      name of the Lease (default mapi-operator-leader)            ${envName('leader-election-id')}
  --leader-elect-lease-duration DUR  how long a lease is valid (default 15s)                ${envName('leader-elect-lease-duration')}
  --leader-elect-renew-deadline DUR  the leader stops leading if it cannot renew in this (10s) ${envName('leader-elect-renew-deadline')}
  --leader-elect-retry-period DUR    how often candidates try the Lease (default 2s)        ${envName('leader-elect-retry-period')}
  --metrics-addr ADDR            Prometheus /metrics address (default :8080; 0 turns off)    ${envName('metrics-addr')}
  --health-addr ADDR             /healthz and /readyz address (default :8081; 0 turns off)   ${envName('health-addr')}
  --metrics-bind-address ADDR    the same as --metrics-addr (controller-runtime's name)      ${envName('metrics-bind-address')}
  --health-probe-bind-address ADDR the same as --health-addr (controller-runtime's name)    ${envName('health-probe-bind-address')}
  --log-level LEVEL              trace|debug|info|warn|error (default info)                  ${envName('log-level')}
  --log-format FORMAT            json (default, one object a line) or text (for a terminal)  ${envName('log-format')}
  --allow-cluster-issuers BOOL   allow issuerRef.kind ClusterIssuer (default true)           ${envName('allow-cluster-issuers')}
  --progress-deadline DUR        time a new release has to answer before rollback (10m)      ${envName('progress-deadline')}
  --resync-period DUR            re-reconcile every object this often (default 5m)           ${envName('resync-period')}
  --gatekeeper-image IMAGE       image of the gatekeeper sidecar (the operator's own image)  ${envName('gatekeeper-image')}
  --probe-private-networks       let probes reach private addresses (RFC 1918, fc00::/7)     ${envName('probe-private-networks')}
  --probe-allow-network CIDR     let probes reach this network too (repeatable), e.g.        ${envName('probe-allow-network')} (comma-separated)
                                 10.20.0.0/16; never link-local or metadata addresses
  --tenancy Granted|Open         Granted (default): a host must be given to the namespace by ${envName('tenancy')}
                                 a MailDomainGrant; Open: any namespace may claim any host
                                 (one-team clusters only)
  -h, --help                     show this help

Probes never go to loopback, link-local, metadata or cluster-internal names by default.
For tests only: --https-port / --http-port point the probes at another port than 443 / 80;
--probe-loopback lets them reach 127.0.0.0/8 and ::1 (never use it in a cluster).
`;

function duration(flag: string, value: string | undefined, fallback: string): number {
  try {
    return parseDuration(value ?? fallback);
  } catch (err) {
    throw new UsageError(`--${flag}: ${(err as Error).message}`);
  }
}

/** --probe-allow-network values, each checked and written in canonical form. */
function probeAllowNetworks(values: string[] | undefined): string[] {
  return (values ?? []).map((value) => {
    const parsed = parseProbeNetwork(value);
    if (!parsed.ok) throw new UsageError(`--probe-allow-network=${value}: ${parsed.problem}`);
    return parsed.cidr;
  });
}

function probeReach(policy: ProbePolicy): string {
  const extra = [...(policy.privateNetworks ? ['private ranges'] : []), ...(policy.allowNetworks ?? [])];
  return extra.length === 0 ? 'probes reach public addresses only' : `probes reach public addresses and ${extra.join(', ')}`;
}

function podNamespace(): string | undefined {
  return process.env.POD_NAMESPACE;
}

export async function runCommand(argv: string[]): Promise<number> {
  let flags: ReturnType<typeof parseFlags>;
  try {
    flags = parseFlags(argv, options);
    if (flags.help) {
      process.stdout.write(help);
      return 0;
    }
    const level = (flags['log-level'] as string | undefined) ?? 'info';
    if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(level)) throw new UsageError(`--log-level=${level}: use trace, debug, info, warn or error`);
    const logFormat = (flags['log-format'] as string | undefined) ?? 'json';
    if (!(LOG_FORMATS as readonly string[]).includes(logFormat)) throw new UsageError(`--log-format=${logFormat}: use json or text`);
    const metricsAddr = aliasedFlag(flags, 'metrics-addr', 'metrics-bind-address') ?? ':8080';
    const healthAddr = aliasedFlag(flags, 'health-addr', 'health-probe-bind-address') ?? ':8081';
    const allowClusterIssuers = flags['allow-cluster-issuers'] === undefined ? true : /^(true|1)$/i.test(String(flags['allow-cluster-issuers']));
    const concurrency = positiveInt('concurrency', flags.concurrency as string | undefined, 4);
    // A Mailbox's reconcile is one small status write that waits on the apiserver, and a hoster
    // has a hundred thousand of them: at 4 at once, 5,000 MailDomains' Mailboxes took over 90
    // minutes to be written once (18.3 writes/s at ~214 ms each, docs/benchmarks.md).
    const mailboxConcurrency = positiveInt('mailbox-concurrency', flags['mailbox-concurrency'] as string | undefined, Math.max(16, concurrency));
    const progressDeadlineMs = duration('progress-deadline', flags['progress-deadline'] as string | undefined, '10m');
    const leaseDurationMs = duration('leader-elect-lease-duration', flags['leader-elect-lease-duration'] as string | undefined, '15s');
    const renewDeadlineMs = duration('leader-elect-renew-deadline', flags['leader-elect-renew-deadline'] as string | undefined, '10s');
    const retryPeriodMs = duration('leader-elect-retry-period', flags['leader-elect-retry-period'] as string | undefined, '2s');
    // client-go's rule: a leader must give up (renew deadline) before its lease runs out, and
    // retry more often than that, or two replicas could both think they lead.
    if (!(leaseDurationMs > renewDeadlineMs)) throw new UsageError(`--leader-elect-lease-duration must be longer than --leader-elect-renew-deadline`);
    if (!(renewDeadlineMs > retryPeriodMs)) throw new UsageError(`--leader-elect-renew-deadline must be longer than --leader-elect-retry-period`);
    const resyncMs = duration('resync-period', flags['resync-period'] as string | undefined, '5m');
    const httpsPort = flags['https-port'] ? positiveInt('https-port', flags['https-port'] as string, 443) : undefined;
    const httpPort = flags['http-port'] ? positiveInt('http-port', flags['http-port'] as string, 80) : undefined;
    const gatekeeperImage = flags['gatekeeper-image'] as string | undefined;
    const tenancy = (flags.tenancy as string | undefined) ?? 'Granted';
    if (!(TENANCIES as readonly string[]).includes(tenancy)) throw new UsageError(`--tenancy=${tenancy}: use Granted (hosts given to namespaces by MailDomainGrants) or Open (one-team clusters)`);
    const probePolicy: ProbePolicy = {
      loopback: Boolean(flags['probe-loopback']),
      privateNetworks: Boolean(flags['probe-private-networks']),
      allowNetworks: probeAllowNetworks(flags['probe-allow-network'] as string[] | undefined),
    };

    // Without any cluster configuration the client would fall back to localhost:8080 and
    // retry for ever; say what is missing instead and exit.
    const kubeconfig = findKubeConfig(flags.kubeconfig as string | undefined);
    if (!kubeconfig.found) {
      process.stderr.write(`mapi-operator run: ${kubeconfig.problem}\n`);
      return 1;
    }

    const logger = createLogger({ level: level as LevelWithSilent, format: logFormat as LogFormat });
    const manager = new Manager({
      ...(flags.kubeconfig ? { kubeconfigPath: flags.kubeconfig as string } : {}),
      namespaces: (flags.namespace as string[] | undefined) ?? [],
      ...(flags['label-selector'] ? { labelSelector: flags['label-selector'] as string } : {}),
      leaderElection: {
        enabled: Boolean(flags['leader-elect']),
        namespace: (flags['leader-election-namespace'] as string | undefined) ?? podNamespace() ?? 'default',
        ...(flags['leader-election-id'] ? { name: flags['leader-election-id'] as string } : {}),
        leaseDurationMs,
        renewDeadlineMs,
        retryPeriodMs,
      },
      metricsAddr,
      healthAddr,
      logger,
    });
    // One probe of a host per interval however many MailDomains share it: MailDomains with the
    // same checks.interval share one cache whose results live that long (failures less).
    const probeCaches = new Map<number, ProbeCache>();
    const probeCacheFor = (intervalMs: number): ProbeCache => {
      let cache = probeCaches.get(intervalMs);
      if (!cache) probeCaches.set(intervalMs, (cache = new ProbeCache({ clock: systemClock, ttlMs: intervalMs })));
      return cache;
    };
    const checkMetrics = new CheckMetrics(manager.metrics.registry);
    // One IO per (name servers, trust bundle), kept across runs: its TLS context and its short
    // address memo are shared by every MailDomain that checks against the same world.
    const checkIOs = new Map<string, CheckIO>();
    const checkIOFor = (target: CheckTarget): CheckIO => {
      const key = createHash('sha256').update(JSON.stringify([[...target.nameservers].sort(), target.caBundlePem ?? ''])).digest('hex');
      let io = checkIOs.get(key);
      if (!io) {
        // A handful of distinct worlds in practice; the bound keeps a churn of bundles from growing it.
        if (checkIOs.size >= 64) checkIOs.delete(checkIOs.keys().next().value as string);
        checkIOs.set(key, (io = checkMetrics.timed(createRealCheckIO({
          nameservers: target.nameservers,
          ...(target.caBundlePem ? { caBundlePem: target.caBundlePem } : {}),
          ...(httpsPort ? { httpsPortFor: () => httpsPort } : {}),
          ...(httpPort ? { httpPortFor: () => httpPort } : {}),
          probePolicy,
        }))));
      }
      return io;
    };
    // Asked once at start; an apiserver that is restarting or overloaded (a reset connection,
    // a 429, a time-out) is asked again with backoff instead of crashing the pod.
    const gatewayApi = await (async () => {
      for (let attempt = 1, delayMs = 1_000; ; attempt++, delayMs = Math.min(delayMs * 2, 15_000)) {
        try {
          return await discoverGatewayApi(manager.client, { namespaces: (flags.namespace as string[] | undefined) ?? [] });
        } catch (err) {
          if (attempt >= 8) throw err;
          logger.warn({ err, attempt, retryInMs: delayMs }, 'asking the apiserver whether Gateway API is served failed; asking again');
          await new Promise((r) => setTimeout(r, delayMs));
        }
      }
    })();
    if (gatewayApi.served) logger.info('Gateway API served: spec.exposure.gateway available');
    else if (gatewayApi.forbidden.length > 0) logger.warn({ forbidden: gatewayApi.forbidden }, 'Gateway API served but these rules are not granted: spec.exposure.gateway is reported as GatewayAPINotInstalled until they are and the operator restarts');
    else logger.info({ missing: gatewayApi.missing }, 'Gateway API not served (or without ListenerSet): spec.exposure.gateway is reported as GatewayAPINotInstalled until it is installed and the operator restarts');
    const { checks } = registerControllers({
      manager,
      gatewayApi: gatewayApi.served,
      allowClusterIssuers,
      progressDeadlineMs,
      tenancy: tenancy as Tenancy,
      concurrency,
      mailboxConcurrency,
      resyncMs,
      ...(gatekeeperImage ? { gatekeeperImage } : {}),
      runChecks: (target, _signal, intervalMs) => runChecks(target, checkIOFor(target), { cache: probeCacheFor(intervalMs), retain: detailsReadAfterRun }),
      onCheckRun: (kind, key, results, ms, target) => checkMetrics.observeRun(kind, key, results, ms, target),
      // A deleted MailDomain's series went on being reported (and kept) for good.
      onCheckForget: (kind, key) => checkMetrics.forget(`${kind}/${key}`),
    });
    if (tenancy === 'Open') {
      logger.warn({ tenancy }, 'TENANCY OPEN: any namespace may claim any mail domain and host name (first claim wins) and get a certificate for it; use --tenancy Granted with MailDomainGrants in a cluster shared by several teams');
    } else {
      logger.info({ tenancy }, 'tenancy Granted: a MapiServer or MailDomain serves only hosts a MailDomainGrant gives to its namespace');
    }
    logger.info({ probePolicy }, probePolicy.loopback
      ? 'probes may reach loopback (--probe-loopback): for tests and local development only'
      : probeReach(probePolicy));
    // Needs --expose-gc (the image and the chart set it): without it the pages stay pooled.
    const countRelease = heapReleaseMetrics(manager.metrics.registry);
    const heapRelease = startHeapRelease({
      onRelease: (r) => {
        countRelease(r);
        logger.debug({ reason: r.reason, heapMiB: [mib(r.committedBefore), mib(r.committedAfter)], rssMiB: [mib(r.rssBefore), mib(r.rssAfter)], tookMs: r.tookMs }, 'gave freed heap pages back to the OS');
      },
    });
    if (!heapRelease) logger.debug('no --expose-gc: the heap pages a burst frees stay with the process until V8 reuses them');
    const reason = await manager.start();
    heapRelease?.stop();
    await checks.stop();
    logger.info({ reason }, 'exiting');
    return reason === 'signal' || reason === 'stopped' ? 0 : 1;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`mapi-operator run: ${err.message}\nRun "mapi-operator run --help" for the flags.\n`);
      return 2;
    }
    throw err;
  }
}
