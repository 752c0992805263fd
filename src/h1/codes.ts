// What a rule violation is called in each direction. The parsers find violations without
// knowing which side they parse; one table per direction names them with the stable codes of
// RULES.md (the upstream's violations are 502s, the client's are 4xx/5xx of its own).

import type { ErrorCode } from '../errors.js'

export const enum Violation {
  /** Status line (S2, S4) or request line grammar. */
  StartLine = 0,
  /** HTTP-version other than 1.0 / 1.1 (S1). */
  Version = 1,
  /** Status code not 3 digits in 100–599 (S3). */
  StatusCode = 2,
  /** A method that is a token but not one the gateway forwards (CONNECT, unknown to llhttp). */
  Method = 3,
  /** Request-target grammar or form. */
  Target = 4,
  /** Request-target longer than limits.maxUrlBytes. */
  TargetTooLong = 5,
  /** Field line grammar (H1–H4), Host. */
  Field = 6,
  /** Head larger than limits.maxHeaderBytes or with more than limits.maxHeaderCount fields (H5). */
  HeadTooLarge = 7,
  /** Content-Length not one 1*DIGIT ≤ 2^53−1 (F1). */
  ContentLength = 8,
  /** Framing fields that contradict each other or the message (F2, F4, F5, F8). */
  Framing = 9,
  /** Transfer-Encoding other than exactly one `chunked` (F3). */
  TransferCoding = 10,
  /** A 101 the client did not ask for (F7). */
  Upgrade = 11,
  /**
   * Chunk framing and its limits (B1), the trailer section: its fields as H1–H4, within the head
   * limits, none of the forbidden ones (B2).
   */
  Chunk = 12,
  /** Request body over limits.maxRequestBodyBytes. */
  BodyTooLarge = 13,
  /** The connection ended before the head was complete. */
  ClosedInHead = 14,
  /** The connection ended before the body was complete (B3, B4). */
  ClosedInBody = 15,
  /** Bytes after a complete message where none may follow (B5). */
  ExtraData = 16,
  /** A state the parser should never be in: a bug. */
  Internal = 17,
}

/** Error codes indexed by Violation. */
export type CodeTable = { readonly [V in Violation]: ErrorCode }

/** An upstream response broke the rule. */
export const RESPONSE_CODES: CodeTable = {
  [Violation.StartLine]: 'UPSTREAM_INVALID_STATUS_LINE',
  [Violation.Version]: 'UPSTREAM_INVALID_VERSION',
  [Violation.StatusCode]: 'UPSTREAM_INVALID_STATUS_CODE',
  [Violation.Method]: 'UPSTREAM_INVALID_STATUS_LINE',
  [Violation.Target]: 'UPSTREAM_INVALID_STATUS_LINE',
  [Violation.TargetTooLong]: 'UPSTREAM_INVALID_STATUS_LINE',
  [Violation.Field]: 'UPSTREAM_INVALID_HEADER',
  [Violation.HeadTooLarge]: 'UPSTREAM_HEADERS_TOO_LARGE',
  [Violation.ContentLength]: 'UPSTREAM_INVALID_CONTENT_LENGTH',
  [Violation.Framing]: 'UPSTREAM_INVALID_FRAMING',
  [Violation.TransferCoding]: 'UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING',
  [Violation.Upgrade]: 'UPSTREAM_INVALID_UPGRADE',
  [Violation.Chunk]: 'UPSTREAM_INVALID_CHUNK',
  [Violation.BodyTooLarge]: 'GATEWAY_INTERNAL_ERROR',
  [Violation.ClosedInHead]: 'UPSTREAM_CLOSED',
  [Violation.ClosedInBody]: 'UPSTREAM_TRUNCATED_BODY',
  [Violation.ExtraData]: 'UPSTREAM_EXTRA_DATA',
  [Violation.Internal]: 'GATEWAY_INTERNAL_ERROR',
}

/** A client request broke the rule. */
export const REQUEST_CODES: CodeTable = {
  [Violation.StartLine]: 'CLIENT_INVALID_REQUEST',
  [Violation.Version]: 'CLIENT_UNSUPPORTED_VERSION',
  [Violation.StatusCode]: 'CLIENT_INVALID_REQUEST',
  [Violation.Method]: 'CLIENT_UNSUPPORTED_METHOD',
  [Violation.Target]: 'CLIENT_INVALID_REQUEST',
  [Violation.TargetTooLong]: 'CLIENT_URI_TOO_LONG',
  [Violation.Field]: 'CLIENT_INVALID_HEADER',
  [Violation.HeadTooLarge]: 'CLIENT_HEADERS_TOO_LARGE',
  [Violation.ContentLength]: 'CLIENT_INVALID_FRAMING',
  [Violation.Framing]: 'CLIENT_INVALID_FRAMING',
  [Violation.TransferCoding]: 'CLIENT_UNSUPPORTED_TRANSFER_ENCODING',
  [Violation.Upgrade]: 'CLIENT_INVALID_HEADER',
  [Violation.Chunk]: 'CLIENT_INVALID_FRAMING',
  [Violation.BodyTooLarge]: 'CLIENT_BODY_TOO_LARGE',
  [Violation.ClosedInHead]: 'CLIENT_ABORTED',
  [Violation.ClosedInBody]: 'CLIENT_ABORTED',
  [Violation.ExtraData]: 'CLIENT_INVALID_REQUEST',
  [Violation.Internal]: 'GATEWAY_INTERNAL_ERROR',
}
