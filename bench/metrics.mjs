// Metrics cost (src/ops/gateway-metrics.ts), in one process: what the exchange's end pays per
// request (GatewayMetrics#exchange, plus #error on a failure), against an empty loop in the same
// rounds as the baseline; and what one scrape (render) costs with 4 targets and process metrics.
//
// Usage: node --import tsx bench/metrics.mjs [--calls=5000000 --rounds=5 --scrapes=2000]

import os from 'node:os'
import { GatewayMetrics } from '../src/ops/gateway-metrics.ts'

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = /^--([^=]+)=(.*)$/.exec(a)
    if (m === null) throw new Error(`unknown argument ${a}`)
    return [m[1], Number(m[2])]
  }),
)
const CALLS = args.calls ?? 5_000_000
const ROUNDS = args.rounds ?? 5
const SCRAPES = args.scrapes ?? 2_000

const statuses = [200, 200, 200, 204, 301, 404, 502, 0]
const durations = Array.from({ length: 64 }, (_, i) => 0.2 + i * i * 0.7)
const targets = Array.from({ length: 4 }, (_, i) => ({
  url: `http://10.0.0.${i}:3000`,
  up: true,
  active: i,
  idle: 2,
  requests: 1000 * i,
  failures: i,
}))
const m = new GatewayMetrics({
  stats: () => ({ clients: 17, upstream: { open: 12, idle: 8, waiting: 0 }, targets }),
})

function time(body) {
  const t0 = process.cpuUsage()
  body()
  const t = process.cpuUsage(t0)
  return ((t.user + t.system) * 1000) / CALLS // ns per call
}

let sink = 0
const systems = {
  'baseline: empty loop': () =>
    time(() => {
      for (let i = 0; i < CALLS; i++) sink += statuses[i & 7] + durations[i & 63]
    }),
  'exchange(status, ms)': () =>
    time(() => {
      for (let i = 0; i < CALLS; i++) m.exchange(statuses[i & 7], durations[i & 63])
    }),
  'exchange + error(code)': () =>
    time(() => {
      for (let i = 0; i < CALLS; i++) {
        m.exchange(statuses[i & 7], durations[i & 63])
        m.error('UPSTREAM_INVALID_HEADER')
      }
    }),
}
const results = Object.fromEntries(Object.keys(systems).map((k) => [k, []]))
for (const run of Object.values(systems)) run()
for (let r = 0; r < ROUNDS; r++) for (const [name, run] of Object.entries(systems)) results[name].push(run())

const s0 = process.cpuUsage()
let bytes = 0
for (let i = 0; i < SCRAPES; i++) bytes += m.render().length
const s = process.cpuUsage(s0)
m.close()

const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1]
console.log(
  `metrics bench: ${CALLS} calls x ${ROUNDS} rounds; node ${process.version}, ` +
    `${os.cpus()[0]?.model ?? 'unknown CPU'} x${os.cpus().length}, ${os.platform()} ${os.release()}`,
)
console.log('| per request | CPU ns/call (median) |')
console.log('| --- | ---: |')
for (const [name, rs] of Object.entries(results)) console.log(`| ${name} | ${median(rs).toFixed(1)} |`)
console.log(
  `scrape (render, 4 targets, process metrics): ${((s.user + s.system) / SCRAPES).toFixed(1)} µs CPU, ${Math.round(bytes / SCRAPES)} bytes`,
)
if (sink === 0) console.log('(unreachable: keeps the baseline loop from being optimised away)')
