// fast-check arbitraries for valid HTTP/1.1 messages, built from the ABNF of RFC 9110/9112 and
// RFC 3986 (and RULES.md's decisions): every production the reference recognizer accepts has a
// generator here, including the corners (OWS and HTAB, obs-text, pct-encoding, the `{ } | ^ ``
// leniency, IPv6 and IPvFuture hosts, an empty Host, chunk extensions with BWS and quoted-pairs,
// trailers, 1xx before a final response, HEAD/204/304 and close-delimited bodies). Each message
// records where its lines are, so a mutation can aim at a start line, a field line or a chunk
// line. No code from src/.

import fc from 'fast-check'
import { FORBIDDEN_TRAILERS, KNOWN_METHODS } from './rules.js'

const chars = (s: string) => fc.constantFrom(...s.split(''))
const byte = (min: number, max: number) => fc.integer({ min, max }).map((c) => String.fromCharCode(c))
const str = (unit: fc.Arbitrary<string>, minLength: number, maxLength: number) =>
  fc.array(unit, { minLength, maxLength }).map((a) => a.join(''))

const ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const DIGIT = '0123456789'
const HEX = '0123456789abcdefABCDEF'
/** tchar (RFC 9110 §5.6.2) */
const TCHAR = `!#$%&'*+-.^_\`|~${DIGIT}${ALPHA}`
const UNRESERVED = `${ALPHA}${DIGIT}-._~`
const SUB_DELIMS = "!$&'()*+,;="

const token = str(chars(TCHAR), 1, 8)
const pctEncoded = fc.tuple(chars(HEX), chars(HEX)).map(([a, b]) => `%${a}${b}`)
/** pchar (RFC 3986 §3.3) plus RULES.md's `{ } | ^ `` leniency. */
const pchar = fc.oneof(
  { weight: 8, arbitrary: chars(`${UNRESERVED}${SUB_DELIMS}:@`) },
  { weight: 2, arbitrary: pctEncoded },
  { weight: 1, arbitrary: chars('{}|^`') },
)
const segment = str(pchar, 0, 6)
const pathAbempty = fc.array(segment, { maxLength: 3 }).map((s) => s.map((x) => `/${x}`).join(''))
const absolutePath = fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.map((x) => `/${x}`).join(''))
const query = fc.option(
  str(fc.oneof(pchar, chars('/?')), 0, 8).map((q) => `?${q}`),
  { nil: '' },
)

// ---- hosts (RFC 3986 §3.2.2) --------------------------------------------------------------------

const decOctet = fc.integer({ min: 0, max: 255 }).map(String)
const ipv4 = fc.tuple(decOctet, decOctet, decOctet, decOctet).map((o) => o.join('.'))
const h16 = str(chars(HEX), 1, 4)
/** An IPv6address in one of its ABNF shapes: 8 groups, or a "::" somewhere, maybe an IPv4 tail. */
const ipv6 = fc
  .record({ groups: fc.array(h16, { minLength: 8, maxLength: 8 }), gap: fc.nat({ max: 9 }), v4: fc.option(ipv4) })
  .chain(({ groups, gap, v4 }) => {
    const n = v4 === null ? 8 : 6
    const g = groups.slice(0, n)
    const tail = v4 === null ? [] : [v4]
    if (gap >= n) return fc.constant([...g, ...tail].join(':'))
    // "::" stands for one or more groups: keep `gap` groups before it, some after.
    return fc.nat({ max: n - gap - 1 }).map((after) => {
      const right = [...g.slice(n - after), ...tail]
      return `${g.slice(0, gap).join(':')}::${right.join(':')}`
    })
  })
const ipvFuture = fc
  .tuple(str(chars(HEX), 1, 2), str(chars(`${UNRESERVED}${SUB_DELIMS}:`), 1, 6))
  .map(([v, rest]) => `v${v}.${rest}`)
const regName = str(
  fc.oneof(
    { weight: 8, arbitrary: chars(`${ALPHA}${DIGIT}-.`) },
    { weight: 1, arbitrary: chars(`_~${SUB_DELIMS}`) },
    {
      weight: 1,
      arbitrary: pctEncoded,
    },
  ),
  1,
  12,
)
const uriHost = fc.oneof(
  { weight: 6, arbitrary: regName },
  { weight: 2, arbitrary: ipv4 },
  { weight: 2, arbitrary: ipv6.map((a) => `[${a}]`) },
  { weight: 1, arbitrary: ipvFuture.map((a) => `[${a}]`) },
)
const port = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 65535 }).map(String) },
  { weight: 1, arbitrary: str(chars(DIGIT), 0, 6) },
)
/** uri-host [ ":" port ] */
const authority = fc.tuple(uriHost, fc.option(port)).map(([h, p]) => (p === null ? h : `${h}:${p}`))
/** Host = uri-host [ ":" port ], or empty (RULES.md: an empty Host is valid). */
export const hostValue = fc.oneof({ weight: 9, arbitrary: authority }, { weight: 1, arbitrary: fc.constant('') })

