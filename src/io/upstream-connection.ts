// One connection to an upstream target: the socket, its read buffer, its response parser, and
// what its connect errors mean. A connection is Connecting, Busy (bound to one user: an exchange
// or a tunnel), Idle (in the pool) or Closed. An idle connection that closes, or sends anything
// at all, is dropped: it is never handed to an exchange again (bytes it sends are reported to
// its owner first: RULES.md, a warning).

import type net from 'node:net'
import type { ErrorCode } from '../errors.js'
import type { Limits } from '../h1/limits.js'
import { ResponseParser } from '../h1/response-parser.js'
import type { ResolvedTarget } from '../options.js'
import { connectErrorCode, connectTarget } from './connect.js'
import { Deadline } from './deadline.js'
import { ReadBuffer } from './read-buffer.js'

/** The exchange using a connection. Socket events reach it only while it holds the connection. */
export interface UpstreamUser {
  onUpstreamConnect(conn: UpstreamConnection): void
  onUpstreamConnectError(code: ErrorCode, cause: Error | null): void
  /**
   * Response bytes. `chunk` may be a view of the connection's reusable read buffer (readInto):
   * return true if anything still refers to its memory once this returns (a write that did not
   * complete), so that the next read goes to a new buffer.
   */
  onUpstreamData(chunk: Buffer): boolean
  /** The upstream closed its side (FIN). */
  onUpstreamEnd(): void
  /** The socket is gone (after an error, a reset, or our own destroy). */
  onUpstreamClose(cause: Error | null): void
  onUpstreamDrain(): void
  /** The socket's inactivity timeout (set by the user through `setSocketTimeout`) expired. */
  onUpstreamTimeout(): void
  /** `responseTimer` expired. */
  onUpstreamResponseTimeout(): void
}

export const enum ConnState {
  Connecting = 0,
  Busy = 1,
  Idle = 2,
  Closed = 3,
}

/** What a connection needs to know: where to connect, how long to try, the parser's limits. */
export interface ConnectionConfig {
  readonly target: ResolvedTarget
  readonly connectTimeout: number
  readonly limits: Limits
}

/** Who keeps the connection (the pool): told when it closes, and of bytes it sent unasked. */
export interface ConnectionOwner {
  readonly config: ConnectionConfig
  forget(conn: UpstreamConnection): void
  /** `bytes` arrived while no exchange was using the connection (it is destroyed right after). */
  unsolicited(conn: UpstreamConnection, bytes: number): void
}

/**
 * Read buffer sizes of a plain TCP or Unix-socket upstream connection (read-buffer.ts): a
 * connection carrying small responses holds 16 KiB, one carrying large bodies reads them in few,
 * large reads (a 64 KiB body in one read of 128 KiB rather than two of 64). A pooled connection
 * keeps its size (maxIdle bounds the total).
 */
const READ_BUFFER_MIN = 16 * 1024
const READ_BUFFER_MAX = 128 * 1024

const NOOP_EVENTS = {
  onHead() {},
  onBody() {},
  onTrailers() {},
  onComplete() {},
}

export class UpstreamConnection {
  readonly socket: net.Socket
  readonly parser: ResponseParser
  state = ConnState.Connecting
  user: UpstreamUser | null
  /** Exchanges this connection has completed (0: fresh). */
  served = 0
  /**
   * timeouts.response for the exchange using the connection, armed by it. Kept here, created
   * once per connection, so that arming it per request allocates nothing (deadline.ts).
   */
  readonly responseTimer: Deadline
  /** Idle in the pool for longer than keepAliveTimeout: dropped. */
  private readonly idleTimer: Deadline
  /** The socket timeout last set (ms, 0: none), so that an unchanged one is not set again. */
  private socketTimeout: number
  private error: Error | null = null
  private readonly pool: ConnectionOwner
  /** What reads go to (TCP and Unix sockets; TLS sockets emit 'data'). */
  private readonly readBuffer = new ReadBuffer(READ_BUFFER_MIN, READ_BUFFER_MAX)

