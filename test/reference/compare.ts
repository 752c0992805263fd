// Reference verdicts and strictgate's parser outcomes in one shape, so a property can compare
// them with one deepStrictEqual: the events strictgate delivers (heads, body bytes, trailers,
// completions: what it relays before anything fails), the failure code, and for an accepted
// input how many bytes it took. The failure's offset is not compared (RULES.md names codes).
//
// The parser is driven through test/helpers/split.ts, cut where fast-check says.

import {
  cut,
  type Outcome,
  type ParseEvent,
  parseRequests,
  parseResponse,
  type RequestOptions,
} from '../helpers/split.js'
import {
  type Delivered,
  type Pairs,
  type RefFraming,
  type RefRequestHead,
  type RefResponseHead,
  recognizeRequests,
  recognizeResponse,
} from './message.js'
import type { RefLimits } from './rules.js'

export interface Comparable {
  readonly events: ParseEvent[]
  /** The failure's code, or null. */
  readonly code: string | null
  /** Bytes consumed: only when nothing failed (what a failure consumed is the parser's business). */
  readonly consumed: number | null
}

function requestHeadEvent(h: RefRequestHead, framing: RefFraming): ParseEvent {
  return { kind: 'head', status: 0, interim: false, method: h.method, target: h.target, headers: h.fields, framing }
}

function responseHeadEvent(h: RefResponseHead, framing: RefFraming): ParseEvent {
  const interim = h.status < 200 && h.status !== 101
  return { kind: 'head', status: h.status, interim, method: '', target: '', headers: h.fields, framing }
}

function bodyEvents(events: ParseEvent[], body: string, trailers: Pairs | null): void {
  if (body !== '') events.push({ kind: 'body', data: body })
  if (trailers !== null && trailers.length > 0) events.push({ kind: 'trailers', trailers })
}

function delivered<H>(events: ParseEvent[], d: Delivered<H>, headEvent: (h: H, f: RefFraming) => ParseEvent): void {
  if (d.head === null) return
  events.push(headEvent(d.head, d.framing as RefFraming))
  bodyEvents(events, d.body, null)
}

export interface ReferenceOptions {
  readonly limits?: Partial<RefLimits>
}

/** What the reference says strictgate must deliver for the request stream `raw` (then FIN). */
export function referenceRequests(raw: string, options: ReferenceOptions = {}): Comparable {
  const v = recognizeRequests(raw, { limits: options.limits })
  const events: ParseEvent[] = []
  for (const r of v.requests) {
    events.push(requestHeadEvent(r.head, r.framing))
    bodyEvents(events, r.body, r.trailers)
    events.push({ kind: 'complete' })
  }
  if (v.rejected !== null) {
    delivered(events, v.rejected.delivered, requestHeadEvent)
    return { events, code: v.rejected.code, consumed: null }
  }
  return { events, code: null, consumed: raw.length }
}

/** What the reference says strictgate must deliver for the response bytes `raw` (then FIN). */
export function referenceResponse(
  raw: string,
  request: { method: string; upgrade: readonly string[] },
  options: ReferenceOptions = {},
): Comparable {
  const v = recognizeResponse(raw, { ...request, limits: options.limits })
  const events: ParseEvent[] = v.interims.map((h) => responseHeadEvent(h, { kind: 'none' }))
  if (!v.ok) {
    delivered(events, v.delivered, responseHeadEvent)
    return { events, code: v.code, consumed: null }
  }
  events.push(responseHeadEvent(v.head, v.framing))
  if (v.upgrade !== null) return { events, code: null, consumed: v.consumed }
  bodyEvents(events, v.body, v.trailers)
  events.push({ kind: 'complete' })
  // RULES.md B5: the response stands, the bytes after it are reported.
  if (v.extra > 0) return { events, code: 'UPSTREAM_EXTRA_DATA', consumed: null }
  return { events, code: null, consumed: v.consumed }
}

function comparable(o: Outcome): Comparable {
  return { events: o.events, code: o.failure?.code ?? null, consumed: o.failure === null ? o.consumed : null }
}

/** The parser's limits (through split.ts only: src/h1's module layout is the lead's to change). */
function parserLimits(limits: Partial<RefLimits> | undefined): RequestOptions['limits'] {
  if (limits === undefined) return undefined
  return {
    maxHeaderBytes: limits.maxHeaderBytes ?? 16_384,
    maxHeaderCount: limits.maxHeaderCount ?? 100,
    maxUrlBytes: limits.maxUrlBytes ?? 8_192,
    maxInterimResponses: limits.maxInterimResponses ?? 8,
    maxRequestBodyBytes: limits.maxRequestBodyBytes ?? Number.MAX_SAFE_INTEGER,
  }
}

/** strictgate's RequestParser on `raw` cut at `offsets`, then FIN. */
export function parserRequests(raw: string, offsets: readonly number[], options: ReferenceOptions = {}): Comparable {
  return comparable(parseRequests(cut(raw, offsets), { limits: parserLimits(options.limits) }))
}

/** strictgate's ResponseParser on `raw` cut at `offsets`, then FIN. */
export function parserResponse(
  raw: string,
  request: { method: string; upgrade: readonly string[] },
  offsets: readonly number[],
  options: ReferenceOptions = {},
): Comparable {
  return comparable(parseResponse(cut(raw, offsets), { request: { ...request }, limits: parserLimits(options.limits) }))
}

/** A short description of a comparable for failure messages. */
export function describe(c: Comparable): string {
  const heads = c.events.filter((e) => e.kind === 'head').length
  const done = c.events.filter((e) => e.kind === 'complete').length
  return `${c.code ?? 'accepted'} (${heads} heads, ${done} complete)`
}
