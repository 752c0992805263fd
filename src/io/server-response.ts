// node:http's ServerResponse (or node:http2's Http2ServerResponse) as the client of one exchange
// (ExchangeClient): the response goes out through `res`'s API, the request body comes from
// `req` with backpressure both ways. Node owns the connection: keep-alive, the client's framing,
// its limits and timeouts are Node's. What stays ours: the error answers (status, Proxy-Status,
// onError's page) while nothing was sent, a visible abort after, and timeouts.idle on a client
// that stops taking the response or sending the body while an upstream connection waits on it.

import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { Http2ServerResponse } from 'node:http2'
import type { TLSSocket } from 'node:tls'
import { type ErrorCode, GatewayError } from '../errors.js'
import type { HeadEdit } from '../h1/edits.js'
import { type ErrorPage, errorPage } from '../h1/error-response.js'
import { type RequestHead, type ResponseHead, reasonPhrase, type Trailer } from '../h1/head.js'
import type { ResponsePlan } from '../h1/plan.js'
import { relayedFields } from '../h1/serialize.js'
import type { RouteOptions } from '../options.js'
import type { ClientExchange, ExchangeClient } from './client.js'
import type { ClientHandle, GatewayContext } from './context.js'
import { Deadline } from './deadline.js'
import type { IncomingRequest } from './incoming.js'
import { resetLater } from './reset.js'
import type { UpstreamConnection } from './upstream-connection.js'

export type OutgoingResponse = ServerResponse | Http2ServerResponse

/** Told once, when the exchange ends: the status the client got (0: none) and the failure. */
export type Done = (status: number, error: GatewayError | undefined) => void

/** RST_STREAM error code for an aborted HTTP/2 response (RFC 9113 §7). */
const NGHTTP2_INTERNAL_ERROR = 2

/**
 * Fields as [name, value, ...] grouped by name (case-insensitive), repeated names as lists in
 * their order. Node's writeHead with a flat list sets each name with setHeader once any header
 * was set before (Express sets X-Powered-By), so that the last of two Set-Cookie would win.
 */
function grouped(fields: readonly string[]): Record<string, string | string[]> {
  const byName = new Map<string, [string, string[]]>()
  for (let i = 0; i < fields.length; i += 2) {
    const lower = fields[i].toLowerCase()
    const entry = byName.get(lower)
    if (entry === undefined) byName.set(lower, [fields[i], [fields[i + 1]]])
    else entry[1].push(fields[i + 1])
  }
  const out: Record<string, string | string[]> = {}
  for (const [name, values] of byName.values()) out[name] = values.length === 1 ? values[0] : values
  return out
}

/** The hints of a 103 as writeEarlyHints takes them: lowercase names, `link` as a list. */
function earlyHints(head: ResponseHead): Record<string, string | string[]> {
  const hints: Record<string, string | string[]> = {}
  const fields = relayedFields(head)
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i].toLowerCase()
    const had = hints[name]
    if (name === 'link') hints.link = [...(had ?? []), fields[i + 1]]
    else hints[name] = had === undefined ? fields[i + 1] : `${had}, ${fields[i + 1]}`
  }
  return hints
}

function pageFields(page: ErrorPage, close: boolean): string[] {
  const fields = page.fields.flat()
  if (close) fields.push('Connection', 'close')
  return fields
}

export class ResponseClient implements ExchangeClient, ClientHandle {
  readonly remoteAddress: string
  readonly protocol: 'http' | 'https'
  /** Node decides whether the connection goes on; planResponse's client side does not apply. */
  readonly persistent = true
  /**
   * Body bytes handed to `res` (the error page's included): Node writes the head and the framing
   * itself, and on HTTP/2 one socket carries many streams, so the socket's count would not tell.
   */
  bytesSent = 0
  private readonly ctx: GatewayContext
  private readonly req: IncomingRequest
  private readonly res: OutgoingResponse
  private readonly h2: boolean
  private readonly done: Done
  private exchange: ClientExchange | null = null
  private finished = false
  // The body pieces and ending gathered by the send calls, written through `res` by flush.
  private readonly pieces: Buffer[] = []
  private ended = false
  private trailers: readonly Trailer[] | null = null
  // The request body, read from `req` (unless replaced by the `body` option).
  private reading = false
  private paused = false
  private bodyBytes = 0
  /** A write returned false: waiting for 'drain'. */
  private full = false
  private drainListened = false
  /** timeouts.idle while waiting on the client; created on first need. */
  private stall: Deadline | null = null

