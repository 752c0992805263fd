// Making a truncated response visible to the client (RULES.md: abort, never a clean end): reset
// the connection. Shared by the raw-socket client and the node:http one (a ServerResponse's
// socket), so both abort the same way.

import type { Socket } from 'node:net'

/**
 * Reset `socket` on a later turn of the event loop: a reset issued while the last write is
 * still in flight reached loopback peers as a plain FIN (seen on Linux with Node 20), which
 * would let a close-delimited body to an HTTP/1.0 client look complete. The caller writes
 * nothing more meanwhile.
 */
export function resetLater(socket: Socket): void {
  setTimeout(resetSocket, 0, socket)
}

/**
 * RST the connection (a visible abort), or destroy it where a reset is not possible: a socket
 * still connecting, or one whose handle is not TCP (a TLSSocket: `resetAndDestroy` throws
 * ERR_INVALID_HANDLE_TYPE there, which in a timer would be an uncaught exception).
 */
export function resetSocket(socket: Socket & { resetAndDestroy?: () => void }): void {
  if (socket.destroyed) return
  if (typeof socket.resetAndDestroy !== 'function' || socket.readyState === 'opening') {
    socket.destroy()
    return
  }
  try {
    socket.resetAndDestroy()
  } catch {
    socket.destroy()
  }
}
