// jemalloc's heap profile of the operator, summed by subsystem (bench/memory/native-profile.ts,
// the scale benchmark's --native-prof): the classification, the sums, and one real profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { allocatingFrame, classifyNativeStack, newestIntervalDump, OTHER_SUBSYSTEM, summarizeCollapsed, summarizeDump } from '../../../bench/memory/native-profile.ts';
import { imageAllocatorEnv, withNativeProfiling } from '../../../bench/scale/harness.ts';

const TLS = 'TLS connections (OpenSSL state, socket buffers)';
const PAGES = "V8's page bookkeeping (page metadata, remembered sets)";
const BUFFERS = 'ArrayBuffers and Buffers';

test('a stack counts under the first subsystem its frames name, most specific first', () => {
  // A TLS read's buffer is the connection's, not a Buffer's; a scavenge's new page is V8's pages'.
  assert.equal(classifyNativeStack(['uv_run', 'node::crypto::TLSWrap::OnStreamAlloc', 'node::crypto::NodeBIO::PeekWritable', 'malloc_usable_size']), TLS);
  assert.equal(classifyNativeStack(['v8::internal::Heap::Scavenge', 'v8::internal::MemoryAllocator::AllocatePage', 'malloc']), PAGES);
  assert.equal(classifyNativeStack(['node::Buffer::New', 'node::NodeArrayBufferAllocator::AllocateUninitialized']), BUFFERS);
  assert.equal(classifyNativeStack(['node::crypto::SecureContext::SetCACert', 'PEM_ASN1_read_bio', 'CRYPTO_zalloc']), 'trust store (CA certificates parsed)');
  assert.equal(classifyNativeStack(['node::performance::CreateELDHistogram', 'node::Histogram::Create(node::Histogram::Options const&)', 'hdr_init']), 'histograms (event-loop delay)');
  assert.equal(classifyNativeStack(['v8::Isolate::Initialize', 'v8::internal::Isolate::Init(v8::internal::SnapshotData*)', 'malloc_usable_size']), 'process start-up (isolate, snapshot, static data, package.json reads)');
  assert.equal(classifyNativeStack(['v8::internal::SamplingEventsProcessor::Run()', 'v8::internal::CpuProfile::AddPath', 'malloc_usable_size']), "V8's CPU profiler (--cpu-prof)");
  assert.equal(classifyNativeStack(['node::heap::WriteSnapshot', 'v8::internal::HeapSnapshotGenerator::GenerateSnapshot()', 'malloc_usable_size']), 'heap snapshot being written');
  assert.equal(classifyNativeStack(['main', 'something_unknown']), OTHER_SUBSYSTEM);
});

test('the allocating frame is the innermost one that is not the allocator, without the address jeprof appends', () => {
  assert.equal(allocatingFrame(['uv_run', 'node::crypto::NodeBIO::PeekWritable(unsigned long*)', 'CRYPTO_malloc', 'malloc_usable_size']), 'node::crypto::NodeBIO::PeekWritable(unsigned long*)');
  assert.equal(allocatingFrame(['main', 'ares_init<00000000022583b0>[inline]', 'ares_malloc_zero<00000000022583b0>[inline]']), 'ares_init');
  assert.equal(allocatingFrame(['malloc']), 'malloc', 'nothing but the allocator: its frame');
});

test('summarizeCollapsed sums every line by subsystem and by allocating frame, largest first', () => {
  const s = summarizeCollapsed([
    'uv_run;node::crypto::TLSWrap::OnStreamAlloc;node::crypto::NodeBIO::PeekWritable;malloc 3145728',
    'uv_run;node::crypto::TLSWrap::OnStreamAlloc;node::crypto::NodeBIO::PeekWritable;malloc 1048576',
    'v8::internal::Heap::Scavenge;v8::internal::MemoryAllocator::AllocatePage;malloc 2097152',
    'main;mystery 524288',
    '',
    'not a stack line',
  ].join('\n'));
  assert.equal(s.totalBytes, 6815744);
  assert.deepEqual(s.bySubsystem, [{ name: TLS, bytes: 4194304 }, { name: PAGES, bytes: 2097152 }, { name: OTHER_SUBSYSTEM, bytes: 524288 }]);
  assert.deepEqual(s.topLeaves.map((l) => [l.frame, l.bytes]), [['node::crypto::NodeBIO::PeekWritable', 4194304], ['v8::internal::MemoryAllocator::AllocatePage', 2097152], ['mystery', 524288]]);
});

