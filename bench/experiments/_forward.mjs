// A minimal forwarding proxy for the client-onread experiment: one upstream connection per
// client connection, bytes copied both ways with socket.write (no parsing), like
// bench/proxies/pipe.mjs but without pipe()'s stream machinery, so that the client read path
// is the only thing the variants change:
//
//   fwd-data    client read with 'data' (what strictgate does today)
//   fwd-pause   client read with onread, way 1 (pauseOnConnect + the kBuffer fields)
//   fwd-rewrap  client read with onread, way 2 (new net.Socket({ handle, onread }))
//
// The upstream side is read with the public `net.connect({ onread })` in all three.
// Each read buffer is reused from read to read unless a write still refers to it: a write
// that did not complete synchronously (writableLength > 0 after it) keeps its view of the
// buffer, so the next read gets a fresh buffer (the buffer-reuse hazard of onread).

import net from 'node:net'
import { nodeSystem } from '../proxies/_common.mjs'
import { readIntoPause, readIntoRewrap } from './client-onread.mjs'

const BAD_GATEWAY = 'HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
const READ_BUFFER = 16 * 1024

/** An onread buffer source and callback that write what is read to `target()`. */
function relay(target, source) {
  let buffer = Buffer.allocUnsafe(READ_BUFFER)
  let held = false
  return {
    next: () => {
      if (held) {
        buffer = Buffer.allocUnsafe(READ_BUFFER)
        held = false
      }
      return buffer
    },
    write(chunk) {
      const to = target()
      const ok = to.write(chunk)
      if (to.writableLength > 0) held = true // the write keeps a view of `buffer`
      if (!ok) {
        source().pause()
        to.once('drain', () => source().resume())
      }
    },
  }
}

export function forwardSystem(moduleUrl, { name, order, way }) {
  return nodeSystem(moduleUrl, {
    name,
    order,
    version: () => `experiment (client reads: ${way})`,
    listen(upstream, port) {
      const { hostname, port: upstreamPort } = new URL(upstream)
      const server = net.createServer({ pauseOnConnect: way === 'pause', noDelay: true }, (accepted) => {
        let client = accepted
        let up = null
        const toUp = relay(
          () => up,
          () => client,
        )
        const toClient = relay(
          () => client,
          () => up,
        )
        const fromClient = (n, buf) => {
          toUp.write(buf.subarray(0, n))
          return true
        }
        if (way === 'pause') {
          readIntoPause(accepted, toUp.next, fromClient)
          accepted.resume()
        } else if (way === 'rewrap') {
          client = readIntoRewrap(accepted, toUp.next, fromClient)
        }
        // 'data' for way 'data', or when the way could not be installed (never on Node 20-24).
        client.on('data', (chunk) => toUp.write(chunk))
        let answered = false
        up = net.connect({
          host: hostname,
          port: Number(upstreamPort),
          noDelay: true,
          onread: {
            buffer: toClient.next,
            callback: (n, buf) => {
              answered = true
              toClient.write(buf.subarray(0, n))
              return true
            },
          },
        })
        up.on('error', () => {
          if (!answered && !client.destroyed) client.end(BAD_GATEWAY)
          else client.destroy()
        })
        up.on('end', () => client.end())
        client.on('end', () => up.end())
        client.on('error', () => up.destroy())
        client.on('close', () => up.destroy())
      })
      return new Promise((resolve) => server.listen(port, '127.0.0.1', resolve))
    },
  })
}
