// The strict validity state machine on top of llhttp: every rule of RULES.md marked "ours".
//
// A message moves through `MessageState`; the head's bytes are scanned here (start line and
// field-line structure, size limits) while llhttp checks field grammar, and once the head is
// complete `checkResponseHead` / `checkRequestHead` decide framing or fail with a code. Every
// state is total: a byte that fits no rule becomes a ParseFailure with its offset.

import type { ErrorCode, ParseFailure } from '../errors.js'
import { type FramingInput, messageBodyLength } from './framing.js'
import { DIGIT, equalsLower, owsEnd, owsStart, REASON, TARGET, TOKEN } from './grammar.js'
import { classifyField, FieldKind, type Framing, NO_BODY, type RequestHead, type ResponseHead } from './head.js'

export const enum MessageState {
  /** Status line or request line. */
  StartLine = 0,
  Fields = 1,
  BodyLength = 2,
  BodyChunked = 3,
  BodyClose = 4,
  Trailers = 5,
  Complete = 6,
  /** After a valid 101 (or an upgrade request): the bytes that follow are a tunnel. */
  Upgraded = 7,
  Failed = 8,
}

export interface Limits {
  /** Largest head (start line, fields, final CRLF) in bytes; also bounds trailer sections. */
  readonly maxHeaderBytes: number
  readonly maxHeaderCount: number
  /** Longest request-target (requests only). */
  readonly maxUrlBytes: number
  /** 1xx responses allowed before the final one (responses only). */
  readonly maxInterimResponses: number
}

