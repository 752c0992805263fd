// The byte tunnel after a valid 101 (RFC 9110 §7.8, §15.2.2): the client connection and the
// upstream connection carry each other's bytes untouched, with backpressure both ways, until
// either side closes. Nothing is parsed any more.

import type { Socket } from 'node:net'
import type { ErrorCode } from '../errors.js'
import type { UpstreamConnection, UpstreamUser } from './upstream-connection.js'

export class Tunnel implements UpstreamUser {
  private readonly client: Socket
  private readonly upstream: UpstreamConnection
  /** Ends the client connection (after what was written to it is flushed). */
  private readonly endClient: () => void

  /**
   * `fromClient`: bytes the client sent after its request (read before the 101 came), for the
   * upstream; `fromUpstream`: bytes that came with the 101, for the client.
   */
  constructor(
    client: Socket,
    upstream: UpstreamConnection,
    endClient: () => void,
    fromClient: Buffer | null,
    fromUpstream: Buffer | null,
  ) {
    this.client = client
    this.upstream = upstream
    this.endClient = endClient
    upstream.user = this
    // No timeout in a tunnel: an idle WebSocket is not a stalled response.
    upstream.setSocketTimeout(0)
    if (fromUpstream !== null) this.onUpstreamData(fromUpstream)
    if (fromClient !== null) this.fromClient(fromClient)
  }

  /** The writes to the client still hold memory they were given (see UpstreamUser.onUpstreamData). */
  get writing(): boolean {
    return this.client.writableLength > 0
  }

  /** Bytes from the client are still referenced by a write to the upstream that did not complete. */
  get holdsClientBytes(): boolean {
    return this.upstream.socket.writableLength > 0
  }

  // ---- the client's socket events, passed on by the client connection ------------------------

  fromClient(chunk: Buffer): void {
    if (!this.upstream.socket.write(chunk)) this.client.pause()
  }

  clientEnded(): void {
    this.upstream.socket.end()
  }

  clientDrained(): void {
    this.upstream.socket.resume()
  }

  clientClosed(): void {
    this.upstream.destroy()
  }

  // ---- UpstreamUser ----------------------------------------------------------------------------

  onUpstreamData(chunk: Buffer): boolean {
    if (this.client.destroyed) return false
    if (!this.client.write(chunk)) this.upstream.socket.pause()
    return this.writing
  }

  onUpstreamEnd(): void {
    this.endClient()
  }

  onUpstreamClose(_cause: Error | null): void {
    this.endClient()
  }

  onUpstreamDrain(): void {
    this.client.resume()
  }

  onUpstreamConnect(_conn: UpstreamConnection): void {
    // (Connected before the tunnel existed.)
  }

  onUpstreamConnectError(_code: ErrorCode, _cause: Error | null): void {
    // (Connected before the tunnel existed.)
  }

  onUpstreamTimeout(): void {
    // (No socket timeout is set in a tunnel.)
  }

  onUpstreamResponseTimeout(): void {
    // (Disarmed when the 101 arrived.)
  }
}
