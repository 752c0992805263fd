// Summarize a V8 CPU profile (node --cpu-prof): where the busy (non-idle) time goes, by source
// (strictgate's dist/, node: internals, native/VM, GC), by function (self time), and by function
// including callees (total time).
//
// Usage: node bench/profile-top.mjs FILE.cpuprofile [--top=30]
// Profile the gateway under load with:
//   npm run bench -- --systems=strictgate --workloads=small --rounds=1 --duration=10 \
//     --node-flags="--cpu-prof --cpu-prof-dir=/tmp/strictgate-prof"
// (the proxy exits on SIGTERM at the end of the run, and Node then writes the profile).

import { readFileSync } from 'node:fs'
import { READ_JS, WRITE_JS } from './profile-paths.mjs'

const [file, ...rest] = process.argv.slice(2)
if (file === undefined) {
  console.error('usage: node bench/profile-top.mjs FILE.cpuprofile [--top=30]')
  process.exit(2)
}
const top = Number(rest.find((a) => a.startsWith('--top='))?.slice(6) ?? 30)
const profile = JSON.parse(readFileSync(file, 'utf8'))

const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

// Self time per node: each sample's time delta goes to the node it hit.
const selfUs = new Map()
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
}

const name = (cf) => {
  const url = cf.url.replace(/^file:\/\/.*\/(dist|node_modules)\//, '$1/')
  const at = url === '' ? '' : ` ${url}:${cf.lineNumber + 1}`
  return `${cf.functionName || '(anonymous)'}${at}`
}
const source = (cf) => {
  if (cf.functionName === '(garbage collector)') return 'GC'
  if (cf.url.includes('/dist/')) return 'strictgate (dist/)'
  if (cf.url.startsWith('node:')) return 'node: internals'
  if (cf.url.startsWith('wasm://')) return 'llhttp (wasm)'
  if (cf.url === '') return 'native / VM (syscalls, builtins, "(program)")'
  return 'other JavaScript'
}

/**
 * The path a sample belongs to: the first frame from the leaf up that decides it (as in
 * bench/perf-split.mjs, which also sees C++ and the kernel; here native time, the write system
 * call included, is in the JavaScript function that called it).
 */
function path(id) {
  const leaf = byId.get(id).callFrame
  if (leaf.functionName === '(garbage collector)') return 'GC'
  if (leaf.functionName === '(program)') return '(program): libuv, read syscalls, C++ outside JS'
  if (leaf.url.startsWith('wasm://')) return 'llhttp (wasm)'
  let viaNode = false
  for (let n = id; n !== undefined; n = parent.get(n)) {
    const cf = byId.get(n).callFrame
    if (cf.url.includes('/dist/'))
      return viaNode ? 'strictgate: Node APIs it calls (Buffer, timers, ...)' : 'strictgate JS'
    if (WRITE_JS.has(cf.functionName)) return 'write path: Node JS + native write (syscall included)'
    if (READ_JS.has(cf.functionName)) return "read path: 'data' (Readable push, emit)"
    if (cf.functionName === 'onStreamRead') return 'read path: onStreamRead (both sides)'
    if (cf.functionName === 'processTicksAndRejections') return 'nextTick queue'
    if (cf.functionName === 'processTimers' || cf.functionName === 'listOnTimeout') return 'timers'
    if (cf.url.startsWith('node:')) viaNode = true
  }
  return 'other'
}

let busy = 0
let idle = 0
const self = new Map()
const total = new Map()
const bySource = new Map()
const byPath = new Map()
for (const [id, us] of selfUs) {
  const cf = byId.get(id).callFrame
  if (cf.functionName === '(idle)') {
    idle += us
    continue
  }
  busy += us
  self.set(name(cf), (self.get(name(cf)) ?? 0) + us)
  bySource.set(source(cf), (bySource.get(source(cf)) ?? 0) + us)
  byPath.set(path(id), (byPath.get(path(id)) ?? 0) + us)
  // Total time: once per distinct function on the sample's stack.
  const seen = new Set()
  for (let n = id; n !== undefined; n = parent.get(n)) {
    const key = name(byId.get(n).callFrame)
    if (seen.has(key)) continue
    seen.add(key)
    total.set(key, (total.get(key) ?? 0) + us)
  }
}

const pct = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`
const sorted = (m) => [...m].sort((a, b) => b[1] - a[1])
console.log(`${file}: ${(busy / 1e6).toFixed(2)} s busy, ${(idle / 1e6).toFixed(2)} s idle; shares of busy time\n`)
console.log('self time by source:')
for (const [k, us] of sorted(bySource)) console.log(`  ${pct(us)}  ${k}`)
console.log('\nself time by path (first deciding frame from the leaf up):')
for (const [k, us] of sorted(byPath)) console.log(`  ${pct(us)}  ${k}`)
console.log(`\ntop ${top} functions by self time:`)
for (const [k, us] of sorted(self).slice(0, top)) console.log(`  ${pct(us)}  ${k}`)
console.log(`\ntop ${top} functions by total time (self + callees):`)
const roots = new Set(['(root)', '(program)', '(garbage collector)'])
for (const [k, us] of sorted(total)
  .filter(([k]) => !roots.has(k))
  .slice(0, top))
  console.log(`  ${pct(us)}  ${k}`)
