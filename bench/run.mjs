// Gateway benchmark: direct (no proxy), strictgate and the other systems in bench/proxies/,
// measured in one run, in alternating rounds (A B C ... A B C ...), so drift (thermal, noisy
// neighbours, page cache) hits every system alike. See bench/README.md.
//
// Processes: the upstream (bench/upstream.mjs), one process per system, and the load generator
// (wrk when on PATH, autocannon otherwise), each its own process. When `taskset` exists and
// there are two CPUs or more, proxies run on CPU 1, upstream and load generator on CPU 0.
// Every system is checked byte for byte (each workload path through it equals the direct
// response; an unreachable upstream gives 502) before it is measured.
//
// Per run: req/s, p50/p99 latency (from the load generator), proxy CPU µs per request
// (utime+stime from /proc/<pid>/stat over the measured window / requests) and peak RSS
// (VmHWM from /proc/<pid>/status, reset before each run through /proc/<pid>/clear_refs).
//
// Usage: npm run bench [-- --quick --rounds=3 --duration=6 --warmup=1
//          --systems=strictgate,nginx --workloads=small,64k,chunked,latency
//          --loadgen=wrk|autocannon --no-pin --node-flags="--cpu-prof --cpu-prof-dir=/tmp/prof"
//          --compare=path/to/other/dist --node=24 --variant="stgc:--single-threaded-gc"
//          --with=bench/experiments]
// (`--option value` works as well as `--option=value`.)
// --compare adds the system "strictgate@compare": strictgate loaded from another build, measured
// in the same alternating rounds as the current dist/ (e.g. a build of the previous commit).
// --node=SPEC (a path or a major version, see node-binary.mjs; repeatable, or comma-separated)
// also runs every Node-based system under that binary, as "<system>@node<major>", in the same
// rounds: the same code on two Node versions, side by side.
// --variant=LABEL:FLAGS (repeatable, or ';'-separated) also runs every Node-based system with
// those extra Node flags, as "<system>+LABEL". --with=FILE|DIR adds system files from outside
// bench/proxies/ (e.g. the experiments in bench/experiments/).
// Writes bench/results/run-<date>.json and .svg; a full run (not --quick, every system and
// workload, 3 rounds or more) also updates bench/results/latest.json, latest.svg, latest.md.

import { spawn, spawnSync } from 'node:child_process'
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { resolveNode } from './node-binary.mjs'
import { onPath } from './proxies/_common.mjs'
import { bodies } from './upstream.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const resultsDir = join(here, 'results')

// ---------------------------------------------------------------------------------------------
// Options

const args = {}
const FLAGS = ['quick', 'no-pin'] // options without a value
const VALUED = [
  'rounds',
  'duration',
  'warmup',
  'systems',
  'workloads',
  'loadgen',
  'node-flags',
  'compare',
  'node',
  'with',
  'variant',
]
const REPEATABLE = { node: ',', with: ',', variant: ';' } // given more than once: the values add up
const argv = process.argv.slice(2)
for (let i = 0; i < argv.length; i++) {
  const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(argv[i])
  if (m === null) fail(`unknown argument ${argv[i]} (see the usage at the top of bench/run.mjs)`)
  const [, key] = m
  if (!FLAGS.includes(key) && !VALUED.includes(key)) fail(`unknown option --${key}`)
  let value = m[2] ?? true
  if (VALUED.includes(key) && value === true) {
    if (i + 1 >= argv.length) fail(`--${key} needs a value`)
    value = argv[++i]
  }
  args[key] =
    REPEATABLE[key] !== undefined && args[key] !== undefined ? `${args[key]}${REPEATABLE[key]}${value}` : value
}

const QUICK = args.quick === true
const ROUNDS = positiveInt('rounds', QUICK ? 1 : 3)
const DURATION = positiveInt('duration', QUICK ? 1 : 6) // seconds per measured run (wrk takes whole seconds)
const WARMUP = positiveInt('warmup', 1, true) // seconds of load before each measured run, not measured

const ALL_WORKLOADS = [
  { name: 'small', path: '/small', connections: 50, label: '13 B body, 50 connections' },
  { name: '64k', path: '/64k', connections: 50, label: '64 KiB body (Content-Length), 50 connections' },
  { name: 'chunked', path: '/chunked', connections: 50, label: '8 KiB chunked (8 chunks of 1 KiB), 50 connections' },
  { name: 'latency', path: '/small', connections: 1, label: '13 B body, 1 connection (latency)' },
]
const workloads = pick(
  ALL_WORKLOADS,
  args.workloads,
  QUICK ? ['small', '64k', 'chunked'] : ALL_WORKLOADS.map((w) => w.name),
  'workload',
)

const LOADGEN = args.loadgen ?? (onPath('wrk') !== null ? 'wrk' : 'autocannon')
if (LOADGEN !== 'wrk' && LOADGEN !== 'autocannon') fail('--loadgen must be wrk or autocannon')
if (LOADGEN === 'wrk' && onPath('wrk') === null) fail('--loadgen=wrk but wrk is not on PATH')
const AUTOCANNON = join(root, 'node_modules', 'autocannon', 'autocannon.js')
if (LOADGEN === 'autocannon' && !existsSync(AUTOCANNON)) fail('autocannon is not installed (npm install)')

const PIN = args['no-pin'] !== true && onPath('taskset') !== null && os.cpus().length >= 2
const PROXY_CPU = 1
const LOAD_CPU = 0
const NODE_FLAGS = typeof args['node-flags'] === 'string' ? args['node-flags'].split(/\s+/).filter(Boolean) : []

