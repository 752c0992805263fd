// gateway.close() with embedded exchanges in flight, through every server kind: they finish
// (bounded by timeouts.shutdown) and the user's server stays open; and the client-side bound the
// gateway keeps in embedded mode: timeouts.idle on a client that stops reading the response, or
// stops sending the body, while an upstream connection waits on it. And the read buffer the
// upstream side reuses is never overwritten while node:http still holds a view of it.
import net from 'node:net'
import t from 'tap'
import { pattern, sha256 } from '../helpers/bytes.js'
import { SERVER_KINDS, skipFor, startFront, TLS_KINDS, watchProcessErrors } from '../helpers/embedded.js'
import { startHttpUpstream } from '../helpers/http-upstream.js'
import { eventually, RawClient } from '../helpers/raw-client.js'
import { leakCheck } from '../helpers/resources.js'
import { read, ScriptedUpstream, stall, write } from '../helpers/scripted-upstream.js'

const processErrors = watchProcessErrors(t)

for (const kind of SERVER_KINDS) {
  t.test(kind, { skip: skipFor(kind) }, async (t) => {
    t.test('close(): an exchange in flight finishes; the server stays open and new requests get 503', async (t) => {
      let release: () => void = () => {}
      const gate = new Promise<void>((resolve) => (release = resolve))
      const up = await startHttpUpstream(t, (_req, res) => void gate.then(() => res.end('finished')))
      const front = await startFront(t, kind, up.url)
      const pending = front.request({ path: '/slow' })
      await eventually(() => front.gateway.stats().embedded === 1, 'the exchange in flight')
      let closed = false
      const closing = front.gateway.close().then(() => (closed = true))
      // close() waits for the exchange: it is still open once the event loop has turned.
      await new Promise((resolve) => setImmediate(resolve))
      t.notOk(closed, 'close() waits for the exchange in flight')
      release()
      const res = await pending
      t.equal(res.status, 200)
      t.equal(res.body.toString(), 'finished')
      t.ok(res.complete)
      await closing
      const after = await front.request({ path: '/after' })
      t.equal(after.status, 503, "the user's server still answers; the closed gateway refuses")
      t.same(
        front.results.map((r) => [r.status, r.error?.code]),
        [
          [200, undefined],
          [503, 'GATEWAY_CONNECTION_LIMIT'],
        ],
      )
    })

    t.test('close(): an exchange still running after timeouts.shutdown is cut off', async (t) => {
      const up = await ScriptedUpstream.start(t, { script: [read(), stall(10_000)] })
      const front = await startFront(t, kind, up.url, { timeouts: { shutdown: 300 } })
      const pending = front.request({ path: '/never' })
      await eventually(() => front.gateway.stats().embedded === 1, 'the exchange in flight')
      const started = Date.now()
      await front.gateway.close()
      const took = Date.now() - started
      t.ok(took >= 250 && took < 5_000, `close() took timeouts.shutdown (300 ms), bounded: ${took} ms`)
      const res = await pending
      t.notOk(res.complete, 'the client sees the exchange cut off, not a response')
      const [result] = await front.settled(1)
      t.equal(result.status, 0)
      t.equal(result.error?.code, 'CLIENT_ABORTED')
    })

    t.test('timeouts.idle: a client that takes no response bytes is cut off (CLIENT_TIMEOUT)', async (t) => {
      const size = 32 * 1024 * 1024
      const up = await ScriptedUpstream.start(t, {
        script: [read(), write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`), write(Buffer.alloc(size, 0x61))],
      })
      const front = await startFront(t, kind, up.url, { timeouts: { idle: 300 } })
      // The client reads nothing for far longer than timeouts.idle.
      const res = await front.request({ path: '/large', pauseMs: 1_500 })
      t.notOk(res.complete, 'cut off')
      const [result] = await front.settled(1)
      t.same([result.status, result.error?.code], [0, 'CLIENT_TIMEOUT'])
      t.same(
        front.errors.map((e) => e.code),
        ['CLIENT_TIMEOUT'],
      )
    })

    t.test('the reused upstream read buffer is not overwritten under a slow client', async (t) => {
      // Small upstream writes, each its own read at the gateway, while the client reads nothing:
      // node:http queues the body slices (views of the read buffer) meanwhile.
      for (const chunked of [false, true]) {
        const size = 6 * 1024 * 1024
        const body = pattern(size, chunked ? 5 : 6)
        const upstream = net.createServer((socket) => {
          socket.on('error', () => {})
          socket.once('data', () => {
            socket.write(
              `HTTP/1.1 200 OK\r\n${chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${size}`}\r\n\r\n`,
            )
            let pos = 0
            const next = (): void => {
              if (socket.destroyed) return
              if (pos >= size) return void (chunked && socket.write('0\r\n\r\n'))
              const piece = body.subarray(pos, pos + 4000)
              pos += piece.length
              socket.write(
                chunked
                  ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')])
                  : piece,
              )
              setImmediate(next)
            }
            next()
          })
        })
        await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
        t.teardown(() => new Promise<void>((resolve) => upstream.close(() => resolve())))
        const front = await startFront(t, kind, `http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`)
        const res = await front.request({ path: '/pieces', pauseMs: 300 })
        t.ok(res.complete, `${chunked ? 'chunked' : 'Content-Length'}: complete`)
        t.equal(res.body.length, size)
        t.equal(sha256(res.body), sha256(body), `${chunked ? 'chunked' : 'Content-Length'}: byte for byte`)
      }
    })
  })
}

// The request side of timeouts.idle, over raw HTTP/1.1 (a client that stops mid-body).
for (const kind of SERVER_KINDS.filter((k) => !TLS_KINDS.includes(k))) {
  t.test(`${kind}: a client that stops sending the body gets 408 after timeouts.idle`, async (t) => {
    const up = await ScriptedUpstream.start(t, {
      script: [read(), write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')],
    })
    const front = await startFront(t, kind, up.url, { timeouts: { idle: 300 } })
    const client = await RawClient.connect(t, front.port)
    client.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789')
    const response = await client.response()
    t.equal(response.status, 408)
    const [result] = await front.settled(1)
    t.same([result.status, result.error?.code], [408, 'CLIENT_TIMEOUT'])
  })
}

processErrors.check()
leakCheck(t)
