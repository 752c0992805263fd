// Opening a connection to an upstream target, and what a failure to open one means.

import net from 'node:net'
import tls from 'node:tls'
import type { ErrorCode } from '../errors.js'
import type { ResolvedTarget } from '../options.js'

/** Where to connect: the parts of a ResolvedTarget that say it. */
export type ConnectTarget = Pick<ResolvedTarget, 'kind' | 'host' | 'port' | 'path' | 'tls'>

/** Reads into a buffer of the caller's (net.Socket `onread`), instead of 'data' events. */
export interface OnRead {
  buffer: () => Buffer
  callback: (nread: number, buffer: Buffer) => boolean
}

/**
 * Open a connection to a target: TCP, TLS (SNI from the host name unless set) or a Unix socket.
 * TLS sockets take no `onread`: they emit 'data'. May throw at once on TLS settings it cannot
 * use (a malformed certificate).
 */
export function connectTarget(target: ConnectTarget, onread?: OnRead): net.Socket {
  if (target.kind === 'unix') return net.connect({ path: target.path, onread })
  if (target.kind === 'tcp') return net.connect({ host: target.host, port: target.port, noDelay: true, onread })
  const options = target.tls ?? {}
  const socket = tls.connect({
    host: target.host,
    port: target.port,
    ALPNProtocols: ['http/1.1'],
    ...options,
    // SNI carries host names only (RFC 6066 §3), never IP addresses.
    servername: options.servername ?? (net.isIP(target.host) === 0 ? target.host : undefined),
  })
  socket.setNoDelay(true)
  return socket
}

/**
 * What a connect error means, by Node's error code (errno names from libuv, DNS codes from
 * getaddrinfo, OpenSSL's X509 names for certificates). A code not listed is the gateway's own
 * failure to open a socket (EMFILE, ENFILE, ENOBUFS, EADDRNOTAVAIL...), never the upstream's.
 */
const CONNECT_ERRORS = new Map<string, ErrorCode>([
  ['ECONNREFUSED', 'UPSTREAM_CONNECT_REFUSED'],
  ['ENOTFOUND', 'UPSTREAM_DNS_ERROR'],
  ['EAI_AGAIN', 'UPSTREAM_DNS_ERROR'],
  ['EAI_FAIL', 'UPSTREAM_DNS_ERROR'],
  ['EAI_NONAME', 'UPSTREAM_DNS_ERROR'],
  ['EAI_NODATA', 'UPSTREAM_DNS_ERROR'],
  ['EHOSTUNREACH', 'UPSTREAM_UNREACHABLE'],
  ['ENETUNREACH', 'UPSTREAM_UNREACHABLE'],
  ['EHOSTDOWN', 'UPSTREAM_UNREACHABLE'],
  ['ENETDOWN', 'UPSTREAM_UNREACHABLE'],
  ['ETIMEDOUT', 'UPSTREAM_CONNECT_TIMEOUT'],
  ['ECONNRESET', 'UPSTREAM_CLOSED'],
  ['ECONNABORTED', 'UPSTREAM_CLOSED'],
  ['EPIPE', 'UPSTREAM_CLOSED'],
  ['EPROTO', 'UPSTREAM_TLS_ERROR'],
  ['DEPTH_ZERO_SELF_SIGNED_CERT', 'UPSTREAM_TLS_CERTIFICATE_ERROR'],
  ['SELF_SIGNED_CERT_IN_CHAIN', 'UPSTREAM_TLS_CERTIFICATE_ERROR'],
  ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UPSTREAM_TLS_CERTIFICATE_ERROR'],
  ['UNABLE_TO_GET_ISSUER_CERT', 'UPSTREAM_TLS_CERTIFICATE_ERROR'],
  ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UPSTREAM_TLS_CERTIFICATE_ERROR'],
  ['CERT_HAS_EXPIRED', 'UPSTREAM_TLS_CERTIFICATE_ERROR'],
  ['CERT_NOT_YET_VALID', 'UPSTREAM_TLS_CERTIFICATE_ERROR'],
  ['CERT_REVOKED', 'UPSTREAM_TLS_CERTIFICATE_ERROR'],
  ['CERT_UNTRUSTED', 'UPSTREAM_TLS_CERTIFICATE_ERROR'],
  ['CERT_REJECTED', 'UPSTREAM_TLS_CERTIFICATE_ERROR'],
  ['ERR_TLS_CERT_ALTNAME_INVALID', 'UPSTREAM_TLS_CERTIFICATE_ERROR'],
])

/** The code for a connect error (see CONNECT_ERRORS); other TLS failures are UPSTREAM_TLS_ERROR. */
export function connectErrorCode(err: Error & { code?: string }): ErrorCode {
  const code = err.code ?? ''
  const known = CONNECT_ERRORS.get(code)
  if (known !== undefined) return known
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return 'UPSTREAM_TLS_ERROR'
  return 'GATEWAY_SOCKET_ERROR'
}
