// The reference recognizer on exact request bytes: each case cites the rule (RFC 9110/9112,
// RFC 3986, RULES.md) that makes it valid or decides its code. These make the reference
// trustworthy on its own, before it is compared with strictgate's parser.

import t from 'tap'
import { type RequestVerdict, recognizeRequest, recognizeRequests } from './message.js'
import type { RefCode, RuleId } from './rules.js'

type Expect = { readonly rule: RuleId; readonly code: RefCode }
const H = 'Host: a\r\n'
const reject = (rule: RuleId, code: RefCode): Expect => ({ rule, code })

function rejected(v: RequestVerdict): Expect | null {
  return v.ok ? null : { rule: v.ruleId, code: v.code }
}

const REJECTED: [cite: string, raw: string, expect: Expect][] = [
  // RFC 9112 §3: request-line = method SP request-target SP HTTP-version CRLF
  ['§3 two SP after the method', `GET  / HTTP/1.1\r\n${H}\r\n`, reject('request-line', 'CLIENT_INVALID_REQUEST')],
  ['§3 HTAB instead of SP', `GET\t/ HTTP/1.1\r\n${H}\r\n`, reject('request-line', 'CLIENT_INVALID_REQUEST')],
  ['§3 SP before CRLF', `GET / HTTP/1.1 \r\n${H}\r\n`, reject('request-line', 'CLIENT_INVALID_REQUEST')],
  ['§3 no HTTP-version', `GET /\r\n${H}\r\n`, reject('target', 'CLIENT_INVALID_REQUEST')],
  [
    '§2.2 an empty line before the request-line',
    `\r\nGET / HTTP/1.1\r\n${H}\r\n`,
    reject('request-line', 'CLIENT_INVALID_REQUEST'),
  ],
  [
    '§2.2 bare LF ending the request-line',
    `GET / HTTP/1.1\n${H}\r\n`,
    reject('request-line', 'CLIENT_INVALID_REQUEST'),
  ],
  [
    '§2.2 bare CR ending the request-line',
    `GET / HTTP/1.1\r${H}\r\n`,
    reject('request-line', 'CLIENT_INVALID_REQUEST'),
  ],
  // RFC 9110 §9.1 method = token; RULES.md: a valid token unknown to llhttp, or CONNECT → 501.
  ['§9.1 method not a token', `GE(T / HTTP/1.1\r\n${H}\r\n`, reject('request-line', 'CLIENT_INVALID_REQUEST')],
  [
    '§9.1 method is a token, then not SP',
    `FO(O / HTTP/1.1\r\n${H}\r\n`,
    reject('request-line', 'CLIENT_INVALID_REQUEST'),
  ],
  ['RULES.md unknown token method', `FOO / HTTP/1.1\r\n${H}\r\n`, reject('method', 'CLIENT_UNSUPPORTED_METHOD')],
  [
    'RULES.md methods are case-sensitive (§9.1)',
    `get / HTTP/1.1\r\n${H}\r\n`,
    reject('method', 'CLIENT_UNSUPPORTED_METHOD'),
  ],
  [
    'RULES.md an RTSP method is not an HTTP one',
    `DESCRIBE / HTTP/1.1\r\n${H}\r\n`,
    reject('method', 'CLIENT_UNSUPPORTED_METHOD'),
  ],
  ['RULES.md CONNECT', `CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n`, reject('method', 'CLIENT_UNSUPPORTED_METHOD')],
  // RULES.md Decisions (issue 14, #11): PRI (RFC 9113 §3.4, the HTTP/2 preface) is never forwarded.
  ['RULES.md PRI, any target', `PRI / HTTP/1.1\r\n${H}\r\n`, reject('method', 'CLIENT_UNSUPPORTED_METHOD')],
  [
    'RULES.md PRI, the HTTP/2 preface',
    `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`,
    reject('method', 'CLIENT_UNSUPPORTED_METHOD'),
  ],
  [
    'RULES.md 501 once the method token is complete',
    `FOO bad\x00 HTTP/1.1\r\n\r\n`,
    reject('method', 'CLIENT_UNSUPPORTED_METHOD'),
  ],
  // RFC 9112 §2.3 HTTP-version; RULES.md: other than 1.0/1.1 → 505
  ['§2.3 HTTP/2.0 → 505', `GET / HTTP/2.0\r\n${H}\r\n`, reject('version', 'CLIENT_UNSUPPORTED_VERSION')],
  ['§2.3 HTTP/1.2 → 505', `GET / HTTP/1.2\r\n${H}\r\n`, reject('version', 'CLIENT_UNSUPPORTED_VERSION')],
  [
    '§2.3 HTTP/3 (a grammatical prefix) → 505',
    `GET / HTTP/3\r\n${H}\r\n`,
    reject('version', 'CLIENT_UNSUPPORTED_VERSION'),
  ],
  [
    '§2.3 HTTP/1.10 is no HTTP-version',
    `GET / HTTP/1.10\r\n${H}\r\n`,
    reject('request-line', 'CLIENT_INVALID_REQUEST'),
  ],
  ['§2.3 HTTP-name is case-sensitive', `GET / http/1.1\r\n${H}\r\n`, reject('request-line', 'CLIENT_INVALID_REQUEST')],
  // RFC 9112 §3.2 and RULES.md: the request-target's never-accepted bytes
  ['RULES.md target: fragment', `GET /a#b HTTP/1.1\r\n${H}\r\n`, reject('target', 'CLIENT_INVALID_REQUEST')],
  ['RULES.md target: DQUOTE', `GET /"a" HTTP/1.1\r\n${H}\r\n`, reject('target', 'CLIENT_INVALID_REQUEST')],
  ['RULES.md target: <', `GET /< HTTP/1.1\r\n${H}\r\n`, reject('target', 'CLIENT_INVALID_REQUEST')],
  ['RULES.md target: >', `GET /> HTTP/1.1\r\n${H}\r\n`, reject('target', 'CLIENT_INVALID_REQUEST')],
  ['RULES.md target: backslash', `GET /a\\b HTTP/1.1\r\n${H}\r\n`, reject('target', 'CLIENT_INVALID_REQUEST')],
  ['RULES.md target: a CTL', `GET /a\x01 HTTP/1.1\r\n${H}\r\n`, reject('target', 'CLIENT_INVALID_REQUEST')],
  ['RULES.md target: DEL', `GET /a\x7f HTTP/1.1\r\n${H}\r\n`, reject('target', 'CLIENT_INVALID_REQUEST')],
  ['RULES.md target: a byte >= 0x80', `GET /caf\xe9 HTTP/1.1\r\n${H}\r\n`, reject('target', 'CLIENT_INVALID_REQUEST')],
  [
    'RULES.md target: % not followed by two HEXDIG',
    `GET /%2 HTTP/1.1\r\n${H}\r\n`,
    reject('target', 'CLIENT_INVALID_REQUEST'),
  ],
  ['RULES.md target: %zz', `GET /%zz HTTP/1.1\r\n${H}\r\n`, reject('target', 'CLIENT_INVALID_REQUEST')],
  ['§3.2.4 asterisk-form only for OPTIONS', `GET * HTTP/1.1\r\n${H}\r\n`, reject('target', 'CLIENT_INVALID_REQUEST')],
  [
    'RFC 9110 §4.2.4 userinfo in absolute-form',
    `GET http://u@a/ HTTP/1.1\r\n${H}\r\n`,
    reject('target', 'CLIENT_INVALID_REQUEST'),
  ],
  [
    'RFC 3986 §3.2.3 port in absolute-form',
    `GET http://a:x/ HTTP/1.1\r\n${H}\r\n`,
    reject('target', 'CLIENT_INVALID_REQUEST'),
  ],
  // RFC 9110 §5.1, RFC 9112 §5, §5.2, §2.2: H1–H4
  ['§5 whitespace before the colon (H1)', `GET / HTTP/1.1\r\nHost : a\r\n\r\n`, reject('H1', 'CLIENT_INVALID_HEADER')],
  ['§5.1 empty field name (H1)', `GET / HTTP/1.1\r\n${H}: b\r\n\r\n`, reject('H1', 'CLIENT_INVALID_HEADER')],
  ['§5.1 field name not a token (H1)', `GET / HTTP/1.1\r\n${H}X\xe9: b\r\n\r\n`, reject('H1', 'CLIENT_INVALID_HEADER')],
  ['§5 no colon (H1)', `GET / HTTP/1.1\r\n${H}NoColon\r\n\r\n`, reject('H1', 'CLIENT_INVALID_HEADER')],
  [
    '§2.2 whitespace before the first field (H1/H3)',
    `GET / HTTP/1.1\r\n ${H}\r\n`,
    reject('H3', 'CLIENT_INVALID_HEADER'),
  ],
  ['§5.5 NUL in a value (H2)', `GET / HTTP/1.1\r\n${H}X: a\x00b\r\n\r\n`, reject('H2', 'CLIENT_INVALID_HEADER')],
  ['§5.5 DEL in a value (H2)', `GET / HTTP/1.1\r\n${H}X: a\x7f\r\n\r\n`, reject('H2', 'CLIENT_INVALID_HEADER')],
  ['§5.2 obs-fold (H3)', `GET / HTTP/1.1\r\n${H}X: a\r\n\tb\r\n\r\n`, reject('H3', 'CLIENT_INVALID_HEADER')],
  [
    '§2.2 bare LF in the field section (H4)',
    `GET / HTTP/1.1\r\n${H}X: a\nY: b\r\n\r\n`,
    reject('H4', 'CLIENT_INVALID_HEADER'),
  ],
  ['§2.2 bare CR in a value (H4)', `GET / HTTP/1.1\r\n${H}X: a\rb\r\n\r\n`, reject('H4', 'CLIENT_INVALID_HEADER')],
  ['§2.2 bare LF ending the head (H4)', `GET / HTTP/1.1\r\n${H}\n`, reject('H4', 'CLIENT_INVALID_HEADER')],
  [
    'H2 before F1: a CTL in a Content-Length value',
    `POST / HTTP/1.1\r\n${H}Content-Length: 5\x01\r\n\r\nhello`,
    reject('H2', 'CLIENT_INVALID_HEADER'),
  ],
  // RFC 9110 §7.2, RFC 9112 §3.2, RULES.md: Host
  ['§3.2 missing Host in HTTP/1.1', `GET / HTTP/1.1\r\n\r\n`, reject('Host', 'CLIENT_INVALID_HEADER')],
  ['§3.2 two Host fields', `GET / HTTP/1.1\r\n${H}${H}\r\n`, reject('Host', 'CLIENT_INVALID_HEADER')],
  ['RULES.md Host: non-numeric port', `GET / HTTP/1.1\r\nHost: a:b\r\n\r\n`, reject('Host', 'CLIENT_INVALID_HEADER')],
  ['RULES.md Host: userinfo', `GET / HTTP/1.1\r\nHost: u@a\r\n\r\n`, reject('Host', 'CLIENT_INVALID_HEADER')],
  ['RULES.md Host: unbracketed IPv6', `GET / HTTP/1.1\r\nHost: ::1\r\n\r\n`, reject('Host', 'CLIENT_INVALID_HEADER')],
  // RULES.md Decisions (issue 14, #17): an empty host with a port (RFC 9110 §4.2.1).
  ['RULES.md Host: empty host, a port', `GET / HTTP/1.1\r\nHost: :80\r\n\r\n`, reject('Host', 'CLIENT_INVALID_HEADER')],
  // RFC 9110 §8.6, RFC 9112 §6.1/§6.3, RULES.md: framing
  [
    '§8.6 Content-Length with a sign (F1)',
    `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello`,
    reject('F1', 'CLIENT_INVALID_FRAMING'),
  ],
  [
    '§8.6 Content-Length list (F1)',
    `POST / HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\nhello`,
    reject('F1', 'CLIENT_INVALID_FRAMING'),
  ],
  [
    'RULES.md two equal Content-Length (F1)',
    `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`,
    reject('F1', 'CLIENT_INVALID_FRAMING'),
  ],
  [
    'RULES.md Content-Length over 2^53-1 (F1)',
    `POST / HTTP/1.1\r\n${H}Content-Length: 9007199254740992\r\n\r\n`,
    reject('F1', 'CLIENT_INVALID_FRAMING'),
  ],
  [
    '§6.3(3) CL with TE (F2)',
    `POST / HTTP/1.1\r\n${H}Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    reject('F2', 'CLIENT_INVALID_FRAMING'),
  ],
  [
    'F2 before F3 whatever the order',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\nContent-Length: 1\r\n\r\nx`,
    reject('F2', 'CLIENT_INVALID_FRAMING'),
  ],
  [
    '§6.1 TE in HTTP/1.0',
    `POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    reject('F4', 'CLIENT_INVALID_FRAMING'),
  ],
  [
    'RULES.md TE gzip → 501',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n`,
    reject('F3', 'CLIENT_UNSUPPORTED_TRANSFER_ENCODING'),
  ],
  [
    'RULES.md Decisions: `, chunked` → 501',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: , chunked\r\n\r\n0\r\n\r\n`,
    reject('F3', 'CLIENT_UNSUPPORTED_TRANSFER_ENCODING'),
  ],
  [
    'RULES.md TE on two lines → 501',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    reject('F3', 'CLIENT_UNSUPPORTED_TRANSFER_ENCODING'),
  ],
  // RFC 9112 §7.1, RULES.md B1/B2 (requests: 400 CLIENT_INVALID_FRAMING)
  [
    '§7.1 chunk-size 0x5',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n`,
    reject('B1', 'CLIENT_INVALID_FRAMING'),
  ],
  [
    '§7.1 SP before chunk-size',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n`,
    reject('B1', 'CLIENT_INVALID_FRAMING'),
  ],
  [
    '§7.1.1 BWS not followed by ";"',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n`,
    reject('B1', 'CLIENT_INVALID_FRAMING'),
  ],
  [
    '§7.1.1 extension without a name',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;=a\r\nhello\r\n0\r\n\r\n`,
    reject('B1', 'CLIENT_INVALID_FRAMING'),
  ],
  [
    '§7.1.1 bare LF in an extension (TERM.EXT)',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a\nhello\r\n0\r\n\r\n`,
    reject('B1', 'CLIENT_INVALID_FRAMING'),
  ],
  [
    '§7.1 chunk data longer than its size',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n`,
    reject('B1', 'CLIENT_INVALID_FRAMING'),
  ],
  [
    'RULES.md chunk size over 2^53-1, input ends after it',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n20000000000000`,
    reject('B1', 'CLIENT_INVALID_FRAMING'),
  ],
  [
    'RULES.md chunk line over 4 KiB',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1;a=${'b'.repeat(4091)}\r\nx\r\n0\r\n\r\n`,
    reject('B1', 'CLIENT_INVALID_FRAMING'),
  ],
  [
    'RFC 9110 §6.5.1 Host in a trailer (B2)',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\nHost: b\r\n\r\n`,
    reject('B2', 'CLIENT_INVALID_FRAMING'),
  ],
  [
    'B2 obs-fold in a trailer',
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\nX: a\r\n b\r\n\r\n`,
    reject('B2', 'CLIENT_INVALID_FRAMING'),
  ],
  // The input ends (FIN): RULES.md "client closes mid-request" → CLIENT_ABORTED
  ['FIN inside the head', `GET / HTTP/1.1\r\n${H}`, reject('CLOSED', 'CLIENT_ABORTED')],
  [
    'FIN inside a Content-Length body',
    `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhel`,
    reject('B3', 'CLIENT_ABORTED'),
  ],
]

t.test('rejected requests: rule and code', async (t) => {
  for (const [cite, raw, expect] of REJECTED)
    t.same(rejected(recognizeRequest(raw)), expect, `${cite}: ${JSON.stringify(raw.slice(0, 80))}`)
})

t.test('a chunk line of exactly 4 KiB is valid; one byte more is not (RULES.md B1)', async (t) => {
  const head = `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`
  // "1;a=" + value + CRLF: 4096 bytes when the value is 4090.
  const line = (n: number) => `1;a=${'b'.repeat(n)}\r\n`
  t.equal(line(4090).length, 4096)
  const ok = recognizeRequest(`${head}${line(4090)}x\r\n0\r\n\r\n`)
  t.ok(ok.ok, 'a 4096-byte chunk line')
  t.same(rejected(recognizeRequest(`${head}${line(4091)}x\r\n0\r\n\r\n`)), reject('B1', 'CLIENT_INVALID_FRAMING'))
})

t.test('16 KiB of chunk extensions per message are valid; one byte more is not (RULES.md B1)', async (t) => {
  const head = `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`
  // Four chunk lines of 4096 bytes carry 4 × 4093 extension bytes; the last chunk the rest.
  const ext = (n: number) => `;a=${'b'.repeat(n - 3)}`
  const chunk = `1${ext(4093)}\r\nx\r\n`
  const body = (last: number) => `${chunk.repeat(4)}0${ext(last)}\r\n\r\n`
  t.ok(recognizeRequest(`${head}${body(16_384 - 4 * 4093)}`).ok, 'exactly 16384 extension bytes')
  t.same(rejected(recognizeRequest(`${head}${body(16_385 - 4 * 4093)}`)), reject('B1', 'CLIENT_INVALID_FRAMING'))
})

t.test('accepted requests: what the reference reports', async (t) => {
  const simple = `GET /a?b HTTP/1.1\r\nHost:  a:80 \t\r\nX:\t1  2\t\r\n\r\n`
  t.same(recognizeRequest(simple), {
    ok: true,
    head: {
      method: 'GET',
      target: '/a?b',
      version: '1.1',
      // RFC 9110 §5.5: OWS around a field value is not part of it.
      fields: [
        ['Host', 'a:80'],
        ['X', '1  2'],
      ],
    },
    framing: { kind: 'none' },
    body: '',
    trailers: [],
    consumed: simple.length,
  })
  // RFC 9112 §7.1: chunks, extensions with BWS and quoted-pairs (§7.1.1), trailers (§7.1.2).
  const chunked = `POST / HTTP/1.1\r\n${H}Transfer-Encoding: Chunked\r\n\r\n5 ; a = "x\\"y" ;b\r\nhello\r\n000\t;c=d\r\nX-T: 1\r\n\r\n`
  const v = recognizeRequest(chunked)
  t.ok(v.ok)
  if (v.ok) {
    t.same([v.framing, v.body, v.trailers, v.consumed], [{ kind: 'chunked' }, 'hello', [['X-T', '1']], chunked.length])
  }
  // RULES.md: the leniency is forwarded as received; an empty Host is valid; HTTP/1.0 needs no Host.
  for (const raw of [
    `GET /{a}|b^c\`d HTTP/1.1\r\n${H}\r\n`,
    'GET / HTTP/1.1\r\nHost:\r\n\r\n',
    'GET / HTTP/1.0\r\n\r\n',
    `OPTIONS * HTTP/1.1\r\n${H}\r\n`,
    `GET http://[::1]:8080/x?y HTTP/1.1\r\n${H}\r\n`,
    `POST / HTTP/1.1\r\n${H}Content-Length: 005\r\n\r\nhello`,
    `GET / HTTP/1.1\r\nHost: [v1.x]\r\n\r\n`,
  ]) {
    t.ok(recognizeRequest(raw).ok, JSON.stringify(raw))
  }
})

