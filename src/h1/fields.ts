// Field helpers: list members, Content-Length, and one pass over a head's fields that collects
// what the framing and connection decisions need (RFC 9110 §5, §8.6). (Host: uri.ts.)

import type { ParseFailure } from '../errors.js'
import { type CodeTable, Violation } from './codes.js'
import { DIGIT, equalsLower, owsEnd, owsStart } from './grammar.js'
import { classifyField, FieldKind } from './head.js'

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
 * Content-Length = 1*DIGIT (RFC 9110 §8.6), held to 2^53 - 1; -1 when invalid. Leading zeros are
 * digits like any other, so the value is bounded, not the number of digits. It stops as soon as
 * the value is too large: every step below 2^53 is exact, and a true value of 2^53 or more rounds
 * to one.
 */
export function parseLength(raw: Buffer, start: number, end: number): number {
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
export interface FieldSummary {
  kinds: FieldKind[]
  /** The Content-Length value; -1 when absent. */
  contentLength: number
  /** 0: no Transfer-Encoding; 1: exactly one field `chunked`; 2: anything else. */
  transferEncoding: 0 | 1 | 2
  connection: string[]
  /** A Content-Length that is invalid or repeated (F1). */
  failure: ParseFailure | null
  /** Offset (in the head) of the first field of each kind the checks may blame; -1 if absent. */
  teOffset: number
  clOffset: number
}

/** One pass over the fields of a head (field offsets as in `Head.fields`). */
export function summarize(raw: Buffer, fields: readonly number[], codes: CodeTable): FieldSummary {
  // Sized once: grown by push, the array was reallocated as it filled (per head).
  const kinds: FieldKind[] = new Array(fields.length >> 2)
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
    kinds[f >> 2] = kind
    if (kind === FieldKind.Other) continue
    const vs = fields[f + 2]
    const ve = fields[f + 3]
    if (kind === FieldKind.ContentLength) {
      clFields++
      if (s.clOffset < 0) s.clOffset = fields[f]
      const n = parseLength(raw, vs, ve)
      if (n < 0 || clFields > 1) {
        s.failure ??= {
          code: codes[Violation.ContentLength],
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
