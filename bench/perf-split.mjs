// Split a `perf record -g` profile of one proxy process (see bench/experiments/perf-record.sh)
// into the paths issue 15 asks about: the proxy's own code, the client 'data' read path, the
// write path (socket.write → Writable → WriteWrap → libuv), llhttp, GC, the event loop, other
// threads, and the kernel (by system call). Each sample is given to the first frame, walking
// from the leaf towards the root, that decides a category (see classify()).
//
// Usage: perf script -i perf.data -F comm,tid,ip,sym,dso | node bench/perf-split.mjs [--us-per-sample=N --requests=N]
//   --requests: requests served in the perf window, to print µs per request for each category
//   (each sample stands for 1e6 / frequency µs of CPU: --us-per-sample, default 500 for -F 1999).

import { readFileSync } from 'node:fs'
import { READ_JS, WRITE_JS } from './profile-paths.mjs'

const opts = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=')
    return [k, k === 'detail' ? v : Number(v)]
  }),
)
const usPerSample = opts['us-per-sample'] ?? 1e6 / 1999
// --detail=PREFIX: also list the leaf functions of the categories starting with PREFIX.
const detail = process.argv.find((a) => a.startsWith('--detail='))?.slice(9) ?? null
const leaves = new Map()
const requests = opts.requests ?? null

const GC =
  /v8::internal::(Heap::|Scavenger|ScavengerCollector|MarkCompact|MinorMarkCompact|MinorMS|IncrementalMarking|ConcurrentMarking|Sweeper|GCTracer|MemoryAllocator|PagedSpace|MarkingVisitor|ArrayBufferSweeper|LocalHeap::|Scavenge)/
const COMPILER =
  /v8::internal::(compiler::|Compiler::|OptimizingCompileDispatcher|Maglev|maglev::|baseline::|Parser|ParseInfo)/

function jsFrame(sym) {
  // "JS:*name url:line:col", "JS:~name ..." (interpreted), "JS:^name ..." (baseline); Node 24
  // (V8 13) quotes the name: "JS:*'name ..."
  const m = /^JS:[*~^+]?'?(\S*) (\S+):\d+:\d+$/.exec(sym)
  if (m === null) return null
  return { name: m[1], url: m[2] }
}

