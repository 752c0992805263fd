// The exporter (src/ops/metrics.ts) and the process metrics: every check parses the exposition
// text with the independent parser of test/helpers/prometheus.ts.
import assert from 'node:assert/strict'
import fc from 'fast-check'
import t from 'tap'
import {
  Counter,
  EXPOSITION_CONTENT_TYPE,
  escapeHelp,
  escapeLabelValue,
  formatValue,
  Gauge,
  Histogram,
  Registry,
} from '../../src/ops/metrics.js'
import { registerProcessMetrics } from '../../src/ops/process-metrics.js'
import { family, histogram, parseExposition, value } from '../helpers/prometheus.js'
import { numRuns } from '../helpers/runs.js'

t.test('counter, gauge and histogram: HELP, TYPE and samples', async (t) => {
  const r = new Registry()
  const plain = r.register(new Counter({ name: 'a_total', help: 'plain' }))
  const labelled = r.register(new Counter({ name: 'b_total', help: 'labelled', labelNames: ['x', 'y'] }))
  const gauge = r.register(new Gauge({ name: 'c', help: 'gauge' }))
  const hist = r.register(new Histogram({ name: 'd_seconds', help: 'hist', buckets: [0.1, 1] }))
  r.register(new Gauge({ name: 'e', help: 'labelled, no child yet', labelNames: ['k'] }))
  plain.inc()
  plain.inc(2)
  labelled.labels('1', '2').inc()
  labelled.labels('1', '3').inc(5)
  labelled.labels('1', '2').inc()
  gauge.set(7)
  gauge.labels().dec(2)
  gauge.labels().inc(0.5)
  for (const v of [0.05, 0.1, 0.5, 2, Number.NaN]) hist.observe(v)
  const m = parseExposition(r.render())
  t.same(
    [...m.values()].map((f) => [f.name, f.type, f.help]),
    [
      ['a_total', 'counter', 'plain'],
      ['b_total', 'counter', 'labelled'],
      ['c', 'gauge', 'gauge'],
      ['d_seconds', 'histogram', 'hist'],
      ['e', 'gauge', 'labelled, no child yet'],
    ],
    'families in registration order',
  )
  t.equal(value(m, 'a_total'), 3)
  t.equal(value(m, 'b_total', { x: '1', y: '2' }), 2, 'labels() returns the same child for the same values')
  t.equal(value(m, 'b_total', { x: '1', y: '3' }), 5)
  t.equal(value(m, 'c'), 5.5)
  t.same(histogram(m, 'd_seconds'), {
    buckets: [
      [0.1, 2],
      [1, 3],
      [Number.POSITIVE_INFINITY, 4],
    ],
    sum: 2.65,
    count: 4,
  })
  t.equal(family(m, 'e').samples.length, 0, 'a labelled metric without children has no samples')
  t.equal(EXPOSITION_CONTENT_TYPE, 'text/plain; version=0.0.4; charset=utf-8')
})

t.test('a labelled histogram puts le after its own labels', async (t) => {
  const r = new Registry()
  const h = r.register(new Histogram({ name: 'h', help: 'x', labelNames: ['route'], buckets: [1] }))
  h.labels('/a').observe(0.5)
  h.labels('/b').observe(3)
  const m = parseExposition(r.render())
  t.same(histogram(m, 'h', { route: '/a' }).buckets, [
    [1, 1],
    [Number.POSITIVE_INFINITY, 1],
  ])
  t.same(histogram(m, 'h', { route: '/b' }).buckets, [
    [1, 0],
    [Number.POSITIVE_INFINITY, 1],
  ])
})

t.test('label values and HELP text of any characters survive escaping', async (t) => {
  // The format cannot carry blanks at the start of a HELP text: parsers skip the blanks after
  // the metric name, and there is no escape for them. Our HELP texts are our own constants.
  const helpArb = fc.string({ unit: 'binary' }).filter((h) => !/^[ \t]/.test(h))
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), helpArb, (a, b, help) => {
      const r = new Registry()
      r.register(new Counter({ name: 'x_total', help, labelNames: ['a', 'b'] }))
        .labels(a, b)
        .inc()
      const f = family(parseExposition(r.render()), 'x_total')
      assert.equal(f.help, help)
      assert.deepEqual(
        f.samples.map((s) => s.labels),
        [{ a, b }],
      )
    }),
    { numRuns: numRuns(300) },
  )
  t.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd')
  t.equal(escapeHelp('a\\b"c\nd'), 'a\\\\b"c\\nd', 'HELP leaves quotes alone')
})

