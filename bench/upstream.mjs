// The benchmark upstream: a minimal node:net server that answers each request with a prebuilt
// response chosen by path, so that as little CPU as possible goes to the origin and the proxy
// in front of it is what gets measured. Keep-alive, pipelining-safe (answers in order), no
// Date or other per-request work.
//
//   /small    200, Content-Length: 13 ("Hello, World!")
//   /64k      200, Content-Length: 65536 (deterministic pseudo-random bytes)
//   /chunked  200, Transfer-Encoding: chunked, 8 KiB body in 8 chunks of 1 KiB
//   other     404
//
// Run: node bench/upstream.mjs [--port=0]; prints one JSON line {"port":N} once listening.
// Imported (by bench/run.mjs), it only exports the expected bodies for the byte-for-byte check.

import net from 'node:net'
import { fileURLToPath } from 'node:url'

function pseudoRandomBytes(length, seed) {
  const out = Buffer.allocUnsafe(length)
  let x = seed >>> 0
  for (let i = 0; i < length; i++) {
    // xorshift32: cheap, deterministic, and not a repeating pattern a buggy relay could fake.
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

const CHUNK_COUNT = 8
const CHUNK_SIZE = 1024

/** Body bytes each path must deliver (after de-chunking). */
export const bodies = {
  '/small': Buffer.from('Hello, World!'),
  '/64k': pseudoRandomBytes(64 * 1024, 0x9e3779b9),
  '/chunked': pseudoRandomBytes(CHUNK_COUNT * CHUNK_SIZE, 0x85ebca6b),
}

function contentLengthResponse(type, body) {
  const head = `HTTP/1.1 200 OK\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n`
  return Buffer.concat([Buffer.from(head, 'latin1'), body])
}

function chunkedResponse(body) {
  const parts = [
    Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n'),
  ]
  for (let i = 0; i < CHUNK_COUNT; i++) {
    parts.push(Buffer.from(`${CHUNK_SIZE.toString(16)}\r\n`), body.subarray(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE))
    parts.push(Buffer.from('\r\n'))
  }
  parts.push(Buffer.from('0\r\n\r\n'))
  return Buffer.concat(parts)
}

const responses = new Map([
  ['/small', contentLengthResponse('text/plain', bodies['/small'])],
  ['/64k', contentLengthResponse('application/octet-stream', bodies['/64k'])],
  ['/chunked', chunkedResponse(bodies['/chunked'])],
])
const notFound = contentLengthResponse('text/plain', Buffer.from('not found\n'))
const badRequest = Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')

const HEAD_END = Buffer.from('\r\n\r\n')
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i
const TRANSFER_ENCODING = /\r\ntransfer-encoding:/i
const CONNECTION_CLOSE = /\r\nconnection:[^\r]*\bclose\b/i

function serve(socket) {
  socket.setNoDelay(true)
  socket.on('error', () => {})
  let pending = null // unparsed bytes carried over from the previous chunk
  let skip = 0 // request body bytes still to discard
  socket.on('data', (chunk) => {
    let buf = pending === null ? chunk : Buffer.concat([pending, chunk])
    pending = null
    if (skip > 0) {
      const n = Math.min(skip, buf.length)
      skip -= n
      buf = buf.subarray(n)
    }
    let start = 0
    socket.cork()
    while (start < buf.length) {
      const end = buf.indexOf(HEAD_END, start)
      if (end === -1) {
        pending = buf.subarray(start)
        break
      }
      const head = buf.latin1Slice(start, end + 2)
      start = end + 4
      const sp1 = head.indexOf(' ')
      const sp2 = head.indexOf(' ', sp1 + 1)
      if (sp1 <= 0 || sp2 <= sp1 || TRANSFER_ENCODING.test(head)) {
        socket.end(badRequest)
        return
      }
      socket.write(responses.get(head.slice(sp1 + 1, sp2)) ?? notFound)
      const cl = CONTENT_LENGTH.exec(head)
      if (cl !== null) {
        const n = Number(cl[1])
        const have = Math.min(n, buf.length - start)
        start += have
        skip = n - have
      }
      if (CONNECTION_CLOSE.test(head)) {
        socket.end()
        break
      }
    }
    socket.uncork()
  })
}

function main() {
  const arg = process.argv.slice(2).find((a) => a.startsWith('--port='))
  const port = arg === undefined ? 0 : Number(arg.slice('--port='.length))
  const server = net.createServer({ noDelay: true }, serve)
  server.listen({ port, host: '127.0.0.1', backlog: 1024 }, () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`)
  })
  process.on('SIGTERM', () => process.exit(0))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main()
