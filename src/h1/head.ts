// Parsed message heads. A head keeps the bytes it arrived in (`raw`) and, per field, offsets
// into them; only the fields the gateway acts on are decoded (see `FieldKind`).

import { equalsLower } from './grammar.js'

/** How the body of a message is delimited (RFC 9112 §6.3). */
export type Framing =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  | { readonly kind: 'close' }

export const NO_BODY: Framing = { kind: 'none' }
export const CHUNKED: Framing = { kind: 'chunked' }
export const CLOSE_DELIMITED: Framing = { kind: 'close' }

/** The fields whose meaning the gateway acts on; everything else is relayed as raw bytes. */
export const enum FieldKind {
  Other = 0,
  ContentLength = 1,
  TransferEncoding = 2,
  Connection = 3,
  KeepAlive = 4,
  ProxyConnection = 5,
  TE = 6,
  Trailer = 7,
  Upgrade = 8,
  Host = 9,
  Expect = 10,
}

/** Fields removed hop by hop in both directions (RFC 9110 §7.6.1), besides those Connection names. */
export function isHopByHop(kind: FieldKind): boolean {
  return kind >= FieldKind.TransferEncoding && kind <= FieldKind.Upgrade
}

export function classifyField(buf: Uint8Array, start: number, end: number): FieldKind {
  switch (end - start) {
    case 2:
      return equalsLower(buf, start, end, 'te') ? FieldKind.TE : FieldKind.Other
    case 4:
      return equalsLower(buf, start, end, 'host') ? FieldKind.Host : FieldKind.Other
    case 6:
      return equalsLower(buf, start, end, 'expect') ? FieldKind.Expect : FieldKind.Other
    case 7:
      if (equalsLower(buf, start, end, 'trailer')) return FieldKind.Trailer
      return equalsLower(buf, start, end, 'upgrade') ? FieldKind.Upgrade : FieldKind.Other
    case 10:
      if (equalsLower(buf, start, end, 'connection')) return FieldKind.Connection
      return equalsLower(buf, start, end, 'keep-alive') ? FieldKind.KeepAlive : FieldKind.Other
    case 14:
      return equalsLower(buf, start, end, 'content-length') ? FieldKind.ContentLength : FieldKind.Other
    case 16:
      return equalsLower(buf, start, end, 'proxy-connection') ? FieldKind.ProxyConnection : FieldKind.Other
    case 17:
      return equalsLower(buf, start, end, 'transfer-encoding') ? FieldKind.TransferEncoding : FieldKind.Other
    default:
      return FieldKind.Other
  }
}

/** What both heads share. */
export interface Head {
  /** The head as received: start line through the empty line. */
  readonly raw: Buffer
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly minorVersion: 0 | 1
  /** Four offsets into `raw` per field: name start, name end, value start, value end (OWS trimmed). */
  readonly fields: readonly number[]
  /** FieldKind per field. */
  readonly kinds: readonly FieldKind[]
  readonly framing: Framing
  /** Lowercased tokens of all Connection fields (close, keep-alive, upgrade and field names). */
  readonly connection: readonly string[]
  /** Whether the sender lets the connection persist after this message (RFC 9112 §9.3). */
  readonly keepAlive: boolean
}

export interface ResponseHead extends Head {
  readonly status: number
  /** Offsets into `raw` of the reason phrase. */
  readonly reasonStart: number
  readonly reasonEnd: number
  /** 1xx other than 101: more responses follow for the same request. */
  readonly interim: boolean
  /** For a valid 101: the protocol the upstream switched to. */
  readonly upgrade: string | null
}

export interface RequestHead extends Head {
  readonly method: string
  /** The request-target as sent (origin-form, absolute-form or `*`). */
  readonly target: string
  /** Host field value (or authority of an absolute-form target), '' when absent or empty. */
  readonly host: string
  readonly expectContinue: boolean
  /** Protocols offered in Upgrade when Connection names `upgrade`, lowercased; empty otherwise. */
  readonly upgrade: readonly string[]
  /** The client sent `TE: trailers`. */
  readonly acceptsTrailers: boolean
}

export function fieldCount(head: Head): number {
  return head.fields.length >> 2
}

export function fieldName(head: Head, i: number): string {
  return head.raw.toString('latin1', head.fields[4 * i], head.fields[4 * i + 1])
}

export function fieldValue(head: Head, i: number): string {
  return head.raw.toString('latin1', head.fields[4 * i + 2], head.fields[4 * i + 3])
}

/** All fields as [name, value] pairs, in order (names as sent). */
export function headerPairs(head: Head): [string, string][] {
  const out: [string, string][] = []
  for (let i = 0; i < fieldCount(head); i++) out.push([fieldName(head, i), fieldValue(head, i)])
  return out
}

export function reasonPhrase(head: ResponseHead): string {
  return head.raw.toString('latin1', head.reasonStart, head.reasonEnd)
}

/** A trailer field, decoded (trailers are rare and small). */
export type Trailer = readonly [name: string, value: string]
