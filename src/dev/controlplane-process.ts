// Child-process supervision for the test control plane. Every component runs in its own
// process group (spawn `detached`), so one kill of the group takes the whole component
// down. Groups are killed on stop(), on 'exit', on SIGINT/SIGTERM/SIGHUP and on uncaught
// errors; a small watchdog shell process covers the one case Node cannot see, its own
// SIGKILL: it polls the owner and kills the groups listed in `<dir>/pgids` when it is gone.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Set once the process has exited. */
  exitStatus: ExitStatus | undefined;
  readonly exited: Promise<ExitStatus>;
}

export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts `bin args` in a new process group with stdout and stderr appended to logPath. */
export async function spawnLogged(name: string, bin: string, args: string[], logPath: string): Promise<ManagedProcess> {
  const fd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  // Resolves with the pid, or rejects when the binary cannot be started at all.
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid as number));
    child.once('error', (err) => reject(new Error(`${name}: cannot start ${bin}: ${err.message}`)));
  });
  child.unref(); // a forgotten stop() must not keep a test process alive; the exit hook kills it
  const proc: ManagedProcess = {
    name,
    pid,
    logPath,
    exitStatus: undefined,
    exited: new Promise<ExitStatus>((resolve) => {
      child.once('exit', (code, signal) => {
        proc.exitStatus = { code, signal };
        resolve(proc.exitStatus);
      });
    }),
  };
  return proc;
}

/** SIGTERM to the group, SIGKILL after graceMs; resolves once the leader has exited. */
export async function terminate(proc: ManagedProcess, graceMs = 10_000): Promise<void> {
  if (proc.exitStatus === undefined) {
    killGroup(proc.pid, 'SIGTERM');
    // The children are unref'd, so these timers are what keeps the event loop alive while
    // waiting; they are cancelled as soon as the race is decided.
    const timers = new AbortController();
    try {
      const grace = delay(graceMs, false, { signal: timers.signal }).catch(() => false);
      const done = await Promise.race([proc.exited.then(() => true), grace]);
      if (!done) {
        killGroup(proc.pid, 'SIGKILL');
        await Promise.race([proc.exited, delay(5_000, undefined, { signal: timers.signal }).catch(() => undefined)]);
      }
    } finally {
      timers.abort();
    }
  }
  killGroup(proc.pid, 'SIGKILL'); // anything the leader left behind in its group
}

export function tailOf(file: string, lines = 40): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd().split('\n');
    return text.slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

// --- last-resort cleanup -------------------------------------------------------------

interface Owned {
  /** Kill everything now, synchronously; used from 'exit' and signal handlers. */
  killNow(): void;
}

const owned = new Set<Owned>();
let hooksInstalled = false;

function killAllNow(): void {
  for (const o of owned) {
    try {
      o.killNow();
    } catch {
      // keep going: the other control planes still need killing
    }
  }
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAllNow);
  process.on('uncaughtExceptionMonitor', killAllNow);
  const signals: Array<[NodeJS.Signals, number]> = [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]];
  for (const [signal, number] of signals) {
    const onSignal = (): void => {
      // Another handler (the test runner, `cluster serve`) owns the shutdown: it stops the
      // control plane itself or exits, and the 'exit' hook catches what is left. Alone, do
      // what the default action would have done, without leaving children behind.
      if (process.listenerCount(signal) > 1) return;
      killAllNow();
      process.exit(128 + number);
    };
    process.on(signal, onSignal);
  }
}

export function registerOwned(o: Owned): () => void {
  installHooks();
  owned.add(o);
  return () => owned.delete(o);
}

// --- watchdog ------------------------------------------------------------------------

const watchdogScript = `
owner=$1; dir=$2; remove=$3
while kill -0 "$owner" 2>/dev/null && [ -f "$dir/pgids" ]; do sleep 1; done
[ -f "$dir/pgids" ] || exit 0
for g in $(cat "$dir/pgids"); do kill -TERM -- "-$g" 2>/dev/null; done
sleep 3
for g in $(cat "$dir/pgids"); do kill -KILL -- "-$g" 2>/dev/null; done
rm -f "$dir/pgids"
[ "$remove" = 1 ] && rm -rf "$dir"
exit 0
`;

/** Starts the watchdog for `dir`; it acts only while `<dir>/pgids` exists. Returns its pid. */
export async function startWatchdog(dir: string, removeDir: boolean): Promise<number> {
  const child = spawn('bash', ['-c', watchdogScript, 'mapi-controlplane-watchdog', String(process.pid), dir, removeDir ? '1' : '0'], {
    detached: true,
    stdio: 'ignore',
  });
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid as number));
    child.once('error', reject);
  });
  child.unref();
  return pid;
}

export function writePgids(dir: string, pgids: number[]): void {
  writeFileSync(`${dir}/pgids.tmp`, pgids.join('\n') + '\n');
  // rename is atomic: the watchdog never sees half a list, nor a moment without the file
  renameSync(`${dir}/pgids.tmp`, `${dir}/pgids`);
}

export function readPgids(dir: string): number[] {
  if (!existsSync(`${dir}/pgids`)) return [];
  return readFileSync(`${dir}/pgids`, 'utf8')
    .split('\n')
    .map((l) => Number.parseInt(l, 10))
    .filter((n) => Number.isInteger(n) && n > 1);
}
