// Message bodies (RFC 9112 §6, §7): a Content-Length body, a chunked body with its extensions
// and trailer section, and a close-delimited body. Decoded bytes go to a `Sink` as they are
// read, so a failure leaves in it exactly the body bytes that came before the failing byte.

import { CR, isHexdig, isQdtext, isQuotable, isTchar, isWhitespace, LF } from './abnf.js'
import { type Field, fieldSection, type Reader } from './head.js'
import {
  FORBIDDEN_TRAILERS,
  MAX_CHUNK_EXT_BYTES_PER_MESSAGE,
  MAX_CHUNK_LINE_BYTES,
  MAX_LENGTH,
  Reject,
} from './rules.js'

/** The decoded body so far; `max`: decoded bytes allowed (requests: maxRequestBodyBytes). */
export class Sink {
  data = ''
  constructor(readonly max: number) {}

  /** Take `r.s[from, from + n)` as body bytes; the first byte past `max` breaks "body size". */
  take(r: Reader, n: number): void {
    const room = this.max - this.data.length
    const from = r.pos
    if (n > room) {
      this.data += r.s.slice(from, from + room)
      throw new Reject('body size', `body larger than ${this.max} bytes`, from + room)
    }
    this.data += r.s.slice(from, from + n)
    r.pos += n
  }
}

/** Exactly `n` bytes of the rest of the input; fewer (the input ended) is EndOfInput. */
function octets(r: Reader, n: number, sink: Sink): void {
  const have = Math.min(n, r.remaining)
  sink.take(r, have)
  if (have < n) r.peek() // throws EndOfInput at the end of the input
}

/** A body of Content-Length bytes (RFC 9112 §6.3 (6)). */
export function lengthBody(r: Reader, length: number, sink: Sink): void {
  octets(r, length, sink)
}

/** A close-delimited body (RFC 9112 §6.3 (8)): everything until the end of the input. */
export function closeDelimitedBody(r: Reader, sink: Sink): void {
  octets(r, r.remaining, sink)
}

export interface ChunkedLimits {
  readonly maxHeaderBytes: number
  readonly maxHeaderCount: number
}

/**
 * chunked-body = *chunk last-chunk trailer-section CRLF   (RFC 9112 §7.1)
 * chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 * last-chunk   = 1*("0") [ chunk-ext ] CRLF
 * chunk-data   = 1*OCTET ; a sequence of chunk-size octets
 *
 * Returns the trailer fields.
 */
export function chunkedBody(r: Reader, sink: Sink, limits: ChunkedLimits): Field[] {
  const ext = { bytes: 0 }
  for (;;) {
    const size = chunkLine(r, ext)
    if (size === 0) break
    octets(r, size, sink)
    const at = r.pos
    if (r.next() !== CR || r.next() !== LF) throw new Reject('B1', 'chunk data not followed by CRLF', at)
  }
  return trailerSection(r, limits)
}

/**
 * chunk-size [ chunk-ext ] CRLF, where
 *   chunk-size = 1*HEXDIG, held to 2^53 − 1 (RULES.md B1: also when the input ends right after it)
 *
 * RULES.md B1: a chunk line (size, extensions and CRLF) longer than 4 KiB is invalid, and so is a
 * message with more than 16 KiB of chunk extensions (every byte between the size and the CRLF).
 */
function chunkLine(r: Reader, ext: { bytes: number }): number {
  const start = r.pos
  r.limit(start + MAX_CHUNK_LINE_BYTES, 'B1', `chunk line longer than ${MAX_CHUNK_LINE_BYTES} bytes`)
  let size = 0
  while (isHexdig(r.peek())) {
    size = size * 16 + Number.parseInt(r.s[r.pos], 16)
    if (size > MAX_LENGTH) throw new Reject('B1', 'chunk size larger than 2^53-1', r.pos)
    r.pos++
  }
  if (r.pos === start) throw new Reject('B1', 'chunk-size is not 1*HEXDIG', r.pos)
  chunkExt(r, ext)
  const at = r.pos
  if (r.next() !== CR) throw new Reject('B1', 'expected CRLF after the chunk size', at)
  if (r.next() !== LF) throw new Reject('B1', 'bare CR in a chunk line', at + 1)
  r.noLimit()
  return size
}

