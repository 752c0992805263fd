// Keep-alive connections to one upstream target. A connection is Connecting, Busy (bound to one
// exchange), Idle (in the pool) or Closed. An idle connection that closes, or sends anything at
// all, is dropped: it is never handed to an exchange again.

import net from 'node:net'
import tls from 'node:tls'
import type { ErrorCode } from '../errors.js'
import { ResponseParser } from '../h1/response-parser.js'
import type { Limits } from '../h1/validator.js'
import type { ResolvedTarget } from '../options.js'
import { Deadline } from './deadline.js'

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

export interface PoolConfig {
  target: ResolvedTarget
  connectTimeout: number
  keepAliveTimeout: number
  maxSockets: number
  maxIdle: number
  limits: Limits
}

/**
 * The read buffer of a plain TCP or Unix-socket upstream connection: responses are read into
 * the same memory again and again (net.Socket `onread`), not into a new 64 KiB allocation per
 * read as a 'data' listener gets, and without the Readable machinery in between. A buffer that
 * a pending write still refers to is left to it, and reading goes on in a new one.
 *
 * It starts small and doubles each time a read fills it, up to READ_BUFFER_MAX: a connection
 * carrying small responses holds 16 KiB, one carrying large bodies reads them in few, large
 * reads (a 64 KiB body in one read of 128 KiB rather than two of 64: a quarter less CPU per
 * request in the 64k benchmark). A pooled connection keeps its size (maxIdle bounds the total).
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
  private readonly pool: UpstreamPool
  /** The buffer reads go to (TCP and Unix sockets: see READ_BUFFER_MIN); null until the first. */
  private readBuffer: Buffer | null = null
  /** The user kept a reference into readBuffer: the next read needs a new one. */
  private readBufferHeld = false
  /** The last read filled readBuffer: the next one gets a larger buffer (up to READ_BUFFER_MAX). */
  private readBufferFilled = false

  constructor(pool: UpstreamPool, user: UpstreamUser) {
    this.pool = pool
    this.user = user
    this.parser = new ResponseParser(NOOP_EVENTS, pool.config.limits)
    const socket = connect(pool.config.target, this.nextReadBuffer, this.onRead)
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
    // Unsolicited bytes on an idle connection: the next response would be misattributed.
    this.destroy()
    return false
  }

  /** `onread` callback: `nread` bytes are in the read buffer. Returns true: go on reading. */
  private readonly onRead = (nread: number, buffer: Buffer): boolean => {
    this.readBufferFilled = nread === buffer.length
    if (this.onData(buffer.subarray(0, nread))) this.readBufferHeld = true
    return true
  }

  /**
   * `onread` buffer source, asked before the first read, after each, and again for every new
   * socket handle (Node 20 tries a host name's addresses one after another, each on a handle of
   * its own: autoSelectFamily): so it always returns the buffer to read into, never undefined,
   * which would leave a new handle reading into memory the callback never sees.
   */
  private readonly nextReadBuffer = (): Buffer => {
    const current = this.readBuffer
    if (current !== null && !this.readBufferHeld && !(this.readBufferFilled && current.length < READ_BUFFER_MAX)) {
      return current
    }
    let size = READ_BUFFER_MIN
    if (current !== null) size = this.readBufferFilled ? Math.min(2 * current.length, READ_BUFFER_MAX) : current.length
    this.readBufferHeld = false
    this.readBufferFilled = false
    const next = Buffer.allocUnsafe(size)
    this.readBuffer = next
    return next
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

/** Open a connection to a target: TCP, TLS (SNI from the host name unless set) or a Unix socket. */
function connect(
  target: ResolvedTarget,
  buffer: () => Buffer,
  callback: (nread: number, buffer: Buffer) => boolean,
): net.Socket {
  // (TLS sockets take no `onread`: they emit 'data'.)
  const onread = { buffer, callback }
  if (target.kind === 'unix') return net.connect({ path: target.path, onread })
  if (target.kind === 'tcp') return net.connect({ host: target.host, port: target.port, noDelay: true, onread })
  const options = target.tls ?? {}
  const socket = tls.connect({
    host: target.host,
    port: target.port,
    ALPNProtocols: ['http/1.1'],
    ...options,
    // SNI carries host names only (RFC 6066 §3), never IP addresses.
    servername: options.servername ?? (net.isIP(target.host) === 0 ? target.host : undefined),
  })
  socket.setNoDelay(true)
  return socket
}

/** Certificate verification failures (OpenSSL's X509 errors as Node names them). */
const CERTIFICATE_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

function connectErrorCode(err: Error & { code?: string }): ErrorCode {
  const code = err.code ?? ''
  if (CERTIFICATE_ERRORS.has(code)) return 'UPSTREAM_TLS_CERTIFICATE_ERROR'
  if (code === 'EPROTO' || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return 'UPSTREAM_TLS_ERROR'
  switch (code) {
    case 'ECONNREFUSED':
      return 'UPSTREAM_CONNECT_REFUSED'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return 'UPSTREAM_DNS_ERROR'
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return 'UPSTREAM_UNREACHABLE'
    case 'ETIMEDOUT':
      return 'UPSTREAM_CONNECT_TIMEOUT'
    default:
      return 'UPSTREAM_CLOSED'
  }
}

export class UpstreamPool {
  readonly config: PoolConfig
  private readonly idle: UpstreamConnection[] = []
  private readonly waiting: UpstreamUser[] = []
  private open = 0
  private closed = false

  constructor(config: PoolConfig) {
    this.config = config
  }

  /**
   * Give `user` a connection: an idle one unless `fresh`, else a new one; `onUpstreamConnect`
   * is called when it is ready (synchronously for an idle one). Waits when maxSockets are busy.
   */
  acquire(user: UpstreamUser, fresh = false): void {
    while (!fresh) {
      const conn = this.idle.pop()
      if (conn === undefined) break
      // Closed by the peer while idle, its 'end' not handled yet: never use it.
      if (conn.socket.destroyed || conn.socket.readableEnded || !conn.socket.writable) {
        conn.destroy()
        continue
      }
      // Its socket timeout is 0 already (cleared before release): only the idle timer runs.
      conn.takeIdle(user)
      user.onUpstreamConnect(conn)
      return
    }
    if (this.open >= this.config.maxSockets) {
      if (fresh && this.idle.length > 0) (this.idle.shift() as UpstreamConnection).destroy()
      else {
        this.waiting.push(user)
        return
      }
    }
    this.open++
    new UpstreamConnection(this, user)
  }

  /** Stop waiting for a connection (the exchange ended first). */
  cancel(user: UpstreamUser): void {
    const i = this.waiting.indexOf(user)
    if (i >= 0) this.waiting.splice(i, 1)
  }

  /** An exchange finished cleanly with this connection: keep it for the next one. */
  release(conn: UpstreamConnection): void {
    if (conn.state !== ConnState.Busy) return
    conn.served++
    conn.user = null
    const next = this.waiting.shift()
    if (next !== undefined) {
      conn.user = next
      conn.socket.resume()
      next.onUpstreamConnect(conn)
      return
    }
    if (this.closed || this.idle.length >= this.config.maxIdle || conn.socket.destroyed) {
      conn.destroy()
      return
    }
    // The exchange may have paused it for backpressure: an idle socket must be read, so that a
    // close or unsolicited bytes are seen (and the next response is).
    conn.socket.resume()
    conn.setSocketTimeout(0)
    conn.parkIdle(this.config.keepAliveTimeout)
    this.idle.push(conn)
  }

  /** Called by a connection as it closes. */
  forget(conn: UpstreamConnection): void {
    const i = this.idle.indexOf(conn)
    if (i >= 0) this.idle.splice(i, 1)
    this.open--
    if (!this.closed) {
      const next = this.waiting.shift()
      if (next !== undefined) this.acquire(next)
    }
  }

  get stats(): { open: number; idle: number; waiting: number } {
    return { open: this.open, idle: this.idle.length, waiting: this.waiting.length }
  }

  /** Close idle connections and refuse to pool more. Busy ones end with their exchanges. */
  close(): void {
    this.closed = true
    for (const conn of [...this.idle]) conn.destroy()
  }
}