t.test('histogram buckets are cumulative counts of observations <= le', async () => {
  const bucketsArb = fc
    .uniqueArray(fc.double({ min: -1e6, max: 1e6, noNaN: true }), {
      minLength: 1,
      maxLength: 12,
      comparator: 'SameValueZero',
    })
    .map((b) => b.map((x) => x + 0).sort((x, y) => x - y)) // -0 is written (and read) as 0
  fc.assert(
    fc.property(bucketsArb, fc.array(fc.double({ min: -2e6, max: 2e6, noNaN: true })), (buckets, observations) => {
      const r = new Registry()
      const h = r.register(new Histogram({ name: 'h', help: 'x', buckets }))
      for (const v of observations) h.observe(v)
      const got = histogram(parseExposition(r.render()), 'h')
      const want = [...buckets, Number.POSITIVE_INFINITY].map((le) => [le, observations.filter((v) => v <= le).length])
      const sum = observations.reduce((s, v) => s + v, 0)
      assert.deepEqual(got.buckets, want)
      assert.equal(got.count, observations.length)
      // The exporter adds in observation order too; only the decimal round trip may differ.
      assert.ok(Math.abs(got.sum - sum) <= 1e-9 * Math.max(1, Math.abs(sum)), `sum ${got.sum} vs ${sum}`)
    }),
    { numRuns: numRuns(200) },
  )
})

t.test('values: Inf, NaN and exponents in Go syntax', async (t) => {
  t.same([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 1e21, -0.5, 3].map(formatValue), [
    '+Inf',
    '-Inf',
    'NaN',
    '1e+21',
    '-0.5',
    '3',
  ])
  const r = new Registry()
  r.register(new Gauge({ name: 'g', help: 'x' })).set(Number.POSITIVE_INFINITY)
  t.equal(value(parseExposition(r.render()), 'g'), Number.POSITIVE_INFINITY)
})

t.test('bad names, labels, buckets and uses throw TypeError', async (t) => {
  t.throws(() => new Counter({ name: '1x', help: '' }), TypeError, 'metric name')
  t.throws(() => new Counter({ name: 'a-b', help: '' }), TypeError, 'metric name with a dash')
  t.throws(() => new Counter({ name: 'x', help: '', labelNames: ['__x'] }), TypeError, 'reserved label name')
  t.throws(() => new Counter({ name: 'x', help: '', labelNames: ['a', 'a'] }), TypeError, 'label twice')
  t.throws(
    () => new Histogram({ name: 'x', help: '', labelNames: ['le'], buckets: [1] }),
    TypeError,
    'le on a histogram',
  )
  t.throws(() => new Histogram({ name: 'x', help: '', buckets: [] }), TypeError, 'no buckets')
  t.throws(() => new Histogram({ name: 'x', help: '', buckets: [1, 1] }), TypeError, 'buckets not increasing')
  t.throws(
    () => new Histogram({ name: 'x', help: '', buckets: [1, Number.POSITIVE_INFINITY] }),
    TypeError,
    '+Inf given',
  )
  const labelled = new Counter({ name: 'x', help: '', labelNames: ['a'] })
  t.throws(() => labelled.inc(), TypeError, 'inc() on a labelled counter')
  t.throws(() => labelled.labels(), TypeError, 'too few label values')
  t.throws(() => new Gauge({ name: 'g', help: '', labelNames: ['a'] }).set(1), TypeError)
  t.throws(() => new Histogram({ name: 'h', help: '', labelNames: ['a'], buckets: [1] }).observe(1), TypeError)
  const r = new Registry()
  r.register(new Gauge({ name: 'g', help: '' }))
  t.throws(() => r.register(new Counter({ name: 'g', help: '' })), TypeError, 'a name registered twice')
})

