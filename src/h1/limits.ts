// Size and count limits, and their one set of defaults. The parsers read the head and body
// limits; `maxConnections` is the gateway's, kept here so that there is one shape and one
// DEFAULT_LIMITS for everything `limits` configures.

export interface Limits {
  /** Largest head (start line, fields, final CRLF) in bytes; also bounds trailer sections. */
  readonly maxHeaderBytes: number
  readonly maxHeaderCount: number
  /** Longest request-target (requests only). */
  readonly maxUrlBytes: number
  /** 1xx responses allowed before the final one (responses only). */
  readonly maxInterimResponses: number
  /** Largest request body (requests only); MAX_SAFE_INTEGER: no limit. */
  readonly maxRequestBodyBytes: number
  /** Client connections served at once (the gateway's, not a parser limit). */
  readonly maxConnections: number
}

export const DEFAULT_LIMITS: Limits = {
  maxHeaderBytes: 16_384,
  maxHeaderCount: 100,
  maxUrlBytes: 8_192,
  maxInterimResponses: 8,
  maxRequestBodyBytes: Number.MAX_SAFE_INTEGER,
  maxConnections: Number.MAX_SAFE_INTEGER,
}
