// Prototype (issue 15): read an *accepted* client socket into a buffer of our own, the way
// `net.connect({ onread })` reads a socket we connect ourselves: no Buffer per read, no
// Readable machinery ('data', push, flowing state) in between. Node offers `onread` only in
// the net.Socket constructor, and the server constructs accepted sockets itself, so there are
// two ways in:
//
//   'pause'   (way 1) Hand the accepted socket the state the constructor's `onread` would have
//             set: the three private symbol-keyed fields (kBuffer, kBufferCb, kBufferGen from
//             lib/internal/stream_base_commons.js), and the handle's useUserBuffer(). Node's
//             onStreamRead() then calls our callback instead of push(). Best with a server
//             created with `pauseOnConnect: true` (nothing read yet; resume() starts reading
//             through tryReadStart), but it works on a socket already reading too, as long as
//             it is done in the same tick as the accept (nothing delivered yet).
//   'rewrap'  (way 2) Build a second net.Socket around the accepted one's handle with the
//             documented `onread` option: `new net.Socket({ handle, onread })`, and retire the
//             first object (its `_handle` and `_server` moved over, so that it can never close
//             the handle and the server's connection count stays right).
//
// Neither is public API. The symbols are found by behaviour (a Socket constructed with
// `onread` holds our buffer and callback under them), not by name; each way is used only when
// that probe passes and the socket is a plain TCP/pipe socket with nothing buffered yet.
// Otherwise: 'data', as today (TLS sockets always: their handle is a TLSWrap whose reads are
// decrypted in JS-visible buffers, and `onread` is not supported there).
//
// Run directly, it checks both ways on this Node with real sockets on 127.0.0.1 and prints
// the result: node bench/experiments/client-onread.mjs

import net from 'node:net'
import { fileURLToPath } from 'node:url'

/**
 * The symbols behind the constructor's `onread` option, found by what the constructor does
 * with it, or null when this runtime does not have them (Bun, Deno, a Node whose internals
 * moved).
 */
function findOnreadSymbols() {
  try {
    const buffer = Buffer.alloc(1)
    const callback = () => true
    const next = () => buffer
    const fixed = new net.Socket({ onread: { buffer, callback } })
    const generated = new net.Socket({ onread: { buffer: next, callback } })
    const own = (s) => Object.getOwnPropertySymbols(s)
    const kBuffer = own(fixed).find((k) => fixed[k] === buffer)
    const kBufferCb = own(fixed).find((k) => fixed[k] === callback)
    const kBufferGen = own(generated).find((k) => generated[k] === next)
    const ok =
      kBuffer !== undefined &&
      kBufferCb !== undefined &&
      kBufferGen !== undefined &&
      generated[kBuffer] === true && // a generator: the constructor stores `true` as the buffer
      fixed[kBufferGen] === null
    fixed.destroy()
    generated.destroy()
    return ok ? { kBuffer, kBufferCb, kBufferGen } : null
  } catch {
    return null
  }
}

const symbols = findOnreadSymbols()

/** Which ways this runtime supports (structurally; checkWays() below proves it with sockets). */
export const ways = {
  pause: symbols !== null,
  rewrap: symbols !== null, // the same onStreamRead path decides whether onread is honoured
}

/**
 * Whether `socket` can be switched to `onread` now: a plain (not TLS) socket with a handle
 * that takes a user buffer, open, and with nothing read into the Readable buffer yet.
 */
function switchable(socket) {
  const handle = socket._handle
  return (
    symbols !== null &&
    socket instanceof net.Socket &&
    socket.encrypted !== true &&
    handle != null &&
    typeof handle.useUserBuffer === 'function' &&
    !socket.destroyed &&
    socket.readableLength === 0
  )
}

/**
 * Way 1. `buffer` returns the buffer for the next read (asked now, and after every callback:
 * return the same one to reuse it); `callback(nread, buf)` gets the bytes in
 * buf[0, nread) and returns false to stop reading (socket.resume() restarts).
 * Returns true when installed (then call socket.resume() if the server paused it), false when
 * the socket must be read through 'data'.
 */