if (!existsSync(join(root, 'dist', 'index.js'))) fail('dist/index.js is missing: run `npm run bench` (it builds first)')
const COMPARE = typeof args.compare === 'string' ? args.compare : null
if (COMPARE !== null && !existsSync(join(COMPARE, 'index.js'))) fail(`--compare: ${COMPARE}/index.js is missing`)
// Other Node binaries (--node): { path, version, suffix }.
const OTHER_NODES = []
for (const spec of typeof args.node === 'string' ? args.node.split(',').filter(Boolean) : []) {
  let node
  try {
    node = resolveNode(spec)
  } catch (err) {
    fail(err.message)
  }
  const major = node.version.slice(1).split('.')[0]
  // Named by major version; by full version when that is not unique (e.g. 20.18 next to 20.20).
  const sameMajor = [process.version, ...OTHER_NODES.map((n) => n.version)].some(
    (v) => v.slice(1).split('.')[0] === major,
  )
  if (OTHER_NODES.some((n) => n.version === node.version) || node.version === process.version) {
    fail(`--node=${spec}: ${node.version} is already measured`)
  }
  OTHER_NODES.push({ ...node, suffix: `@node${sameMajor ? node.version.slice(1) : major}` })
}

// Systems: direct (built in), every bench/proxies/*.mjs not starting with "_", and the system
// files --with names (a file, or a directory: its *.mjs not starting with "_" that export one).
const DIRECT = { name: 'direct', order: 0, version: () => '(no proxy)' }
const BASELINE = 'node-http-proxy'
const systemFiles = (dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.mjs') && !f.startsWith('_'))
    .map((f) => join(dir, f))
const proxyFiles = systemFiles(join(here, 'proxies'))
for (const item of typeof args.with === 'string' ? args.with.split(',').filter(Boolean) : []) {
  const path = resolve(item)
  if (!existsSync(path)) fail(`--with: ${item} does not exist`)
  proxyFiles.push(...(statSync(path).isDirectory() ? systemFiles(path) : [path]))
}
const allSystems = [DIRECT]
const skipped = []
for (const file of proxyFiles) {
  const system = (await import(pathToFileURL(file).href)).default
  if (system === undefined) continue // a helper module in a --with directory
  const why = system.available()
  if (why === true) allSystems.push({ ...system, file })
  else skipped.push({ name: system.name, reason: why })
}
if (COMPARE !== null) {
  const sg = allSystems.find((s) => s.name === 'strictgate')
  allSystems.push({
    ...sg,
    name: 'strictgate@compare',
    order: sg.order + 0.5,
    version: () => `${sg.version()} from ${COMPARE}`,
    command: (ctx) => sg.command({ ...ctx, dist: ctx.compareDist }),
    base: sg,
  })
}
// Every Node-based system again under each --node binary, next to itself in tables and charts.
for (const [k, node] of OTHER_NODES.entries()) {
  for (const s of allSystems.filter((x) => x.node === true && x.nodePath === undefined)) {
    allSystems.push({
      ...s,
      name: `${s.name}${node.suffix}`,
      order: s.order + (0.1 * (k + 1)) / (OTHER_NODES.length + 1),
      version: () => `${s.version()}, Node ${node.version}`,
      command: (ctx) => s.command({ ...ctx, nodePath: node.path }),
      nodePath: node.path,
      base: s.base ?? s,
    })
  }
}
// --variant=LABEL:FLAGS: every Node-based system again with extra Node flags, as
// "<system>+LABEL" (e.g. --variant="stgc:--single-threaded-gc").
const FLAG_VARIANTS = (typeof args.variant === 'string' ? args.variant.split(';') : []).filter(Boolean).map((v) => {
  const m = /^([a-z0-9-]+):(.+)$/is.exec(v.trim())
  if (m === null) fail(`--variant must be LABEL:FLAGS (e.g. stgc:--single-threaded-gc), got ${v}`)
  return { label: m[1], flags: m[2].split(/\s+/).filter(Boolean) }
})
for (const [k, { label, flags }] of FLAG_VARIANTS.entries()) {
  for (const s of allSystems.filter((x) => x.node === true && x.flags === undefined)) {
    allSystems.push({
      ...s,
      name: `${s.name}+${label}`,
      order: s.order + (0.1 * (k + 1)) / (FLAG_VARIANTS.length + 1) / 10,
      version: () => `${s.version()}, node ${flags.join(' ')}`,
      command: (ctx) => s.command({ ...ctx, nodeFlags: [...(ctx.nodeFlags ?? []), ...flags] }),
      flags,
      base: s.base ?? s,
    })
  }
}
allSystems.sort((a, b) => a.order - b.order)
// A system named in --systems brings its --compare, --node and --variant variants along.
const systemNames =
  typeof args.systems === 'string'
    ? args.systems.split(',').filter(Boolean)
    : allSystems.filter((s) => s.base === undefined).map((s) => s.name)
const systems = pick(
  allSystems,
  allSystems
    .filter((s) => systemNames.includes(s.name) || (s.base !== undefined && systemNames.includes(s.base.name)))
    .map((s) => s.name)
    .concat(systemNames)
    .join(','),
  [],
  'system',
)
if (!systems.includes(DIRECT)) systems.unshift(DIRECT) // the baseline every ratio needs
if (COMPARE !== null && !systems.some((s) => s.name === 'strictgate@compare')) {
  systems.push(allSystems.find((s) => s.name === 'strictgate@compare'))
  systems.sort((a, b) => a.order - b.order)
}

// ---------------------------------------------------------------------------------------------
// Child processes: everything started here is stopped here, by pid.

const children = new Set()
let tmpDir // created in main(), removed by cleanup()

function start(label, command, argv, cpu) {
  const [cmd, full] = PIN ? ['taskset', ['-c', String(cpu), command, ...argv]] : [command, argv]
  // taskset execs the command: child.pid is the process that does the work.
  const child = spawn(cmd, full, { stdio: ['ignore', 'pipe', 'pipe'], cwd: root })
  child.label = label
  child.output = ''
  const keep = (d) => {
    child.output = (child.output + d).slice(-4000)
  }
  child.stdout.setEncoding('utf8').on('data', keep)
  child.stderr.setEncoding('utf8').on('data', keep)
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  child.alive = true
  children.add(child)
  child.exited.then(() => {
    child.alive = false
    children.delete(child)
  })
  return child
}

async function stop(child) {
  if (!child.alive) return
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.alive && child.kill('SIGKILL'), 3000)
  await child.exited
  clearTimeout(timer)
}

