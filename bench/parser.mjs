// Response-parser throughput: strictgate's ResponseParser (dist/) against Node's built-in
// parser (llhttp in C++, `process.binding('http_parser')`) and http-parser-js, in one process.
//
// Per workload the systems run in alternating rounds (A B C A B C ...) of a fixed duration
// after one warmup round each, so drift (thermal, GC, JIT tiers, noisy neighbours) hits every
// system alike. Each system parses one response per iteration: reset for a new response
// (`expect()` / `initialize()`), then one `execute` per slice, with a handler that reads the
// status and adds up body lengths. Before measuring, every system parses each workload once and
// must produce the right status and the exact body bytes.
//
// Not the same work: Node's parser and http-parser-js hand every header name and value to
// JavaScript as strings; strictgate keeps the head as bytes plus offsets, validates it, and
// decodes only the fields it acts on (Content-Length, Transfer-Encoding, Connection...).
// That is the design being measured (see DESIGN.md, "Performance design").
//
// Usage: npm run bench:parser [-- --rounds=7 --ms=300 --only=small,fields30,chunked64k
//          --systems=strictgate,node,http-parser-js --compare=before=path/to/other/dist/index.js]
// Writes bench/results/parser-<date>.json (ignored by git) and bench/results/parser-latest.md.

import { mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const require = createRequire(import.meta.url)
const here = dirname(fileURLToPath(import.meta.url))

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a)
    if (m === null) throw new Error(`unknown argument ${a}`)
    return [m[1], m[2] ?? 'true']
  }),
)
const ROUNDS = Number(args.rounds ?? 7)
const ROUND_MS = Number(args.ms ?? 300)
if (!(ROUNDS >= 1 && ROUND_MS > 0)) throw new Error('--rounds and --ms must be positive')

// ---------------------------------------------------------------------------------------------
// Workloads: the exact bytes an upstream would send, and how they arrive (slices).

const DATE = 'Date: Tue, 26 Nov 2024 01:51:00 GMT\r\n'
const SMALL_BODY = 'Hello, World!'

function smallResponse() {
  const head =
    'HTTP/1.1 200 OK\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${SMALL_BODY.length}\r\n` +
    DATE +
    'Connection: keep-alive\r\n' +
    'Keep-Alive: timeout=5\r\n' +
    '\r\n'
  const bytes = Buffer.from(head + SMALL_BODY, 'latin1')
  return { name: 'small', fields: 5, bytes, body: Buffer.from(SMALL_BODY), slices: [bytes] }
}

function thirtyFieldResponse() {
  const fields = [
    'Content-Type: text/html; charset=utf-8',
    `Content-Length: ${SMALL_BODY.length}`,
    'Date: Tue, 26 Nov 2024 01:51:00 GMT',
    'Server: nginx/1.25.3',
    'Cache-Control: public, max-age=3600, stale-while-revalidate=60',
    'ETag: "5f3c1a2b-1d4c-4e8f-9a0b-3c2d1e0f9a8b"',
    'Last-Modified: Mon, 25 Nov 2024 18:30:12 GMT',
    'Vary: Accept-Encoding, Origin',
    'X-Request-Id: 0f8fad5b-d9cb-469f-a165-70867728950e',
    'Strict-Transport-Security: max-age=63072000; includeSubDomains; preload',
    'X-Content-Type-Options: nosniff',
    'X-Frame-Options: SAMEORIGIN',
    "Content-Security-Policy: default-src 'self'; img-src 'self' data: https:; script-src 'self'",
    'Referrer-Policy: strict-origin-when-cross-origin',
    'Access-Control-Allow-Origin: https://example.com',
    'Access-Control-Allow-Credentials: true',
    'Set-Cookie: session=38afes7a8; Path=/; Secure; HttpOnly; SameSite=Lax',
    'Set-Cookie: theme=dark; Path=/; Max-Age=31536000',
    'Set-Cookie: ab=variant-b; Path=/; Max-Age=86400',
    'Age: 120',
    'Via: 1.1 varnish',
    'X-Cache: HIT',
    'X-Cache-Hits: 3',
    'Accept-Ranges: bytes',
    'Connection: keep-alive',
    'Keep-Alive: timeout=5, max=1000',
    'Expires: Tue, 26 Nov 2024 02:51:00 GMT',
    'Alt-Svc: h3=":443"; ma=86400',
    'Permissions-Policy: geolocation=(), camera=()',
    'X-Powered-By: Express',
  ]
  if (fields.length !== 30) throw new Error('fields30 must have 30 fields')
  const bytes = Buffer.from(`HTTP/1.1 200 OK\r\n${fields.join('\r\n')}\r\n\r\n${SMALL_BODY}`, 'latin1')
  return { name: 'fields30', fields: 30, bytes, body: Buffer.from(SMALL_BODY), slices: [bytes] }
}

