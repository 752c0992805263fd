// Byte-level mutations of generated messages (issue 14): one byte inserted, deleted or replaced
// anywhere; and each of CR, LF, SP, HTAB, NUL, ";", DQUOTE and "#" inserted at every position
// of a start line, a field line and a chunk line.

import fc from 'fast-check'
import { type Generated, type PartKind, partOffsets } from './generate.js'

export type Edit =
  | { readonly op: 'insert'; readonly at: number; readonly byte: number }
  | { readonly op: 'delete'; readonly at: number }
  | { readonly op: 'replace'; readonly at: number; readonly byte: number }

/** One random edit; `at` is taken modulo the message length (+ 1 for an insertion). */
export const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
)

export function applyEdit(raw: string, e: Edit): string {
  if (e.op === 'insert') {
    const at = e.at % (raw.length + 1)
    return raw.slice(0, at) + String.fromCharCode(e.byte) + raw.slice(at)
  }
  if (raw.length === 0) return raw
  const at = e.at % raw.length
  if (e.op === 'delete') return raw.slice(0, at) + raw.slice(at + 1)
  return raw.slice(0, at) + String.fromCharCode(e.byte) + raw.slice(at + 1)
}

export function describeEdit(raw: string, e: Edit): string {
  if (e.op === 'insert') return `insert 0x${e.byte.toString(16)} at ${e.at % (raw.length + 1)}`
  const at = e.at % Math.max(1, raw.length)
  return e.op === 'delete' ? `delete byte ${at}` : `replace byte ${at} with 0x${e.byte.toString(16)}`
}

/** The bytes issue 14 names for insertion at every position. */
export const SPECIAL_BYTES = ['\r', '\n', ' ', '\t', '\x00', ';', '"', '#'] as const

export interface Insertion {
  readonly raw: string
  readonly what: string
}

/**
 * Every message with one of SPECIAL_BYTES inserted at one position of the `pick`-th line of
 * kind `kind` (positions 0 through the line's length: before each byte of it, CRLF included,
 * and after it). Empty when the message has no such line.
 */
export function insertionsInLine(g: Generated, kind: PartKind, pick: number): Insertion[] {
  const offsets = partOffsets(g)
  const lines = g.parts.map((p, i) => ({ p, at: offsets[i] })).filter((x) => x.p.kind === kind)
  if (lines.length === 0) return []
  const { p, at } = lines[pick % lines.length]
  const out: Insertion[] = []
  for (let k = 0; k <= p.text.length; k++) {
    for (const b of SPECIAL_BYTES) {
      out.push({
        raw: g.raw.slice(0, at + k) + b + g.raw.slice(at + k),
        what: `${JSON.stringify(b)} at ${k} of ${kind} ${JSON.stringify(p.text)}`,
      })
    }
  }
  return out
}
