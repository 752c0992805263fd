// upgrade(req, socket, head) with real WebSocket peers (the `ws` package): the exchange runs on
// the raw socket, a valid 101 becomes a tunnel, anything else is relayed (or our own 502) and
// the socket closed.
import { createHash } from 'node:crypto'
import http from 'node:http'
import net from 'node:net'
import t, { type Test } from 'tap'
import WebSocket, { WebSocketServer } from 'ws'
import { createGateway, type GatewayError, type ProxyResult } from '../../src/index.js'
import { assertErrorResponse } from '../helpers/assertions.js'
import { watchProcessErrors } from '../helpers/embedded.js'
import { fieldValues } from '../helpers/http-reader.js'
import { RawClient } from '../helpers/raw-client.js'
import { leakCheck, trackGateway } from '../helpers/resources.js'

const processErrors = watchProcessErrors(t)

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='
const accept = (key: string) =>
  createHash('sha1')
    .update(key + GUID)
    .digest('base64')

async function listening(t: Test, server: http.Server | net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        if (server instanceof http.Server) server.closeAllConnections()
      }),
  )
  return (server.address() as net.AddressInfo).port
}

/** A ws echo server (with `verify` deciding the handshake) on node:http. */
async function wsUpstream(t: Test, verify?: () => boolean) {
  const server = http.createServer((_req, res) => res.end('not a websocket'))
  const wss = new WebSocketServer({
    server,
    verifyClient: verify === undefined ? undefined : (_info, cb) => cb(verify(), 403, 'Forbidden'),
  })
  const received: string[] = []
  wss.on('connection', (ws) =>
    ws.on('message', (data, binary) => {
      received.push(data.toString())
      ws.send(data, { binary })
    }),
  )
  t.teardown(() => {
    for (const client of wss.clients) client.terminate()
    wss.close()
  })
  const port = await listening(t, server)
  return { url: `http://127.0.0.1:${port}`, received }
}

/** A node:http front server handing every upgrade to the gateway (and nothing else). */
async function front(t: Test, upstream: string, options: { shutdown?: number } = {}) {
  const errors: GatewayError[] = []
  const results: ProxyResult[] = []
  const heads: number[] = []
  const gateway = createGateway({
    upstream,
    timeouts: { shutdown: options.shutdown ?? 3_000, response: 8_000 },
    onError: (err) => void errors.push(err),
  })
  const close = trackGateway(gateway, t.fullname)
  t.teardown(close)
  const server = http.createServer((_req, res) => res.end('plain request'))
  server.on('upgrade', (req, socket, head) => {
    heads.push(head.length)
    void gateway.upgrade(req, socket, head).then((r) => results.push(r))
  })
  const port = await listening(t, server)
  return { gateway, port, errors, results, heads, close, server }
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(data.toString())))
}

/** How a client's handshake failed: the status of the response it got instead of a 101. */
function refused(ws: WebSocket): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      res.resume()
      resolve({ status: res.statusCode ?? 0, headers: res.headers })
    })
    ws.once('open', () => reject(new Error('the handshake succeeded')))
    ws.on('error', () => {})
  })
}

/** A client-to-server text frame (masked, RFC 6455 §5.3), short payloads only. */
function maskedFrame(text: string): Buffer {
  const payload = Buffer.from(text)
  const mask = Buffer.from([1, 2, 3, 4])
  const out = Buffer.alloc(6 + payload.length)
  out[0] = 0x81
  out[1] = 0x80 | payload.length
  mask.copy(out, 2)
  for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i] ^ mask[i % 4]
  return out
}

const handshake = (path: string) =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
  `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${KEY}\r\n\r\n`

t.test('echo round trip through upgrade()', async (t) => {
  const up = await wsUpstream(t)
  const f = await front(t, up.url)
  const ws = new WebSocket(`ws://127.0.0.1:${f.port}/echo`)
  t.teardown(() => ws.terminate())
  await opened(ws)
  ws.send('hello')
  t.equal(await nextMessage(ws), 'hello')
  ws.send(Buffer.alloc(100_000, 0x61))
  t.equal((await nextMessage(ws)).length, 100_000, 'a large binary message both ways')
  t.equal(f.gateway.stats().embedded, 1, 'the tunnel is counted while open')
  const closed = new Promise((resolve) => ws.once('close', resolve))
  ws.close()
  await closed
  t.same(f.results, [{ status: 101 }], 'upgrade() resolved at the 101')
  t.same(f.errors, [])
})

