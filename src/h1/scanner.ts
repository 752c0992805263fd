// The byte-level scan of a head: start line grammar (status line S1–S4, request line: method,
// request-target, version), CRLF-only line structure and the size limits (H5), resumable across
// chunks. llhttp checks the field grammar itself; this finds the exact end of the head, so llhttp
// is given the head and nothing else. The start line is this scanner's alone to judge.

import type { ParseFailure } from '../errors.js'
import { type CodeTable, Violation } from './codes.js'
import { DIGIT, HEXDIG, REASON, TOKEN } from './grammar.js'
import type { Limits } from './limits.js'
import { isForwardedMethod } from './methods.js'
import { AUTHORITY_CHARS, isAuthority, TARGET_CHARS } from './uri.js'

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
  /** The first byte of the request-target decides its form (RFC 9112 §3.2). */
  TargetStart = 6,
  /** origin-form, and the path and query of absolute-form: a table lookup per byte. */
  Path = 7,
  /** pct-encoded = "%" HEXDIG HEXDIG: the first and the second HEXDIG. */
  PctHigh = 8,
  PctLow = 9,
  /** asterisk-form: "*" and nothing more. */
  Asterisk = 10,
  /** absolute-form: "http://" or "https://" (case-insensitive, RFC 3986 §3.1). */
  Scheme = 11,
  Authority = 12,
  RequestVersion = 13,
  RequestCR = 14,
  StartLineLF = 15,
  // field lines (RFC 9112 §5): name ":" OWS value OWS CRLF, then an empty line
  LineStart = 16,
  Line = 17,
  LineLF = 18,
  EndLF = 19,
  Done = 20,
}

const HTTP_1 = 'HTTP/1.'
const SCHEME = 'https://'
const PERCENT = 0x25
const SLASH = 0x2f
const QUESTION = 0x3f
const STAR = 0x2a

/** Scanner result: more bytes needed. */
export const NEED_MORE = -1
/** Scanner result: failed; see `failure`. */
export const FAILED = -2

