// Where this process's open sockets come from, for finding a descriptor leak in the benchmark
// harness itself (the relays, the ingress front stand-in, the API proxy all live here).
// Every TCP/UDP/pipe handle is labelled at creation with the first frames of this project's
// code on the stack; a connection accepted by a server takes its server's label. Handles that
// were closed (uv_close) drop out, so what is counted is what still holds a descriptor.
import { createHook } from 'node:async_hooks';

const TRACED = new Set(['TCPWRAP', 'TCPSERVERWRAP', 'UDPWRAP', 'PIPEWRAP', 'PIPESERVERWRAP', 'TLSWRAP']);

/** The first `depth` frames of the stack that are not Node's own. */
function ownFrames(depth: number): string {
  const stack = new Error().stack?.split('\n').slice(1) ?? [];
  const own = stack.filter((l) => !l.includes('node:') && !l.includes('handle-trace.ts')).slice(0, depth);
  return own.map((l) => l.trim().replace(/^at /, '').replace(/file:\/\/\S*?\/(src|bench|test|node_modules)\//, '$1/')).join(' < ') || '(node internals)';
}

export interface HandleTrace {
  /** Live handles by type and label, most first. */
  top(n: number): Array<{ type: string; label: string; live: number }>;
  stop(): void;
}

export function startHandleTrace(depth = 3): HandleTrace {
  const labels = new Map<number, { type: string; label: string }>();
  const hook = createHook({
    init(asyncId, type, triggerAsyncId) {
      if (!TRACED.has(type)) return;
      const parent = labels.get(triggerAsyncId);
      const label = parent && parent.type.endsWith('SERVERWRAP') ? `accepted by ${parent.label}` : ownFrames(depth);
      labels.set(asyncId, { type, label });
    },
    destroy(asyncId) {
      labels.delete(asyncId);
    },
  });
  hook.enable();
  return {
    top(n) {
      const counts = new Map<string, { type: string; label: string; live: number }>();
      for (const { type, label } of labels.values()) {
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
