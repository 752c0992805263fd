// Several upstreams (issue 7): balancing, next-upstream on failure, passive health, Unix-socket
// and TLS targets, per-target stats. Real servers on 127.0.0.1 (and a Unix socket) only.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createGateway } from '../../src/index.js'
import { startGateway } from '../helpers/gateway.js'
import { readBody, refusedPort, startHttpUpstream } from '../helpers/http-upstream.js'
import { leakCheck } from '../helpers/resources.js'

/** An upstream that answers with its own name and counts requests. */
async function named(t: Parameters<typeof startHttpUpstream>[0], name: string) {
  const seen: string[] = []
  const up = await startHttpUpstream(t, async (req, res) => {
    const body = await readBody(req)
    seen.push(`${req.method} ${req.url} ${body.length}`)
    res.end(name)
  })
  return Object.assign(up, { seen })
}

/** Accepts connections and resets each one as soon as request bytes arrive (before any response byte). */
async function resetting(t: Parameters<typeof startHttpUpstream>[0]) {
  const state = { connections: 0, server: net.createServer(), url: '' }
  state.server.on('connection', (socket) => {
    state.connections++
    socket.on('error', () => {})
    socket.once('data', () => setTimeout(() => socket.resetAndDestroy(), 5))
  })
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => state.server.close(() => resolve())))
  state.url = `http://127.0.0.1:${(state.server.address() as net.AddressInfo).port}`
  return state
}

async function get(port: number, path = '/', method = 'GET', body?: string) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, body })
  return { status: res.status, text: await res.text(), proxyStatus: res.headers.get('proxy-status') }
}

t.test('weighted round-robin spreads requests by weight, evenly interleaved', async (t) => {
  const a = await named(t, 'a')
  const b = await named(t, 'b')
  const g = await startGateway(t, [{ url: a.url, weight: 2 }, b.url])
  const order: string[] = []
  for (let i = 0; i < 9; i++) order.push((await get(g.port)).text)
  t.same(order.join(''), 'abaabaaba', 'smooth weighted round-robin: 2:1')
  t.same(
    g.gateway.stats().targets.map((x) => [x.url, x.requests, x.up]),
    [
      [a.url, 6, true],
      [b.url, 3, true],
    ],
  )
})

t.test('least-connections and power-of-two-choices serve from every target', async (t) => {
  for (const balance of ['least-connections', 'power-of-two-choices'] as const) {
    const a = await named(t, 'a')
    const b = await named(t, 'b')
    const g = await startGateway(t, [a.url, b.url], { balance })
    const answers = await Promise.all(Array.from({ length: 20 }, () => get(g.port)))
    t.ok(
      answers.every((r) => r.status === 200 && (r.text === 'a' || r.text === 'b')),
      `${balance}: all answered`,
    )
    t.equal(a.seen.length + b.seen.length, 20, `${balance}: 20 requests reached the targets`)
    t.ok(a.seen.length > 0 && b.seen.length > 0, `${balance}: both targets used (${a.seen.length}/${b.seen.length})`)
  }
})

t.test('a connect failure moves any request, POST included, to the next target', async (t) => {
  const good = await named(t, 'good')
  const dead = `http://127.0.0.1:${await refusedPort()}`
  const g = await startGateway(t, [dead, good.url], { health: { maxFails: 100 } })
  for (let i = 0; i < 4; i++) {
    t.same(await get(g.port, '/p', 'POST', 'body'), { status: 200, text: 'good', proxyStatus: null })
  }
  t.same(good.seen, Array(4).fill('POST /p 4'))
  t.equal(g.gateway.stats().targets[0].failures, 2, 'the dead target was tried on its round-robin turns')
})

