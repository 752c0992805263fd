// One request/response relay. The response head is validated completely before a byte of it
// is written; a failure before that is answered with 502/504 through the client, a failure
// after it aborts the client connection (never a terminal chunk, never padding). Every ending
// goes through `end`.

import { type ErrorCode, GatewayError, sourceFor } from '../errors.js'
import type { RequestHead, ResponseHead, Trailer } from '../h1/head.js'
import { OutFraming, planResponse, type ResponsePlan, relaysInterim, replayable, reuseUpstream } from '../h1/plan.js'
import type { ResponseEvents } from '../h1/response-parser.js'
import { LAST_CHUNK } from '../h1/serialize.js'
import type { RouteOptions } from '../options.js'
import type { ClientExchange, ExchangeClient } from './client.js'
import type { Config } from './config.js'
import type { GatewayContext } from './context.js'
import { ExchangeState, Outcome } from './exchange-states.js'
import { type RouteDecision, responseEdit, routeFor, upstreamHead } from './rewriting.js'
import type { Target } from './targets.js'
import { ConnState, type UpstreamConnection, type UpstreamUser } from './upstream-connection.js'
import { writeChunk } from './write-batch.js'

export class Exchange implements ClientExchange, UpstreamUser, ResponseEvents {
  state = ExchangeState.Connecting
  readonly request: RequestHead
  private readonly client: ExchangeClient
  private readonly ctx: GatewayContext
  /** The configuration this exchange started with, kept to its end (reconfigure()). */
  private readonly cfg: Config
  private conn: UpstreamConnection | null = null
  /** The upstream target of the current attempt; null only when none was available. */
  private target: Target | null = null
  /** Targets that failed this request (next-upstream), allocated on the first failure only. */
  private tried: Target[] | null = null
  /** How the request is routed and reshaped (start()); null: as it came, to any target. */
  private decision: RouteDecision | null = null
  /** The targets the route allows for this request (null: all). */
  private allowed: Target[] | null = null
  /** An onResponse hook or response rewrite failed on the head: answered once the parser returns. */
  private editFailure: string | null = null
  /** Request body pieces received before the upstream connection was ready. */
  private pendingBody: Buffer[] | null = []
  private requestDone = false
  private readonly requestChunked: boolean
  /** The final response's plan, once its head arrived. */
  private plan: ResponsePlan | null = null
  private trailers: readonly Trailer[] | null = null
  /**
   * While the parser runs on an upstream chunk: the upstream socket timeout its events asked
   * for, applied once it returns (-1: none asked). A small response's head and end arrive in
   * one chunk; setting timeouts.idle at the head only to clear it at the end would cost a
   * Timeout for nothing, and no timer can fire in between.
   */
  private deferredTimeout = -1
  /** The parser is running on an upstream read: what goes to the client is being gathered. */
  private parsing = false
  private retried = false
  private responseBytes = 0
  private status = 0
  /** performance.now() at the start, for strictgate:exchange (a number: no BigInt per request). */
  private readonly started = performance.now()
  /** What the client had been written before this exchange (its bytesSent is the rest). */
  private readonly sentBefore: number

  constructor(client: ExchangeClient, ctx: GatewayContext, request: RequestHead) {
    this.client = client
    this.ctx = ctx
    this.cfg = ctx.config
    this.request = request
    this.requestChunked = request.framing.kind === 'chunked'
    this.sentBefore = client.bytesSent
  }

  start(options?: RouteOptions): void {
    try {
      this.decision = routeFor(this.cfg, this.request, options)
    } catch (err) {
      this.fail('GATEWAY_INTERNAL_ERROR', (err as Error).message)
      return
    }
    this.allowed = this.decision?.targets ?? null
    const target = this.cfg.targets.pick(null, this.allowed)
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
    const next = this.cfg.targets.next(this.target as Target, (this.tried ??= []), this.allowed)
    if (next === null) return false
    this.attempt(next, false)
    return true
  }

  // ---- client side (ClientExchange) ----------------------------------------------------------

