// fast-check arbitraries for valid HTTP/1.1 messages (RFC 9110 / RFC 9112 grammar), with the
// events a correct parser must report for them, and mutations that break exactly one rule of
// RULES.md with the code that rule carries. Every random choice comes from fast-check, so a
// failing case replays from its seed and path (STYLE.md §10).
//
// Messages are latin1 strings: one character per byte.

import fc from 'fast-check'
import type { ErrorCode } from '../../src/errors.js'
import { classifyField, FieldKind, type Framing } from '../../src/h1/head.js'
import { isForbiddenTrailer } from '../../src/h1/trailers.js'
import type { ParseEvent } from './split.js'

// ---------------------------------------------------------------------------------------------
// Grammar pieces

const TCHAR = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
const chars = (s: string) => fc.constantFrom(...s.split(''))
const byteChar = (min: number, max: number) => fc.integer({ min, max }).map((c) => String.fromCharCode(c))

/** token = 1*tchar (RFC 9110 §5.6.2) */
export const token = fc.string({ unit: chars(TCHAR), minLength: 1, maxLength: 10 })

/** A field name the gateway gives no meaning to (not Content-Length, Host, Connection...). */
const plainName = token.filter((n) => classifyField(Buffer.from(n, 'latin1'), 0, n.length) === FieldKind.Other)

/** field-vchar / SP / HTAB: VCHAR, obs-text and whitespace (RFC 9110 §5.5). */
const valueChar = fc.oneof(
  { weight: 6, arbitrary: byteChar(0x21, 0x7e) },
  { weight: 1, arbitrary: byteChar(0x80, 0xff) },
  { weight: 1, arbitrary: chars(' \t') },
)
const ows = fc.string({ unit: chars(' \t'), maxLength: 2 })

/** reason-phrase = *( HTAB / SP / VCHAR / obs-text ) (RFC 9112 §4) */
const reason = fc.string({ unit: valueChar, maxLength: 12 })

const trimOws = (s: string) => s.replace(/^[ \t]+|[ \t]+$/g, '')

export interface Field {
  readonly name: string
  /** The field line as sent, without CRLF. */
  readonly line: string
  /** The value the parser must report: OWS trimmed. */
  readonly value: string
}

const fieldOf = (name: fc.Arbitrary<string>): fc.Arbitrary<Field> =>
  fc
    .record({ name, before: ows, value: fc.string({ unit: valueChar, maxLength: 16 }), after: ows })
    .map(({ name, before, value, after }) => ({
      name,
      line: `${name}:${before}${value}${after}`,
      value: trimOws(value),
    }))

const field = fieldOf(plainName)
const trailerField = fieldOf(plainName.filter((n) => !isForbiddenTrailer(n.toLowerCase())))

const bytes = (minLength: number, maxLength: number) =>
  fc.uint8Array({ minLength, maxLength }).map((a) => Buffer.from(a).toString('latin1'))

/** chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), without BWS. */
const chunkExt = fc
  .array(
    fc.oneof(
      token.map((n) => `;${n}`),
      fc.tuple(token, token).map(([n, v]) => `;${n}=${v}`),
      fc.tuple(token, fc.string({ unit: chars('abcXYZ019 !#-/'), maxLength: 8 })).map(([n, v]) => `;${n}="${v}"`),
    ),
    { maxLength: 2 },
  )
  .map((exts) => exts.join(''))

const chunk = fc
  .record({ data: bytes(1, 40), upper: fc.boolean(), zeros: fc.nat({ max: 2 }), ext: chunkExt })
  .map(({ data, upper, zeros, ext }) => {
    const hex = data.length.toString(16)
    return { data, line: `${'0'.repeat(zeros)}${upper ? hex.toUpperCase() : hex}${ext}\r\n${data}\r\n` }
  })

