// One client socket: reads requests one at a time (pipelined ones wait their turn, so answers
// go out in order), runs an Exchange per request and is its client (ExchangeClient: the writing
// half is socket-writer.ts), and owns the client side of every ending.

import type { Socket } from 'node:net'
import { type ErrorCode, GatewayError, type ParseFailure } from '../errors.js'
import { customErrorResponse, errorResponse } from '../h1/error-response.js'
import type { RequestHead, Trailer } from '../h1/head.js'
import { type RequestEvents, RequestParser } from '../h1/request-parser.js'
import type { ClientExchange, ExchangeClient, HandedOver } from './client.js'
import { readInto, setReadBuffer } from './client-reads.js'
import { ClientState, Timer } from './client-state.js'
import type { ClientHandle, GatewayContext } from './context.js'
import { Deadline } from './deadline.js'
import { Exchange } from './exchange.js'
import { ReadBuffer } from './read-buffer.js'
import { resetLater } from './reset.js'
import { SocketWriter } from './socket-writer.js'
import { Tunnel } from './tunnel.js'
import type { UpstreamConnection } from './upstream-connection.js'

/**
 * Read buffer sizes of a client connection (read-buffer.ts): requests are small, so 4 KiB, and an
 * idle keep-alive connection keeps no more; a body upload grows it to 64 KiB reads.
 */
const READ_BUFFER_MIN = 4 * 1024
const READ_BUFFER_MAX = 64 * 1024

export class ClientConnection extends SocketWriter implements ClientHandle, ExchangeClient, RequestEvents {
  state = ClientState.Head
  readonly remoteAddress: string
  readonly protocol: 'http' | 'https'
  private parser: RequestParser
  private exchange: ClientExchange | null = null
  private tunnel: Tunnel | null = null
  /** Bytes of the next pipelined request(s), held while the current one is answered. */
  private pending: Buffer | null = null
  private closeAfterResponse = false
  /** The current request has body bytes to read (framing other than none or Content-Length: 0). */
  private bodyExpected = false
  /** Created once: arming it per request stores a deadline, not a new Timeout (deadline.ts). */
  private readonly timer: Deadline
  private timerKind = Timer.None
  /** The socket timeout last set (ms, 0: none), so that an unchanged one is not set again. */
  private socketTimeout = 0
  /** The one request of a socket handed over by upgrade(), or null. */
  private readonly handedOver: HandedOver | null
  /** What reads go to when the socket is read through `onread` (client-reads.ts); null: 'data'. */
  private readonly readBuffer: ReadBuffer | null = null
  /** performance.now() when timeouts.request was armed for a head (publishFailure), else 0. */
  private headSince = 0

  /**
   * Serve `socket`; with `refusal`, answer that error at once (the gateway is at its connection
   * limit or shutting down) and close, reading nothing but the client's FIN. With `handedOver`,
   * serve that one request (its head's bytes first), then close unless it became a tunnel.
   */
  constructor(
    ctx: GatewayContext,
    socket: Socket,
    refusal: GatewayError | null = null,
    handedOver: HandedOver | null = null,
  ) {
    super(ctx, socket)
    this.remoteAddress = socket.remoteAddress ?? ''
    this.protocol = 'encrypted' in socket && socket.encrypted === true ? 'https' : 'http'
    this.timer = new Deadline(this.onTimer, false)
    this.handedOver = handedOver
    socket.setNoDelay(true)
    // Read into a buffer of our own where the runtime allows it (this tick, nothing read yet);
    // heads must then outlive it: the parser copies them out. 'data' stays as the fallback.
    if (refusal === null && handedOver === null) {
      const buffer = new ReadBuffer(READ_BUFFER_MIN, READ_BUFFER_MAX)
      if (readInto(socket, buffer.next, this.onRead)) this.readBuffer = buffer
    }
    this.parser = new RequestParser(this, ctx.config.options.limits, this.readBuffer === null ? null : ctx.heads.take)
    socket.on('data', this.onData)
    socket.on('end', this.onEnd)
    socket.on('error', this.onError)
    socket.on('close', this.onClose)
    socket.on('drain', this.onDrain)
    socket.on('timeout', this.onSocketTimeout)
    if (refusal !== null) {
      this.write(errorResponse(refusal.code, true))
      this.publishFailure(refusal, 0, true)
      this.end(ctx.config.options.timeouts.keepAlive)
      return
    }
    if (handedOver === null) this.arm(Timer.RequestHead, ctx.config.options.timeouts.request)
    else {
      this.closeAfterResponse = true
      this.feed(handedOver.bytes)
    }
  }

  // ---- reading requests --------------------------------------------------------------------

