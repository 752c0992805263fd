// One request/response relay. The response head is validated completely before a byte of it
// is written; a failure before that is answered with 502/504 on the client socket, a failure
// after it aborts the client connection (never a terminal chunk, never padding).

import { type ErrorCode, GatewayError } from '../errors.js'
import { FieldKind, type RequestHead, type ResponseHead, type Trailer } from '../h1/head.js'
import type { ResponseEvents } from '../h1/response-parser.js'
import { serializeRequestHead, serializeResponseHead } from '../h1/serialize.js'
import type { ClientConnection } from './client-connection.js'
import type { GatewayContext } from './context.js'
import { OutputArena } from './output-arena.js'
import { ConnState, type UpstreamConnection, type UpstreamUser } from './upstream-pool.js'
import type { Target } from './upstreams.js'
import { WriteBatch, writeChunk } from './write-batch.js'

export const enum ExchangeState {
  /** Waiting for an upstream connection. */
  Connecting = 0,
  /** Request head sent; no final response head yet. */
  AwaitingHead = 1,
  /** Final head relayed; body in flight. */
  Relaying = 2,
  /** A 101 was relayed: bytes flow both ways untouched. */
  Tunnel = 3,
  Done = 4,
  Failed = 5,
}

/** How the response body is framed towards the client. */
const enum OutFraming {
  None = 0,
  Length = 1,
  Chunked = 2,
  Close = 3,
}

const LAST_CHUNK = Buffer.from('0\r\n\r\n')
/** Memory for request heads, response heads and batches (output-arena.ts): settled after each write. */
const arena = new OutputArena()
/**
 * Response bytes for the client while the parser runs on an upstream read, written when it
 * returns (write-batch.ts). One for all exchanges: it is filled and written within one
 * synchronous onUpstreamData call, so it is always empty in between.
 */
const batch = new WriteBatch(arena.take)

/** Write what `batch` gathered to the client; returns the write's result. */
function writeBatch(client: ClientConnection): boolean {
  const ok = batch.writeTo(client)
  arena.settle(client.writing)
  return ok
}
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

export class Exchange implements UpstreamUser, ResponseEvents {
  state = ExchangeState.Connecting
  readonly request: RequestHead
  private readonly client: ClientConnection
  private readonly ctx: GatewayContext
  private conn: UpstreamConnection | null = null
  /** The upstream target of the current attempt; null only when none was available. */
  private target: Target | null = null
  /** Targets that failed this request (next-upstream), allocated on the first failure only. */
  private tried: Target[] | null = null
  /** The targets the route hook allowed for this request (null: all). */
  private allowed: Target[] | null = null
  /** Request body pieces received before the upstream connection was ready. */
  private pendingBody: Buffer[] | null = []
  private requestDone = false
  private requestChunked: boolean
  private outFraming = OutFraming.None
  private responseKeepAlive = false
  private upstreamKeepAlive = false
  private trailers: readonly Trailer[] | null = null
  /**
   * While the parser runs on an upstream chunk: the upstream socket timeout its events asked
   * for, applied once it returns (-1: none asked). A small response's head and end arrive in
   * one chunk; setting timeouts.idle at the head only to clear it at the end would cost a
   * Timeout for nothing, and no timer can fire in between.
   */
  private deferredTimeout = -1
  /** The parser is running on an upstream read: what goes to the client is gathered in `batch`. */
  private parsing = false
  private retried = false
  private responseBytes = 0
  private status = 0
  /** performance.now() at the start, for strictgate:exchange (a number: no BigInt per request). */
  private readonly started = performance.now()

  constructor(client: ClientConnection, ctx: GatewayContext, request: RequestHead) {
    this.client = client
    this.ctx = ctx
    this.request = request
    this.requestChunked = request.framing.kind === 'chunked'
  }

  start(): void {
    const route = this.ctx.options.route
    if (route !== null) {
      try {
        this.allowed = this.ctx.upstreams.routed(route(this.request))
      } catch (err) {
        this.fail('GATEWAY_INTERNAL_ERROR', `route hook: ${(err as Error).message}`)
        return
      }
    }
    const target = this.ctx.upstreams.pick(null, this.allowed)
    if (target === null) {
      this.fail('UPSTREAM_UNAVAILABLE', 'every upstream target is marked down')
      return
    }
    this.attempt(target, false)
  }

  private attempt(target: Target, fresh: boolean): void {
    this.target = target
    target.requests++
    target.pool.acquire(this, fresh)
  }