  get holdsRequestBytes(): boolean {
    const pending = this.pendingBody
    return (pending !== null && pending.length > 0) || (this.conn !== null && this.conn.socket.writableLength > 0)
  }

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
      this.upstreamTimeout(this.cfg.options.timeouts.idle)
    }
  }

  clientAborted(): void {
    if (this.state >= ExchangeState.Done) return
    this.end(Outcome.ClientGone, new GatewayError('CLIENT_ABORTED', 'client closed the connection', { status: 0 }))
  }

  clientStalled(idle: number): void {
    if (this.state >= ExchangeState.Done) return
    const err = new GatewayError('CLIENT_TIMEOUT', `client took no response bytes for ${idle} ms`, { status: 0 })
    this.end(Outcome.Abort, err)
  }

  abandon(): boolean {
    const canAnswer = this.state <= ExchangeState.AwaitingHead
    if (this.state < ExchangeState.Done) this.end(Outcome.Abandoned, null)
    return canAnswer
  }

  clientDrained(): void {
    if (this.conn !== null && this.state === ExchangeState.Relaying) {
      this.upstreamTimeout(this.cfg.options.timeouts.idle)
      this.conn.socket.resume()
    }
  }

  // ---- upstream connection (UpstreamUser) ----------------------------------------------------

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
    const arena = this.ctx.arena
    socket.write(
      upstreamHead(this.cfg, this.ctx.arena.take, this.request, this.decision, this.target as Target, this.client),
    )
    for (const chunk of pending) this.writeBody(chunk)
    if (lastChunk) socket.write(LAST_CHUNK)
    if (cork) socket.uncork()
    arena.settle(socket.writableLength > 0)
    this.client.resumeReading()
    if (this.requestDone) this.startResponseTimer()
  }

  onUpstreamConnectError(code: ErrorCode, cause: Error | null): void {
    // Nothing was sent: any method may move to the next target. A failure of the gateway's own
    // (no socket to be had) is not the target's, and no other target would fare better.
    if (this.state === ExchangeState.Connecting && sourceFor(code) === 'upstream' && this.nextUpstream()) return
    this.fail(code, cause === null ? 'cannot connect to the upstream' : cause.message)
  }

  onUpstreamData(chunk: Buffer): boolean {
    const conn = this.conn as UpstreamConnection
    this.responseBytes += chunk.length
    this.parsing = true
    let n: number
    try {
      n = conn.parser.execute(chunk)
    } catch (err) {
      // A bug: what was gathered must not go to the next exchange's client.
      this.client.discard()
      throw err
    } finally {
      this.parsing = false
    }
    if (this.deferredTimeout >= 0) {
      // Before the connection can go back to the pool (end): idle ones have none.
      if (conn.state !== ConnState.Closed) conn.setSocketTimeout(this.deferredTimeout)
      this.deferredTimeout = -1
    }
    // What the parser's events gave for the client, in one write, before a failure is handled:
    // an interim response goes out before a 502, a relayed head and body before an abort.
    this.flush()
    if (this.editFailure !== null) {
      // Nothing of the final response was relayed (the head was held back).
      this.fail('GATEWAY_INTERNAL_ERROR', this.editFailure)
    } else if (n < 0) {
      const failure = conn.parser.failure as NonNullable<typeof conn.parser.failure>
      if (this.state === ExchangeState.Done) {
        // B5: the response stands; the extra bytes go away with the connection.
        this.report(new GatewayError(failure.code, failure.reason, { offset: failure.offset, status: this.status }))
        conn.destroy()
        this.end(Outcome.Complete, null)
      } else {
        this.fail(failure.code, failure.reason, failure.offset)
      }
    } else if (this.state === ExchangeState.Done) {
      if ((this.plan as ResponsePlan).framing === OutFraming.Tunnel) {
        this.end(Outcome.Tunnel, null, n < chunk.length ? chunk.subarray(n) : null)
      } else {
        this.end(Outcome.Complete, null)
      }
    }
    // Body slices are written as views of `chunk`: a write still pending holds on to it.
    return this.client.writing
  }

  onUpstreamEnd(): void {
    const conn = this.conn as UpstreamConnection
    if (this.state >= ExchangeState.Done) {
      conn.destroy()
      return
    }
    const failure = conn.parser.finish()
    conn.destroy()
    // A close-delimited body ends here (its last events, written now).
    this.flush()
    if (failure !== null) this.upstreamBroke(failure.code, failure.reason, failure.offset)
    else if (this.state === ExchangeState.Done) this.end(Outcome.Complete, null)
  }

  onUpstreamClose(cause: Error | null): void {
    if (this.state >= ExchangeState.Done) return
    const conn = this.conn as UpstreamConnection
    const failure = conn.parser.abort()
    if (failure === null) return
    this.upstreamBroke(failure.code, cause?.message ?? failure.reason, failure.offset)
  }

  onUpstreamDrain(): void {
    // Before the head, the upstream socket's timeout only bounded that stall (while relaying
    // it is timeouts.idle anyway).
    if (this.state === ExchangeState.AwaitingHead && this.conn !== null) this.upstreamTimeout(0)
    this.client.resumeReading()
  }

  onUpstreamResponseTimeout(): void {
    if (this.state === ExchangeState.AwaitingHead) {
      this.fail('UPSTREAM_RESPONSE_TIMEOUT', `no response head within ${this.cfg.options.timeouts.response} ms`)
    }
  }

  onUpstreamTimeout(): void {
    // Armed while relaying a body and the client keeps up, or while the upstream does not take
    // the request body (timeouts.idle).
    this.fail('UPSTREAM_IDLE_TIMEOUT', `upstream stalled for ${this.cfg.options.timeouts.idle} ms`)
  }

  /**
   * The connection closed or reset before the response was complete. RFC 9112 §9.3.1: retry
   * once on a fresh connection if the request is idempotent, the connection had been reused,
   * nothing of the response arrived and the request can be sent again (no body).
   */
  private upstreamBroke(code: ErrorCode, reason: string, offset: number | undefined): void {
    const conn = this.conn as UpstreamConnection
    const again = code === 'UPSTREAM_CLOSED' && this.responseBytes === 0 && replayable(this.request)
    if (again && !this.retried && conn.reused) {
      // A keep-alive connection the upstream closed as we reused it: not the target's fault.
      this.retried = true
      this.resetForRetry(conn)
      this.attempt(this.target as Target, true)
      return
    }
    if (code === 'UPSTREAM_CLOSED' && this.responseBytes === 0) {
      // Closed or reset before any response byte: a failure of the target (passive health);
      // after request bytes went out, only a replayable request may move on (RFC 9112 §9.3.1).
      if (!again) this.cfg.targets.failed(this.target as Target)
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
    if (head.interim) {
      // The final head may follow.
      if (relaysInterim(this.request)) this.client.sendInterim(head)
      return
    }
    this.clearResponseTimer()
    this.status = head.status
    const target = this.target as Target
    target.succeeded()
    let edit = null
    if (this.cfg.rewritesResponses && head.upgrade === null) {
      try {
        edit = responseEdit(this.cfg, head, this.request, target, this.client.protocol)
      } catch (err) {
        // Relay nothing of this response; the rest of its events find no Relaying state.
        this.editFailure = `onResponse hook: ${(err as Error).message}`
        return
      }
    }
    const plan = planResponse(this.request, head, this.requestDone, this.client.persistent)
    this.plan = plan
    const refused = this.client.sendHead(head, plan, edit)
    if (refused !== null) {
      this.fail('UPSTREAM_INVALID_HEADER', refused)
      return
    }
    if (plan.framing === OutFraming.Tunnel) {
      // No more events: the parser leaves what follows the 101 to the tunnel.
      this.state = ExchangeState.Done
      return
    }
    this.state = ExchangeState.Relaying
    this.upstreamTimeout(this.cfg.options.timeouts.idle)
  }

  onBody(chunk: Buffer): void {
    if (this.state === ExchangeState.Relaying) this.client.sendBody(chunk)
  }

  onTrailers(trailers: readonly Trailer[]): void {
    // Relayed only to clients that asked for them (RULES.md B2); otherwise dropped.
    if (this.request.acceptsTrailers) this.trailers = trailers
  }

  onComplete(): void {
    if (this.state !== ExchangeState.Relaying) return
    this.client.sendEnd(this.trailers)
    this.state = ExchangeState.Done
    this.upstreamTimeout(0)
  }

  /** Write what the parser's events gave the client; hold the upstream while the client is full. */
  private flush(): void {
    if (this.client.flush() || this.state !== ExchangeState.Relaying)
      return // Held back by the client, not by the upstream: the client side bounds this wait.
    ;(this.conn as UpstreamConnection).socket.pause()
    this.upstreamTimeout(0)
  }

  // ---- endings --------------------------------------------------------------------------------

  /** Fail the exchange: 502/504 if nothing of the final response was sent, else abort the client. */
  fail(code: ErrorCode, reason: string, offset?: number): void {
    if (this.state >= ExchangeState.Done) return
    const headSent = this.state === ExchangeState.Relaying
    const err = new GatewayError(code, reason, { offset, status: headSent ? 0 : undefined })
    this.end(headSent ? Outcome.Abort : Outcome.Answer, err)
  }

  /**
   * The one way an exchange ends: release or destroy the upstream side, then report and tell
   * the client, as the outcome says. `rest`: bytes that came after a 101, for the tunnel.
   */
  private end(outcome: Outcome, err: GatewayError | null, rest: Buffer | null = null): void {
    const wasConnecting = this.state === ExchangeState.Connecting
    this.state = outcome <= Outcome.Tunnel ? ExchangeState.Done : ExchangeState.Failed
    // Bytes gathered for the client while the parser ran go away with the exchange.
    if (this.parsing && outcome > Outcome.Tunnel) this.client.discard()
    this.clearResponseTimer()
    if (wasConnecting) this.target?.pool.cancel(this)
    const conn = this.conn
    if (conn !== null && outcome !== Outcome.Tunnel) {
      const reuse = outcome === Outcome.Complete && reuseUpstream(this.plan as ResponsePlan, this.requestDone)
      if (reuse && conn.state === ConnState.Busy) (this.target as Target).pool.release(conn)
      else conn.destroy()
    }
    switch (outcome) {
      case Outcome.Complete:
        this.publish()
        // The request may still be streaming (an early response): then neither side continues.
        this.client.exchangeDone(this.requestDone && (this.plan as ResponsePlan).clientKeepAlive)
        break
      case Outcome.Tunnel:
        this.publish()
        this.client.startTunnel(conn as UpstreamConnection, rest)
        break
      case Outcome.Answer:
        this.client.answerError(err as GatewayError, this.request, this.requestDone)
        this.publish(err as GatewayError)
        break
      case Outcome.Abort:
      case Outcome.ClientGone:
        this.report(err as GatewayError)
        if (outcome === Outcome.Abort) this.client.abort()
        this.publish(err as GatewayError)
        break
      default:
        // Abandoned: the client connection answers its malformed request itself.
        return
    }
    this.client.exchangeEnded(err === null ? this.status : err.status, err ?? undefined)
  }

  private report(err: GatewayError): void {
    this.ctx.report(err, this.request, this.client.remoteAddress)
  }

  /** Count and publish this exchange (strictgate:exchange); after abandon(), the client calls it. */
  publish(error?: GatewayError): void {
    const { client, target } = this
    const sent = client.bytesSent - this.sentBefore
    const status = error?.status ?? this.status
    this.ctx.publishExchange(this.request, status, this.started, error, client.remoteAddress, sent, target?.config.url)
  }

  /**
   * timeouts.response runs from the request being sent completely (RULES.md): a slow upload is
   * bounded by timeouts.idle on the client socket, not mistaken for a slow upstream.
   */
  private startResponseTimer(): void {
    ;(this.conn as UpstreamConnection).responseTimer.arm(this.cfg.options.timeouts.response)
  }

  private clearResponseTimer(): void {
    this.conn?.responseTimer.disarm()
  }

  /** Set the upstream socket's inactivity timeout (timeouts.idle or 0); see deferredTimeout. */
  private upstreamTimeout(ms: number): void {
    if (this.parsing) this.deferredTimeout = ms
    else (this.conn as UpstreamConnection).setSocketTimeout(ms)
  }
}
