// Copies a chunked body into llhttp's input, leaving chunk data out, and holds the chunk framing
// to the rules llhttp does not know.
//
// llhttp reads every byte of the chunked framing (chunk sizes, extensions, CRLFs, trailer
// section), but chunk data it only counts: in its chunk-data state it advances by
// min(bytes left in the chunk, bytes available) without loading them, and reports them as an
// on_body span. Spans are mapped back to the caller's Buffer (llhttp.ts), so the data never
// needs to be in wasm memory: not copying it saves a memcpy of every body byte, most of the cost
// of a large chunked body.
//
// To know which bytes are data, this follows the framing the way llhttp will (RFC 9112 §7.1):
//
//   chunked-body = *chunk last-chunk trailer-section CRLF
//   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//   last-chunk   = 1*("0") [ chunk-ext ] CRLF
//
// It does not validate line ends: if the bytes before a run of data are not valid framing, llhttp
// fails on them and never reaches the run; if they are valid, the chunk size read here is the one
// llhttp read. What it cannot follow, it copies: copying is always safe.
//
// What it checks itself, failing at the first byte that breaks the rule (`failAt`; the caller
// must not run llhttp that far), because llhttp does not (RULES.md B1, B2):
// - chunk-size ≤ 2^53 − 1 (llhttp takes 64 bits), at the digit that makes it larger, so that a
//   connection ending right after it is still this failure and not a truncation;
// - a chunk line (size, extensions, CRLF) of at most 4 KiB, and at most 16 KiB of extensions
//   (every byte between the size and the CR) in one message: the resource bound of
//   CVE-2024-22019, which llhttp leaves to its user;
// - the trailer section within the head limits (RULES.md B2): its bytes as received, final CRLF
//   included, against maxHeaderBytes, its field lines against maxHeaderCount;
// - chunk extensions (RFC 9112 §7.1.1):
//
//     chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//     chunk-ext-val = token / quoted-string
//
//   because llhttp (undici's wasm, no extension callbacks) accepts `;=x`, `;a=`, `;;` and DEL in
//   a quoted-string, yet rejects the BWS the grammar allows (`5 ;a`, `5; a = b`). A valid
//   extension (never relayed) is handed to llhttp as `;aaa…` of the same length, which llhttp
//   accepts.

import { TOKEN } from './grammar.js'
import type { Limits } from './limits.js'

/** RULES.md B1: the longest chunk line, CRLF included (cf. CVE-2024-22019). */
export const MAX_CHUNK_LINE_BYTES = 4_096
/** RULES.md B1: the most chunk-extension bytes one message may carry. */
export const MAX_CHUNK_EXT_BYTES = 16_384

const LF = 0x0a
const CR = 0x0d
const SP = 0x20
const HTAB = 0x09
const SEMI = 0x3b
const EQUALS = 0x3d
const DQUOTE = 0x22
const BACKSLASH = 0x5c
/** What llhttp is given for the bytes of a valid chunk-ext: `;` then `a`s. */
const EXT_FIRST = SEMI
const EXT_REST = 0x61

/** qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 §5.6.4) */
function qdtext(c: number): boolean {
  return c === HTAB || c === SP || c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80
}

/** quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) (RFC 9110 §5.6.4) */
function quotable(c: number): boolean {
  return c === HTAB || (c >= 0x20 && c <= 0x7e) || c >= 0x80
}

/** Value of a hex digit, -1 for any other byte. */
const HEX_VALUE = (() => {
  const t = new Int8Array(256).fill(-1)
  for (let c = 0; c < 10; c++) t[0x30 + c] = c
  for (let c = 0; c < 6; c++) {
    t[0x41 + c] = 10 + c
    t[0x61 + c] = 10 + c
  }
  return t
})()

const enum Expect {
  // The chunk-size line: the states up to SizeLineLF.
  /** chunk-size: hex digits. */
  Size = 0,
  /** After the size or an extension (value): `;`, BWS then `;`, or CRLF. */
  SizeLineEnd = 1,
  /** BWS after the size or a value: only `;` may follow. */
  ExtSemi = 2,
  /** After `;`: BWS, then the extension's name. */
  ExtNameStart = 3,
  ExtName = 4,
  /** BWS after a name: `=` or `;` must follow. */
  ExtAfterName = 5,
  /** After `=`: BWS, then a token or a quoted-string. */
  ExtValueStart = 6,
  ExtToken = 7,
  ExtQuoted = 8,
  ExtQuotedPair = 9,
  /** The CR ending the chunk-size line was read. */
  SizeLineLF = 10,
  /** chunk-data: `left` bytes not copied. */
  Data = 11,
  /** The CRLF after chunk-data. */
  DataEnd = 12,
  // The trailer section: counted, its lines followed (each ends with its LF).
  TrailerLineStart = 13,
  TrailerLine = 14,
  /** The CR of the empty line ending the body was read. */
  TrailerEndLF = 15,
  /** After the body, framing not followed, or a failure: everything copied. */
  CopyAll = 16,
}

