// RFC 9112 §6.3 "Message Body Length", as one pure function. The numbered comments are the
// RFC's own list; strictgate is stricter where the RFC leaves room (noted per step).

import { CHUNKED, CLOSE_DELIMITED, type Framing, NO_BODY } from './head.js'

export interface FramingInput {
  /** true for a response, false for a request. */
  readonly response: boolean
  /** The method of the request (for a response: the request it answers). */
  readonly method: string
  /** Response status; 0 for requests. */
  readonly status: number
  /** Transfer-Encoding fields: 0 = absent, 1 = exactly one field `chunked`, 2 = anything else. */
  readonly transferEncoding: 0 | 1 | 2
  /** Content-Length value, or -1 when absent (syntax and duplicates are checked before). */
  readonly contentLength: number
}

export type FramingResult = Framing | 'length-and-encoding' | 'unsupported-encoding'

export function messageBodyLength(m: FramingInput): FramingResult {
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
  //    handled as an error. (strictgate: always an error.)
  if (m.transferEncoding !== 0 && m.contentLength >= 0) return 'length-and-encoding'
  // 4. If a Transfer-Encoding header field is present and the chunked transfer coding is the
  //    final encoding, the message body length is determined by reading and decoding the
  //    chunked data until the transfer coding indicates the data is complete. If it is present
  //    in a response and chunked is not the final encoding, the body is read until the server
  //    closes the connection; in a request, the server MUST respond with 400 and then close.
  //    (strictgate: anything but exactly one `chunked` is an error both ways.)
  if (m.transferEncoding === 1) return CHUNKED
  if (m.transferEncoding === 2) return 'unsupported-encoding'
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
