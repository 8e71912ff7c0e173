// Valid, minimal v1alpha2 objects for tests. Two shapes of each kind:
//  - mapiServer / mailDomain / mailbox: the typed object the operator works with, its spec
//    parsed by the same zod schemas the operator uses (defaults filled in), with the system
//    fields a stored object has (uid, generation, creationTimestamp);
//  - *Manifest: what a person writes and `kubectl apply`s, the spec exactly as given (no
//    defaults), for tests against the apiserver.
// The spec argument is merged shallowly over the minimal spec; a key set to undefined is
// removed (that is how a test writes "without externalHost").
import { API_VERSION, type ObjectMeta } from '../../src/api/common.ts';
import { parseMapiServerSpec, parseMailDomainSpec, parseMailboxSpec, type ParseResult } from '../../src/api/parse.ts';
import type { MapiServer, MapiServerSpecInput } from '../../src/api/mapiserver.ts';
import type { MailDomain, MailDomainSpecInput } from '../../src/api/maildomain.ts';
import type { Mailbox, MailboxSpec } from '../../src/api/mailbox.ts';

export const NAMESPACE = 'mail';
export const SERVER_NAME = 'mapi';
export const EXTERNAL_HOST = 'mail.example.com';
export const IMAGE = 'registry.example/bm-mapi:5.3.0';
export const ISSUER = 'letsencrypt';
export const DOMAIN = 'example.com';
export const DOMAIN_NAME = 'example-com';
export const CREATED = '2026-01-02T00:00:00Z';

export type MailboxSpecInput = Partial<MailboxSpec>;
type Spec = Record<string, unknown>;

/** The smallest MapiServer spec the apiserver and the operator accept. */
export function mapiServerSpec(spec: Partial<MapiServerSpecInput> = {}): MapiServerSpecInput {
  return merge({ externalHost: EXTERNAL_HOST, image: IMAGE, tls: { issuerRef: { name: ISSUER } } }, spec) as MapiServerSpecInput;
}

/** The smallest MailDomain spec: example.com served by the MapiServer `mapi`. */
export function mailDomainSpec(spec: Partial<MailDomainSpecInput> = {}): MailDomainSpecInput {
  return merge({ serverRef: SERVER_NAME, domain: DOMAIN }, spec) as MailDomainSpecInput;
}

/** The smallest Mailbox spec: `<name>@example.com` in the MailDomain `example-com`. */
export function mailboxSpec(name: string, spec: MailboxSpecInput = {}): MailboxSpecInput {
  return merge({ domainRef: DOMAIN_NAME, address: `${name}@${DOMAIN}` }, spec);
}

export function mapiServerManifest(name = SERVER_NAME, namespace = NAMESPACE, spec: Partial<MapiServerSpecInput> = {}) {
  return manifest('MapiServer', name, namespace, mapiServerSpec(spec));
}

export function mailDomainManifest(name = DOMAIN_NAME, namespace = NAMESPACE, spec: Partial<MailDomainSpecInput> = {}) {
  return manifest('MailDomain', name, namespace, mailDomainSpec(spec));
}

export function mailboxManifest(name: string, namespace = NAMESPACE, spec: MailboxSpecInput = {}) {
  return manifest('Mailbox', name, namespace, mailboxSpec(name, spec));
}

/** A stored MapiServer as the operator sees it; throws with the schema's message if `spec` is invalid. */
export function mapiServer(name = SERVER_NAME, namespace = NAMESPACE, spec: Partial<MapiServerSpecInput> = {}, metadata: Partial<ObjectMeta> = {}): MapiServer {
  return { apiVersion: API_VERSION, kind: 'MapiServer', metadata: stored(name, namespace, metadata), spec: valid(parseMapiServerSpec(mapiServerSpec(spec))) };
}

export function mailDomain(name = DOMAIN_NAME, namespace = NAMESPACE, spec: Partial<MailDomainSpecInput> = {}, metadata: Partial<ObjectMeta> = {}): MailDomain {
  return { apiVersion: API_VERSION, kind: 'MailDomain', metadata: stored(name, namespace, metadata), spec: valid(parseMailDomainSpec(mailDomainSpec(spec))) };
}

export function mailbox(name: string, namespace = NAMESPACE, spec: MailboxSpecInput = {}, metadata: Partial<ObjectMeta> = {}): Mailbox {
  return { apiVersion: API_VERSION, kind: 'Mailbox', metadata: stored(name, namespace, metadata), spec: valid(parseMailboxSpec(mailboxSpec(name, spec))) };
}

function manifest<S extends object>(kind: string, name: string, namespace: string, spec: S) {
  return { apiVersion: API_VERSION, kind, metadata: { name, namespace }, spec };
}

function stored(name: string, namespace: string, metadata: Partial<ObjectMeta>): ObjectMeta {
  return { name, namespace, uid: `uid-${namespace}-${name}`, generation: 1, creationTimestamp: CREATED, ...metadata };
}

function merge<T extends Spec>(base: T, over: Spec): T {
  const out: Spec = { ...base, ...over };
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return out as T;
}

function valid<T>(r: ParseResult<T>): T {
  if (!r.ok) throw new Error(`fixture is not valid: ${r.message}`);
  return r.value;
}