export class ChunkedCopy {
  private expect = Expect.Size
  /** Size: the chunk size so far; Data: bytes of chunk data left. */
  private left = 0
  /** Digits of the current chunk-size line (leading zeros included). */
  private digits = 0
  /** Extension bytes of the current chunk-size line: digits + lineExt + CRLF is its length. */
  private lineExt = 0
  /** Chunk-extension bytes of this message so far. */
  private extBytes = 0
  /** Trailer section bytes and field lines so far. */
  private trailerBytes = 0
  private trailerLines = 0
  private readonly limits: Limits
  /**
   * Index in the last `copy`'s `src` of the first byte that breaks a rule checked here, or -1:
   * the chunk framing is invalid there, and llhttp must stop before it.
   */
  failAt = -1
  /** Why, when `failAt` is set. */
  failReason = ''

  constructor(limits: Limits) {
    this.limits = limits
  }

  /** Start of a chunked body. */
  reset(): void {
    this.expect = Expect.Size
    this.left = 0
    this.digits = 0
    this.lineExt = 0
    this.extBytes = 0
    this.failAt = -1
  }

  /**
   * Copy the next bytes of the body, `src[start, end)`, to `dst` from `at`, except chunk data:
   * the bytes llhttp will not read are left as they are.
   */
  copy(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): void {
    const shift = at - start
    let i = start
    this.failAt = -1
    while (i < end) {
      if (this.expect === Expect.Data) {
        const n = Math.min(this.left, end - i)
        i += n
        this.left -= n
        if (this.left === 0) this.expect = Expect.DataEnd
      } else if (this.expect === Expect.CopyAll) {
        dst.set(src.subarray(i, end), i + shift)
        i = end
      } else {
        // Framing: a few bytes per chunk, copied as they are followed.
        const b = this.framing(src[i])
        if (b < 0) {
          this.failAt = i
          this.expect = Expect.CopyAll
          continue
        }
        dst[i + shift] = b
        i++
      }
    }
  }

  /**
   * An extension byte (all bytes between the size's digits and the CR ending the line): counted
   * against the line's and the message's limits. Returns false when it breaks one.
   */
  private extByte(): boolean {
    this.extBytes++
    if (this.digits + ++this.lineExt > MAX_CHUNK_LINE_BYTES) {
      this.lineTooLong()
      return false
    }
    if (this.extBytes > MAX_CHUNK_EXT_BYTES) {
      this.failReason = `more than ${MAX_CHUNK_EXT_BYTES} bytes of chunk extensions`
      return false
    }
    return true
  }

  /** `n` more bytes of the current chunk-size line (the CR, then the LF) than digits and extensions. */
  private lineOver(n: number): boolean {
    return this.digits + this.lineExt + n > MAX_CHUNK_LINE_BYTES
  }

  private lineTooLong(): number {
    return this.fail(`chunk line longer than ${MAX_CHUNK_LINE_BYTES} bytes`)
  }

  /** A byte of the trailer section: counted against maxHeaderBytes. */
  private trailerOver(): boolean {
    if (++this.trailerBytes <= this.limits.maxHeaderBytes) return false
    this.failReason = `trailer section larger than ${this.limits.maxHeaderBytes} bytes`
    return true
  }

  private fail(reason: string): number {
    this.failReason = reason
    return -1
  }