export const DEFAULT_LIMITS: Limits = {
  maxHeaderBytes: 16_384,
  maxHeaderCount: 100,
  maxUrlBytes: 8_192,
  maxInterimResponses: 8,
}

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
  private readonly limits: Limits

  constructor(response: boolean, limits: Limits) {
    this.response = response
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
      if (off >= max) return this.fail(i, off, this.tooLarge(), `head exceeds ${max} bytes`)
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
            return this.fail(i, off, 'UPSTREAM_INVALID_STATUS_LINE', 'whitespace or empty line before the status line')
          }
          return this.fail(i, off, 'UPSTREAM_INVALID_VERSION', 'version is not HTTP/1.0 or HTTP/1.1')
        }
        case Scan.AfterVersion:
          if (c === SP) {
            state = Scan.Code
            break
          }
          if (DIGIT[c] === 1 || c === 0x2e) {
            return this.fail(i, off, 'UPSTREAM_INVALID_VERSION', 'version is not HTTP/1.0 or HTTP/1.1')
          }
          return this.fail(i, off, 'UPSTREAM_INVALID_STATUS_LINE', 'expected one SP after the version')
        case Scan.Code:
          if (DIGIT[c] === 1) {
            this.status = this.status * 10 + (c - 0x30)
            if (off === 11) {
              if (this.status < 100 || this.status > 599) {
                return this.fail(i - 2, off - 2, 'UPSTREAM_INVALID_STATUS_CODE', `status ${this.status} is not 100-599`)
              }
              state = Scan.AfterCode
            }
            break
          }
          if (off === 9 && (c === SP || c === HTAB)) {
            return this.fail(i, off, 'UPSTREAM_INVALID_STATUS_LINE', 'more than one SP after the version')
          }
          return this.fail(i, off, 'UPSTREAM_INVALID_STATUS_CODE', 'status code is not 3 digits')
        case Scan.AfterCode:
          if (c === SP) {
            this.reasonStart = off + 1
            state = Scan.Reason
            break
          }
          if (DIGIT[c] === 1) return this.fail(i, off, 'UPSTREAM_INVALID_STATUS_CODE', 'status code is not 3 digits')
          return this.fail(i, off, 'UPSTREAM_INVALID_STATUS_LINE', 'missing SP after the status code')
        case Scan.Reason:
          if (c === CR) {
            this.reasonEnd = off
            state = Scan.StartLineLF
            break
          }
          if (REASON[c] === 1) break
          return this.fail(i, off, 'UPSTREAM_INVALID_STATUS_LINE', 'control character in the reason phrase')
        case Scan.Method:
          if (TOKEN[c] === 1) break
          if (c === SP && off > 0) {
            this.methodEnd = off
            this.targetStart = off + 1
            state = Scan.Target
            break
          }
          return this.fail(
            i,
            off,
            'CLIENT_INVALID_REQUEST',
            off === 0 ? 'request line expected' : 'method is not a token',
          )
        case Scan.Target:
          if (TARGET[c] === 1) {
            if (off - this.targetStart >= this.limits.maxUrlBytes) {
              return this.fail(
                i,
                off,
                'CLIENT_URI_TOO_LONG',
                `request-target longer than ${this.limits.maxUrlBytes} bytes`,
              )
            }
            break
          }
          if (c === SP && off > this.targetStart) {
            this.targetEnd = off
            state = Scan.RequestVersion
            break
          }
          return this.fail(i, off, 'CLIENT_INVALID_REQUEST', 'invalid byte in the request-target')
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
            return this.fail(i, off, 'CLIENT_UNSUPPORTED_VERSION', 'HTTP version not supported')
          }
          return this.fail(i, off, 'CLIENT_INVALID_REQUEST', 'malformed HTTP-version')
        }
        case Scan.RequestCR:
          if (c === CR) {
            state = Scan.StartLineLF
            break
          }
          return this.fail(i, off, 'CLIENT_INVALID_REQUEST', 'expected CRLF after the HTTP-version')
        case Scan.StartLineLF:
          if (c === LF) {
            state = Scan.LineStart
            break
          }
          return this.fail(
            i,
            off,
            this.response ? 'UPSTREAM_INVALID_STATUS_LINE' : 'CLIENT_INVALID_REQUEST',
            'bare CR in the start line',
          )
        case Scan.LineStart:
          if (c === CR) {
            state = Scan.EndLF
            break
          }
          if (c === SP || c === HTAB)
            return this.fail(i, off, this.invalidHeader(), 'obs-fold or whitespace before a field name')
          if (c === LF) return this.fail(i, off, this.invalidHeader(), 'bare LF')
          if (this.fieldLines === this.limits.maxHeaderCount) {
            return this.fail(i, off, this.tooLarge(), `more than ${this.limits.maxHeaderCount} fields`)
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
          if (buf[i] === LF) return this.fail(i, off, this.invalidHeader(), 'bare LF')
          state = Scan.LineLF
          break
        }
        case Scan.LineLF:
          if (c === LF) {
            state = Scan.LineStart
            break
          }
          return this.fail(i, off, this.invalidHeader(), 'bare CR')
        case Scan.EndLF:
          if (c === LF) {
            this.state = Scan.Done
            this.offset = off + 1
            return i + 1
          }
          return this.fail(i, off, this.invalidHeader(), 'bare CR')
        default:
          return this.fail(
            i,
            off,
            this.response ? 'UPSTREAM_INVALID_HEADER' : 'CLIENT_INVALID_HEADER',
            'scan after the head',
          )
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

  private fail(index: number, offset: number, code: ErrorCode, reason: string): number {
    this.failIndex = index
    this.failure = { code, offset, reason }
    return FAILED
  }

  private invalidHeader(): ErrorCode {
    return this.response ? 'UPSTREAM_INVALID_HEADER' : 'CLIENT_INVALID_HEADER'
  }

  private tooLarge(): ErrorCode {
    return this.response ? 'UPSTREAM_HEADERS_TOO_LARGE' : 'CLIENT_HEADERS_TOO_LARGE'
  }
}

/**
 * Index of the first CR or LF in `buf[from, stop)`, or `stop` if there is none. The hottest
 * loop of head parsing, so it is two Buffer#indexOf calls (memchr in C++, a fast API call)
 * rather than a JavaScript loop over the bytes: about 2.5x faster on typical 20-60 byte field
 * lines. Each search may run past `stop` (to the end of `buf`, never past the first CR / LF).
 */
function lineBreak(buf: Uint8Array, from: number, stop: number): number {
  let cr = buf.indexOf(CR, from)
  if (cr < 0 || cr > stop) cr = stop
  const lf = buf.indexOf(LF, from)
  return lf >= 0 && lf < cr ? lf : cr
}

/** Comma-separated list members of `raw[start, end)`, trimmed and lowercased, empty ones dropped. */
export function listMembers(raw: Buffer, start: number, end: number, into: string[]): void {
  let s = start
  for (let i = start; i <= end; i++) {
    if (i === end || raw[i] === 0x2c) {
      const a = owsStart(raw, s, i)
      const b = owsEnd(raw, a, i)
      if (b > a) into.push(lowerToken(raw, a, b))
      s = i + 1
    }
  }
}