/** The category of one sample, from its frames (leaf first). */
function classify(frames, mainThread) {
  const syms = frames.map((f) => f.sym)
  if (!mainThread) {
    if (syms.some((s) => GC.test(s))) return 'other threads: GC (V8 helpers)'
    if (syms.some((s) => COMPILER.test(s))) return 'other threads: JIT compiler'
    if (frames[0].kernel) return 'other threads: kernel (futex, scheduling)'
    return 'other threads: other'
  }
  if (frames[0].kernel) {
    const user = frames.find((f) => !f.kernel)
    const ks = frames.filter((f) => f.kernel).map((f) => f.sym)
    const u = user?.sym ?? ''
    if (!ks.some((s) => /entry_SYSCALL|do_syscall/.test(s))) {
      if (ks.some((s) => /page_fault/.test(s))) return 'kernel: page faults'
      return 'kernel: interrupts, softirq, scheduling (no syscall)'
    }
    if (/writev/.test(u)) return 'kernel: write/writev'
    if (/write/.test(u)) return 'kernel: write/writev'
    if (/^(__GI___)?(libc_)?read$|__libc_read|uv__read/.test(u)) return 'kernel: read'
    if (/epoll/.test(u)) return 'kernel: epoll_wait'
    if (/futex|pthread_cond|__lll_lock/.test(u)) return 'kernel: futex'
    if (/mprotect|mmap|munmap|madvise/.test(u)) return 'kernel: memory (mmap, mprotect, madvise)'
    if (/accept/.test(u)) return 'kernel: accept'
    return `kernel: other syscalls (${u.split('(')[0].slice(0, 40)})`
  }
  if (syms.some((s) => GC.test(s))) return 'GC (main thread)'
  if (/wasm|^wasm_on_/.test(syms[0]) || syms.slice(0, 3).some((s) => /wasm-function|wasm-to-js/.test(s))) {
    return 'llhttp (wasm)'
  }
  let viaNode = false // a Node API (JS or C++) between the leaf and our code
  for (let i = 0; i < frames.length; i++) {
    const s = frames[i].sym
    const js = jsFrame(s)
    if (js !== null) {
      // The proxy's own code: strictgate's dist/, or the system file (bench/proxies, experiments).
      if (js.url.startsWith('file://') && !js.url.includes('/node_modules/')) {
        return viaNode ? 'own code: Node APIs it calls (Buffer, timers, ...)' : 'own code (dist/, or the system file)'
      }
      if (WRITE_JS.has(js.name)) return 'write path: Node JS (Writable, WriteWrap, nextTick)'
      if (READ_JS.has(js.name)) return "read path: 'data' (Readable push, emit)"
      if (js.name === 'onStreamRead') {
        const rest = syms.slice(i)
        if (rest.some((r) => r.includes('CustomBufferJSListener'))) return 'read path: onread dispatch'
        return "read path: 'data' (Readable push, emit)"
      }
      if (js.name === 'processTicksAndRejections' || js.name === 'runNextTicks') return 'nextTick queue'
      if (js.name === 'processTimers' || js.name === 'listOnTimeout') return 'timers'
      if (js.url.startsWith('node:')) viaNode = true
      continue
    }
    if (
      /StreamBase::Write|DoTryWrite|uv__try_write|uv_try_write|WriteWrap|uv__write|LibuvStreamWrap::DoWrite/.test(s)
    ) {
      return 'write path: C++/libuv'
    }
    if (
      /EmitToJSStreamListener|OnStreamAlloc|allocate_managed_buffer|AllocatedBuffer|BackingStore|ArrayBuffer::New/.test(
        s,
      )
    ) {
      return "read path: 'data' (C++: a Buffer per read)"
    }
    if (/CustomBufferJSListener/.test(s)) return 'read path: onread dispatch'
    if (
      /CallJSOnreadMethod|OnUvRead|uv__read|InternalMakeCallback|AsyncWrap::MakeCallback|InternalCallbackScope/.test(s)
    ) {
      return 'read dispatch: libuv → JS (both sides)'
    }
    if (/uv__io_poll|uv_run|uv__run_timers|uv__stream_io|epoll/.test(s)) return 'event loop (libuv)'
    if (/^node::/.test(s)) viaNode = true
  }
  return 'other (V8 runtime, builtins outside JS, libc)'
}

const text = readFileSync(0, 'utf8')
const counts = new Map()
let total = 0
let mainTid = null
const samples = text.split('\n\n')
// The main thread is the one with most samples (the process's own pid).
const tids = new Map()
for (const block of samples) {
  const m = /^\S+\s+(\d+)/.exec(block.trim())
  if (m !== null) tids.set(m[1], (tids.get(m[1]) ?? 0) + 1)
}
mainTid = [...tids].sort((a, b) => b[1] - a[1])[0]?.[0]
for (const block of samples) {
  const lines = block.trim().split('\n')
  const head = /^\S+\s+(\d+)/.exec(lines[0] ?? '')
  if (head === null) continue
  const frames = lines.slice(1).map((l) => {
    const m = /^\s*[0-9a-f]+ (.*) \(([^)]*)\)$/.exec(l)
    return m === null ? { sym: l.trim(), kernel: false } : { sym: m[1], kernel: m[2].includes('kernel') }
  })
  if (frames.length === 0) continue
  const c = classify(frames, head[1] === mainTid)
  counts.set(c, (counts.get(c) ?? 0) + 1)
  if (detail !== null && c.startsWith(detail)) leaves.set(frames[0].sym, (leaves.get(frames[0].sym) ?? 0) + 1)
  total++
}

const rows = [...counts].sort((a, b) => b[1] - a[1])
const pad = Math.max(...rows.map(([k]) => k.length))
console.log(`${total} samples (${((total * usPerSample) / 1e6).toFixed(2)} s CPU); threads: ${tids.size}`)
for (const [k, n] of rows) {
  const us = requests === null ? '' : `  ${((n * usPerSample) / requests).toFixed(2).padStart(6)} µs/req`
  console.log(`${k.padEnd(pad)}  ${((100 * n) / total).toFixed(1).padStart(5)}%${us}`)
}
if (detail !== null) {
  console.log(`\nleaf functions in "${detail}…":`)
  for (const [k, n] of [...leaves].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    console.log(`  ${((100 * n) / total).toFixed(2).padStart(6)}%  ${k.slice(0, 120)}`)
  }
}
