// Several upstreams (issue 7): balancing, next-upstream on failure, passive health, Unix-socket
// and TLS targets, per-target stats. Real servers on 127.0.0.1 (and a Unix socket) only.
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import t, { type Test } from 'tap'
import { createGateway } from '../../src/index.js'
import { type Target, Targets } from '../../src/io/targets.js'
import type { UpstreamConnection, UpstreamUser } from '../../src/io/upstream-connection.js'
import { type Balance, resolveOptions } from '../../src/options.js'
import { startGateway } from '../helpers/gateway.js'
import { readBody, startHttpUpstream } from '../helpers/http-upstream.js'
import { refusedPort } from '../helpers/ports.js'
import { leakCheck } from '../helpers/resources.js'
import { numRuns } from '../helpers/runs.js'
import { awaitClose, ScriptedUpstream } from '../helpers/scripted-upstream.js'
import { needsOpenssl, privateCa } from '../helpers/tls-certs.js'

const NUM_RUNS = numRuns(100)
/** A draw of a random source: [0, 1). */
const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })

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

// Both send a request to the target with fewer requests in flight when there are two (power-of-
// two-choices compares the only two there are); round-robin would alternate.
for (const balance of ['least-connections', 'power-of-two-choices'] as const) {
  t.test(`${balance}: while one target holds a request, the others go to the other target`, async (t) => {
    let release = () => {}
    let arrived = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const holding = new Promise<void>((resolve) => {
      arrived = resolve
    })
    const target = async (name: string) => {
      const seen: string[] = []
      const up = await startHttpUpstream(t, async (req, res) => {
        seen.push(req.url ?? '')
        if (req.url === '/hold') {
          arrived()
          await held
        }
        res.end(name)
      })
      return Object.assign(up, { seen })
    }
    const a = await target('a')
    const b = await target('b')
    const g = await startGateway(t, [a.url, b.url], { balance })
    const first = get(g.port, '/hold')
    await holding
    const [busy, free] = a.seen.includes('/hold') ? ['a', 'b'] : ['b', 'a']
    const answers: string[] = []
    for (let i = 0; i < 6; i++) answers.push((await get(g.port)).text)
    t.same(
      answers,
      Array(6).fill(free),
      `all six went to ${free}, which had none in flight (round-robin would alternate)`,
    )
    release()
    t.equal((await first).text, busy, 'the held request is answered')
  })
}

// The choice itself, on a Targets made here: each target gets a set number of requests in
// flight (one connection to a real upstream that never answers, the rest waiting for it:
// pool.maxSockets 1), so that `active` is exactly that number.

/** A user of a pooled connection that only records it (no exchange runs on it). */
function holder(conns: UpstreamConnection[], connected: () => void): UpstreamUser {
  return {
    onUpstreamConnect(conn) {
      conns.push(conn)
      connected()
    },
    onUpstreamConnectError() {},
    onUpstreamData: () => false,
    onUpstreamEnd() {},
    onUpstreamClose() {},
    onUpstreamDrain() {},
    onUpstreamTimeout() {},
    onUpstreamResponseTimeout() {},
  }
}

async function loaded(t: Test, balance: Balance, load: readonly number[], random?: () => number): Promise<Targets> {
  const servers = await Promise.all(load.map(() => ScriptedUpstream.start(t, { script: [awaitClose()] })))
  const options = resolveOptions({ upstream: servers.map((s) => s.url), balance, pool: { maxSockets: 1 } })
  const upstreams = new Targets(options, undefined, random)
  const conns: UpstreamConnection[] = []
  const users: [Target, UpstreamUser][] = []
  const wanted = load.filter((n) => n > 0).length
  await new Promise<void>((resolve) => {
    const connected = () => {
      if (conns.length === wanted) resolve()
    }
    upstreams.targets.forEach((target, i) => {
      for (let k = 0; k < load[i]; k++) {
        const user = holder(conns, connected)
        users.push([target, user])
        target.pool.acquire(user)
      }
    })
    connected()
  })
  t.teardown(() => {
    // The waiting ones first: a closed connection would otherwise be handed on to them.
    for (const [target, user] of users) target.pool.cancel(user)
    for (const conn of conns) conn.destroy()
    upstreams.close()
  })
  t.same(
    upstreams.targets.map((x) => x.active),
    load,
    'requests in flight per target, as set up',
  )
  return upstreams
}

const LOAD = [2, 1, 0, 3]
const indexOf = (upstreams: Targets, target: Target | null) => upstreams.targets.indexOf(target as Target)

t.test('least-connections picks the target with the fewest requests in flight', async (t) => {
  const upstreams = await loaded(t, 'least-connections', LOAD)
  const picks = Array.from({ length: 8 }, () => indexOf(upstreams, upstreams.pick(null)))
  t.same(picks, Array(8).fill(2), 'always the idle target')
})

t.test('power-of-two-choices: the less busy of two targets drawn at random', async (t) => {
  // The draws: a random source that returns these, in order.
  const fixed = (draws: number[]) => () => {
    const next = draws.shift()
    if (next === undefined) throw new Error('more random draws than given')
    return next
  }
  // Draws 0.1 and 0.1: first the target at 0 of 4 (load 2), then the one at 0 of the 3 others (load 1).
  const example = await loaded(t, 'power-of-two-choices', LOAD, fixed([0.1, 0.1]))
  t.equal(
    indexOf(example, example.pick(null)),
    1,
    'between loads 2 and 1 it takes the 1, though another target is idle (least-connections would not)',
  )
  // Any draws (fast-check, so that a failure replays from its seed).
  const draws: number[] = []
  const upstreams = await loaded(t, 'power-of-two-choices', LOAD, fixed(draws))
  fc.assert(
    fc.property(fc.array(fc.tuple(unit, unit), { minLength: 1, maxLength: 20 }), (pairs) => {
      for (const [d1, d2] of pairs) {
        // The two targets the draws name: uniform over the four, then over the three others.
        const first = Math.floor(d1 * LOAD.length)
        let second = Math.floor(d2 * (LOAD.length - 1))
        if (second >= first) second++
        draws.push(d1, d2)
        const picked = indexOf(upstreams, upstreams.pick(null))
        const want = LOAD[first] <= LOAD[second] ? first : second
        if (picked !== want || draws.length !== 0) return false
      }
      return true
    }),
    { numRuns: NUM_RUNS },
  )
  t.pass(`${NUM_RUNS} runs: each pick is the less busy of the two drawn (the first on a tie), two draws a pick`)
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

t.test('TLS upstreams with a private CA', { skip: needsOpenssl }, async (t) => {
  const { ca, key, cert } = privateCa()
  let sni: string | undefined
  const server = https.createServer({ key, cert }, (req, res) => {
    sni = (req.socket as import('node:tls').TLSSocket).servername || undefined
    res.end('secure')
  })
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