  /** `onread` callback: `nread` bytes are in the read buffer. Returns true: go on reading. */
  private readonly onRead = (nread: number, buffer: Buffer): boolean => {
    const readBuffer = this.readBuffer as ReadBuffer
    this.onData(readBuffer.read(nread, buffer))
    // Request body bytes still waiting to be written upstream are views of the buffer.
    if (this.exchange?.holdsRequestBytes === true || this.tunnel?.holdsClientBytes === true) readBuffer.hold()
    return true
  }

  private readonly onData = (chunk: Buffer): void => {
    switch (this.state) {
      case ClientState.Tunnel:
        ;(this.tunnel as Tunnel).fromClient(chunk)
        return
      case ClientState.Closing:
      case ClientState.Closed:
        return
      default:
        if (this.pending !== null) {
          this.pending = Buffer.concat([this.pending, chunk])
          this.socket.pause()
          return
        }
        this.feed(chunk)
    }
  }

  private feed(chunk: Buffer): void {
    if (this.parser.limits !== this.ctx.config.options.limits && this.parser.idle) {
      // reconfigure() changed the limits: the request starting now is held to the new ones.
      this.parser.destroy()
      this.parser = new RequestParser(
        this,
        this.ctx.config.options.limits,
        this.readBuffer === null ? null : this.ctx.heads.take,
      )
    }
    let pos = 0
    while (pos < chunk.length) {
      if (this.state === ClientState.Waiting || this.state >= ClientState.Tunnel) {
        // The current request is read; the rest waits until its response is done.
        if (this.state === ClientState.Waiting) {
          // A copy: the chunk may be a view of a read buffer that is read into again.
          this.pending = Buffer.from(chunk.subarray(pos))
          this.socket.pause()
        }
        return
      }
      const n = this.parser.execute(chunk, pos)
      if (n < 0) {
        this.requestFailed(this.parser.failure as ParseFailure)
        return
      }
      pos = n
    }
    // A request head begun but not complete: timeouts.request runs from its first byte (armed
    // only now: a head that arrived whole, the usual case, never needs it).
    if (this.state === ClientState.Head && this.timerKind !== Timer.RequestHead && !this.parser.idle) {
      this.arm(Timer.RequestHead, this.ctx.config.options.timeouts.request)
    }
  }

  onHead(head: RequestHead): void {
    this.disarm()
    if (!head.keepAlive) this.closeAfterResponse = true
    this.state = ClientState.Body
    const framing = head.framing
    this.bodyExpected = framing.kind === 'chunked' || (framing.kind === 'length' && framing.length > 0)
    // A stalled request body is bounded by timeouts.idle.
    this.updateStallTimer()
    const exchange = new Exchange(this, this.ctx, head)
    this.exchange = exchange
    exchange.start(this.handedOver?.options)
  }

  onBody(chunk: Buffer): void {
    this.exchange?.requestBody(chunk)
  }

  onTrailers(_trailers: readonly Trailer[]): void {
    // Request trailers are validated by the parser and not forwarded.
  }

  onComplete(): void {
    if (this.state === ClientState.Body) this.state = ClientState.Waiting
    this.updateStallTimer()
    this.exchange?.requestComplete()
  }

  /** The request was malformed: answer 4xx (if nothing was sent yet) and close. */
  private requestFailed(failure: ParseFailure): void {
    const err = GatewayError.fromFailure(failure)
    const exchange = this.exchange
    this.exchange = null
    const sent = this.bytesSent
    if (exchange !== null && !exchange.abandon()) {
      // The response was already under way: the truncation must be visible.
      err.status = 0
      this.ctx.report(err, exchange.request, this.remoteAddress)
      this.abort()
      exchange.publish(err)
      return
    }
    this.answerError(err, exchange?.request, false)
    if (exchange !== null) exchange.publish(err)
    else this.publishFailure(err, sent)
  }

  /** A failure before a request head was complete (reported first if `report`): an exchange without a request. */
  private publishFailure(err: GatewayError, sentBefore: number, report = false): void {
    const { ctx, remoteAddress } = this
    if (report) ctx.report(err, undefined, remoteAddress)
    const started = this.headSince > 0 ? this.headSince : performance.now()
    ctx.publishExchange(undefined, err.status, started, err, remoteAddress, this.bytesSent - sentBefore, undefined)
  }

  pauseReading(): void {
    if (this.state >= ClientState.Closing) return
    this.socket.pause()
    this.updateStallTimer()
  }

  resumeReading(): void {
    if (this.pending !== null || this.state >= ClientState.Closing) return
    this.socket.resume()
    this.updateStallTimer()
  }

