// npm run soak -- --seconds N [--concurrency C]
// Mixed valid and invalid upstream responses and client behaviours through one gateway process
// for N seconds. Prints requests, each outcome's count, RSS / handles / fds at start and end.
// Exits non-zero on a crash, an unexpected outcome, or growth that does not level off.
import { fork } from 'node:child_process'
import http from 'node:http'
import net from 'node:net'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '32' },
    idle: { type: 'string', default: '10' },
  },
})
const seconds = Number(values.seconds)
const concurrency = Number(values.concurrency)
const idleSeconds = Number(values.idle)
if (!(seconds > 0) || !(concurrency > 0)) {
  console.error('usage: npm run soak -- --seconds N [--concurrency C] [--idle S]')
  process.exit(2)
}

const child = fork(new URL('./gateway.mjs', import.meta.url), [], {
  execArgv: ['--expose-gc'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
})
let crashed = null
child.on('exit', (code, signal) => {
  if (code !== 0) crashed = `gateway process exited with ${code ?? signal}`
})
const waitMessage = (key) =>
  new Promise((resolve, reject) => {
    const onMessage = (m) => {
      if (key in m) {
        child.off('message', onMessage)
        resolve(m)
      }
    }
    child.on('message', onMessage)
    child.once('exit', () => reject(new Error(crashed ?? 'gateway process exited')))
  })
const { port, stats: boot } = await waitMessage('port')
const base = `http://127.0.0.1:${port}`
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })

/** GET through a keep-alive agent: resolves to status, headers and body, or 'aborted'. */
function get(path) {
  return new Promise((resolve) => {
    const req = http.get(`${base}${path}`, { agent }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', () => resolve('aborted'))
      res.on('aborted', () => resolve('aborted'))
    })
    req.on('error', () => resolve('aborted'))
    req.setTimeout(10_000, () => req.destroy())
  })
}

/** A raw client exchange: write `bytes`, collect until close; optionally destroy after the first data. */
function raw(bytes, { abortOnData = false } = {}) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes))
    const chunks = []
    s.on('data', (c) => {
      chunks.push(c)
      if (abortOnData) s.destroy()
    })
    s.on('error', () => {})
    s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')))
    s.setTimeout(10_000, () => s.destroy())
  })
}

const proxyStatus = (code) => (r) =>
  r !== 'aborted' && r.status === 502 && r.headers['proxy-status']?.includes(`details="${code}"`)
const SCENARIOS = [
  [
    'hello',
    5,
    () => get('/hello'),
    (r) => r !== 'aborted' && r.status === 200 && r.body.toString() === 'Hello from the strictgate demo upstream!\n',
  ],
  [
    'chunked',
    3,
    () => get('/chunked'),
    (r) => r !== 'aborted' && r.status === 200 && r.body.toString() === 'chunked response\n',
  ],
  ['large', 1, () => get('/large'), (r) => r !== 'aborted' && r.status === 200 && r.body.length === 1_048_576],
  ['status-code', 1, () => get('/broken/status-code'), proxyStatus('UPSTREAM_INVALID_STATUS_CODE')],
  ['obs-fold', 1, () => get('/broken/obs-fold'), proxyStatus('UPSTREAM_INVALID_HEADER')],
  ['cl+te', 1, () => get('/broken/content-length-and-chunked'), proxyStatus('UPSTREAM_INVALID_FRAMING')],
  ['dup-cl', 1, () => get('/broken/duplicate-content-length'), proxyStatus('UPSTREAM_INVALID_CONTENT_LENGTH')],
  ['close-before-head', 1, () => get('/broken/close-before-head'), proxyStatus('UPSTREAM_CLOSED')],
  ['truncated', 1, () => get('/broken/truncated-body'), (r) => r === 'aborted'],
  ['bad-chunk', 1, () => get('/broken/bad-chunk'), (r) => r === 'aborted'],
  [
    'client-abort',
    1,
    () => raw('GET /large HTTP/1.1\r\nHost: soak\r\n\r\n', { abortOnData: true }),
    (r) => r.startsWith('HTTP/1.1 200'),
  ],
  [
    'pipelined',
    1,
    () =>
      raw(
        'GET /hello HTTP/1.1\r\nHost: soak\r\n\r\nGET /chunked HTTP/1.1\r\nHost: soak\r\n\r\nGET /hello HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n',
      ),
    (r) => r.split('HTTP/1.1 200 OK').length === 4 && r.endsWith('Hello from the strictgate demo upstream!\n'),
  ],
  [
    'smuggling',
    1,
    () => raw('POST /hello HTTP/1.1\r\nHost: soak\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'),
    (r) => r.startsWith('HTTP/1.1 400 Bad Request') && r.includes('Connection: close'),
  ],
]
const plan = SCENARIOS.flatMap((s) => Array.from({ length: s[1] }, () => s))

