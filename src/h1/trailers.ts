// B2: fields that must not appear in a trailer section (RFC 9110 §6.5.1): framing, routing,
// request modifiers, authentication, response control data and content metadata.

const FORBIDDEN_TRAILERS = new Set([
  'transfer-encoding',
  'content-length',
  'host',
  'trailer',
  'te',
  'connection',
  'keep-alive',
  'upgrade',
  'proxy-connection',
  'cache-control',
  'expect',
  'max-forwards',
  'pragma',
  'range',
  'authorization',
  'proxy-authorization',
  'www-authenticate',
  'proxy-authenticate',
  'set-cookie',
  'cookie',
  'age',
  'expires',
  'date',
  'location',
  'retry-after',
  'vary',
  'warning',
  'content-encoding',
  'content-type',
  'content-range',
])

/** Whether a trailer field name (already lowercased) may not be sent in a trailer section. */
export function isForbiddenTrailer(lowerName: string): boolean {
  return FORBIDDEN_TRAILERS.has(lowerName)
}
