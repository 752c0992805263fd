// What is allocated per request: summarize a sampling heap profile taken with collected objects
// included (bench/experiments/heap-sample.mjs, driven by bench/experiments/heap-record.sh).
// V8 samples allocated bytes as a Poisson process (one sample per `interval` bytes on average).
// Small objects are sampled where the allocation step crosses the sampling point, and the size
// a sample reports is then that step's (about `interval`), not the object's: so a sample below
// 2 × interval stands for `interval` bytes, and a larger one (an object that big, sampled with
// probability 1 - e^(-s/interval)) for s / (1 - e^(-s/interval)) bytes. Checked against known
// allocations (1e6 two-field objects, 1e4 arrays of 1000) on Node 20 and 24: within 10%.
// Object counts cannot be told for small objects; the sizes shown are the large ones.
//
// Usage: node bench/heap-top.mjs FILE.heapprofile --requests=N [--top=30]
// Sites: the allocating frame, and the nearest strictgate frame (dist/) below it when the
// allocation happens inside Node or V8 on strictgate's behalf.

import { readFileSync } from 'node:fs'

const [file, ...rest] = process.argv.slice(2)
const opt = (k, d) => Number(rest.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d)
const requests = opt('requests', Number.NaN)
const top = opt('top', 30)
if (file === undefined || !(requests > 0)) {
  console.error('usage: node bench/heap-top.mjs FILE.heapprofile --requests=N [--top=30]')
  process.exit(2)
}
const profile = JSON.parse(readFileSync(file, 'utf8'))
const interval = profile.interval

const parent = new Map()
const byId = new Map()
;(function walk(node, up) {
  byId.set(node.id, node)
  if (up !== null) parent.set(node.id, up)
  for (const c of node.children) walk(c, node.id)
})(profile.head, null)

const frame = (cf) => {
  const url = cf.url.replace(/^file:\/\/.*\/(dist|node_modules)\//, '$1/')
  return `${cf.functionName || '(anonymous)'}${url === '' ? '' : ` ${url}:${cf.lineNumber + 1}`}`
}

const sites = new Map()
const bySource = new Map()
let bytes = 0
for (const { size, nodeId } of profile.samples) {
  const large = size >= 2 * interval
  const sampleBytes = large ? size / (1 - Math.exp(-size / interval)) : interval
  const node = byId.get(nodeId)
  if (node === undefined) {
    // A sample whose stack V8 did not keep (a handful per run): its bytes count, its site not.
    bytes += size >= 2 * interval ? size / (1 - Math.exp(-size / interval)) : interval
    continue
  }
  let ours = null
  for (let id = nodeId; id !== undefined; id = parent.get(id)) {
    const cf = byId.get(id).callFrame
    if (cf.url.includes('/dist/')) {
      ours = cf
      break
    }
  }
  const leaf = frame(node.callFrame)
  const key = ours === null || ours === node.callFrame ? leaf : `${leaf}  ← ${frame(ours)}`
  const s = sites.get(key) ?? { samples: 0, bytes: 0, large: new Map() }
  s.samples++
  s.bytes += sampleBytes
  if (large) s.large.set(size, (s.large.get(size) ?? 0) + 1)
  sites.set(key, s)
  const src = ours === null ? 'Node/V8 (no strictgate frame on the stack)' : 'strictgate (or on its behalf)'
  bySource.set(src, (bySource.get(src) ?? 0) + sampleBytes)
  bytes += sampleBytes
}

console.log(
  `${file}: ${profile.samples.length} samples (interval ${interval} B), ${requests} requests: ` +
    `about ${(bytes / requests).toFixed(0)} B allocated per request\n`,
)
for (const [k, b] of [...bySource].sort((a, b) => b[1] - a[1])) {
  console.log(`  ${((100 * b) / bytes).toFixed(1).padStart(5)}%  ${k}`)
}
console.log(`\ntop ${top} allocation sites, by bytes per request (share; samples; large objects seen):`)
for (const [k, s] of [...sites].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top)) {
  const large = [...s.large]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([size]) => `${size} B`)
    .join(', ')
  const share = `${((100 * s.bytes) / bytes).toFixed(1)}%`.padStart(6)
  console.log(
    `  ${(s.bytes / requests).toFixed(0).padStart(6)} B  ${share}  ${String(s.samples).padStart(6)}${large === '' ? '' : `  [${large}]`}  ${k}`,
  )
}
