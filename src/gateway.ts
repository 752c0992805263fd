// createGateway: owns the listening server (if any), the client connections, the upstream
// pool, and where failures are reported (onError, diagnostics_channel). Never an 'error' event.

import diagnostics from 'node:diagnostics_channel'
import type { IncomingMessage } from 'node:http'
import net from 'node:net'
import type { Duplex } from 'node:stream'
import { GatewayError } from './errors.js'
import type { RequestHead } from './h1/head.js'
import { ClientConnection } from './io/client-connection.js'
import { type Config, makeConfig } from './io/config.js'
import type { ClientHandle, GatewayContext } from './io/context.js'
import { Embedding, type HandlerOptions, type ProxyHandler, type ProxyResult } from './io/embedding.js'
import { HeadMemory } from './io/head-memory.js'
import type { IncomingRequest } from './io/incoming.js'
import { OutputArena } from './io/output-arena.js'
import type { OutgoingResponse } from './io/server-response.js'
import type { TargetStats } from './io/targets.js'
import { WriteBatch } from './io/write-batch.js'
import {
  checkErrorResponse,
  type ErrorResponse,
  type GatewayOptions,
  type ProxyOptions,
  type ResolvedOptions,
  type RouteOptions,
  resolveOptions,
} from './options.js'

const errorChannel = diagnostics.channel('strictgate:error')
const exchangeChannel = diagnostics.channel('strictgate:exchange')

/** Published on `strictgate:error`. */
export interface ErrorMessage {
  error: GatewayError
  request: RequestHead | undefined
  /** The client's address, when known. */
  client: string | undefined
}

/** Published on `strictgate:exchange` when an exchange ends. */
export interface ExchangeMessage {
  request: RequestHead
  /** Status the client got; 0 when its connection was aborted. */
  status: number
  durationMs: number
  error: GatewayError | undefined
}

export interface ListenOptions {
  port?: number
  host?: string
  backlog?: number
}

export interface Gateway {
  /** Listen on a TCP port; resolves to the bound address. */
  listen(options?: ListenOptions): Promise<net.AddressInfo>
  /** Serve an already accepted socket (net.Socket or tls.TLSSocket). */
  handle(socket: net.Socket): void
  /**
   * Proxy one request that node:http (or node:http2's compatibility API, or a framework on
   * them) already read, answering through `res`. Resolves when the exchange ends; never rejects.
   */
  proxy(req: IncomingRequest, res: OutgoingResponse, options?: ProxyOptions): Promise<ProxyResult>
  /**
   * Take over a request from the server's 'upgrade' event: the exchange runs on the raw socket
   * (a 101 becomes a tunnel; any other answer is relayed, then the socket is closed). Resolves
   * when the exchange ends (at the 101 for a tunnel); never rejects.
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, options?: RouteOptions): Promise<ProxyResult>
  /**
   * A request listener proxying every request it gets (options checked now: a TypeError names a
   * bad one). For `http.createServer`, `http2.createSecureServer`, Express, Connect.
   */
  handler(options?: HandlerOptions): ProxyHandler
  /**
   * Stop accepting, let in-flight exchanges finish (bounded by timeouts.shutdown), close the
   * pool. A server the gateway is embedded in stays open: it is the caller's.
   */
  close(): Promise<void>
  /**
   * Swap the configuration (upstreams, routes, rewriting, limits, timeouts...) for new exchanges:
   * the options are validated as createGateway's are (a bad one throws a TypeError, and nothing
   * changes). Exchanges in flight finish on what they started with; targets described the same
   * way keep their pools and health; idle connections to targets no longer named are closed.
   */
  reconfigure(options: GatewayOptions): void
  /**
   * Counts for monitoring: client connections, embedded exchanges (proxy(), and upgrade()'s
   * sockets), upstream connections in all, and per target.
   */
  stats(): {
    clients: number
    embedded: number
    upstream: { open: number; idle: number; waiting: number }
    targets: TargetStats[]
  }
}

class GatewayImpl implements Gateway, GatewayContext {
  config: Config
  readonly arena = new OutputArena()
  readonly batch = new WriteBatch(this.arena.take)
  readonly heads = new HeadMemory()
  /** Connections being served (what limits.maxConnections counts). */
  private readonly clients = new Set<ClientHandle>()
  /** Connections refused at the limit, closing (see ClientConnection). */
  private readonly refused = new Set<ClientHandle>()
  /** Embedded exchanges and upgrade()'s sockets (not limited by maxConnections: Node's server is). */
  private readonly embedded = new Set<ClientHandle>()
  private embedding: Embedding | null = null
  private readonly servers: net.Server[] = []
  private closed: Promise<void> | null = null
  private whenIdle: (() => void) | null = null

  constructor(options: ResolvedOptions) {
    this.config = makeConfig(options, null, this.warn)
  }

