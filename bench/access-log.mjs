// Access-log cost per line (src/ops/access-log.ts), in one process: formatting alone (text and
// JSON), and formatting plus AccessLogWriter batching into fdSink (fs.write on the thread pool)
// to /dev/null, with its default 100 ms batching and with a write per event-loop turn, against
// two naive loggers in the same rounds: fs.writeSync per line (what a synchronous logger does)
// and a fs.WriteStream written per line.
//
// Lines are written in bursts of --burst lines per event-loop turn, as a loaded gateway ends
// several exchanges per turn. Cost is CPU time (process.cpuUsage: every thread, the pool's
// write(2) calls included) divided by lines; the systems run in alternating rounds after a
// warmup, and the median round is reported.
//
// Usage: node --import tsx bench/access-log.mjs [--lines=200000 --rounds=5 --burst=64]

import { closeSync, createWriteStream, openSync, writeSync } from 'node:fs'
import os from 'node:os'
import { AccessLogWriter, fdSink, formatJson, formatText } from '../src/ops/access-log.ts'

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = /^--([^=]+)=(.*)$/.exec(a)
    if (m === null) throw new Error(`unknown argument ${a}`)
    return [m[1], Number(m[2])]
  }),
)
const LINES = args.lines ?? 200_000
const ROUNDS = args.rounds ?? 5
const BURST = args.burst ?? 64

// Messages as the gateway would publish them: one client, a few targets, ~1 ms apart.
const start = Date.now()
const messages = Array.from({ length: 1024 }, (_, i) => ({
  request: { method: i % 7 === 0 ? 'POST' : 'GET', target: `/api/items/${i}?page=${i % 10}` },
  status: i % 50 === 0 ? 502 : 200,
  durationMs: 0.3 + (i % 100) / 7,
  error: i % 50 === 0 ? { code: 'UPSTREAM_INVALID_HEADER' } : undefined,
  client: '10.1.2.3',
  bytesSent: 200 + i,
  upstream: `http://10.0.0.${i % 4}:3000`,
  started: start + i,
}))

const turn = () => new Promise((resolve) => setImmediate(resolve))

/** CPU µs per line of `body(i)` called LINES times, in bursts, then `end()` awaited. */
async function measure(body, end = async () => {}) {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  for (let i = 0; i < LINES; ) {
    const stop = Math.min(LINES, i + BURST)
    for (; i < stop; i++) body(i)
    await turn()
  }
  await end()
  const cpu = process.cpuUsage(cpu0)
  return { cpuUs: (cpu.user + cpu.system) / LINES, wallUs: ((performance.now() - t0) * 1000) / LINES }
}

/** Format and write through AccessLogWriter into fdSink on /dev/null; every line must be written. */
async function viaWriter(format, options) {
  const fd = openSync('/dev/null', 'w')
  const w = new AccessLogWriter(fdSink(fd), options)
  const r = await measure(
    (i) => w.write(format(messages[i & 1023])),
    () => w.flush(),
  )
  if (w.dropped !== 0 || w.written !== LINES) throw new Error(`written ${w.written}, dropped ${w.dropped}`)
  closeSync(fd)
  return r
}

let sink = 0
const systems = {
  'format text': () => measure((i) => (sink += formatText(messages[i & 1023]).length)),
  'format json': () => measure((i) => (sink += formatJson(messages[i & 1023]).length)),
  'text + writer (fdSink /dev/null)': () => viaWriter(formatText, {}),
  'json + writer (fdSink /dev/null)': () => viaWriter(formatJson, {}),
  'text + writer, flushIntervalMs 0 (a write per turn)': () => viaWriter(formatText, { flushIntervalMs: 0 }),
  'baseline: text + fs.writeSync per line': async () => {
    const fd = openSync('/dev/null', 'w')
    const r = await measure((i) => writeSync(fd, formatText(messages[i & 1023])))
    closeSync(fd)
    return r
  },
  'baseline: text + WriteStream.write per line': async () => {
    const stream = createWriteStream('/dev/null')
    const r = await measure(
      (i) => stream.write(formatText(messages[i & 1023])),
      () => new Promise((resolve) => stream.end(resolve)),
    )
    return r
  },
}

const results = Object.fromEntries(Object.keys(systems).map((k) => [k, []]))
for (const run of Object.values(systems)) await run() // warmup
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(systems)) results[name].push(await run())
}

const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1]
console.log(
  `access-log bench: ${LINES} lines x ${ROUNDS} rounds, bursts of ${BURST}; node ${process.version}, ` +
    `${os.cpus()[0]?.model ?? 'unknown CPU'} x${os.cpus().length}, ${os.platform()} ${os.release()}`,
)
console.log('| system | CPU µs/line (median) | wall µs/line (median) |')
console.log('| --- | ---: | ---: |')
for (const [name, rs] of Object.entries(results)) {
  const cpu = median(rs.map((r) => r.cpuUs)).toFixed(3)
  const wall = median(rs.map((r) => r.wallUs)).toFixed(3)
  console.log(`| ${name} | ${cpu} | ${wall} |`)
}
if (sink === 0) console.log('(unreachable: keeps the formatting from being optimised away)')