/**
 * `raw[a, b)` decoded and lowercased. The options nearly every Connection field holds are
 * returned as constants instead of decoding a new string each time (the same strings: a field
 * value holds no CR, the one byte `equalsLower` would also match to "-").
 */
function lowerToken(raw: Buffer, a: number, b: number): string {
  switch (b - a) {
    case 5:
      if (equalsLower(raw, a, b, 'close')) return 'close'
      break
    case 7:
      if (equalsLower(raw, a, b, 'upgrade')) return 'upgrade'
      break
    case 10:
      if (equalsLower(raw, a, b, 'keep-alive')) return 'keep-alive'
      break
  }
  return raw.toString('latin1', a, b).toLowerCase()
}

/**
 * Content-Length = 1*DIGIT (RFC 9110 §8.6), held to 2^53 - 1. Leading zeros are digits like any
 * other, so the value is bounded, not the number of digits. It stops as soon as the value is
 * too large: every step below 2^53 is exact, and a true value of 2^53 or more rounds to one.
 */
function parseLength(raw: Buffer, start: number, end: number): number {
  if (end === start) return -1
  let n = 0
  for (let i = start; i < end; i++) {
    const c = raw[i]
    if (DIGIT[c] !== 1) return -1
    n = n * 10 + (c - 0x30)
    if (n > Number.MAX_SAFE_INTEGER) return -1
  }
  return n
}

/** What the fields of a head say about framing and the connection. */
interface FieldSummary {
  kinds: FieldKind[]
  contentLength: number
  transferEncoding: 0 | 1 | 2
  connection: string[]
  failure: ParseFailure | null
  /** Offset (in the head) of the first field of each kind the checks may blame. */
  teOffset: number
  clOffset: number
}

function summarize(raw: Buffer, fields: readonly number[], response: boolean): FieldSummary {
  const kinds: FieldKind[] = []
  const s: FieldSummary = {
    kinds,
    contentLength: -1,
    transferEncoding: 0,
    connection: [],
    failure: null,
    teOffset: -1,
    clOffset: -1,
  }
  let teFields = 0
  let clFields = 0
  for (let f = 0; f < fields.length; f += 4) {
    const kind = classifyField(raw, fields[f], fields[f + 1])
    kinds.push(kind)
    if (kind === FieldKind.Other) continue
    const vs = fields[f + 2]
    const ve = fields[f + 3]
    if (kind === FieldKind.ContentLength) {
      clFields++
      if (s.clOffset < 0) s.clOffset = fields[f]
      const n = parseLength(raw, vs, ve)
      if (n < 0 || clFields > 1) {
        s.failure ??= {
          code: response ? 'UPSTREAM_INVALID_CONTENT_LENGTH' : 'CLIENT_INVALID_FRAMING',
          offset: vs,
          reason: clFields > 1 ? 'more than one Content-Length' : 'Content-Length is not 1*DIGIT <= 2^53-1',
        }
      }
      s.contentLength = n
    } else if (kind === FieldKind.TransferEncoding) {
      teFields++
      if (s.teOffset < 0) s.teOffset = fields[f]
      s.transferEncoding = teFields === 1 && equalsLower(raw, vs, ve, 'chunked') ? 1 : 2
    } else if (kind === FieldKind.Connection) {
      listMembers(raw, vs, ve, s.connection)
    }
  }
  return s
}

function framingFailure(
  result: ReturnType<typeof messageBodyLength>,
  response: boolean,
  offset: number,
): ParseFailure | Framing {
  if (result === 'length-and-encoding') {
    return {
      code: response ? 'UPSTREAM_INVALID_FRAMING' : 'CLIENT_INVALID_FRAMING',
      offset,
      reason: 'Transfer-Encoding together with Content-Length',
    }
  }
  if (result === 'unsupported-encoding') {
    return {
      code: response ? 'UPSTREAM_INVALID_FRAMING' : 'CLIENT_UNSUPPORTED_TRANSFER_ENCODING',
      offset,
      reason: 'Transfer-Encoding is not exactly one "chunked"',
    }
  }
  return result
}

/** Offset a framing failure is reported at: the field's, or the final CRLF when it is absent. */
function blame(fieldOffset: number, raw: Buffer): number {
  return fieldOffset >= 0 ? fieldOffset : raw.length - 2
}

/** What the response is an answer to. */
export interface RequestContext {
  readonly method: string
  /** Protocols the client offered to upgrade to (lowercased); empty when it did not ask. */
  readonly upgrade: readonly string[]
}