  constructor(ctx: GatewayContext, req: IncomingRequest, res: OutgoingResponse, done: Done) {
    this.ctx = ctx
    this.req = req
    this.res = res
    this.done = done
    this.h2 = req.httpVersionMajor === 2
    const socket = req.socket as TLSSocket | undefined
    this.remoteAddress = socket?.remoteAddress ?? ''
    this.protocol = socket?.encrypted === true ? 'https' : 'http'
  }

  /**
   * Run `exchange`: with `body`, send that instead of the request's own body (its head says
   * its length already); without, stream `req`'s body, or refuse at once when something else
   * already read it (GATEWAY_BODY_CONSUMED: waiting for it would hang).
   */
  run(exchange: ClientExchange, options: RouteOptions | undefined, body: Buffer | null): void {
    this.exchange = exchange
    const { req, res } = this
    // 'close' while the exchange still runs: the client went away (a completed exchange has
    // ended, synchronously, before 'close'). node:http2 emits 'finish' then 'close' even for a
    // stream the client reset, so writableFinished does not tell. (`req` emits 'error' only to
    // listeners; 'close' follows.) Other listeners are added when needed: one closure per
    // request on the common path.
    res.on('close', this.clientGone)
    res.on('error', this.clientGone)
    const framing = exchange.request.framing
    const hasBody = framing.kind === 'chunked' || (framing.kind === 'length' && framing.length > 0)
    if (res.destroyed || (req.destroyed && !req.complete)) {
      exchange.clientAborted()
      return
    }
    if (body === null && hasBody && (req.readableDidRead || req.readableEnded)) {
      exchange.fail(
        'GATEWAY_BODY_CONSUMED',
        'the request body was already read (a body parser?) and no `body` option was given',
      )
      return
    }
    exchange.start(options)
    if (this.finished) return
    if (body !== null || !hasBody) {
      if (body !== null && body.length > 0) exchange.requestBody(body)
      exchange.requestComplete()
      return
    }
    this.reading = true
    req.on('data', (chunk: Buffer) => this.onData(chunk))
    req.on('end', () => this.onEnd())
    this.updateStall()
  }

