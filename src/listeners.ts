// The gateway's own listeners: public ones (listen(): plain TCP, or TLS terminated here with
// ALPN http/1.1), whose accepted sockets go to gateway.handle(), and admin ones (listenAdmin():
// GET /metrics and /healthz, ops/admin.ts), never on a public address unless asked.

import { createPrivateKey, X509Certificate } from 'node:crypto'
import net from 'node:net'
import tls from 'node:tls'
import { type AdminOptions, type AdminServer, createAdminServer } from './ops/admin.js'

/** Certificates and TLS settings of a listener: node:tls's secure context options, key and cert required. */
export interface ListenTlsOptions extends tls.SecureContextOptions {
  key: NonNullable<tls.SecureContextOptions['key']>
  cert: NonNullable<tls.SecureContextOptions['cert']>
}

export interface ListenOptions {
  port?: number
  host?: string
  backlog?: number
  /**
   * SO_REUSEPORT: several processes bind the port and the kernel spreads connections over them
   * (Node 22.12+ on Linux and a few BSDs; older Nodes ignore it and the second bind fails).
   */
  reusePort?: boolean
  /** Serve HTTPS: TLS terminated by the gateway with these certificates (ALPN `http/1.1`). */
  tls?: ListenTlsOptions
}

export interface AdminListenOptions {
  /** Default 0: any free port. */
  port?: number
  /** Default 127.0.0.1: reachable from this host only unless asked otherwise. */
  host?: string
}

/**
 * Check a listener's TLS settings by making a secure context of them now (a key that does not
 * match its certificate, a PEM that does not parse...): a TypeError naming the option, never a
 * failure at the first handshake.
 */
export function checkTls(options: unknown): ListenTlsOptions {
  const fail = (what: string): never => {
    throw new TypeError(`strictgate: listen option "tls" ${what}`)
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) fail('must be an object')
  const o = options as ListenTlsOptions
  if (o.key === undefined || o.cert === undefined) fail('needs a key and a cert')
  try {
    tls.createSecureContext(o)
    // OpenSSL keeps a key and a certificate of different types (an RSA key, an EC certificate)
    // side by side without a word, and every handshake then fails: each certificate must match
    // one of the keys.
    const keys = [o.key].flat().map((k) => {
      const pem = typeof k === 'object' && 'pem' in k ? k : { pem: k, passphrase: undefined }
      return createPrivateKey({ key: pem.pem, passphrase: pem.passphrase ?? o.passphrase })
    })
    for (const cert of [o.cert].flat()) {
      if (!keys.some((key) => new X509Certificate(cert).checkPrivateKey(key))) {
        throw new Error('the certificate does not match the key')
      }
    }
  } catch (err) {
    fail(`cannot be used: ${(err as Error).message}`)
  }
  return o
}

/**
 * One public listener; `handshakes`: the TCP sockets of a TLS listener, until they close (once
 * the client connections are gone, those left are handshakes under way).
 */
interface Listener {
  readonly server: net.Server
  readonly tls: tls.Server | null
  readonly handshakes: Set<net.Socket>
}

export class Listeners {
  /** TLS handshakes with clients that failed (or timed out) on the TLS listeners. */
  tlsHandshakeFailures = 0
  private readonly listeners: Listener[] = []
  private readonly admins: AdminServer[] = []
  private readonly onSocket: (socket: net.Socket) => void
  private readonly onServerError: (cause: Error) => void

  /** `onSocket`: every accepted (for TLS: secured) socket; `onServerError`: a listener failed after listen. */
  constructor(onSocket: (socket: net.Socket) => void, onServerError: (cause: Error) => void) {
    this.onSocket = onSocket
    this.onServerError = onServerError
  }

  /**
   * Listen on a TCP port, with TLS if `options.tls`; resolves to the bound address. A TLS
   * handshake must end within `handshakeTimeout` ms; one that fails is counted and its socket
   * destroyed, never an error anywhere else.
   */
  listen(options: ListenOptions, handshakeTimeout: number): Promise<net.AddressInfo> {
    let listener: Listener
    if (options.tls === undefined) {
      const server = net.createServer({ allowHalfOpen: true, noDelay: true }, this.onSocket)
      listener = { server, tls: null, handshakes: new Set() }
    } else {
      let secure: ListenTlsOptions
      try {
        secure = checkTls(options.tls)
      } catch (err) {
        return Promise.reject(err)
      }
      // ALPN: a client offering only h2 is refused at the handshake rather than misunderstood.
      const server = tls.createServer(
        { ...secure, ALPNProtocols: ['http/1.1'], allowHalfOpen: true, handshakeTimeout },
        this.onSocket,
      )
      const handshakes = new Set<net.Socket>()
      listener = { server, tls: server, handshakes }
      server.on('connection', (socket: net.Socket) => {
        handshakes.add(socket)
        socket.once('close', () => handshakes.delete(socket))
      })
      server.on('tlsClientError', (_err: Error, socket: tls.TLSSocket) => {
        this.tlsHandshakeFailures++
        socket.destroy()
      })
    }
    const { server } = listener
    this.listeners.push(listener)
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      const { port = 0, host = '127.0.0.1', backlog, reusePort } = options
      // (`reusePort` is not in @types/node 20's ListenOptions.)
      server.listen({ port, host, backlog, reusePort } as net.ListenOptions, () => {
        server.off('error', reject)
        // After listening, a server error (EMFILE on accept...) must not crash the process: it is
        // the gateway's own failure, reported like any other.
        server.on('error', this.onServerError)
        resolve(server.address() as net.AddressInfo)
      })
    })
  }

  /**
   * New certificates (and TLS settings) for every TLS listener, for the handshakes from now on.
   * Checked first: settings that cannot be used throw a TypeError and change nothing.
   */
  setTls(options: ListenTlsOptions): void {
    const secure = checkTls(options)
    const servers = this.listeners.flatMap((l) => (l.tls === null ? [] : [l.tls]))
    if (servers.length === 0) throw new Error('strictgate: setTls(): no listener serves TLS')
    for (const server of servers) server.setSecureContext(secure)
  }

  /** An admin listener (GET /metrics, GET /healthz); resolves to its address. */
  listenAdmin(options: AdminListenOptions, admin: AdminOptions): Promise<net.AddressInfo> {
    const server = createAdminServer(admin)
    this.admins.push(server)
    return server.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 })
  }

  /** Stop accepting on the public listeners; resolves once they are closed (see cutHandshakes). */
  stopAccepting(): Promise<void> {
    return Promise.all(
      this.listeners.map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve()))),
    ).then(() => {})
  }

  /** Cut off TLS handshakes still under way: after the drain, nothing else is left to wait for. */
  cutHandshakes(): void {
    for (const l of this.listeners) for (const socket of l.handshakes) socket.destroy()
  }

  /** Close the admin listeners (last: /healthz answers 503 while the gateway drains). */
  closeAdmin(): Promise<void> {
    return Promise.all(this.admins.map((a) => a.close())).then(() => {})
  }
}
