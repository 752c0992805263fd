// Active health checks (src/ops/health-check.ts): option validation, the jitter and the up/down
// state machine as properties, single probes against real upstreams on 127.0.0.1 (healthy,
// invalid bytes, refused, stalled, TLS, a Unix socket), and the checker's loop end to end.
import assert from 'node:assert/strict'
import diagnostics from 'node:diagnostics_channel'
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type tls from 'node:tls'
import fc from 'fast-check'
import t, { type Test } from 'tap'
import { ResponseParser } from '../../src/h1/response-parser.js'
import { type ResolvedHealthCheck, resolveHealthCheck } from '../../src/health-options.js'
import {
  type CheckedTarget,
  firstDelay,
  HealthChecker,
  type HealthMessage,
  HealthState,
  nextDelay,
  type ProbeResult,
  probe,
} from '../../src/ops/health-check.js'
import { resolveOptions, type UpstreamTlsOptions } from '../../src/options.js'
import { startHttpUpstream } from '../helpers/http-upstream.js'
import { refusedPort } from '../helpers/ports.js'
import { eventually } from '../helpers/raw-client.js'
import { leakCheck } from '../helpers/resources.js'
import { numRuns } from '../helpers/runs.js'
import { awaitClose, end, read, ScriptedUpstream, write } from '../helpers/scripted-upstream.js'
import { needsOpenssl, privateCa } from '../helpers/tls-certs.js'

t.test('resolveHealthCheck: valid settings, and a TypeError naming the option otherwise', async (t) => {
  t.equal(resolveHealthCheck(undefined), null, 'absent: no active checks')
  t.same(resolveHealthCheck({ path: '/healthz', interval: 5000, timeout: 1000 }), {
    path: '/healthz',
    interval: 5000,
    timeout: 1000,
    expectStatus: null,
  })
  t.same(
    resolveHealthCheck({ path: '/a/b%20c?x=1&y', interval: 1, timeout: 1, expectStatus: 204 })?.expectStatus,
    [204],
  )
  t.same(resolveHealthCheck({ path: '/', interval: 1, timeout: 1, expectStatus: [200, 503] })?.expectStatus, [200, 503])
  const bad: [unknown, string][] = [
    [null, 'health.check'],
    [[], 'health.check'],
    [{ interval: 1, timeout: 1 }, 'health.check.path'],
    [{ path: 'healthz', interval: 1, timeout: 1 }, 'health.check.path'],
    [{ path: '/a b', interval: 1, timeout: 1 }, 'health.check.path'],
    [{ path: '/a#b', interval: 1, timeout: 1 }, 'health.check.path'],
    [{ path: '/%zz', interval: 1, timeout: 1 }, 'health.check.path'],
    [{ path: '/\r\nX: y', interval: 1, timeout: 1 }, 'health.check.path'],
    [{ path: '/', interval: 0, timeout: 1 }, 'health.check.interval'],
    [{ path: '/', interval: 1.5, timeout: 1 }, 'health.check.interval'],
    [{ path: '/', interval: 1, timeout: -1 }, 'health.check.timeout'],
    [{ path: '/', interval: 1, timeout: 1, expectStatus: 99 }, 'health.check.expectStatus'],
    [{ path: '/', interval: 1, timeout: 1, expectStatus: [] }, 'health.check.expectStatus'],
    [{ path: '/', interval: 1, timeout: 1, expectStatus: '200' }, 'health.check.expectStatus'],
    [{ path: '/', interval: 1, timeout: 1, method: 'HEAD' }, 'health.check.method'],
  ]
  for (const [value, option] of bad) {
    t.throws(() => resolveHealthCheck(value), { name: 'TypeError', message: new RegExp(`option "${option}"`) }, option)
  }
})

t.test('jitter: the next probe within ±10% of the interval, the first within its first tenth', async () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3_600_000 }),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (i, r) => {
        const next = nextDelay(i, r)
        assert.ok(next >= Math.floor(i * 0.9) && next <= Math.ceil(i * 1.1), `next ${next} for ${i}`)
        const first = firstDelay(i, r)
        assert.ok(first >= 0 && first <= Math.ceil(i * 0.1), `first ${first} for ${i}`)
      },
    ),
    { numRuns: numRuns(500) },
  )
})

t.test('state: down after maxFails consecutive failures, up after one success, each change once', async () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5 }), fc.array(fc.boolean(), { maxLength: 60 }), (maxFails, outcomes) => {
      const s = new HealthState(maxFails)
      let up = true
      let run = 0
      for (const ok of outcomes) {
        run = ok ? 0 : run + 1
        const want: 'up' | 'down' | null = ok ? (up ? null : 'up') : up && run === maxFails ? 'down' : null
        assert.equal(s.record(ok), want)
        if (want !== null) up = want === 'up'
        assert.equal(s.up, up)
      }
    }),
    { numRuns: numRuns(300) },
  )
})

