// The one exposure interface both owners go through: a MapiServer (its external host) and a
// MailDomain (its autodiscover hosts). Ingress and Gateway API implement it (ingress.ts,
// gateway.ts); index.ts picks one from spec.exposure.
import type { MapiServerSpec } from '../api/mapiserver.ts';
import type { Owner } from '../builders/names.ts';

/** What a MAPI server serves on its external host. */
export const SERVER_PATHS = ['/mapi', '/ews', '/oab', '/autodiscover'] as const;
/** What a MailDomain's autodiscover hosts serve. */
export const AUTODISCOVER_PATHS = ['/autodiscover'] as const;
/** The Service port every exposure routes to (the gatekeeper's, or the server's when it runs alone). */
export const SERVICE_PORT_NAME = 'http';
/** The Service's port number (server.ts builds the Service with it; Gateway API backendRefs need the number). */
export const SERVICE_PORT_NUMBER = 80;

/**
 * How a Gateway gets the HTTPS listeners for these hosts: the operator's own ListenerSet (the
 * Gateway allows ListenerSets from this namespace), or listeners the platform team put on the
 * Gateway (the routes attach to the Gateway, or to its listener spec.exposure.gateway.parentRef.sectionName).
 */
export type GatewayAttachment = 'ListenerSet' | 'Gateway';

export interface ExposureInput {
  owner: Owner;
  /** Name of the exposure object(s). */
  name: string;
  /** Hosts to route; hosts another resource has claimed are already left out. */
  hosts: string[];
  paths: readonly string[];
  /** The MapiServer's Service (a MailDomain's hosts go to its server too). */
  serviceName: string;
  /** Secret of the certificate for these hosts. */
  tlsSecret: string;
  /** The server's spec.exposure: exactly one of ingress or gateway. */
  exposure: MapiServerSpec['exposure'];
  /** Gateway API only: decided from the live Gateway (gateway-attachment.ts); default Gateway. */
  attachment?: GatewayAttachment;
}

export interface ExposureBuilder {
  /** The kinds this builder writes; the others are pruned when the exposure changes. */
  readonly kinds: readonly ExposureKind[];
  build(input: ExposureInput): object[];
}

export const EXPOSURE_KINDS = ['Ingress', 'HTTPRoute', 'ListenerSet'] as const;
export type ExposureKind = (typeof EXPOSURE_KINDS)[number];