  /** What no exchange reports (unsolicited bytes on an idle pooled connection) goes the same way. */
  private readonly warn = (err: GatewayError): void => {
    this.report(err, undefined)
  }

  reconfigure(options: GatewayOptions): void {
    const previous = this.config
    this.config = makeConfig(resolveOptions(options), previous, this.warn)
    this.config.targets.retire(previous.targets)
  }

  listen(options: ListenOptions = {}): Promise<net.AddressInfo> {
    if (this.closed !== null) return Promise.reject(new Error('strictgate: gateway is closed'))
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.handle(socket))
    this.servers.push(server)
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1', backlog: options.backlog }, () => {
        server.off('error', reject)
        // After listening, a server error (EMFILE on accept...) must not crash the process: it is
        // the gateway's own failure, reported like any other.
        server.on('error', this.onServerError)
        resolve(server.address() as net.AddressInfo)
      })
    })
  }

  handle(socket: net.Socket): void {
    // A socket error before our listeners are attached must not become an uncaught exception.
    socket.on('error', () => {})
    if (this.closed !== null || this.clients.size >= this.config.options.limits.maxConnections) {
      const err = new GatewayError('GATEWAY_CONNECTION_LIMIT', 'connection limit reached')
      this.refused.add(new ClientConnection(this, socket, err))
      return
    }
    this.clients.add(new ClientConnection(this, socket))
  }

  get closing(): boolean {
    return this.closed !== null
  }

  proxy(req: IncomingRequest, res: OutgoingResponse, options?: ProxyOptions): Promise<ProxyResult> {
    return new Promise((resolve) => this.embed().proxy(req, res, options, resolve))
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, options?: RouteOptions): Promise<ProxyResult> {
    return new Promise((resolve) => this.embed().upgrade(req, socket, head, options, resolve))
  }

  handler(options?: HandlerOptions): ProxyHandler {
    return this.embed().handler(options)
  }

  /** Created on first use: its head checker holds a parser. */
  private embed(): Embedding {
    this.embedding ??= new Embedding(this, this.embedded)
    return this.embedding
  }

  connectionClosed(conn: ClientHandle): void {
    if (this.refused.delete(conn)) return
    if (!this.clients.delete(conn)) this.embedded.delete(conn)
    if (this.clients.size + this.embedded.size === 0 && this.whenIdle !== null) this.whenIdle()
  }

  private readonly onServerError = (cause: Error): void => {
    this.report(new GatewayError('GATEWAY_SOCKET_ERROR', `listener: ${cause.message}`, { cause }), undefined)
  }

  report(err: GatewayError, request: RequestHead | undefined, client?: string): ErrorResponse | undefined {
    if (errorChannel.hasSubscribers) errorChannel.publish({ error: err, request, client } satisfies ErrorMessage)
    const hook = this.config.options.onError
    if (hook === null) return undefined
    try {
      const custom = hook(err, request)
      if (custom === undefined || custom === null) return undefined
      checkErrorResponse(custom)
      return custom
    } catch (cause) {
      // A throwing hook or an invalid custom response: the gateway's own page goes out.
      if (errorChannel.hasSubscribers) {
        const error = new GatewayError('GATEWAY_INTERNAL_ERROR', `onError hook failed: ${String(cause)}`, { cause })
        errorChannel.publish({ error, request, client } satisfies ErrorMessage)
      }
      return undefined
    }
  }

  publishExchange(request: RequestHead, status: number, started: number, error?: GatewayError): void {
    if (!exchangeChannel.hasSubscribers) return
    const durationMs = performance.now() - started
    exchangeChannel.publish({ request, status, durationMs, error } satisfies ExchangeMessage)
  }

  stats(): ReturnType<Gateway['stats']> {
    const { targets, ...upstream } = this.config.targets.stats()
    return { clients: this.clients.size, embedded: this.embedded.size, upstream, targets }
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown()
    return this.closed
  }

  private async shutdown(): Promise<void> {
    const closed = this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))
    for (const conn of this.refused) conn.abort()
    const running = [this.clients, this.embedded]
    for (const set of running) for (const client of set) client.shutdown()
    if (this.clients.size + this.embedded.size > 0) {
      await new Promise<void>((resolve) => {
        // Past timeouts.shutdown, cut off what still runs. A destroyed socket emits 'close' a
        // moment later: resolve on the last one (whenIdle), so that close() leaves nothing open.
        const timer = setTimeout(() => {
          for (const set of running) for (const client of [...set]) client.abort()
        }, this.config.options.timeouts.shutdown)
        this.whenIdle = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
    this.config.targets.close()
    await Promise.all(closed)
  }
}

/** Create a gateway. Options are validated now: a bad one throws a TypeError naming it. */
export function createGateway(options: GatewayOptions): Gateway {
  return new GatewayImpl(resolveOptions(options))
}
