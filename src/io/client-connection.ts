// One client socket: reads requests one at a time (pipelined ones wait their turn, so answers
// go out in order), runs an Exchange per request and is its client (ExchangeClient): it frames
// and writes the response, and owns the client side of every ending.

import type { Socket } from 'node:net'
import { type ErrorCode, GatewayError, type ParseFailure } from '../errors.js'
import type { HeadEdit } from '../h1/edits.js'
import { customErrorResponse, errorResponse } from '../h1/error-response.js'
import type { RequestHead, ResponseHead, Trailer } from '../h1/head.js'
import { OutFraming, type ResponsePlan } from '../h1/plan.js'
import { type RequestEvents, RequestParser } from '../h1/request-parser.js'
import { LAST_CHUNK, serializeResponseHead, serializeTrailers } from '../h1/serialize.js'
import type { ClientExchange, ExchangeClient, HandedOver } from './client.js'
import { ClientState, Timer } from './client-state.js'
import type { ClientHandle, GatewayContext } from './context.js'
import { Deadline } from './deadline.js'
import { Exchange } from './exchange.js'
import { resetLater } from './reset.js'
import { Tunnel } from './tunnel.js'
import type { UpstreamConnection } from './upstream-connection.js'

export class ClientConnection implements ClientHandle, ExchangeClient, RequestEvents {
  readonly socket: Socket
  state = ClientState.Head
  readonly remoteAddress: string
  readonly protocol: 'http' | 'https'
  /** Bytes written to the client so far (ExchangeClient.bytesSent). */
  bytesSent = 0
  private readonly ctx: GatewayContext
  private parser: RequestParser
  private exchange: ClientExchange | null = null
  private tunnel: Tunnel | null = null
  /** Bytes of the next pipelined request(s), held while the current one is answered. */
  private pending: Buffer | null = null
  private closeAfterResponse = false
  /** The current request has body bytes to read (framing other than none or Content-Length: 0). */
  private bodyExpected = false
  /** How the response in flight is framed (sendHead). */
  private outFraming = OutFraming.None
  /** Created once: arming it per request stores a deadline, not a new Timeout (deadline.ts). */
  private readonly timer: Deadline
  private timerKind = Timer.None
  /** The socket timeout last set (ms, 0: none), so that an unchanged one is not set again. */
  private socketTimeout = 0
  /** The one request of a socket handed over by upgrade(), or null. */
  private readonly handedOver: HandedOver | null
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
    this.ctx = ctx
    this.socket = socket
    this.remoteAddress = socket.remoteAddress ?? ''
    this.protocol = 'encrypted' in socket && socket.encrypted === true ? 'https' : 'http'
    this.parser = new RequestParser(this, ctx.config.options.limits)
    this.timer = new Deadline(this.onTimer, false)
    this.handedOver = handedOver
    socket.setNoDelay(true)
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
      this.parser = new RequestParser(this, this.ctx.config.options.limits)
    }
    let pos = 0
    while (pos < chunk.length) {
      if (this.state === ClientState.Waiting || this.state >= ClientState.Tunnel) {
        // The current request is read; the rest waits until its response is done.
        if (this.state === ClientState.Waiting) {
          this.pending = chunk.subarray(pos)
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

  get writing(): boolean {
    return this.socket.writableLength > 0
  }

  sendInterim(head: ResponseHead): void {
    const ctx = this.ctx
    ctx.batch.add(serializeResponseHead(head, ctx.config.responseVia, ctx.arena.take), false)
  }

  sendHead(head: ResponseHead, plan: ResponsePlan, edit: HeadEdit | null): null {
    const ctx = this.ctx
    this.outFraming = plan.framing
    ctx.batch.add(serializeResponseHead(head, ctx.config.responseVia + plan.fields, ctx.arena.take, edit), false)
    return null
  }

  sendBody(chunk: Buffer): void {
    this.ctx.batch.add(chunk, this.outFraming === OutFraming.Chunked)
  }

  sendEnd(trailers: readonly Trailer[] | null): void {
    if (this.outFraming !== OutFraming.Chunked) return
    this.ctx.batch.add(trailers === null ? LAST_CHUNK : serializeTrailers(trailers), false)
  }

  flush(): boolean {
    const ctx = this.ctx
    const ok = ctx.batch.writeTo(this)
    ctx.arena.settle(this.writing)
    // A write returned false: the client must take it within timeouts.idle.
    if (!ok) this.updateStallTimer()
    return ok
  }

  discard(): void {
    this.ctx.batch.clear()
  }

  /** For the batch (BatchSink): a write to the socket unless it is gone. */
  write(data: Buffer): boolean {
    if (this.state === ClientState.Closed || this.socket.destroyed) return true
    this.bytesSent += data.length
    return this.socket.write(data)
  }

  cork(): void {
    this.socket.cork()
  }

  uncork(): void {
    this.socket.uncork()
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
