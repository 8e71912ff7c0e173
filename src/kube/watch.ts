// One watch request, read as JSON lines, with a watchdog. The watchdog exists because a
// watch can die silently: the TCP connection stays up, nothing arrives, no error is raised
// (client-node #958, #364). The apiserver sends a BOOKMARK about every minute to watchers
// that allow bookmarks, so a healthy watch is never silent for long; when it is, we abort it
// and the informer resumes from the last resourceVersion.
import { StringDecoder } from 'node:string_decoder';
import { KubeApiError, type ApiStatus } from './errors.ts';
import type { KubeClient, KubeObject } from './client.ts';
import { realClock, type Clock, type TimerHandle } from './clock.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject | ApiStatus;
}

export interface WatchRequest {
  path: string;
  resourceVersion: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** The apiserver ends the watch after this long; the informer then starts a new one. */
  timeoutSeconds: number;
  /** Abort the watch when nothing at all (not even a bookmark) arrived for this long. */
  watchdogMs: number;
  connectTimeoutMs?: number;
  signal: AbortSignal;
  clock?: Clock;
  onEvent(event: WatchEvent): void;
}

/** How a watch ended without an error. */
export type WatchEnd = 'closed' | 'watchdog';

export class WatchdogError extends Error {
  constructor(ms: number) {
    super(`watch silent for ${ms} ms (no event, no bookmark); restarting it`);
    this.name = 'WatchdogError';
  }
}

/**
 * Runs one watch until the server closes it ('closed'), the watchdog fires ('watchdog'), or
 * it fails (rejects: KubeApiError with 410 for an expired resourceVersion, or a network
 * error). An ERROR event from the server rejects with its Status as a KubeApiError.
 */
export async function runWatch(client: KubeClient, req: WatchRequest): Promise<WatchEnd> {
  const clock = req.clock ?? realClock;
  const local = new AbortController();
  const signal = AbortSignal.any([req.signal, local.signal]);
  let timer: TimerHandle | undefined;
  let watchdogFired = false;
  const arm = () => {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = clock.setTimeout(() => {
      watchdogFired = true;
      local.abort(new WatchdogError(req.watchdogMs));
    }, req.watchdogMs);
  };
  arm();
  try {
    const res = await client.stream({
      path: req.path,
      query: {
        watch: 'true',
        resourceVersion: req.resourceVersion,
        allowWatchBookmarks: 'true',
        timeoutSeconds: req.timeoutSeconds,
        labelSelector: req.labelSelector || undefined,
        fieldSelector: req.fieldSelector || undefined,
      },
      connectTimeoutMs: req.connectTimeoutMs,
      signal,
    });
    arm();
    return await new Promise<WatchEnd>((resolve, reject) => {
      const decoder = new StringDecoder('utf8');
      let buffered = '';
      let failed = false;
      const fail = (err: unknown) => {
        if (failed) return;
        failed = true;
        res.destroy();
        reject(err);
      };
      res.on('data', (chunk: Buffer) => {
        arm();
        buffered += decoder.write(chunk);
        let nl: number;
        while (!failed && (nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (!line) continue;
          let event: WatchEvent;
          try {
            event = JSON.parse(line) as WatchEvent;
          } catch {
            fail(new Error(`watch ${req.path}: the apiserver sent a line that is not JSON: ${line.slice(0, 200)}`));
            return;
          }
          if (event.type === 'ERROR') {
            const status = event.object as ApiStatus;
            fail(new KubeApiError({ statusCode: status.code ?? 500, request: `GET ${req.path} (watch)`, status }));
            return;
          }
          req.onEvent(event);
        }
      });
      res.on('end', () => {
        if (!failed) resolve('closed');
      });
      res.on('error', (err) => {
        if (watchdogFired) {
          if (!failed) {
            failed = true;
            resolve('watchdog');
          }
          return;
        }
        fail(err);
      });
      res.on('close', () => {
        // 'close' without 'end' means the connection was cut.
        if (failed) return;
        if (watchdogFired) {
          failed = true;
          resolve('watchdog');
        } else if (!res.complete) {
          fail(req.signal.aborted ? req.signal.reason : new Error(`watch ${req.path}: connection closed mid-stream`));
        }
      });
    });
  } catch (err) {
    if (watchdogFired && !req.signal.aborted) return 'watchdog';
    throw err;
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
  }
}