t.test('bytes the client sent with the handshake (`head`) reach the upstream first', async (t) => {
  const up = await wsUpstream(t)
  const f = await front(t, up.url)
  const client = await RawClient.connect(t, f.port)
  // One write: Node's parser reads the frame with the head and hands it over as `head`.
  client.write(Buffer.concat([Buffer.from(handshake('/early')), maskedFrame('early bird')]))
  const response = await client.response()
  t.equal(response.status, 101)
  t.same(fieldValues(response.headers, 'sec-websocket-accept'), [accept(KEY)])
  // The echo: an unmasked text frame.
  const echo = Buffer.concat([Buffer.from([0x81, 10]), Buffer.from('early bird')])
  await client.until(() => client.unread.includes(echo), 10_000, 'the echoed frame')
  t.ok(f.heads[0] > 0, `upgrade() got a non-empty head (${f.heads[0]} bytes)`)
  t.same(up.received, ['early bird'])
})

t.test('a frame the upstream sends in the same packet as its 101 reaches the client', async (t) => {
  const upstream = net.createServer((socket) => {
    let buf = ''
    socket.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1')
      if (!buf.includes('\r\n\r\n')) return
      const key = /sec-websocket-key: *(\S+)/i.exec(buf)?.[1] ?? ''
      socket.write(
        Buffer.concat([
          Buffer.from(
            `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(key)}\r\n\r\n`,
          ),
          Buffer.from([0x81, 7]),
          Buffer.from('welcome'),
        ]),
      )
    })
    socket.on('error', () => {})
  })
  const upPort = await listening(t, upstream)
  const f = await front(t, `http://127.0.0.1:${upPort}`)
  const ws = new WebSocket(`ws://127.0.0.1:${f.port}/welcome`)
  t.teardown(() => ws.terminate())
  const message = nextMessage(ws)
  await opened(ws)
  t.equal(await message, 'welcome')
})

t.test('a 101 for a protocol the client did not offer is our raw 502 (F7), then the socket closes', async (t) => {
  const upstream = net.createServer((socket) => {
    socket.once('data', () =>
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n'),
    )
    socket.on('error', () => {})
  })
  const upPort = await listening(t, upstream)
  const f = await front(t, `http://127.0.0.1:${upPort}`)
  const client = await RawClient.connect(t, f.port)
  client.write(handshake('/h2c'))
  const response = await client.response()
  assertErrorResponse(t, response, 502, 'UPSTREAM_INVALID_UPGRADE', 'http_upgrade_failed')
  t.equal(await client.closed(), 'fin', 'the socket is closed after the exchange')
  t.same(
    f.results.map((r) => [r.status, r.error?.code]),
    [[502, 'UPSTREAM_INVALID_UPGRADE']],
  )
  t.same(
    f.errors.map((e) => e.code),
    ['UPSTREAM_INVALID_UPGRADE'],
  )
})

t.test("the upstream's 403 is relayed, then the socket closes", async (t) => {
  const up = await wsUpstream(t, () => false)
  const f = await front(t, up.url)
  const ws = new WebSocket(`ws://127.0.0.1:${f.port}/private`)
  t.teardown(() => ws.terminate())
  t.equal((await refused(ws)).status, 403)
  const client = await RawClient.connect(t, f.port)
  client.write(handshake('/private'))
  const response = await client.response()
  t.equal(response.status, 403)
  t.equal(await client.closed(), 'fin', 'the socket is closed after the exchange')
  t.same(f.results, [{ status: 403 }, { status: 403 }])
  t.same(f.errors, [])
})

t.test('our request rules apply to the handshake: two Host fields are a 400, nothing forwarded', async (t) => {
  const up = await wsUpstream(t)
  const f = await front(t, up.url)
  const client = await RawClient.connect(t, f.port)
  client.write(handshake('/x').replace('Host: 127.0.0.1\r\n', 'Host: a\r\nHost: b\r\n'))
  assertErrorResponse(t, await client.response(), 400, 'CLIENT_INVALID_HEADER', 'http_request_error')
  t.equal(await client.closed(), 'fin')
  t.same(up.received, [])
})

t.test('close(): an open tunnel is cut after timeouts.shutdown; the server stays open', async (t) => {
  const up = await wsUpstream(t)
  const f = await front(t, up.url, { shutdown: 300 })
  const ws = new WebSocket(`ws://127.0.0.1:${f.port}/long`)
  t.teardown(() => ws.terminate())
  await opened(ws)
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
  const started = Date.now()
  await f.close()
  t.ok(Date.now() - started >= 250, 'close() waited for timeouts.shutdown')
  t.equal(await closed, 1006, 'then the tunnel was cut (no close frame)')
  t.ok(f.server.listening, "the user's server is still listening")
  t.same(f.gateway.stats().embedded, 0)
})

processErrors.check()
leakCheck(t)