const insertAt = <T>(list: readonly T[], at: number, item: T): T[] => {
  const out = [...list]
  out.splice(at % (list.length + 1), 0, item)
  return out
}

// ---- fields (RFC 9110 §5) --------------------------------------------------------------------

/** Field names the reference gives meaning to, or forbids in trailers: never generated as plain fields. */
const SPECIAL = new Set([
  ...FORBIDDEN_TRAILERS,
  'content-length',
  'transfer-encoding',
  'host',
  'connection',
  'upgrade',
  'te',
  'expect',
])
const plainName = token.filter((n) => !SPECIAL.has(n.toLowerCase()))
const fieldVchar = fc.oneof({ weight: 8, arbitrary: byte(0x21, 0x7e) }, { weight: 1, arbitrary: byte(0x80, 0xff) })
/** field-value = *field-content ; field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ] */
const fieldValue = fc
  .array(fc.tuple(fc.constantFrom('', ' ', '\t', ' \t '), str(fieldVchar, 1, 6)), { maxLength: 3 })
  .map((parts) => parts.map(([ws, w], i) => (i === 0 ? w : ws + w)).join(''))
const ows = fc.constantFrom('', '', ' ', ' ', '\t', '  ', ' \t')
const caseOf = (name: string) => fc.constantFrom(name, name.toLowerCase(), name.toUpperCase())

const fieldLine = (name: fc.Arbitrary<string>, value: fc.Arbitrary<string>) =>
  fc.tuple(name, ows, value, ows).map(([n, a, v, b]) => `${n}:${a}${v}${b}`)
const plainField = fieldLine(plainName, fieldValue)
/** Fields with a meaning that does not change the message's grammar or framing (llhttp acts on some). */
const meaningfulField = fc.constantFrom(
  'Connection: keep-alive',
  'Connection: close',
  'Connection: Upgrade, X-Hop',
  'Upgrade: websocket',
  'Keep-Alive: timeout=5',
  'Expect: 100-continue',
  'TE: trailers',
  'Trailer: X-T',
)
/** Plain fields, sometimes with meaningful ones among them. */
const someFields = fc
  .tuple(fc.array(plainField, { maxLength: 4 }), fc.array(fc.tuple(meaningfulField, fc.nat()), { maxLength: 2 }))
  .map(([plain, extra]) => extra.reduce((out, [line, at]) => insertAt(out, at, line), plain))

// ---- messages as lines, so that mutations can aim at a line ---------------------------------

export type PartKind = 'start' | 'field' | 'end-of-head' | 'chunk-line' | 'data' | 'trailer' | 'body'

export interface Part {
  readonly kind: PartKind
  readonly text: string
}

export interface Generated {
  readonly parts: readonly Part[]
  readonly raw: string
}

function assemble(parts: Part[]): Generated {
  return { parts, raw: parts.map((p) => p.text).join('') }
}

/** Where each part starts in `raw`. */
export function partOffsets(g: Generated): number[] {
  const out: number[] = []
  let at = 0
  for (const p of g.parts) {
    out.push(at)
    at += p.text.length
  }
  return out
}

// ---- bodies (RFC 9112 §6, §7) ---------------------------------------------------------------------

const bytes = (min: number, max: number) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a).toString('latin1'))

/** quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE */
const quotedString = str(
  fc.oneof(
    { weight: 6, arbitrary: fc.oneof(chars(' \t!'), byte(0x23, 0x5b), byte(0x5d, 0x7e), byte(0x80, 0xff)) },
    { weight: 1, arbitrary: fc.oneof(chars('\t "\\'), byte(0x21, 0x7e), byte(0x80, 0xff)).map((c) => `\\${c}`) },
  ),
  0,
  6,
).map((s) => `"${s}"`)
const bws = fc.constantFrom('', '', '', ' ', '\t')
/** chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ) */
const chunkExt = fc
  .array(
    fc
      .tuple(bws, bws, token, fc.option(fc.tuple(bws, bws, fc.oneof(token, quotedString))))
      .map(([a, b, n, v]) => `${a};${b}${n}${v === null ? '' : `${v[0]}=${v[1]}${v[2]}`}`),
    { maxLength: 2 },
  )
  .map((e) => e.join(''))
const hexSize = (n: number) =>
  fc
    .tuple(fc.boolean(), fc.nat({ max: 2 }))
    .map(([upper, zeros]) => `${'0'.repeat(zeros)}${upper ? n.toString(16).toUpperCase() : n.toString(16)}`)
