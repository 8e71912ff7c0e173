// Which kind of request a request-target is. The server normalises paths before routing, so the
// gatekeeper must too, or "/MAPI//emsmdb/", "/mapi/./emsmdb" or "/mapi/%65msmdb" would reach the
// MAPI endpoint without a decision.
// (The server behind may be bm-mapi, a Java server, hence path parameters too.)
import type { RequestKind } from './metrics.ts';

export function normalisedPath(target: string): string {
  let path = target;
  // Absolute form (RFC 9112 3.2.2): drop scheme and authority.
  const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(path);
  if (abs) path = path.slice(abs[0].length) || '/';
  const q = path.search(/[?#]/);
  if (q >= 0) path = path.slice(0, q);
  try {
    path = decodeURIComponent(path);
  } catch {
    // Left encoded: an invalid escape cannot name the MAPI endpoints once decoded either.
  }
  const out: string[] = [];
  for (const raw of path.replace(/\\/g, '/').split('/')) {
    // Path parameters ("/mapi;x=1/emsmdb"): Java servlet containers route without them.
    const segment = raw.split(';')[0]!;
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return `/${out.join('/')}${path.endsWith('/') && out.length > 0 ? '/' : ''}`.toLowerCase();
}

export function requestKind(method: string | undefined, target: string): RequestKind {
  const path = normalisedPath(target);
  if (path === '/mapi/emsmdb' || path.startsWith('/mapi/emsmdb/')) return 'emsmdb';
  if (path === '/mapi/nspi' || path.startsWith('/mapi/nspi/')) return 'nspi';
  if (method === 'POST' && path === '/autodiscover/autodiscover.xml') return 'autodiscover';
  return 'other';
}
