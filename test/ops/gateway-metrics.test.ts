// GatewayMetrics: strictgate's metrics, fed by plain calls and by a stats() callback read at
// scrape time. Every check parses the exposition text (test/helpers/prometheus.ts).
import assert from 'node:assert/strict'
import fc from 'fast-check'
import t, { type Test } from 'tap'
import { ERROR_CODES } from '../../src/errors.js'
import { DURATION_BUCKETS, GatewayMetrics, type GatewayStats } from '../../src/ops/gateway-metrics.js'
import { family, histogram, parseExposition, value } from '../helpers/prometheus.js'
import { numRuns } from '../helpers/runs.js'

function metrics(t: Test, stats?: () => GatewayStats): GatewayMetrics {
  const m = new GatewayMetrics({ stats, processMetrics: false })
  t.teardown(() => m.close())
  return m
}

t.test('requests by status class, aborted for status 0, every class present from the start', async (t) => {
  const m = metrics(t)
  const zero = parseExposition(m.render())
  for (const c of ['aborted', '1xx', '2xx', '3xx', '4xx', '5xx']) {
    t.equal(value(zero, 'strictgate_requests_total', { code_class: c }), 0, `${c} at 0`)
  }
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 100, max: 599 })), { maxLength: 200 }),
      (statuses) => {
        const g = new GatewayMetrics({ processMetrics: false })
        for (const s of statuses) g.exchange(s, 1)
        const p = parseExposition(g.render())
        const count = (c: string) => value(p, 'strictgate_requests_total', { code_class: c })
        assert.equal(count('aborted'), statuses.filter((s) => s === 0).length)
        for (const k of [1, 2, 3, 4, 5]) {
          assert.equal(count(`${k}xx`), statuses.filter((s) => Math.floor(s / 100) === k).length, `${k}xx`)
        }
        assert.equal(value(p, 'strictgate_request_duration_seconds_count'), statuses.length)
        g.close()
      },
    ),
    { numRuns: numRuns(100) },
  )
  t.equal(family(zero, 'strictgate_requests_total').type, 'counter')
})

t.test('request durations: a histogram in seconds with buckets from 0.5 ms to 60 s', async (t) => {
  const m = metrics(t)
  for (const ms of [0.2, 0.5, 3, 250, 59_000, 120_000]) m.exchange(200, ms)
  const h = histogram(parseExposition(m.render()), 'strictgate_request_duration_seconds')
  t.same(
    h.buckets.map(([le]) => le),
    [...DURATION_BUCKETS, Number.POSITIVE_INFINITY],
  )
  t.equal(DURATION_BUCKETS[0], 0.0005)
  t.equal(DURATION_BUCKETS.at(-1), 60)
  const at = (le: number) => h.buckets.find(([b]) => b === le)?.[1]
  t.equal(at(0.0005), 2, '0.2 ms and 0.5 ms (le is inclusive)')
  t.equal(at(0.005), 3)
  t.equal(at(0.25), 4)
  t.equal(at(60), 5)
  t.equal(at(Number.POSITIVE_INFINITY), 6)
  t.ok(Math.abs(h.sum - 179.2537) < 1e-9, `sum ${h.sum}`)
})

t.test('errors by code: every code listed at 0, counted as reported', async (t) => {
  const m = metrics(t)
  m.error('UPSTREAM_INVALID_CHUNK')
  m.error('UPSTREAM_INVALID_CHUNK')
  m.error('CLIENT_TIMEOUT')
  const p = parseExposition(m.render())
  t.same(
    family(p, 'strictgate_errors_total')
      .samples.map((s) => s.labels.code)
      .sort(),
    [...ERROR_CODES].sort(),
  )
  t.equal(value(p, 'strictgate_errors_total', { code: 'UPSTREAM_INVALID_CHUNK' }), 2)
  t.equal(value(p, 'strictgate_errors_total', { code: 'CLIENT_TIMEOUT' }), 1)
  t.equal(value(p, 'strictgate_errors_total', { code: 'UPSTREAM_CLOSED' }), 0)
})

t.test('stats() is read at scrape time, once per scrape; removed targets go away', async (t) => {
  let calls = 0
  let stats: GatewayStats = {
    clients: 3,
    upstream: { open: 5, idle: 2, waiting: 0 },
    targets: [
      { url: 'http://a:1', up: true, active: 2, idle: 1, requests: 40, failures: 1 },
      { url: 'unix:/run/b"\\.sock', up: false, active: 1, idle: 1, requests: 7, failures: 9 },
    ],
    tlsHandshakeFailures: 4,
  }
  const m = metrics(t, () => {
    calls++
    return stats
  })
  t.equal(calls, 0, 'not read before a scrape')
  const p = parseExposition(m.render())
  t.equal(calls, 1, 'one stats() call per scrape')
  t.equal(value(p, 'strictgate_client_connections'), 3)
  t.equal(value(p, 'strictgate_tls_handshake_failures_total'), 4)
  t.equal(value(p, 'strictgate_upstream_up', { target: 'http://a:1' }), 1)
  t.equal(value(p, 'strictgate_upstream_up', { target: 'unix:/run/b"\\.sock' }), 0, 'escaped label values')
  t.equal(value(p, 'strictgate_upstream_connections', { target: 'http://a:1', state: 'active' }), 2)
  t.equal(value(p, 'strictgate_upstream_connections', { target: 'http://a:1', state: 'idle' }), 1)
  t.equal(value(p, 'strictgate_upstream_requests_total', { target: 'unix:/run/b"\\.sock' }), 7)
  t.equal(value(p, 'strictgate_upstream_failures_total', { target: 'unix:/run/b"\\.sock' }), 9)
  t.equal(family(p, 'strictgate_upstream_up').type, 'gauge')
  t.equal(family(p, 'strictgate_upstream_requests_total').type, 'counter')

  stats = {
    clients: 0,
    upstream: { open: 0, idle: 0, waiting: 0 },
    targets: [{ url: 'http://c:2', up: true, active: 0, idle: 0, requests: 0, failures: 0 }],
  }
  const q = parseExposition(m.render())
  t.equal(calls, 2)
  for (const name of [
    'strictgate_upstream_up',
    'strictgate_upstream_connections',
    'strictgate_upstream_requests_total',
    'strictgate_upstream_failures_total',
  ]) {
    t.same(
      [...new Set(family(q, name).samples.map((s) => s.labels.target))],
      ['http://c:2'],
      `${name}: only the current target`,
    )
  }
  t.equal(value(q, 'strictgate_tls_handshake_failures_total'), 0, 'absent from stats: 0')
})

t.test('without stats(), the stats-based metrics are absent', async (t) => {
  const p = parseExposition(metrics(t).render())
  t.notOk(p.has('strictgate_client_connections'))
  t.notOk(p.has('strictgate_upstream_up'))
})

t.test('health checks by target and result', async (t) => {
  const m = metrics(t)
  m.healthCheck('http://a:1', true)
  m.healthCheck('http://a:1', true)
  m.healthCheck('http://a:1', false)
  const p = parseExposition(m.render())
  t.equal(value(p, 'strictgate_health_check_total', { target: 'http://a:1', result: 'success' }), 2)
  t.equal(value(p, 'strictgate_health_check_total', { target: 'http://a:1', result: 'failure' }), 1)
})

t.test('process metrics are included by default', async (t) => {
  const m = new GatewayMetrics()
  t.teardown(() => m.close())
  const p = parseExposition(m.render())
  t.ok(p.has('process_cpu_seconds_total') && p.has('nodejs_heap_size_used_bytes'))
  t.ok(p.has('strictgate_requests_total'))
})
