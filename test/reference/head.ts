// Start lines and field sections, read byte by byte in message order, so that the first byte a
// message cannot go on with decides which rule it breaks (RFC 9112 §2.1: a message is read as
// a sequence of octets; RULES.md gives each rule its code). Each function is one grammar rule
// and carries its ABNF.

import { CR, isDigit, isFieldValueByte, isReasonByte, isTchar, isVchar, isWhitespace, LF } from './abnf.js'
import { EndOfInput, Reject, type RuleId } from './rules.js'

/** A cursor over the input. Reading past the end throws EndOfInput; past a limit, its Reject. */
export class Reader {
  pos: number
  private limitAt = Number.POSITIVE_INFINITY
  private limitRule: RuleId = 'H5'
  private limitWhy = ''

  constructor(
    readonly s: string,
    pos: number,
  ) {
    this.pos = pos
  }

  /**
   * The byte at `pos`, not consumed. A limit is broken by a byte that is there, so the end of
   * the input is checked first.
   */
  peek(): number {
    if (this.pos >= this.s.length) throw new EndOfInput(this.pos)
    if (this.pos >= this.limitAt) throw new Reject(this.limitRule, this.limitWhy, this.pos)
    return this.s.charCodeAt(this.pos)
  }

  next(): number {
    const c = this.peek()
    this.pos++
    return c
  }

  /** Bytes from `pos` on up to `at` (exclusive) may be read; the byte at `at` breaks `rule`. */
  limit(at: number, rule: RuleId, why: string): void {
    this.limitAt = at
    this.limitRule = rule
    this.limitWhy = why
  }

  noLimit(): void {
    this.limitAt = Number.POSITIVE_INFINITY
  }

  get remaining(): number {
    return this.s.length - this.pos
  }
}

const text = (r: Reader, from: number) => r.s.slice(from, r.pos)

/** CRLF after a line whose own grammar is done: a bare CR or a missing CR breaks `rule`. */
function crlf(r: Reader, rule: RuleId): void {
  const at = r.pos
  if (r.next() !== CR) throw new Reject(rule, 'expected CRLF', at)
  if (r.next() !== LF) throw new Reject(rule, 'bare CR', at + 1)
}

// ---- requests ---------------------------------------------------------------------------------

export interface RequestLine {
  readonly method: string
  readonly target: string
  readonly targetAt: number
  readonly minor: 0 | 1
}

/**
 * request-line = method SP request-target SP HTTP-version CRLF   (RFC 9112 §3)
 *
 * No empty line may precede it (RFC 9112 §2.2 only allows a server to skip one; strictgate
 * does not). The request-target's own grammar is `targetGrammar`'s, checked once its bytes are
 * known (it decides between the forms); its length is checked byte by byte.
 */
export function requestLine(r: Reader, maxUrlBytes: number, knownMethod: (m: string) => boolean): RequestLine {
  const method = methodToken(r)
  if (!knownMethod(method)) {
    // RULES.md: a method that is a valid token but unknown (or CONNECT) → 501, decided once the
    // token is complete, whatever follows it.
    throw new Reject('method', `method ${JSON.stringify(method)} is not supported`, r.pos - 1 - method.length)
  }
  const targetAt = r.pos
  const target = requestTargetBytes(r, maxUrlBytes)
  const minor = httpVersion(r, 'request')
  crlf(r, 'request-line')
  return { method, target, targetAt, minor }
}

/**
 * method = token   (RFC 9110 §9.1), then the SP of the request-line. A method that is not a
 * token, or not followed by exactly one SP, is no request-line at all (400).
 */
function methodToken(r: Reader): string {
  const from = r.pos
  while (isTchar(r.peek())) r.pos++
  const method = text(r, from)
  const at = r.pos
  const c = r.next()
  if (method === '') throw new Reject('request-line', 'request-line expected (a method token)', at)
  if (c !== 0x20) throw new Reject('request-line', 'method is not a token followed by SP', at)
  return method
}

/**
 * The bytes of request-target up to its SP. A request-target is made of VCHAR only in every
 * form (RFC 9112 §3.2, RFC 3986 §2): any other byte (CTL, SP twice, obs-text) ends the
 * request-line grammar there. Longer than `maxUrlBytes` → 414 at the first byte past it.
 */
function requestTargetBytes(r: Reader, maxUrlBytes: number): string {
  const from = r.pos
  for (;;) {
    const at = r.pos
    const c = r.next()
    if (isVchar(c)) {
      if (at - from >= maxUrlBytes) {
        throw new Reject('target length', `request-target longer than ${maxUrlBytes} bytes`, at)
      }
      continue
    }
    if (c === 0x20 && at > from) return r.s.slice(from, at)
    throw new Reject(c === 0x20 ? 'request-line' : 'target', 'byte not allowed in a request-target', at)
  }
}

/**
 * HTTP-version = HTTP-name "/" DIGIT "." DIGIT ; HTTP-name = %s"HTTP"   (RFC 9112 §2.3)
 *
 * Requests: a version that is (a prefix of) this grammar but not 1.0 or 1.1 is one strictgate
 * does not speak (505), decided at its first digit that differs; anything else is a broken
 * request-line (400). Responses: S1 "version is exactly HTTP/1.0 or HTTP/1.1": any other byte
 * in its place breaks S1 (but whitespace or an empty line in front of it is S2), and so does a
 * digit or "." right after it (a longer version).
 */
