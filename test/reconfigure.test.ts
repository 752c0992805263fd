// gateway.reconfigure(options): upstreams, limits, timeouts and rewriting swapped for new
// exchanges; exchanges in flight finish on what they started with; idle connections to removed
// targets closed; a bad options object throws and changes nothing; and a reload under load
// fails no request.
import http from 'node:http'
import type { Socket } from 'node:net'
import t, { type Test } from 'tap'
import type { GatewayOptions } from '../src/index.js'
import { startGateway, TEST_TIMEOUTS } from './helpers/gateway.js'
import { type HttpUpstream, httpRequest, startHttpUpstream } from './helpers/http-upstream.js'
import { eventually, rawRequest } from './helpers/raw-client.js'
import { leakCheck } from './helpers/resources.js'

/** An upstream that answers its name (and the Via it got), after `delay(path)` ms. */
async function named(t: Test, name: string, delay: (path: string) => number = () => 0) {
  const sockets = new Set<Socket>()
  const up = await startHttpUpstream(t, (req, res) => {
    setTimeout(
      () => {
        res.setHeader('X-Via-Seen', req.headers.via ?? '-')
        res.end(name)
      },
      delay(req.url ?? ''),
    )
  })
  up.server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  return Object.assign(up, { name, open: () => sockets.size })
}

function keepAlive(t: Test): http.Agent {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => agent.destroy())
  return agent
}

/** GET `path` through the gateway: status, body and the local port (same port: same connection). */
async function get(port: number, path = '/', agent?: http.Agent) {
  const res = await httpRequest({ port, path, agent: agent ?? false })
  return { status: res.status, body: res.body.toString(), localPort: res.localPort, headers: res.headers }
}

const base = (up: HttpUpstream | string): GatewayOptions => ({
  upstream: typeof up === 'string' ? up : up.url,
  timeouts: TEST_TIMEOUTS,
})

t.test('upstreams: new exchanges go to the new targets, on a kept client connection too', async (t) => {
  const a = await named(t, 'a')
  const b = await named(t, 'b')
  const g = await startGateway(t, a.url)
  const agent = keepAlive(t)
  const first = await get(g.port, '/', agent)
  t.equal(first.body, 'a')
  g.gateway.reconfigure(base(b))
  const second = await get(g.port, '/', agent)
  t.same([second.body, second.localPort], ['b', first.localPort], 'the same client connection, the new upstream')
  t.same(
    g.gateway.stats().targets.map((x) => x.url),
    [b.url],
    'stats() lists the new targets',
  )
  g.gateway.reconfigure({ ...base(a), upstream: [a.url, b.url] })
  const seen = new Set<string>()
  for (let i = 0; i < 4; i++) seen.add((await get(g.port, '/', agent)).body)
  t.same([...seen].sort(), ['a', 'b'], 'both targets of the new list are balanced')
})

