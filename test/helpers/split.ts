// Feeds raw bytes to a parser in pieces and records what it reports, so a test can assert that
// the outcome does not depend on how TCP happened to chunk the bytes (STYLE.md §10: llhttp's
// fixture runner re-parses every case split at each byte).
//
// Raw messages are written as latin1 strings: one character per byte, so "\x00" or "\xff" in a
// fixture is exactly that byte on the wire.

import type tap from 'tap'
import type { ErrorCode } from '../../src/errors.js'
import type { RequestContext } from '../../src/h1/check-head.js'
import { type Framing, headerPairs, type Trailer } from '../../src/h1/head.js'
import { DEFAULT_LIMITS, type Limits } from '../../src/h1/limits.js'
import { Llhttp, ParserType } from '../../src/h1/llhttp.js'
import { RequestParser } from '../../src/h1/request-parser.js'
import { ResponseParser } from '../../src/h1/response-parser.js'

export interface HeadEvent {
  readonly kind: 'head'
  /** Responses: the status; requests: 0. */
  readonly status: number
  /** Responses: a 1xx other than 101. */
  readonly interim: boolean
  /** Requests: method and request-target; responses: ''. */
  readonly method: string
  readonly target: string
  readonly headers: [string, string][]
  readonly framing: Framing
}

export type ParseEvent =
  | HeadEvent
  /** Consecutive onBody calls merged: how the body was sliced depends on the chunking. */
  | { readonly kind: 'body'; data: string }
  | { readonly kind: 'trailers'; readonly trailers: Trailer[] }
  | { readonly kind: 'complete' }

export interface Outcome {
  readonly events: ParseEvent[]
  /** The one failure, from `execute`, `finish` or `abort`; null when none. */
  readonly failure: { readonly code: ErrorCode; readonly offset: number } | null
  /**
   * Bytes `execute` reported as consumed (a valid 101 leaves the tunnel's bytes unconsumed); -1
   * when `execute` failed (how much it had consumed before depends on the chunking).
   */
  readonly consumed: number
}

/** How the input ends once every piece was fed: FIN (`finish`), RST (`abort`) or not at all. */
export type End = 'fin' | 'rst' | 'none'

export interface ResponseOptions {
  /** The request the response answers (default: GET, no upgrade offered). */
  readonly request?: RequestContext
  readonly end?: End
  /** Over DEFAULT_LIMITS. */
  readonly limits?: Partial<Limits>
}

export interface RequestOptions {
  readonly end?: Exclude<End, 'rst'>
  /** Over DEFAULT_LIMITS. */
  readonly limits?: Partial<Limits>
}

class Recorder {
  readonly events: ParseEvent[] = []

  head(h: HeadEvent): void {
    this.events.push(h)
  }

  onBody = (chunk: Buffer): void => {
    const last = this.events[this.events.length - 1]
    if (last?.kind === 'body') last.data += chunk.toString('latin1')
    else this.events.push({ kind: 'body', data: chunk.toString('latin1') })
  }

  onTrailers = (trailers: readonly Trailer[]): void => {
    this.events.push({ kind: 'trailers', trailers: trailers.map(([n, v]) => [n, v] as const) })
  }

  onComplete = (): void => {
    this.events.push({ kind: 'complete' })
  }
}

const GET: RequestContext = { method: 'GET', upgrade: [] }

// llhttp's input area is one region of wasm memory shared by every parser. Filling it with NUL
// before each piece makes a parser that leaves out of the copy a byte llhttp then reads (chunk
// data is not copied: chunked-copy.ts) fail, instead of reading a stale byte that happens to fit.
const poisoner = new Llhttp(ParserType.Response, {
  onSpan: () => 0,
  onHeadersComplete: () => 0,
  onMessageComplete: () => 0,
})

function poisonInput(length: number): void {
  const at = poisoner.input(length)
  poisoner.memory.fill(0, at, at + length)
}

/** Cut `raw` at the given offsets (ascending, duplicates and 0/n allowed: they make empty pieces). */
export function cut(raw: string, offsets: readonly number[]): Buffer[] {
  const buf = Buffer.from(raw, 'latin1')
  const pieces: Buffer[] = []
  let from = 0
  for (const at of offsets) {
    const to = Math.max(from, Math.min(at, buf.length))
    pieces.push(buf.subarray(from, to))
    from = to
  }
  pieces.push(buf.subarray(from))
  return pieces
}

/** Parse a response delivered in `pieces`: `expect(request)`, `execute` each, then the end. */
export function parseResponse(pieces: readonly Buffer[], options: ResponseOptions = {}): Outcome {
  const rec = new Recorder()
  const parser = new ResponseParser(
    {
      onHead: (h) =>
        rec.head({
          kind: 'head',
          status: h.status,
          interim: h.interim,
          method: '',
          target: '',
          headers: headerPairs(h),
          framing: h.framing,
        }),
      onBody: rec.onBody,
      onTrailers: rec.onTrailers,
      onComplete: rec.onComplete,
    },
    { ...DEFAULT_LIMITS, ...options.limits },
  )
  try {
    parser.expect(options.request ?? GET)
    let consumed = 0
    for (const piece of pieces) {
      poisonInput(piece.length)
      const n = parser.execute(piece)
      if (n < 0) return { events: rec.events, failure: failureOf(parser.failure), consumed: -1 }
      consumed += n
      // Only a valid 101 stops short: what follows belongs to the tunnel, not to the parser.
      if (n < piece.length) break
    }
    const end = options.end ?? 'fin'
    const failure = end === 'fin' ? parser.finish() : end === 'rst' ? parser.abort() : null
    return { events: rec.events, failure: failureOf(failure), consumed }
  } finally {
    parser.destroy()
  }
}