t.test('after request bytes were sent, only an idempotent request without body moves on', async (t) => {
  const good = await named(t, 'good')
  const bad = await resetting(t)
  const g = await startGateway(t, [bad.url, good.url], { health: { maxFails: 100 } })
  // Round-robin starts with the resetting target for the first request.
  const post = await get(g.port, '/p', 'POST', 'x')
  t.equal(post.status, 502, 'POST: no retry once its bytes reached a target')
  t.match(post.proxyStatus, /details="UPSTREAM_CLOSED"/)
  t.same(good.seen, [], 'the POST never reached the other target')
  // The next round-robin turn goes to the good target; then the resetting one again, for a GET.
  t.equal((await get(g.port)).text, 'good')
  const retried = await get(g.port, '/g')
  t.same([retried.status, retried.text], [200, 'good'], 'GET: moved to the next target')
  t.same(good.seen, ['GET / 0', 'GET /g 0'])
  t.equal(bad.connections, 2)
})

t.test('passive health: down after maxFails, skipped, then one trial after failTimeout', async (t) => {
  const good = await named(t, 'good')
  const bad = await resetting(t)
  const g = await startGateway(t, [bad.url, good.url], { health: { maxFails: 2, failWindow: 5_000, failTimeout: 300 } })
  for (let i = 0; i < 4; i++) t.equal((await get(g.port)).text, 'good')
  t.equal(bad.connections, 2, 'two failures, then marked down')
  t.equal(g.gateway.stats().targets[0].up, false)
  for (let i = 0; i < 4; i++) t.equal((await get(g.port)).text, 'good')
  t.equal(bad.connections, 2, 'a down target is skipped')
  await new Promise((resolve) => setTimeout(resolve, 350))
  for (let i = 0; i < 3; i++) t.equal((await get(g.port)).text, 'good')
  t.equal(bad.connections, 3, 'after failTimeout: one trial request, which failed again')
  t.equal(g.gateway.stats().targets[0].up, false, 'down again after a failed trial')
})

t.test('recovery: a target that answers again after failTimeout is up again', async (t) => {
  const good = await named(t, 'good')
  let healthy = false
  const flaky = await startHttpUpstream(t, (_req, res) => {
    if (healthy) res.end('flaky')
    else res.socket?.resetAndDestroy()
  })
  const g = await startGateway(t, [flaky.url, good.url], { health: { maxFails: 1, failTimeout: 200 } })
  t.equal((await get(g.port)).text, 'good', 'first request: flaky resets, moved to good')
  t.equal(g.gateway.stats().targets[0].up, false)
  healthy = true
  await new Promise((resolve) => setTimeout(resolve, 250))
  const texts = new Set<string>()
  for (let i = 0; i < 4; i++) texts.add((await get(g.port)).text)
  t.same([...texts].sort(), ['flaky', 'good'])
  t.equal(g.gateway.stats().targets[0].up, true)
})

t.test('all targets down: 502 destination_unavailable', async (t) => {
  const a = await resetting(t)
  const b = await resetting(t)
  const g = await startGateway(t, [a.url, b.url], { health: { maxFails: 1, failTimeout: 10_000 } })
  const first = await get(g.port)
  t.equal(first.status, 502)
  const next = await get(g.port)
  t.equal(next.status, 502)
  t.equal(next.proxyStatus, 'strictgate; error=destination_unavailable; details="UPSTREAM_UNAVAILABLE"')
  t.equal(a.connections + b.connections, 2, 'no connection attempt while all are down')
})

