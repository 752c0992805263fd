// The admin listener: GET /metrics (Prometheus text format 0.0.4) and GET /healthz for an
// orchestrator, on an address of its own, never on the public listener (metrics reveal target
// URLs and traffic; a public /healthz would let anyone probe the gateway's state).
//
// node:http is fine here: this is not the data path, a few requests a second at most. What
// matters is that nothing a client sends can crash the process or keep it from closing.

import http from 'node:http'
import type net from 'node:net'
import { EXPOSITION_CONTENT_TYPE } from './metrics.js'

/** What /healthz reports on, read per request. */
export interface AdminStatus {
  /** The gateway is draining (close() was called): load balancers must stop sending. */
  shuttingDown: boolean
  /** The upstream targets (gateway.stats().targets fits); all of them down means unhealthy. */
  targets: readonly { readonly up: boolean }[]
}

export interface AdminOptions {
  /**
   * The exposition text for GET /metrics (gateway.metrics(), GatewayMetrics#render); a promise
   * for figures gathered from elsewhere (the workers, for the primary of --workers).
   */
  metrics: () => string | Promise<string>
  status: () => AdminStatus | Promise<AdminStatus>
}

export interface AdminListenOptions {
  /** Default 127.0.0.1: reachable from the host only unless asked otherwise. */
  host?: string
  port: number
}

export interface AdminServer {
  listen(options: AdminListenOptions): Promise<net.AddressInfo>
  /** Stop listening and close every connection, idle or not; resolves when all are closed. */
  close(): Promise<void>
}

/** What /healthz answers (and gateway.health() returns). */
export interface HealthReport {
  /** 200 while serving; 503 while shutting down, or when every target is down. */
  status: 200 | 503
  /** `ok`, `shutting down` or `no upstream target is up` (the body, with a newline). */
  reason: string
}

/** The /healthz answer: 200 while serving, 503 while shutting down or when no target is up. */
export function healthOf(status: AdminStatus): HealthReport {
  if (status.shuttingDown) return { status: 503, reason: 'shutting down' }
  if (status.targets.length > 0 && !status.targets.some((t) => t.up)) {
    return { status: 503, reason: 'no upstream target is up' }
  }
  return { status: 200, reason: 'ok' }
}

const PATHS = ['/metrics', '/healthz']

function send(res: http.ServerResponse, code: number, type: string, body: string, extra?: http.OutgoingHttpHeaders) {
  // Content-Length is set for HEAD too (RFC 9110 §9.3.2: the same fields as GET); node:http
  // sends no body for HEAD.
  res.writeHead(code, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    ...extra,
  })
  res.end(body)
}

const PLAIN = 'text/plain; charset=utf-8'

export function createAdminServer(options: AdminOptions): AdminServer {
  const server = http.createServer(
    // Bounded: a client that trickles its request cannot hold a connection for long.
    { headersTimeout: 5_000, requestTimeout: 10_000, keepAliveTimeout: 5_000 },
    (req, res) => {
      const path = (req.url ?? '').split('?', 1)[0]
      if (!PATHS.includes(path)) return send(res, 404, PLAIN, 'not found\n')
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return send(res, 405, PLAIN, 'method not allowed\n', { Allow: 'GET, HEAD' })
      }
      const answer = async () => {
        if (path === '/metrics') return send(res, 200, EXPOSITION_CONTENT_TYPE, await options.metrics())
        const health = healthOf(await options.status())
        send(res, health.status, PLAIN, `${health.reason}\n`)
      }
      // A throwing callback is the embedder's bug; the listener answers and lives on.
      answer().catch(() => {
        if (!res.headersSent && !res.destroyed) send(res, 500, PLAIN, 'internal error\n')
      })
    },
  )
  // A malformed request: answer 400 (431 for an oversized head) if the socket can still take
  // it, then close. Never an uncaught 'error'.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy()
      return
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request'
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    socket.destroySoon()
  })
  let listening: Promise<net.AddressInfo> | null = null
  let closing: Promise<void> | null = null
  return {
    listen(opts) {
      if (listening !== null) return Promise.reject(new Error('strictgate: the admin listener is already listening'))
      listening = new Promise((resolve, reject) => {
        server.once('error', (err) => {
          listening = null // a failed listen (EADDRINUSE...) may be retried
          reject(err)
        })
        server.listen({ host: opts.host ?? '127.0.0.1', port: opts.port }, () => {
          server.removeAllListeners('error')
          // After listening, an accept error (EMFILE...) must not crash the process.
          server.on('error', () => {})
          resolve(server.address() as net.AddressInfo)
        })
      })
      return listening
    },
    close() {
      closing ??= new Promise((resolve) => {
        if (!server.listening) return resolve()
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closing
    },
  }
}
