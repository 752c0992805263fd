// The admin listener (src/ops/admin.ts) with real clients: fetch (undici), node:http, curl when
// installed, and raw bytes for requests node:http must refuse.
import { execFile, execFileSync } from 'node:child_process'
import net from 'node:net'
import t, { type Test } from 'tap'
import { type AdminOptions, type AdminStatus, createAdminServer, healthOf } from '../../src/ops/admin.js'
import { GatewayMetrics } from '../../src/ops/gateway-metrics.js'
import { field } from '../helpers/http-reader.js'
import { httpRequest } from '../helpers/http-upstream.js'
import { family, parseExposition, value } from '../helpers/prometheus.js'
import { RawClient } from '../helpers/raw-client.js'
import { leakCheck } from '../helpers/resources.js'

const UP: AdminStatus = { shuttingDown: false, targets: [{ up: true }, { up: false }] }

async function start(t: Test, options: Partial<AdminOptions> = {}) {
  const metrics = new GatewayMetrics({ processMetrics: false })
  metrics.exchange(200, 3)
  const admin = createAdminServer({ metrics: () => metrics.render(), status: () => UP, ...options })
  t.teardown(() => admin.close())
  const { port } = await admin.listen({ port: 0 })
  return { admin, port, url: `http://127.0.0.1:${port}` }
}

t.test('GET /metrics: the exposition format 0.0.4', async (t) => {
  const { url } = await start(t)
  for (const path of ['/metrics', '/metrics?name[]=x']) {
    const res = await fetch(`${url}${path}`)
    t.equal(res.status, 200, path)
    t.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
    t.equal(res.headers.get('cache-control'), 'no-store')
    const m = parseExposition(await res.text())
    t.equal(value(m, 'strictgate_requests_total', { code_class: '2xx' }), 1)
    t.equal(family(m, 'strictgate_request_duration_seconds').type, 'histogram')
  }
})

t.test('HEAD: the GET fields, no body', async (t) => {
  const { port } = await start(t)
  const get = await httpRequest({ port, path: '/metrics', agent: false })
  const head = await httpRequest({ port, path: '/metrics', method: 'HEAD', agent: false })
  t.equal(head.status, 200)
  t.equal(head.body.length, 0, 'no body')
  t.equal(Number(head.headers['content-length']), get.body.length, "Content-Length of GET's body")
  t.equal(head.headers['content-type'], get.headers['content-type'])
  const health = await httpRequest({ port, path: '/healthz', method: 'HEAD', agent: false })
  t.same([health.status, health.headers['content-length'], health.body.length], [200, '3', 0])
})

t.test('/healthz: 200 while serving; 503 while shutting down or with every target down', async (t) => {
  let status: AdminStatus = UP
  const { url } = await start(t, { status: () => status })
  const get = async () => {
    const res = await fetch(`${url}/healthz`)
    return [res.status, await res.text(), res.headers.get('content-type')]
  }
  t.same(await get(), [200, 'ok\n', 'text/plain; charset=utf-8'], 'one target up of two')
  status = { shuttingDown: false, targets: [{ up: false }, { up: false }] }
  t.same(await get(), [503, 'no upstream target is up\n', 'text/plain; charset=utf-8'])
  status = { shuttingDown: true, targets: [{ up: true }] }
  t.same(await get(), [503, 'shutting down\n', 'text/plain; charset=utf-8'])
  t.same(healthOf({ shuttingDown: false, targets: [] }), { status: 200, reason: 'ok' }, 'no targets known: serving')
})

t.test('404 for other paths, 405 with Allow for other methods', async (t) => {
  const { url } = await start(t)
  for (const path of ['/', '/metrics/', '/healthz/x', '/METRICS', '/favicon.ico']) {
    const res = await fetch(`${url}${path}`)
    t.equal(res.status, 404, path)
    await res.text()
  }
  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
    const res = await fetch(`${url}/metrics`, { method })
    t.same([res.status, res.headers.get('allow')], [405, 'GET, HEAD'], method)
    await res.text()
  }
})

t.test('a throwing callback is a 500, and the listener lives on', async (t) => {
  let fail = true
  const { url } = await start(t, {
    metrics: () => {
      if (fail) throw new Error('boom')
      return ''
    },
    status: () => {
      throw new Error('boom')
    },
  })
  t.equal((await fetch(`${url}/metrics`)).status, 500)
  t.equal((await fetch(`${url}/healthz`)).status, 500)
  fail = false
  const res = await fetch(`${url}/metrics`)
  t.same([res.status, await res.text()], [200, ''])
})

t.test('malformed requests: 400 or 431 and closed, never a crash', async (t) => {
  const { port, url } = await start(t)
  const cases: [string, string, number][] = [
    ['garbage', 'HELLO\r\n\r\n', 400],
    ['a bad header', 'GET /metrics HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n', 400],
    ['obs-fold', 'GET /metrics HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n', 400],
    ['a bare LF in the request line', 'GET /metrics HTTP/1.1\nHost: x\r\n\r\n', 400],
    [
      'CL and TE together',
      'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
      400,
    ],
    ['an oversized head', `GET /metrics HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  ]
  for (const [what, bytes, status] of cases) {
    const client = await RawClient.connect(t, port)
    client.write(bytes)
    const response = await client.response()
    t.equal(response.status, status, what)
    t.equal(field(response.headers, 'connection'), 'close', `${what}: Connection: close`)
    t.not(await client.closed(), null, `${what}: connection closed`)
  }
  const half = await RawClient.connect(t, port)
  half.write('GET /metr')
  half.destroy()
  t.equal((await fetch(`${url}/healthz`)).status, 200, 'still serving')
})

let curl = true
try {
  execFileSync('curl', ['--version'], { stdio: 'ignore' })
} catch {
  curl = false
}
t.test('with curl', { skip: curl ? false : 'curl is not on PATH' }, async (t) => {
  const { url } = await start(t)
  const out = await new Promise<string>((resolve, reject) =>
    execFile('curl', ['-sS', '--fail', '--max-time', '10', `${url}/metrics`], (err, stdout) =>
      err === null ? resolve(stdout) : reject(err),
    ),
  )
  t.equal(value(parseExposition(out), 'strictgate_requests_total', { code_class: '2xx' }), 1)
})

t.test('close(): idle keep-alive connections closed, the port released; listen once', async (t) => {
  const { admin, port } = await start(t)
  const client = await RawClient.connect(t, port)
  client.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
  const response = await client.response()
  t.equal(response.status, 200)
  t.ok(client.open, 'a keep-alive connection stays open')
  await t.rejects(admin.listen({ port: 0 }), /already listening/)
  await admin.close()
  t.not(await client.closed(), null, 'the idle connection was closed')
  await t.rejects(
    new Promise((resolve, reject) =>
      net.connect({ port, host: '127.0.0.1' }).on('connect', resolve).on('error', reject),
    ),
    { code: 'ECONNREFUSED' },
  )
  await admin.close()
  t.pass('close() twice is fine')
})

t.test('listen errors reject (the address in use), and a retry may succeed', async (t) => {
  const { port } = await start(t)
  const other = createAdminServer({ metrics: () => '', status: () => UP })
  t.teardown(() => other.close())
  await t.rejects(other.listen({ port }), { code: 'EADDRINUSE' })
  const again = await other.listen({ port: 0 })
  t.not(again.port, port)
})

leakCheck(t)
