// Merging the expositions of several workers (--workers with --admin): one valid exposition,
// each family once, every sample labelled with its worker; parsed, never matched by eye.
import t from 'tap'
import { GatewayMetrics } from '../../src/ops/gateway-metrics.js'
import { mergeExpositions } from '../../src/ops/merge-exposition.js'
import { family, parseExposition, value } from '../helpers/prometheus.js'

const targets = (url: string, up: boolean) => ({
  clients: 2,
  upstream: { open: 1, idle: 1, waiting: 0 },
  targets: [{ url, up, active: 0, idle: 1, requests: 3, failures: 0 }],
})

t.test('every worker its own samples, each family once, histograms valid per worker', async (t) => {
  const a = new GatewayMetrics({ stats: () => targets('http://u:1', true) })
  const b = new GatewayMetrics({ stats: () => targets('http://u:1', false) })
  t.teardown(() => {
    a.close()
    b.close()
  })
  a.exchange(200, 1)
  a.exchange(200, 2)
  b.exchange(502, 30)
  b.error('UPSTREAM_CONNECT_REFUSED')
  const merged = parseExposition(
    mergeExpositions('worker', [
      { value: '101', text: a.render() },
      { value: '202', text: b.render() },
    ]),
  )
  t.equal(value(merged, 'strictgate_requests_total', { worker: '101', code_class: '2xx' }), 2)
  t.equal(value(merged, 'strictgate_requests_total', { worker: '202', code_class: '5xx' }), 1)
  t.equal(value(merged, 'strictgate_errors_total', { worker: '202', code: 'UPSTREAM_CONNECT_REFUSED' }), 1)
  t.equal(value(merged, 'strictgate_request_duration_seconds_count', { worker: '101' }), 2)
  t.equal(value(merged, 'strictgate_upstream_up', { worker: '202', target: 'http://u:1' }), 0)
  t.equal(value(merged, 'strictgate_client_connections', { worker: '101' }), 2)
  t.ok(value(merged, 'process_resident_memory_bytes', { worker: '202' }) > 0, 'process metrics per worker')
  t.equal(family(merged, 'strictgate_request_duration_seconds').type, 'histogram')
  for (const f of merged.values()) {
    t.ok(
      f.samples.every((s) => s.labels.worker === '101' || s.labels.worker === '202'),
      `${f.name}: every sample labelled`,
    )
  }
  t.equal(mergeExpositions('worker', []), '', 'no worker: empty')
  t.equal(
    mergeExpositions('worker', [{ value: 'a"b', text: '# HELP x X.\n# TYPE x gauge\nx 1\n' }]),
    '# HELP x X.\n# TYPE x gauge\nx{worker="a\\"b"} 1\n',
    'label values escaped',
  )
})
