// The reference recognizer: HTTP/1.1 requests and responses from RFC 9110/9112 (and RFC 3986
// for the request-target and Host), with strictgate's decided rules from RULES.md. It reads a
// whole input (a latin1 string or a Buffer; the input ends with FIN) and returns a verdict: the
// message it found, or the rule the input breaks with the code strictgate is specified to give.
//
// Which rule wins when a message breaks several (RULES.md does not say; written down here so
// verdicts can be compared code for code):
//   1. the grammar, byte by byte in message order: the first byte that cannot go on decides
//      (start line, field lines, size and count limits, then the body). In the request-line a
//      method is judged once its token and SP are complete: a token unknown to llhttp (or
//      CONNECT) is 501 whatever follows, a method that is no token or is not followed by one
//      SP is 400; a version that is a prefix of "HTTP/" DIGIT "." DIGIT but not 1.0/1.1 is 505
//      from its first differing digit. A field line's grammar (H1–H4) comes before what its
//      value means: a CTL in a Content-Length value is H2, not F1;
//   2. once a head is complete, its fields in this order: Content-Length (F1), then for requests
//      Host (duplicates and grammar, then missing), Transfer-Encoding in HTTP/1.0 (F4), for
//      responses F4 then F5 (1xx/204 framing); then Content-Length with Transfer-Encoding (F2),
//      then Transfer-Encoding other than exactly "chunked" (F3), then F7 (101) and F8 (1xx
//      count) for responses, the body limit for requests;
//   3. a trailer section's forbidden fields once the section is complete.
// The request-target's grammar (all of it, forms included) is checked when its SP arrives.

import { chunkedBody, closeDelimitedBody, lengthBody, Sink } from './body.js'
import { type Field, fieldSection, Reader, requestLine, statusLine } from './head.js'
import {
  codeFor,
  EndOfInput,
  KNOWN_METHODS,
  MAX_LENGTH,
  REF_DEFAULT_LIMITS,
  type RefCode,
  type RefLimits,
  Reject,
  type RuleId,
  type Side,
} from './rules.js'
import { isValidHost, targetForm } from './uri.js'

export type RefFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  | { readonly kind: 'close' }

export type Pairs = [name: string, value: string][]

export interface RefRequestHead {
  readonly method: string
  readonly target: string
  readonly version: '1.0' | '1.1'
  readonly fields: Pairs
}

export interface RefResponseHead {
  readonly status: number
  readonly reason: string
  readonly version: '1.0' | '1.1'
  readonly fields: Pairs
}

/** What a rejected input delivered before the failing byte (what strictgate relays before it fails). */
export interface Delivered<H> {
  /** The head of the failing message, when the failure is in its body. */
  readonly head: H | null
  readonly framing: RefFraming | null
  /** Decoded body bytes before the failing byte. */
  readonly body: string
}

export interface Rejected<H> {
  readonly ok: false
  /** The RULES.md row or client-rule class, and how it was broken. */
  readonly rule: string
  readonly ruleId: RuleId
  readonly code: RefCode
  /** Offset of the failing byte in the input (informational: verdicts are compared by code). */
  readonly at: number
  readonly delivered: Delivered<H>
}

export interface RequestAccepted {
  readonly ok: true
  readonly head: RefRequestHead
  readonly framing: RefFraming
  /** Decoded body (latin1). */
  readonly body: string
  readonly trailers: Pairs
  /** Bytes of the input this message took. */
  readonly consumed: number
}

export type RequestVerdict = RequestAccepted | Rejected<RefRequestHead>

export interface RequestContext {
  readonly limits?: Partial<RefLimits>
}

export interface ResponseAccepted {
  readonly ok: true
  /** Interim (1xx other than 101) responses before the final one. */
  readonly interims: RefResponseHead[]
  readonly head: RefResponseHead
  readonly framing: RefFraming
  readonly body: string
  readonly trailers: Pairs
  /** For a valid 101: the protocol switched to (the bytes after the head are the tunnel's). */
  readonly upgrade: string | null
  /** Bytes up to the end of the final response (or of the 101's head). */
  readonly consumed: number
  /** RULES.md B5: bytes after a complete response. The response stands (a warning). */
  readonly extra: number
}

