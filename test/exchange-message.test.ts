// strictgate:exchange carries what an access log line needs, for every exchange: client,
// method and target, status, bytes sent (the exact bytes the client got), duration, upstream,
// error code and start time. Exchanges that fail before a request head exists (400, 408, 431, a
// 503 at the connection limit, a client gone mid-head) are published with request undefined,
// client-aborted ones with status 0. The access log formats read these messages as they are.
import http from 'node:http'
import t from 'tap'
import type { ExchangeMessage } from '../src/index.js'
import { formatJson, formatText } from '../src/ops/access-log.js'
import { collect } from './helpers/channels.js'
import { startGateway } from './helpers/gateway.js'
import { startHttpUpstream } from './helpers/http-upstream.js'
import { RawClient, rawRequest } from './helpers/raw-client.js'
import { leakCheck } from './helpers/resources.js'
import { read, ScriptedUpstream, stall, write } from './helpers/scripted-upstream.js'

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`

t.test('a relayed exchange: every field, bytesSent the exact bytes the client got', async (t) => {
  const up = await ScriptedUpstream.start(t, {
    script: [
      read(),
      write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'),
      read(),
      write('HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n'),
    ],
  })
  const g = await startGateway(t, up.url)
  const exchanges = collect<ExchangeMessage>(t, 'strictgate:exchange')
  const before = Date.now()
  const client = await RawClient.connect(t, g.port)
  client.write(GET('/one?x=1'))
  const one = await client.response()
  client.write(GET('/two'))
  const two = await client.response()
  const after = Date.now()
  const [m1, m2] = await exchanges.wait(2)
  t.same(
    [m1.client, m1.request?.method, m1.request?.target, m1.status, m1.upstream, m1.error],
    ['127.0.0.1', 'GET', '/one?x=1', 200, up.url, undefined],
  )
  t.equal(m1.bytesSent, one.raw.length, 'bytesSent: the head and body the client got')
  t.same([m2.request?.target, m2.status, m2.bytesSent], ['/two', 201, two.raw.length], 'per exchange, chunked too')
  for (const m of [m1, m2]) {
    t.ok(m.started >= before - 1 && m.started <= after + 1, `started ${m.started} is epoch ms`)
    t.ok(m.durationMs >= 0 && m.durationMs <= after - before + 1, `durationMs ${m.durationMs}`)
  }
  const text = formatText(m1).trimEnd().split(' ')
  t.same(text.slice(1), ['127.0.0.1', 'GET', '/one?x=1', '200', String(one.raw.length), text[6], up.url, '-'])
  const json = JSON.parse(formatJson(m2))
  t.same(
    [json.target, json.status, json.bytesSent, json.upstream, json.code],
    ['/two', 201, two.raw.length, up.url, null],
  )
})

t.test("the gateway's error pages: bytesSent counts them, the code is there", async (t) => {
  const up = await ScriptedUpstream.start(t, { script: [read(), write('HTTP/1.1 999 Nope\r\n\r\n')] })
  const g = await startGateway(t, up.url)
  const exchanges = collect<ExchangeMessage>(t, 'strictgate:exchange')
  const { response } = await rawRequest(t, g.port, GET('/bad'))
  t.equal(response.status, 502)
  const [m] = await exchanges.wait(1)
  t.same(
    [m.request?.target, m.status, m.error?.code, m.bytesSent, m.upstream],
    ['/bad', 502, 'UPSTREAM_INVALID_STATUS_CODE', response.raw.length, up.url],
  )
})

t.test('failures before a request head exists: published with request undefined', async (t) => {
  const up = await startHttpUpstream(t, (_req, res) => res.end('ok'))
  const g = await startGateway(t, up.url, { timeouts: { request: 300 }, limits: { maxHeaderBytes: 1024 } })
  const exchanges = collect<ExchangeMessage>(t, 'strictgate:exchange')
  const cases: [string, string, number][] = [
    ['a malformed request line', 'GET /a b HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['a head over maxHeaderBytes', `GET / HTTP/1.1\r\nHost: a\r\nX: ${'y'.repeat(2000)}\r\n\r\n`, 431],
    ['a head never finished', 'GET / HTTP/1.1\r\nHost: a\r\n', 408],
  ]
  for (const [what, bytes, status] of cases) {
    const { response } = await rawRequest(t, g.port, bytes)
    t.equal(response.status, status, what)
    const m = (await exchanges.wait(1, what)).shift() as ExchangeMessage
    t.same(
      [m.request, m.status, m.bytesSent, m.upstream, m.client],
      [undefined, status, response.raw.length, undefined, '127.0.0.1'],
      what,
    )
    if (status === 408) t.ok(m.durationMs >= 250, `408 after the request timeout: ${m.durationMs} ms`)
  }
  // A client that goes away mid-head: nothing sent, status 0.
  const client = await RawClient.connect(t, g.port)
  client.write('GET /half HTTP/1.1\r\nHo')
  client.socket.end()
  const [gone] = await exchanges.wait(1, 'the client gone mid-head')
  t.same([gone.request, gone.status, gone.error?.code, gone.bytesSent], [undefined, 0, 'CLIENT_ABORTED', 0])
})

t.test('a connection refused at the limit is an exchange too (503, no request)', async (t) => {
  const up = await startHttpUpstream(t, (_req, res) => res.end('ok'))
  const g = await startGateway(t, up.url, { limits: { maxConnections: 1 } })
  const first = await RawClient.connect(t, g.port)
  first.write(GET('/keep'))
  await first.response()
  const exchanges = collect<ExchangeMessage>(t, 'strictgate:exchange')
  const second = await RawClient.connect(t, g.port)
  const refused = await second.response()
  t.equal(refused.status, 503)
  const [m] = await exchanges.wait(1)
  t.same(
    [m.request, m.status, m.error?.code, m.bytesSent],
    [undefined, 503, 'GATEWAY_CONNECTION_LIMIT', refused.raw.length],
  )
})

t.test('a client that goes away mid-response: status 0, what it was sent so far', async (t) => {
  const up = await ScriptedUpstream.start(t, {
    script: [read(), write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789'), stall(60_000)],
  })
  const g = await startGateway(t, up.url)
  const exchanges = collect<ExchangeMessage>(t, 'strictgate:exchange')
  const client = await RawClient.connect(t, g.port)
  client.write(GET('/partial'))
  // Wait for the head (read as a HEAD's answer: the head alone) and the ten body bytes, then go away.
  const head = await client.response({ head: true })
  const all = await client.bytes(head.raw.length + 10)
  client.destroy()
  const [m] = await exchanges.wait(1)
  t.same([m.request?.target, m.status, m.error?.code, m.upstream], ['/partial', 0, 'CLIENT_ABORTED', up.url])
  t.equal(m.bytesSent, all.length, 'the head and the ten body bytes')
})

t.test('embedded (proxy()): bytesSent counts the body; a refused head is published without request', async (t) => {
  const up = await startHttpUpstream(t, (_req, res) => res.end('0123456789'))
  const g = await startGateway(t, up.url)
  const server = http.createServer((req, res) => void g.gateway.proxy(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const port = (server.address() as { port: number }).port
  const exchanges = collect<ExchangeMessage>(t, 'strictgate:exchange')
  const ok = await fetch(`http://127.0.0.1:${port}/e`)
  t.equal(await ok.text(), '0123456789')
  // Two Host fields: node:http lets it through, the gateway's request rules refuse it.
  const { response } = await rawRequest(t, port, 'GET /e HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n')
  t.equal(response.status, 400)
  const [m1, m2] = await exchanges.wait(2)
  t.same([m1.request?.target, m1.status, m1.bytesSent, m1.upstream], ['/e', 200, 10, up.url])
  t.same(
    [m2.request, m2.status, m2.error?.code, m2.bytesSent],
    [undefined, 400, 'CLIENT_INVALID_HEADER', response.body.length],
  )
})

leakCheck(t)