function chunkedResponse() {
  const CHUNK = 8 * 1024
  const BODY = 64 * 1024
  const SLICE = 16 * 1024
  const body = Buffer.alloc(BODY)
  for (let i = 0; i < BODY; i++) body[i] = (i * 31 + 7) & 0xff
  const parts = [
    Buffer.from(
      'HTTP/1.1 200 OK\r\n' +
        'Content-Type: application/octet-stream\r\n' +
        'Transfer-Encoding: chunked\r\n' +
        DATE +
        'Connection: keep-alive\r\n' +
        '\r\n',
      'latin1',
    ),
  ]
  for (let i = 0; i < BODY; i += CHUNK) {
    parts.push(Buffer.from(`${CHUNK.toString(16)}\r\n`), body.subarray(i, i + CHUNK), Buffer.from('\r\n'))
  }
  parts.push(Buffer.from('0\r\n\r\n'))
  const bytes = Buffer.concat(parts)
  // Each slice is its own Buffer, as socket reads would be.
  const slices = []
  for (let i = 0; i < bytes.length; i += SLICE) slices.push(Buffer.from(bytes.subarray(i, i + SLICE)))
  return { name: 'chunked64k', fields: 4, bytes, body, slices }
}

const ALL_WORKLOADS = [smallResponse(), thirtyFieldResponse(), chunkedResponse()]
const DESCRIPTIONS = {
  small: (w) => `small: ${w.bytes.length} B, 5 fields, 13 B body (Content-Length), 1 slice`,
  fields30: (w) => `30 fields: ${w.bytes.length} B, 13 B body (Content-Length), 1 slice`,
  chunked64k: (w) => `chunked: ${w.bytes.length} B, 64 KiB body in 8 KiB chunks, ${w.slices.length} slices of 16 KiB`,
}

// ---------------------------------------------------------------------------------------------
// Systems. `make(workload)` returns { parseOne(), stats } where stats counts completed
// responses and body bytes, so every round can check that nothing silently failed.

function newStats() {
  return { status: 0, complete: 0, bodyBytes: 0, chunks: null }
}

function strictgate(label, modulePath) {
  return {
    name: label,
    async load() {
      const mod = modulePath.endsWith('.cjs') ? require(modulePath) : await import(pathToFileURL(modulePath).href)
      return mod.ResponseParser
    },
    make(ResponseParser, w) {
      const stats = newStats()
      const parser = new ResponseParser({
        onHead(head) {
          stats.status = head.status
        },
        onBody(chunk) {
          stats.bodyBytes += chunk.length
          if (stats.chunks !== null) stats.chunks.push(Buffer.from(chunk))
        },
        onTrailers() {},
        onComplete() {
          stats.complete++
        },
      })
      const request = { method: 'GET', upgrade: [] }
      const slices = w.slices
      return {
        stats,
        parseOne() {
          parser.expect(request)
          for (let i = 0; i < slices.length; i++) {
            if (parser.execute(slices[i]) < 0) throw new Error(`${label}: ${JSON.stringify(parser.failure)}`)
          }
        },
      }
    },
  }
}

