// What the reference recognizer needs from RULES.md (../shared/RULES.md, docs/RULES.md) besides
// the grammar: the rule rows a message can break, the error code each row carries in each
// direction (RULES.md tables and the README's error-code table), the limits, and the few lists
// the rules name. Written from the documents, not from src/.

/** Error codes strictgate is specified to give (RULES.md, README "Error codes"). */
export type RefCode =
  | 'UPSTREAM_INVALID_VERSION'
  | 'UPSTREAM_INVALID_STATUS_LINE'
  | 'UPSTREAM_INVALID_STATUS_CODE'
  | 'UPSTREAM_INVALID_HEADER'
  | 'UPSTREAM_HEADERS_TOO_LARGE'
  | 'UPSTREAM_INVALID_CONTENT_LENGTH'
  | 'UPSTREAM_INVALID_FRAMING'
  | 'UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING'
  | 'UPSTREAM_INVALID_UPGRADE'
  | 'UPSTREAM_INVALID_CHUNK'
  | 'UPSTREAM_TRUNCATED_BODY'
  | 'UPSTREAM_EXTRA_DATA'
  | 'UPSTREAM_CLOSED'
  | 'CLIENT_INVALID_REQUEST'
  | 'CLIENT_UNSUPPORTED_METHOD'
  | 'CLIENT_UNSUPPORTED_VERSION'
  | 'CLIENT_INVALID_HEADER'
  | 'CLIENT_HEADERS_TOO_LARGE'
  | 'CLIENT_URI_TOO_LONG'
  | 'CLIENT_INVALID_FRAMING'
  | 'CLIENT_UNSUPPORTED_TRANSFER_ENCODING'
  | 'CLIENT_BODY_TOO_LARGE'
  | 'CLIENT_ABORTED'

/**
 * The rule a message breaks: a RULES.md row (S1…B5 for responses, the same ids for the field and
 * chunk rules requests share) or a client-rule class, and the codes it carries as
 * [in a response, in a request].
 */
export const RULE_CODES = {
  // Upstream response rows
  S1: ['UPSTREAM_INVALID_VERSION', null],
  S2: ['UPSTREAM_INVALID_STATUS_LINE', null],
  S3: ['UPSTREAM_INVALID_STATUS_CODE', null],
  S4: ['UPSTREAM_INVALID_STATUS_LINE', null],
  F5: ['UPSTREAM_INVALID_FRAMING', null],
  F7: ['UPSTREAM_INVALID_UPGRADE', null],
  F8: ['UPSTREAM_INVALID_FRAMING', null],
  B5: ['UPSTREAM_EXTRA_DATA', null],
  // Rows both directions share ("header field rules as H1–H4", "chunk rules as B1 and B2")
  H1: ['UPSTREAM_INVALID_HEADER', 'CLIENT_INVALID_HEADER'],
  H2: ['UPSTREAM_INVALID_HEADER', 'CLIENT_INVALID_HEADER'],
  H3: ['UPSTREAM_INVALID_HEADER', 'CLIENT_INVALID_HEADER'],
  H4: ['UPSTREAM_INVALID_HEADER', 'CLIENT_INVALID_HEADER'],
  H5: ['UPSTREAM_HEADERS_TOO_LARGE', 'CLIENT_HEADERS_TOO_LARGE'],
  F1: ['UPSTREAM_INVALID_CONTENT_LENGTH', 'CLIENT_INVALID_FRAMING'],
  F2: ['UPSTREAM_INVALID_FRAMING', 'CLIENT_INVALID_FRAMING'],
  // "F3 has its own code" (RULES.md Decisions); requests: "Transfer-Encoding other than exactly chunked" → 501.
  F3: ['UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING', 'CLIENT_UNSUPPORTED_TRANSFER_ENCODING'],
  // F4 for responses; for requests "TE on HTTP/1.0" is in the CLIENT_INVALID_FRAMING row (README).
  F4: ['UPSTREAM_INVALID_FRAMING', 'CLIENT_INVALID_FRAMING'],
  B1: ['UPSTREAM_INVALID_CHUNK', 'CLIENT_INVALID_FRAMING'],
  // Requests: "chunk rules as B1 ... and B2 (trailer section within the head limits)" → 400 framing.
  B2: ['UPSTREAM_INVALID_CHUNK', 'CLIENT_INVALID_FRAMING'],
  B3: ['UPSTREAM_TRUNCATED_BODY', 'CLIENT_ABORTED'],
  /** The input ended inside a head ("closed before the head was complete" / "client closes mid-request"). */
  CLOSED: ['UPSTREAM_CLOSED', 'CLIENT_ABORTED'],
  // Client request rules
  'request-line': [null, 'CLIENT_INVALID_REQUEST'],
  target: [null, 'CLIENT_INVALID_REQUEST'],
  'target length': [null, 'CLIENT_URI_TOO_LONG'],
  method: [null, 'CLIENT_UNSUPPORTED_METHOD'],
  version: [null, 'CLIENT_UNSUPPORTED_VERSION'],
  Host: [null, 'CLIENT_INVALID_HEADER'],
  'body size': [null, 'CLIENT_BODY_TOO_LARGE'],
} as const satisfies Record<string, readonly [RefCode | null, RefCode | null]>