export type ResponseVerdict = ResponseAccepted | (Rejected<RefResponseHead> & { readonly interims: RefResponseHead[] })

export interface ResponseContext {
  /** The method of the request this response answers. */
  readonly method: string
  /** Protocols the client offered to upgrade to (its Upgrade, when its Connection named upgrade). */
  readonly upgrade?: readonly string[]
  readonly limits?: Partial<RefLimits>
}

const asString = (input: string | Buffer): string => (typeof input === 'string' ? input : input.toString('latin1'))
const pairs = (fields: readonly Field[]): Pairs => fields.map((f) => [f.name, f.value])
const named = (fields: readonly Field[], name: string) => fields.filter((f) => f.name.toLowerCase() === name)

/** Members of a #list field (RFC 9110 §5.6.1), lowercased, empty members dropped. */
function listMembers(fields: readonly Field[]): string[] {
  return fields.flatMap((f) =>
    f.value
      .split(',')
      .map((m) => m.replace(/^[ \t]+|[ \t]+$/g, '').toLowerCase())
      .filter((m) => m !== ''),
  )
}

/** What the framing fields say, checked as RULES.md F1 (both directions). */
interface FramingFields {
  /** Content-Length value, -1 when absent. */
  readonly length: number
  readonly lengthAt: number
  /** Transfer-Encoding field lines. */
  readonly codings: readonly Field[]
}

/**
 * Content-Length = 1*DIGIT (RFC 9110 §8.6), held to 2^53 − 1, in exactly one field line: RULES.md
 * F1 (two equal values are rejected too: a documented refusal of RFC 9110 §8.6's leniency).
 */
function framingFields(fields: readonly Field[]): FramingFields {
  const lengths = named(fields, 'content-length')
  let length = -1
  for (const [k, f] of lengths.entries()) {
    if (k > 0) throw new Reject('F1', 'more than one Content-Length', f.at)
    if (!/^[0-9]+$/.test(f.value) || Number(f.value) > MAX_LENGTH) {
      throw new Reject('F1', 'Content-Length is not 1*DIGIT <= 2^53-1', f.at)
    }
    length = Number(f.value)
  }
  return { length, lengthAt: lengths[0]?.at ?? -1, codings: named(fields, 'transfer-encoding') }
}

/**
 * RFC 9112 §6.3 (3): Transfer-Encoding with Content-Length is an error (RULES.md F2). §6.3 (4):
 * strictgate takes Transfer-Encoding only as exactly one field line "chunked" (RULES.md F3; the
 * empty list members of `, chunked` are refused too: RULES.md Decisions).
 */
function checkCodings(f: FramingFields, end: number): void {
  if (f.codings.length === 0) return
  if (f.length >= 0) throw new Reject('F2', 'Transfer-Encoding together with Content-Length', f.codings[0].at)
  if (f.codings.length !== 1 || f.codings[0].value.toLowerCase() !== 'chunked') {
    throw new Reject('F3', 'Transfer-Encoding is not exactly one "chunked"', f.codings[0]?.at ?? end)
  }
}

/** What a recognizer knows while it reads a message: what a failure has delivered by then. */
interface ReadState<H> {
  head: H | null
  framing: RefFraming | null
  sink: Sink
  inBody: boolean
}

/** The head was accepted: read the body its framing says (RFC 9112 §6.3); returns the trailers. */
function body<H>(r: Reader, state: ReadState<H>, head: H, framing: RefFraming, limits: RefLimits): Field[] {
  state.head = head
  state.framing = framing
  state.inBody = true
  if (framing.kind === 'length') lengthBody(r, framing.length, state.sink)
  else if (framing.kind === 'chunked') return chunkedBody(r, state.sink, limits)
  else if (framing.kind === 'close') closeDelimitedBody(r, state.sink)
  return []
}

function limitsOf(partial: Partial<RefLimits> | undefined): RefLimits {
  return { ...REF_DEFAULT_LIMITS, ...partial }
}

