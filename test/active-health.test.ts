// Active health checks through the gateway (health.check): a target whose probe fails (a status
// outside expectStatus, a response our parser refuses, no answer) is marked down and gets no
// request until a probe succeeds; a single target too (then 502 UPSTREAM_UNAVAILABLE). Passive
// health keeps working beside it. Changes are published on strictgate:health; reconfigure()
// hands the checker the new targets; close() stops it (the leak check sees no timer left).
import net from 'node:net'
import t, { type Test } from 'tap'
import { createGateway, type GatewayOptions, type HealthMessage } from '../src/index.js'
import { collect } from './helpers/channels.js'
import { startGateway } from './helpers/gateway.js'
import { startHttpUpstream } from './helpers/http-upstream.js'
import { family, parseExposition, value } from './helpers/prometheus.js'
import { eventually, rawRequest } from './helpers/raw-client.js'
import { leakCheck } from './helpers/resources.js'

const CHECK = { path: '/health', interval: 40, timeout: 2_000 }

/** An upstream answering its name; /health answers `health()` (a status) and counts probes. */
async function target(t: Test, name: string, health: () => number = () => 200) {
  let probes = 0
  const up = await startHttpUpstream(t, (req, res) => {
    if (req.url === CHECK.path) {
      probes++
      res.statusCode = health()
      res.end()
      return
    }
    res.end(name)
  })
  return Object.assign(up, { name, probes: () => probes })
}

async function body(port: number, path = '/'): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`)
  return `${res.status} ${await res.text()}`
}

t.test('a failing probe marks a target down; a success brings it back', async (t) => {
  let bHealth = 503
  const a = await target(t, 'a')
  const b = await target(t, 'b', () => bHealth)
  const health = collect<HealthMessage>(t, 'strictgate:health')
  const g = await startGateway(t, [a.url, b.url], { health: { check: CHECK } })
  const [down] = await health.wait(1, 'b marked down')
  t.same([down.target, down.up], [b.url, false])
  t.match(down.reason, /UNEXPECTED_STATUS: status 503/)
  t.same(
    g.gateway.stats().targets.map((x) => [x.url, x.up]),
    [
      [a.url, true],
      [b.url, false],
    ],
  )
  for (let i = 0; i < 6; i++) t.equal(await body(g.port), '200 a', `request ${i}: only a`)
  const m = parseExposition(g.gateway.metrics())
  t.equal(value(m, 'strictgate_upstream_up', { target: b.url }), 0)
  t.ok(value(m, 'strictgate_health_check_total', { target: b.url, result: 'failure' }) >= 1, 'failed probes counted')
  bHealth = 204
  const [, up] = await health.wait(2, 'b back up')
  t.same([up.target, up.up, up.reason], [b.url, true, 'status 204'])
  const seen = new Set<string>()
  for (let i = 0; i < 4; i++) seen.add(await body(g.port))
  t.same([...seen].sort(), ['200 a', '200 b'], 'b gets requests again')
})

t.test('a response our parser refuses is a failed probe; expectStatus narrows what is healthy', async (t) => {
  const bad = net.createServer((socket) => {
    socket.on('error', () => {})
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx'))
  })
  await new Promise<void>((resolve) => bad.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => bad.close(resolve)))
  const badUrl = `http://127.0.0.1:${(bad.address() as net.AddressInfo).port}`
  const a = await target(t, 'a')
  const health = collect<HealthMessage>(t, 'strictgate:health')
  const g = await startGateway(t, [a.url, badUrl], { health: { check: CHECK } })
  const [down] = await health.wait(1)
  t.same([down.target, down.up], [badUrl, false])
  t.match(down.reason, /UPSTREAM_INVALID_CONTENT_LENGTH/)
  // expectStatus: [201] makes a's 200 a failure too.
  g.gateway.reconfigure({ upstream: [a.url, badUrl], health: { check: { ...CHECK, expectStatus: [201] } } })
  await eventually(() => g.gateway.stats().targets.every((x) => !x.up), 'both targets down')
  t.equal(g.gateway.health().status, 503)
  t.equal(g.gateway.health().reason, 'no upstream target is up')
})