const chunkedBody = fc
  .record({
    chunks: fc.array(chunk, { maxLength: 4 }),
    zeros: fc.nat({ max: 2 }),
    ext: chunkExt,
    trailers: fc.array(trailerField, { maxLength: 3 }),
  })
  .map(({ chunks, zeros, ext, trailers }) => ({
    data: chunks.map((c) => c.data).join(''),
    wire: `${chunks.map((c) => c.line).join('')}${'0'.repeat(zeros + 1)}${ext}\r\n${trailers.map((f) => `${f.line}\r\n`).join('')}\r\n`,
    trailers,
  }))

/** Leading zeros of a Content-Length value (1*DIGIT: they are digits like any other). */
const lengthZeros = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.string({ unit: chars('0'), maxLength: 20 }) },
)

/** Split offsets for the chunking of a message of any length (taken modulo its length + 1). */
export const splitPoints = fc.array(fc.nat({ max: 1 << 16 }), { maxLength: 8 })

export function offsetsFor(length: number, points: readonly number[]): number[] {
  return points.map((p) => p % (length + 1)).sort((a, b) => a - b)
}

// ---------------------------------------------------------------------------------------------
// Messages as parts, so that a mutation can change one part

export interface Line {
  readonly text: string
  /** A field the mutations may alter without changing the framing. */
  readonly plain: boolean
}

export interface Message {
  /** Status line or request line, without CRLF. */
  readonly start: string
  readonly lines: readonly Line[]
  readonly body: string
}

export function serialize(m: Message): string {
  return `${m.start}\r\n${m.lines.map((l) => `${l.text}\r\n`).join('')}\r\n${m.body}`
}

function head(
  status: number,
  method: string,
  target: string,
  fields: readonly { name: string; value: string }[],
  framing: Framing,
): ParseEvent {
  return {
    kind: 'head',
    status,
    interim: status >= 100 && status < 200 && status !== 101,
    method,
    target,
    headers: fields.map((f) => [f.name, f.value]),
    framing,
  }
}

function insertAt<T>(list: readonly T[], at: number, item: T): T[] {
  const out = [...list]
  out.splice(at % (list.length + 1), 0, item)
  return out
}

// ---------------------------------------------------------------------------------------------
// Responses

export interface ResponseCase {
  /** Method of the request the response answers. */
  readonly method: 'GET' | 'POST' | 'HEAD'
  /** Interim responses, serialized. */
  readonly interims: string
  readonly final: Message & { readonly minor: 0 | 1; readonly status: number; readonly reason: string }
  readonly raw: string
  /** What the parser must report, FIN included. */
  readonly expected: ParseEvent[]
}

const interim = fc
  .record({
    status: fc.oneof(fc.constantFrom(100, 102, 103), fc.integer({ min: 104, max: 199 })),
    reason,
    fields: fc.array(field, { maxLength: 2 }),
  })
  .map(({ status, reason, fields }) => ({
    wire: `HTTP/1.1 ${status} ${reason}\r\n${fields.map((f) => `${f.line}\r\n`).join('')}\r\n`,
    event: head(status, '', '', fields, { kind: 'none' }),
  }))