t.test('a Unix-socket upstream', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'strictgate-unix-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'upstream.sock')
  const server = http.createServer((req, res) => res.end(`unix ${req.headers.host}`))
  await new Promise<void>((resolve) => server.listen(path, resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const g = await startGateway(t, `unix:${path}`)
  t.same(await get(g.port), { status: 200, text: `unix 127.0.0.1:${g.port}`, proxyStatus: null })
})

let openssl = true
try {
  execFileSync('openssl', ['version'], { stdio: 'ignore' })
} catch {
  openssl = false
}
t.test('TLS upstreams with a private CA', { skip: openssl ? false : 'openssl is not on PATH' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'strictgate-tls-up-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const f = (name: string) => join(dir, name)
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore', cwd: dir })
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=strictgate test CA',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
  ])
  run([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    f('server.key'),
    '-out',
    f('server.csr'),
  ])
  // The server certificate names localhost (RFC 6125: names are matched on subjectAltName).
  writeFileSync(f('ext.cnf'), 'subjectAltName=DNS:localhost\n')
  run([
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    f('ext.cnf'),
    '-out',
    f('server.pem'),
  ])
  const ca = readFileSync(f('ca.pem'), 'utf8')
  let sni: string | undefined
  const server = https.createServer(
    { key: readFileSync(f('server.key')), cert: readFileSync(f('server.pem')) },
    (req, res) => {
      sni = (req.socket as import('node:tls').TLSSocket).servername || undefined
      res.end('secure')
    },
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const port = (server.address() as net.AddressInfo).port
  const plain = await named(t, 'plain')

  const trusted = await startGateway(t, `https://localhost:${port}`, { tls: { ca } })
  t.same(await get(trusted.port), { status: 200, text: 'secure', proxyStatus: null })
  t.equal(sni, 'localhost', 'SNI from the target host')

  const untrusted = await startGateway(t, `https://localhost:${port}`)
  const refused = await get(untrusted.port)
  t.equal(refused.status, 502, 'rejectUnauthorized is on by default')
  t.equal(refused.proxyStatus, 'strictgate; error=tls_certificate_error; details="UPSTREAM_TLS_CERTIFICATE_ERROR"')

  const perTarget = await startGateway(t, [{ url: `https://localhost:${port}`, tls: { ca } }], { tls: {} })
  t.equal((await get(perTarget.port)).text, 'secure', "a target's own tls settings override the gateway's")

  const wrongProtocol = await startGateway(t, `https://localhost:${plain.port}`, { tls: { ca } })
  const garbled = await get(wrongProtocol.port)
  t.equal(garbled.status, 502)
  t.equal(garbled.proxyStatus, 'strictgate; error=tls_protocol_error; details="UPSTREAM_TLS_ERROR"')
})

t.test('route: a per-request choice among the configured targets, validated', async (t) => {
  const a = await named(t, 'a')
  const b = await named(t, 'b')
  const g = await startGateway(t, [a.url, b.url], {
    route(request) {
      if (request.target.startsWith('/a/')) return a.url
      if (request.target.startsWith('/b/')) return [b.url]
      if (request.target === '/unknown') return 'http://127.0.0.1:1'
      if (request.target === '/throws') throw new Error('no route')
      return undefined
    },
  })
  for (let i = 0; i < 3; i++) t.equal((await get(g.port, '/a/x')).text, 'a')
  for (let i = 0; i < 3; i++) t.equal((await get(g.port, '/b/x')).text, 'b')
  const both = new Set([(await get(g.port, '/c')).text, (await get(g.port, '/c')).text])
  t.same([...both].sort(), ['a', 'b'], 'undefined: balanced over all targets')
  for (const path of ['/unknown', '/throws']) {
    const r = await get(g.port, path)
    t.equal(r.status, 502, `${path}: 502`)
    t.equal(r.proxyStatus, 'strictgate; error=proxy_internal_error; details="GATEWAY_INTERNAL_ERROR"')
  }
  t.same(
    g.codes().filter((c) => c === 'GATEWAY_INTERNAL_ERROR'),
    ['GATEWAY_INTERNAL_ERROR', 'GATEWAY_INTERNAL_ERROR'],
  )
  t.throws(() => createGateway({ upstream: a.url, route: 'a' as never }), /option "route" must be a function/)
})

t.test('option validation for upstream lists', async (t) => {
  t.throws(() => createGateway({ upstream: [] }), {
    name: 'TypeError',
    message: /"upstream" must name at least one target/,
  })
  t.throws(() => createGateway({ upstream: [{ url: 'http://127.0.0.1:1', weight: 0 }] }), /"upstream\[0\]\.weight"/)
  t.throws(() => createGateway({ upstream: 'unix:relative.sock' }), /absolute path/)
  t.throws(() => createGateway({ upstream: 'http://127.0.0.1:1', balance: 'random' as never }), /"balance"/)
  t.throws(() => createGateway({ upstream: 'http://127.0.0.1:1', retries: -1 }), /"retries"/)
  t.throws(
    () => createGateway({ upstream: 'https://127.0.0.1:1', tls: { rejectUnauthorized: 'no' as never } }),
    /"tls.rejectUnauthorized"/,
  )
})

leakCheck(t)