  /**
   * The socket timeout (timeouts.idle) runs exactly while the gateway waits on the client: for
   * request body bytes it is free to send (reading, not paused for the upstream), or for it to
   * take response bytes (a write waits for 'drain'). Not while the upstream is the slow side:
   * that is the upstream's timeout, and blaming the client for it would be wrong.
   */
  private updateStallTimer(): void {
    if (this.state >= ClientState.Closing) return
    // A request without a body is complete in the same parser call as its head (onComplete
    // follows onHead synchronously): there are no body bytes to wait for.
    const body = this.state === ClientState.Body && this.bodyExpected && !this.socket.isPaused()
    const drain =
      (this.state === ClientState.Body || this.state === ClientState.Waiting) && this.socket.writableNeedDrain
    this.setSocketTimeout(body || drain ? this.ctx.config.options.timeouts.idle : 0)
  }

  /**
   * Set the socket's inactivity timeout only when it changes: each non-zero setTimeout costs a
   * new Timeout and a bound function in node:net. Reads and writes restart a running one, so
   * setting the same value again is redundant.
   */
  private setSocketTimeout(ms: number): void {
    if (ms === this.socketTimeout) return
    this.socketTimeout = ms
    this.socket.setTimeout(ms)
  }

  // ---- writing responses (ExchangeClient) ------------------------------------------------------

  get persistent(): boolean {
    return !this.closeAfterResponse && this.state < ClientState.Closing
  }

  protected get closed(): boolean {
    return this.state === ClientState.Closed
  }

  protected writeBlocked(): void {
    // The client must take the response within timeouts.idle.
    this.updateStallTimer()
  }

  exchangeDone(reusable: boolean): void {
    this.exchange = null
    if (!reusable || this.closeAfterResponse || this.state >= ClientState.Closing) {
      this.end(this.ctx.config.options.timeouts.idle)
      return
    }
    this.nextRequest()
  }

  /**
   * Answer `err` with the gateway's error response (or the onError hook's). The connection
   * stays open only if the request was fully read and nothing else is wrong with it.
   */
  answerError(err: GatewayError, request: RequestHead | undefined, requestComplete: boolean): void {
    if (this.exchange !== null && this.exchange.request === request) this.exchange = null
    const close =
      err.source === 'client' || !requestComplete || this.closeAfterResponse || this.state >= ClientState.Closing
    const custom = this.ctx.report(err, request, this.remoteAddress)
    let response: Buffer
    if (custom !== undefined) {
      response = customErrorResponse(err.code, close, custom, request?.method === 'HEAD')
      if (custom.status !== undefined) err.status = custom.status
    } else {
      response = errorResponse(err.code, close)
      if (request?.method === 'HEAD') response = response.subarray(0, response.indexOf('\r\n\r\n') + 4)
    }
    this.write(response)
    this.handedOver?.done(err.status, err)
    if (close) {
      this.end(this.ctx.config.options.timeouts.idle)
      return
    }
    this.nextRequest()
  }

  /** Back to waiting for a request: the pipelined bytes held meanwhile come first. */
  private nextRequest(): void {
    this.state = ClientState.Head
    // An idle connection keeps only a small read buffer (one a large body grew is given up).
    const small = this.readBuffer?.shrink() ?? null
    if (small !== null) setReadBuffer(this.socket, small)
    this.arm(Timer.KeepAlive, this.ctx.config.options.timeouts.keepAlive)
    const pending = this.pending
    this.pending = null
    this.socket.resume()
    if (pending !== null) this.feed(pending)
  }

  startTunnel(upstream: UpstreamConnection, rest: Buffer | null): void {
    this.exchange = null
    this.state = ClientState.Tunnel
    this.disarm()
    this.setSocketTimeout(0)
    const pending = this.pending
    this.pending = null
    this.tunnel = new Tunnel(this.socket, upstream, this.endTunnel, pending, rest)
    this.socket.resume()
  }

  private readonly endTunnel = (): void => {
    this.end(this.ctx.config.options.timeouts.idle)
  }

  exchangeEnded(status: number, error: GatewayError | undefined): void {
    this.handedOver?.done(status, error)
  }

  // ---- endings -------------------------------------------------------------------------------

  /**
   * Close after what was written is flushed. Go on reading, and discarding, until the client
   * closes too (RFC 9112 §9.6: a server that closes while the client still sends risks a reset
   * that destroys its own response); a socket paused for backpressure would otherwise never see
   * the client's FIN and stay open. A client that neither reads nor closes is dropped after
   * `linger` ms.
   */
  private end(linger: number): void {
    if (this.state >= ClientState.Closing) return
    this.state = ClientState.Closing
    this.timer.clear()
    this.timerKind = Timer.None
    this.socket.end()
    this.socket.resume()
    this.setSocketTimeout(linger)
  }

