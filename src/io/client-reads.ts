// Reading an accepted client socket into a buffer of the gateway's own (as `net.connect({
// onread })` does for the sockets it opens): no Buffer per read, no Readable machinery ('data',
// push, a nextTick per read) in between.
//
// Node offers `onread` only in the net.Socket constructor, and a server constructs the sockets
// it accepts itself. The constructor's option sets three private fields and switches the handle
// to a user buffer; onStreamRead then calls the callback instead of push(). This sets the same
// state on an accepted socket. It is not public API, so it is used only behind a feature check:
// the fields are found by behaviour (what the constructor stores under them), and a socket is
// switched only when it is a plain TCP or pipe socket whose handle takes a user buffer and
// nothing has been read into its Readable buffer yet. Anything else (TLS, Bun, Deno, a Node
// whose internals moved) is read through 'data', as before. Writing never goes through
// internals: the socket's own write() is used.
//
// Checked on Node 20.20, 22.23 and 24.22 (bench/experiments/client-onread.mjs); the test suite
// runs on 20, 22 and 24.

import net from 'node:net'

interface OnreadFields {
  /** The buffer the handle reads into (kept here: C++ holds only its address). */
  readonly buffer: symbol
  readonly callback: symbol
  /** The function asked for the next buffer after each read. */
  readonly next: symbol
}

/** The constructor's fields, found by what it stores under them; null when not found. */
function findFields(): OnreadFields | null {
  try {
    const buffer = Buffer.alloc(1)
    const callback = () => true
    const next = () => buffer
    // (The constructor takes `onread` as net.connect does; the typings list it for connect only.)
    const fixed = new net.Socket({ onread: { buffer, callback } } as net.SocketConstructorOpts)
    const generated = new net.Socket({ onread: { buffer: next, callback } } as net.SocketConstructorOpts)
    const own = (s: object) => Object.getOwnPropertySymbols(s)
    const get = (s: object, k: symbol) => (s as Record<symbol, unknown>)[k]
    const kBuffer = own(fixed).find((k) => get(fixed, k) === buffer)
    const kCallback = own(fixed).find((k) => get(fixed, k) === callback)
    const kNext = own(generated).find((k) => get(generated, k) === next)
    // With a generator, the constructor stores `true` as the buffer; without one, no generator.
    const ok =
      kBuffer !== undefined &&
      kCallback !== undefined &&
      kNext !== undefined &&
      get(generated, kBuffer) === true &&
      get(fixed, kNext) === null
    fixed.destroy()
    generated.destroy()
    return ok ? { buffer: kBuffer, callback: kCallback, next: kNext } : null
  } catch {
    return null
  }
}

const fields = findFields()

/** Whether this runtime lets accepted sockets be read through `readInto`. */
export const canReadInto = fields !== null

interface Handle {
  useUserBuffer?: (buffer: Buffer) => void
}

/**
 * Read `socket` into buffers of the caller's: `next()` gives the buffer for the next read (asked
 * now and after every read; return the same one to reuse it), `callback(nread, buffer)` gets the
 * bytes in buffer[0, nread) and returns false to stop reading until `socket.resume()`.
 * Returns false when the socket must be read through 'data' instead (then nothing changed).
 * Call it in the same tick the socket was accepted in.
 */
export function readInto(
  socket: net.Socket,
  next: () => Buffer,
  callback: (nread: number, buffer: Buffer) => boolean,
): boolean {
  const handle = (socket as unknown as { _handle: Handle | null })._handle
  if (
    fields === null ||
    (socket as { encrypted?: boolean }).encrypted === true ||
    handle === null ||
    typeof handle.useUserBuffer !== 'function' ||
    socket.destroyed ||
    socket.readableLength > 0
  ) {
    return false
  }
  const first = next()
  const s = socket as unknown as Record<symbol, unknown>
  s[fields.next] = next
  s[fields.buffer] = first
  s[fields.callback] = callback
  handle.useUserBuffer(first)
  return true
}

/**
 * Give a socket that `readInto` switched a new buffer to read into next (the caller's `next()`
 * must return it too from now on). For a connection about to sit idle with a large buffer.
 */
export function setReadBuffer(socket: net.Socket, buffer: Buffer): void {
  const handle = (socket as unknown as { _handle: Handle | null })._handle
  if (fields === null || handle === null || typeof handle.useUserBuffer !== 'function') return
  ;(socket as unknown as Record<symbol, unknown>)[fields.buffer] = buffer
  handle.useUserBuffer(buffer)
}
