// The byte-level scan of a head: start line grammar (status line S1–S4, request line and
// request-target), CRLF-only line structure and the size limits (H5), resumable across chunks.
// llhttp checks the field grammar itself; this finds the exact end of the head, so llhttp is
// given the head and nothing else.

import type { ParseFailure } from '../errors.js'
import { type CodeTable, Violation } from './codes.js'
import { DIGIT, REASON, TARGET, TOKEN } from './grammar.js'
import type { Limits } from './limits.js'

const CR = 0x0d
const LF = 0x0a
const SP = 0x20
const HTAB = 0x09

const enum Scan {
  // status line: HTTP-version SP 3DIGIT SP reason-phrase CRLF (RFC 9112 §4)
  Version = 0,
  AfterVersion = 1,
  Code = 2,
  AfterCode = 3,
  Reason = 4,
  // request line: method SP request-target SP HTTP-version CRLF (RFC 9112 §3)
  Method = 5,
  Target = 6,
  RequestVersion = 7,
  RequestCR = 8,
  StartLineLF = 9,
  // field lines (RFC 9112 §5): name ":" OWS value OWS CRLF, then an empty line
  LineStart = 10,
  Line = 11,
  LineLF = 12,
  EndLF = 13,
  Done = 14,
}

const HTTP_1 = 'HTTP/1.'

/** Scanner result: more bytes needed. */
export const NEED_MORE = -1
/** Scanner result: failed; see `failure`. */
export const FAILED = -2

/**
 * Byte-level scan of a head, resumable across chunks. It finds the end of the head exactly
 * (so llhttp is given the head and nothing else) and enforces what llhttp does not: the
 * status line / request line grammar (S1–S4, version, target form and length), CRLF-only
 * line structure, and the size and count limits (H5). A head that arrives whole skips the
 * field-line scan when llhttp accepts its field lines (`acceptWhole`).
 */
export class HeadScanner {
  failure: ParseFailure | null = null
  /** Bytes of this head seen so far; the offset of the next byte. */
  offset = 0
  minorVersion: 0 | 1 = 1
  status = 0
  reasonStart = 0
  reasonEnd = 0
  methodEnd = 0
  targetStart = 0
  targetEnd = 0
  fieldLines = 0
  private state: Scan
  private readonly response: boolean
  private readonly codes: CodeTable
  private readonly limits: Limits

  constructor(response: boolean, codes: CodeTable, limits: Limits) {
    this.response = response
    this.codes = codes
    this.limits = limits
    this.state = response ? Scan.Version : Scan.Method
  }

  reset(): void {
    this.failure = null
    this.offset = 0
    this.status = 0
    this.fieldLines = 0
    this.state = this.response ? Scan.Version : Scan.Method
  }