const enum Ext {
  /** After the size, a complete extension or a closing DQUOTE: CRLF, BWS or ";" may follow. */
  After = 0,
  /** BWS that must be followed by ";". */
  BwsThenSemi = 1,
  /** After ";": BWS, then chunk-ext-name. */
  NameStart = 2,
  Name = 3,
  /** BWS after a name: "=" or ";" must follow. */
  AfterName = 4,
  /** After "=": BWS, then chunk-ext-val. */
  ValueStart = 5,
  Token = 6,
  Quoted = 7,
  QuotedPair = 8,
}

/**
 * chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )   (RFC 9112 §7.1.1)
 * chunk-ext-name = token
 * chunk-ext-val  = token / quoted-string
 * BWS            = OWS   (RFC 9110 §5.6.3: a recipient MUST accept it)
 * quoted-string  = DQUOTE *( qdtext / quoted-pair ) DQUOTE   (RFC 9110 §5.6.4)
 *
 * Read up to (not including) the CR that ends the chunk line, every byte counted against the
 * per-message extension budget.
 */
function chunkExt(r: Reader, ext: { bytes: number }): void {
  let state = Ext.After
  for (;;) {
    const at = r.pos
    const c = r.peek()
    const done = c === CR && (state === Ext.After || state === Ext.Name || state === Ext.Token)
    if (done) return
    ext.bytes++
    if (ext.bytes > MAX_CHUNK_EXT_BYTES_PER_MESSAGE) {
      throw new Reject('B1', `more than ${MAX_CHUNK_EXT_BYTES_PER_MESSAGE} bytes of chunk extensions`, at)
    }
    const next = extStep(state, c)
    if (next === -1) throw new Reject('B1', 'malformed chunk-ext', at)
    state = next
    r.pos++
  }
}

/** The chunk-ext state after byte `c`, or -1 when `c` cannot go on the grammar. */
function extStep(state: Ext, c: number): Ext | -1 {
  const semi = c === 0x3b
  const ws = isWhitespace(c)
  switch (state) {
    case Ext.After:
      return semi ? Ext.NameStart : ws ? Ext.BwsThenSemi : -1
    case Ext.BwsThenSemi:
      return semi ? Ext.NameStart : ws ? Ext.BwsThenSemi : -1
    case Ext.NameStart:
      return isTchar(c) ? Ext.Name : ws ? Ext.NameStart : -1
    case Ext.Name:
      if (isTchar(c)) return Ext.Name
      if (c === 0x3d) return Ext.ValueStart
      return semi ? Ext.NameStart : ws ? Ext.AfterName : -1
    case Ext.AfterName:
      if (c === 0x3d) return Ext.ValueStart
      return semi ? Ext.NameStart : ws ? Ext.AfterName : -1
    case Ext.ValueStart:
      if (isTchar(c)) return Ext.Token
      if (c === 0x22) return Ext.Quoted
      return ws ? Ext.ValueStart : -1
    case Ext.Token:
      if (isTchar(c)) return Ext.Token
      return semi ? Ext.NameStart : ws ? Ext.BwsThenSemi : -1
    case Ext.Quoted:
      if (c === 0x22) return Ext.After
      if (c === 0x5c) return Ext.QuotedPair
      return isQdtext(c) ? Ext.Quoted : -1
    case Ext.QuotedPair:
      return isQuotable(c) ? Ext.Quoted : -1
  }
}

/**
 * trailer-section = *( field-line CRLF ), then the CRLF that ends the chunked body.
 *
 * RULES.md B2: trailer fields obey H1–H4, the section counts against H5's limits (the reference
 * holds the section, its final CRLF included, to maxHeaderBytes, and its field lines to
 * maxHeaderCount), and no framing or routing field may be in it (checked once the section is
 * complete, like a head's fields).
 */
function trailerSection(r: Reader, limits: ChunkedLimits): Field[] {
  r.limit(r.pos + limits.maxHeaderBytes, 'B2', `trailer section larger than ${limits.maxHeaderBytes} bytes`)
  const fields = fieldSection(r, limits.maxHeaderCount, () => 'B2')
  r.noLimit()
  for (const f of fields) {
    if (FORBIDDEN_TRAILERS.has(f.name.toLowerCase())) {
      throw new Reject('B2', `${f.name} is not allowed in a trailer section`, f.at)
    }
  }
  return fields
}
