// The client request rules of RULES.md, each fixture the exact bytes a client sends, run whole,
// at every split offset and byte by byte, asserting the exact code and offset. Request
// smuggling shapes (CL.TE, TE.CL, TE.TE obfuscations) are rejected here, before any byte goes
// upstream.

import t from 'tap'
import { FieldKind, isHopByHop, type RequestHead } from '../../src/h1/head.js'
import { DEFAULT_LIMITS } from '../../src/h1/limits.js'
import { RequestParser } from '../../src/h1/request-parser.js'
import {
  acceptsRequest as accepts,
  body,
  CHUNK as CHUNKED,
  complete,
  requestHead as head,
  NONE,
  rejectsRequestBody as rejectsBody,
  rejectsRequestHead as rejectsHead,
} from '../helpers/rule-cases.js'
import { bodyOf, checkRequests, completions } from '../helpers/split.js'

const GET = 'GET / HTTP/1.1\r\n' // 16 bytes: the first field line starts at offset 16
const POST = 'POST / HTTP/1.1\r\nHost: a\r\n' // 26 bytes

t.test('request line grammar → CLIENT_INVALID_REQUEST', async (t) => {
  const code = 'CLIENT_INVALID_REQUEST'
  rejectsHead(t, 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n', code, 4)
  rejectsHead(t, 'GET / HTTP/1.1 \r\nHost: a\r\n\r\n', code, 14)
  rejectsHead(t, 'GET /  HTTP/1.1\r\nHost: a\r\n\r\n', code, 6)
  rejectsHead(t, ' GET / HTTP/1.1\r\nHost: a\r\n\r\n', code, 0)
  rejectsHead(t, 'GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n', code, 3)
  rejectsHead(t, 'GE(T / HTTP/1.1\r\nHost: a\r\n\r\n', code, 2)
  rejectsHead(t, 'GET /a b HTTP/1.1\r\nHost: a\r\n\r\n', code, 7)
  rejectsHead(t, 'GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n', code, 5)
  rejectsHead(t, 'GET /\xe9 HTTP/1.1\r\nHost: a\r\n\r\n', code, 5)
  rejectsHead(t, 'GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n', code, 5)
  rejectsHead(t, 'GET / HTTX/1.1\r\nHost: a\r\n\r\n', code, 9)
  rejectsHead(t, 'GET / http/1.1\r\nHost: a\r\n\r\n', code, 6)
  rejectsHead(t, 'GET / HTTP/1.10\r\nHost: a\r\n\r\n', code, 14)
  rejectsHead(t, 'GET / HTTP/1\r\nHost: a\r\n\r\n', code, 12)
  rejectsHead(t, 'GET /\r\nHost: a\r\n\r\n', code, 5)
  // No empty line before the request line (RFC 9112 §2.2 only allows ignoring it).
  rejectsHead(t, '\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n', code, 0)
})

t.test('bare LF and bare CR in the request line → CLIENT_INVALID_REQUEST', async (t) => {
  const code = 'CLIENT_INVALID_REQUEST'
  rejectsHead(t, 'GET / HTTP/1.1\nHost: a\r\n\r\n', code, 14)
  rejectsHead(t, 'GET / HTTP/1.1\rHost: a\r\n\r\n', code, 15)
  rejectsHead(t, 'GET /\n HTTP/1.1\r\nHost: a\r\n\r\n', code, 5)
  rejectsHead(t, 'GET /\r HTTP/1.1\r\nHost: a\r\n\r\n', code, 5)
  rejectsHead(t, 'GET\r/ HTTP/1.1\r\nHost: a\r\n\r\n', code, 3)
})

t.test('request-target forms → CLIENT_INVALID_REQUEST', async (t) => {
  const code = 'CLIENT_INVALID_REQUEST'
  // A target is none of the forms from its first byte on (RULES.md: the target grammar is
  // checked byte by byte; a wrong form is blamed at the target's first byte).
  rejectsHead(t, 'GET example.com HTTP/1.1\r\nHost: a\r\n\r\n', code, 4)
  rejectsHead(t, 'GET * HTTP/1.1\r\nHost: a\r\n\r\n', code, 4)
  rejectsHead(t, 'GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n', code, 4)
  rejectsHead(t, 'GET http://user@a/ HTTP/1.1\r\nHost: a\r\n\r\n', code, 4)
  rejectsHead(t, 'GET http:/// HTTP/1.1\r\nHost: a\r\n\r\n', code, 4)
  accepts(t, 'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n', [head('OPTIONS', '*', [['Host', 'a']], NONE), complete])
  accepts(t, 'GET http://example.com:8080/p?q=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n', [
    head('GET', 'http://example.com:8080/p?q=1', [['Host', 'example.com:8080']], NONE),
    complete,
  ])
  accepts(t, 'GET /a/b;c?d=e&f=%20 HTTP/1.1\r\nHost: a\r\n\r\n', [
    head('GET', '/a/b;c?d=e&f=%20', [['Host', 'a']], NONE),
    complete,
  ])
})

t.test('CONNECT and unknown methods → CLIENT_UNSUPPORTED_METHOD', async (t) => {
  const code = 'CLIENT_UNSUPPORTED_METHOD'
  // A method is judged whole once its SP arrives (RULES.md Decisions), blamed at its first byte.
  rejectsHead(t, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', code, 0)
  rejectsHead(t, 'FOO / HTTP/1.1\r\nHost: a\r\n\r\n', code, 0)
  rejectsHead(t, 'get / HTTP/1.1\r\nHost: a\r\n\r\n', code, 0)
  rejectsHead(t, 'GETX / HTTP/1.1\r\nHost: a\r\n\r\n', code, 0)
  // PRI is reserved for the HTTP/2 connection preface (RFC 9113 §3.4), whatever follows it
  // (RULES.md Decisions): the preface itself is refused for its method, before its version.
  rejectsHead(t, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', code, 0)
  rejectsHead(t, 'PRI / HTTP/1.1\r\nHost: a\r\n\r\n', code, 0)
  // CONNECT is judged with the method, before a version or a field that is wrong too.
  rejectsHead(t, 'CONNECT a:443 HTTP/2.0\r\n\r\n', code, 0)
  rejectsHead(t, 'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nContent-Length: x\r\n\r\n', code, 0)
})

t.test('version other than HTTP/1.0 or HTTP/1.1 → CLIENT_UNSUPPORTED_VERSION', async (t) => {
  const code = 'CLIENT_UNSUPPORTED_VERSION'
  rejectsHead(t, 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', code, 11)
  rejectsHead(t, 'GET / HTTP/0.9\r\nHost: a\r\n\r\n', code, 11)
  rejectsHead(t, 'GET / HTTP/1.2\r\nHost: a\r\n\r\n', code, 13)
  rejectsHead(t, 'GET / HTTP/3\r\nHost: a\r\n\r\n', code, 11)
})

t.test('field rules H1–H4 → CLIENT_INVALID_HEADER', async (t) => {
  const code = 'CLIENT_INVALID_HEADER'
  rejectsHead(t, `${GET}Host : a\r\n\r\n`, code, 20)
  rejectsHead(t, `${GET}Host: a\r\n: b\r\n\r\n`, code, 25)
  rejectsHead(t, `${GET}Host: a\r\nX(: b\r\n\r\n`, code, 26)
  rejectsHead(t, `${GET} Host: a\r\n\r\n`, code, 16)
  rejectsHead(t, `${GET}Host: a\r\nX: b\x00c\r\n\r\n`, code, 29)
  rejectsHead(t, `${GET}Host: a\r\nX: b\x7fc\r\n\r\n`, code, 29)
  // obs-fold
  rejectsHead(t, `${GET}Host: a\r\nX: b\r\n c\r\n\r\n`, code, 31)
  rejectsHead(t, `${GET}Host: a\r\nX: b\r\n\tc\r\n\r\n`, code, 31)
  // bare LF, bare CR
  rejectsHead(t, `${GET}Host: a\nX: b\r\n\r\n`, code, 23)
  rejectsHead(t, `${GET}Host: a\r\n\n`, code, 25)
  rejectsHead(t, `${GET}Host: a\rX: b\r\n\r\n`, code, 24)
  rejectsHead(t, `${GET}Host: a\r\n\rX`, code, 26)
})

t.test('missing Host in HTTP/1.1, more than one Host, invalid Host → CLIENT_INVALID_HEADER', async (t) => {
  const code = 'CLIENT_INVALID_HEADER'
  rejectsHead(t, `${GET}\r\n`, code, 16)
  rejectsHead(t, `${GET}X: y\r\n\r\n`, code, 22)
  rejectsHead(t, `${GET}Host: a\r\nHost: a\r\n\r\n`, code, 25)
  rejectsHead(t, `${GET}Host: a\r\nhost: b\r\n\r\n`, code, 25)
  rejectsHead(t, `${GET}Host: a b\r\n\r\n`, code, 22)
  rejectsHead(t, `${GET}Host: a/b\r\n\r\n`, code, 22)
  rejectsHead(t, `${GET}Host: a:b\r\n\r\n`, code, 22)
  // An empty host with a port: an http URI with an empty host (RFC 9110 §4.2.1, RULES.md Decisions).
  rejectsHead(t, `${GET}Host: :80\r\n\r\n`, code, 22)
  // An empty Host is valid and forwarded (RULES.md; RFC 9112 §3.2).
  accepts(t, `${GET}Host:\r\n\r\n`, [head('GET', '/', [['Host', '']], NONE), complete])
  // HTTP/1.0 has no Host requirement.
  accepts(t, 'GET / HTTP/1.0\r\n\r\n', [head('GET', '/', [], NONE), complete])
  accepts(t, 'GET / HTTP/1.0\r\nUser-Agent: x\r\n\r\n', [head('GET', '/', [['User-Agent', 'x']], NONE), complete])
})

t.test('head over the limits → CLIENT_HEADERS_TOO_LARGE / CLIENT_URI_TOO_LONG', async (t) => {
  const limits = { ...DEFAULT_LIMITS, maxHeaderBytes: 64, maxHeaderCount: 2, maxUrlBytes: 16 }
  const pad = (n: number) => `${GET}Host: a\r\nX: ${'p'.repeat(n)}\r\n\r\n`
  const fits = pad(64 - pad(0).length)
  t.equal(fits.length, 64)
  accepts(
    t,
    fits,
    [
      head(
        'GET',
        '/',
        [
          ['Host', 'a'],
          ['X', 'p'.repeat(64 - pad(0).length)],
        ],
        NONE,
      ),
      complete,
    ],
    { limits },
  )
  rejectsHead(t, pad(65 - pad(0).length), 'CLIENT_HEADERS_TOO_LARGE', 64, { limits })
  rejectsHead(t, `${GET}Host: a\r\nA: 1\r\nB: 2\r\n\r\n`, 'CLIENT_HEADERS_TOO_LARGE', 31, { limits })
  // The request-target alone: 16 bytes fit, the 17th is too many.
  accepts(
    t,
    `GET /${'u'.repeat(15)} HTTP/1.1\r\nHost: a\r\n\r\n`,
    [head('GET', `/${'u'.repeat(15)}`, [['Host', 'a']], NONE), complete],
    {
      limits,
    },
  )
  rejectsHead(t, `GET /${'u'.repeat(16)} HTTP/1.1\r\nHost: a\r\n\r\n`, 'CLIENT_URI_TOO_LONG', 20, { limits })
})

t.test('default limits: 16 KiB head, 100 fields, 8 KiB target (sampled splits)', async (t) => {
  const offsets = [0, 5, 16, 8_000, 8_197, 16_383, 16_384]
  let o = checkRequests(t, `GET /${'u'.repeat(8_191)} HTTP/1.1\r\nHost: a\r\n\r\n`, {}, offsets)
  t.same(o.failure, null, 'a target of 8192 bytes is accepted')
  o = checkRequests(t, `GET /${'u'.repeat(8_192)} HTTP/1.1\r\nHost: a\r\n\r\n`, {}, offsets)
  t.same(o.failure, { code: 'CLIENT_URI_TOO_LONG', offset: 4 + 8_192 })
  const pad = (n: number) => `${GET}Host: a\r\nX: ${'p'.repeat(n)}\r\n\r\n`
  o = checkRequests(t, pad(16_384 - pad(0).length), {}, offsets)
  t.same(o.failure, null, 'a head of 16384 bytes is accepted')
  o = checkRequests(t, pad(16_385 - pad(0).length), {}, offsets)
  t.same(o.failure, { code: 'CLIENT_HEADERS_TOO_LARGE', offset: 16_384 })
  const fields = (n: number) =>
    `${GET}${Array.from({ length: n }, (_, i) => (i === 0 ? 'Host: a\r\n' : `F${i}: v\r\n`)).join('')}\r\n`
  o = checkRequests(t, fields(100), {}, [0, 16, 500])
  t.same(o.failure, null, '100 fields are accepted')
  const many = fields(101)
  o = checkRequests(t, many, {}, [0, 16, 500])
  t.same(o.failure, { code: 'CLIENT_HEADERS_TOO_LARGE', offset: many.indexOf('F100:') })
})

t.test('Content-Length invalid or duplicated → CLIENT_INVALID_FRAMING', async (t) => {
  const code = 'CLIENT_INVALID_FRAMING'
  // Judged once the head's grammar is known (RULES.md Decisions), blamed at the value's start.
  rejectsHead(t, `${POST}Content-Length: 5, 5\r\n\r\nhello`, code, 42)
  rejectsHead(t, `${POST}Content-Length: +5\r\n\r\nhello`, code, 42)
  rejectsHead(t, `${POST}Content-Length: -1\r\n\r\nhello`, code, 42)
  rejectsHead(t, `${POST}Content-Length: 5 5\r\n\r\nhello`, code, 42)
  rejectsHead(t, `${POST}Content-Length: \r\n\r\nhello`, code, 44)
  rejectsHead(t, `${POST}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`, code, 61)
  rejectsHead(t, `${POST}Content-Length: 9007199254740992\r\n\r\nhello`, code, 42)
  // Regression: a Content-Length of more than 16 digits was refused even when its value is small.
  accepts(t, `${POST}Content-Length: 000000000000000000005\r\n\r\nhello`, [
    head(
      'POST',
      '/',
      [
        ['Host', 'a'],
        ['Content-Length', '000000000000000000005'],
      ],
      { kind: 'length', length: 5 },
    ),
    body('hello'),
    complete,
  ])
})

t.test('request smuggling: Content-Length with Transfer-Encoding → CLIENT_INVALID_FRAMING', async (t) => {
  const code = 'CLIENT_INVALID_FRAMING'
  // CL.TE and TE.CL: both orders, whatever the coding; blamed at the Transfer-Encoding field line
  // (judged with the whole head: RULES.md Decisions).
  rejectsHead(t, `${POST}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX`, code, 45)
  rejectsHead(t, `${POST}Transfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n0\r\n\r\nX`, code, 26)
  rejectsHead(t, `${POST}Content-Length: 5\r\nTransfer-Encoding: gzip\r\n\r\nhello`, code, 45)
  rejectsHead(t, `${POST}Transfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello`, code, 26)
  // "\tchunked" is OWS + chunked: still chunked, still contradicting Content-Length.
  rejectsHead(t, `${POST}Content-Length: 5\r\nTransfer-Encoding:\tchunked\r\n\r\n0\r\n\r\n`, code, 45)
  rejectsHead(t, `${POST}Transfer-Encoding:\tchunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`, code, 26)
  // Transfer-Encoding in an HTTP/1.0 request is faulty framing (RFC 9112 §6.1).
  rejectsHead(t, 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', code, 17)
})

t.test(
  'request smuggling: Transfer-Encoding other than exactly "chunked" → CLIENT_UNSUPPORTED_TRANSFER_ENCODING',
  async (t) => {
    const code = 'CLIENT_UNSUPPORTED_TRANSFER_ENCODING'
    // Judged with the whole head (RULES.md Decisions), blamed at the (first) field line.
    rejectsHead(t, `${POST}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`, code, 26)
    rejectsHead(t, `${POST}Transfer-Encoding: chunkedx\r\n\r\n0\r\n\r\n`, code, 26)
    rejectsHead(t, `${POST}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`, code, 26)
    rejectsHead(t, `${POST}Transfer-Encoding: gzip\r\n\r\n0\r\n\r\n`, code, 26)
    rejectsHead(t, `${POST}Transfer-Encoding: identity\r\n\r\n`, code, 26)
    // llhttp accepts these (chunked is last); strictgate does not.
    rejectsHead(t, `${POST}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, code, 26)
    rejectsHead(t, `${POST}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, code, 26)
    rejectsHead(t, `${POST}Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, code, 26)
  },
)

t.test('request smuggling: obfuscated Transfer-Encoding field → CLIENT_INVALID_HEADER', async (t) => {
  const code = 'CLIENT_INVALID_HEADER'
  rejectsHead(t, `${POST}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`, code, 44)
  // (llhttp is given HTAB as SP, see MessageParser.executeHead: blamed like the SP above.)
  rejectsHead(t, `${POST}Transfer-Encoding\t: chunked\r\n\r\n0\r\n\r\n`, code, 44)
  rejectsHead(t, `${POST}Transfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n`, code, 45)
  rejectsHead(t, `${POST}Transfer-Encoding: \x0cchunked\r\n\r\n0\r\n\r\n`, code, 45)
  rejectsHead(t, `${POST} Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, code, 26)
  rejectsHead(t, `${POST}X: y\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, code, 32)
  rejectsHead(t, `${POST}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n`, code, 46)
  rejectsHead(t, `${POST}Transfer-Encoding: chunked\n\r\n0\r\n\r\n`, code, 52)
  // With OWS around it the value is exactly "chunked" (RFC 9110 §5.5): accepted, consistently.
  accepts(t, `${POST}Transfer-Encoding:\tchunked \r\n\r\n3\r\nabc\r\n0\r\n\r\n`, [
    head(
      'POST',
      '/',
      [
        ['Host', 'a'],
        ['Transfer-Encoding', 'chunked'],
      ],
      CHUNKED,
    ),
    body('abc'),
    complete,
  ])
})

// RULES.md Decisions (issue 14): a field line's grammar (H1–H4) is checked before what a
// Content-Length or Transfer-Encoding field means, and Host before F2–F4, whatever order llhttp
// would find them in as the bytes stream; the input ending inside the head is an abort.
t.test('field grammar before field meaning, Host before Transfer-Encoding', async (t) => {
  const code = 'CLIENT_INVALID_HEADER'
  rejectsHead(t, `${POST}Content-Length: 5\x01\r\n\r\nhello`, code, 43)
  rejectsHead(t, `${POST}Content-Length: 2 x\n\r\nhello`, code, 45)
  rejectsHead(t, `${POST}Transfer-Encoding: chunked\x01\r\n\r\n0\r\n\r\n`, code, 52)
  // A later field line breaking the grammar comes first too.
  rejectsHead(t, `${POST}Content-Length: x\r\nX: a\x01\r\n\r\n`, code, 49)
  rejectsHead(t, `${POST}Content-Length: 1\r\nContent-Length: 2\r\nX: a\x00\r\n\r\n`, code, 68)
  rejectsHead(t, `${POST}Content-Length: 1\r\nTransfer-Encoding: chunked\r\nX: a\x00\r\n\r\n`, code, 77)
  // Host is judged before the framing fields.
  rejectsHead(t, 'POST / HTTP/1.1\r\nHost: \xffa\r\nTransfer-Encoding: \xffchunked\r\n\r\n', code, 23)
  rejectsHead(t, 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nHost: a:b\r\n\r\n', code, 48)
  rejectsHead(t, 'POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\nHost: a:b\r\n\r\n', code, 70)
  // The connection ends before the head does: however wrong its framing fields, an abort.
  rejectsHead(t, `${POST}Content-Length: 5\r\nContent-Length: 5`, 'CLIENT_ABORTED', 62, { end: 'fin' })
})

t.test('chunked request body framing → CLIENT_INVALID_FRAMING', async (t) => {
  const code = 'CLIENT_INVALID_FRAMING'
  const te = `${POST}Transfer-Encoding: chunked\r\n\r\n` // 56 bytes
  rejectsBody(t, `${te}0x5\r\nhello\r\n0\r\n\r\n`, code, 57, '')
  rejectsBody(t, `${te}5z\r\nhello\r\n0\r\n\r\n`, code, 57, '')
  rejectsBody(t, `${te}5 \r\nhello\r\n0\r\n\r\n`, code, 58, '')
  rejectsBody(t, `${te}5\nhello\r\n0\r\n\r\n`, code, 58, '')
  rejectsBody(t, `${te}5\r\nhelloX0\r\n\r\n`, code, 64, 'hello')
  // A chunk size above 2^53 - 1, and above 2^64: at the digit that makes it too large (RULES.md B1).
  rejectsBody(t, `${te}20000000000000\r\nhello\r\n0\r\n\r\n`, code, 69, '')
  rejectsBody(t, `${te}fffffffffffffffff\r\nhello\r\n0\r\n\r\n`, code, 69, '')
  // Forbidden or malformed trailers.
  rejectsBody(t, `${te}0\r\nContent-Length: 5\r\n\r\n`, code, 74, '')
  rejectsBody(t, `${te}0\r\nHost: b\r\n\r\n`, code, 70, '')
  rejectsBody(t, `${te}0\r\nX: y\r\n z\r\n\r\n`, code, 65, '')
  rejectsBody(t, `${te}0\r\nX: y\nZ: 1\r\n\r\n`, code, 63, '')
})

t.test('request body over maxRequestBodyBytes → CLIENT_BODY_TOO_LARGE', async (t) => {
  const limits = { ...DEFAULT_LIMITS, maxRequestBodyBytes: 5 }
  const code = 'CLIENT_BODY_TOO_LARGE'
  // Regression: the limit counted head and chunk-framing bytes, and a body completing in the same
  // execute as the head was never checked.
  accepts(
    t,
    `${POST}Content-Length: 5\r\n\r\nhello`,
    [
      head(
        'POST',
        '/',
        [
          ['Host', 'a'],
          ['Content-Length', '5'],
        ],
        { kind: 'length', length: 5 },
      ),
      body('hello'),
      complete,
    ],
    { limits },
  )
  accepts(
    t,
    `${POST}Transfer-Encoding: chunked\r\n\r\n2;x=y\r\nhe\r\n3\r\nllo\r\n0\r\nX-T: 1\r\n\r\n`,
    [
      head(
        'POST',
        '/',
        [
          ['Host', 'a'],
          ['Transfer-Encoding', 'chunked'],
        ],
        CHUNKED,
      ),
      body('hello'),
      { kind: 'trailers', trailers: [['X-T', '1']] },
      complete,
    ],
    { limits },
  )
  rejectsHead(t, `${POST}Content-Length: 6\r\n\r\nhello!`, code, 47, { limits })
  // Chunked: exactly the allowed bytes are delivered, the failure is at the first one past them.
  rejectsBody(t, `${POST}Transfer-Encoding: chunked\r\n\r\n6\r\nhello!\r\n0\r\n\r\n`, code, 64, 'hello', { limits })
  rejectsBody(t, `${POST}Transfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n3\r\nlo!\r\n0\r\n\r\n`, code, 69, 'hello', {
    limits,
  })
  const none = { ...DEFAULT_LIMITS, maxRequestBodyBytes: 0 }
  rejectsBody(t, `${POST}Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n`, code, 59, '', { limits: none })
  // The limit is per request.
  const two = `${POST}Content-Length: 4\r\n\r\nabcd${POST}Transfer-Encoding: chunked\r\n\r\n4\r\nefgh\r\n0\r\n\r\n`
  const o = checkRequests(t, two, { limits })
  t.same(o.failure, null)
  t.equal(completions(o), 2)
  t.equal(bodyOf(o), 'abcdefgh')
})

// RULES.md's client table puts B2 (the trailer section within the head limits) in the
// CLIENT_INVALID_FRAMING row: a 400, not the head's 431 (RULES.md Decisions).
t.test('trailer section over the limits → CLIENT_INVALID_FRAMING', async (t) => {
  const limits = { ...DEFAULT_LIMITS, maxHeaderCount: 2 }
  rejectsBody(
    t,
    `${POST}Transfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n`,
    'CLIENT_INVALID_FRAMING',
    71,
    '',
    {
      limits,
    },
  )
})

t.test('pipelined requests in one buffer are parsed one at a time', async (t) => {
  const raw =
    `${POST}Content-Length: 5\r\n\r\nhello` +
    `GET /2 HTTP/1.1\r\nHost: a\r\n\r\n` +
    `${POST}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n` +
    'GET /4 HTTP/1.0\r\n\r\n'
  accepts(t, raw, [
    head(
      'POST',
      '/',
      [
        ['Host', 'a'],
        ['Content-Length', '5'],
      ],
      { kind: 'length', length: 5 },
    ),
    body('hello'),
    complete,
    head('GET', '/2', [['Host', 'a']], NONE),
    complete,
    head(
      'POST',
      '/',
      [
        ['Host', 'a'],
        ['Transfer-Encoding', 'chunked'],
      ],
      CHUNKED,
    ),
    body('abc'),
    complete,
    head('GET', '/4', [], NONE),
    complete,
  ])
  // An invalid request after a valid one: the first stands, the offset counts from the second.
  const o = checkRequests(t, `${GET}Host: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`)
  t.equal(completions(o), 1)
  t.same(o.failure, { code: 'CLIENT_INVALID_HEADER', offset: 25 })
})

t.test('execute returns where a complete message ended; the caller feeds the rest again', async (t) => {
  const first = `${GET}Host: a\r\n\r\n`
  const buf = Buffer.from(`${first}GET /2 HTTP/1.1\r\nHost: b\r\n\r\n`, 'latin1')
  const heads: RequestHead[] = []
  let done = 0
  const p = new RequestParser({
    onHead: (h) => heads.push(h),
    onBody: () => {},
    onTrailers: () => {},
    onComplete: () => done++,
  })
  t.ok(p.idle, 'idle before the first byte')
  const n = p.execute(buf)
  t.equal(n, first.length, 'stops after the first message')
  t.equal(done, 1)
  t.ok(p.idle, 'idle between messages')
  t.equal(p.execute(buf, n), buf.length, 'resumes from `start`')
  t.same(
    heads.map((h) => [h.target, h.host]),
    [
      ['/', 'a'],
      ['/2', 'b'],
    ],
  )
  t.equal(p.finish(), null, 'FIN between messages is a clean end')
  p.destroy()
})

t.test('FIN inside a request → CLIENT_ABORTED', async (t) => {
  rejectsHead(t, `${GET}Host: a\r\n`, 'CLIENT_ABORTED', 25)
  rejectsBody(t, `${POST}Content-Length: 5\r\n\r\nhel`, 'CLIENT_ABORTED', 50, 'hel')
  rejectsBody(t, `${POST}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`, 'CLIENT_ABORTED', 66, 'hello')
  const o = checkRequests(t, '')
  t.same(o, { events: [], failure: null, consumed: 0 }, 'no bytes then FIN is a clean end')
  const open = checkRequests(t, `${POST}Content-Length: 5\r\n\r\nhel`, { end: 'none' })
  t.same(open.failure, null, 'without FIN the request is still in progress')
})

t.test('what the request head tells the gateway', async (t) => {
  const parse = (raw: string): RequestHead => {
    let head: RequestHead | undefined
    const p = new RequestParser({
      onHead: (h) => (head = h),
      onBody: () => {},
      onTrailers: () => {},
      onComplete: () => {},
    })
    const n = p.execute(Buffer.from(raw, 'latin1'))
    p.destroy()
    if (head === undefined) throw new Error(`no head (execute returned ${n})`)
    return head
  }
  let h = parse(
    `${GET}Host: a\r\nExpect: 100-continue\r\nTE: trailers\r\nConnection: Upgrade, close\r\nUpgrade: WebSocket, h2c\r\n\r\n`,
  )
  t.equal(h.expectContinue, true)
  t.equal(h.acceptsTrailers, true)
  t.same(h.upgrade, ['websocket', 'h2c'])
  t.same(h.connection, ['upgrade', 'close'])
  t.equal(h.keepAlive, false)
  t.equal(h.minorVersion, 1)
  h = parse(`${GET}Host: a\r\nUpgrade: websocket\r\n\r\n`)
  t.same(h.upgrade, [], 'Upgrade without Connection: upgrade is no upgrade request')
  t.equal(h.keepAlive, true)
  h = parse('GET / HTTP/1.0\r\nConnection: keep-alive\r\nUpgrade: websocket\r\n\r\n')
  t.equal(h.keepAlive, true)
  t.same(h.upgrade, [])
  t.equal(h.host, '')
  t.equal(parse('GET / HTTP/1.0\r\n\r\n').keepAlive, false)
  t.equal(parse('GET http://b:81/x HTTP/1.1\r\nHost: a\r\n\r\n').host, 'b:81', 'absolute-form authority wins')
  t.equal(parse('GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n').host, '[::1]:8080')
  // The fields the gateway acts on are classified, case-insensitively; hop-by-hop ones are known.
  h = parse(
    `${GET}HOST: a\r\nconnection: x\r\nKeep-Alive: 5\r\nProxy-Connection: y\r\nte: trailers\r\nTrailer: X\r\n` +
      'Upgrade: z\r\nExpect: 100-continue\r\nContent-Length: 0\r\nX-Other: 1\r\n\r\n',
  )
  t.same(h.kinds, [
    FieldKind.Host,
    FieldKind.Connection,
    FieldKind.KeepAlive,
    FieldKind.ProxyConnection,
    FieldKind.TE,
    FieldKind.Trailer,
    FieldKind.Upgrade,
    FieldKind.Expect,
    FieldKind.ContentLength,
    FieldKind.Other,
  ])
  t.same(
    h.kinds.map((k) => isHopByHop(k)),
    [false, true, true, true, true, true, true, false, false, false],
  )
})
