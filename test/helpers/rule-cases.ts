// The expected outcomes of the h1 rule tests (conformance.test.ts, response-rules.test.ts,
// request-rules.test.ts), in one place: the events a case must produce, and what accepting or
// rejecting a raw message means, each checked whole, at every split offset and byte by byte
// (split.ts).

import type tap from 'tap'
import type { ErrorCode } from '../../src/errors.js'
import type { Framing } from '../../src/h1/head.js'
import {
  bodyOf,
  checkRequests,
  checkResponse,
  completions,
  headsOf,
  type Outcome,
  type RequestOptions,
  type ResponseOptions,
} from './split.js'

/** The assertions these helpers need, from tap's `t` or a subtest's. */
export type Asserts = Pick<typeof tap, 'same' | 'equal'>

// ---- raw bytes --------------------------------------------------------------------------------

/** A status line: 17 bytes, so the first field line of a response starts at offset 17. */
export const OK = 'HTTP/1.1 200 OK\r\n'
/** A chunked response head: 47 bytes, so its chunked body starts at offset 47. */
export const CHUNKED = `${OK}Transfer-Encoding: chunked\r\n\r\n`

// ---- events -------------------------------------------------------------------------------------

/** A response head event: every 1xx but 101 (the switch: RFC 9110 §15.2.2) is interim. */
export function responseHead(status: number, headers: [string, string][], framing: Framing) {
  return {
    kind: 'head' as const,
    status,
    interim: status < 200 && status !== 101,
    method: '',
    target: '',
    headers,
    framing,
  }
}

/** A request head event. */
export function requestHead(method: string, target: string, headers: [string, string][], framing: Framing) {
  return { kind: 'head' as const, status: 0, interim: false, method, target, headers, framing }
}

export const complete = { kind: 'complete' as const }
export const body = (data: string) => ({ kind: 'body' as const, data })
export const trailers = (...tr: [string, string][]) => ({ kind: 'trailers' as const, trailers: tr })

export const LEN = (length: number): Framing => ({ kind: 'length', length })
export const NONE: Framing = { kind: 'none' }
export const CHUNK: Framing = { kind: 'chunked' }
export const CLOSE: Framing = { kind: 'close' }

// ---- outcomes -----------------------------------------------------------------------------------

/** Accepted: exactly these events, no failure, every byte consumed. */
function accepted(t: Asserts, o: Outcome, raw: string, events: Outcome['events']): Outcome {
  t.same(o.failure, null, 'no failure')
  t.same(o.events, events, 'events')
  t.equal(o.consumed, raw.length, 'every byte consumed')
  return o
}

/** Failed with `code` at `offset` (within the failing message) and never completed. */
function failed(t: Asserts, o: Outcome, code: ErrorCode, offset: number): Outcome {
  t.same(o.failure, { code, offset }, `${code} at offset ${offset}`)
  t.equal(completions(o), 0, 'never complete')
  return o
}

/** A body rule: exactly one head, a final one, was delivered, then `data`; never complete. */
function failedInBody(t: Asserts, o: Outcome, code: ErrorCode, offset: number, data: string): Outcome {
  failed(t, o, code, offset)
  t.same(
    headsOf(o).map((h) => h.interim),
    [false],
    'the head delivered',
  )
  t.equal(bodyOf(o), data, 'body bytes before the violation')
  return o
}

export function acceptsResponse(
  t: Asserts,
  raw: string,
  events: Outcome['events'],
  options?: ResponseOptions,
): Outcome {
  return accepted(t, checkResponse(t, raw, options), raw, events)
}

export function acceptsRequest(t: Asserts, raw: string, events: Outcome['events'], options?: RequestOptions): Outcome {
  return accepted(t, checkRequests(t, raw, options), raw, events)
}

/** The response fails with `code` at `offset` and never completes. */
export function rejectsResponse(
  t: Asserts,
  raw: string,
  code: ErrorCode,
  offset: number,
  options?: ResponseOptions,
): Outcome {
  return failed(t, checkResponse(t, raw, options), code, offset)
}

/** A head rule: rejected before any final head or body byte was delivered (the 502 case). */
export function rejectsResponseHead(
  t: Asserts,
  raw: string,
  code: ErrorCode,
  offset: number,
  options?: ResponseOptions,
): Outcome {
  const o = rejectsResponse(t, raw, code, offset, options)
  t.same(
    headsOf(o).filter((h) => !h.interim),
    [],
    'no final head delivered',
  )
  t.equal(bodyOf(o), '', 'no body byte delivered')
  return o
}

/** A body rule: the head was delivered (so the client is aborted), then `data`. */
export function rejectsResponseBody(
  t: Asserts,
  raw: string,
  code: ErrorCode,
  offset: number,
  data: string,
  options?: ResponseOptions,
): Outcome {
  return failedInBody(t, checkResponse(t, raw, options), code, offset, data)
}

/** The request fails with `code` at `offset`; no head and no body byte was delivered. */
export function rejectsRequestHead(
  t: Asserts,
  raw: string,
  code: ErrorCode,
  offset: number,
  options?: RequestOptions,
): Outcome {
  const o = checkRequests(t, raw, options)
  t.same(o.failure, { code, offset }, `${code} at offset ${offset}`)
  t.same(headsOf(o), [], 'no head delivered')
  t.equal(bodyOf(o), '', 'no body byte delivered')
  return o
}

/** The head was accepted, then the body failed with `code` at `offset` after delivering `data`. */
export function rejectsRequestBody(
  t: Asserts,
  raw: string,
  code: ErrorCode,
  offset: number,
  data: string,
  options?: RequestOptions,
): Outcome {
  return failedInBody(t, checkRequests(t, raw, options), code, offset, data)
}