export function readIntoPause(socket, buffer, callback) {
  if (!switchable(socket)) return false
  const first = buffer()
  // kBuffer keeps the buffer the handle reads into alive (C++ holds only its address).
  socket[symbols.kBufferGen] = buffer
  socket[symbols.kBuffer] = first
  socket[symbols.kBufferCb] = callback
  socket._handle.useUserBuffer(first)
  return true
}

/**
 * Way 2. Same contract; returns the socket to use from now on (a new one when installed,
 * `socket` itself, still on 'data', when not).
 */
export function readIntoRewrap(socket, buffer, callback) {
  if (!switchable(socket)) return socket
  const handle = socket._handle
  const wrapped = new net.Socket({
    handle,
    onread: { buffer, callback },
    allowHalfOpen: socket.allowHalfOpen,
    readable: true,
    writable: true,
  })
  // The server counts its connections through socket._server (decremented when the socket
  // is destroyed): the new object takes that over, and the old one can no longer touch the
  // handle (a destroy() of it would close the handle under the new one).
  wrapped.server = socket.server
  wrapped._server = socket._server
  socket._server = null
  socket._handle = null
  // Server-level noDelay/keepAlive were applied to the handle itself: they carry over.
  return wrapped
}

// ---------------------------------------------------------------------------------------------
// Proof with real sockets: each way on this Node, over 127.0.0.1.

async function checkWay(way, pauseOnConnect) {
  const server = net.createServer({ pauseOnConnect, allowHalfOpen: true })
  const got = []
  let callbacks = 0
  let dataEvents = 0
  let installed = false
  let stalled = null // callbacks seen while reading was stopped (must stay 1)
  let buf = Buffer.alloc(4)
  const done = new Promise((resolve, reject) => {
    server.on('connection', (accepted) => {
      const onRead = (n, b) => {
        callbacks++
        got.push(Buffer.from(b.subarray(0, n)))
        if (callbacks > 1) return true
        // Backpressure: false stops reading until resume(); 100 ms later nothing more came.
        setTimeout(() => {
          stalled = callbacks
          socket.resume()
        }, 100)
        return false
      }
      let socket = accepted
      if (way === 'pause') {
        installed = readIntoPause(accepted, () => buf, onRead)
        if (pauseOnConnect) accepted.resume()
      } else {
        socket = readIntoRewrap(accepted, () => buf, onRead)
        installed = socket !== accepted
      }
      socket.on('data', (d) => {
        dataEvents++ // only when not installed
        got.push(Buffer.from(d))
      })
      socket.on('end', () => socket.end('bye'))
      socket.on('close', () => resolve())
      socket.on('error', reject)
      // A new buffer for the next read, as when a write still holds the old one.
      buf = Buffer.alloc(4)
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const client = net.connect(server.address().port, '127.0.0.1')
  let reply = ''
  client.on('data', (d) => {
    reply += d
  })
  await new Promise((resolve) => client.once('connect', resolve))
  // Three writes, read in reads of at most 4 bytes: several callbacks, several buffers.
  client.write('hello ')
  client.write('onread ')
  client.end('world')
  await done
  await new Promise((resolve) => client.once('close', resolve))
  // The server's connection count came back to 0: close() completes.
  const closed = await Promise.race([
    new Promise((resolve) => server.close(() => resolve(true))),
    new Promise((resolve) => setTimeout(() => resolve(false), 2000)),
  ])
  return {
    installed,
    callbacks,
    dataEvents,
    stopsOnFalse: stalled === 1,
    bytes: Buffer.concat(got).toString() === 'hello onread world',
    reply: reply === 'bye',
    serverClosed: closed,
  }
}

/** Both ways, proven with sockets, with and without pauseOnConnect. */
export async function checkWays() {
  return {
    pause: await checkWay('pause', true),
    'pause, server not pausing': await checkWay('pause', false),
    rewrap: await checkWay('rewrap', false),
    'rewrap, pausing server': await checkWay('rewrap', true),
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await checkWays()
  console.log(JSON.stringify({ node: process.version, symbolsFound: symbols !== null, ...result }))
}