  /**
   * The current target failed before any response byte (a connect failure, or a close or reset
   * before the head): count it for passive health, and move to another target if one is
   * available and the retry budget allows. Returns whether the request moved on.
   */
  private nextUpstream(): boolean {
    const upstreams = this.ctx.upstreams
    upstreams.failed(this.target as Target)
    const tried = (this.tried ??= [])
    tried.push(this.target as Target)
    if (tried.length > upstreams.retries) return false
    const next = upstreams.pick(tried, this.allowed)
    if (next === null) return false
    this.attempt(next, false)
    return true
  }

  // ---- client side -------------------------------------------------------------------------

  /** A slice of the request body (already validated by the request parser). */
  requestBody(chunk: Buffer): void {
    if (this.state >= ExchangeState.Done) return
    if (this.pendingBody !== null) {
      this.pendingBody.push(chunk)
      // Hold the client until the upstream is ready: memory stays bounded.
      this.client.pauseReading()
      return
    }
    this.writeBody(chunk)
  }

  requestComplete(): void {
    this.requestDone = true
    if (this.state >= ExchangeState.Done || this.pendingBody !== null || this.conn === null) return
    if (this.requestChunked) this.conn.socket.write(LAST_CHUNK)
    if (this.state === ExchangeState.AwaitingHead) this.startResponseTimer()
  }

  private writeBody(chunk: Buffer): void {
    const socket = (this.conn as UpstreamConnection).socket
    let ok: boolean
    if (this.requestChunked) {
      socket.cork()
      ok = writeChunk(socket, chunk)
      socket.uncork()
    } else {
      ok = socket.write(chunk)
    }
    if (!ok) {
      this.client.pauseReading()
      // Held back by the upstream: it must take the body within timeouts.idle.
      this.upstreamTimeout(this.ctx.options.timeouts.idle)
    }
  }

  /** The client went away (closed or reset) before this exchange ended. */
  clientAborted(): void {
    if (this.state >= ExchangeState.Done) return
    if (this.state === ExchangeState.Tunnel) {
      // A tunnel ends when either side closes: nothing failed.
      this.state = ExchangeState.Done
      this.conn?.destroy()
      return
    }
    this.finishFailed('CLIENT_ABORTED', 'client closed the connection', undefined, 0)
  }

  /** The client took no response bytes for timeouts.idle: give up on it (abort). */
  clientStalled(idle: number): void {
    if (this.state >= ExchangeState.Done) return
    this.finishFailed('CLIENT_TIMEOUT', `client took no response bytes for ${idle} ms`, undefined, 0)
  }

  /**
   * The client's request turned out malformed: drop the upstream side. Returns whether the
   * client can still be answered with an error response (no final head relayed yet).
   */
  abandon(): boolean {
    const canAnswer = this.state <= ExchangeState.AwaitingHead
    if (this.state < ExchangeState.Done) {
      if (this.state === ExchangeState.Connecting) this.target?.pool.cancel(this)
      this.state = ExchangeState.Failed
      this.clearResponseTimer()
      this.conn?.destroy()
    }
    return canAnswer
  }

  /** The client wrote more of the request while the upstream could not take it: resume when it can. */
  onUpstreamDrain(): void {
    // Before the head, the upstream socket's timeout only bounded that stall (while relaying
    // it is timeouts.idle anyway).
    if (this.state === ExchangeState.AwaitingHead && this.conn !== null) this.upstreamTimeout(0)
    this.client.resumeReading()
  }

  /** The client socket drained: the upstream may send more, and is on the clock again. */
  clientDrained(): void {
    if (this.conn !== null && this.state === ExchangeState.Relaying) {
      this.upstreamTimeout(this.ctx.options.timeouts.idle)
      this.conn.socket.resume()
    }
  }

  // ---- upstream connection -----------------------------------------------------------------

  onUpstreamConnect(conn: UpstreamConnection): void {
    if (this.state !== ExchangeState.Connecting) {
      // Ended while waiting (client aborted): hand the connection back untouched.
      ;(this.target as Target).pool.release(conn)
      return
    }
    this.conn = conn
    this.state = ExchangeState.AwaitingHead
    conn.parser.expect(this.request, this)
    const socket = conn.socket
    const pending = this.pendingBody as Buffer[]
    this.pendingBody = null
    const lastChunk = this.requestDone && this.requestChunked
    // Cork only if more than the head goes out now: a lone write needs no batching.
    const cork = pending.length > 0 || lastChunk
    if (cork) socket.cork()
    socket.write(serializeRequestHead(this.request, this.requestExtra(), arena.take))
    for (const chunk of pending) this.writeBody(chunk)
    if (lastChunk) socket.write(LAST_CHUNK)
    if (cork) socket.uncork()
    arena.settle(socket.writableLength > 0)
    this.client.resumeReading()
    if (this.requestDone) this.startResponseTimer()
  }

