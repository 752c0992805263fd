// Whole-head rules of RULES.md, once a head is complete: framing (F1–F5, F8), upgrades (F7) and
// the client rules (Host). Each returns the parsed head or the first failure, with the offset of
// the byte to blame. They run once the field section's grammar is known to be valid (H1–H4 come
// first: RULES.md Decisions), in the order F1, Host, F4, F5, F2, F3, then F7 and F8.

import type { ParseFailure } from '../errors.js'
import { type CodeTable, REQUEST_CODES, RESPONSE_CODES, Violation } from './codes.js'
import { type FieldSummary, listMembers, summarize } from './fields.js'
import { FramingError, messageBodyLength } from './framing.js'
import { equalsLower } from './grammar.js'
import { FieldKind, type Framing, type RequestHead, type ResponseHead } from './head.js'
import type { Limits } from './limits.js'
import type { HeadScanner } from './scanner.js'
import { isHostIn } from './uri.js'

/** What a response is an answer to. */
export interface RequestContext {
  readonly method: string
  /** Protocols the client offered to upgrade to (lowercased); empty when it did not ask. */
  readonly upgrade: readonly string[]
}

const FRAMING_REASONS: { readonly [E in FramingError]: string } = {
  [FramingError.EncodingInHttp10]: 'Transfer-Encoding in an HTTP/1.0 message',
  [FramingError.FieldsWithoutBody]: 'framing fields in a response that has no body',
  [FramingError.LengthAndEncoding]: 'Transfer-Encoding together with Content-Length',
  [FramingError.UnsupportedEncoding]: 'Transfer-Encoding is not exactly one "chunked"',
}

/**
 * The framing of a head (RFC 9112 §6.3 with the F2–F5 checks), or its failure. The offset
 * blamed is the Transfer-Encoding field's (the Content-Length field's for a non-zero length on a
 * bodiless status), or the final CRLF. `status` is 0 for a request.
 */
function framingOf(
  s: FieldSummary,
  method: string,
  status: number,
  minorVersion: 0 | 1,
  raw: Buffer,
  codes: CodeTable,
): Framing | ParseFailure {
  const { transferEncoding, contentLength } = s
  const result = messageBodyLength({
    response: status !== 0,
    method,
    status,
    minorVersion,
    transferEncoding,
    contentLength,
  })
  if (typeof result !== 'number') return result
  const field = result === FramingError.FieldsWithoutBody && transferEncoding === 0 ? s.clOffset : s.teOffset
  return {
    code: codes[result === FramingError.UnsupportedEncoding ? Violation.TransferCoding : Violation.Framing],
    offset: field >= 0 ? field : raw.length - 2,
    reason: FRAMING_REASONS[result],
  }
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
  const codes = RESPONSE_CODES
  const s = summarize(raw, fields, codes)
  if (s.failure !== null) return s.failure
  const status = scan.status
  const minor = scan.minorVersion
  const framing = framingOf(s, request.method, status, minor, raw, codes)
  if ('code' in framing) return framing
  let upgrade: string | null = null
  if (status === 101) {
    // F7: 101 only for an offered upgrade, naming an offered protocol (RFC 9110 §7.8, §15.2.2).
    const named: string[] = []
    for (let f = 0; f < fields.length; f += 4) {
      if (s.kinds[f >> 2] === FieldKind.Upgrade) listMembers(raw, fields[f + 2], fields[f + 3], named)
    }
    if (request.upgrade.length === 0 || minor === 0) {
      return { code: codes[Violation.Upgrade], offset: 9, reason: '101 Switching Protocols without an upgrade request' }
    }
    if (named.length !== 1 || !request.upgrade.includes(named[0]) || !s.connection.includes('upgrade')) {
      return {
        code: codes[Violation.Upgrade],
        offset: 9,
        reason: '101 does not name exactly one protocol the client offered',
      }
    }
    upgrade = named[0]
  } else if (status < 200 && interimSoFar >= limits.maxInterimResponses) {
    // F8: bounded number of interim responses (RFC 9110 §15.2).
    return {
      code: codes[Violation.Framing],
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
    framing,
    connection: s.connection,
    keepAlive: framing.kind !== 'close' && !close && (minor === 1 || s.connection.includes('keep-alive')),
    status,
    reasonStart: scan.reasonStart,
    reasonEnd: scan.reasonEnd,
    interim: status < 200 && status !== 101,
    upgrade,
  }
}

/** Check a complete request head (client rules of RULES.md) and decide its framing. */
export function checkRequestHead(
  raw: Buffer,
  fields: readonly number[],
  scan: HeadScanner,
): RequestHead | ParseFailure {
  const codes = REQUEST_CODES
  const s = summarize(raw, fields, codes)
  if (s.failure !== null) return s.failure
  const minor = scan.minorVersion
  // The start line was judged as it was scanned: method, request-target form and grammar.
  const method = scan.method
  const target = raw.toString('latin1', scan.targetStart, scan.targetEnd)
  let hosts = 0
  let host = ''
  let expectContinue = false
  let acceptsTrailers = false
  let offered: string[] = []
  for (let f = 0; f < fields.length; f += 4) {
    const kind = s.kinds[f >> 2]
    if (kind === FieldKind.Host) {
      hosts++
      if (hosts > 1) return { code: codes[Violation.Field], offset: fields[f], reason: 'more than one Host' }
      // RFC 9110 §7.2: Host = uri-host [ ":" port ] (uri.ts; empty is valid, RFC 9112 §3.2).
      if (!isHostIn(raw, fields[f + 2], fields[f + 3])) {
        return { code: codes[Violation.Field], offset: fields[f + 2], reason: 'Host is not uri-host [ ":" port ]' }
      }
      host = raw.toString('latin1', fields[f + 2], fields[f + 3])
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
  if (hosts === 0 && minor === 1) {
    return { code: codes[Violation.Field], offset: raw.length - 2, reason: 'missing Host' }
  }
  const framing = framingOf(s, method, 0, minor, raw, codes)
  if ('code' in framing) return framing
  const upgrade = s.connection.includes('upgrade') && minor === 1 ? offered : []
  const close = s.connection.includes('close')
  return {
    raw,
    minorVersion: minor,
    fields,
    kinds: s.kinds,
    framing,
    connection: s.connection,
    keepAlive: !close && (minor === 1 || s.connection.includes('keep-alive')),
    method,
    target,
    host: scan.authority !== '' ? scan.authority : host,
    expectContinue,
    upgrade,
    acceptsTrailers,
  }
}