t.test('pipelined requests and limits', async (t) => {
  const two = `POST / HTTP/1.1\r\n${H}Content-Length: 2\r\n\r\nhiGET /2 HTTP/1.0\r\n\r\n`
  const v = recognizeRequests(two)
  t.same(
    v.requests.map((r) => [r.head.target, r.body, r.consumed]),
    [
      ['/', 'hi', 49],
      ['/2', '', 19],
    ],
  )
  t.equal(v.rejected, null)
  const limits = { maxHeaderBytes: 32, maxHeaderCount: 1, maxUrlBytes: 4, maxRequestBodyBytes: 3 }
  t.same(rejected(recognizeRequest(`GET /abc HTTP/1.1\r\n${H}\r\n`, { limits })), null, 'a target of maxUrlBytes')
  t.same(
    rejected(recognizeRequest(`GET /abcd HTTP/1.1\r\n${H}\r\n`, { limits })),
    reject('target length', 'CLIENT_URI_TOO_LONG'),
  )
  t.same(
    rejected(recognizeRequest(`GET / HTTP/1.1\r\n${H}X: 1\r\n\r\n`, { limits })),
    reject('H5', 'CLIENT_HEADERS_TOO_LARGE'),
  )
  t.same(rejected(recognizeRequest(`GET / HTTP/1.1\r\nHost: ${'a'.repeat(6)}\r\n\r\n`, { limits })), null, '32 bytes')
  t.same(
    rejected(recognizeRequest(`GET / HTTP/1.1\r\nHost: ${'a'.repeat(7)}\r\n\r\n`, { limits })),
    reject('H5', 'CLIENT_HEADERS_TOO_LARGE'),
  )
  t.same(
    rejected(
      recognizeRequest(`POST / HTTP/1.1\r\n${H}Content-Length: 4\r\n\r\nabcd`, { limits: { maxRequestBodyBytes: 3 } }),
    ),
    reject('body size', 'CLIENT_BODY_TOO_LARGE'),
  )
  const big = recognizeRequest(`POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n`, {
    limits: { maxRequestBodyBytes: 3 },
  })
  t.same(rejected(big), reject('body size', 'CLIENT_BODY_TOO_LARGE'))
  t.equal(big.ok ? '' : big.delivered.body, 'abc', 'exactly the allowed bytes were delivered')
  // RULES.md B2 for requests: the trailer section within the head limits → 400 framing.
  const trailers = `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n`
  t.same(
    rejected(recognizeRequest(trailers, { limits: { maxHeaderCount: 2 } })),
    reject('B2', 'CLIENT_INVALID_FRAMING'),
  )
})