/** A valid response to GET, POST or HEAD, with 0–3 interim responses before it. */
export const validResponse: fc.Arbitrary<ResponseCase> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'HEAD') as fc.Arbitrary<'GET' | 'POST' | 'HEAD'>,
    interims: fc.array(interim, { maxLength: 3 }),
    kind: fc.constantFrom('length', 'chunked', 'close', 'none'),
    minor: fc.constantFrom(0, 1) as fc.Arbitrary<0 | 1>,
    status: fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 304),
    bodiless: fc.constantFrom(204, 304),
    reason,
    fields: fc.array(field, { maxLength: 5 }),
    framingAt: fc.nat(),
    zeros: lengthZeros,
    data: bytes(0, 64),
    chunked: chunkedBody,
  })
  .map((g): ResponseCase => {
    const minor = g.kind === 'chunked' ? 1 : g.minor // Transfer-Encoding needs HTTP/1.1 (F4)
    const status = g.kind === 'none' ? g.bodiless : g.status
    const head_ = g.method === 'HEAD'
    let fields: (Field & { plain: boolean })[] = g.fields.map((f) => ({ ...f, plain: true }))
    let framing: Framing = { kind: 'none' }
    let body = ''
    let data = ''
    if (g.kind === 'length') {
      const n = g.data.length
      fields = insertAt(fields, g.framingAt, {
        name: 'Content-Length',
        line: `Content-Length: ${g.zeros}${n}`,
        value: `${g.zeros}${n}`,
        plain: false,
      })
      framing = { kind: 'length', length: n }
      body = data = g.data
    } else if (g.kind === 'chunked') {
      fields = insertAt(fields, g.framingAt, {
        name: 'Transfer-Encoding',
        line: 'Transfer-Encoding: chunked',
        value: 'chunked',
        plain: false,
      })
      framing = { kind: 'chunked' }
      body = g.chunked.wire
      data = g.chunked.data
    } else if (g.kind === 'close') {
      framing = { kind: 'close' }
      body = data = g.data
    }
    if (head_) {
      // RFC 9112 §6.3(1): a response to HEAD has no body whatever its fields say.
      framing = { kind: 'none' }
      body = data = ''
    }
    const final = {
      start: `HTTP/1.${minor} ${status} ${g.reason}`,
      lines: fields.map((f) => ({ text: f.line, plain: f.plain })),
      body,
      minor,
      status,
      reason: g.reason,
    }
    const interims = g.interims.map((i) => i.wire).join('')
    const expected: ParseEvent[] = [...g.interims.map((i) => i.event), head(status, '', '', fields, framing)]
    if (data !== '') expected.push({ kind: 'body', data })
    if (g.kind === 'chunked' && !head_ && g.chunked.trailers.length > 0) {
      expected.push({ kind: 'trailers', trailers: g.chunked.trailers.map((f) => [f.name, f.value] as const) })
    }
    expected.push({ kind: 'complete' })
    return { method: g.method, interims, final, raw: interims + serialize(final), expected }
  })

// ---------------------------------------------------------------------------------------------
// Mutations breaking exactly one rule

export interface Broken {
  /** The RULES.md row (or client rule) broken, for the failure report. */
  readonly rule: string
  readonly raw: string
  readonly code: ErrorCode
  /** Method of the request the response answers (mutations may change it). */
  readonly method: string
  /** 'head': rejected before any head/body of the message; 'body': after its head. */
  readonly phase: 'head' | 'body'
}

const CTL = [...Array(32).keys()].filter((c) => c !== 0x09).map((c) => String.fromCharCode(c))
const ctl = fc.constantFrom(...CTL, '\x7f')
const valueCtl = fc.constantFrom(...CTL.filter((c) => c !== '\r' && c !== '\n'), '\x7f')
const ws = chars(' \t')

function isFraming(l: Line): boolean {
  return /^(content-length|transfer-encoding):/i.test(l.text)
}

function withoutFraming(lines: readonly Line[]): Line[] {
  return lines.filter((l) => !isFraming(l))
}

/** Field lines with at least one plain field (adding one when there is none). */
function withPlain(lines: readonly Line[]): Line[] {
  return lines.some((l) => l.plain) ? [...lines] : [...lines, { text: 'X-Mutated: value', plain: true }]
}

/** Insert `ch` into the value of the `pick`-th plain field line. */
function intoValue(lines: readonly Line[], pick: number, at: number, ch: string): Line[] {
  const all = withPlain(lines)
  const plain = all.map((l, i) => (l.plain ? i : -1)).filter((i) => i >= 0)
  const i = plain[pick % plain.length]
  const text = all[i].text
  const colon = text.indexOf(':') + 1
  const pos = colon + (at % (text.length - colon + 1))
  all[i] = { text: text.slice(0, pos) + ch + text.slice(pos), plain: true }
  return all
}

/** Serialize with the line ending of field line `index` (or of the final empty line) replaced. */
function withLineEnding(m: Message, index: number, ending: string): string {
  const lines = m.lines.map((l, i) => `${l.text}${i === index ? ending : '\r\n'}`).join('')
  return `${m.start}\r\n${lines}${index === m.lines.length ? ending : '\r\n'}${m.body}`
}

