// The embedding API's entry points: a request node:http (or node:http2's compatibility API)
// already read becomes an Exchange, the same one gateway mode runs, with a ResponseClient as its
// client (proxy()), or a ClientConnection serving the one request on the raw socket (upgrade()).
// Nothing here throws at the caller or rejects: every outcome is a result ({ status, error }),
// and every failure also reaches onError and the diagnostics channels.

import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { GatewayError } from '../errors.js'
import { errorResponse } from '../h1/error-response.js'
import type { ProxyOptions, RouteOptions } from '../options.js'
import { ClientConnection } from './client-connection.js'
import type { ClientHandle, GatewayContext } from './context.js'
import { Exchange } from './exchange.js'
import { HeadChecker, type IncomingRequest, requestHeadBytes } from './incoming.js'
import { checkRouteOptions } from './rewriting.js'
import { type OutgoingResponse, ResponseClient } from './server-response.js'

/** What proxy() and upgrade() resolve with. */
export interface ProxyResult {
  /** The status the client got; 0 when it got none (its connection was aborted, or it went away). */
  status: number
  error?: GatewayError
}

/** What handler() takes: options for every request, or a function choosing them per request. */
export type HandlerOptions = ProxyOptions | ((req: IncomingRequest) => ProxyOptions | undefined)

/** The listener handler() returns: for node:http, node:http2's compatibility API, Express, Connect. */
export type ProxyHandler = (req: IncomingRequest, res: OutgoingResponse, next?: (err?: unknown) => void) => void

type OnResult = ((result: ProxyResult) => void) | null

/** Options taken apart: the route options (for the exchange) and the body to send instead. */
interface Prepared {
  readonly route: RouteOptions | undefined
  readonly body: Buffer | null
}

const NONE: Prepared = { route: undefined, body: null }
const EMPTY = Buffer.alloc(0)

/**
 * Split proxy options into the route options and the body; throws a TypeError naming the option
 * (`source`'s). With `ctx` (static options, given once), the route options are checked now too;
 * per-request ones are checked as the exchange starts (rewriting.ts), by the same rules.
 */
