// One error class, one stable code union, one mapping from code to status and RFC 9209
// Proxy-Status error type (STYLE.md §6). The codes are public API: tests assert `err.code`.

export const ERROR_CODES = [
  // Upstream response rules (RULES.md S*, H*, F*, B*)
  'UPSTREAM_INVALID_VERSION',
  'UPSTREAM_INVALID_STATUS_LINE',
  'UPSTREAM_INVALID_STATUS_CODE',
  'UPSTREAM_INVALID_HEADER',
  'UPSTREAM_HEADERS_TOO_LARGE',
  'UPSTREAM_INVALID_CONTENT_LENGTH',
  'UPSTREAM_INVALID_FRAMING',
  'UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING',
  'UPSTREAM_INVALID_UPGRADE',
  'UPSTREAM_INVALID_CHUNK',
  'UPSTREAM_TRUNCATED_BODY',
  'UPSTREAM_EXTRA_DATA',
  // Upstream connection failures
  'UPSTREAM_CONNECT_REFUSED',
  'UPSTREAM_DNS_ERROR',
  'UPSTREAM_UNREACHABLE',
  'UPSTREAM_CONNECT_TIMEOUT',
  'UPSTREAM_CLOSED',
  'UPSTREAM_RESPONSE_TIMEOUT',
  'UPSTREAM_IDLE_TIMEOUT',
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_TLS_ERROR',
  'UPSTREAM_TLS_CERTIFICATE_ERROR',
  // Client request rules
  'CLIENT_INVALID_REQUEST',
  'CLIENT_UNSUPPORTED_METHOD',
  'CLIENT_UNSUPPORTED_VERSION',
  'CLIENT_INVALID_HEADER',
  'CLIENT_HEADERS_TOO_LARGE',
  'CLIENT_URI_TOO_LONG',
  'CLIENT_INVALID_FRAMING',
  'CLIENT_UNSUPPORTED_TRANSFER_ENCODING',
  'CLIENT_BODY_TOO_LARGE',
  'CLIENT_TIMEOUT',
  'CLIENT_ABORTED',
  // The gateway itself
  'GATEWAY_CONNECTION_LIMIT',
  'GATEWAY_SOCKET_ERROR',
  'GATEWAY_INTERNAL_ERROR',
  'GATEWAY_BODY_CONSUMED',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

export type ErrorSource = 'upstream' | 'client' | 'gateway'

/** RFC 9209 §2.3 error types used by strictgate. */
export type ProxyStatusType =
  | 'http_protocol_error'
  | 'http_response_transfer_coding'
  | 'http_upgrade_failed'
  | 'http_response_header_section_size'
  | 'http_response_incomplete'
  | 'connection_refused'
  | 'dns_error'
  | 'destination_unavailable'
  | 'connection_timeout'
  | 'connection_terminated'
  | 'http_response_timeout'
  | 'connection_read_timeout'
  | 'http_request_error'
  | 'http_request_denied'
  | 'connection_limit_reached'
  | 'proxy_internal_error'
  | 'tls_protocol_error'
  | 'tls_certificate_error'

interface CodeInfo {
  status: number
  proxyStatus: ProxyStatusType
  source: ErrorSource
}

// The single table. `status` is what the gateway answers when it can still answer; a failure
// found after the final head was relayed aborts the client connection instead (status 0).
const INFO: { readonly [C in ErrorCode]: CodeInfo } = {
  UPSTREAM_INVALID_VERSION: { status: 502, proxyStatus: 'http_protocol_error', source: 'upstream' },
  UPSTREAM_INVALID_STATUS_LINE: { status: 502, proxyStatus: 'http_protocol_error', source: 'upstream' },
  UPSTREAM_INVALID_STATUS_CODE: { status: 502, proxyStatus: 'http_protocol_error', source: 'upstream' },
  UPSTREAM_INVALID_HEADER: { status: 502, proxyStatus: 'http_protocol_error', source: 'upstream' },
  UPSTREAM_HEADERS_TOO_LARGE: {
    status: 502,
    proxyStatus: 'http_response_header_section_size',
    source: 'upstream',
  },
  UPSTREAM_INVALID_CONTENT_LENGTH: { status: 502, proxyStatus: 'http_protocol_error', source: 'upstream' },
  UPSTREAM_INVALID_FRAMING: { status: 502, proxyStatus: 'http_protocol_error', source: 'upstream' },
  UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING: {
    status: 502,
    proxyStatus: 'http_response_transfer_coding',
    source: 'upstream',
  },
  UPSTREAM_INVALID_UPGRADE: { status: 502, proxyStatus: 'http_upgrade_failed', source: 'upstream' },
  UPSTREAM_INVALID_CHUNK: { status: 502, proxyStatus: 'http_protocol_error', source: 'upstream' },
  UPSTREAM_TRUNCATED_BODY: { status: 502, proxyStatus: 'http_response_incomplete', source: 'upstream' },
  // A warning: the response stands, the connection is dropped (RULES.md B5).
  UPSTREAM_EXTRA_DATA: { status: 502, proxyStatus: 'http_protocol_error', source: 'upstream' },
  UPSTREAM_CONNECT_REFUSED: { status: 502, proxyStatus: 'connection_refused', source: 'upstream' },
  UPSTREAM_DNS_ERROR: { status: 502, proxyStatus: 'dns_error', source: 'upstream' },
  UPSTREAM_UNREACHABLE: { status: 502, proxyStatus: 'destination_unavailable', source: 'upstream' },
  UPSTREAM_CONNECT_TIMEOUT: { status: 504, proxyStatus: 'connection_timeout', source: 'upstream' },
  UPSTREAM_CLOSED: { status: 502, proxyStatus: 'connection_terminated', source: 'upstream' },
  UPSTREAM_RESPONSE_TIMEOUT: { status: 504, proxyStatus: 'http_response_timeout', source: 'upstream' },
  UPSTREAM_IDLE_TIMEOUT: { status: 504, proxyStatus: 'connection_read_timeout', source: 'upstream' },
  UPSTREAM_UNAVAILABLE: { status: 502, proxyStatus: 'destination_unavailable', source: 'upstream' },
  UPSTREAM_TLS_ERROR: { status: 502, proxyStatus: 'tls_protocol_error', source: 'upstream' },
  UPSTREAM_TLS_CERTIFICATE_ERROR: { status: 502, proxyStatus: 'tls_certificate_error', source: 'upstream' },
  CLIENT_INVALID_REQUEST: { status: 400, proxyStatus: 'http_request_error', source: 'client' },
  CLIENT_UNSUPPORTED_METHOD: { status: 501, proxyStatus: 'http_request_error', source: 'client' },
  CLIENT_UNSUPPORTED_VERSION: { status: 505, proxyStatus: 'http_request_error', source: 'client' },
  CLIENT_INVALID_HEADER: { status: 400, proxyStatus: 'http_request_error', source: 'client' },
  CLIENT_HEADERS_TOO_LARGE: { status: 431, proxyStatus: 'http_request_error', source: 'client' },
  CLIENT_URI_TOO_LONG: { status: 414, proxyStatus: 'http_request_error', source: 'client' },
  CLIENT_INVALID_FRAMING: { status: 400, proxyStatus: 'http_request_error', source: 'client' },
  CLIENT_UNSUPPORTED_TRANSFER_ENCODING: { status: 501, proxyStatus: 'http_request_error', source: 'client' },
  CLIENT_BODY_TOO_LARGE: { status: 413, proxyStatus: 'http_request_error', source: 'client' },
  CLIENT_TIMEOUT: { status: 408, proxyStatus: 'http_request_error', source: 'client' },
  CLIENT_ABORTED: { status: 0, proxyStatus: 'http_request_error', source: 'client' },
  GATEWAY_CONNECTION_LIMIT: { status: 503, proxyStatus: 'connection_limit_reached', source: 'gateway' },
  // The gateway could not open a socket (EMFILE, ENFILE, ENOBUFS, EADDRNOTAVAIL...): its own
  // resources failed, not the upstream.
  GATEWAY_SOCKET_ERROR: { status: 502, proxyStatus: 'proxy_internal_error', source: 'gateway' },
  GATEWAY_INTERNAL_ERROR: { status: 502, proxyStatus: 'proxy_internal_error', source: 'gateway' },
  // proxy() with a request whose body something else (a body parser) already read, and no
  // `body` option to send instead: a 500 at once, rather than a request that can never complete.
  GATEWAY_BODY_CONSUMED: { status: 500, proxyStatus: 'proxy_internal_error', source: 'gateway' },
}

export function statusFor(code: ErrorCode): number {
  return INFO[code].status
}

export function proxyStatusFor(code: ErrorCode): ProxyStatusType {
  return INFO[code].proxyStatus
}

export function sourceFor(code: ErrorCode): ErrorSource {
  return INFO[code].source
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(INFO, value)
}

/** What the parsers report: a code, the byte offset (from the start of the message) and why. */
export interface ParseFailure {
  code: ErrorCode
  /** Offset of the offending byte, counted from the first byte of the message. */
  offset: number
  reason: string
}

export class GatewayError extends Error {
  readonly code: ErrorCode
  /** What the client got: the error status, or 0 when the client connection was aborted. */
  status: number
  readonly proxyStatus: ProxyStatusType
  readonly source: ErrorSource
  /** Byte offset of a parse error within the message, when there is one. */
  readonly offset: number | undefined

  constructor(code: ErrorCode, message: string, options?: { offset?: number; status?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'GatewayError'
    this.code = code
    this.status = options?.status ?? statusFor(code)
    this.proxyStatus = proxyStatusFor(code)
    this.source = sourceFor(code)
    this.offset = options?.offset
  }

  static fromFailure(failure: ParseFailure): GatewayError {
    return new GatewayError(failure.code, failure.reason, { offset: failure.offset })
  }
}
