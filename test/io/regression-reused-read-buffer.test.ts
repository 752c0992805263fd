// Regression guard: upstream bytes are read into a reused per-connection buffer (net.Socket
// `onread`), and body slices go to the client as views of it (small chunks, framed, as copies in
// the reused output memory of output-arena.ts). A client write that does not
// complete at once still refers to that memory, so the next read must go to a new buffer; reading
// into the same one would overwrite bytes still queued for the client. That happens when the
// client is slow and the upstream sends small pieces: each write queues (under the high-water
// mark, so reading goes on) while the next piece arrives.
import net from 'node:net'
import t, { type Test } from 'tap'
import { pattern, sha256 } from '../helpers/bytes.js'
import { startGateway } from '../helpers/gateway.js'
import { readMessage } from '../helpers/http-reader.js'
import { leakCheck } from '../helpers/resources.js'

// More than the kernel buffers on both sides of the client connection take (about 4 MiB here).
const BODY_SIZE = 12 * 1024 * 1024
const PIECE = 4000
const CRLF = Buffer.from('\r\n')

async function relayToSlowClient(t: Test, chunked: boolean): Promise<void> {
  const body = pattern(BODY_SIZE, 0x9e3779b9)
  const upstream = net.createServer((socket) => {
    socket.once('data', () => {
      const framing = chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${BODY_SIZE}`
      socket.write(`HTTP/1.1 200 OK\r\n${framing}\r\n\r\n`)
      let pos = 0
      // Small writes, each on its own turn of the event loop: one small read each at the gateway.
      const next = (): void => {
        if (socket.destroyed) return
        if (pos >= BODY_SIZE) {
          if (chunked) socket.write('0\r\n\r\n')
          return
        }
        const piece = body.subarray(pos, pos + PIECE)
        socket.write(chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, CRLF]) : piece)
        pos += PIECE
        setImmediate(next)
      }
      next()
    })
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  t.teardown(() => upstream.close())
  const { port: upstreamPort } = upstream.address() as net.AddressInfo
  const { port, codes } = await startGateway(t, `http://127.0.0.1:${upstreamPort}`)

  const received = await new Promise<Buffer>((resolve, reject) => {
    const client = net.connect({ port, host: '127.0.0.1' })
    const chunks: Buffer[] = []
    client.on('error', reject)
    client.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    // Read nothing for a while: the gateway's writes to this socket queue up meanwhile.
    client.pause()
    setTimeout(() => client.resume(), 300)
    client.on('data', (c: Buffer) => chunks.push(c))
    client.on('end', () => resolve(Buffer.concat(chunks)))
  })
  const read = readMessage(received, 0, { response: true, eof: true })
  t.ok(read !== null && read.end === received.length, 'one response, nothing after it')
  const message = read?.message
  t.equal(message?.status, 200)
  t.equal(message?.framing, chunked ? 'chunked' : 'length')
  t.ok(message?.complete, 'complete')
  t.equal(message?.body.length, BODY_SIZE, 'whole body')
  t.equal(sha256(message?.body ?? Buffer.alloc(0)), sha256(body), 'same bytes')
  t.same(codes(), [], 'no errors')
}

t.test('a Content-Length body relayed to a slow client in small pieces arrives byte for byte', (t) =>
  relayToSlowClient(t, false),
)

// Small chunks are copied, framed, into the gateway's reused output memory (output-arena.ts):
// memory a pending write holds must not be filled again.
t.test('a chunked body relayed to a slow client in small chunks arrives byte for byte', (t) =>
  relayToSlowClient(t, true),
)

leakCheck(t)