t.test('a single target marked down by its check: 502 UPSTREAM_UNAVAILABLE until it is back', async (t) => {
  let ok = false
  const a = await target(t, 'a', () => (ok ? 200 : 500))
  const health = collect<HealthMessage>(t, 'strictgate:health')
  const g = await startGateway(t, a.url, { health: { check: CHECK } })
  await health.wait(1, 'a down')
  const { response } = await rawRequest(t, g.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
  t.equal(response.status, 502)
  t.match(response.headers.find(([n]) => n === 'Proxy-Status')?.[1], /UPSTREAM_UNAVAILABLE/)
  ok = true
  await health.wait(2, 'a up')
  t.equal(await body(g.port), '200 a')
})

t.test('passive health works beside the checks: a target that resets requests is avoided', async (t) => {
  // It answers its probes, and resets every other request before a byte of response.
  const flaky = net.createServer((socket) => {
    socket.on('error', () => {})
    socket.once('data', (d: Buffer) => {
      if (d.toString('latin1').startsWith(`GET ${CHECK.path} `))
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')
      else socket.resetAndDestroy()
    })
  })
  await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => flaky.close(resolve)))
  const flakyUrl = `http://127.0.0.1:${(flaky.address() as net.AddressInfo).port}`
  const a = await target(t, 'a')
  const g = await startGateway(t, [flakyUrl, a.url], {
    health: { check: CHECK, failTimeout: 60_000 },
  })
  // Round-robin sends the first request to the flaky target: reset, retried on a (a GET).
  for (let i = 0; i < 4; i++) t.equal(await body(g.port), '200 a', `request ${i}`)
  const flakyStats = g.gateway.stats().targets.find((x) => x.url === flakyUrl)
  t.same([flakyStats?.up, flakyStats?.failures], [false, 1], 'down by passive health, its probes passing')
})

t.test('reconfigure(): new targets are probed, removed ones no longer', async (t) => {
  const a = await target(t, 'a')
  const b = await target(t, 'b', () => 503)
  const health = collect<HealthMessage>(t, 'strictgate:health')
  const g = await startGateway(t, a.url, { health: { check: CHECK } })
  await eventually(() => a.probes() >= 2, 'a probed')
  g.gateway.reconfigure({ upstream: [a.url, b.url], health: { check: CHECK } } as GatewayOptions)
  const [down] = await health.wait(1, 'the new target b probed and marked down')
  t.equal(down.target, b.url)
  g.gateway.reconfigure({ upstream: a.url, health: { check: CHECK } })
  const probesOfB = b.probes()
  const probesOfA = a.probes()
  await eventually(() => a.probes() >= probesOfA + 3, 'a probed on')
  t.ok(b.probes() <= probesOfB + 1, `b no longer probed (${b.probes() - probesOfB} since)`)
  g.gateway.reconfigure({ upstream: a.url })
  const since = a.probes()
  await new Promise((resolve) => setTimeout(resolve, CHECK.interval * 5))
  t.ok(a.probes() <= since + 1, 'without health.check: no probes')
  t.equal(family(parseExposition(g.gateway.metrics()), 'strictgate_health_check_total').type, 'counter')
})

t.test('bad health.check settings: a TypeError naming the option', async (t) => {
  const bad: [unknown, string][] = [
    [{ path: 'health' }, 'health.check.path'],
    [{ path: '/h', interval: 0 }, 'health.check.interval'],
    [{ path: '/h', timeout: 1.5 }, 'health.check.timeout'],
    [{ path: '/h', expectStatus: [] }, 'health.check.expectStatus'],
    [{ path: '/h', every: 1 }, 'health.check.every'],
  ]
  for (const [check, option] of bad) {
    t.throws(
      () => createGateway({ upstream: 'http://127.0.0.1:1', health: { check } } as GatewayOptions),
      { name: 'TypeError', message: new RegExp(`option "${option.replace(/\./g, '\\.')}"`) },
      option,
    )
  }
})

leakCheck(t)