  onUpstreamConnectError(code: ErrorCode, cause: Error | null): void {
    // Nothing was sent: any method may move to the next target.
    if (this.state === ExchangeState.Connecting && this.nextUpstream()) return
    this.fail(code, cause === null ? 'cannot connect to the upstream' : cause.message)
  }

  onUpstreamData(chunk: Buffer): boolean {
    const conn = this.conn as UpstreamConnection
    if (this.state === ExchangeState.Tunnel) {
      if (!this.client.write(chunk)) conn.socket.pause()
      return this.client.writing
    }
    this.responseBytes += chunk.length
    const client = this.client
    this.parsing = true
    let n: number
    try {
      n = conn.parser.execute(chunk)
    } catch (err) {
      // A bug: what was gathered must not go to the next exchange's client.
      batch.clear()
      throw err
    } finally {
      this.parsing = false
    }
    if (this.deferredTimeout >= 0) {
      // Before the connection can go back to the pool (afterComplete): idle ones have none.
      if (conn.state !== ConnState.Closed) conn.setSocketTimeout(this.deferredTimeout)
      this.deferredTimeout = -1
    }
    // What the parser's events gave for the client, in one write (before a failure is handled:
    // an interim response goes out before a 502, a relayed head and body before an abort).
    if (!writeBatch(client) && this.state === ExchangeState.Relaying) this.clientFull()
    // The parser's events may have moved the state on.
    const after = this.state as ExchangeState
    if (n < 0) {
      const failure = conn.parser.failure as NonNullable<typeof conn.parser.failure>
      if (after === ExchangeState.Done) {
        // B5: the response stands; the extra bytes go away with the connection.
        this.report(new GatewayError(failure.code, failure.reason, { offset: failure.offset, status: this.status }))
        conn.destroy()
        this.afterComplete()
      } else {
        this.fail(failure.code, failure.reason, failure.offset)
      }
    } else if (after === ExchangeState.Tunnel) {
      if (n < chunk.length) client.write(chunk.subarray(n))
    } else if (after === ExchangeState.Done) {
      this.afterComplete()
    }
    // Body slices are written as views of `chunk`: a write still pending holds on to it.
    return client.writing
  }

  onUpstreamEnd(): void {
    if (this.state === ExchangeState.Tunnel) {
      this.client.endTunnel()
      return
    }
    const conn = this.conn as UpstreamConnection
    if (this.state >= ExchangeState.Done) {
      conn.destroy()
      return
    }
    const failure = conn.parser.finish()
    conn.destroy()
    if (failure !== null) this.upstreamBroke(failure.code, failure.reason, failure.offset)
    // A close-delimited body ended here: onComplete has run.
    else if (this.state === ExchangeState.Done) this.afterComplete()
  }

  onUpstreamClose(cause: Error | null): void {
    if (this.state === ExchangeState.Tunnel) {
      this.client.endTunnel()
      this.state = ExchangeState.Done
      return
    }
    if (this.state >= ExchangeState.Done) return
    const conn = this.conn as UpstreamConnection
    const failure = conn.parser.abort()
    if (failure === null) return
    this.upstreamBroke(failure.code, cause?.message ?? failure.reason, failure.offset)
  }

  onUpstreamResponseTimeout(): void {
    if (this.state === ExchangeState.AwaitingHead) {
      this.fail('UPSTREAM_RESPONSE_TIMEOUT', `no response head within ${this.ctx.options.timeouts.response} ms`)
    }
  }

  onUpstreamTimeout(): void {
    // Armed while relaying a body and the client keeps up, or while the upstream does not take
    // the request body (timeouts.idle).
    this.fail('UPSTREAM_IDLE_TIMEOUT', `upstream stalled for ${this.ctx.options.timeouts.idle} ms`)
  }