function killAll() {
  for (const child of children) child.kill('SIGKILL')
}
process.on('exit', () => cleanup())
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.error(`\n${sig}: stopping`)
    cleanup()
    process.exit(130)
  })
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

async function waitForPort(port, child, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (!child.alive) throw new Error(`${child.label} exited before listening:\n${child.output}`)
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1')
      s.once('connect', () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`${child.label} did not listen on ${port} in ${timeoutMs} ms`)
    await sleep(50)
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// ---------------------------------------------------------------------------------------------
// /proc measurements (Linux); null elsewhere.

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100

/**
 * CPU time so far in seconds, all threads: user (utime) and system (stime; softirq included
 * unless the kernel has CONFIG_IRQ_TIME_ACCOUNTING), and minor page faults (minflt).
 */
function cpuTimes(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // fields[0] is field 3 (state)
    return { user: Number(fields[11]) / CLK_TCK, system: Number(fields[12]) / CLK_TCK, minorFaults: Number(fields[7]) }
  } catch {
    return null
  }
}

/** Microseconds per request between two cpuTimes() samples, or null. */
function usPerRequest(a, b, requests, part) {
  if (a === null || b === null || requests === 0) return null
  const seconds = part === undefined ? b.user + b.system - a.user - a.system : b[part] - a[part]
  return (seconds * 1e6) / requests
}

/**
 * read/write-family system calls so far (syscr, syscw in /proc/<pid>/io). Only calls through
 * the VFS count: recv/send (nginx reads with recv) do not, so compare a system with itself.
 */
function syscalls(pid) {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8')
    return { reads: Number(/syscr: (\d+)/.exec(io)[1]), writes: Number(/syscw: (\d+)/.exec(io)[1]) }
  } catch {
    return null
  }
}

/** Per-CPU time from /proc/stat, in seconds: tasks (user+nice+system), irq+softirq, steal. */
function cpuStat() {
  try {
    const out = new Map()
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      const m = /^cpu(\d+) (.*)$/.exec(line)
      if (m === null) continue
      const [user, nice, system, , , irq, softirq, steal] = m[2].split(' ').map(Number)
      out.set(Number(m[1]), {
        tasks: (user + nice + system) / CLK_TCK,
        irq: (irq + softirq) / CLK_TCK,
        steal: steal / CLK_TCK,
      })
    }
    return out
  } catch {
    return null
  }
}

function resetPeakRss(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

function peakRssMiB(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? null : Number(m[1]) / 1024
  } catch {
    return null
  }
}

// ---------------------------------------------------------------------------------------------
// Load generators: each returns { requests, seconds, rps, p50, p99 (ms), errors }.

function runLoad(port, workload, seconds) {
  const url = `http://127.0.0.1:${port}${workload.path}`
  const c = String(workload.connections)
  const child =
    LOADGEN === 'wrk'
      ? start('wrk', 'wrk', ['-t1', `-c${c}`, `-d${seconds}s`, '--timeout', '5s', '--latency', url], LOAD_CPU)
      : start(
          'autocannon',
          process.execPath,
          [AUTOCANNON, '-c', c, '-d', String(seconds), '-t', '5', '-j', url],
          LOAD_CPU,
        )
  const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 20) * 1000)
  let stdout = ''
  child.stdout.on('data', (d) => {
    stdout += d
  })
  return child.exited.then(({ code, signal }) => {
    clearTimeout(timer)
    if (code !== 0) throw new Error(`${LOADGEN} failed (${code ?? signal}):\n${child.output}`)
    return LOADGEN === 'wrk' ? parseWrk(stdout) : parseAutocannon(stdout)
  })
}

function parseWrk(out) {
  const ms = (s) => {
    const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(s)
    if (m === null) throw new Error(`wrk: cannot read latency ${s}`)
    return Number(m[1]) * { us: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 }[m[2]]
  }
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(out)
  const p50 = /^\s+50%\s+(\S+)/m.exec(out)
  const p99 = /^\s+99%\s+(\S+)/m.exec(out)
  if (total === null || p50 === null || p99 === null) throw new Error(`wrk: unexpected output:\n${out}`)
  const requests = Number(total[1])
  const seconds = ms(`${total[2]}${total[3]}`) / 1000
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)
  const errors = (sock === null ? 0 : sock.slice(1).reduce((a, b) => a + Number(b), 0)) + Number(non2xx?.[1] ?? 0)
  return { requests, seconds, rps: requests / seconds, p50: ms(p50[1]), p99: ms(p99[1]), errors }
}

function parseAutocannon(out) {
  const r = JSON.parse(out.trim().split('\n').pop())
  const requests = r.requests.total
  const seconds = r.duration
  return {
    requests,
    seconds,
    rps: requests / seconds,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
  }
}

// ---------------------------------------------------------------------------------------------
// Byte-for-byte check: each workload path through the system, twice on one keep-alive
// connection, must give the status and body bytes the upstream gives directly.

