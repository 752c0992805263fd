// createGateway: owns its listeners (listeners.ts), the client connections, the upstream
// targets and their active health checks, and where exchanges and failures are reported
// (metrics, onError, diagnostics_channel). Never an 'error' event.

import diagnostics from 'node:diagnostics_channel'
import type { IncomingMessage } from 'node:http'
import type net from 'node:net'
import type { Duplex } from 'node:stream'
import { GatewayError } from './errors.js'
import type { RequestHead } from './h1/head.js'
import { ActiveChecks } from './health-checks.js'
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
import { type AdminListenOptions, Listeners, type ListenOptions, type ListenTlsOptions } from './listeners.js'
import { type AdminStatus, type HealthReport, healthOf } from './ops/admin.js'
import { GatewayMetrics } from './ops/gateway-metrics.js'
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

export type { AdminListenOptions, ListenOptions, ListenTlsOptions } from './listeners.js'
export type { HealthReport } from './ops/admin.js'

/**
 * Published on `strictgate:exchange` when an exchange ends: one per request the gateway
 * answered (or failed to), what an access log line needs.
 */
export interface ExchangeMessage {
  /**
   * The request head; undefined when the exchange failed before one was complete (a malformed
   * or timed-out head: 400, 408...; a connection refused at the limit: 503; a client that went
   * away mid-head: 0).
   */
  request: RequestHead | undefined
  /** Status the client got; 0 when it got none (its connection was aborted, or it went away). */
  status: number
  durationMs: number
  error: GatewayError | undefined
  /** The client's address, when known. */
  client: string | undefined
  /**
   * Bytes written to the client for this exchange: head, framing and body, an error page too
   * (embedded with proxy(): the body bytes, Node writes the head).
   */
  bytesSent: number
  /** The target URL (as configured) of the last attempt; undefined when none was chosen. */
  upstream: string | undefined
  /** When the exchange started, in ms since the epoch (performance.timeOrigin-based, sub-ms). */
  started: number
}

/** What stats() returns. */
export interface GatewayStats {
  /** Client connections being served (gateway mode). */
  clients: number
  /** Embedded exchanges (proxy()) and upgrade()'s sockets. */
  embedded: number
  upstream: { open: number; idle: number; waiting: number }
  targets: TargetStats[]
  /** TLS handshakes that failed (or timed out) on the TLS listeners. */
  tlsHandshakeFailures: number
}

export interface Gateway {
  /**
   * Listen on a TCP port; resolves to the bound address. With `tls` ({ key, cert, ...node:tls
   * secure context options }), TLS is terminated here (ALPN http/1.1); bad TLS settings reject
   * with a TypeError.
   */
  listen(options?: ListenOptions): Promise<net.AddressInfo>
  /**
   * New certificates (and TLS settings) for every TLS listener, for handshakes from now on
   * (certificate renewal). Checked first: settings that cannot be used throw a TypeError and
   * change nothing; without a TLS listener, throws.
   */
  setTls(tls: ListenTlsOptions): void
  /**
   * An admin listener: GET /metrics (Prometheus text format 0.0.4) and GET /healthz (as
   * health()). Default 127.0.0.1, any port; closed at the end of close(), after the drain, so
   * that /healthz answers 503 during it. Keep it off the public address.
   */
  listenAdmin(options?: AdminListenOptions): Promise<net.AddressInfo>
  /** The metrics in the Prometheus text exposition format 0.0.4 (for a /metrics of your own). */
  metrics(): string
  /** For a health endpoint: 200 while serving; 503 while shutting down, or with every target down. */
  health(): HealthReport
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
   * sockets), upstream connections in all, per target, and failed TLS handshakes.
   */
  stats(): GatewayStats
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
  private readonly listeners: Listeners
  /** Always on: one count and one histogram observation per exchange (ops/gateway-metrics.ts). */
  private readonly counts: GatewayMetrics
  private readonly checks: ActiveChecks
  private closed: Promise<void> | null = null
  private whenIdle: (() => void) | null = null

  constructor(options: ResolvedOptions) {
    this.config = makeConfig(options, null, this.warn)
    this.listeners = new Listeners((socket) => this.handle(socket), this.onServerError)
    this.counts = new GatewayMetrics({ stats: () => this.stats() })
    this.checks = new ActiveChecks(this.counts)
    this.checks.apply(this.config)
  }

  /** What no exchange reports (unsolicited bytes on an idle pooled connection) goes the same way. */
  private readonly warn = (err: GatewayError): void => {
    this.report(err, undefined)
  }

  reconfigure(options: GatewayOptions): void {
    const resolved = resolveOptions(options)
    if (this.closed !== null) throw new Error('strictgate: gateway is closed')
    const previous = this.config
    this.config = makeConfig(resolved, previous, this.warn)
    this.config.targets.retire(previous.targets)
    this.checks.apply(this.config)
  }

  listen(options: ListenOptions = {}): Promise<net.AddressInfo> {
    if (this.closed !== null) return Promise.reject(new Error('strictgate: gateway is closed'))
    // A TLS handshake is part of what the first request head must complete within.
    return this.listeners.listen(options, this.config.options.timeouts.request)
  }

  setTls(tls: ListenTlsOptions): void {
    this.listeners.setTls(tls)
  }

  listenAdmin(options: AdminListenOptions = {}): Promise<net.AddressInfo> {
    if (this.closed !== null) return Promise.reject(new Error('strictgate: gateway is closed'))
    return this.listeners.listenAdmin(options, { metrics: () => this.metrics(), status: this.adminStatus })
  }

  /** What /healthz and health() answer from. */
  private readonly adminStatus = (): AdminStatus => ({
    shuttingDown: this.closing,
    targets: this.config.targets.stats().targets,
  })

  metrics(): string {
    return this.counts.render()
  }

  health(): HealthReport {
    return healthOf(this.adminStatus())
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
    this.counts.error(err.code)
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
      this.counts.error('GATEWAY_INTERNAL_ERROR')
      if (errorChannel.hasSubscribers) {
        const error = new GatewayError('GATEWAY_INTERNAL_ERROR', `onError hook failed: ${String(cause)}`, { cause })
        errorChannel.publish({ error, request, client } satisfies ErrorMessage)
      }
      return undefined
    }
  }

  publishExchange(
    request: RequestHead | undefined,
    status: number,
    started: number,
    error: GatewayError | undefined,
    client: string | undefined,
    bytesSent: number,
    upstream: string | undefined,
  ): void {
    const durationMs = performance.now() - started
    this.counts.exchange(status, durationMs)
    if (!exchangeChannel.hasSubscribers) return
    const epoch = performance.timeOrigin + started
    const message = { request, status, durationMs, error, client, bytesSent, upstream, started: epoch }
    exchangeChannel.publish(message satisfies ExchangeMessage)
  }

  stats(): GatewayStats {
    const { targets, ...upstream } = this.config.targets.stats()
    const { clients, embedded, listeners } = this
    const tlsHandshakeFailures = listeners.tlsHandshakeFailures
    return { clients: clients.size, embedded: embedded.size, upstream, targets, tlsHandshakeFailures }
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown()
    return this.closed
  }

  private async shutdown(): Promise<void> {
    const closed = this.listeners.stopAccepting()
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
    this.checks.stop()
    this.listeners.cutHandshakes()
    await closed
    await this.listeners.closeAdmin()
    this.counts.close()
  }
}

/** Create a gateway. Options are validated now: a bad one throws a TypeError naming it. */
export function createGateway(options: GatewayOptions): Gateway {
  return new GatewayImpl(resolveOptions(options))
}