/**
 * Byte-level scan of a head, resumable across chunks. It finds the end of the head exactly
 * (so llhttp is given the head and nothing else) and enforces what llhttp does not: the
 * status line / request line grammar (S1–S4; the method, judged whole at its SP; the
 * request-target's grammar, form and length; the version), CRLF-only line structure, and the
 * size and count limits (H5). A head that arrives whole skips the
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
  /** The method, once its SP was scanned (requests). */
  method = ''
  methodEnd = 0
  targetStart = 0
  targetEnd = 0
  /** Offset of the first request-target byte past limits.maxUrlBytes. */
  private targetLimit = 0
  /** An absolute-form target's authority (RFC 9112 §3.2.2), or '' for the other forms. */
  authority = ''
  fieldLines = 0
  /** Offset of the first field line once the start line is complete; 0 before. */
  fieldsStart = 0
  private state: Scan
  /** The method's bytes from earlier chunks, while its SP has not arrived. */
  private methodPrefix = ''
  /** The absolute-form target is https (its scheme has one more letter). */
  private https = false
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
    this.fieldsStart = 0
    this.method = ''
    this.methodPrefix = ''
    this.authority = ''
    this.state = this.response ? Scan.Version : Scan.Method
  }

  /**
   * Scan `buf[start, end)`. Returns the index just after the head's final LF, NEED_MORE when
   * every byte was consumed without reaching it, or FAILED (then `failure` and `failIndex`).
   */
  scan(buf: Buffer, start: number, end: number): number {
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
            // method = token (RFC 9110 §9.1), judged whole once its SP arrives: a token the
            // gateway does not forward is 501 whatever follows (RULES.md; methods.ts). Every byte
            // of this call so far was a method byte: Method is the first state.
            const method = this.methodPrefix + buf.toString('latin1', start, i)
            if (!isForwardedMethod(method)) {
              return this.fail(i, 0, Violation.Method, `method ${JSON.stringify(method)} is not supported`)
            }
            this.method = method
            this.methodEnd = off
            this.targetStart = off + 1
            this.targetLimit = off + 1 + this.limits.maxUrlBytes
            state = Scan.TargetStart
            break
          }
          return this.fail(i, off, Violation.StartLine, off === 0 ? 'request line expected' : 'method is not a token')
        case Scan.Path:
        case Scan.PctHigh:
        case Scan.PctLow:
        case Scan.TargetStart:
        case Scan.Asterisk:
        case Scan.Scheme:
        case Scan.Authority:
          // The hot cases: pchar, "/", "?" and the browsers' raw characters (uri.ts), and
          // pct-encoded, within the length limit; anything else is targetByte's.
          if (off < this.targetLimit) {
            if (state === Scan.Path) {
              if (TARGET_CHARS[c] === 1) break
              if (c === PERCENT) {
                state = Scan.PctHigh
                break
              }
            } else if ((state === Scan.PctHigh || state === Scan.PctLow) && HEXDIG[c] === 1) {
              state = state === Scan.PctHigh ? Scan.PctLow : Scan.Path
              break
            }
          }
          state = this.targetByte(buf, i, off, state)
          if (state === Scan.Done) return FAILED
          break
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
            this.fieldsStart = off + 1
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
    if (state === Scan.Method) this.methodPrefix += buf.toString('latin1', start, end)
    return NEED_MORE
  }

  /**
   * A request-target byte in `state` other than the hot ones (pchar and pct-encoded in a path).
   * Returns the next state, or Scan.Done after recording the failure. The request-target grammar
   * of RFC 9112 §3.2 with RFC 3986 (RULES.md client rules): origin-form = absolute-path [ "?"
   * query ] of pchar, "/", "?" and pct-encoded only (and the browsers' raw characters, uri.ts);
   * absolute-form = "http(s)://" authority, then a path and query as origin-form's; asterisk-form
   * = "*", for OPTIONS only. A byte that no target can go on with is blamed where it is; a wrong
   * form or authority, at the target's first byte.
   */
  private targetByte(buf: Buffer, i: number, off: number, state: Scan): Scan {
    const c = buf[i]
    const at = off - this.targetStart
    if (c === SP) {
      if (state === Scan.Path || state === Scan.Asterisk || state === Scan.Authority)
        return this.endTarget(i, off, state)
      if (at === 0) return this.failed(i, off, Violation.StartLine, 'empty request-target')
      return this.failed(
        i,
        state === Scan.Scheme ? this.targetStart : off,
        Violation.Target,
        'incomplete request-target',
      )
    }
    // The length first, as for any visible byte: longer than maxUrlBytes is 414 (RULES.md).
    if (off >= this.targetLimit && c > SP && c < 0x7f) {
      this.tooLong(i, off)
      return Scan.Done
    }
    switch (state) {
      case Scan.TargetStart:
        if (c === SLASH) return Scan.Path
        if (c === STAR) return Scan.Asterisk
        this.https = false
        if ((c | 0x20) === 0x68) return Scan.Scheme
        return this.failed(
          i,
          off,
          Violation.Target,
          'request-target is not origin-form, absolute-form or asterisk-form',
        )
      case Scan.Path:
        if (c === PERCENT) return Scan.PctHigh
        return this.failed(i, off, Violation.Target, 'invalid byte in the request-target')
      case Scan.PctHigh:
      case Scan.PctLow:
        if (HEXDIG[c] === 1) return state === Scan.PctHigh ? Scan.PctLow : Scan.Path
        return this.failed(i, off, Violation.Target, '"%" not followed by two HEXDIG')
      case Scan.Scheme: {
        // "http" "s"? "://", the letters in any case.
        const lower = c >= 0x41 && c <= 0x5a ? c | 0x20 : c
        if (at === 4 && lower === 0x73) {
          this.https = true
          return Scan.Scheme
        }
        const k = this.https || at < 4 ? at : at + 1
        if (lower === SCHEME.charCodeAt(k)) {
          if (k < SCHEME.length - 1) return Scan.Scheme
          this.authority = ''
          return Scan.Authority
        }
        return this.failed(i, this.targetStart, Violation.Target, 'request-target is not http(s) absolute-form')
      }
      case Scan.Authority:
        if (AUTHORITY_CHARS[c] === 1) {
          this.authority += String.fromCharCode(c)
          return Scan.Authority
        }
        if (c === SLASH || c === QUESTION) {
          return isAuthority(this.authority) ? Scan.Path : this.badAuthority(i)
        }
        return this.badAuthority(i)
      default:
        // Asterisk: "*" is the whole target.
        return this.failed(i, this.targetStart, Violation.Target, 'asterisk-form is "*" alone')
    }
  }

  /** The SP after the request-target (in `state`) at `buf[i]`. */
  private endTarget(i: number, off: number, state: Scan): Scan {
    if (state === Scan.Authority && !isAuthority(this.authority)) return this.badAuthority(i)
    // RFC 9112 §3.2.4: asterisk-form only for OPTIONS.
    if (state === Scan.Asterisk && this.method !== 'OPTIONS') {
      return this.failed(i, this.targetStart, Violation.Target, '"*" target for a method other than OPTIONS')
    }
    this.targetEnd = off
    return Scan.RequestVersion
  }

  /**
   * RFC 9110 §4.2: an http(s) URI's authority is uri-host [ ":" port ], with a host (§4.2.1) and
   * no userinfo (§4.2.4).
   */
  private badAuthority(i: number): Scan {
    return this.failed(i, this.targetStart, Violation.Target, 'absolute-form authority is not uri-host [ ":" port ]')
  }

  private tooLong(i: number, off: number): number {
    const max = this.limits.maxUrlBytes
    return this.fail(i, off, Violation.TargetTooLong, `request-target longer than ${max} bytes`)
  }

  /** `fail`, for the target states: Scan.Done stands for the failure. */
  private failed(i: number, offset: number, violation: Violation, reason: string): Scan {
    this.fail(i, offset, violation, reason)
    return Scan.Done
  }

  /**
   * `scan` for a head that arrived whole: `buf[start, end)`, ending with its CRLF CRLF, whose
   * `fieldLines` field lines llhttp has accepted (see MessageParser.wholeHead). Those lines
   * cannot fail the field-line states, so only the start line is scanned; the size and count
   * limits are checked on the totals. Returns true when `scan` would have accepted the head the
   * same way (the scanner is then at its end); otherwise resets the scanner and returns false,
   * and the caller scans the head with `scan`.
   */
  acceptWhole(buf: Buffer, start: number, end: number, fieldLines: number): boolean {
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

  /** The start line is complete and field lines are being read (also after a failure there). */
  get inFields(): boolean {
    return this.fieldsStart > 0
  }

  /** A request's method is being read: its SP has not arrived (or it failed there). */
  get inMethod(): boolean {
    return !this.response && this.method === ''
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