/** A CheckedTarget for `url` (resolved as the gateway resolves it), recording its transitions. */
function target(url: string, tlsOptions?: UpstreamTlsOptions) {
  const resolved = resolveOptions({ upstream: [{ url, tls: tlsOptions }] }).targets[0]
  const changes: string[] = []
  const checked: CheckedTarget & { changes: string[] } = {
    config: resolved,
    changes,
    markDown: (reason) => changes.push(`down ${reason}`),
    markUp: () => changes.push('up'),
  }
  return checked
}

const CHECK: ResolvedHealthCheck = { path: '/healthz?probe=1', interval: 1000, timeout: 2000, expectStatus: null }

/** One probe with a fresh parser (freed afterwards). */
async function probeOnce(target: CheckedTarget, check: Partial<ResolvedHealthCheck> = {}): Promise<ProbeResult> {
  const parser = new ResponseParser({ onHead() {}, onBody() {}, onTrailers() {}, onComplete() {} })
  try {
    return await probe(target, { ...CHECK, ...check }, parser).result
  } finally {
    parser.destroy()
  }
}

/** A scripted upstream answering each probe with `response` (latin1), then FIN. */
async function answering(t: Test, response: string) {
  return ScriptedUpstream.start(t, { script: [read(), write(response), end()] })
}

const codeOf = (r: ProbeResult) => (r.ok ? `ok ${r.status}` : r.code)