  /**
   * The connection closed or reset before the response was complete. RFC 9112 §9.3.1: retry
   * once on a fresh connection if the request is idempotent, the connection had been reused,
   * nothing of the response arrived and the request can be sent again (no body).
   */
  private upstreamBroke(code: ErrorCode, reason: string, offset: number | undefined): void {
    const conn = this.conn as UpstreamConnection
    const replayable =
      code === 'UPSTREAM_CLOSED' &&
      this.responseBytes === 0 &&
      this.request.framing.kind === 'none' &&
      IDEMPOTENT.has(this.request.method)
    if (replayable && !this.retried && conn.reused) {
      // A keep-alive connection the upstream closed as we reused it: not the target's fault.
      this.retried = true
      this.resetForRetry(conn)
      this.attempt(this.target as Target, true)
      return
    }
    if (code === 'UPSTREAM_CLOSED' && this.responseBytes === 0) {
      // Closed or reset before any response byte: a failure of the target (passive health);
      // after request bytes went out, only a replayable request may move on (RFC 9112 §9.3.1).
      if (!replayable) this.ctx.upstreams.failed(this.target as Target)
      else {
        this.resetForRetry(conn)
        if (this.nextUpstream()) return
      }
    }
    this.fail(code, reason, offset)
  }

  private resetForRetry(conn: UpstreamConnection): void {
    this.clearResponseTimer()
    conn.destroy()
    this.conn = null
    this.pendingBody = []
    this.state = ExchangeState.Connecting
  }

  // ---- response events (from the parser, synchronously inside onUpstreamData) ---------------

  onHead(head: ResponseHead): void {
    const client = this.client
    if (head.interim) {
      // 1xx are relayed to HTTP/1.1 clients only (RULES.md F8). The final head may follow.
      if (this.request.minorVersion === 1) this.send(serializeResponseHead(head, this.ctx.viaField, arena.take), false)
      return
    }
    this.clearResponseTimer()
    this.status = head.status
    ;(this.target as Target).succeeded()
    if (head.upgrade !== null) {
      this.send(serializeResponseHead(head, `${this.ctx.viaField}Connection: upgrade\r\n`, arena.take), false)
      this.state = ExchangeState.Tunnel
      client.startTunnel(this, (this.conn as UpstreamConnection).socket)
      this.publishExchange()
      return
    }
    let extra = this.ctx.viaField
    const http10 = this.request.minorVersion === 0
    const framing = head.framing
    // Say so when the connection will close after this response (the client asked, its request
    // is still streaming, or the gateway is shutting down): RFC 9112 §9.6.
    let keepAlive = this.request.keepAlive && this.requestDone && client.persistent
    if (framing.kind === 'length') {
      this.outFraming = OutFraming.Length
      extra += `Content-Length: ${framing.length}\r\n`
    } else if (framing.kind === 'none') {
      this.outFraming = OutFraming.None
      // HEAD and 304 keep the upstream's Content-Length: it describes the selected representation.
      if (head.status !== 204 && head.status >= 200) extra += this.contentLengthOf(head)
    } else if (http10) {
      this.outFraming = OutFraming.Close
      keepAlive = false
    } else {
      this.outFraming = OutFraming.Chunked
      extra += 'Transfer-Encoding: chunked\r\n'
    }
    this.responseKeepAlive = keepAlive
    this.upstreamKeepAlive = head.keepAlive
    if (!keepAlive) extra += 'Connection: close\r\n'
    else if (http10) extra += 'Connection: keep-alive\r\n'
    this.state = ExchangeState.Relaying
    this.send(serializeResponseHead(head, extra, arena.take), false)
    this.upstreamTimeout(this.ctx.options.timeouts.idle)
  }

  /**
   * Bytes for the client, framed as one chunk if `chunk`: gathered in `batch` while the parser
   * runs (onUpstreamData writes them when it returns), written at once otherwise.
   */
  private send(data: Buffer, chunk: boolean): void {
    batch.add(data, chunk)
    if (!this.parsing && !writeBatch(this.client) && this.state === ExchangeState.Relaying) this.clientFull()
  }

  /** A write to the client returned false: hold the upstream until the client drains. */
  private clientFull(): void {
    // Held back by the client, not by the upstream: the client side bounds this wait.
    ;(this.conn as UpstreamConnection).socket.pause()
    this.upstreamTimeout(0)
    this.client.awaitDrain()
  }

  onBody(chunk: Buffer): void {
    this.send(chunk, this.outFraming === OutFraming.Chunked)
  }

  onTrailers(trailers: readonly Trailer[]): void {
    // Relayed only to clients that asked for them (RULES.md B2); otherwise dropped.
    if (this.request.acceptsTrailers) this.trailers = trailers
  }

  onComplete(): void {
    if (this.state !== ExchangeState.Relaying) return
    if (this.outFraming === OutFraming.Chunked) {
      if (this.trailers === null) this.send(LAST_CHUNK, false)
      else {
        let t = '0\r\n'
        for (const [name, value] of this.trailers) t += `${name}: ${value}\r\n`
        this.send(Buffer.from(`${t}\r\n`, 'latin1'), false)
      }
    }
    this.state = ExchangeState.Done
    this.upstreamTimeout(0)
    this.publishExchange()
  }