const trailerName = plainName.filter((n) => !FORBIDDEN_TRAILERS.has(n.toLowerCase()))

/** chunked-body = *chunk last-chunk trailer-section CRLF, as parts; with the decoded data. */
export const chunkedBody = fc
  .record({
    chunks: fc.array(
      bytes(1, 40).chain((data) =>
        fc.tuple(hexSize(data.length), chunkExt).map(([size, ext]) => ({ data, size, ext })),
      ),
      { maxLength: 4 },
    ),
    zeros: fc.nat({ max: 2 }),
    ext: chunkExt,
    trailers: fc.array(fieldLine(trailerName, fieldValue), { maxLength: 3 }),
  })
  .map(({ chunks, zeros, ext, trailers }) => {
    const parts: Part[] = []
    for (const c of chunks) {
      parts.push({ kind: 'chunk-line', text: `${c.size}${c.ext}\r\n` }, { kind: 'data', text: `${c.data}\r\n` })
    }
    parts.push({ kind: 'chunk-line', text: `${'0'.repeat(zeros + 1)}${ext}\r\n` })
    for (const t of trailers) parts.push({ kind: 'trailer', text: `${t}\r\n` })
    parts.push({ kind: 'end-of-head', text: '\r\n' })
    return { parts, data: chunks.map((c) => c.data).join('') }
  })

const lengthZeros = fc.oneof({ weight: 5, arbitrary: fc.constant('') }, { weight: 1, arbitrary: str(chars('0'), 1, 4) })
const contentLength = (n: number) =>
  fc.tuple(caseOf('Content-Length'), ows, lengthZeros, ows).map(([name, a, z, b]) => `${name}:${a}${z}${n}${b}`)
const transferEncoding = fc
  .tuple(caseOf('Transfer-Encoding'), ows, caseOf('chunked'), ows)
  .map(([name, a, v, b]) => `${name}:${a}${v}${b}`)

type Framing = 'none' | 'length' | 'chunked' | 'close'

/** Field lines (with the framing field inserted somewhere) and the body parts for a framing. */
function framed(framing: Framing, fields: string[], at: number) {
  const out = fc.constant({ fields, body: [] as Part[], data: '' })
  if (framing === 'length') {
    return bytes(0, 48).chain((data) =>
      contentLength(data.length).map((cl) => ({
        fields: insertAt(fields, at, cl),
        body: data === '' ? [] : [{ kind: 'body' as const, text: data }],
        data,
      })),
    )
  }
  if (framing === 'chunked') {
    return fc
      .tuple(transferEncoding, chunkedBody)
      .map(([te, c]) => ({ fields: insertAt(fields, at, te), body: c.parts, data: c.data }))
  }
  if (framing === 'close') {
    return bytes(0, 48).map((data) => ({
      fields,
      body: data === '' ? [] : [{ kind: 'body' as const, text: data }],
      data,
    }))
  }
  return out
}

function message(start: string, fields: readonly string[], body: readonly Part[]): Part[] {
  return [
    { kind: 'start', text: `${start}\r\n` },
    ...fields.map((f) => ({ kind: 'field' as const, text: `${f}\r\n` })),
    { kind: 'end-of-head', text: '\r\n' },
    ...body,
  ]
}

// ---- requests ---------------------------------------------------------------------------------

const COMMON_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE']
const method = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...COMMON_METHODS) },
  { weight: 1, arbitrary: fc.constantFrom(...KNOWN_METHODS) },
)

export interface GeneratedRequest extends Generated {
  /** The decoded body the message carries. */
  readonly data: string
}

/** One valid request (RFC 9112 §3, RULES.md client rules). */
export const validRequest: fc.Arbitrary<GeneratedRequest> = fc
  .record({
    method,
    form: fc.constantFrom('origin', 'origin', 'origin', 'absolute', 'asterisk'),
    path: absolutePath,
    query,
    scheme: fc.constantFrom('http', 'https', 'HTTP', 'Https'),
    authority,
    absPath: pathAbempty,
    minor: fc.constantFrom(0, 1),
    host: fc.option(hostValue, { freq: 4 }),
    hostName: caseOf('Host'),
    hostAt: fc.nat(),
    framing: fc.constantFrom<Framing>('none', 'length', 'chunked'),
    fields: someFields,
    framingAt: fc.nat(),
  })
  .chain((g) => {
    const minor = g.framing === 'chunked' ? 1 : g.minor
    const m = g.form === 'asterisk' ? 'OPTIONS' : g.method
    const target =
      g.form === 'asterisk'
        ? '*'
        : g.form === 'absolute'
          ? `${g.scheme}://${g.authority}${g.absPath}${g.query}`
          : `${g.path}${g.query}`
    const host = g.host ?? (minor === 1 ? g.authority : null)
    const fields = host === null ? g.fields : insertAt(g.fields, g.hostAt, `${g.hostName}: ${host}`)
    return framed(g.framing, fields, g.framingAt).map((f) => {
      const parts = message(`${m} ${target} HTTP/1.${minor}`, f.fields, f.body)
      return { ...assemble(parts), data: f.data }
    })
  })

