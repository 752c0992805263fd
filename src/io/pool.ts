// Keep-alive connections to one upstream target: idle ones are reused, at most maxSockets are
// open, and users wait in order when all are busy.

import { GatewayError } from '../errors.js'
import type { Limits } from '../h1/limits.js'
import type { ResolvedTarget } from '../options.js'
import { type ConnectionOwner, ConnState, UpstreamConnection, type UpstreamUser } from './upstream-connection.js'

export interface PoolConfig {
  readonly target: ResolvedTarget
  readonly connectTimeout: number
  readonly keepAliveTimeout: number
  readonly maxSockets: number
  readonly maxIdle: number
  readonly limits: Limits
}

/** Where a pool reports what no exchange is there to report (the gateway's report path). */
export type PoolWarning = (err: GatewayError) => void

export class UpstreamPool implements ConnectionOwner {
  readonly config: PoolConfig
  private readonly idle: UpstreamConnection[] = []
  private readonly waiting: UpstreamUser[] = []
  private open = 0
  private closed = false
  private readonly warn: PoolWarning

  constructor(config: PoolConfig, warn: PoolWarning = () => {}) {
    this.config = config
    this.warn = warn
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

  /**
   * RULES.md: unsolicited bytes on an idle pooled connection are reported as a warning,
   * UPSTREAM_EXTRA_DATA (the connection then closes). No client got anything of them: status 0.
   */
  unsolicited(conn: UpstreamConnection, bytes: number): void {
    const where = `${this.config.target.url}, after ${conn.served} response(s)`
    const err = new GatewayError('UPSTREAM_EXTRA_DATA', `${bytes} unsolicited bytes on an idle connection (${where})`, {
      status: 0,
    })
    this.warn(err)
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