export type RuleId = keyof typeof RULE_CODES
export type Side = 'request' | 'response'

export function codeFor(rule: RuleId, side: Side): RefCode {
  const code = RULE_CODES[rule][side === 'response' ? 0 : 1]
  if (code === null) throw new Error(`reference: rule ${rule} does not apply to a ${side}`)
  return code
}

/** A message breaks `rule` at byte `at` (of the whole input); `why` says how. */
export class Reject extends Error {
  constructor(
    readonly rule: RuleId,
    readonly why: string,
    readonly at: number,
  ) {
    super(`${rule}: ${why} (at byte ${at})`)
  }
}

/** The input ended where the grammar needs more bytes (FIN). */
export class EndOfInput extends Error {
  constructor(readonly at: number) {
    super(`end of input at byte ${at}`)
  }
}

export interface RefLimits {
  /** H5: a head (start line through the final CRLF); also bounds a trailer section. */
  readonly maxHeaderBytes: number
  readonly maxHeaderCount: number
  /** Requests: the request-target. */
  readonly maxUrlBytes: number
  /** Responses: F8. */
  readonly maxInterimResponses: number
  /** Requests: decoded body (Infinity when unset). */
  readonly maxRequestBodyBytes: number
}

/** The defaults the README and RULES.md give. */
export const REF_DEFAULT_LIMITS: RefLimits = {
  maxHeaderBytes: 16_384,
  maxHeaderCount: 100,
  maxUrlBytes: 8_192,
  maxInterimResponses: 8,
  maxRequestBodyBytes: Number.POSITIVE_INFINITY,
}

/** B1: "a chunk line (size, extensions and CRLF) longer than 4 KiB ... is invalid". */
export const MAX_CHUNK_LINE_BYTES = 4_096
/** B1: "more than 16 KiB of chunk extensions in one message is invalid". */
export const MAX_CHUNK_EXT_BYTES_PER_MESSAGE = 16_384
/** F1 / B1: Content-Length and chunk-size are held to 2^53 − 1. */
export const MAX_LENGTH = 2 ** 53 - 1

/**
 * Methods llhttp knows for HTTP/1.x (its METHODS_HTTP list, llhttp 9 as bundled in undici 7).
 * RULES.md: "a method that is a valid token but unknown to llhttp; CONNECT → 501". RTSP-only
 * methods (DESCRIBE, SETUP, …) are not HTTP methods to llhttp, so they are unknown here.
 * PRI is left out too: RULES.md Decisions (issue 14, #11) make it a 501 whatever the target,
 * since RFC 9113 §3.4 reserves it for the HTTP/2 connection preface and it is never forwarded.
 * (This list accepted it, so `PRI / HTTP/1.1` was a valid request here and `PRI *` a 400.)
 */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'DELETE',
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'OPTIONS',
  'TRACE',
  'COPY',
  'LOCK',
  'MKCOL',
  'MOVE',
  'PROPFIND',
  'PROPPATCH',
  'SEARCH',
  'UNLOCK',
  'BIND',
  'REBIND',
  'UNBIND',
  'ACL',
  'REPORT',
  'MKACTIVITY',
  'CHECKOUT',
  'MERGE',
  'M-SEARCH',
  'NOTIFY',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
  'PATCH',
  'PURGE',
  'MKCALENDAR',
  'LINK',
  'UNLINK',
  'SOURCE',
  'QUERY',
])

/**
 * B2 "no framing or routing fields in trailers", as RFC 7230 §4.1.2 enumerated what RFC 9110
 * §6.5.1 still names by category: message framing, routing, request modifiers (controls and
 * conditionals), authentication (RFC 9110 §11, RFC 6265 cookies), response control data, and
 * how to process the content; plus the hop-by-hop fields of RFC 9110 §7.6.1, which a trailer
 * section cannot carry to the next hop either. Lowercase.
 */
export const FORBIDDEN_TRAILERS: ReadonlySet<string> = new Set([
  // framing
  'content-length',
  'transfer-encoding',
  'trailer',
  // routing
  'host',
  // request modifiers: controls
  'cache-control',
  'expect',
  'max-forwards',
  'pragma',
  'range',
  'te',
  // request modifiers: conditionals
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'if-range',
  // authentication
  'authorization',
  'proxy-authorization',
  'www-authenticate',
  'proxy-authenticate',
  'cookie',
  'set-cookie',
  // response control data
  'age',
  'expires',
  'date',
  'location',
  'retry-after',
  'vary',
  'warning',
  // how to process the content
  'content-encoding',
  'content-type',
  'content-range',
  // hop-by-hop
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
])