t.test('collect runs before each scrape; clear() drops label sets that went away', async (t) => {
  const r = new Registry()
  let names = ['a', 'b']
  const g: Gauge = r.register(
    new Gauge({
      name: 'g',
      help: 'x',
      labelNames: ['n'],
      collect: () => {
        g.clear()
        for (const n of names) g.labels(n).set(n.length)
      },
    }),
  )
  t.same(
    family(parseExposition(r.render()), 'g').samples.map((s) => s.labels.n),
    ['a', 'b'],
  )
  names = ['bb']
  const m = parseExposition(r.render())
  t.same(
    family(m, 'g').samples.map((s) => [s.labels.n, s.value]),
    [['bb', 2]],
  )
})

t.test('process metrics: present, consistent, and cheap to collect', async (t) => {
  const r = new Registry()
  const proc = registerProcessMetrics(r)
  t.teardown(() => proc.close())
  // Block the loop well past the sampling period: the lag figures must show it.
  const first = parseExposition(r.render())
  const cpu0 = process.cpuUsage()
  await new Promise((resolve) => setTimeout(resolve, 50))
  const until = performance.now() + 200
  while (performance.now() < until);
  await new Promise((resolve) => setTimeout(resolve, 50))
  const cpu = process.cpuUsage(cpu0)
  const m = parseExposition(r.render())
  const user = value(m, 'process_cpu_user_seconds_total')
  const system = value(m, 'process_cpu_system_seconds_total')
  // Between the two scrapes the counters grew by what process.cpuUsage() saw (the scrapes
  // themselves take well under the 20 ms allowed).
  const grew = user - value(first, 'process_cpu_user_seconds_total')
  t.ok(Math.abs(grew - cpu.user / 1e6) < 0.02, `user CPU grew by ${grew} s, cpuUsage saw ${cpu.user / 1e6} s`)
  t.ok(Math.abs(value(m, 'process_cpu_seconds_total') - (user + system)) < 1e-9, 'total = user + system')
  for (const name of [
    'process_cpu_user_seconds_total',
    'process_cpu_system_seconds_total',
    'process_cpu_seconds_total',
  ]) {
    t.equal(family(m, name).type, 'counter', `${name} is a counter`)
  }
  const rss = value(m, 'process_resident_memory_bytes')
  t.ok(rss > 1e6 && rss < 1e11, `resident memory ${rss}`)
  const start = value(m, 'process_start_time_seconds')
  t.ok(Math.abs(start - (Date.now() / 1000 - process.uptime())) <= 1, `start time ${start}`)
  if (process.platform === 'linux') {
    const open = value(m, 'process_open_fds')
    t.ok(open >= 3 && open <= value(m, 'process_max_fds'), `open fds ${open} within the limit`)
  }
  const total = value(m, 'nodejs_heap_size_total_bytes')
  const used = value(m, 'nodejs_heap_size_used_bytes')
  t.ok(used > 0 && used <= total, `heap used ${used} <= total ${total}`)
  t.ok(value(m, 'nodejs_external_memory_bytes') > 0)
  const max = value(m, 'nodejs_eventloop_lag_max_seconds')
  t.ok(max >= 0.15, `the loop blocked 200 ms: max lag ${max} s`)
  t.ok(value(m, 'nodejs_eventloop_lag_p99_seconds') <= max + 1e-3, 'p99 <= max')
  t.ok(value(m, 'nodejs_eventloop_lag_seconds') > 0, 'mean lag')
  const [major, minor, patch] = process.versions.node.split('.')
  t.equal(value(m, 'nodejs_version_info', { version: process.version, major, minor, patch }), 1)
  // The next scrape covers only the time since this one: no 200 ms block in it.
  await new Promise((resolve) => setTimeout(resolve, 50))
  const after = parseExposition(r.render())
  t.ok(value(after, 'nodejs_eventloop_lag_max_seconds') < max, 'lag figures restart at each scrape')
})
