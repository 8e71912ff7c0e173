// What a process's resident memory is made of, from /proc/PID/smaps: the mapped files (the
// Node binary and its libraries), glibc malloc's arenas (the main one grows the [heap] by brk;
// each other one is a 64 MiB-aligned mapping of at most 64 MiB, its unused tail mapped
// without access), and the other anonymous mappings (V8's heap pages, its code range, thread
// stacks, allocations above malloc's mmap threshold). Next to the heap V8 reports committed,
// it tells allocator fragmentation (malloc) from V8's own pages (anonymous). Only glibc's
// arenas can be told by their layout: under jemalloc (what the image preloads) the
// allocator's pages are unnamed anonymous mappings too, and count as other anonymous.
import { readFileSync } from 'node:fs';

export interface RssSplit {
  fileMiB: number;
  mallocMiB: number;
  anonymousMiB: number;
  totalMiB: number;
  /** Of the other anonymous mappings, those laid out like V8's heap pages: 256 KiB-aligned, a
   *  multiple of 256 KiB and under 2 MiB (a page, or a few the kernel merged). Beside V8's committed heap (regular
   *  spaces) it shows the pages V8 freed and keeps pooled; jemalloc's extents and V8's large
   *  objects and code range come in other sizes. A heuristic: named as one in reports. */
  v8PageSizedMiB: number;
}

interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  name: string;
  rssKiB: number;
}

const MIB = 1n << 20n;
const ARENA_BYTES = 64n * MIB;
const V8_PAGE_BYTES = 256n << 10n;
const HEADER = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/;

function mappings(smaps: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of smaps.split('\n')) {
    const header = HEADER.exec(line);
    if (header) {
      out.push({ start: BigInt(`0x${header[1]}`), end: BigInt(`0x${header[2]}`), perms: header[3]!, name: header[4]!.trim(), rssKiB: 0 });
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB$/.exec(line);
    if (rss && out.length > 0) out[out.length - 1]!.rssKiB = Number(rss[1]);
  }
  return out;
}

/** A thread arena: readable and writable, 64 MiB-aligned, and with the inaccessible rest
 *  that follows it (if any) exactly 64 MiB long. */
function isThreadArena(m: Mapping, next: Mapping | undefined): boolean {
  if (!m.perms.startsWith('rw') || m.name !== '' || m.start % ARENA_BYTES !== 0n) return false;
  if (m.end - m.start === ARENA_BYTES) return true;
  return next !== undefined && next.start === m.end && next.perms.startsWith('---') && next.end - m.start === ARENA_BYTES;
}

export function rssSplit(smaps: string): RssSplit {
  const maps = mappings(smaps);
  let file = 0;
  let malloc = 0;
  let anonymous = 0;
  let pageSized = 0;
  maps.forEach((m, i) => {
    if (m.name.startsWith('/')) file += m.rssKiB;
    else if (m.name === '[heap]' || isThreadArena(m, maps[i + 1])) malloc += m.rssKiB;
    else {
      anonymous += m.rssKiB;
      const size = m.end - m.start;
      if (m.name === '' && m.perms.startsWith('rw') && m.start % V8_PAGE_BYTES === 0n && size % V8_PAGE_BYTES === 0n && size < 2n * MIB) pageSized += m.rssKiB;
    }
  });
  const mib = (kib: number): number => kib / 1024;
  return { fileMiB: mib(file), mallocMiB: mib(malloc), anonymousMiB: mib(anonymous), totalMiB: mib(file + malloc + anonymous), v8PageSizedMiB: mib(pageSized) };
}

/** The split of a live process; undefined once it is gone or off Linux. */
export function readRssSplit(pid: number): RssSplit | undefined {
  try {
    return rssSplit(readFileSync(`/proc/${pid}/smaps`, 'utf8'));
  } catch {
    return undefined;
  }
}