t.test('limits: the next request of a kept connection, and embedded heads, are held to the new ones', async (t) => {
  const a = await named(t, 'a')
  const g = await startGateway(t, a.url)
  const agent = keepAlive(t)
  const long = `/${'x'.repeat(60)}`
  t.equal((await get(g.port, long, agent)).status, 200)
  g.gateway.reconfigure({ ...base(a), limits: { maxUrlBytes: 32 } })
  t.equal((await get(g.port, long, agent)).status, 414, 'a kept connection: 414 now')
  t.equal((await get(g.port, long)).status, 414, 'a new connection: 414')
  t.equal((await get(g.port, '/short')).status, 200)
  // Embedded: proxy() checks the head it forwards against the limits of now.
  const server = http.createServer((req, res) => void g.gateway.proxy(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const port = (server.address() as { port: number }).port
  t.equal((await get(port, long)).status, 414, 'embedded: 414')
  g.gateway.reconfigure(base(a))
  t.equal((await get(port, long)).status, 200, 'embedded: the limit lifted again')
  t.equal((await get(g.port, long, agent)).status, 200, 'gateway mode: lifted again')
})

t.test('timeouts, and in-flight exchanges finish on what they started with', async (t) => {
  let release: (() => void) | null = null
  const slow = await startHttpUpstream(t, (req, res) => {
    if (req.url === '/held') release = () => res.end('held')
    else setTimeout(() => res.end('slow'), 400)
  })
  const g = await startGateway(t, slow.url)
  const held = get(g.port, '/held')
  await eventually(() => release !== null, 'the held request to reach the upstream')
  g.gateway.reconfigure({ ...base(slow), timeouts: { ...TEST_TIMEOUTS, response: 100 } })
  const timedOut = await get(g.port, '/slow')
  t.equal(timedOut.status, 504, 'a new exchange: the new response timeout')
  t.match(timedOut.headers['proxy-status'], /UPSTREAM_RESPONSE_TIMEOUT/)
  // The held exchange started with timeouts.response 8 s: well past the new 100 ms, it stands.
  await new Promise((resolve) => setTimeout(resolve, 300))
  ;(release as unknown as () => void)()
  const done = await held
  t.same([done.status, done.body], [200, 'held'], 'the exchange in flight finished on its configuration')
})

t.test('rewriting and Via swapped', async (t) => {
  const a = await named(t, 'a')
  const g = await startGateway(t, a.url)
  const before = await get(g.port)
  t.equal(before.headers['x-via-seen'], '1.1 strictgate')
  t.equal(before.headers['x-extra'], undefined)
  g.gateway.reconfigure({
    ...base(a),
    via: '1.1 edge',
    onResponse: () => ({ headers: { 'X-Extra': 'yes' } }),
    route: () => ({ path: '/rewritten' }),
  })
  const after = await get(g.port)
  t.equal(after.headers['x-via-seen'], '1.1 edge', 'the new Via upstream')
  t.equal(after.headers.via, '1.1 edge', 'and to the client')
  t.equal(after.headers['x-extra'], 'yes', 'the new onResponse')
})

t.test('idle connections to removed targets are closed; kept targets keep theirs', async (t) => {
  const a = await named(t, 'a')
  const b = await named(t, 'b')
  const g = await startGateway(t, [a.url, b.url])
  await get(g.port)
  await get(g.port)
  await eventually(() => a.open() === 1 && b.open() === 1, 'one pooled connection to each')
  // Described the same way: a keeps its pool (same connection), whatever else changed.
  g.gateway.reconfigure({ ...base(a), upstream: [a.url], via: '1.1 other' })
  await eventually(() => b.open() === 0, "b's idle connection to be closed")
  t.equal(a.open(), 1, "a's connection stays")
  t.equal((await get(g.port)).body, 'a')
  t.equal(a.connections, 1, 'and is reused: no new connection to a')
  t.equal(g.gateway.stats().upstream.idle, 1)
})

t.test('a bad options object throws a TypeError naming the option and changes nothing', async (t) => {
  const a = await named(t, 'a')
  const b = await named(t, 'b')
  const g = await startGateway(t, a.url)
  const bad: [unknown, RegExp][] = [
    [{ upstream: 'ftp://127.0.0.1:1' }, /option "upstream"/],
    [{ upstream: b.url, timeouts: { connect: -1 } }, /option "timeouts.connect"/],
    [{ upstream: b.url, limits: { maxUrlBytes: 'x' } }, /option "limits.maxUrlBytes"/],
    [{ upstream: b.url, health: { check: { path: 'nope' } } }, /option "health.check.path"/],
    [{ upstream: b.url, bogus: 1 }, /option "options.bogus"/],
    [null, /option "options"/],
  ]
  for (const [options, message] of bad) {
    t.throws(() => g.gateway.reconfigure(options as GatewayOptions), { name: 'TypeError', message }, String(message))
  }
  t.equal((await get(g.port)).body, 'a', 'still the old upstream')
  t.same(
    g.gateway.stats().targets.map((x) => x.url),
    [a.url],
  )
  await g.gateway.close()
  t.throws(() => g.gateway.reconfigure(base(b)), /closed/, 'after close(): refused')
})

t.test('a reload under load: reconfigure() again and again, no request fails', async (t) => {
  const a = await named(t, 'a')
  const b = await named(t, 'b')
  const g = await startGateway(t, a.url)
  const configs: GatewayOptions[] = [
    base(a),
    base(b),
    { ...base(a), upstream: [a.url, b.url] },
    { ...base(a), upstream: [a.url, b.url], balance: 'least-connections', via: '1.1 reloaded' },
    { ...base(b), timeouts: { ...TEST_TIMEOUTS, keepAlive: 1_000 }, pool: { maxIdle: 2 } },
    { ...base(a), limits: { maxHeaderCount: 50 }, xForwarded: true },
  ]
  const CLIENTS = 4
  const PER_CLIENT = 150
  const statuses = new Map<number, number>()
  const bodies = new Set<string>()
  const failures: string[] = []
  let reloads = 0
  let running = true
  const reloader = (async () => {
    while (running) {
      g.gateway.reconfigure(configs[reloads++ % configs.length])
      await new Promise((resolve) => setImmediate(resolve))
    }
  })()
  const clients = Array.from({ length: CLIENTS }, async () => {
    const agent = keepAlive(t)
    for (let i = 0; i < PER_CLIENT; i++) {
      try {
        const res = await get(g.port, `/r${i}`, agent)
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
        bodies.add(res.body)
      } catch (err) {
        failures.push(String(err))
      }
    }
  })
  await Promise.all(clients)
  running = false
  await reloader
  t.same(failures, [], 'no request failed at the client')
  t.same([...statuses], [[200, CLIENTS * PER_CLIENT]], 'every response a 200')
  t.same([...bodies].sort(), ['a', 'b'], 'both upstreams answered')
  t.same(g.errors, [], 'the gateway reported no failure')
  t.ok(reloads >= 50, `${reloads} reconfigures during ${CLIENTS * PER_CLIENT} requests`)
})

leakCheck(t)
