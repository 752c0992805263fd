// What the gateway decides per message from the heads alone: how it frames a response towards
// the client, the fields it adds in each direction, and whether each connection may carry
// another message afterwards (RFC 9112 §6.3 message body length, §9.3 persistence, §9.6 close).

import { FieldKind, fieldValue, type RequestHead, type ResponseHead } from './head.js'

/** How a response body goes to the client. */
export const enum OutFraming {
  /** No body (HEAD, 204, 304, Content-Length: 0 aside: see Length). */
  None = 0,
  /** The upstream's Content-Length. */
  Length = 1,
  /** Chunked to an HTTP/1.1 client: a close-delimited or chunked body gets an explicit end. */
  Chunked = 2,
  /** Close-delimited to an HTTP/1.0 client, which knows no chunked coding. */
  Close = 3,
  /** A 101: the connection becomes a byte tunnel. */
  Tunnel = 4,
}

export interface ResponsePlan {
  readonly framing: OutFraming
  /** Field lines the gateway adds to the relayed ones (framing, Connection), each ending in CRLF. */
  readonly fields: string
  /**
   * The Content-Length relayed: the body's, or a HEAD or 304 response's (RFC 9110 §8.6); null
   * for none. (Also in `fields`: for a client written through an API rather than as bytes.)
   */
  readonly contentLength: string | null
  /** The client connection stays open for another request after this response. */
  readonly clientKeepAlive: boolean
  /** The response lets its upstream connection carry another request (RFC 9112 §9.3). */
  readonly upstreamKeepAlive: boolean
}

const TUNNEL: ResponsePlan = {
  framing: OutFraming.Tunnel,
  fields: 'Connection: upgrade\r\n',
  contentLength: null,
  clientKeepAlive: false,
  upstreamKeepAlive: false,
}

/**
 * The plan for a final response head (never a 1xx other than 101).
 *
 * - `requestComplete`: the request was read completely before this head. A response that comes
 *   while the request still streams ends the client connection: the rest of the request cannot
 *   be told from a next one once the exchange is over.
 * - `clientPersistent`: the client connection may carry more requests (it did not half-close,
 *   and the gateway is not shutting down).
 *
 * When the client connection will close after this response, the head says so (RFC 9112 §9.6).
 */
export function planResponse(
  request: RequestHead,
  response: ResponseHead,
  requestComplete: boolean,
  clientPersistent: boolean,
): ResponsePlan {
  if (response.upgrade !== null) return TUNNEL
  const http10 = request.minorVersion === 0
  let keepAlive = request.keepAlive && requestComplete && clientPersistent
  let framing: OutFraming
  let fields = ''
  let contentLength: string | null = null
  const body = response.framing
  if (body.kind === 'length') {
    framing = OutFraming.Length
    contentLength = String(body.length)
    fields = `Content-Length: ${contentLength}\r\n`
  } else if (body.kind === 'none') {
    framing = OutFraming.None
    // A HEAD or 304 response keeps the upstream's Content-Length: it describes the selected
    // representation (RFC 9110 §8.6). A 204 has none (F5).
    if (response.status !== 204) contentLength = contentLengthValue(response)
    if (contentLength !== null) fields = `Content-Length: ${contentLength}\r\n`
  } else if (http10) {
    // RFC 9112 §7: chunked is HTTP/1.1; an HTTP/1.0 client reads to the close.
    framing = OutFraming.Close
    keepAlive = false
  } else {
    framing = OutFraming.Chunked
    fields = 'Transfer-Encoding: chunked\r\n'
  }
  // RFC 9112 §9.3: HTTP/1.1 persists unless told otherwise; HTTP/1.0 only when told so.
  if (!keepAlive) fields += 'Connection: close\r\n'
  else if (http10) fields += 'Connection: keep-alive\r\n'
  return { framing, fields, contentLength, clientKeepAlive: keepAlive, upstreamKeepAlive: response.keepAlive }
}

/**
 * Whether the upstream connection may go back to the pool once the response is complete: the
 * response allows it and the whole request was sent (otherwise its unsent rest would be read as
 * the next request).
 */
export function reuseUpstream(plan: ResponsePlan, requestComplete: boolean): boolean {
  return plan.upstreamKeepAlive && requestComplete
}

/** Interim (1xx) responses go to HTTP/1.1 clients only (RFC 9110 §15.2: HTTP/1.0 has none). */
export function relaysInterim(request: RequestHead): boolean {
  return request.minorVersion === 1
}

/** What the gateway says about itself and the client on a request it forwards. */
export interface Forwarding {
  /** `Via: ...` CRLF (RFC 9110 §7.6.3), or ''. */
  readonly via: string
  /** X-Forwarded-For / -Proto / -Host from these, or null to add none. */
  readonly forwarded: { readonly for: string; readonly proto: string } | null
  /** Host for a request without one (see requestFields); null: the gateway writes its own. */
  readonly defaultHost: string | null
}

/**
 * Field lines the gateway adds to a request it sends upstream, which always goes as HTTP/1.1:
 * Via and X-Forwarded-*, then a Host for an HTTP/1.0 request without one (its target URI then
 * has the server's default authority, RFC 9112 §3.3, and HTTP/1.1 requires Host, §3.2), the
 * framing it chose (RFC 9112 §6), and `Connection: upgrade` for an offered upgrade (RFC 9110
 * §7.8).
 */
export function requestFields(request: RequestHead, f: Forwarding): string {
  let fields = f.via
  if (f.forwarded !== null) {
    fields += `X-Forwarded-For: ${f.forwarded.for}\r\nX-Forwarded-Proto: ${f.forwarded.proto}\r\n`
    if (request.host !== '') fields += `X-Forwarded-Host: ${request.host}\r\n`
  }
  // (An empty Host field is valid and goes as received, RULES.md: no second Host beside it.)
  if (request.host === '' && f.defaultHost !== null && !request.kinds.includes(FieldKind.Host)) {
    fields += `Host: ${f.defaultHost}\r\n`
  }
  const framing = request.framing
  if (framing.kind === 'length') fields += `Content-Length: ${framing.length}\r\n`
  else if (framing.kind === 'chunked') fields += 'Transfer-Encoding: chunked\r\n'
  if (request.upgrade.length > 0) fields += 'Connection: upgrade\r\n'
  return fields
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

/**
 * Whether a request whose connection closed before any response byte may be sent again, on
 * another connection (RFC 9112 §9.3.1, RFC 9110 §9.2.2): an idempotent method, and no body to
 * send twice.
 */
export function replayable(request: RequestHead): boolean {
  return request.framing.kind === 'none' && IDEMPOTENT.has(request.method)
}

/** The Content-Length value as the head has it, or null when it has none. */
function contentLengthValue(head: ResponseHead): string | null {
  const i = head.kinds.indexOf(FieldKind.ContentLength)
  return i < 0 ? null : fieldValue(head, i)
}