function get(port, path, agent) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      const parts = []
      res.on('data', (d) => parts.push(d))
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(parts) }))
      res.on('error', reject)
    })
    req.setTimeout(5000, () => req.destroy(new Error(`GET ${path}: no response in 5 s`)))
    req.on('error', reject)
  })
}

async function checkBodies(port, direct) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  try {
    for (const w of ALL_WORKLOADS) {
      for (let i = 0; i < 2; i++) {
        const got = await get(port, w.path, agent)
        const want = direct[w.path]
        if (got.status !== want.status) return `GET ${w.path}: status ${got.status}, direct ${want.status}`
        if (!got.body.equals(want.body)) {
          return `GET ${w.path}: body differs (${got.body.length} bytes, direct ${want.body.length})`
        }
      }
    }
    return null
  } catch (err) {
    return String(err.message ?? err)
  } finally {
    agent.destroy()
  }
}

async function checkBadGateway(system, context) {
  const deadPort = await freePort() // nothing listens there
  const port = await freePort()
  const { command, args: argv } = system.command({ ...context, upstream: `http://127.0.0.1:${deadPort}`, port })
  const child = start(`${system.name} (dead upstream)`, command, argv, PROXY_CPU)
  try {
    await waitForPort(port, child)
    const got = await get(port, '/small', undefined)
    const expected = system.badGatewayStatus ?? 502
    return got.status === expected ? null : `unreachable upstream: status ${got.status}, expected ${expected}`
  } catch (err) {
    return `unreachable upstream: ${err.message ?? err}`
  } finally {
    await stop(child)
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

function median(xs) {
  const s = xs.filter((x) => x !== null).sort((a, b) => a - b)
  if (s.length === 0) return null
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

const int = (x) => (x === null ? '–' : Math.round(x).toLocaleString('en-US'))
const fixed = (x, d) => (x === null || x === undefined ? '–' : x.toFixed(d))
const ratio = (a, b) => (a === null || b === null || b === 0 ? '–' : `${(a / b).toFixed(2)}×`)
function latency(ms) {
  if (ms === null) return '–'
  // autocannon records whole milliseconds: 0 there means under a millisecond.
  if (LOADGEN === 'autocannon') return ms < 1 ? '< 1 ms' : `${ms} ms`
  return ms < 1 ? `${Math.round(ms * 1000)} µs` : `${ms.toFixed(2)} ms`
}

function summarize(runs) {
  const summary = []
  for (const w of workloads) {
    for (const s of systems) {
      const rs = runs.filter((r) => r.workload === w.name && r.system === s.name && r.error === undefined)
      if (rs.length === 0) continue
      const rps = rs.map((r) => r.rps)
      const rss = rs.map((r) => r.peakRssMiB).filter((x) => x !== null)
      summary.push({
        workload: w.name,
        system: s.name,
        rounds: rs.length,
        rps: median(rps),
        rpsMin: Math.min(...rps),
        rpsMax: Math.max(...rps),
        p50: median(rs.map((r) => r.p50)),
        p99: median(rs.map((r) => r.p99)),
        cpuUsPerReq: median(rs.map((r) => r.cpuUsPerReq)),
        cpuUserUsPerReq: median(rs.map((r) => r.cpuUserUsPerReq)),
        cpuSystemUsPerReq: median(rs.map((r) => r.cpuSystemUsPerReq)),
        minorFaultsPerReq: median(rs.map((r) => r.minorFaultsPerReq)),
        peakRssMiB: rss.length === 0 ? null : Math.max(...rss),
        readsPerReq: median(rs.map((r) => r.readsPerReq)),
        writesPerReq: median(rs.map((r) => r.writesPerReq)),
        errors: rs.reduce((a, r) => a + r.errors, 0),
      })
    }
  }
  for (const row of summary) {
    const find = (name) => summary.find((r) => r.workload === row.workload && r.system === name)?.rps ?? null
    row.vsDirect = row.system === 'direct' ? 1 : ratioValue(row.rps, find('direct'))
    row.vsBaseline = ratioValue(row.rps, find(BASELINE))
  }
  return summary
}

const ratioValue = (a, b) => (a === null || b === null || b === 0 ? null : a / b)

/** A markdown table with padded columns (readable on a console, and as biome formats it). */
function markdownTable(header, rows, right) {
  const all = [header, ...rows]
  const width = header.map((_, i) => Math.max(3, ...all.map((r) => [...r[i]].length)))
  const pad = (cell, i) => (right[i] ? cell.padStart(width[i]) : cell.padEnd(width[i]))
  const line = (r) => `| ${r.map(pad).join(' | ')} |`
  const rule = `| ${width.map((n, i) => (right[i] ? `${'-'.repeat(n - 1)}:` : '-'.repeat(n))).join(' | ')} |`
  return [line(header), rule, ...rows.map(line)].join('\n')
}

function resultTable(summary) {
  const header = [
    'workload',
    'system',
    'req/s median (min–max)',
    '× direct',
    `× ${BASELINE}`,
    'p50',
    'p99',
    'CPU µs/req',
    'peak RSS MiB',
    'errors',
  ]
  const rows = summary.map((r) => [
    r.workload,
    r.system,
    `${int(r.rps)} (${int(r.rpsMin)}–${int(r.rpsMax)})`,
    r.system === 'direct' ? '1.00×' : ratio(r.vsDirect, 1),
    ratio(r.vsBaseline, 1),
    latency(r.p50),
    latency(r.p99),
    r.system === 'direct' ? '–' : fixed(r.cpuUsPerReq, 1),
    r.system === 'direct' ? '–' : fixed(r.peakRssMiB, 1),
    String(r.errors),
  ])
  return markdownTable(header, rows, [false, false, true, true, true, true, true, true, true, true])
}

// ---------------------------------------------------------------------------------------------
// SVG chart: one panel per workload (their scales differ by 10×), one bar per system with the
// median req/s, a min–max whisker, and the value. Hand-written, no dependency.

// Known systems keep their color whichever others are installed; others take the rest in turn.
const COLORS = {
  direct: '#8c8c8c',
  strictgate: '#d62728',
  'node-http-proxy': '#1f77b4',
  '@fastify/reply-from': '#2ca02c',
  nginx: '#ff7f0e',
  haproxy: '#17becf',
  pipe: '#9467bd',
}
const MORE_COLORS = ['#8c564b', '#e377c2', '#bcbd22', '#7f7f7f']

function svgChart(summary, meta) {
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  const W = 960
  // Room for the longest system name (12 px sans-serif: about 7 px a character).
  const left = Math.max(170, 24 + 7 * Math.max(...summary.map((r) => r.system.length)))
  const right = 270
  const barH = 20
  const gap = 6
  const out = []
  let y = 30
  out.push(`<text x="16" y="${y}" font-size="18" font-weight="bold">strictgate gateway benchmark: requests/s</text>`)
  y += 20
  out.push(`<text x="16" y="${y}" font-size="12" fill="#555">${esc(meta.subtitle)}</text>`)
  y += 16
  out.push(`<text x="16" y="${y}" font-size="12" fill="#555">${esc(meta.subtitle2)}</text>`)
  y += 14
  for (const w of workloads) {
    const rows = summary.filter((r) => r.workload === w.name)
    if (rows.length === 0) continue
    y += 26
    out.push(`<text x="16" y="${y}" font-size="14" font-weight="bold">${esc(w.name)}: ${esc(w.label)}</text>`)
    y += 10
    const max = Math.max(...rows.map((r) => r.rpsMax))
    const scale = (W - left - right) / max
    for (const r of rows) {
      // A color per system, stable across --systems; a --compare or --node variant has its
      // system's color, lighter, so that the two read as a pair.
      const system = allSystems.find((s) => s.name === r.system)
      const base = system.base ?? system
      const others = allSystems.filter((s) => s.base === undefined && COLORS[s.name] === undefined)
      const color = COLORS[base.name] ?? MORE_COLORS[others.indexOf(base) % MORE_COLORS.length]
      const opacity = system.base === undefined ? '' : ' fill-opacity="0.55"'
      const len = Math.max(1, r.rps * scale)
      const mid = y + barH / 2
      out.push(`<text x="${left - 8}" y="${mid + 4}" font-size="12" text-anchor="end">${esc(r.system)}</text>`)
      out.push(`<rect x="${left}" y="${y}" width="${len.toFixed(1)}" height="${barH}" fill="${color}"${opacity}/>`)
      if (r.rpsMax > r.rpsMin) {
        const x1 = (left + r.rpsMin * scale).toFixed(1)
        const x2 = (left + r.rpsMax * scale).toFixed(1)
        out.push(
          `<path d="M${x1} ${mid}H${x2}M${x1} ${mid - 5}V${mid + 5}M${x2} ${mid - 5}V${mid + 5}" stroke="#222"/>`,
        )
      }
      const cpu = r.cpuUsPerReq === null ? '' : `, ${fixed(r.cpuUsPerReq, 1)} µs/req`
      const note = r.system === 'direct' ? '' : ` (${ratio(r.vsDirect, 1)} direct${cpu})`
      const tx = left + Math.max(len, r.rpsMax * scale) + 8
      out.push(`<text x="${tx.toFixed(1)}" y="${mid + 4}" font-size="12">${int(r.rps)}${esc(note)}</text>`)
      y += barH + gap
    }
  }
  y += 24
  // The versions, on as many lines as they need (about 150 characters fit at this size).
  const lines = ['']
  for (const part of meta.footer) {
    const last = lines.length - 1
    if (lines[last] !== '' && lines[last].length + part.length > 150) lines.push('')
    lines[lines.length - 1] += (lines[lines.length - 1] === '' ? '' : ' · ') + part
  }
  for (const line of lines) {
    out.push(`<text x="16" y="${y}" font-size="11" fill="#555">${esc(line)}</text>`)
    y += 14
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}" font-family="sans-serif" role="img" aria-labelledby="title">`,
    `<title id="title">strictgate gateway benchmark: requests/s per system and workload (${esc(meta.subtitle)})</title>`,
    `<rect width="${W}" height="${y}" fill="#fff"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n')
}

// ---------------------------------------------------------------------------------------------
// Machine and versions

function commandVersion(cmd, argv) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8' })
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0].trim()
}

/** ", and Node v24.x for the systems named *@node24" when --node was given. */
function alsoNodes(machine) {
  return machine.otherNodes.map((n) => `, Node ${n.version} for ${n.systems}`).join('')
}

function machineInfo() {
  const cpus = os.cpus()
  const git = spawnSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' })
  const dirty = spawnSync('git', ['-C', root, 'status', '--porcelain', '--', 'src'], { encoding: 'utf8' })
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    otherNodes: OTHER_NODES.map(({ version, path, suffix }) => ({ version, path, systems: `*${suffix}` })),
    v8: process.versions.v8,
    loadgen:
      LOADGEN === 'wrk'
        ? commandVersion('wrk', ['--version']).replace(/ Copyright.*/, '')
        : `autocannon ${JSON.parse(readFileSync(join(root, 'node_modules/autocannon/package.json'), 'utf8')).version}`,
    pinning: PIN ? `proxy on CPU ${PROXY_CPU}, upstream and load generator on CPU ${LOAD_CPU} (taskset)` : 'none',
    commit: git.status === 0 ? git.stdout.trim() + (dirty.stdout?.trim() ? ' (src modified)' : '') : null,
  }
}

// ---------------------------------------------------------------------------------------------
// Main

const started = Date.now()
let upstream = null
const procs = new Map() // system name -> { child, port }

function cleanup() {
  killAll()
  if (tmpDir !== undefined) rmSync(tmpDir, { recursive: true, force: true })
}

const perRun = WARMUP + DURATION + 0.3
const estimate = Math.ceil(ROUNDS * workloads.length * systems.length * perRun + 2 * systems.length + 3)
// Every run is bounded: past twice the estimate (plus a margin), stop everything.
const deadline = setTimeout(
  () => {
    console.error(`\nbench: over the time limit (${2 * estimate + 60} s); stopping`)
    cleanup()
    process.exit(1)
  },
  (2 * estimate + 60) * 1000,
)
deadline.unref()

function elapsed() {
  const s = Math.round((Date.now() - started) / 1000)
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}

async function main() {
  tmpDir = mkdtempSync(join(os.tmpdir(), 'strictgate-bench-'))
  // A snapshot of dist/: a rebuild during the run (npm test elsewhere) must not change or
  // break what is measured. bench/proxies/strictgate.mjs loads the build it is given (--dist).
  const dist = join(tmpDir, 'dist')
  cpSync(join(root, 'dist'), dist, { recursive: true })
  const compareDist = join(tmpDir, 'compare-dist')
  if (COMPARE !== null) cpSync(COMPARE, compareDist, { recursive: true })
  const context = { tmpDir, dist, compareDist }
  const machine = machineInfo()
  const versions = Object.fromEntries(systems.map((s) => [s.name, s.version()]))
  console.log(`strictgate gateway benchmark${QUICK ? ' (--quick)' : ''}`)
  console.log(`${machine.cpuModel} × ${machine.cores}, ${machine.os}, Node ${machine.node}${alsoNodes(machine)}`)
  console.log(`load: ${machine.loadgen}; pinning: ${machine.pinning}`)
  console.log(`systems: ${systems.map((s) => `${s.name} ${versions[s.name]}`).join(', ')}`)
  for (const s of skipped) console.log(`skipped: ${s.name} (${s.reason})`)
  console.log(
    `${ROUNDS} round(s) × ${workloads.length} workload(s) × ${systems.length} systems, ${WARMUP} s warmup + ${DURATION} s each: about ${Math.floor(estimate / 60)} min ${estimate % 60} s`,
  )

  // Other work on the machine makes every number noisy: say so up front.
  const s0 = cpuStat()
  await sleep(1000)
  const s1 = cpuStat()
  if (s0 !== null && s1 !== null) {
    let busy = 0
    for (const [cpu, v] of s1) busy += v.tasks - s0.get(cpu).tasks
    machine.busyBeforePct = Math.round((100 * busy) / s1.size)
    const note = machine.busyBeforePct >= 10 ? ': other processes are running, results will be noisy' : ''
    console.log(`CPU busy before starting: ${machine.busyBeforePct}% of ${s1.size} CPUs${note}`)
  }

  // Upstream
  upstream = start('upstream', process.execPath, [join(here, 'upstream.mjs'), '--port=0'], LOAD_CPU)
  const upstreamPort = await new Promise((resolve, reject) => {
    let buf = ''
    upstream.stdout.on('data', function onData(d) {
      buf += d
      const nl = buf.indexOf('\n')
      if (nl === -1) return
      upstream.stdout.off('data', onData)
      resolve(JSON.parse(buf.slice(0, nl)).port)
    })
    upstream.exited.then(() => reject(new Error(`upstream exited:\n${upstream.output}`)))
  })
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}`

  // Direct responses, which must be what upstream.mjs promises.
  const direct = {}
  for (const w of ALL_WORKLOADS) {
    direct[w.path] = await get(upstreamPort, w.path, undefined)
    if (direct[w.path].status !== 200 || !direct[w.path].body.equals(bodies[w.path])) {
      throw new Error(`upstream: GET ${w.path} does not give the expected body`)
    }
  }

  // Start and check every system.
  const checks = {}
  procs.set('direct', { child: upstream, port: upstreamPort })
  for (const s of systems) {
    if (s === DIRECT) continue
    const port = await freePort()
    const { command, args: argv } = s.command({ ...context, upstream: upstreamUrl, port, nodeFlags: NODE_FLAGS })
    const child = start(s.name, command, argv, PROXY_CPU)
    let problem = null
    try {
      await waitForPort(port, child)
      problem = (await checkBodies(port, direct)) ?? (await checkBadGateway(s, context))
    } catch (err) {
      problem = String(err.message ?? err)
    }
    checks[s.name] = problem ?? 'ok'
    const ok = `ok (bodies byte for byte, ${s.badGatewayStatus ?? 502} on unreachable upstream)`
    console.log(`check ${s.name}: ${problem ?? ok}`)
    if (problem === null) procs.set(s.name, { child, port })
    else await stop(child)
  }
  const measured = systems.filter((s) => procs.has(s.name))

  // Rounds: A B C ... per workload, the starting system rotating from round to round.
  const runs = []
  const total = ROUNDS * workloads.length * measured.length
  let n = 0
  for (let round = 1; round <= ROUNDS; round++) {
    for (const w of workloads) {
      const k = (round - 1) % measured.length
      const order = [...measured.slice(k), ...measured.slice(0, k)]
      for (const s of order) {
        n++
        const { child, port } = procs.get(s.name)
        const tag = `[${elapsed()} ${String(n).padStart(String(total).length)}/${total}] round ${round}/${ROUNDS} ${w.name.padEnd(8)} ${s.name.padEnd(20)}`
        process.stdout.write(`${tag} … `)
        const run = { round, workload: w.name, system: s.name }
        try {
          if (!child.alive) throw new Error(`process exited:\n${child.output}`)
          if (WARMUP > 0) await runLoad(port, w, WARMUP)
          const proxyPid = s === DIRECT ? null : child.pid
          run.peakRssScope = proxyPid !== null && resetPeakRss(proxyPid) ? 'run' : 'process'
          const cpu0 = proxyPid === null ? null : cpuTimes(proxyPid)
          const io0 = proxyPid === null ? null : syscalls(proxyPid)
          const up0 = cpuTimes(upstream.pid)
          const stat0 = cpuStat()
          const t0 = process.hrtime.bigint()
          const load = await runLoad(port, w, DURATION)
          const wall = Number(process.hrtime.bigint() - t0) / 1e9
          const stat1 = cpuStat()
          const cpu1 = proxyPid === null ? null : cpuTimes(proxyPid)
          const io1 = proxyPid === null ? null : syscalls(proxyPid)
          const up1 = cpuTimes(upstream.pid)
          Object.assign(run, load)
          run.cpuUsPerReq = usPerRequest(cpu0, cpu1, load.requests)
          run.cpuUserUsPerReq = usPerRequest(cpu0, cpu1, load.requests, 'user')
          run.cpuSystemUsPerReq = usPerRequest(cpu0, cpu1, load.requests, 'system')
          run.upstreamCpuUsPerReq = usPerRequest(up0, up1, load.requests)
          run.minorFaultsPerReq =
            cpu0 === null || cpu1 === null ? null : (cpu1.minorFaults - cpu0.minorFaults) / load.requests
          run.peakRssMiB = proxyPid === null ? null : peakRssMiB(proxyPid)
          if (stat0 !== null && stat1?.has(PROXY_CPU)) {
            // Noise: task time on the proxy's CPU that is not the proxy's (other processes).
            const d = (cpu, k) => stat1.get(cpu)[k] - stat0.get(cpu)[k]
            const own = cpu0 === null || cpu1 === null ? 0 : cpu1.user + cpu1.system - cpu0.user - cpu0.system
            run.proxyCoreOtherPct = PIN ? Math.max(0, (100 * (d(PROXY_CPU, 'tasks') - own)) / wall) : null
            run.stealPct = (100 * [...stat1.keys()].reduce((a, c) => a + d(c, 'steal'), 0)) / wall / stat1.size
          }
          run.readsPerReq = io0 === null || io1 === null ? null : (io1.reads - io0.reads) / load.requests
          run.writesPerReq = io0 === null || io1 === null ? null : (io1.writes - io0.writes) / load.requests
          if (!child.alive) throw new Error(`process exited during the run:\n${child.output}`)
          // A process that is alive but answers nothing (stalled) must not enter the medians as 0.
          if (load.requests === 0) throw new Error('no request completed in the run: the system stalled')
          const cpu = run.cpuUsPerReq === null ? '' : `  cpu ${fixed(run.cpuUsPerReq, 1)} µs/req`
          const rss = run.peakRssMiB === null ? '' : `  rss ${fixed(run.peakRssMiB, 0)} MiB`
          const other =
            run.proxyCoreOtherPct >= 5
              ? `  (other work on CPU ${PROXY_CPU}: ${Math.round(run.proxyCoreOtherPct)}%)`
              : ''
          const errs = load.errors > 0 ? `  ERRORS ${load.errors}` : ''
          process.stdout.write(
            `${int(load.rps).padStart(7)} req/s  p50 ${latency(load.p50)}  p99 ${latency(load.p99)}${cpu}${rss}${errs}${other}\n`,
          )
        } catch (err) {
          run.error = String(err.message ?? err)
          process.stdout.write(`FAILED: ${run.error}\n`)
        }
        runs.push(run)
      }
    }
  }

  // Stop everything before writing results.
  for (const { child } of procs.values()) await stop(child)
  await stop(upstream)

  const summary = summarize(runs)
  const date = new Date()
  const full =
    !QUICK &&
    ROUNDS >= 3 &&
    args.systems === undefined &&
    args.workloads === undefined &&
    NODE_FLAGS.length === 0 &&
    args.duration === undefined &&
    args.variant === undefined &&
    args.with === undefined &&
    COMPARE === null
  const table = resultTable(summary)
  const header = [
    `Date: ${date.toISOString()}. Machine: ${machine.cpuModel} × ${machine.cores}, ${machine.memoryGiB} GiB, ${machine.os}.`,
    `Node ${machine.node} (V8 ${machine.v8})${alsoNodes(machine)}. Load generator: ${machine.loadgen}. Pinning: ${machine.pinning}.`,
    `Commit: ${machine.commit ?? 'unknown'}. CPU busy before the run: ${machine.busyBeforePct ?? '?'}%.`,
    `Versions: ${systems.map((s) => `${s.name} ${versions[s.name]}`).join('; ')}.`,
    `${ROUNDS} alternating round(s); per run ${WARMUP} s warmup + ${DURATION} s measured. req/s: median (min–max) over rounds; p50/p99, CPU: medians; peak RSS: max.`,
  ]
  console.log(`\n${header.join('\n')}\n\n${table}\n`)
  const noisy = runs.filter((r) => r.proxyCoreOtherPct >= 10)
  let noise = ''
  if (noisy.length > 0) {
    // The worst ten (a run on a busy machine would otherwise list every run).
    const worst = [...noisy].sort((a, b) => b.proxyCoreOtherPct - a.proxyCoreOtherPct)
    const list =
      worst
        .slice(0, 10)
        .map((r) => `${r.workload}/${r.system} r${r.round} ${Math.round(r.proxyCoreOtherPct)}%`)
        .join(', ') + (noisy.length > 10 ? ', …' : '')
    noise = `Noise: ${noisy.length} of ${runs.length} runs had ≥ 10% work by other processes on CPU ${PROXY_CPU} (the proxy's): ${list}.`
    console.log(`${noise}\n`)
  }
  const failedChecks = Object.entries(checks).filter(([, v]) => v !== 'ok')
  for (const [name, why] of failedChecks) console.log(`NOT MEASURED: ${name} failed its check: ${why}`)
  const failedRuns = runs.filter((r) => r.error !== undefined)
  if (failedRuns.length > 0) {
    const list = failedRuns.map((r) => `${r.workload}/${r.system} r${r.round}: ${r.error.split('\n')[0]}`).join('; ')
    const failed = `Failed runs (left out of the medians): ${list}.`
    noise = noise === '' ? failed : `${noise}\n\n${failed}`
    console.log(`${failed}\n`)
  }

  mkdirSync(resultsDir, { recursive: true })
  const stamp = date.toISOString().replace(/[:.]/g, '-')
  const jsonPath = join(resultsDir, `run-${stamp}.json`)
  const svgPath = join(resultsDir, `run-${stamp}.svg`)
  const result = {
    benchmark: 'gateway',
    date: date.toISOString(),
    command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    full,
    options: { quick: QUICK, rounds: ROUNDS, durationSeconds: DURATION, warmupSeconds: WARMUP, nodeFlags: NODE_FLAGS },
    machine,
    versions,
    skipped,
    checks,
    workloads: workloads.map(({ name, path, connections, label }) => ({ name, path, connections, label })),
    summary,
    runs,
  }
  writeFileSync(jsonPath, `${JSON.stringify(result, null, 2)}\n`)
  const svg = svgChart(summary, {
    subtitle: `${date.toISOString().slice(0, 10)} · ${machine.cpuModel} × ${machine.cores} · Node ${machine.node}${alsoNodes(machine)} · ${machine.loadgen}`,
    subtitle2: `median of ${ROUNDS} alternating round(s), ${DURATION} s each; whiskers: min–max · ${machine.pinning}`,
    footer: systems.map((s) => `${s.name} ${versions[s.name]}`),
  })
  writeFileSync(svgPath, svg)
  const written = [jsonPath, svgPath]
  if (full) {
    copyFileSync(jsonPath, join(resultsDir, 'latest.json'))
    copyFileSync(svgPath, join(resultsDir, 'latest.svg'))
    const section = `${header.join('\n')}\n\n${table}\n${noise === '' ? '' : `\n${noise}\n`}`
    writeFileSync(
      join(resultsDir, 'latest.md'),
      `# Gateway benchmark: latest full run\n\nCommand: \`npm run bench\` (bench/run.mjs).\n\n${section}`,
    )
    written.push(join(resultsDir, 'latest.json'), join(resultsDir, 'latest.svg'), join(resultsDir, 'latest.md'))
    // bench/README.md and the project README show the latest full table between these markers
    // (the README shows latest.svg too).
    for (const readme of [join(here, 'README.md'), join(root, 'README.md')]) {
      const START = '<!-- latest-full-run:start -->'
      const END = '<!-- latest-full-run:end -->'
      const text = existsSync(readme) ? readFileSync(readme, 'utf8') : ''
      const a = text.indexOf(START)
      const b = text.indexOf(END)
      if (a !== -1 && b > a) {
        writeFileSync(readme, `${text.slice(0, a + START.length)}\n\n${section}\n${text.slice(b)}`)
        written.push(readme)
      }
    }
  }
  formatWithBiome(written.filter((f) => !f.endsWith('.svg')))
  console.log(`wrote ${written.map((f) => relative(root, f)).join(', ')}`)
  if (!full) console.log('(not a full run: bench/results/latest.* left as they were)')
  console.log(`done in ${elapsed()}`)
  return failedChecks.length === 0 && runs.every((r) => r.error === undefined)
}

/** `npm run lint` checks bench/: write results the way biome formats them. */
function formatWithBiome(files) {
  const biome = join(root, 'node_modules', '.bin', 'biome')
  if (!existsSync(biome) || files.length === 0) return
  spawnSync(biome, ['format', '--write', ...files], { cwd: root, stdio: 'ignore', timeout: 30_000 })
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function fail(message) {
  console.error(`bench: ${message}`)
  process.exit(2)
}

function positiveInt(name, fallback, zeroOk = false) {
  if (args[name] === undefined) return fallback
  const n = Number(args[name])
  if (!Number.isInteger(n) || n < (zeroOk ? 0 : 1)) fail(`--${name} must be a whole number${zeroOk ? '' : ' ≥ 1'}`)
  return n
}

function pick(items, list, defaults, what) {
  const names = typeof list === 'string' ? list.split(',').filter(Boolean) : defaults
  for (const n of names) {
    if (!items.some((i) => i.name === n)) {
      const extra = what === 'system' ? skipped.map((s) => ` (${s.name}: ${s.reason})`).join('') : ''
      fail(`unknown ${what} ${n}; known: ${items.map((i) => i.name).join(', ')}${extra}`)
    }
  }
  return items.filter((i) => names.includes(i.name))
}

let ok = false
try {
  ok = await main()
} catch (err) {
  console.error(`\nbench: ${err.stack ?? err}`)
} finally {
  clearTimeout(deadline)
  cleanup()
}
process.exitCode = ok ? 0 : 1
