// The gateway's metrics, always on: gateway.metrics() (the exposition text, parsed here, never
// matched by eye), gateway.health(), and listenAdmin() serving both (GET /metrics, /healthz), with
// /healthz 503 while close() drains.
import net from 'node:net'
import t, { type Test } from 'tap'
import { startGateway } from './helpers/gateway.js'
import { startHttpUpstream } from './helpers/http-upstream.js'
import { refusedPort } from './helpers/ports.js'
import { family, parseExposition, value } from './helpers/prometheus.js'
import { eventually, RawClient, rawRequest } from './helpers/raw-client.js'
import { leakCheck } from './helpers/resources.js'

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`

/** A keep-alive upstream answering by path: /ok 200, /missing 404, /invalid a status code 99 (S3). */
async function byPath(t: Test): Promise<string> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {})
    socket.on('data', (d: Buffer) => {
      const path = d.toString('latin1').split(' ')[1]
      if (path === '/ok') socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
      else if (path === '/missing') socket.write('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n')
      else socket.write('HTTP/1.1 99 Bad\r\n\r\n')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`
}

t.test('requests by status class, errors by code, the duration histogram, targets and connections', async (t) => {
  const upstream = await byPath(t)
  const down = `http://127.0.0.1:${await refusedPort()}`
  // Requests go to `upstream` unless routed to `down` by their path.
  const g = await startGateway(t, [upstream, down], {
    retries: 0,
    route: (r) => (r.target === '/refused' ? down : upstream),
  })
  const before = parseExposition(g.gateway.metrics())
  t.equal(value(before, 'strictgate_requests_total', { code_class: '2xx' }), 0, 'nothing counted yet')
  const client = await RawClient.connect(t, g.port)
  for (const [path, status] of [
    ['/ok', 200],
    ['/missing', 404],
    ['/invalid', 502],
  ] as const) {
    client.write(GET(path))
    t.equal((await client.response()).status, status, path)
  }
  // One-off connections, closed by the client once answered: the gateway would otherwise keep
  // them (keep-alive after the 502; lingering for the client's FIN after the 400) for seconds.
  for (const [bytes, status] of [
    [GET('/refused'), 502],
    ['GET /a b HTTP/1.1\r\n\r\n', 400],
  ] as const) {
    const { client: oneOff, response } = await rawRequest(t, g.port, bytes)
    t.equal(response.status, status)
    oneOff.destroy()
  }
  client.write(GET('/ok'))
  t.equal((await client.response()).status, 200)
  await eventually(() => g.gateway.stats().clients === 1, 'the one-off connections to close')
  const m = parseExposition(g.gateway.metrics())
  const byClass = Object.fromEntries(
    family(m, 'strictgate_requests_total').samples.map((s) => [s.labels.code_class, s.value]),
  )
  t.same(byClass, { aborted: 0, '1xx': 0, '2xx': 2, '3xx': 0, '4xx': 2, '5xx': 2 })
  t.equal(value(m, 'strictgate_errors_total', { code: 'UPSTREAM_INVALID_STATUS_CODE' }), 1)
  t.equal(value(m, 'strictgate_errors_total', { code: 'UPSTREAM_CONNECT_REFUSED' }), 1)
  t.equal(value(m, 'strictgate_errors_total', { code: 'CLIENT_INVALID_REQUEST' }), 1)
  t.equal(value(m, 'strictgate_errors_total', { code: 'UPSTREAM_CLOSED' }), 0, 'every code listed, 0 when unseen')
  t.equal(value(m, 'strictgate_request_duration_seconds_count'), 6, 'one observation per exchange')
  t.ok(value(m, 'strictgate_request_duration_seconds_sum') > 0)
  t.equal(value(m, 'strictgate_client_connections'), 1, 'the keep-alive client')
  t.equal(value(m, 'strictgate_upstream_up', { target: upstream }), 1)
  t.equal(value(m, 'strictgate_upstream_connections', { target: upstream, state: 'idle' }), 1, 'the pooled one')
  t.equal(value(m, 'strictgate_upstream_connections', { target: upstream, state: 'active' }), 0)
  t.equal(value(m, 'strictgate_upstream_requests_total', { target: upstream }), 4)
  t.equal(value(m, 'strictgate_upstream_failures_total', { target: down }), 1)
  t.equal(value(m, 'strictgate_tls_handshake_failures_total'), 0)
  for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes']) {
    t.ok(m.has(name), `${name}: the process metrics`)
  }
})

t.test('health(): 200 while serving, 503 while close() drains', async (t) => {
  let release: () => void = () => {}
  const up = await startHttpUpstream(t, (_req, res) => {
    release = () => res.end('late')
  })
  const g = await startGateway(t, up.url, { timeouts: { shutdown: 8_000 } })
  t.same(g.gateway.health(), { status: 200, reason: 'ok' })
  const admin = await g.gateway.listenAdmin({ port: 0 })
  const adminUrl = `http://127.0.0.1:${admin.port}`
  const healthz = async () => {
    const res = await fetch(`${adminUrl}/healthz`)
    return [res.status, await res.text()]
  }
  t.same(await healthz(), [200, 'ok\n'])
  const metrics = await fetch(`${adminUrl}/metrics`)
  t.equal(metrics.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
  t.equal(value(parseExposition(await metrics.text()), 'strictgate_client_connections'), 0)
  // An exchange in flight holds the drain open.
  const client = await RawClient.connect(t, g.port)
  client.write(GET('/slow'))
  await eventually(() => g.gateway.stats().upstream.open === 1, 'the request to reach the upstream')
  const closed = g.gateway.close()
  t.same(g.gateway.health(), { status: 503, reason: 'shutting down' })
  t.same(await healthz(), [503, 'shutting down\n'], '/healthz during the drain')
  release()
  t.equal((await client.response()).status, 200, 'the exchange in flight finished')
  await closed
  const after = await new Promise<Error | null>((resolve) => {
    const s = net.connect(admin.port, '127.0.0.1', () => {
      s.destroy()
      resolve(null)
    })
    s.on('error', resolve)
  })
  t.ok(after instanceof Error, 'the admin listener is closed with the gateway')
  await t.rejects(g.gateway.listenAdmin(), /closed/)
})

leakCheck(t)