/**
 * Parse requests delivered in `pieces`. When a message completes mid-piece, `execute` returns
 * what it consumed and the rest of the piece is fed again (pipelining).
 */
export function parseRequests(pieces: readonly Buffer[], options: RequestOptions = {}): Outcome {
  const rec = new Recorder()
  const parser = new RequestParser(
    {
      onHead: (h) =>
        rec.head({
          kind: 'head',
          status: 0,
          interim: false,
          method: h.method,
          target: h.target,
          headers: headerPairs(h),
          framing: h.framing,
        }),
      onBody: rec.onBody,
      onTrailers: rec.onTrailers,
      onComplete: rec.onComplete,
    },
    { ...DEFAULT_LIMITS, ...options.limits },
  )
  try {
    let consumed = 0
    for (const piece of pieces) {
      let rest = piece
      while (rest.length > 0) {
        poisonInput(rest.length)
        const n = parser.execute(rest)
        if (n < 0) return { events: rec.events, failure: failureOf(parser.failure), consumed: -1 }
        if (n === 0) throw new Error(`RequestParser.execute made no progress at byte ${consumed}`)
        consumed += n
        rest = rest.subarray(n)
      }
    }
    const failure = (options.end ?? 'fin') === 'fin' ? parser.finish() : null
    return { events: rec.events, failure: failureOf(failure), consumed }
  } finally {
    parser.destroy()
  }
}

function failureOf(f: { code: ErrorCode; offset: number } | null): Outcome['failure'] {
  return f === null ? null : { code: f.code, offset: f.offset }
}

/**
 * Every way of cutting `raw` this suite checks: two pieces at each offset k (k = 0..n, so the
 * whole input and an empty piece are included) and byte by byte. `offsets` restricts the
 * two-piece cuts (for inputs too large to re-parse n times).
 */
export function splits(length: number, offsets?: readonly number[]): number[][] {
  const all: number[][] = []
  if (offsets === undefined) for (let k = 0; k <= length; k++) all.push([k])
  else for (const k of offsets) all.push([k])
  const bytes: number[] = []
  for (let k = 1; k < length; k++) bytes.push(k)
  all.push(bytes)
  return all
}

export interface SplitResult {
  /** The outcome with the whole input in one piece. */
  readonly outcome: Outcome
  /** Every cut whose outcome differs from it (empty when the parser is chunking-independent). */
  readonly divergent: { cut: string; outcome: Outcome }[]
}

/** Run `parse` on `raw` whole and at every split; report the cuts that disagree. */
export function atEverySplit(
  raw: string,
  parse: (pieces: readonly Buffer[]) => Outcome,
  offsets?: readonly number[],
): SplitResult {
  const outcome = parse(cut(raw, []))
  const expected = JSON.stringify(outcome)
  const divergent: { cut: string; outcome: Outcome }[] = []
  for (const at of splits(raw.length, offsets)) {
    const got = parse(cut(raw, at))
    if (JSON.stringify(got) !== expected) {
      divergent.push({ cut: at.length === 1 ? `at ${at[0]}` : 'byte by byte', outcome: got })
    }
  }
  return { outcome, divergent }
}

/** The assertion this helper needs, from tap's `t` or a subtest's. */
export type Same = Pick<typeof tap, 'same'>

/** Parse a response at every split, assert all cuts agree, and return the outcome. */
export function checkResponse(
  t: Same,
  raw: string,
  options: ResponseOptions = {},
  offsets?: readonly number[],
): Outcome {
  const r = atEverySplit(raw, (pieces) => parseResponse(pieces, options), offsets)
  t.same(r.divergent, [], 'same outcome at every split offset and byte by byte')
  return r.outcome
}

/** Parse requests at every split, assert all cuts agree, and return the outcome. */
export function checkRequests(
  t: Same,
  raw: string,
  options: RequestOptions = {},
  offsets?: readonly number[],
): Outcome {
  const r = atEverySplit(raw, (pieces) => parseRequests(pieces, options), offsets)
  t.same(r.divergent, [], 'same outcome at every split offset and byte by byte')
  return r.outcome
}

/** The heads of an outcome, in order. */
export function headsOf(o: Outcome): HeadEvent[] {
  return o.events.filter((e): e is HeadEvent => e.kind === 'head')
}

/** All body bytes delivered, as a latin1 string. */
export function bodyOf(o: Outcome): string {
  let s = ''
  for (const e of o.events) if (e.kind === 'body') s += e.data
  return s
}

/** How many messages completed. */
export function completions(o: Outcome): number {
  return o.events.filter((e) => e.kind === 'complete').length
}