  /** Follow framing byte `c`: returns the byte to give llhttp, or -1 if `c` breaks a rule here. */
  private framing(c: number): number {
    // Extension bytes are counted here for every state in the middle of a chunk-ext; `;`, BWS and
    // the CR after the size are counted in SizeLineEnd, digits in Size.
    if (this.expect >= Expect.ExtSemi && this.expect <= Expect.ExtQuotedPair && c !== CR && c !== LF) {
      if (!this.extByte()) return -1
    }
    switch (this.expect) {
      case Expect.Size: {
        const v = HEX_VALUE[c]
        if (v >= 0) {
          // Exact below 2^53; a larger true value rounds to at least 2^53, which is caught.
          this.left = this.left * 16 + v
          if (++this.digits > MAX_CHUNK_LINE_BYTES) return this.lineTooLong()
          if (this.left > Number.MAX_SAFE_INTEGER) return this.fail('chunk size larger than 2^53-1')
          return c
        }
        if (this.digits === 0) {
          this.expect = Expect.CopyAll // no chunk-size: llhttp fails here
          return c
        }
        this.expect = Expect.SizeLineEnd
        return this.framing(c)
      }
      case Expect.SizeLineEnd:
        if (c === CR) {
          if (this.lineOver(1)) return this.lineTooLong()
          this.expect = Expect.SizeLineLF
          return c
        }
        if (c === LF) {
          this.sizeLineEnded() // (a bare LF: llhttp fails on it, strict)
          return c
        }
        if (!this.extByte()) return -1
        if (c === SEMI) {
          this.expect = Expect.ExtNameStart
          return EXT_FIRST
        }
        if (c === SP || c === HTAB) {
          this.expect = Expect.ExtSemi
          return EXT_FIRST
        }
        return this.badExt()
      case Expect.ExtSemi:
        if (c === SEMI) this.expect = Expect.ExtNameStart
        else if (c !== SP && c !== HTAB) return this.badExt()
        return EXT_REST
      case Expect.ExtNameStart:
        if (TOKEN[c] === 1) this.expect = Expect.ExtName
        else if (c !== SP && c !== HTAB) return this.badExt()
        return EXT_REST
      case Expect.ExtName:
      case Expect.ExtToken:
        if (TOKEN[c] === 1) return EXT_REST
        if (c === CR || c === LF) {
          this.expect = Expect.SizeLineEnd
          return this.framing(c)
        }
        if (c === SEMI) this.expect = Expect.ExtNameStart
        else if (c === SP || c === HTAB)
          this.expect = this.expect === Expect.ExtName ? Expect.ExtAfterName : Expect.ExtSemi
        else if (c === EQUALS && this.expect === Expect.ExtName) this.expect = Expect.ExtValueStart
        else return this.badExt()
        return EXT_REST
      case Expect.ExtAfterName:
        if (c === SEMI) this.expect = Expect.ExtNameStart
        else if (c === EQUALS) this.expect = Expect.ExtValueStart
        else if (c !== SP && c !== HTAB) return this.badExt()
        return EXT_REST
      case Expect.ExtValueStart:
        if (TOKEN[c] === 1) this.expect = Expect.ExtToken
        else if (c === DQUOTE) this.expect = Expect.ExtQuoted
        else if (c !== SP && c !== HTAB) return this.badExt()
        return EXT_REST
      case Expect.ExtQuoted:
        if (c === DQUOTE) this.expect = Expect.SizeLineEnd
        else if (c === BACKSLASH) this.expect = Expect.ExtQuotedPair
        else if (!qdtext(c)) return this.badExt()
        return EXT_REST
      case Expect.ExtQuotedPair:
        if (!quotable(c)) return this.badExt()
        this.expect = Expect.ExtQuoted
        return EXT_REST
      case Expect.SizeLineLF:
        if (c !== LF) return this.fail('bare CR in a chunk line')
        if (this.lineOver(2)) return this.lineTooLong()
        this.sizeLineEnded()
        return c
      case Expect.DataEnd:
        if (c === LF) {
          this.expect = Expect.Size
          this.left = 0
          this.digits = 0
        }
        return c
      case Expect.TrailerLineStart:
        if (this.trailerOver()) return -1
        if (c === CR) this.expect = Expect.TrailerEndLF
        else if (c === LF)
          this.expect = Expect.CopyAll // a bare LF: llhttp fails on it (strict)
        else if (++this.trailerLines > this.limits.maxHeaderCount) {
          return this.fail(`more than ${this.limits.maxHeaderCount} trailer fields`)
        } else this.expect = Expect.TrailerLine
        return c
      case Expect.TrailerLine:
        if (this.trailerOver()) return -1
        if (c === LF) this.expect = Expect.TrailerLineStart
        return c
      default:
        // TrailerEndLF: the LF ending the body (or a bare CR, which llhttp fails on).
        if (this.trailerOver()) return -1
        this.expect = Expect.CopyAll
        return c
    }
  }

  private badExt(): number {
    return this.fail('invalid chunk-ext')
  }

  private sizeLineEnded(): void {
    this.lineExt = 0
    // Size 0 is the last chunk: what follows is the trailer section, never data.
    if (this.left === 0) {
      this.expect = Expect.TrailerLineStart
      this.trailerBytes = 0
      this.trailerLines = 0
    } else {
      this.expect = Expect.Data
    }
  }
}