  constructor(pool: ConnectionOwner, user: UpstreamUser) {
    this.pool = pool
    this.user = user
    this.parser = new ResponseParser(NOOP_EVENTS, pool.config.limits)
    const socket = connectTarget(pool.config.target, { buffer: this.readBuffer.next, callback: this.onRead })
    this.socket = socket
    this.responseTimer = new Deadline(this.onResponseTimeout, false)
    // Like a socket timeout, a pooled connection's idle timer does not keep the process alive.
    this.idleTimer = new Deadline(this.onIdleTimeout, true)
    this.socketTimeout = pool.config.connectTimeout
    socket.setTimeout(pool.config.connectTimeout)
    // A TLS connection is ready once its handshake is done.
    socket.on(pool.config.target.kind === 'tls' ? 'secureConnect' : 'connect', this.onConnect)
    socket.on('data', this.onData)
    socket.on('end', this.onEnd)
    socket.on('error', this.onError)
    socket.on('close', this.onClose)
    socket.on('drain', this.onDrain)
    socket.on('timeout', this.onTimeout)
  }

  get reused(): boolean {
    return this.served > 0
  }

  /**
   * The socket's inactivity timeout, set only when it changes: each non-zero setTimeout costs a
   * new Timeout and a bound function in node:net, and reads and writes restart a running one.
   */
  setSocketTimeout(ms: number): void {
    if (ms === this.socketTimeout) return
    this.socketTimeout = ms
    this.socket.setTimeout(ms)
  }

  /** Into the pool: closed if nobody takes it within `ms`. */
  parkIdle(ms: number): void {
    this.state = ConnState.Idle
    this.idleTimer.arm(ms)
  }

  /** Out of the pool, for `user`. */
  takeIdle(user: UpstreamUser): void {
    this.state = ConnState.Busy
    this.user = user
    this.idleTimer.disarm()
  }

  /** Tear the connection down now (misbehaved, aborted, or no longer wanted). Idempotent. */
  destroy(): void {
    if (this.state === ConnState.Closed) return
    this.pool.forget(this)
    this.state = ConnState.Closed
    this.user = null
    this.responseTimer.clear()
    this.idleTimer.clear()
    this.socket.destroy()
    this.parser.destroy()
  }

  private readonly onConnect = (): void => {
    if (this.state !== ConnState.Connecting) return
    this.setSocketTimeout(0)
    this.state = ConnState.Busy
    this.user?.onUpstreamConnect(this)
  }

  private readonly onData = (chunk: Buffer): boolean => {
    if (this.state === ConnState.Busy && this.user !== null) return this.user.onUpstreamData(chunk)
    // Unsolicited bytes on an idle connection (a CL.0 back-end answering a body, a late second
    // response): the next response would be misattributed. RULES.md: never forwarded, the
    // connection never reused, a warning reported.
    if (this.state !== ConnState.Closed) this.pool.unsolicited(this, chunk.length)
    this.destroy()
    return false
  }

  /** `onread` callback: `nread` bytes are in the read buffer. Returns true: go on reading. */
  private readonly onRead = (nread: number, buffer: Buffer): boolean => {
    if (this.onData(this.readBuffer.read(nread, buffer))) this.readBuffer.hold()
    return true
  }

  private readonly onEnd = (): void => {
    if (this.state === ConnState.Busy && this.user !== null) this.user.onUpstreamEnd()
    else this.destroy()
  }

  private readonly onError = (err: Error): void => {
    this.error = err
    if (this.state === ConnState.Connecting) {
      const user = this.user
      this.destroy()
      user?.onUpstreamConnectError(connectErrorCode(err), err)
    }
  }

  private readonly onClose = (): void => {
    const user = this.user
    if (this.state === ConnState.Busy && user !== null) {
      // Tell the exchange while the parser still knows how far the response got (destroy()
      // frees it): a reset before the head is UPSTREAM_CLOSED, inside a body a truncation.
      user.onUpstreamClose(this.error)
      this.destroy()
    } else if (this.state === ConnState.Connecting) {
      this.destroy()
      user?.onUpstreamConnectError('UPSTREAM_CONNECT_REFUSED', this.error)
    } else {
      this.destroy()
    }
  }

  private readonly onDrain = (): void => {
    if (this.state === ConnState.Busy) this.user?.onUpstreamDrain()
  }

  private readonly onTimeout = (): void => {
    if (this.state === ConnState.Connecting) {
      const user = this.user
      this.destroy()
      user?.onUpstreamConnectError('UPSTREAM_CONNECT_TIMEOUT', null)
    } else if (this.state === ConnState.Busy && this.user !== null) {
      this.user.onUpstreamTimeout()
    } else {
      this.destroy()
    }
  }

  private readonly onResponseTimeout = (): void => {
    if (this.state === ConnState.Busy && this.user !== null) this.user.onUpstreamResponseTimeout()
  }

  private readonly onIdleTimeout = (): void => {
    if (this.state === ConnState.Idle) this.destroy()
  }
}