export function httpVersion(r: Reader, side: 'request' | 'response'): 0 | 1 {
  const prefix = 'HTTP/'
  const from = r.pos
  for (let k = 0; k < prefix.length; k++) {
    const at = r.pos
    const c = r.next()
    if (c === prefix.charCodeAt(k)) continue
    if (side === 'request') throw new Reject('request-line', 'malformed HTTP-version', at)
    if (at === from && (c === CR || c === LF || isWhitespace(c))) {
      throw new Reject('S2', 'whitespace or an empty line before the status line', at)
    }
    throw new Reject('S1', 'version is not HTTP/1.0 or HTTP/1.1', at)
  }
  const majorAt = r.pos
  const major = r.next()
  if (major !== 0x31) {
    if (side === 'response') throw new Reject('S1', 'version is not HTTP/1.0 or HTTP/1.1', majorAt)
    throw new Reject(isDigit(major) ? 'version' : 'request-line', 'HTTP major version', majorAt)
  }
  const dotAt = r.pos
  if (r.next() !== 0x2e) throw new Reject(side === 'response' ? 'S1' : 'request-line', 'expected "."', dotAt)
  const minorAt = r.pos
  const minor = r.next()
  if (minor !== 0x30 && minor !== 0x31) {
    if (side === 'response') throw new Reject('S1', 'version is not HTTP/1.0 or HTTP/1.1', minorAt)
    throw new Reject(isDigit(minor) ? 'version' : 'request-line', 'HTTP minor version', minorAt)
  }
  if (side === 'response') {
    const c = r.peek()
    if (isDigit(c) || c === 0x2e) throw new Reject('S1', 'version is longer than HTTP/1.x', r.pos)
  }
  return minor === 0x31 ? 1 : 0
}

// ---- responses --------------------------------------------------------------------------------

export interface StatusLine {
  readonly minor: 0 | 1
  readonly status: number
  readonly reason: string
}

/**
 * status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF   (RFC 9112 §4)
 * status-code = 3DIGIT, held to 100–599 (RFC 9110 §15, RULES.md S3)
 * reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
 */
export function statusLine(r: Reader): StatusLine {
  const minor = httpVersion(r, 'response')
  const spAt = r.pos
  if (r.next() !== 0x20) throw new Reject('S2', 'expected one SP after the version', spAt)
  let status = 0
  for (let k = 0; k < 3; k++) {
    const at = r.pos
    const c = r.next()
    if (isDigit(c)) {
      status = status * 10 + (c - 0x30)
      continue
    }
    if (k === 0 && isWhitespace(c)) throw new Reject('S2', 'more than one SP after the version', at)
    throw new Reject('S3', 'status code is not 3 digits', at)
  }
  if (status < 100 || status > 599) throw new Reject('S3', `status ${status} is not 100-599`, r.pos - 3)
  const afterAt = r.pos
  const after = r.next()
  if (after !== 0x20) {
    throw new Reject(isDigit(after) ? 'S3' : 'S2', 'expected SP after the status code', afterAt)
  }
  const from = r.pos
  for (;;) {
    const at = r.pos
    const c = r.peek()
    if (c === CR) break
    if (!isReasonByte(c)) throw new Reject(c === LF ? 'S2' : 'S4', 'byte not allowed in the reason phrase', at)
    r.pos++
  }
  const reason = text(r, from)
  crlf(r, 'S2')
  return { minor, status, reason }
}

// ---- field sections ---------------------------------------------------------------------------

export interface Field {
  readonly name: string
  /** The field-value: OWS around it is not part of it (RFC 9110 §5.5). */
  readonly value: string
  /** Where its field line starts (in the whole input). */
  readonly at: number
}

/** Which rule a field-section failure breaks: the head's H1–H5, or B2 for a trailer section. */
export type SectionRule = (row: 'H1' | 'H2' | 'H3' | 'H4' | 'H5') => RuleId

/**
 * field-section = *( field-line CRLF ) CRLF   (RFC 9112 §2.1, §5)
 *
 * A line starting with SP or HTAB is obs-fold (RFC 9112 §5.2), or whitespace before the first
 * field name (§2.2): both rejected. More than `maxCount` field lines breaks H5 at the first byte
 * of the one too many.
 */
export function fieldSection(r: Reader, maxCount: number, rule: SectionRule): Field[] {
  const fields: Field[] = []
  for (;;) {
    const at = r.pos
    const c = r.peek()
    if (c === CR) {
      r.pos++
      if (r.next() !== LF) throw new Reject(rule('H4'), 'bare CR', at + 1)
      return fields
    }
    if (isWhitespace(c)) throw new Reject(rule('H3'), 'obs-fold or whitespace before a field name', at)
    if (c === LF) throw new Reject(rule('H4'), 'bare LF', at)
    if (fields.length === maxCount) throw new Reject(rule('H5'), `more than ${maxCount} field lines`, at)
    fields.push(fieldLine(r, rule))
  }
}

/**
 * field-line = field-name ":" OWS field-value OWS   (RFC 9112 §5), then CRLF
 * field-name = token                               (RFC 9110 §5.1)
 * field-value = *field-content ; field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
 */
function fieldLine(r: Reader, rule: SectionRule): Field {
  const at = r.pos
  while (isTchar(r.peek())) r.pos++
  const name = text(r, at)
  const colonAt = r.pos
  const colon = r.next()
  if (name === '' || colon !== 0x3a) {
    throw new Reject(rule(colon === LF ? 'H4' : 'H1'), 'field name is not a token followed by ":"', colonAt)
  }
  const from = r.pos
  for (;;) {
    const c = r.peek()
    if (c === CR || c === LF) break
    if (!isFieldValueByte(c)) throw new Reject(rule('H2'), 'byte not allowed in a field value', r.pos)
    r.pos++
  }
  const value = text(r, from).replace(/^[ \t]+|[ \t]+$/g, '')
  const endAt = r.pos
  if (r.next() === LF) throw new Reject(rule('H4'), 'bare LF', endAt)
  if (r.next() !== LF) throw new Reject(rule('H4'), 'bare CR', endAt + 1)
  return { name, value, at }
}