t.test('probe: GET path over a fresh connection, Host from the target, Connection: close', async (t) => {
  const seen: string[] = []
  const up = await startHttpUpstream(t, (req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.host} ${req.headers.connection}`)
    res.end('fine')
  })
  t.same(await probeOnce(target(up.url)), { ok: true, status: 200 })
  t.same(await probeOnce(target(up.url)), { ok: true, status: 200 })
  t.same(seen, Array(2).fill(`GET /healthz?probe=1 127.0.0.1:${up.port} close`))
  t.equal(up.connections, 2, 'one connection per probe')
})

t.test('probe: the status decides, by expectStatus or 2xx/3xx', async (t) => {
  let status = 200
  const up = await startHttpUpstream(t, (_req, res) => {
    res.statusCode = status
    res.end()
  })
  const outcomes: string[] = []
  for (const s of [200, 204, 301, 399, 404, 500, 503]) {
    status = s
    outcomes.push(`${s} ${codeOf(await probeOnce(target(up.url)))}`)
  }
  t.same(outcomes, [
    '200 ok 200',
    '204 ok 204',
    '301 ok 301',
    '399 ok 399',
    '404 UNEXPECTED_STATUS',
    '500 UNEXPECTED_STATUS',
    '503 UNEXPECTED_STATUS',
  ])
  status = 503
  t.same(await probeOnce(target(up.url), { expectStatus: [503] }), { ok: true, status: 503 })
  status = 200
  const r = await probeOnce(target(up.url), { expectStatus: [204] })
  t.same(r, { ok: false, status: 200, code: 'UNEXPECTED_STATUS', reason: 'UNEXPECTED_STATUS: status 200' })
})

t.test('probe: what the strict parser refuses is a failure, with its code', async (t) => {
  const cases: [string, string, string][] = [
    ['no reason phrase', 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n', 'UPSTREAM_INVALID_STATUS_LINE'],
    ['HTTP/2.0', 'HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n', 'UPSTREAM_INVALID_VERSION'],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nA: b\r\n c\r\nContent-Length: 0\r\n\r\n', 'UPSTREAM_INVALID_HEADER'],
    [
      'CL and TE',
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n',
      'UPSTREAM_INVALID_FRAMING',
    ],
    ['a bad chunk', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'UPSTREAM_INVALID_CHUNK'],
    ['a truncated body', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', 'UPSTREAM_TRUNCATED_BODY'],
    [
      'an unsolicited 101',
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n',
      'UPSTREAM_INVALID_UPGRADE',
    ],
    ['nothing at all', '', 'UPSTREAM_CLOSED'],
    ['half a head', 'HTTP/1.1 200 OK\r\nContent-', 'UPSTREAM_CLOSED'],
    // Accepted as the gateway would relay them:
    ['1xx, then 200', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'ok 200'],
    ['a chunked body', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n', 'ok 200'],
    ['a body ended by FIN', 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it', 'ok 200'],
    ['bytes after the response (a warning)', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nextra', 'ok 200'],
  ]
  for (const [what, response, code] of cases) {
    const up = await answering(t, response)
    const r = await probeOnce(target(up.url))
    t.equal(codeOf(r), code, what)
    if (!r.ok) t.match(r.reason, new RegExp(`^${r.code}: `), `${what}: the reason starts with the code`)
  }
})

t.test('probe: refused, stalled before the head, stalled in the body', async (t) => {
  const refused = await probeOnce(target(`http://127.0.0.1:${await refusedPort()}`))
  t.equal(codeOf(refused), 'UPSTREAM_CONNECT_REFUSED')
  t.equal(refused.status, 0)

  const silent = await ScriptedUpstream.start(t, { script: [read(), awaitClose()] })
  t.equal(codeOf(await probeOnce(target(silent.url), { timeout: 200 })), 'UPSTREAM_RESPONSE_TIMEOUT')
  await silent.waitFor(() => silent.closedConnections === 1, 'the timed-out probe closes its connection')

  const slow = await ScriptedUpstream.start(t, {
    script: [read(), write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab'), awaitClose()],
  })
  const body = await probeOnce(target(slow.url), { timeout: 200 })
  t.same([codeOf(body), body.status], ['UPSTREAM_IDLE_TIMEOUT', 200])
})

t.test('probe: a Unix-socket target', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'strictgate-hc-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'up.sock')
  const server = http.createServer((req, res) => res.end(req.headers.host))
  await new Promise<void>((resolve) => server.listen(path, resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  t.same(await probeOnce(target(`unix:${path}`)), { ok: true, status: 200 })
})

t.test('probe: TLS targets with their TLS settings', { skip: needsOpenssl }, async (t) => {
  const { ca, key, cert } = privateCa()
  let sni: string | undefined
  const server = https.createServer({ key, cert }, (req, res) => {
    sni = (req.socket as tls.TLSSocket).servername || undefined
    res.end('secure')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const url = `https://localhost:${(server.address() as net.AddressInfo).port}`
  t.same(await probeOnce(target(url, { ca })), { ok: true, status: 200 })
  t.equal(sni, 'localhost', 'SNI from the host name')
  t.equal(codeOf(await probeOnce(target(url))), 'UPSTREAM_TLS_CERTIFICATE_ERROR', 'verified by default')
  t.equal(
    codeOf(await probeOnce(target(url, { ca, cert: 'not a certificate', key }))),
    'UPSTREAM_TLS_ERROR',
    'unusable settings',
  )
  const plain = await startHttpUpstream(t, (_req, res) => res.end())
  t.equal(codeOf(await probeOnce(target(`https://localhost:${plain.port}`, { ca }))), 'UPSTREAM_TLS_ERROR', 'not TLS')
})

/** Jitter values from fast-check, replayable from the seed in the test's name. */
function randomFrom(seed: number): () => number {
  const values = fc.sample(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { numRuns: 256, seed })
  let i = 0
  return () => values[i++ % values.length]
}

/** Collects `strictgate:health` messages while the test runs. */
function healthMessages(t: Test): HealthMessage[] {
  const messages: HealthMessage[] = []
  const listener = (m: unknown) => messages.push(m as HealthMessage)
  diagnostics.subscribe('strictgate:health', listener)
  t.teardown(() => diagnostics.unsubscribe('strictgate:health', listener))
  return messages
}

const SEED = 1729

t.test(`checker: healthy, invalid, refusing and stalling targets (seed ${SEED})`, async (t) => {
  const healthy = await startHttpUpstream(t, (_req, res) => res.end('ok'))
  const invalid = await answering(t, 'HTTP/1.1 200\r\n\r\n')
  const stalling = await ScriptedUpstream.start(t, { script: [read(), awaitClose()] })
  const targets = [
    target(healthy.url),
    target(invalid.url),
    target(`http://127.0.0.1:${await refusedPort()}`),
    target(stalling.url),
  ]
  const messages = healthMessages(t)
  const probes: string[] = []
  let randomCalls = 0
  const random = randomFrom(SEED)
  const checker = new HealthChecker(targets, {
    check: { path: '/healthz', interval: 20, timeout: 150, expectStatus: null },
    maxFails: 2,
    random: () => {
      randomCalls++
      return random()
    },
    onProbe: (target, r) => probes.push(`${target.config.url} ${codeOf(r)}`),
  })
  t.teardown(() => checker.stop())
  checker.start()
  await eventually(() => targets.slice(1).every((x) => x.changes.length > 0), 'three targets marked down')
  await eventually(() => probes.filter((p) => p.startsWith(healthy.url)).length >= 3, 'three probes of the healthy one')
  t.same(
    targets.map((x) => checker.state(x.config.url)?.up),
    [true, false, false, false],
    'the active view',
  )
  t.equal(checker.state('http://elsewhere'), undefined)
  checker.stop()
  t.same(targets[0].changes, [], 'the healthy target is never marked')
  t.match(targets[1].changes, [/^down UPSTREAM_INVALID_STATUS_LINE: /])
  t.match(targets[2].changes, [/^down UPSTREAM_CONNECT_REFUSED: /])
  t.match(targets[3].changes, [/^down UPSTREAM_RESPONSE_TIMEOUT: /])
  t.same(
    messages.map((m) => [m.target, m.up]).sort(),
    targets
      .slice(1)
      .map((x) => [x.config.url, false])
      .sort(),
    'one strictgate:health message per change',
  )
  for (const x of targets.slice(1)) {
    const failures = probes.filter((p) => p.startsWith(`${x.config.url} `))
    t.ok(failures.length >= 2, `${x.config.url}: marked down after two probes (${failures.length} so far)`)
  }
  t.equal(randomCalls, probes.length + targets.length, 'one jitter draw per probe scheduled, and per first probe')
})

t.test('checker: down, then up again after one good probe; stop() ends probing', async (t) => {
  // Connections 0-2 answer 503, then every one 200.
  const flaky = await ScriptedUpstream.start(t, {
    script: (i) => [
      read(),
      write(`HTTP/1.1 ${i < 3 ? '503 Unavailable' : '200 OK'}\r\nContent-Length: 0\r\n\r\n`),
      end(),
    ],
  })
  const x = target(flaky.url)
  const messages = healthMessages(t)
  const checker = new HealthChecker([x], {
    check: { path: '/', interval: 10, timeout: 1000, expectStatus: null },
    maxFails: 3,
    random: randomFrom(SEED + 1),
  })
  t.teardown(() => checker.stop())
  checker.start()
  await eventually(() => x.changes.length === 2, 'down and up')
  checker.stop()
  t.same(x.changes, ['down UNEXPECTED_STATUS: status 503', 'up'])
  t.same(messages, [
    { target: flaky.url, up: false, reason: 'UNEXPECTED_STATUS: status 503' },
    { target: flaky.url, up: true, reason: 'status 200' },
  ])
  await flaky.waitFor(() => flaky.closedConnections === flaky.connections, 'every probe connection closed')
  const count = flaky.connections
  // Absence takes time to show: ten intervals with no probe.
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(flaky.connections, count, 'no probe after stop()')
})

t.test('checker: stop() cancels a probe in flight; setTargets() keeps, drops and adds', async (t) => {
  const stalling = await ScriptedUpstream.start(t, { script: [read(), awaitClose()] })
  const a = await startHttpUpstream(t, (_req, res) => res.end())
  const b = await startHttpUpstream(t, (_req, res) => res.end())
  const probes: string[] = []
  const checker = new HealthChecker([target(stalling.url), target(a.url)], {
    check: { path: '/', interval: 10, timeout: 60_000, expectStatus: null },
    maxFails: 1,
    random: randomFrom(SEED + 2),
    onProbe: (x, r) => probes.push(`${x.config.url} ${codeOf(r)}`),
  })
  t.teardown(() => checker.stop())
  checker.start()
  await stalling.waitFor(() => stalling.requests.length === 1, 'a probe in flight')
  await eventually(() => a.connections >= 2, 'a probed')
  checker.setTargets([target(a.url), target(b.url)])
  await stalling.waitFor(() => stalling.closedConnections === 1, 'the removed target’s probe cancelled')
  await eventually(() => b.connections >= 2, 'the new target probed')
  t.equal(checker.state(stalling.url), undefined, 'the removed target is forgotten')
  t.notOk(
    probes.some((p) => p.startsWith(stalling.url)),
    'a cancelled probe reports nothing',
  )
  checker.setTargets([target(a.url), target(stalling.url)])
  await stalling.waitFor(() => stalling.requests.length === 2, 'probing it again')
  checker.stop()
  await stalling.waitFor(() => stalling.closedConnections === 2, 'stop() cancelled it')
  checker.start()
  await eventually(() => stalling.requests.length === 3, 'start() after stop() probes again')
  checker.stop()
})

t.test('checker: its timers never keep the process alive (unref)', async (t) => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
  const before = timers()
  const probes: string[] = []
  const checker = new HealthChecker([target(`http://127.0.0.1:${await refusedPort()}`)], {
    check: { path: '/', interval: 60_000, timeout: 60_000, expectStatus: null },
    maxFails: 1,
    random: randomFrom(SEED + 3),
    onProbe: (_x, r) => probes.push(codeOf(r)),
  })
  t.teardown(() => checker.stop())
  checker.start()
  t.equal(timers(), before, 'the first probe is due: no ref’d timer')
  await eventually(() => probes.length === 1, 'the first probe')
  t.same(probes, ['UPSTREAM_CONNECT_REFUSED'])
  t.equal(timers(), before, 'the next probe is due in a minute: no ref’d timer')
  checker.stop()
})

leakCheck(t)