test('newestIntervalDump takes the latest interval dump, never the one at exit (.f.heap: Node had freed its heap)', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'native-prof-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(newestIntervalDump(dir), undefined);
  const write = (name: string, secondsAgo: number) => {
    writeFileSync(path.join(dir, name), 'x');
    const at = new Date(Date.now() - secondsAgo * 1000);
    utimesSync(path.join(dir, name), at, at);
  };
  write('op.1.0.i0.heap', 30);
  write('op.1.1.i1.heap', 20);
  assert.equal(newestIntervalDump(dir)?.file, path.join(dir, 'op.1.1.i1.heap'));
  write('op.1.2.f.heap', 5);
  write('notes.txt', 1);
  assert.equal(newestIntervalDump(dir)?.file, path.join(dir, 'op.1.1.i1.heap'));
  write('op.1.3.i2.heap', 10);
  assert.equal(newestIntervalDump(dir)?.file, path.join(dir, 'op.1.3.i2.heap'));
  // Before a moment (a heap snapshot allocates natively as much as the heap holds).
  assert.equal(newestIntervalDump(dir, Date.now() - 15_000)?.file, path.join(dir, 'op.1.1.i1.heap'));
  assert.equal(newestIntervalDump(dir, Date.now() - 60_000), undefined);
});

test('--native-prof turns profiling on in the MALLOC_CONF the operator would have, and only under jemalloc', () => {
  assert.equal(withNativeProfiling('narenas:2', '/tmp/p', '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2'), 'narenas:2,prof:true,lg_prof_sample:19,lg_prof_interval:28,prof_prefix:/tmp/p/op');
  assert.equal(withNativeProfiling(undefined, '/tmp/p', 'libjemalloc.so.2', 20), 'prof:true,lg_prof_sample:19,lg_prof_interval:20,prof_prefix:/tmp/p/op');
  assert.throws(() => withNativeProfiling('x', '/tmp/p', ''), /--native-prof: the operator does not run with jemalloc \(LD_PRELOAD=""\)/);
  assert.throws(() => withNativeProfiling('x', '/tmp/p', undefined), /does not run with jemalloc/);
});

test('a real profile: a process under the image\'s jemalloc that holds 48 MiB of Buffers shows them in its last dump (jeprof symbolises: ~10 s)', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'native-prof-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const image = imageAllocatorEnv();
  // 4 MiB Buffers: each is sampled (a sample every ~512 KiB on average), so the estimate is
  // near exact. A dump every 8 MiB allocated: the last one comes after the 48 MiB kept, within
  // the 12 MiB of garbage allocated after them (not collected yet: up to all of it counts).
  const code = `globalThis.kept = Array.from({ length: 12 }, () => Buffer.alloc(4 << 20, 1));
    for (let i = 0; i < 3; i++) Buffer.alloc(4 << 20, 2);`;
  const child = spawnSync(process.execPath, ['-e', code], {
    env: { ...process.env, NODE_OPTIONS: '', LD_PRELOAD: image.LD_PRELOAD, MALLOC_CONF: withNativeProfiling(image.MALLOC_CONF, dir, image.LD_PRELOAD, 23) },
    encoding: 'utf8', timeout: 60_000,
  });
  assert.equal(child.status, 0, child.stderr);
  const dump = newestIntervalDump(dir);
  assert.ok(dump, `an interval dump in ${readdirSync(dir).join(', ')}`);
  const s = summarizeDump(process.execPath, dump.file);
  assert.ok(s, 'jeprof symbolised the dump');
  const buffers = s.bySubsystem.find((b) => b.name === BUFFERS)?.bytes ?? 0;
  // 48 MiB held, plus up to 12 MiB of garbage (60.0 MiB when none of it was collected).
  assert.ok(buffers >= 47 * 1048576 && buffers <= 64 * 1048576, `Buffers ${(buffers / 1048576).toFixed(1)} MiB of ${(s.totalBytes / 1048576).toFixed(1)} sampled: ${JSON.stringify(s.bySubsystem)}`);
});