const framingLine = (name: 'Content-Length' | 'Transfer-Encoding', value: string): Line => ({
  text: `${name}: ${value}`,
  plain: false,
})

type ResponseMutation = (c: ResponseCase) => Broken

const responseMutations: fc.Arbitrary<ResponseMutation>[] = [
  fc
    .constantFrom(
      'HTTP/2.0',
      'HTTP/0.9',
      'HTTP/1.2',
      'HTTP/3.0',
      'RTSP/1.0',
      'ICE/1.0',
      'http/1.1',
      'HTTPS/1.1',
      'HTTP/11.1',
    )
    .map(
      (v) => (c) =>
        responseBroken(c, 'S1 version', 'UPSTREAM_INVALID_VERSION', {
          start: c.final.start.replace(/^HTTP\/1\.[01]/, v),
        }),
    ),
  fc.boolean().map((noReason) => (c) => {
    const { minor, status, reason } = c.final
    const start = noReason ? `HTTP/1.${minor} ${status}` : `HTTP/1.${minor}  ${status} ${reason}`
    return responseBroken(c, 'S2 missing or extra SP', 'UPSTREAM_INVALID_STATUS_LINE', { start })
  }),
  fc.constantFrom('000', '001', '099', '600', '700', '999').map(
    (code) => (c) =>
      responseBroken(c, 'S3 status code', 'UPSTREAM_INVALID_STATUS_CODE', {
        start: `HTTP/1.${c.final.minor} ${code} ${c.final.reason}`,
      }),
  ),
  fc.tuple(ctl, fc.nat()).map(([ch, at]) => (c) => {
    const { minor, status, reason } = c.final
    const pos = at % (reason.length + 1)
    const start = `HTTP/1.${minor} ${status} ${reason.slice(0, pos)}${ch}${reason.slice(pos)}`
    return responseBroken(c, 'S4 CTL in reason', 'UPSTREAM_INVALID_STATUS_LINE', { start })
  }),
  fc.tuple(ws, fc.nat()).map(([w, pick]) => (c) => {
    const lines = withPlain(c.final.lines)
    const i = pick % lines.length
    lines[i] = { text: lines[i].text.replace(':', `${w}:`), plain: lines[i].plain }
    return responseBroken(c, 'H1 whitespace before colon', 'UPSTREAM_INVALID_HEADER', { lines })
  }),
  fc.tuple(valueCtl, fc.nat(), fc.nat()).map(
    ([ch, pick, at]) =>
      (c) =>
        responseBroken(c, 'H2 CTL in value', 'UPSTREAM_INVALID_HEADER', {
          lines: intoValue(c.final.lines, pick, at, ch),
        }),
  ),
  fc.tuple(ws, fc.nat(), token).map(([w, pick, text]) => (c) => {
    const lines = insertAt(withPlain(c.final.lines), pick + 1, { text: `${w}${text}`, plain: false })
    return responseBroken(c, 'H3 obs-fold', 'UPSTREAM_INVALID_HEADER', { lines })
  }),
  fc.tuple(fc.nat(), fc.boolean()).map(([pick, cr]) => (c) => {
    const m = { ...c.final, lines: withPlain(c.final.lines) }
    // A bare CR on the final empty line could meet an LF starting the body: only LF there.
    const index = pick % (m.lines.length + 1)
    const ending = cr && index < m.lines.length ? '\r' : '\n'
    return responseBrokenRaw(c, 'H4 bare CR or LF', 'UPSTREAM_INVALID_HEADER', withLineEnding(m, index, ending))
  }),
  fc.tuple(fc.boolean(), fc.nat(), fc.nat({ max: 99 })).map(([teFirst, at, n]) => (c) => {
    const pair = [framingLine('Content-Length', `${n}`), framingLine('Transfer-Encoding', 'chunked')]
    if (teFirst) pair.reverse()
    const lines = insertAt(insertAt(withoutFraming(c.final.lines), at, pair[0]), at + 1, pair[1])
    return responseBroken(c, 'F2 Content-Length and Transfer-Encoding', 'UPSTREAM_INVALID_FRAMING', { lines })
  }),
  fc.tuple(fc.nat({ max: 99 }), fc.nat({ max: 99 }), fc.nat()).map(([a, b, at]) => (c) => {
    const lines = insertAt(
      insertAt(withoutFraming(c.final.lines), at, framingLine('Content-Length', `${a}`)),
      at + 1,
      framingLine('Content-Length', `${b}`),
    )
    return responseBroken(c, 'F1 two Content-Length', 'UPSTREAM_INVALID_CONTENT_LENGTH', { lines })
  }),
  fc
    .tuple(
      fc.constantFrom(
        ['gzip'],
        ['chunked, gzip'],
        ['gzip, chunked'],
        ['identity'],
        ['x-custom'],
        ['chunked;q=1'],
        ['chunked', 'chunked'],
        ['gzip', 'chunked'],
      ),
      fc.nat(),
    )
    .map(([values, at]) => (c) => {
      let lines = withoutFraming(c.final.lines)
      for (const v of values) lines = insertAt(lines, at, framingLine('Transfer-Encoding', v))
      const { status, reason } = c.final
      // On HTTP/1.1: in HTTP/1.0, any Transfer-Encoding is F4 first. A 204 breaks F5 first.
      const code = status === 204 ? 'UPSTREAM_INVALID_FRAMING' : 'UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING'
      return responseBroken(c, 'F3 Transfer-Encoding not exactly chunked', code, {
        start: `HTTP/1.1 ${status} ${reason}`,
        lines,
      })
    }),
  fc.nat().map((at) => (c) => {
    const { status, reason } = c.final
    const lines = insertAt(withoutFraming(c.final.lines), at, framingLine('Transfer-Encoding', 'chunked'))
    return responseBroken(c, 'F4 Transfer-Encoding in HTTP/1.0', 'UPSTREAM_INVALID_FRAMING', {
      start: `HTTP/1.0 ${status} ${reason}`,
      lines,
    })
  }),
  fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 99 }), fc.nat()).map(([te, n, at]) => (c) => {
    const line = te ? framingLine('Transfer-Encoding', 'chunked') : framingLine('Content-Length', `${n}`)
    const lines = insertAt(withoutFraming(c.final.lines), at, line)
    return responseBroken(c, 'F5 framing in a 204', 'UPSTREAM_INVALID_FRAMING', {
      start: `HTTP/1.${c.final.minor} 204 ${c.final.reason}`,
      lines,
    })
  }),
  fc
    .constantFrom(
      'zz',
      '0x5',
      '-1',
      '+5',
      ' 5',
      '5 ',
      '',
      '5;',
      '5;a b',
      '20000000000000',
      '0020000000000000',
      'fffffffffffffffff',
    )
    .map((size) => (c) => {
      // A chunked body on a response that has one: GET, HTTP/1.1, a status with content.
      const status = c.final.status === 204 || c.final.status === 304 ? 200 : c.final.status
      const lines = [...withoutFraming(c.final.lines), framingLine('Transfer-Encoding', 'chunked')]
      const final = { start: `HTTP/1.1 ${status} ${c.final.reason}`, lines, body: `${size}\r\nhello\r\n0\r\n\r\n` }
      return {
        rule: 'B1 invalid chunk size',
        raw: c.interims + serialize(final),
        code: 'UPSTREAM_INVALID_CHUNK',
        method: 'GET',
        phase: 'body',
      }
    }),
]

