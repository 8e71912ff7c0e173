// Where this process's open sockets come from, for finding a descriptor leak in the benchmark
// harness itself (the relays, the ingress front stand-in, the API proxy all live here).
// Every TCP/UDP/pipe handle is labelled at creation with the first frames of this project's
// code on the stack; a connection accepted by a server takes its server's label. Handles that
// were closed (uv_close) drop out, so what is counted is what still holds a descriptor.
import { createHook } from 'node:async_hooks';

// Handles that hold a descriptor (a TLSWRAP rides on a TCPWRAP and is destroyed only when
// collected, so it would count sockets long closed).
const TRACED = new Set(['TCPWRAP', 'TCPSERVERWRAP', 'UDPWRAP', 'PIPEWRAP', 'PIPESERVERWRAP']);
// A listen or connect to a host name makes its handle in a lookup's callback, where the stack
// has none of our frames: the lookup carries the label over.
const CARRIERS = new Set(['GETADDRINFOREQWRAP']);
const counted = (type: string) => TRACED.has(type);

/** The first `depth` frames of the stack that are not Node's own. */
function ownFrames(depth: number): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 60; // a listen() or connect() is deep in Node's own frames
  const stack = new Error().stack?.split('\n').slice(1) ?? [];
  Error.stackTraceLimit = limit;
  const own = stack.filter((l) => !l.includes('node:') && !l.includes('handle-trace.ts')).slice(0, depth);
  return own.map((l) => l.trim().replace(/^at /, '').replace(/file:\/\/\S*?\/(src|bench|test|node_modules)\//, '$1/')).join(' < ') || '(node internals)';
}

interface ServerHandle { getsockname?(out: { address?: string; port?: number }): number }

function portOf(server: ServerHandle): string {
  const out: { address?: string; port?: number } = {};
  try {
    server.getsockname?.(out);
  } catch {
    // closed
  }
  return out.port ? `${out.address}:${out.port}` : 'a closed server';
}

export interface HandleTrace {
  /** Live handles by type and label, most first. */
  top(n: number): Array<{ type: string; label: string; live: number }>;
  stop(): void;
}

export function startHandleTrace(depth = 3): HandleTrace {
  const labels = new Map<number, { type: string; label: string; server?: ServerHandle }>();
  const hook = createHook({
    init(asyncId, type, triggerAsyncId, resource) {
      if (!TRACED.has(type) && !CARRIERS.has(type)) return;
      if (type.endsWith('SERVERWRAP')) {
        // Made in a tick after listen(): named by its port when reported.
        labels.set(asyncId, { type, label: 'server', server: resource as ServerHandle });
        return;
      }
      const parent = labels.get(triggerAsyncId);
      if (parent?.server) return void labels.set(asyncId, { type, label: 'accepted', server: parent.server });
      labels.set(asyncId, { type, label: parent && CARRIERS.has(parent.type) ? parent.label : ownFrames(depth) });
    },
    destroy(asyncId) {
      labels.delete(asyncId);
    },
  });
  hook.enable();
  return {
    top(n) {
      const counts = new Map<string, { type: string; label: string; live: number }>();
      for (const { type, label: made, server } of labels.values()) {
        if (!counted(type)) continue;
        const label = server ? `${made} on ${portOf(server)}` : made;
        const key = `${type} ${label}`;
        const c = counts.get(key) ?? { type, label, live: 0 };
        c.live++;
        counts.set(key, c);
      }
      return [...counts.values()].sort((a, b) => b.live - a.live).slice(0, n);
    },
    stop: () => hook.disable(),
  };
}
