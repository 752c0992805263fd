// Regression guard: client bytes are read into a reused per-connection buffer (client-reads.ts)
// where the runtime allows it. Anything that outlives the read's callback must not be a view of
// that buffer, or the next read overwrites it:
// - a request head kept while the exchange waits for an upstream connection (the head is
//   serialized only when one is free): the parser copies heads out (headMemory);
// - request body bytes queued for an upstream that is not ready, or a write to it that did not
//   complete: the next read goes to a new buffer (ReadBuffer.hold);
// - pipelined requests held while a response is in flight: copied.
import net from 'node:net'
import t from 'tap'
import { pattern, sha256 } from '../helpers/bytes.js'
import { startGateway } from '../helpers/gateway.js'
import { eventually } from '../helpers/raw-client.js'
import { leakCheck } from '../helpers/resources.js'
import { peerOf, peerRead } from '../helpers/socket-watch.js'

/** An upstream that records each request's head and body hash, and holds /slow until released. */
async function recordingUpstream(t: Parameters<typeof startGateway>[0]) {
  const seen: { head: string; body: string }[] = []
  const held: (() => void)[] = []
  const server = net.createServer((socket) => {
    let buf = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      for (;;) {
        const end = buf.indexOf('\r\n\r\n')
        if (end < 0) return
        const head = buf.toString('latin1', 0, end)
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0)
        if (buf.length < end + 4 + length) return
        const body = buf.subarray(end + 4, end + 4 + length)
        buf = buf.subarray(end + 4 + length)
        seen.push({ head, body: sha256(Buffer.from(body)) })
        const answer = () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
        if (head.startsWith('GET /slow')) held.push(answer)
        else answer()
      }
    })
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const port = (server.address() as net.AddressInfo).port
  return { url: `http://127.0.0.1:${port}`, seen, held }
}

t.test('a head waiting for an upstream connection, its body read after it: both arrive intact', async (t) => {
  const up = await recordingUpstream(t)
  // One upstream connection: the second request waits in the pool's queue for it.
  const g = await startGateway(t, up.url, { pool: { maxSockets: 1 } })
  const slow = await g.connect()
  slow.write('GET /slow HTTP/1.1\r\nHost: a\r\n\r\n')
  await eventually(() => up.held.length === 1, 'the slow request to reach the upstream')
  const client = await g.connect()
  const body = pattern(60_000, 42)
  const head = `POST /upload?x=1 HTTP/1.1\r\nHost: upload.test\r\nX-Long: ${'h'.repeat(600)}\r\nContent-Length: ${body.length}\r\n\r\n`
  client.write(head)
  // The head in a read of its own (nothing else in that buffer holds it), then the body.
  await peerRead(client.socket, 'the gateway to read the head')
  // The body in many small later reads: each fits the connection's read buffer without filling
  // it (a filled one is replaced by a larger one), so each would go into the same memory.
  for (let i = 0; i < body.length; i += 300) {
    await new Promise((resolve) => setImmediate(resolve))
    client.write(body.subarray(i, i + 300))
  }
  await new Promise((resolve) => setTimeout(resolve, 20))
  for (const answer of up.held) answer()
  const response = await client.response()
  t.equal(response.status, 200)
  await slow.response()
  const upload = up.seen.find((r) => r.head.startsWith('POST'))
  t.ok(upload !== undefined, 'the upload reached the upstream')
  t.equal(
    upload?.head,
    `${head.slice(0, head.indexOf('Content-Length'))}Via: 1.1 strictgate\r\nContent-Length: ${body.length}`,
  )
  t.equal(upload?.body, sha256(body), 'byte for byte')
})

t.test('an upload to an upstream that stops reading: queued writes keep their bytes', async (t) => {
  // The upstream reads the head, then nothing until the client has sent everything: the
  // gateway's writes to it queue (each under the high-water mark, so the client is still read),
  // holding views of the client's read buffer.
  const body = pattern(6 * 1024 * 1024, 7)
  const got: Buffer[] = []
  let resume: () => void = () => {}
  const server = net.createServer((socket) => {
    let head = true
    socket.on('data', (chunk: Buffer) => {
      if (head) {
        head = false
        const end = chunk.indexOf('\r\n\r\n')
        got.push(chunk.subarray(end + 4))
        socket.pause()
        resume = () => socket.resume()
        return
      }
      got.push(chunk)
      if (Buffer.concat(got).length >= body.length) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')
    })
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const g = await startGateway(t, `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`)
  const client = await g.connect()
  client.write(`POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n`)
  for (let i = 0; i < body.length; i += 1_000) {
    // Small writes, each on its own turn: small reads at the gateway, into the same buffer.
    if (i % 16_000 === 0) await new Promise((resolve) => setImmediate(resolve))
    client.write(body.subarray(i, i + 1_000))
  }
  // Until the client sent everything, or the gateway stopped reading it (its writes upstream
  // went over the high-water mark): either way, writes to the upstream are queued now.
  await eventually(
    () => client.socket.writableLength === 0 || peerOf(client.socket)?.isPaused() === true,
    'the body to be sent, or the gateway to push back',
  )
  resume()
  const response = await client.response()
  t.equal(response.status, 200)
  t.equal(sha256(Buffer.concat(got)), sha256(body), 'byte for byte')
})

t.test('pipelined requests held while a response is in flight arrive intact', async (t) => {
  const up = await recordingUpstream(t)
  const g = await startGateway(t, up.url)
  const client = await g.connect()
  client.write('GET /slow HTTP/1.1\r\nHost: a\r\n\r\n')
  await eventually(() => up.held.length === 1, 'the slow request to reach the upstream')
  const bodies = [pattern(3_000, 1), pattern(5_000, 2)]
  client.write(
    Buffer.concat([
      Buffer.from(`POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: ${bodies[0].length}\r\n\r\n`),
      bodies[0],
      Buffer.from(`POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: ${bodies[1].length}\r\n\r\n`),
      bodies[1],
    ]),
  )
  // More reads into the connection's buffer while those wait.
  await new Promise((resolve) => setTimeout(resolve, 20))
  up.held[0]()
  for (let i = 0; i < 3; i++) t.equal((await client.response()).status, 200)
  t.same(
    up.seen.map((r) => [r.head.split('\r\n')[0], r.body]),
    [
      ['GET /slow HTTP/1.1', sha256(Buffer.alloc(0))],
      ['POST /a HTTP/1.1', sha256(bodies[0])],
      ['POST /b HTTP/1.1', sha256(bodies[1])],
    ],
  )
})

leakCheck(t)