/** Run `parse`, turning a Reject or the end of the input into a Rejected verdict. */
function attempt<H, T>(side: Side, state: ReadState<H>, parse: () => T): T | Rejected<H> {
  try {
    return parse()
  } catch (err) {
    let ruleId: RuleId
    let why: string
    let at: number
    if (err instanceof Reject) {
      ruleId = err.rule
      why = err.why
      at = err.at
    } else if (err instanceof EndOfInput) {
      ruleId = state.inBody ? 'B3' : 'CLOSED'
      why = state.inBody ? 'the input ended inside the body' : 'the input ended inside the head'
      at = err.at
    } else {
      throw err
    }
    return {
      ok: false,
      rule: `${ruleId}: ${why}`,
      ruleId,
      code: codeFor(ruleId, side),
      at,
      delivered: { head: state.head, framing: state.framing, body: state.sink.data },
    }
  }
}

// ---- requests ---------------------------------------------------------------------------------

/** One request at the start of `input`. */
export function recognizeRequest(input: string | Buffer, context: RequestContext = {}): RequestVerdict {
  const s = asString(input)
  const limits = limitsOf(context.limits)
  const r = new Reader(s, 0)
  const state: ReadState<RefRequestHead> = {
    head: null,
    framing: null,
    sink: new Sink(limits.maxRequestBodyBytes),
    inBody: false,
  }
  return attempt('request', state, (): RequestAccepted => {
    r.limit(limits.maxHeaderBytes, 'H5', `head larger than ${limits.maxHeaderBytes} bytes`)
    const line = requestLine(r, limits.maxUrlBytes, (m) => KNOWN_METHODS.has(m))
    // RFC 9112 §3.2: the forms; asterisk-form only for OPTIONS (§3.2.4).
    const form = targetForm(line.target)
    if (form === null || (form === 'asterisk' && line.method !== 'OPTIONS')) {
      throw new Reject('target', 'request-target is not origin-form, absolute-form or asterisk-form', line.targetAt)
    }
    const fields = fieldSection(r, limits.maxHeaderCount, (row) => row)
    r.noLimit()
    const headEnd = r.pos
    const framingFieldsOf = framingFields(fields)
    // RFC 9112 §3.2 / RFC 9110 §7.2: one Host, valid, and present in HTTP/1.1.
    const hosts = named(fields, 'host')
    for (const [k, h] of hosts.entries()) {
      if (k > 0) throw new Reject('Host', 'more than one Host', h.at)
      if (!isValidHost(h.value))
        throw new Reject('Host', `Host ${JSON.stringify(h.value)} is not uri-host [ ":" port ]`, h.at)
    }
    if (hosts.length === 0 && line.minor === 1) throw new Reject('Host', 'missing Host', headEnd - 2)
    // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message is faulty framing.
    if (framingFieldsOf.codings.length > 0 && line.minor === 0) {
      throw new Reject('F4', 'Transfer-Encoding in an HTTP/1.0 request', framingFieldsOf.codings[0].at)
    }
    checkCodings(framingFieldsOf, headEnd)
    if (framingFieldsOf.length > limits.maxRequestBodyBytes) {
      throw new Reject('body size', `Content-Length larger than ${limits.maxRequestBodyBytes}`, headEnd)
    }
    const head: RefRequestHead = {
      method: line.method,
      target: line.target,
      version: line.minor === 1 ? '1.1' : '1.0',
      fields: pairs(fields),
    }
    // RFC 9112 §6.3 (4), (6), (7).
    const framing: RefFraming =
      framingFieldsOf.codings.length > 0
        ? { kind: 'chunked' }
        : framingFieldsOf.length >= 0
          ? { kind: 'length', length: framingFieldsOf.length }
          : { kind: 'none' }
    const trailers = body(r, state, head, framing, limits)
    return { ok: true, head, framing, body: state.sink.data, trailers: pairs(trailers), consumed: r.pos }
  })
}

export interface RequestStreamVerdict {
  /** The requests accepted, in order. */
  readonly requests: RequestAccepted[]
  /** The rejection that ended the stream, or null when it ended cleanly between requests. */
  readonly rejected: Rejected<RefRequestHead> | null
}