function nodeBuiltin() {
  return {
    name: 'node',
    load() {
      // Deprecated (DEP0111) and internal: may be gone in a future Node; then it is skipped.
      const quiet = process.noDeprecation
      process.noDeprecation = true
      try {
        const HTTPParser = process.binding('http_parser').HTTPParser
        if (typeof HTTPParser !== 'function' || HTTPParser.RESPONSE === undefined) return null
        return HTTPParser
      } catch {
        return null
      } finally {
        process.noDeprecation = quiet
      }
    },
    make(HTTPParser, w) {
      const stats = newStats()
      const parser = new HTTPParser()
      const resource = {}
      const install = () => {
        // (versionMajor, versionMinor, headers, method, url, statusCode, statusMessage, upgrade, keepAlive)
        parser[HTTPParser.kOnHeaders] = () => {}
        parser[HTTPParser.kOnHeadersComplete] = (_maj, _min, _headers, _method, _url, statusCode) => {
          stats.status = statusCode
          return 0
        }
        parser[HTTPParser.kOnBody] = (chunk) => {
          stats.bodyBytes += chunk.length
          if (stats.chunks !== null) stats.chunks.push(Buffer.from(chunk))
        }
        parser[HTTPParser.kOnMessageComplete] = () => {
          stats.complete++
        }
      }
      install()
      const slices = w.slices
      return {
        stats,
        parseOne() {
          // What node:http's client does per response: (re)initialise the parser.
          parser.initialize(HTTPParser.RESPONSE, resource, 0, 0)
          for (let i = 0; i < slices.length; i++) {
            const r = parser.execute(slices[i])
            if (typeof r !== 'number') throw r
          }
        },
      }
    },
  }
}

function httpParserJs() {
  return {
    name: 'http-parser-js',
    load() {
      return require('http-parser-js').HTTPParser
    },
    make(HTTPParser, w) {
      const stats = newStats()
      const parser = new HTTPParser(HTTPParser.RESPONSE)
      // http-parser-js passes one `info` object unless `kOnExecute` was read (Node >= 0.12 mode).
      parser[HTTPParser.kOnHeaders] = () => {}
      parser[HTTPParser.kOnHeadersComplete] = (info, _min, _headers, _method, _url, statusCode) => {
        stats.status = typeof info === 'object' ? info.statusCode : statusCode
        return 0
      }
      parser[HTTPParser.kOnBody] = (chunk, start, len) => {
        stats.bodyBytes += len
        if (stats.chunks !== null) stats.chunks.push(Buffer.from(chunk.subarray(start, start + len)))
      }
      parser[HTTPParser.kOnMessageComplete] = () => {
        stats.complete++
      }
      const slices = w.slices
      return {
        stats,
        parseOne() {
          parser.initialize(HTTPParser.RESPONSE)
          for (let i = 0; i < slices.length; i++) {
            const r = parser.execute(slices[i], 0, slices[i].length)
            if (typeof r !== 'number') throw r
          }
        },
      }
    },
  }
}

const dist = resolve(here, '..', 'dist', 'index.js')
let systems = [strictgate('strictgate', dist), nodeBuiltin(), httpParserJs()]
// --compare=label=path[,label=path...]: other builds of strictgate, e.g. a baseline.
for (const spec of args.compare?.split(',') ?? []) {
  const [label, path] = spec.includes('=') ? spec.split('=') : [spec, spec]
  systems.push(strictgate(`strictgate@${label}`, resolve(path)))
}
if (args.systems !== undefined) {
  const keep = args.systems.split(',')
  // `strictgate@` keeps every --compare build.
  systems = systems.filter((s) => keep.some((k) => s.name === k || (k.endsWith('@') && s.name.startsWith(k))))
}
const workloads =
  args.only === undefined ? ALL_WORKLOADS : ALL_WORKLOADS.filter((w) => args.only.split(',').includes(w.name))