  /**
   * After the parser returned from the chunk that completed the response: pool the upstream
   * connection if it is clean, then let the client connection go on (next pipelined request).
   */
  private afterComplete(): void {
    const conn = this.conn as UpstreamConnection
    if (this.requestDone && this.upstreamKeepAlive && conn.state === ConnState.Busy)
      (this.target as Target).pool.release(conn)
    else conn.destroy()
    // The request may still be streaming (an early response): then neither side can continue.
    const reusable = this.requestDone && this.responseKeepAlive && this.outFraming !== OutFraming.Close
    this.client.exchangeDone(this, reusable)
  }

  // ---- endings --------------------------------------------------------------------------------

  /** Fail the exchange: 502/504 if nothing of the final response was sent, else abort the client. */
  fail(code: ErrorCode, reason: string, offset?: number): void {
    if (this.state >= ExchangeState.Done) return
    const headSent = this.state === ExchangeState.Relaying || this.state === ExchangeState.Tunnel
    this.finishFailed(code, reason, offset, headSent ? 0 : -1)
  }

  /** `status` -1: answer with the error response; 0: abort the client connection. */
  private finishFailed(code: ErrorCode, reason: string, offset: number | undefined, status: number): void {
    const wasConnecting = this.state === ExchangeState.Connecting
    this.state = ExchangeState.Failed
    // Bytes gathered for the client while the parser ran go away with the connection.
    if (this.parsing) batch.clear()
    this.clearResponseTimer()
    if (wasConnecting) this.target?.pool.cancel(this)
    if (this.conn !== null) this.conn.destroy()
    const err = new GatewayError(code, reason, { offset, status: status === -1 ? undefined : 0 })
    if (code === 'CLIENT_ABORTED') {
      this.report(err)
      return
    }
    if (status === -1) {
      this.client.answerError(err, this.request, this.requestDone)
    } else {
      this.report(err)
      this.client.abort()
    }
    this.publishExchange(err)
  }

  private report(err: GatewayError): void {
    this.ctx.report(err, this.request, this.client.remoteAddress)
  }

  private publishExchange(error?: GatewayError): void {
    this.ctx.publishExchange(this.request, error?.status ?? this.status, this.started, error)
  }

  /**
   * timeouts.response runs from the request being sent completely (RULES.md): a slow upload is
   * bounded by timeouts.idle on the client socket, not mistaken for a slow upstream.
   */
  private startResponseTimer(): void {
    ;(this.conn as UpstreamConnection).responseTimer.arm(this.ctx.options.timeouts.response)
  }

  private clearResponseTimer(): void {
    this.conn?.responseTimer.disarm()
  }

  /** Set the upstream socket's inactivity timeout (timeouts.idle or 0); see deferredTimeout. */
  private upstreamTimeout(ms: number): void {
    if (this.parsing) this.deferredTimeout = ms
    else (this.conn as UpstreamConnection).setSocketTimeout(ms)
  }

  private contentLengthOf(head: ResponseHead): string {
    for (let i = 0; i < head.kinds.length; i++) {
      if (head.kinds[i] === FieldKind.ContentLength) {
        return `Content-Length: ${head.raw.toString('latin1', head.fields[4 * i + 2], head.fields[4 * i + 3])}\r\n`
      }
    }
    return ''
  }

  private requestExtra(): string {
    const req = this.request
    let extra = this.ctx.viaField
    if (this.ctx.options.xForwarded) {
      extra += `X-Forwarded-For: ${this.client.remoteAddress}\r\nX-Forwarded-Proto: ${this.client.protocol}\r\n`
      if (req.host !== '') extra += `X-Forwarded-Host: ${req.host}\r\n`
    }
    // The request goes upstream as HTTP/1.1, which requires Host (RFC 9112 §3.2). An HTTP/1.0
    // request may have none: its target URI then has the server's default authority (RFC 9112
    // §3.3), here the upstream's.
    if (req.host === '') extra += `Host: ${(this.target as Target).config.hostHeader}\r\n`
    const framing = req.framing
    if (framing.kind === 'length') extra += `Content-Length: ${framing.length}\r\n`
    else if (framing.kind === 'chunked') extra += 'Transfer-Encoding: chunked\r\n'
    if (req.upgrade.length > 0) extra += 'Connection: upgrade\r\n'
    return extra
  }
}