function prepare(options: ProxyOptions | undefined, source: string, ctx: GatewayContext | null): Prepared {
  if (options === undefined) return NONE
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${source}s must be an object`)
  }
  const { body, ...route } = options
  if (ctx !== null) checkRouteOptions(route, ctx.config, source)
  let buf: Buffer | null = null
  if (body === null) buf = EMPTY
  else if (typeof body === 'string') buf = Buffer.from(body)
  else if (body instanceof Uint8Array) buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  else if (body !== undefined) throw new TypeError(`${source} "body" must be a Buffer, Uint8Array, string or null`)
  // (The route options go on to the exchange as given: where they are applied, io/rewriting.ts.)
  return { route: Object.keys(route).length === 0 ? undefined : route, body: buf }
}

/** The once-only result of one call. */
class Result {
  private settled = false
  private readonly onResult: OnResult

  constructor(onResult: OnResult) {
    this.onResult = onResult
  }

  readonly done = (status: number, error: GatewayError | undefined): void => {
    if (this.settled) return
    this.settled = true
    this.onResult?.(error === undefined ? { status } : { status, error })
  }
}

export class Embedding {
  private readonly ctx: GatewayContext
  /** Where the gateway tracks embedded exchanges and handed-over sockets (ctx.connectionClosed removes them). */
  private readonly handles: Set<ClientHandle>
  /** One parser for every rebuilt head: each is checked within one synchronous call. */
  private checker: HeadChecker

  constructor(ctx: GatewayContext, handles: Set<ClientHandle>) {
    this.ctx = ctx
    this.handles = handles
    this.checker = new HeadChecker(ctx.config.options.limits)
  }

  proxy(req: IncomingRequest, res: OutgoingResponse, options: ProxyOptions | undefined, onResult: OnResult): void {
    let prepared: Prepared | string
    try {
      prepared = prepare(options, 'proxy option', null)
    } catch (err) {
      prepared = (err as Error).message
    }
    this.serve(req, res, prepared, new Result(onResult).done)
  }

  handler(options: HandlerOptions | undefined): ProxyHandler {
    if (typeof options === 'function') {
      const choose = options
      return (req, res) => {
        let prepared: Prepared | string
        try {
          prepared = prepare(choose(req), 'proxy option', null)
        } catch (err) {
          prepared = `handler options: ${(err as Error).message}`
        }
        this.serve(req, res, prepared, noResult)
      }
    }
    let prepared: Prepared
    try {
      prepared = prepare(options, 'handler option', this.ctx)
    } catch (err) {
      throw new TypeError(`strictgate: ${(err as Error).message}`)
    }
    return (req, res) => this.serve(req, res, prepared, noResult)
  }

  /** Run one request through `res`: `prepared` is its options, or why they are invalid. */
  private serve(req: IncomingRequest, res: OutgoingResponse, prepared: Prepared | string, done: Result['done']): void {
    const ctx = this.ctx
    let client: ResponseClient | null = null
    try {
      if (res.headersSent) {
        // Someone answered already: touch nothing.
        const err = new GatewayError('GATEWAY_INTERNAL_ERROR', 'proxy() was called after the response head was sent', {
          status: res.statusCode,
        })
        refused(ctx, err, req.socket?.remoteAddress)
        done(err.status, err)
        return
      }
      const body = typeof prepared === 'string' ? null : prepared.body
      client = new ResponseClient(ctx, req, res, done)
      this.handles.add(client)
      if (ctx.closing) {
        client.refuse(new GatewayError('GATEWAY_CONNECTION_LIMIT', 'the gateway is shutting down'))
        return
      }
      // reconfigure() changed the limits: heads are checked against the new ones.
      if (this.checker.limits !== ctx.config.options.limits) this.checker = new HeadChecker(ctx.config.options.limits)
      const head = this.checker.check(requestHeadBytes(req, { upgrade: false, bodyLength: body?.length ?? -1 }))
      if ('code' in head) {
        client.refuse(GatewayError.fromFailure(head))
        return
      }
      const exchange = new Exchange(client, ctx, head)
      if (typeof prepared === 'string') exchange.fail('GATEWAY_INTERNAL_ERROR', prepared)
      else client.run(exchange, prepared.route, body)
    } catch (cause) {
      // A bug, or arguments that are not node:http's: the caller still gets a result, never a
      // rejection, and nothing is left for close() to wait on.
      const err = new GatewayError('GATEWAY_INTERNAL_ERROR', `proxy(): ${String(cause)}`, { cause, status: 0 })
      if (client !== null) ctx.connectionClosed(client)
      refused(ctx, err, req?.socket?.remoteAddress)
      try {
        res.destroy()
      } catch {}
      done(0, err)
    }
  }

  /**
   * upgrade(): the request head rebuilt from `req`, then `head` (bytes the client sent after
   * it), in front of whatever the socket reads next, go to a ClientConnection serving this one
   * request: a 101 (only for an offered upgrade, F7) makes a tunnel, any other answer is relayed
   * and the socket closed.
   */
  upgrade(
    req: IncomingMessage,
    stream: Duplex,
    head: Buffer,
    options: RouteOptions | undefined,
    onResult: OnResult,
  ): void {
    const ctx = this.ctx
    const done = new Result(onResult).done
    const socket = stream as Socket
    // Node removed its own listeners from the socket before 'upgrade': an error now is ours.
    socket.on('error', ignore)
    if (socket.destroyed || ctx.closing) {
      const err = socket.destroyed
        ? new GatewayError('CLIENT_ABORTED', 'the socket was closed before upgrade()', { status: 0 })
        : new GatewayError('GATEWAY_CONNECTION_LIMIT', 'the gateway is shutting down')
      const page = socket.destroyed ? null : errorResponse(err.code, true)
      refused(ctx, err, socket.remoteAddress, page?.length)
      if (page !== null) socket.end(page, () => socket.destroy())
      done(err.status, err)
      return
    }
    // A server timeout set on the socket is not ours to keep (ClientConnection sets its own).
    socket.setTimeout(0)
    const bytes = Buffer.concat([requestHeadBytes(req, { upgrade: true, bodyLength: -1 }), head])
    this.handles.add(new ClientConnection(ctx, socket, null, { bytes, options, done }))
  }
}

/** A request refused before an exchange could run: reported, and published as an exchange. */
function refused(ctx: GatewayContext, err: GatewayError, client: string | undefined, sent = 0): void {
  ctx.report(err, undefined, client)
  ctx.publishExchange(undefined, err.status, performance.now(), err, client, sent, undefined)
}

function noResult(): void {
  // (handler(): nobody waits for a result; onError and the channels still see every failure.)
}

function ignore(): void {
  // (ClientConnection attaches its own listeners; this one only keeps an early error harmless.)
}
