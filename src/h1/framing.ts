// RFC 9112 §6.3 "Message Body Length", as one pure function. The numbered comments are the
// RFC's own list. strictgate is stricter where the RFC leaves room: it first refuses framing
// fields that contradict each other or the message, even where the list would then ignore
// them (a HEAD or 304 response, a 1xx or 204), so no peer downstream can read them otherwise.

import { CHUNKED, CLOSE_DELIMITED, type Framing, NO_BODY } from './head.js'

export interface FramingInput {
  /** true for a response, false for a request. */
  readonly response: boolean
  /** The method of the request (for a response: the request it answers). */
  readonly method: string
  /** Response status; 0 for requests. */
  readonly status: number
  readonly minorVersion: 0 | 1
  /** Transfer-Encoding fields: 0 = absent, 1 = exactly one field `chunked`, 2 = anything else. */
  readonly transferEncoding: 0 | 1 | 2
  /** Content-Length value, or -1 when absent (syntax and duplicates are checked before: F1). */
  readonly contentLength: number
}

/** Why the framing fields of a message are refused. */
export const enum FramingError {
  /** F4: Transfer-Encoding in an HTTP/1.0 message. */
  EncodingInHttp10 = 0,
  /** F5: Transfer-Encoding or a non-zero Content-Length on a 1xx or 204 response. */
  FieldsWithoutBody = 1,
  /** F2: Transfer-Encoding together with Content-Length. */
  LengthAndEncoding = 2,
  /** F3: Transfer-Encoding other than exactly one `chunked`. */
  UnsupportedEncoding = 3,
}

export type FramingResult = Framing | FramingError

export function messageBodyLength(m: FramingInput): FramingResult {
  // strictgate's checks, before the list. RFC 9112 §6.1: a server or client that receives an
  // HTTP/1.0 message containing a Transfer-Encoding header field MUST treat the message as if
  // the framing is faulty.
  if (m.transferEncoding !== 0 && m.minorVersion === 0) return FramingError.EncodingInHttp10
  // RFC 9110 §8.6 and RFC 9112 §6.1: a server MUST NOT send Content-Length (other than 0) or
  // Transfer-Encoding in a 1xx or 204 response.
  if (m.response && (m.status < 200 || m.status === 204) && (m.transferEncoding !== 0 || m.contentLength > 0)) {
    return FramingError.FieldsWithoutBody
  }
  // Steps 3 and 4 below, checked whether or not a body follows.
  if (m.transferEncoding !== 0 && m.contentLength >= 0) return FramingError.LengthAndEncoding
  if (m.transferEncoding === 2) return FramingError.UnsupportedEncoding

  // 1. Any response to a HEAD request and any response with a 1xx (Informational), 204 (No
  //    Content), or 304 (Not Modified) status code is always terminated by the first empty
  //    line after the header fields, regardless of the header fields present in the message,
  //    and thus cannot contain a message body or trailer section.
  if (m.response && (m.method === 'HEAD' || m.status < 200 || m.status === 204 || m.status === 304)) {
    return NO_BODY
  }
  // 2. Any 2xx (Successful) response to a CONNECT request implies that the connection will
  //    become a tunnel immediately after the empty line that concludes the header fields.
  //    (strictgate answers CONNECT with 501 itself, so no such response is ever read.)
  // 3. If a message is received with both a Transfer-Encoding and a Content-Length header
  //    field, the Transfer-Encoding overrides the Content-Length. Such a message might
  //    indicate an attempt to perform request smuggling or response splitting and ought to be
  //    handled as an error. (strictgate: always an error, above.)
  // 4. If a Transfer-Encoding header field is present and the chunked transfer coding is the
  //    final encoding, the message body length is determined by reading and decoding the
  //    chunked data until the transfer coding indicates the data is complete. If it is present
  //    in a response and chunked is not the final encoding, the body is read until the server
  //    closes the connection; in a request, the server MUST respond with 400 and then close.
  //    (strictgate: anything but exactly one `chunked` is an error both ways, above.)
  if (m.transferEncoding === 1) return CHUNKED
  // 5. An invalid Content-Length is an unrecoverable error (checked before this function).
  // 6. If a valid Content-Length header field is present without Transfer-Encoding, its
  //    decimal value defines the expected message body length in octets.
  if (m.contentLength >= 0) return { kind: 'length', length: m.contentLength }
  // 7. If this is a request message and none of the above are true, then the message body
  //    length is zero (no message body is present).
  if (!m.response) return NO_BODY
  // 8. Otherwise, this is a response message without a declared message body length, so the
  //    message body length is determined by the number of octets received prior to the
  //    server closing the connection.
  return CLOSE_DELIMITED
}