  /**
   * Scan `buf[start, end)`. Returns the index just after the head's final LF, NEED_MORE when
   * every byte was consumed without reaching it, or FAILED (then `failure` and `failIndex`).
   */
  scan(buf: Uint8Array, start: number, end: number): number {
    const max = this.limits.maxHeaderBytes
    let i = start
    let off = this.offset
    let state = this.state
    for (; i < end; i++, off++) {
      const c = buf[i]
      if (off >= max) return this.fail(i, off, Violation.HeadTooLarge, `head exceeds ${max} bytes`)
      switch (state) {
        case Scan.Version: {
          const expected = off < 7 ? HTTP_1.charCodeAt(off) : -1
          if (c === expected || (off === 7 && (c === 0x30 || c === 0x31))) {
            if (off === 7) {
              this.minorVersion = c === 0x31 ? 1 : 0
              state = Scan.AfterVersion
            }
            break
          }
          if (off === 0 && (c === CR || c === LF || c === SP || c === HTAB)) {
            return this.fail(i, off, Violation.StartLine, 'whitespace or empty line before the status line')
          }
          return this.fail(i, off, Violation.Version, 'version is not HTTP/1.0 or HTTP/1.1')
        }
        case Scan.AfterVersion:
          if (c === SP) {
            state = Scan.Code
            break
          }
          if (DIGIT[c] === 1 || c === 0x2e) {
            return this.fail(i, off, Violation.Version, 'version is not HTTP/1.0 or HTTP/1.1')
          }
          return this.fail(i, off, Violation.StartLine, 'expected one SP after the version')
        case Scan.Code:
          if (DIGIT[c] === 1) {
            this.status = this.status * 10 + (c - 0x30)
            if (off === 11) {
              if (this.status < 100 || this.status > 599) {
                return this.fail(i - 2, off - 2, Violation.StatusCode, `status ${this.status} is not 100-599`)
              }
              state = Scan.AfterCode
            }
            break
          }
          if (off === 9 && (c === SP || c === HTAB)) {
            return this.fail(i, off, Violation.StartLine, 'more than one SP after the version')
          }
          return this.fail(i, off, Violation.StatusCode, 'status code is not 3 digits')
        case Scan.AfterCode:
          if (c === SP) {
            this.reasonStart = off + 1
            state = Scan.Reason
            break
          }
          if (DIGIT[c] === 1) return this.fail(i, off, Violation.StatusCode, 'status code is not 3 digits')
          return this.fail(i, off, Violation.StartLine, 'missing SP after the status code')
        case Scan.Reason:
          if (c === CR) {
            this.reasonEnd = off
            state = Scan.StartLineLF
            break
          }
          if (REASON[c] === 1) break
          return this.fail(i, off, Violation.StartLine, 'control character in the reason phrase')
        case Scan.Method:
          if (TOKEN[c] === 1) break
          if (c === SP && off > 0) {
            this.methodEnd = off
            this.targetStart = off + 1
            state = Scan.Target
            break
          }
          return this.fail(i, off, Violation.StartLine, off === 0 ? 'request line expected' : 'method is not a token')
        case Scan.Target:
          if (TARGET[c] === 1) {
            if (off - this.targetStart >= this.limits.maxUrlBytes) {
              const max = this.limits.maxUrlBytes
              return this.fail(i, off, Violation.TargetTooLong, `request-target longer than ${max} bytes`)
            }
            break
          }
          if (c === SP && off > this.targetStart) {
            this.targetEnd = off
            state = Scan.RequestVersion
            break
          }
          return this.fail(i, off, Violation.Target, 'invalid byte in the request-target')
        case Scan.RequestVersion: {
          const pos = off - this.targetEnd - 1
          const expected = pos < 7 ? HTTP_1.charCodeAt(pos) : -1
          if (c === expected || (pos === 7 && (c === 0x30 || c === 0x31))) {
            if (pos === 7) {
              this.minorVersion = c === 0x31 ? 1 : 0
              state = Scan.RequestCR
            }
            break
          }
          // "HTTP/" DIGIT "." DIGIT that is not 1.0 or 1.1 is a version we do not speak (505).
          if ((pos === 5 || pos === 7) && DIGIT[c] === 1) {
            return this.fail(i, off, Violation.Version, 'HTTP version not supported')
          }
          return this.fail(i, off, Violation.StartLine, 'malformed HTTP-version')
        }
        case Scan.RequestCR:
          if (c === CR) {
            state = Scan.StartLineLF
            break
          }
          return this.fail(i, off, Violation.StartLine, 'expected CRLF after the HTTP-version')
        case Scan.StartLineLF:
          if (c === LF) {
            state = Scan.LineStart
            break
          }
          return this.fail(i, off, Violation.StartLine, 'bare CR in the start line')
        case Scan.LineStart:
          if (c === CR) {
            state = Scan.EndLF
            break
          }
          if (c === SP || c === HTAB)
            return this.fail(i, off, Violation.Field, 'obs-fold or whitespace before a field name')
          if (c === LF) return this.fail(i, off, Violation.Field, 'bare LF')
          if (this.fieldLines === this.limits.maxHeaderCount) {
            return this.fail(i, off, Violation.HeadTooLarge, `more than ${this.limits.maxHeaderCount} fields`)
          }
          this.fieldLines++
          state = Scan.Line
          break
        case Scan.Line: {
          // The rest of the line up to CR; llhttp checks the field grammar itself.
          const stop = Math.min(end, i + (max - off))
          const j = lineBreak(buf, i, stop)
          off += j - i
          i = j
          if (i === stop) {
            // Ran out of input or of the size limit; the loop header handles both.
            i--
            off--
            break
          }
          if (buf[i] === LF) return this.fail(i, off, Violation.Field, 'bare LF')
          state = Scan.LineLF
          break
        }
        case Scan.LineLF:
          if (c === LF) {
            state = Scan.LineStart
            break
          }
          return this.fail(i, off, Violation.Field, 'bare CR')
        case Scan.EndLF:
          if (c === LF) {
            this.state = Scan.Done
            this.offset = off + 1
            return i + 1
          }
          return this.fail(i, off, Violation.Field, 'bare CR')
        default:
          return this.fail(i, off, Violation.Internal, 'scan after the head')
      }
    }
    this.offset = off
    this.state = state
    return NEED_MORE
  }

  /**
   * `scan` for a head that arrived whole: `buf[start, end)`, ending with its CRLF CRLF, whose
   * `fieldLines` field lines llhttp has accepted (see MessageParser.wholeHead). Those lines
   * cannot fail the field-line states, so only the start line is scanned; the size and count
   * limits are checked on the totals. Returns true when `scan` would have accepted the head the
   * same way (the scanner is then at its end); otherwise resets the scanner and returns false,
   * and the caller scans the head with `scan`.
   */
  acceptWhole(buf: Uint8Array, start: number, end: number, fieldLines: number): boolean {
    if (
      this.offset === 0 &&
      end - start <= this.limits.maxHeaderBytes &&
      fieldLines <= this.limits.maxHeaderCount &&
      this.scan(buf, start, buf.indexOf(LF, start) + 1) === NEED_MORE &&
      this.state === Scan.LineStart
    ) {
      this.fieldLines = fieldLines
      this.offset = end - start
      this.state = Scan.Done
      return true
    }
    this.reset()
    return false
  }

  /** Index in the last scanned buffer of the failing byte. */
  failIndex = 0

  /** The start line is complete and field lines are being read. */
  get inFields(): boolean {
    return this.state >= Scan.LineStart
  }

  private fail(index: number, offset: number, violation: Violation, reason: string): number {
    this.failIndex = index
    this.failure = { code: this.codes[violation], offset, reason }
    return FAILED
  }
}

/**
 * Index of the first CR or LF in `buf[from, stop)`, or `stop` if there is none. The hottest
 * loop of head parsing, so it is two Buffer#indexOf calls (memchr in C++, a fast API call)
 * rather than a JavaScript loop over the bytes, which is slower on field lines of typical
 * length. Each search may run past `stop` (to the end of `buf`, never past the first CR / LF).
 */
function lineBreak(buf: Uint8Array, from: number, stop: number): number {
  let cr = buf.indexOf(CR, from)
  if (cr < 0 || cr > stop) cr = stop
  const lf = buf.indexOf(LF, from)
  return lf >= 0 && lf < cr ? lf : cr
}
