// Reads the access list directory (a projected ConfigMap volume) and keeps it current.
// The kubelet updates such a volume by writing a new timestamped directory and swapping the
// `..data` symlink, so a change shows up as a rename in the directory: fs.watch on the
// directory sees it. fs.watch can miss events (inotify overflow, some file systems), so a
// periodic stat of the files is the fallback. A missing or malformed file keeps the last good
// list: a half-written or unknown-format list must never switch everybody's MAPI on or off.
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ACCESS_INDEX_FILE, parseAccessIndex, parseAccessShard, type AccessList } from './access-list.ts';

/** 64 shards of 256 KiB plus the index, with room to spare. */
const MAX_FILE_BYTES = 1024 * 1024;

export interface AccessReaderOptions {
  dir: string;
  logger: Logger;
  /** Fallback stat period (default 2 s). */
  pollMs?: number;
  /** Called after every successful load whose content changed. */
  onChange?: (list: AccessList) => void;
  onReload?: (result: 'ok' | 'error') => void;
}

async function readBounded(path: string): Promise<string> {
  const info = await stat(path);
  if (info.size > MAX_FILE_BYTES) throw new Error(`${path} is ${info.size} bytes, over ${MAX_FILE_BYTES}; the operator keeps shards under 256 KiB`);
  return readFile(path, 'utf8');
}

export async function loadAccessList(dir: string): Promise<{ list: AccessList; shardFiles: string[] }> {
  const index = parseAccessIndex(await readBounded(join(dir, ACCESS_INDEX_FILE)));
  const shards = await Promise.all(index.shardFiles.map(async (f) => parseAccessShard(await readBounded(join(dir, f)), f)));
  return { list: { server: index.server, domains: index.domains, shards }, shardFiles: index.shardFiles };
}

export class AccessReader {
  readonly #opts: Required<Pick<AccessReaderOptions, 'pollMs'>> & AccessReaderOptions;
  #list: AccessList | undefined;
  #lastError: string | undefined;
  #fingerprint = '';
  #shardFiles: string[] = [];
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #loading: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(opts: AccessReaderOptions) {
    this.#opts = { pollMs: 2000, ...opts };
  }

  get list(): AccessList | undefined {
    return this.#list;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  async start(): Promise<void> {
    await this.reload();
    this.#watchDir();
    this.#timer = setInterval(() => void this.#poll(), this.#opts.pollMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    this.#watcher?.close();
    clearInterval(this.#timer);
    clearTimeout(this.#debounce);
  }

  #watchDir(): void {
    if (this.#stopped || this.#watcher) return;
    try {
      this.#watcher = watch(this.#opts.dir, { persistent: false }, () => this.#soon());
      this.#watcher.on('error', () => {
        // The directory went away (volume remounted): fall back to polling until it is back.
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch {
      this.#watcher = undefined; // no directory yet; the poll retries
    }
  }

  /** Several events arrive per kubelet update; one reload after they settle. */
  #soon(): void {
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.reload(), 50);
    this.#debounce.unref();
  }

  async #stamp(): Promise<string> {
    const parts: string[] = [];
    const names = [ACCESS_INDEX_FILE, '..data', ...this.#shardFiles];
    for (const name of names) {
      try {
        const s = await stat(join(this.#opts.dir, name));
        parts.push(`${name}:${s.ino}:${s.size}:${s.mtimeMs}`);
      } catch {
        parts.push(`${name}:-`);
      }
    }
    return parts.join('|');
  }

  async #poll(): Promise<void> {
    if (this.#stopped) return;
    this.#watchDir();
    if ((await this.#stamp()) !== this.#fingerprint) await this.reload();
  }

  /** Reads the directory now; concurrent calls coalesce into one more read. */
  async reload(): Promise<void> {
    if (this.#loading) {
      this.#again = true;
      return this.#loading;
    }
    this.#loading = (async () => {
      do {
        this.#again = false;
        await this.#loadOnce();
      } while (this.#again && !this.#stopped);
    })();
    try {
      await this.#loading;
    } finally {
      this.#loading = undefined;
    }
  }

  async #loadOnce(): Promise<void> {
    const before = await this.#stamp();
    try {
      const { list, shardFiles } = await loadAccessList(this.#opts.dir);
      // The kubelet swapped the files while they were read: read the new set instead.
      if ((await this.#stamp()) !== before) {
        this.#again = true;
        return;
      }
      this.#shardFiles = shardFiles;
      this.#fingerprint = await this.#stamp();
      this.#lastError = undefined;
      this.#list = list;
      this.#opts.onReload?.('ok');
      this.#opts.onChange?.(list);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.#fingerprint = before;
      if (message !== this.#lastError) this.#opts.logger.warn({ dir: this.#opts.dir, error: message, keeping: this.#list ? 'previous list' : 'no list: every request passes' }, 'access list not loaded');
      this.#lastError = message;
      this.#opts.onReload?.('error');
    }
  }
}