/** 1–3 valid requests pipelined on one connection. */
export const validRequests = fc.array(validRequest, { minLength: 1, maxLength: 3 }).map((rs) => ({
  ...assemble(rs.flatMap((r) => r.parts)),
  data: rs.map((r) => r.data),
}))

// ---- responses --------------------------------------------------------------------------------

/** reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ) (and it may be absent) */
const reason = str(
  fc.oneof(
    { weight: 6, arbitrary: byte(0x21, 0x7e) },
    { weight: 1, arbitrary: chars(' \t') },
    {
      weight: 1,
      arbitrary: byte(0x80, 0xff),
    },
  ),
  0,
  12,
)

const interim = fc
  .record({
    status: fc.oneof(fc.constantFrom(100, 102, 103), fc.integer({ min: 104, max: 199 })),
    minor: fc.constantFrom(0, 1, 1),
    reason,
    fields: fc.array(plainField, { maxLength: 2 }),
  })
  .map((i) => message(`HTTP/1.${i.minor} ${i.status} ${i.reason}`, i.fields, []))

export interface GeneratedResponse extends Generated {
  /** The request it answers. */
  readonly method: string
  readonly upgrade: readonly string[]
  readonly data: string
}

/** The response to one request: 0–3 interim responses, then a valid final one (RULES.md S1–B4). */
export const validResponse: fc.Arbitrary<GeneratedResponse> = fc
  .record({
    method: fc.constantFrom('GET', 'GET', 'POST', 'HEAD'),
    interims: fc.array(interim, { maxLength: 3 }),
    kind: fc.constantFrom('length', 'length', 'chunked', 'chunked', 'close', 'bodiless', 'switch'),
    minor: fc.constantFrom(0, 1, 1),
    status: fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 304),
    bodiless: fc.constantFrom(204, 304),
    reason,
    fields: someFields.map((f) => f.filter((l) => !/^(upgrade|connection: upgrade)/i.test(l))),
    framingAt: fc.nat(),
    headFraming: fc.constantFrom<Framing>('none', 'length', 'chunked'),
    tunnel: bytes(0, 16),
  })
  .chain((g): fc.Arbitrary<GeneratedResponse> => {
    if (g.kind === 'switch') {
      // RFC 9110 §15.2.2: a 101 for an offered upgrade; what follows its head is the tunnel's.
      const head = message(`HTTP/1.1 101 ${g.reason}`, ['Connection: Upgrade', 'Upgrade: websocket', ...g.fields], [])
      const parts: Part[] = [...g.interims.flat(), ...head]
      if (g.tunnel !== '') parts.push({ kind: 'body', text: g.tunnel })
      return fc.constant({ ...assemble(parts), method: 'GET', upgrade: ['websocket'], data: '' })
    }
    const head = g.method === 'HEAD'
    const status = g.kind === 'bodiless' ? g.bodiless : g.status
    const bodiless = head || g.kind === 'bodiless'
    // The framing fields it carries: a response to HEAD may carry any (RFC 9112 §6.3 (1): it has
    // no body whatever they say), but a 204 none (RULES.md F5); a close-delimited body has none.
    const fieldsKind: Framing = head
      ? status === 204
        ? 'none'
        : g.headFraming
      : g.kind === 'bodiless'
        ? 'none'
        : (g.kind as Framing)
    const minor = fieldsKind === 'chunked' ? 1 : g.minor // Transfer-Encoding needs HTTP/1.1 (F4)
    return framed(fieldsKind, g.fields, g.framingAt).map((f) => {
      const parts = [
        ...g.interims.flat(),
        ...message(`HTTP/1.${minor} ${status} ${g.reason}`, f.fields, bodiless ? [] : f.body),
      ]
      return { ...assemble(parts), method: g.method, upgrade: [], data: bodiless ? '' : f.data }
    })
  })

/** Cut points for the parser's input (taken modulo the length + 1 of the input). */
export const splitPoints = fc.array(fc.nat({ max: 1 << 16 }), { maxLength: 6 })

export function offsetsFor(length: number, points: readonly number[]): number[] {
  return points.map((p) => p % (length + 1)).sort((a, b) => a - b)
}
