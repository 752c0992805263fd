// The other end of a test's socket, when it belongs to the gateway in this process: Node's
// built-in diagnostics channels announce every accepted (net.server.socket) and connected
// (net.client.socket) socket, so a test can wait until the gateway has read what it sent
// (`bytesRead`) instead of sleeping. Needed where the order of data and a reset at the peer
// matters: on Linux a RST that arrives behind unread data reads as end-of-file (tcp_recvmsg
// checks SOCK_DONE before sk_err), so a test of a reset must let the data be read first.

import diagnostics from 'node:diagnostics_channel'
import type net from 'node:net'
import { eventually } from './raw-client.js'

const sockets = new Set<net.Socket>()
let added = 0

function track({ socket }: { socket: net.Socket }): void {
  sockets.add(socket)
  // Forget closed sockets now and then, so that a long test file does not hold them all.
  if (++added % 256 === 0) for (const s of sockets) if (s.destroyed) sockets.delete(s)
}

diagnostics.subscribe('net.server.socket', track as (message: unknown) => void)
diagnostics.subscribe('net.client.socket', track as (message: unknown) => void)

/** The socket of this process at the other end of `socket`'s connection, if there is one. */
export function peerOf(socket: net.Socket): net.Socket | undefined {
  for (const s of sockets) {
    if (s === socket) continue
    if (s.destroyed) {
      sockets.delete(s)
      continue
    }
    if (s.localPort === socket.remotePort && s.remotePort === socket.localPort) return s
  }
  return undefined
}

/** The open sockets of this process connected to `port` on 127.0.0.1 (the gateway's upstream connections). */
export function socketsTo(port: number): net.Socket[] {
  return [...sockets].filter((s) => !s.destroyed && s.remotePort === port)
}

/**
 * Resolve once the peer socket in this process has read every byte written to `socket` so far.
 * Polls: reading from the kernel is no event the test can listen to without changing the
 * gateway's own flow (a 'data' listener would resume a paused socket).
 */
export async function peerRead(socket: net.Socket, what = 'the peer to read what was sent'): Promise<void> {
  const written = socket.bytesWritten
  let peer: net.Socket | undefined
  await eventually(() => {
    peer ??= peerOf(socket)
    return peer !== undefined && peer.bytesRead >= written
  }, `${what} (${written} bytes)`)
}