/**
 * Check a complete response head (F1–F8 beyond llhttp) and decide its framing.
 * `interimSoFar` counts the 1xx responses already received for this request.
 */
export function checkResponseHead(
  raw: Buffer,
  fields: readonly number[],
  scan: HeadScanner,
  request: RequestContext,
  interimSoFar: number,
  limits: Limits,
): ResponseHead | ParseFailure {
  const s = summarize(raw, fields, true)
  if (s.failure !== null) return s.failure
  const status = scan.status
  const minor = scan.minorVersion
  // F4: Transfer-Encoding in an HTTP/1.0 message (RFC 9112 §6.1).
  if (s.transferEncoding !== 0 && minor === 0) {
    return {
      code: 'UPSTREAM_INVALID_FRAMING',
      offset: blame(s.teOffset, raw),
      reason: 'Transfer-Encoding in an HTTP/1.0 response',
    }
  }
  // F5: 1xx and 204 carry no Transfer-Encoding and no non-zero Content-Length (RFC 9110 §8.6, RFC 9112 §6.1).
  if ((status < 200 || status === 204) && (s.transferEncoding !== 0 || s.contentLength > 0)) {
    return {
      code: 'UPSTREAM_INVALID_FRAMING',
      offset: blame(s.transferEncoding !== 0 ? s.teOffset : s.clOffset, raw),
      reason: `framing fields in a ${status} response`,
    }
  }
  const framed = framingFailure(
    messageBodyLength({
      response: true,
      method: request.method,
      status,
      transferEncoding: s.transferEncoding,
      contentLength: s.contentLength,
    } satisfies FramingInput),
    true,
    blame(s.teOffset, raw),
  )
  if ('code' in framed) return framed
  // F2/F3 also apply where the body is never read (HEAD, 304): the framing is still invalid.
  if (s.transferEncoding !== 0 && s.contentLength >= 0) {
    return {
      code: 'UPSTREAM_INVALID_FRAMING',
      offset: blame(s.teOffset, raw),
      reason: 'Transfer-Encoding together with Content-Length',
    }
  }
  if (s.transferEncoding === 2) {
    return {
      code: 'UPSTREAM_INVALID_FRAMING',
      offset: blame(s.teOffset, raw),
      reason: 'Transfer-Encoding is not exactly one "chunked"',
    }
  }
  let upgrade: string | null = null
  if (status === 101) {
    // F7: 101 only for an offered upgrade, naming an offered protocol (RFC 9110 §7.8, §15.2.2).
    const named: string[] = []
    for (let f = 0; f < fields.length; f += 4) {
      if (s.kinds[f >> 2] === FieldKind.Upgrade) listMembers(raw, fields[f + 2], fields[f + 3], named)
    }
    if (request.upgrade.length === 0 || minor === 0) {
      return {
        code: 'UPSTREAM_INVALID_UPGRADE',
        offset: 9,
        reason: '101 Switching Protocols without an upgrade request',
      }
    }
    if (named.length !== 1 || !request.upgrade.includes(named[0]) || !s.connection.includes('upgrade')) {
      return {
        code: 'UPSTREAM_INVALID_UPGRADE',
        offset: 9,
        reason: '101 does not name exactly one protocol the client offered',
      }
    }
    upgrade = named[0]
  } else if (status < 200 && interimSoFar >= limits.maxInterimResponses) {
    // F8: bounded number of interim responses (RFC 9110 §15.2).
    return {
      code: 'UPSTREAM_INVALID_FRAMING',
      offset: 9,
      reason: `more than ${limits.maxInterimResponses} interim responses`,
    }
  }
  const close = s.connection.includes('close')
  return {
    raw,
    minorVersion: minor,
    fields,
    kinds: s.kinds,
    framing: framed,
    connection: s.connection,
    keepAlive: framed.kind !== 'close' && !close && (minor === 1 || s.connection.includes('keep-alive')),
    status,
    reasonStart: scan.reasonStart,
    reasonEnd: scan.reasonEnd,
    interim: status < 200 && status !== 101,
    upgrade,
  }
}

/** uri-host [ ":" port ] characters (RFC 3986 reg-name, IP-literal, IPv4, port). */
const HOST_CHARS = (() => {
  const t = new Uint8Array(256)
  for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=%:[]") {
    t[ch.charCodeAt(0)] = 1
  }
  return t
})()