const counts = Object.fromEntries(SCENARIOS.map(([name]) => [name, { ok: 0, unexpected: 0 }]))
const samples = []
let requests = 0
let next = 0
const deadline = Date.now() + seconds * 1000
const sampler = setInterval(() => child.send('stats'), 2_000)
child.on('message', (m) => {
  if (m.stats !== undefined) samples.push({ t: Date.now(), ...m.stats })
})

async function worker() {
  while (Date.now() < deadline && crashed === null) {
    const [name, , run, check] = plan[next++ % plan.length]
    const result = await run()
    requests++
    if (check(result)) counts[name].ok++
    else {
      counts[name].unexpected++
      if (counts[name].unexpected <= 3)
        console.error(
          `unexpected outcome for ${name}:`,
          typeof result === 'string' ? result.slice(0, 200) : { status: result.status, headers: result.headers },
        )
    }
  }
}

const progress = setInterval(() => {
  const last = samples.at(-1)
  console.log(
    `${Math.round((deadline - Date.now()) / 1000)} s left: ${requests} requests, rss ${last ? (last.rss / 2 ** 20).toFixed(1) : '?'} MiB`,
  )
}, 10_000)
await Promise.all(Array.from({ length: concurrency }, worker))
clearInterval(sampler)
clearInterval(progress)
agent.destroy()
// Let keep-alive connections time out and the gateway sit idle, then measure it.
const idleSamples = []
for (let s = 0; s < idleSeconds; s += 5) {
  await new Promise((r) => setTimeout(r, Math.min(5, idleSeconds - s) * 1000))
  child.send('stats')
  idleSamples.push((await waitMessage('stats')).stats.rss)
}
child.send('gc')
const { stats: idle } = await waitMessage('stats')
child.send('stop')
const { stopped } = await waitMessage('stopped')

const mib = (n) => `${(n / 2 ** 20).toFixed(1)} MiB`
console.log(
  `\nsoak: ${seconds} s, concurrency ${concurrency}, ${requests} requests (${(requests / seconds).toFixed(0)}/s)`,
)
console.table(counts)
console.log('gateway onError codes:', stopped.codes)
const mid = samples[Math.floor(samples.length / 2)] ?? idle
const peak = samples.reduce((m, s) => Math.max(m, s.rss), 0)
console.log(
  `rss: start ${mib(boot.rss)}, middle ${mib(mid.rss)}, peak ${mib(peak)}, end (idle, after gc) ${mib(idle.rss)}`,
)
if (idleSamples.length > 0) console.log(`rss while idle, every 5 s before gc: ${idleSamples.map(mib).join(', ')}`)
console.log(
  `heap used: start ${mib(boot.heapUsed)}, end ${mib(idle.heapUsed)}; heap total: start ${mib(boot.heapTotal)}, end ${mib(idle.heapTotal)}; ` +
    `external: start ${mib(boot.external)}, end ${mib(idle.external)} (array buffers ${mib(boot.arrayBuffers)} → ${mib(idle.arrayBuffers)})`,
)
console.log(
  `handles: start ${boot.handles}, end ${idle.handles}; fds: start ${boot.fds}, end ${idle.fds}; upstream pool at end: ${JSON.stringify(idle.gateway)}`,
)

const problems = []
if (crashed !== null) problems.push(crashed)
for (const [name, c] of Object.entries(counts))
  if (c.unexpected > 0) problems.push(`${c.unexpected} unexpected outcomes for ${name}`)
if (idle.fds > boot.fds + 4) problems.push(`file descriptors grew from ${boot.fds} to ${idle.fds}`)
if (idle.handles > boot.handles + 4) problems.push(`handles grew from ${boot.handles} to ${idle.handles}`)
// What the gateway holds must come back when the load ends: the JS heap and the external
// (ArrayBuffer) memory after GC within 8 MiB of where they started. RSS is reported, not bounded:
// glibc keeps freed memory (see README, "Memory when idle").
const SLACK = 8 * 2 ** 20
if (idle.heapUsed > boot.heapUsed + SLACK) problems.push(`JS heap held: ${mib(boot.heapUsed)} → ${mib(idle.heapUsed)}`)
if (idle.external > boot.external + SLACK)
  problems.push(`external memory held: ${mib(boot.external)} → ${mib(idle.external)}`)
// Growth that levels off: the second half of the run may not add more than half of what the first did (+16 MiB slack).
const last = samples.at(-1) ?? idle
if (samples.length >= 4 && last.rss - mid.rss > Math.max(0, mid.rss - boot.rss) / 2 + 16 * 2 ** 20) {
  problems.push(`rss still growing: ${mib(boot.rss)} → ${mib(mid.rss)} → ${mib(last.rss)}`)
}
if (problems.length > 0) {
  console.error(`\nFAIL:\n- ${problems.join('\n- ')}`)
  process.exit(1)
}
console.log('\nPASS')