function responseBroken(c: ResponseCase, rule: string, code: ErrorCode, change: Partial<Message>): Broken {
  return responseBrokenRaw(c, rule, code, serialize({ ...c.final, ...change }))
}

function responseBrokenRaw(c: ResponseCase, rule: string, code: ErrorCode, final: string): Broken {
  return { rule, raw: c.interims + final, code, method: c.method, phase: 'head' }
}

/** A valid response with exactly one rule broken in its final message. */
export const brokenResponse: fc.Arbitrary<Broken> = fc
  .tuple(validResponse, fc.oneof(...responseMutations))
  .map(([c, mutate]) => mutate(c))

// ---------------------------------------------------------------------------------------------
// Requests

export interface RequestCase {
  readonly message: Message & { readonly minor: 0 | 1; readonly method: string; readonly target: string }
  readonly raw: string
  readonly expected: ParseEvent[]
  /** The decoded body. */
  readonly data: string
}

const PCHAR = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@"
const segment = fc.string({
  unit: fc.oneof(
    chars(PCHAR),
    byteChar(0, 255).map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`),
  ),
  maxLength: 6,
})
const path = fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => `/${s.join('/')}`)
const query = fc.option(
  fc.string({ unit: chars(`${PCHAR}/?`), maxLength: 8 }).map((q) => `?${q}`),
  { nil: '' },
)
const hostName = fc
  .tuple(
    fc.string({ unit: chars('abcdefghijklmnopqrstuvwxyz0123456789-.'), minLength: 1, maxLength: 12 }),
    fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
  )
  .map(([h, port]) => (port === undefined ? h : `${h}:${port}`))

/** One valid request (methods llhttp knows; no CONNECT), with its expected events. */
export const validRequest: fc.Arbitrary<RequestCase> = fc
  .record({
    method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE'),
    form: fc.constantFrom('origin', 'absolute', 'asterisk'),
    path,
    query,
    authority: hostName,
    minor: fc.constantFrom(0, 1) as fc.Arbitrary<0 | 1>,
    host: fc.option(hostName, { nil: undefined }),
    hostAt: fc.nat(),
    kind: fc.constantFrom('none', 'length', 'chunked'),
    fields: fc.array(field, { maxLength: 4 }),
    framingAt: fc.nat(),
    zeros: lengthZeros,
    data: bytes(0, 48),
    chunked: chunkedBody,
  })
  .map((g): RequestCase => {
    const minor = g.kind === 'chunked' ? 1 : g.minor
    const method = g.form === 'asterisk' ? 'OPTIONS' : g.method
    const target =
      g.form === 'asterisk'
        ? '*'
        : g.form === 'absolute'
          ? `http://${g.authority}${g.path}${g.query}`
          : `${g.path}${g.query}`
    let fields: (Field & { plain: boolean })[] = g.fields.map((f) => ({ ...f, plain: true }))
    const host = g.host ?? (minor === 1 ? g.authority : undefined)
    if (host !== undefined)
      fields = insertAt(fields, g.hostAt, { name: 'Host', line: `Host: ${host}`, value: host, plain: false })
    let framing: Framing = { kind: 'none' }
    let body = ''
    let data = ''
    if (g.kind === 'length') {
      fields = insertAt(fields, g.framingAt, {
        name: 'Content-Length',
        line: `Content-Length: ${g.zeros}${g.data.length}`,
        value: `${g.zeros}${g.data.length}`,
        plain: false,
      })
      framing = { kind: 'length', length: g.data.length }
      body = data = g.data
    } else if (g.kind === 'chunked') {
      fields = insertAt(fields, g.framingAt, {
        name: 'Transfer-Encoding',
        line: 'Transfer-Encoding: chunked',
        value: 'chunked',
        plain: false,
      })
      framing = { kind: 'chunked' }
      body = g.chunked.wire
      data = g.chunked.data
    }
    const message = {
      start: `${method} ${target} HTTP/1.${minor}`,
      lines: fields.map((f) => ({ text: f.line, plain: f.plain })),
      body,
      minor,
      method,
      target,
    }
    const expected: ParseEvent[] = [head(0, method, target, fields, framing)]
    if (data !== '') expected.push({ kind: 'body', data })
    if (g.kind === 'chunked' && g.chunked.trailers.length > 0) {
      expected.push({ kind: 'trailers', trailers: g.chunked.trailers.map((f) => [f.name, f.value] as const) })
    }
    expected.push({ kind: 'complete' })
    return { message, raw: serialize(message), expected, data }
  })

/** 1–3 valid requests pipelined in one byte stream. */
export const validRequests = fc.array(validRequest, { minLength: 1, maxLength: 3 })

type RequestMutation = (r: RequestCase) => { rule: string; raw: string; code: ErrorCode; phase: 'head' | 'body' }

function requestBroken(r: RequestCase, rule: string, code: ErrorCode, change: Partial<Message>) {
  return { rule, raw: serialize({ ...r.message, ...change }), code, phase: 'head' as const }
}

/** The request line as HTTP/1.1 (some rules only exist there). */
const as11 = (r: RequestCase) => `${r.message.method} ${r.message.target} HTTP/1.1`

function withHost(lines: readonly Line[]): Line[] {
  return lines.some((l) => /^host:/i.test(l.text)) ? [...lines] : [{ text: 'Host: a', plain: false }, ...lines]
}

const requestMutations: fc.Arbitrary<RequestMutation>[] = [
  // CL.TE / TE.CL, with or without OWS obfuscating "chunked".
  fc
    .tuple(
      fc.boolean(),
      fc.constantFrom('chunked', '\tchunked', 'chunked\t', ' chunked'),
      fc.nat(),
      fc.nat({ max: 99 }),
    )
    .map(([teFirst, te, at, n]) => (r) => {
      const pair = [framingLine('Content-Length', `${n}`), { text: `Transfer-Encoding:${te}`, plain: false }]
      if (teFirst) pair.reverse()
      const lines = insertAt(insertAt(withoutFraming(r.message.lines), at, pair[0]), at + 1, pair[1])
      return requestBroken(r, 'Content-Length with Transfer-Encoding', 'CLIENT_INVALID_FRAMING', { lines })
    }),
  fc
    .tuple(fc.nat({ max: 99 }), fc.nat({ max: 99 }), fc.nat(), fc.constantFrom('two fields', 'list', 'sign'))
    .map(([a, b, at, shape]) => (r) => {
      let lines = withoutFraming(r.message.lines)
      if (shape === 'two fields')
        lines = insertAt(
          insertAt(lines, at, framingLine('Content-Length', `${a}`)),
          at + 1,
          framingLine('Content-Length', `${b}`),
        )
      else lines = insertAt(lines, at, framingLine('Content-Length', shape === 'list' ? `${a}, ${a}` : `+${a}`))
      return requestBroken(r, `Content-Length ${shape}`, 'CLIENT_INVALID_FRAMING', { lines })
    }),
  fc
    .tuple(
      fc.constantFrom(
        ['xchunked'],
        ['chunked, identity'],
        ['gzip'],
        ['gzip, chunked'],
        ['identity'],
        ['chunked', 'chunked'],
        ['gzip', 'chunked'],
        ['chunked', 'gzip'],
      ),
      fc.nat(),
    )
    .map(([values, at]) => (r) => {
      let lines = withHost(withoutFraming(r.message.lines))
      for (const v of values) lines = insertAt(lines, at, framingLine('Transfer-Encoding', v))
      return requestBroken(r, `Transfer-Encoding ${values.join(' / ')}`, 'CLIENT_UNSUPPORTED_TRANSFER_ENCODING', {
        start: as11(r),
        lines,
      })
    }),
  fc
    .tuple(
      fc.constantFrom(
        'Transfer-Encoding : chunked',
        'Transfer-Encoding\t: chunked',
        'Transfer-Encoding: \x0bchunked',
        'Transfer-Encoding: \x0cchunked',
        'Transfer-Encoding: chunked\x00',
      ),
      fc.nat(),
    )
    .map(([text, at]) => (r) => {
      const lines = insertAt(withoutFraming(r.message.lines), at, { text, plain: false })
      return requestBroken(r, `obfuscated ${JSON.stringify(text)}`, 'CLIENT_INVALID_HEADER', { lines })
    }),
  fc.boolean().map((cr) => (r) => ({
    rule: `bare ${cr ? 'CR' : 'LF'} in the request line`,
    raw: `${r.message.start}${cr ? '\r' : '\n'}${r.message.lines.map((l) => `${l.text}\r\n`).join('')}\r\n${r.message.body}`,
    code: 'CLIENT_INVALID_REQUEST',
    phase: 'head',
  })),
  fc.tuple(fc.nat(), fc.boolean()).map(([pick, cr]) => (r) => {
    const m = { ...r.message, lines: withPlain(r.message.lines) }
    const index = pick % (m.lines.length + 1)
    const ending = cr && index < m.lines.length ? '\r' : '\n'
    return {
      rule: 'bare CR or LF in a field line',
      raw: withLineEnding(m, index, ending),
      code: 'CLIENT_INVALID_HEADER',
      phase: 'head',
    }
  }),
  fc.tuple(ws, fc.nat(), token).map(([w, pick, text]) => (r) => {
    const lines = insertAt(withPlain(r.message.lines), pick + 1, { text: `${w}${text}`, plain: false })
    return requestBroken(r, 'obs-fold', 'CLIENT_INVALID_HEADER', { lines })
  }),
  fc.tuple(valueCtl, fc.nat(), fc.nat()).map(
    ([ch, pick, at]) =>
      (r) =>
        requestBroken(r, 'CTL in a field value', 'CLIENT_INVALID_HEADER', {
          lines: intoValue(r.message.lines, pick, at, ch),
        }),
  ),
  fc.constantFrom('20000000000000', 'fffffffffffffffff', '0x5', '0X5', 'zz', '-1', '5 ', '').map((size) => (r) => {
    const lines = [...withHost(withoutFraming(r.message.lines)), framingLine('Transfer-Encoding', 'chunked')]
    return {
      rule: `chunk size ${JSON.stringify(size)}`,
      raw: serialize({ start: as11(r), lines, body: `${size}\r\nhello\r\n0\r\n\r\n` }),
      code: 'CLIENT_INVALID_FRAMING',
      phase: 'body',
    }
  }),
  fc.constant((r: RequestCase) => {
    const lines = r.message.lines.filter((l) => !/^host:/i.test(l.text))
    return requestBroken(r, 'missing Host', 'CLIENT_INVALID_HEADER', { start: as11(r), lines })
  }),
  fc.tuple(hostName, fc.nat()).map(([h, at]) => (r) => {
    const lines = insertAt(withHost(r.message.lines), at, { text: `Host: ${h}`, plain: false })
    return requestBroken(r, 'two Host fields', 'CLIENT_INVALID_HEADER', { lines })
  }),
  fc.constantFrom('FOO', 'BREW', 'GETS', 'POSTX', 'X', 'get', 'CONNECT').map((method) => (r) => {
    const target = method === 'CONNECT' ? 'example.com:443' : r.message.target
    return requestBroken(r, `method ${method}`, 'CLIENT_UNSUPPORTED_METHOD', {
      start: `${method} ${target} HTTP/1.${r.message.minor}`,
    })
  }),
  fc.constantFrom('HTTP/2.0', 'HTTP/1.2', 'HTTP/0.9', 'HTTP/3.0').map((v) => (r) => {
    return requestBroken(r, `version ${v}`, 'CLIENT_UNSUPPORTED_VERSION', {
      start: `${r.message.method} ${r.message.target} ${v}`,
    })
  }),
]

export interface BrokenRequests {
  readonly rule: string
  /** Valid requests, then the broken one. */
  readonly raw: string
  readonly valid: readonly RequestCase[]
  readonly code: ErrorCode
  readonly phase: 'head' | 'body'
}

/** 0–2 valid pipelined requests followed by one with exactly one client rule broken. */
export const brokenRequests: fc.Arbitrary<BrokenRequests> = fc
  .tuple(fc.array(validRequest, { maxLength: 2 }), validRequest, fc.oneof(...requestMutations))
  .map(([valid, r, mutate]) => {
    const broken = mutate(r)
    return { ...broken, raw: valid.map((v) => v.raw).join('') + broken.raw, valid }
  })
