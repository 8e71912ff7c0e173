// Host name handling shared by the checks: one normal form, and RFC 6125 matching of a host
// against the DNS names a certificate carries.

/** Lower case, no trailing dot: the form every comparison in the checks uses. */
export function normalizeHost(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/**
 * RFC 6125 section 6.4: a reference identifier matches a presented DNS-ID exactly, or through
 * a wildcard that is the whole left-most label (`*.example.com`), which stands for exactly one
 * label: it matches `a.example.com`, never `example.com` nor `a.b.example.com`. Partial
 * wildcards (`f*.example.com`) and wildcards over a single-label suffix (`*.com`) are refused,
 * as browsers and Windows (schannel) refuse them.
 */
export function hostMatchesPattern(host: string, pattern: string): boolean {
  const h = normalizeHost(host);
  const p = normalizeHost(pattern);
  if (!p.includes('*')) return h === p;
  if (!p.startsWith('*.') || p.indexOf('*', 1) !== -1) return false;
  const suffix = p.slice(2);
  if (!suffix.includes('.')) return false;
  const dot = h.indexOf('.');
  if (dot <= 0) return false;
  return h.slice(dot + 1) === suffix;
}

/** Whether any of the certificate's DNS names covers the host (the subject CN is not used: RFC 6125 6.4.4). */
export function certificateCoversHost(host: string, dnsNames: string[]): boolean {
  return dnsNames.some((name) => hostMatchesPattern(host, name));
}
