// The builders: MapiServer and MailDomain → the objects the operator applies. Pure: no client,
// no clock, no network; the controllers pass in everything they decided.
export * from './names.ts';
export * from './hosts.ts';
export * from './certificate.ts';
export * from './exposure.ts';
export * from './access.ts';
export * from './workload.ts';
export * from './server.ts';
export * from './maildomain.ts';
export * from './gatekeeper.ts';