const notes = []
const loaded = []
for (const s of systems) {
  const impl = await s.load()
  if (impl === null) {
    const note = `${s.name}: skipped, process.binding('http_parser').HTTPParser is not available in Node ${process.version}`
    notes.push(note)
    console.log(`note: ${note}`)
    continue
  }
  loaded.push({ ...s, impl })
}

// ---------------------------------------------------------------------------------------------
// Sanity: each system parses each workload once and must yield status 200, one complete
// response and exactly the body bytes that were sent.

for (const w of workloads) {
  for (const s of loaded) {
    const run = s.make(s.impl, w)
    run.stats.chunks = []
    run.parseOne()
    const body = Buffer.concat(run.stats.chunks)
    const problems = []
    if (run.stats.status !== 200) problems.push(`status ${run.stats.status}`)
    if (run.stats.complete !== 1) problems.push(`${run.stats.complete} completions`)
    if (!body.equals(w.body)) problems.push(`body of ${body.length} B differs from the ${w.body.length} B sent`)
    if (problems.length > 0) throw new Error(`sanity check failed: ${s.name} on ${w.name}: ${problems.join(', ')}`)
  }
}

// ---------------------------------------------------------------------------------------------
// Measurement.

/** Parse for about `ms`; returns responses per second. Checks the clock once per batch. */
function round(run, w, batch, ms) {
  const { stats } = run
  const before = stats.complete
  const bytesBefore = stats.bodyBytes
  const t0 = performance.now()
  const deadline = t0 + ms
  let n = 0
  let t
  do {
    for (let k = 0; k < batch; k++) run.parseOne()
    n += batch
    t = performance.now()
  } while (t < deadline)
  if (stats.complete - before !== n || stats.bodyBytes - bytesBefore !== n * w.body.length) {
    throw new Error('a round did not complete every response with its whole body')
  }
  return (n * 1000) / (t - t0)
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown CPU'
const date = new Date()
const LOAD_BEFORE = os.loadavg().map((l) => Number(l.toFixed(2)))
console.log(`strictgate parser benchmark  ${date.toISOString()}`)
console.log(
  `node ${process.version} (V8 ${process.versions.v8}), ${os.platform()} ${os.arch()}, ${cpu} x${os.cpus().length}`,
)
console.log(`load average ${LOAD_BEFORE.join(' ')}`)
console.log(`${ROUNDS} rounds x ${ROUND_MS} ms per system and workload, alternating, after one warmup round each\n`)

const results = []
for (const w of workloads) {
  const runs = loaded.map((s) => ({ name: s.name, run: s.make(s.impl, w), batch: 1, rates: [] }))
  // Warmup (also sizes the batch so the clock is read about every millisecond).
  for (const r of runs) {
    const rate = round(r.run, w, 1, ROUND_MS)
    r.batch = Math.max(1, Math.round(rate / 1000))
  }
  for (let i = 0; i < ROUNDS; i++) {
    for (const r of runs) r.rates.push(round(r.run, w, r.batch, ROUND_MS))
  }
  const bySystem = {}
  for (const r of runs) {
    bySystem[r.name] = {
      median: median(r.rates),
      min: Math.min(...r.rates),
      max: Math.max(...r.rates),
      rounds: r.rates,
    }
  }
  // Ratios of medians: each strictgate build against the baselines (and the main build against
  // the --compare builds).
  const ratios = {}
  const ours = loaded.map((s) => s.name).filter((n) => n.startsWith('strictgate'))
  for (const a of ours) {
    for (const b of ['node', 'http-parser-js', ...ours.filter((n) => n !== a && a === 'strictgate')]) {
      if (bySystem[b] !== undefined) ratios[`${a}/${b}`] = bySystem[a].median / bySystem[b].median
    }
  }
  const entry = {
    workload: w.name,
    description: DESCRIPTIONS[w.name](w),
    bytes: w.bytes.length,
    systems: bySystem,
    ratios,
  }
  results.push(entry)
  printWorkload(entry)
}

/** JSON as the repository's formatter (biome) writes it: arrays of numbers on one line when they fit. */
function toJson(value) {
  const text = JSON.stringify(value, null, 2)
  return `${text.replace(/^( *)("[^"]+": )?\[\n([\d.,\n -]+)\n *\]/gm, (all, indent, key = '', items) => {
    const line = `${indent}${key}[${items.trim().split(/,\s*/).join(', ')}]`
    return line.length <= 120 ? line : all
  })}\n`
}

function fmt(n) {
  return Math.round(n).toLocaleString('en-US')
}

function printWorkload(e) {
  console.log(e.description)
  for (const [name, r] of Object.entries(e.systems)) {
    console.log(`  ${name.padEnd(16)} ${fmt(r.median).padStart(11)} resp/s  (min–max ${fmt(r.min)}–${fmt(r.max)})`)
  }
  for (const [name, ratio] of Object.entries(e.ratios)) console.log(`  ${name.padEnd(28)} ${ratio.toFixed(2)}x`)
  console.log('')
}

// ---------------------------------------------------------------------------------------------
// Results: full JSON per run (git-ignored), and a markdown copy of the latest run to commit.

const machine = {
  node: process.version,
  v8: process.versions.v8,
  platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  cpu,
  cpus: os.cpus().length,
  // Other processes on the machine skew every system; alternating rounds only spread the skew.
  loadBefore: LOAD_BEFORE,
  loadAfter: os.loadavg().map((l) => Number(l.toFixed(2))),
}
const outDir = join(here, 'results')
mkdirSync(outDir, { recursive: true })
const stamp = date.toISOString().replace(/:/g, '-').replace(/\..*$/, '')
const jsonPath = join(outDir, `parser-${stamp}.json`)
const report = {
  benchmark: 'parser',
  date: date.toISOString(),
  machine,
  rounds: ROUNDS,
  roundMs: ROUND_MS,
  notes,
  results,
}
writeFileSync(jsonPath, toJson(report))

const systemNames = loaded.map((s) => s.name)
const ratioNames = results.length > 0 ? Object.keys(results[0].ratios) : []
const cell = (r) => (r === undefined ? 'n/a' : `${fmt(r.median)} (${fmt(r.min)}–${fmt(r.max)})`)
const table = [
  ['workload', ...systemNames, ...ratioNames],
  ...results.map((e) => [
    e.description,
    ...systemNames.map((n) => cell(e.systems[n])),
    ...ratioNames.map((n) => `${e.ratios[n].toFixed(2)}x`),
  ]),
]
// Padded as the repository's formatter (biome) writes markdown tables; numbers right-aligned.
const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)))
const pad = (text, c) => (c === 0 ? text.padEnd(widths[c]) : text.padStart(widths[c]))
const row = (cells) => `| ${cells.map(pad).join(' | ')} |`
const rule = `| ${widths.map((w, c) => (c === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`
const md = [
  '# Response parser throughput',
  '',
  `Command: \`npm run bench:parser\` (bench/parser.mjs). Date: ${date.toISOString()}.`,
  `Node ${machine.node} (V8 ${machine.v8}), ${machine.platform}, ${machine.cpu} x${machine.cpus};`,
  `load average ${machine.loadBefore.join(' ')} before, ${machine.loadAfter.join(' ')} after.`,
  `${ROUNDS} alternating rounds of ${ROUND_MS} ms per system and workload after one warmup round;`,
  'responses/s, median (min–max); ratios of the medians.',
  '',
  row(table[0]),
  rule,
  ...table.slice(1).map(row),
  '',
  ...notes.map((n) => `Note: ${n}`),
  'Node and http-parser-js decode every header name and value to strings; strictgate keeps the head as bytes',
  'and decodes only the fields it acts on.',
  '',
]
console.log(`wrote ${jsonPath}`)
// Only a full default run replaces the committed summary.
if (args.only === undefined && args.systems === undefined && args.compare === undefined) {
  const mdPath = join(outDir, 'parser-latest.md')
  writeFileSync(mdPath, md.join('\n'))
  console.log(`wrote ${mdPath}`)
}