function validHost(raw: Buffer, start: number, end: number): boolean {
  if (end === start) return false
  for (let i = start; i < end; i++) if (HOST_CHARS[raw[i]] !== 1) return false
  return true
}

/** Check a complete request head (client rules of RULES.md) and decide its framing. */
export function checkRequestHead(
  raw: Buffer,
  fields: readonly number[],
  scan: HeadScanner,
): RequestHead | ParseFailure {
  const s = summarize(raw, fields, false)
  if (s.failure !== null) return s.failure
  const minor = scan.minorVersion
  const method = raw.toString('latin1', 0, scan.methodEnd)
  const target = raw.toString('latin1', scan.targetStart, scan.targetEnd)
  const targetAt = scan.targetStart
  if (method === 'CONNECT') {
    return { code: 'CLIENT_UNSUPPORTED_METHOD', offset: 0, reason: 'CONNECT is not supported' }
  }
  // Request-target forms (RFC 9112 §3.2): origin-form, absolute-form, asterisk-form for OPTIONS.
  let authority = ''
  if (target.charCodeAt(0) !== 0x2f) {
    if (target === '*') {
      if (method !== 'OPTIONS')
        return {
          code: 'CLIENT_INVALID_REQUEST',
          offset: targetAt,
          reason: '"*" target for a method other than OPTIONS',
        }
    } else {
      const m = /^https?:\/\/([^/?#@]+)([/?].*)?$/i.exec(target)
      if (m === null)
        return {
          code: 'CLIENT_INVALID_REQUEST',
          offset: targetAt,
          reason: 'request-target is not origin-form or absolute-form',
        }
      authority = m[1]
    }
  }
  let hosts = 0
  let hostStart = 0
  let hostEnd = 0
  let expectContinue = false
  let acceptsTrailers = false
  let offered: string[] = []
  for (let f = 0; f < fields.length; f += 4) {
    const kind = s.kinds[f >> 2]
    if (kind === FieldKind.Host) {
      hosts++
      hostStart = fields[f + 2]
      hostEnd = fields[f + 3]
      if (hosts > 1) return { code: 'CLIENT_INVALID_HEADER', offset: fields[f], reason: 'more than one Host' }
      if (!validHost(raw, hostStart, hostEnd))
        return { code: 'CLIENT_INVALID_HEADER', offset: hostStart, reason: 'invalid Host' }
    } else if (kind === FieldKind.Expect) {
      expectContinue = equalsLower(raw, fields[f + 2], fields[f + 3], '100-continue')
    } else if (kind === FieldKind.TE) {
      const te: string[] = []
      listMembers(raw, fields[f + 2], fields[f + 3], te)
      acceptsTrailers = te.includes('trailers')
    } else if (kind === FieldKind.Upgrade) {
      offered = []
      listMembers(raw, fields[f + 2], fields[f + 3], offered)
    }
  }
  if (hosts === 0 && minor === 1)
    return { code: 'CLIENT_INVALID_HEADER', offset: raw.length - 2, reason: 'missing Host' }
  // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing.
  if (s.transferEncoding !== 0 && minor === 0) {
    return { code: 'CLIENT_INVALID_FRAMING', offset: s.teOffset, reason: 'Transfer-Encoding in an HTTP/1.0 request' }
  }
  const framed = framingFailure(
    messageBodyLength({
      response: false,
      method,
      status: 0,
      transferEncoding: s.transferEncoding,
      contentLength: s.contentLength,
    }),
    false,
    s.teOffset,
  )
  if ('code' in framed) return framed
  const upgrade = s.connection.includes('upgrade') && minor === 1 ? offered : []
  const close = s.connection.includes('close')
  return {
    raw,
    minorVersion: minor,
    fields,
    kinds: s.kinds,
    framing: framed,
    connection: s.connection,
    keepAlive: !close && (minor === 1 || s.connection.includes('keep-alive')),
    method,
    target,
    host: authority !== '' ? authority : raw.toString('latin1', hostStart, hostEnd),
    expectContinue,
    upgrade,
    acceptsTrailers,
  }
}

/**
 * Fields that must not appear in a trailer section (RFC 9110 §6.5.1): framing, routing,
 * request modifiers, authentication, response control data and content metadata.
 */
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

/** B2: a trailer field name (already lowercased) that may not be sent in a trailer section. */
export function isForbiddenTrailer(lowerName: string): boolean {
  return FORBIDDEN_TRAILERS.has(lowerName)
}

export { NO_BODY }