  // ---- the request body ------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    const exchange = this.exchange
    if (exchange === null) return
    this.bodyBytes += chunk.length
    const max = this.ctx.config.options.limits.maxRequestBodyBytes
    if (this.bodyBytes > max) {
      // A Content-Length over the limit was refused with the head; a chunked body is held to it here.
      this.requestFailed('CLIENT_BODY_TOO_LARGE', `request body larger than ${max} bytes`)
      return
    }
    exchange.requestBody(chunk)
    this.updateStall()
  }

  private onEnd(): void {
    this.reading = false
    this.updateStall()
    this.exchange?.requestComplete()
  }

  /** The request turned out unacceptable while its body was read: 4xx if nothing was sent, else abort. */
  private requestFailed(code: ErrorCode, reason: string): void {
    const exchange = this.exchange as ClientExchange
    const err = new GatewayError(code, reason, { offset: this.bodyBytes })
    this.reading = false
    if (exchange.abandon()) {
      this.answerError(err, exchange.request, false)
    } else {
      err.status = 0
      this.ctx.report(err, exchange.request, this.remoteAddress)
      this.abort()
    }
    exchange.publish(err)
    this.finish(err.status, err)
  }

  pauseReading(): void {
    if (this.reading && !this.paused) {
      this.paused = true
      this.req.pause()
    }
    this.updateStall()
  }

  resumeReading(): void {
    if (this.paused) {
      this.paused = false
      this.req.resume()
    }
    this.updateStall()
  }

  // ---- the response (ExchangeClient) -----------------------------------------------------------

  /** Body slices are views of the upstream read buffer: held while `res` still queues bytes. */
  get writing(): boolean {
    return this.res.writableLength > 0
  }

  sendInterim(head: ResponseHead): void {
    const res = this.res as ServerResponse
    switch (head.status) {
      case 100:
        if (!this.continueSent()) res.writeContinue()
        break
      case 102:
        // (HTTP/2 has no 102.)
        if (typeof res.writeProcessing === 'function') res.writeProcessing()
        break
      case 103:
        try {
          res.writeEarlyHints(earlyHints(head))
        } catch {
          // A Link value Node's stricter grammar refuses: the hint is dropped (it is only a hint).
        }
        break
      default:
      // Other 1xx have no API in node:http: dropped (RFC 9110 §15.2 lets a proxy drop them).
    }
  }

  /**
   * Node answered `Expect: 100-continue` itself (its server has no 'checkContinue' listener):
   * the upstream's 100 is not sent a second time. node:http says so (`_sent100`); for
   * node:http2, the server's listeners tell.
   */
  private continueSent(): boolean {
    if (!this.h2) return (this.res as { _sent100?: boolean })._sent100 === true
    const server = (this.req.socket as { server?: { listenerCount(event: string): number } } | undefined)?.server
    return server !== undefined && server.listenerCount('checkContinue') === 0
  }

  sendHead(head: ResponseHead, plan: ResponsePlan, edit: HeadEdit | null): string | null {
    const fields = relayedFields(head, edit)
    const via = this.ctx.config.options.via.response
    if (via !== null) fields.push('Via', via)
    if (plan.contentLength !== null) fields.push('Content-Length', plan.contentLength)
    // Written now: node:http only stores it (it leaves with the first body bytes, or at end);
    // node:http2 sends it, after checking it against HTTP/2's own rules.
    try {
      if (!this.h2 && plan.contentLength !== null) (this.res as ServerResponse).strictContentLength = true
      this.writeHead(head.status, this.h2 ? '' : reasonPhrase(head), fields)
      return null
    } catch (err) {
      // E.g. two Content-Type lines (RFC 9110 §5.3 allows repeats of list fields only), which
      // node:http2 cannot send as one field.
      return `the response head cannot be relayed: ${(err as Error).message}`
    }
  }

  sendBody(chunk: Buffer): void {
    this.pieces.push(chunk)
  }

  sendEnd(trailers: readonly Trailer[] | null): void {
    this.ended = true
    this.trailers = trailers
  }

  flush(): boolean {
    if (this.finished) {
      this.pieces.length = 0
      return true
    }
    // (One shape for both: Http2ServerResponse has node:http's write/end/addTrailers.)
    const res = this.res as ServerResponse
    const pieces = this.pieces
    const last = pieces.length - 1
    let ok = true
    for (let i = 0; i <= last; i++) this.bytesSent += pieces[i].length
    for (let i = 0; i < last; i++) ok = res.write(pieces[i])
    if (this.ended) {
      if (this.trailers !== null) res.addTrailers(Object.fromEntries(this.trailers))
      if (last >= 0) res.end(pieces[last])
      else res.end()
      ok = true
    } else if (last >= 0) ok = res.write(pieces[last])
    pieces.length = 0
    if (!ok) {
      if (!this.drainListened) {
        this.drainListened = true
        res.on('drain', () => this.onDrain())
      }
      this.full = true
      this.updateStall()
    }
    return ok
  }

  discard(): void {
    this.pieces.length = 0
  }

  /** Status, reason (HTTP/1.x only) and fields through `res`, merged with what was set before. */
  private writeHead(status: number, reason: string, fields: string[]): void {
    const res = this.res
    const headers = res.getHeaderNames().length > 0 ? grouped(fields) : fields
    if (this.h2) (res as Http2ServerResponse).writeHead(status, headers as OutgoingHttpHeaders)
    else (res as ServerResponse).writeHead(status, reason, headers)
  }

  // ---- endings ---------------------------------------------------------------------------------

  exchangeDone(_reusable: boolean): void {
    // (Node decides about the connection; exchangeEnded follows.)
  }

  answerError(err: GatewayError, request: RequestHead | undefined, requestComplete: boolean): void {
    const page = errorPage(err.code, this.ctx.report(err, request, this.remoteAddress))
    err.status = page.status
    this.discard()
    if (this.res.headersSent) {
      this.abort()
      return
    }
    // As in gateway mode: the connection does not go on after a refused request or one whose
    // body was not read (Node would otherwise read and drop the rest). HTTP/2 closes no
    // connection for one stream.
    const close = !this.h2 && (err.source === 'client' || !requestComplete)
    let body = page.body
    try {
      this.writeHead(page.status, page.reason, pageFields(page, close))
    } catch {
      // A custom field node:http2 refuses (Keep-Alive, Upgrade...): the gateway's own page.
      const own = errorPage(err.code)
      this.writeHead(own.status, own.reason, pageFields(own, close))
      err.status = own.status
      body = own.body
    }
    this.bytesSent += body.length
    this.res.end(body)
  }

  /** Answer `err` without an exchange: the request was refused before one could run. */
  refuse(err: GatewayError): void {
    this.answerError(err, undefined, false)
    const { ctx, remoteAddress } = this
    ctx.publishExchange(undefined, err.status, performance.now(), err, remoteAddress, this.bytesSent, undefined)
    this.finish(err.status, err)
  }

  /** Make the truncation visible: an HTTP/2 stream reset, or the connection reset. */
  abort(): void {
    this.discard()
    const res = this.res
    if (this.h2) {
      const stream = (res as Http2ServerResponse).stream
      if (!stream.destroyed) stream.close(NGHTTP2_INTERNAL_ERROR)
    } else if (res.socket != null) {
      resetLater(res.socket as import('node:net').Socket)
    } else res.destroy()
  }

  startTunnel(upstream: UpstreamConnection, _rest: Buffer | null): void {
    // Unreachable: proxy() offers no upgrade upstream, so a 101 fails rule F7 before this.
    upstream.destroy()
    this.abort()
  }

  exchangeEnded(status: number, error: GatewayError | undefined): void {
    this.finish(status, error)
  }

  private finish(status: number, error: GatewayError | undefined): void {
    if (this.finished) return
    this.finished = true
    this.exchange = null
    this.stall?.clear()
    // A body not read to its end is left to Node, which reads and drops it.
    if (this.paused) this.req.resume()
    this.reading = false
    this.paused = false
    this.ctx.connectionClosed(this)
    this.done(status, error)
  }

  private readonly clientGone = (): void => {
    this.exchange?.clientAborted()
  }

  private onDrain(): void {
    this.full = false
    this.updateStall()
    this.exchange?.clientDrained()
  }

  /** timeouts.idle runs while the gateway waits on the client: to take bytes, or to send body bytes. */
  private updateStall(): void {
    if (this.finished) return
    if (this.full || (this.reading && !this.paused)) {
      ;(this.stall ??= new Deadline(() => this.onStall(), false)).arm(this.ctx.config.options.timeouts.idle)
    } else this.stall?.disarm()
  }

  private onStall(): void {
    const idle = this.ctx.config.options.timeouts.idle
    if (this.full) this.exchange?.clientStalled(idle)
    else if (this.reading) this.requestFailed('CLIENT_TIMEOUT', `client sent no request body bytes for ${idle} ms`)
  }

  // ---- ClientHandle (gateway.close()) ----------------------------------------------------------

  shutdown(): void {
    // The connection is the user's server's: the exchange in flight just finishes.
  }

  destroy(): void {
    // timeouts.shutdown is over: cut the exchange off, as gateway mode resets its connections.
    if (this.exchange === null) return
    this.abort()
    this.clientGone()
  }
}