  /** Make the truncation visible: reset, never a clean end. */
  abort(): void {
    if (this.state === ClientState.Closed) return
    this.state = ClientState.Closed
    this.timer.clear()
    this.timerKind = Timer.None
    // Nothing more is written meanwhile (state Closed).
    resetLater(this.socket)
  }

  /** Graceful shutdown: close now if idle, else after the response in flight. */
  shutdown(): void {
    this.closeAfterResponse = true
    if (this.exchange === null && this.state === ClientState.Head && this.parser.idle) {
      this.end(this.ctx.config.options.timeouts.idle)
    }
  }

  private readonly onEnd = (): void => {
    if (this.state === ClientState.Tunnel) {
      ;(this.tunnel as Tunnel).clientEnded()
      return
    }
    const failure = this.parser.finish()
    const exchange = this.exchange
    if ((failure !== null || exchange !== null) && this.state < ClientState.Closing) {
      // Half a request, then FIN; or FIN while the response is in flight. A client that closes
      // has abandoned its request (RULES.md: CLIENT_ABORTED, upstream connection destroyed);
      // waiting on would let a stalled upstream hold both connections until timeouts.idle.
      // Node's http server (httpAllowHalfOpen off) and nginx treat a client FIN the same way.
      this.exchange = null
      if (exchange !== null) exchange.clientAborted()
      else this.publishFailure(GatewayError.fromFailure(failure as ParseFailure), this.bytesSent, true)
      this.abort()
      return
    }
    this.closeAfterResponse = true
    if (this.exchange === null) this.end(this.ctx.config.options.timeouts.idle)
  }

  private readonly onError = (): void => {
    // 'close' follows; the exchange learns of it there.
  }

  private readonly onClose = (): void => {
    // A reset in the middle of a request head is CLIENT_ABORTED, as a FIN there is (onEnd).
    const midHead = this.state < ClientState.Closing && this.exchange === null && !this.parser.idle
    this.state = ClientState.Closed
    this.timer.clear()
    this.timerKind = Timer.None
    this.setSocketTimeout(0)
    const exchange = this.exchange
    this.exchange = null
    exchange?.clientAborted()
    this.tunnel?.clientClosed()
    if (midHead) {
      const err = new GatewayError('CLIENT_ABORTED', 'client reset the connection mid-request', {
        offset: this.parser.offset,
      })
      this.publishFailure(err, this.bytesSent, true)
    }
    this.parser.destroy()
    // (Told already in every other case: done() is once only.)
    this.handedOver?.done(0, undefined)
    this.ctx.connectionClosed(this)
  }

  private readonly onDrain = (): void => {
    if (this.state === ClientState.Tunnel) {
      ;(this.tunnel as Tunnel).clientDrained()
      return
    }
    this.updateStallTimer()
    this.exchange?.clientDrained()
  }

  private readonly onSocketTimeout = (): void => {
    // Armed only while the gateway waits on the client (updateStallTimer), or lingers (end).
    const idle = this.ctx.config.options.timeouts.idle
    if (this.state === ClientState.Body) {
      const what = this.socket.writableNeedDrain ? 'took no response bytes' : 'sent no request body bytes'
      this.fail('CLIENT_TIMEOUT', `client ${what} for ${idle} ms`)
    } else if (this.state === ClientState.Waiting) {
      this.exchange?.clientStalled(idle)
    } else if (this.state === ClientState.Closing) {
      // Ended by us, and the client neither took the rest nor closed.
      this.socket.destroy()
    }
  }

  private fail(code: ErrorCode, reason: string): void {
    this.requestFailed({ code, offset: this.parser.offset, reason })
  }

  private arm(kind: Timer, ms: number): void {
    this.timerKind = kind
    this.headSince = kind === Timer.RequestHead ? performance.now() : 0
    this.timer.arm(ms)
  }

  private disarm(): void {
    this.timer.disarm()
    this.timerKind = Timer.None
  }

  private readonly onTimer = (): void => {
    const kind = this.timerKind
    this.timerKind = Timer.None
    if (this.state !== ClientState.Head) return
    if (kind === Timer.RequestHead && !this.parser.idle) {
      this.fail('CLIENT_TIMEOUT', `request head not complete within ${this.ctx.config.options.timeouts.request} ms`)
    } else {
      // Nothing of a request arrived: close quietly, as for an idle keep-alive connection.
      this.end(this.ctx.config.options.timeouts.idle)
    }
  }
}
