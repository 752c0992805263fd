// The trailer section of a chunked message (RFC 9112 §7.1.2): its fields as llhttp reports them,
// and B2's denylist. (Its size and field count are held to the head limits as its bytes arrive:
// chunked-copy.ts.)

import type { Trailer } from './head.js'

// B2: fields that must not appear in a trailer section (RFC 9110 §6.5.1): framing, routing,
// request modifiers (controls, and the conditionals of RFC 9110 §13.1), authentication, response
// control data and content metadata; and the hop-by-hop fields (RFC 9110 §7.6.1), which cannot
// reach the next hop in a trailer section either. RULES.md lists them under B2.
const FORBIDDEN_TRAILERS = new Set([
  // framing
  'transfer-encoding',
  'content-length',
  'trailer',
  // routing
  'host',
  // request modifiers: controls (RFC 9110 §7.6.2, §10.1, §14.2; RFC 9111 §5.2, §5.4)
  'cache-control',
  'expect',
  'max-forwards',
  'pragma',
  'range',
  'te',
  // request modifiers: conditionals (RFC 9110 §13.1)
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
  'if-range',
  // authentication (RFC 9110 §11; cookies, RFC 6265)
  'authorization',
  'proxy-authorization',
  'www-authenticate',
  'proxy-authenticate',
  'set-cookie',
  'cookie',
  // response control data (RFC 9110 §15, RFC 9111 §5)
  'age',
  'expires',
  'date',
  'location',
  'retry-after',
  'vary',
  'warning',
  // how to process the content (RFC 9110 §8)
  'content-encoding',
  'content-type',
  'content-range',
  // hop-by-hop
  'connection',
  'keep-alive',
  'upgrade',
  'proxy-connection',
])

/** Whether a trailer field name (already lowercased) may not be sent in a trailer section. */
export function isForbiddenTrailer(lowerName: string): boolean {
  return FORBIDDEN_TRAILERS.has(lowerName)
}

/** What a span of a trailer field line is. */
export const enum TrailerPart {
  Name = 0,
  Value = 1,
}

/**
 * The trailer fields of one message, from llhttp's spans. A span of the same part as the one
 * before continues it (the input was cut inside it); a value span completes the last name.
 */
export class TrailerFields {
  private fields: [string, string][] = []
  private last: TrailerPart | -1 = -1

  add(part: TrailerPart, text: string): void {
    const fields = this.fields
    if (part === this.last && fields.length > 0) fields[fields.length - 1][part] += text
    else if (part === TrailerPart.Name) fields.push([text, ''])
    else if (fields.length > 0) fields[fields.length - 1][1] = text
    this.last = part
  }

  /**
   * The trailer section is complete: the first field B2 forbids (its name), or null. Values lose
   * their OWS here (RFC 9110 §5.5), once every piece of them is in.
   */
  forbidden(): string | null {
    for (const f of this.fields) {
      f[1] = f[1].replace(/^[ \t]+|[ \t]+$/g, '')
      if (isForbiddenTrailer(f[0].toLowerCase())) return f[0]
    }
    return null
  }

  /** The fields, handed over; the next message starts with none. */
  take(): readonly Trailer[] {
    const fields = this.fields
    if (fields.length > 0) this.fields = []
    this.last = -1
    return fields
  }

  /** Forget what a failed message collected. */
  clear(): void {
    this.take()
  }
}