/** Pipelined requests: one after the other until the input ends or one is rejected. */
export function recognizeRequests(input: string | Buffer, context: RequestContext = {}): RequestStreamVerdict {
  const s = asString(input)
  const requests: RequestAccepted[] = []
  let from = 0
  while (from < s.length) {
    const v = recognizeRequest(s.slice(from), context)
    if (!v.ok) return { requests, rejected: { ...v, at: v.at + from } }
    requests.push(v)
    from += v.consumed
  }
  return { requests, rejected: null }
}

// ---- responses --------------------------------------------------------------------------------

/**
 * The response to one request: interim 1xx responses, then the final one (RFC 9110 §15.2), its
 * body, and whatever follows it (B5).
 */
export function recognizeResponse(input: string | Buffer, context: ResponseContext): ResponseVerdict {
  const s = asString(input)
  const limits = limitsOf(context.limits)
  const offered = (context.upgrade ?? []).map((p) => p.toLowerCase())
  const r = new Reader(s, 0)
  const interims: RefResponseHead[] = []
  const state: ReadState<RefResponseHead> = {
    head: null,
    framing: null,
    sink: new Sink(Number.POSITIVE_INFINITY),
    inBody: false,
  }
  const verdict = attempt('response', state, (): ResponseAccepted => {
    for (;;) {
      const start = r.pos
      r.limit(start + limits.maxHeaderBytes, 'H5', `head larger than ${limits.maxHeaderBytes} bytes`)
      const line = statusLine(r)
      const fields = fieldSection(r, limits.maxHeaderCount, (row) => row)
      r.noLimit()
      const headEnd = r.pos
      const head: RefResponseHead = {
        status: line.status,
        reason: line.reason,
        version: line.minor === 1 ? '1.1' : '1.0',
        fields: pairs(fields),
      }
      const f = framingFields(fields)
      const status = line.status
      const te = f.codings.length > 0
      if (te && line.minor === 0) throw new Reject('F4', 'Transfer-Encoding in an HTTP/1.0 response', f.codings[0].at)
      // F5 (RFC 9110 §8.6, RFC 9112 §6.1): 1xx and 204 carry no Transfer-Encoding and no non-zero Content-Length.
      if ((status < 200 || status === 204) && (te || f.length > 0)) {
        throw new Reject('F5', `framing fields in a ${status} response`, te ? f.codings[0].at : f.lengthAt)
      }
      checkCodings(f, headEnd)
      if (status === 101) {
        // F7 (RFC 9110 §7.8, §15.2.2): only for an offered upgrade, naming exactly one offered
        // protocol, with Connection: upgrade; never on HTTP/1.0.
        const protocols = listMembers(named(fields, 'upgrade'))
        const connection = listMembers(named(fields, 'connection'))
        if (offered.length === 0 || line.minor === 0) {
          throw new Reject('F7', '101 Switching Protocols without an upgrade request', start + 9)
        }
        if (protocols.length !== 1 || !offered.includes(protocols[0]) || !connection.includes('upgrade')) {
          throw new Reject('F7', '101 does not name exactly one protocol the client offered', start + 9)
        }
        state.head = head
        return {
          ok: true,
          interims,
          head,
          framing: { kind: 'none' },
          body: '',
          trailers: [],
          upgrade: protocols[0],
          consumed: headEnd,
          extra: 0,
        }
      }
      if (status < 200) {
        // F8 (RFC 9110 §15.2): a bounded number of interim responses.
        if (interims.length >= limits.maxInterimResponses) {
          throw new Reject('F8', `more than ${limits.maxInterimResponses} interim responses`, start + 9)
        }
        interims.push(head)
        continue
      }
      // RFC 9112 §6.3 (1): HEAD, 204 and 304 responses end with their head.
      const bodiless = context.method === 'HEAD' || status === 204 || status === 304
      const framing: RefFraming = bodiless
        ? { kind: 'none' }
        : te
          ? { kind: 'chunked' }
          : f.length >= 0
            ? { kind: 'length', length: f.length }
            : { kind: 'close' }
      const trailers = body(r, state, head, framing, limits)
      return {
        ok: true,
        interims,
        head,
        framing,
        body: state.sink.data,
        trailers: pairs(trailers),
        upgrade: null,
        consumed: r.pos,
        extra: s.length - r.pos,
      }
    }
  })
  return verdict.ok ? verdict : { ...verdict, interims }
}
