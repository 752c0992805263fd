// The request methods the gateway forwards (RULES.md client rules): the HTTP methods llhttp
// knows (its METHODS_HTTP, llhttp 9 as bundled in undici 7), except
//   - CONNECT: a tunnel to an authority, which strictgate does not offer (RFC 9110 §9.3.6);
//   - PRI: reserved for the HTTP/2 connection preface (RFC 9113 §3.4), never an HTTP/1.1
//     request, whatever its target (RULES.md Decisions).
// Any other method that is a token (RFC 9110 §9.1) — unknown to llhttp, or one it knows only for
// RTSP or ICE (DESCRIBE, SETUP, GET_PARAMETER, ...) — is answered 501, judged once the token and
// its SP are complete (scanner.ts). Methods are case-sensitive (RFC 9110 §9.1): `get` is not GET.

const FORWARDED = new Set([
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

/** Whether the gateway forwards requests with this method (a token: checked before). */
export function isForwardedMethod(method: string): boolean {
  // (GET first: most requests, and a comparison is cheaper than hashing a new string.)
  return method === 'GET' || FORWARDED.has(method)
}

/** The forwarded methods, for tests that compare them with llhttp's own list. */
export const FORWARDED_METHODS: ReadonlySet<string> = FORWARDED
