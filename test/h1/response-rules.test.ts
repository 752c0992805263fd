// One test per upstream row of RULES.md (S1–B5), each fixture the exact bytes an upstream sends,
// each run whole, at every split offset and byte by byte (test/helpers/split.ts), asserting the
// exact code and the offset of the offending byte within its message.

import t from 'tap'
import { fieldCount, fieldName, fieldValue, type ResponseHead, reasonPhrase } from '../../src/h1/head.js'
import { DEFAULT_LIMITS } from '../../src/h1/limits.js'
import { ResponseParser } from '../../src/h1/response-parser.js'
import {
  acceptsResponse as accepts,
  body,
  CHUNKED,
  complete,
  responseHead as head,
  OK,
  rejectsResponse as rejects,
  rejectsResponseBody as rejectsBody,
  rejectsResponseHead as rejectsHead,
} from '../helpers/rule-cases.js'
import { bodyOf, checkResponse, completions, headsOf } from '../helpers/split.js'

const WEBSOCKET = { method: 'GET', upgrade: ['websocket'] }

t.test('S1: version other than HTTP/1.0 or HTTP/1.1 → UPSTREAM_INVALID_VERSION', async (t) => {
  rejectsHead(t, 'HTTP/2.0 200 OK\r\nContent-Length: 5\r\n\r\nhello', 'UPSTREAM_INVALID_VERSION', 5)
  rejectsHead(t, 'HTTP/0.9 200 OK\r\nContent-Length: 5\r\n\r\nhello', 'UPSTREAM_INVALID_VERSION', 5)
  rejectsHead(t, 'RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n', 'UPSTREAM_INVALID_VERSION', 0)
  rejectsHead(t, 'ICE/1.0 200 OK\r\n\r\n', 'UPSTREAM_INVALID_VERSION', 0)
  rejectsHead(t, 'HTTP/1.2 200 OK\r\n\r\nhello', 'UPSTREAM_INVALID_VERSION', 7)
  rejectsHead(t, 'HTTP/1.10 200 OK\r\n\r\nhello', 'UPSTREAM_INVALID_VERSION', 8)
  rejectsHead(t, 'http/1.1 200 OK\r\n\r\nhello', 'UPSTREAM_INVALID_VERSION', 0)
  rejectsHead(t, 'HTTP/1.1200 OK\r\n\r\nhello', 'UPSTREAM_INVALID_VERSION', 8)
})

t.test('S2: status line is HTTP-version SP 3DIGIT SP reason CRLF → UPSTREAM_INVALID_STATUS_LINE', async (t) => {
  // llhttp accepts a status line without the second SP.
  rejectsHead(t, 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n', 'UPSTREAM_INVALID_STATUS_LINE', 12)
  rejectsHead(t, 'HTTP/1.1 200OK\r\nContent-Length: 0\r\n\r\n', 'UPSTREAM_INVALID_STATUS_LINE', 12)
  rejectsHead(t, 'HTTP/1.1 200\tOK\r\nContent-Length: 0\r\n\r\n', 'UPSTREAM_INVALID_STATUS_LINE', 12)
  rejectsHead(t, 'HTTP/1.1  200 OK\r\nContent-Length: 0\r\n\r\n', 'UPSTREAM_INVALID_STATUS_LINE', 9)
  rejectsHead(t, 'HTTP/1.1\t200 OK\r\nContent-Length: 0\r\n\r\n', 'UPSTREAM_INVALID_STATUS_LINE', 8)
  // llhttp skips empty lines before the status line.
  rejectsHead(t, '\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 'UPSTREAM_INVALID_STATUS_LINE', 0)
  rejectsHead(t, '\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 'UPSTREAM_INVALID_STATUS_LINE', 0)
  rejectsHead(t, ' HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 'UPSTREAM_INVALID_STATUS_LINE', 0)
  // The status line ends with CRLF: no bare LF, no bare CR.
  rejectsHead(t, 'HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n', 'UPSTREAM_INVALID_STATUS_LINE', 15)
  rejectsHead(t, 'HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n', 'UPSTREAM_INVALID_STATUS_LINE', 16)
})

t.test('S3: status code outside 100–599 → UPSTREAM_INVALID_STATUS_CODE', async (t) => {
  for (const code of ['000', '099', '600', '999']) {
    rejectsHead(t, `HTTP/1.1 ${code} X\r\nContent-Length: 0\r\n\r\n`, 'UPSTREAM_INVALID_STATUS_CODE', 9)
  }
  rejectsHead(t, 'HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n', 'UPSTREAM_INVALID_STATUS_CODE', 11)
  rejectsHead(t, 'HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n', 'UPSTREAM_INVALID_STATUS_CODE', 12)
  rejectsHead(t, 'HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n', 'UPSTREAM_INVALID_STATUS_CODE', 10)
  accepts(t, 'HTTP/1.1 599 Edge\r\nContent-Length: 0\r\n\r\n', [
    head(599, [['Content-Length', '0']], { kind: 'length', length: 0 }),
    complete,
  ])
})

t.test('S4: control character in the reason phrase → UPSTREAM_INVALID_STATUS_LINE', async (t) => {
  for (const ctl of ['\x00', '\x01', '\x0b', '\x1b', '\x7f']) {
    rejectsHead(t, `HTTP/1.1 200 O${ctl}K\r\nContent-Length: 0\r\n\r\n`, 'UPSTREAM_INVALID_STATUS_LINE', 14)
  }
  // HTAB, SP, VCHAR and obs-text are allowed; the reason may be empty.
  accepts(t, 'HTTP/1.1 200 O\tK \xe9\xff\r\nContent-Length: 0\r\n\r\n', [
    head(200, [['Content-Length', '0']], { kind: 'length', length: 0 }),
    complete,
  ])
  accepts(t, 'HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n', [
    head(200, [['Content-Length', '0']], { kind: 'length', length: 0 }),
    complete,
  ])
})

t.test('H1: field name is a non-empty token, no whitespace before the colon → UPSTREAM_INVALID_HEADER', async (t) => {
  rejectsHead(t, `${OK}A : b\r\nContent-Length: 0\r\n\r\n`, 'UPSTREAM_INVALID_HEADER', 18)
  rejectsHead(t, `${OK}A\t: b\r\nContent-Length: 0\r\n\r\n`, 'UPSTREAM_INVALID_HEADER', 18)
  rejectsHead(t, `${OK}: b\r\nContent-Length: 0\r\n\r\n`, 'UPSTREAM_INVALID_HEADER', 17)
  rejectsHead(t, `${OK}X(Y: b\r\nContent-Length: 0\r\n\r\n`, 'UPSTREAM_INVALID_HEADER', 18)
  rejectsHead(t, `${OK}X\xe9: b\r\nContent-Length: 0\r\n\r\n`, 'UPSTREAM_INVALID_HEADER', 18)
  rejectsHead(t, `${OK}NoColon\r\nContent-Length: 0\r\n\r\n`, 'UPSTREAM_INVALID_HEADER', 24)
  // Leading whitespace on the first field line (RFC 9112 §2.2).
  rejectsHead(t, `${OK} X: b\r\nContent-Length: 0\r\n\r\n`, 'UPSTREAM_INVALID_HEADER', 17)
  rejectsHead(t, `${OK}\tX: b\r\nContent-Length: 0\r\n\r\n`, 'UPSTREAM_INVALID_HEADER', 17)
})

t.test('H2: NUL, CR, LF or another CTL in a field value → UPSTREAM_INVALID_HEADER', async (t) => {
  for (const ctl of ['\x00', '\x01', '\x0b', '\x0c', '\x1f', '\x7f']) {
    rejectsHead(t, `${OK}A: b${ctl}c\r\nContent-Length: 5\r\n\r\nhello`, 'UPSTREAM_INVALID_HEADER', 21)
  }
  // A CR not followed by LF: found at the byte after it.
  rejectsHead(t, `${OK}A: b\rc\r\nContent-Length: 5\r\n\r\nhello`, 'UPSTREAM_INVALID_HEADER', 22)
  // HTAB inside and obs-text are allowed; OWS around the value is not part of it.
  accepts(t, `${OK}A: \t b\tc\x80\xff \t\r\nContent-Length: 0\r\n\r\n`, [
    head(
      200,
      [
        ['A', 'b\tc\x80\xff'],
        ['Content-Length', '0'],
      ],
      { kind: 'length', length: 0 },
    ),
    complete,
  ])
})

t.test('H3: obs-fold → UPSTREAM_INVALID_HEADER', async (t) => {
  rejectsHead(t, `${OK}A: b\r\n c\r\nContent-Length: 5\r\n\r\nhello`, 'UPSTREAM_INVALID_HEADER', 23)
  rejectsHead(t, `${OK}A: b\r\n\tc\r\nContent-Length: 5\r\n\r\nhello`, 'UPSTREAM_INVALID_HEADER', 23)
  rejectsHead(t, `${OK}Content-Length: 5\r\n \r\n\r\nhello`, 'UPSTREAM_INVALID_HEADER', 36)
})

t.test('H4: bare LF or bare CR in the field section → UPSTREAM_INVALID_HEADER', async (t) => {
  rejectsHead(t, `${OK}A: b\nContent-Length: 5\r\n\r\nhello`, 'UPSTREAM_INVALID_HEADER', 21)
  rejectsHead(t, `${OK}Content-Length: 5\r\n\nhello`, 'UPSTREAM_INVALID_HEADER', 36)
  rejectsHead(t, `${OK}Content-Length: 5\n\r\nhello`, 'UPSTREAM_INVALID_HEADER', 34)
  rejectsHead(t, `${OK}Content-Length: 5\r\n\rhello`, 'UPSTREAM_INVALID_HEADER', 37)
  rejectsHead(t, `${OK}A: b\rB: c\r\nContent-Length: 5\r\n\r\nhello`, 'UPSTREAM_INVALID_HEADER', 22)
})

t.test('H5: header section over maxHeaderBytes or maxHeaderCount → UPSTREAM_HEADERS_TOO_LARGE', async (t) => {
  const limits = { ...DEFAULT_LIMITS, maxHeaderBytes: 64, maxHeaderCount: 3 }
  const pad = (n: number) => `${OK}X-Pad: ${'p'.repeat(n)}\r\nContent-Length: 0\r\n\r\n`
  const fits = pad(64 - pad(0).length)
  t.equal(fits.length, 64)
  accepts(
    t,
    fits,
    [
      head(
        200,
        [
          ['X-Pad', 'p'.repeat(64 - pad(0).length)],
          ['Content-Length', '0'],
        ],
        { kind: 'length', length: 0 },
      ),
      complete,
    ],
    { limits },
  )
  rejectsHead(t, pad(65 - pad(0).length), 'UPSTREAM_HEADERS_TOO_LARGE', 64, { limits })
  const four = `${OK}A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n`
  rejectsHead(t, four, 'UPSTREAM_HEADERS_TOO_LARGE', four.indexOf('D:'), { limits })
  accepts(
    t,
    `${OK}A: 1\r\nB: 2\r\nC: 3\r\n\r\n`,
    [
      head(
        200,
        [
          ['A', '1'],
          ['B', '2'],
          ['C', '3'],
        ],
        { kind: 'close' },
      ),
      complete,
    ],
    { limits },
  )
})

t.test('H5: default limits are 16 KiB and 100 fields (sampled splits)', async (t) => {
  const offsets = [0, 1, 17, 100, 8_000, 16_383, 16_384, 16_385]
  const pad = (n: number) => `${OK}X-Pad: ${'p'.repeat(n)}\r\nContent-Length: 0\r\n\r\n`
  const exact = pad(16_384 - pad(0).length)
  t.equal(exact.length, 16_384)
  let o = checkResponse(t, exact, {}, offsets)
  t.same(o.failure, null, 'a head of exactly 16384 bytes is accepted')
  o = checkResponse(t, pad(16_385 - pad(0).length), {}, offsets)
  t.same(o.failure, { code: 'UPSTREAM_HEADERS_TOO_LARGE', offset: 16_384 })
  t.equal(headsOf(o).length, 0)
  const fields = (n: number) => `${OK}${Array.from({ length: n }, (_, i) => `F${i}: v\r\n`).join('')}\r\n`
  o = checkResponse(t, fields(100), {}, [0, 17, 100, 500])
  t.same(o.failure, null, '100 fields are accepted')
  t.equal(headsOf(o)[0].headers.length, 100)
  const many = fields(101)
  o = checkResponse(t, many, {}, [0, 17, 100, 500])
  t.same(o.failure, { code: 'UPSTREAM_HEADERS_TOO_LARGE', offset: many.indexOf('F100:') })
})

t.test('F1: Content-Length not one 1*DIGIT <= 2^53-1 → UPSTREAM_INVALID_CONTENT_LENGTH', async (t) => {
  const code = 'UPSTREAM_INVALID_CONTENT_LENGTH'
  // Judged once the head's grammar is known (RULES.md Decisions), blamed at the value's start.
  rejectsHead(t, `${OK}Content-Length: 5, 5\r\n\r\nhello`, code, 33)
  rejectsHead(t, `${OK}Content-Length: 5,5\r\n\r\nhello`, code, 33)
  rejectsHead(t, `${OK}Content-Length: +5\r\n\r\nhello`, code, 33)
  rejectsHead(t, `${OK}Content-Length: -1\r\n\r\nhello`, code, 33)
  rejectsHead(t, `${OK}Content-Length: 0x5\r\n\r\nhello`, code, 33)
  rejectsHead(t, `${OK}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`, code, 52)
  rejectsHead(t, `${OK}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`, code, 52)
  // 2^53 parses as a uint64 in llhttp; strictgate holds lengths to 2^53 - 1.
  rejectsHead(t, `${OK}Content-Length: 9007199254740992\r\n\r\nhello`, code, 33)
  // Beyond 2^64 llhttp overflows too; the value is blamed all the same.
  rejectsHead(t, `${OK}Content-Length: 99999999999999999999\r\n\r\nhello`, code, 33)
  // Leading zeros are digits: the value is bounded, not the number of digits.
  accepts(t, `${OK}Content-Length: 00000000000000000005\r\n\r\nhello`, [
    head(200, [['Content-Length', '00000000000000000005']], { kind: 'length', length: 5 }),
    body('hello'),
    complete,
  ])
  rejectsHead(t, `${OK}Content-Length: 0009007199254740992\r\n\r\nhello`, code, 33)
  const o = checkResponse(t, `${OK}Content-Length: 9007199254740991\r\n\r\nhello`)
  t.same(headsOf(o)[0].framing, { kind: 'length', length: 9007199254740991 }, '2^53 - 1 is a valid length')
  t.same(o.failure, { code: 'UPSTREAM_TRUNCATED_BODY', offset: 58 })
})

t.test('F2: Transfer-Encoding together with Content-Length → UPSTREAM_INVALID_FRAMING', async (t) => {
  // Judged with the whole head (RULES.md Decisions), blamed at the Transfer-Encoding field line.
  rejectsHead(t, `${OK}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello`, 'UPSTREAM_INVALID_FRAMING', 36)
  rejectsHead(
    t,
    `${OK}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    'UPSTREAM_INVALID_FRAMING',
    17,
  )
  rejectsHead(t, `${OK}Transfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello`, 'UPSTREAM_INVALID_FRAMING', 17)
  // Also where no body is read: the framing is still contradictory.
  rejectsHead(t, `${OK}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n`, 'UPSTREAM_INVALID_FRAMING', 17, {
    request: { method: 'HEAD', upgrade: [] },
  })
})

// RULES.md Decisions (issue 14): a field line's grammar (H1–H4) is checked before what a
// Content-Length or Transfer-Encoding field means, whatever order llhttp finds them in.
t.test('field grammar before field meaning → UPSTREAM_INVALID_HEADER', async (t) => {
  const code = 'UPSTREAM_INVALID_HEADER'
  rejectsHead(t, `${OK}Content-Length: 5\x01\r\n\r\nhello`, code, 34)
  rejectsHead(t, `${OK}Content-Length: 2 x\n\r\nhello`, code, 36)
  rejectsHead(t, `${OK}Transfer-Encoding: chunked\r\nContent-Length: 5\r\nX: \x7f\r\n\r\n`, code, 67)
  rejectsHead(t, `${OK}Content-Length: 1\r\nContent-Length: 2\r\nX: a\x00\r\n\r\n`, code, 59)
})

t.test('F3: Transfer-Encoding other than exactly one "chunked" → UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING', async (t) => {
  for (const te of ['gzip', 'chunked, gzip', 'gzip, chunked', 'identity', 'chunked,', 'chunked;q=1']) {
    rejectsHead(
      t,
      `${OK}Transfer-Encoding: ${te}\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
      'UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING',
      17,
    )
  }
  rejectsHead(
    t,
    `${OK}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    'UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING',
    17,
  )
  rejectsHead(t, `${OK}X: y\r\nTransfer-Encoding: gzip\r\n\r\n`, 'UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING', 23, {
    request: { method: 'HEAD', upgrade: [] },
  })
  // Case-insensitive, OWS trimmed.
  accepts(t, `${OK}Transfer-Encoding: \tChUnKeD \r\n\r\n5\r\nhello\r\n0\r\n\r\n`, [
    head(200, [['Transfer-Encoding', 'ChUnKeD']], { kind: 'chunked' }),
    body('hello'),
    complete,
  ])
})

t.test('F4: Transfer-Encoding in an HTTP/1.0 response → UPSTREAM_INVALID_FRAMING', async (t) => {
  rejectsHead(
    t,
    'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    'UPSTREAM_INVALID_FRAMING',
    17,
  )
  rejectsHead(
    t,
    'HTTP/1.0 200 OK\r\nX: y\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'UPSTREAM_INVALID_FRAMING',
    23,
  )
})

t.test('F5: framing in a 1xx or 204 → UPSTREAM_INVALID_FRAMING', async (t) => {
  const code = 'UPSTREAM_INVALID_FRAMING'
  rejectsHead(t, 'HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\nhello', code, 23)
  rejectsHead(t, 'HTTP/1.1 100 Continue\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', code, 23)
  rejectsHead(t, 'HTTP/1.1 103 Early Hints\r\nContent-Length: 5\r\n\r\nhello', code, 26)
  // llhttp would read a body for an unknown 1xx with framing.
  rejectsHead(t, 'HTTP/1.1 150 X\r\nContent-Length: 5\r\n\r\nhello', code, 16)
  rejectsHead(t, 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello', code, 25)
  rejectsHead(t, 'HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', code, 25)
  // Content-Length: 0 says nothing wrong.
  accepts(t, 'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n', [
    head(204, [['Content-Length', '0']], { kind: 'none' }),
    complete,
  ])
  accepts(t, 'HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n', [
    head(100, [['Content-Length', '0']], { kind: 'none' }),
    head(204, [], { kind: 'none' }),
    complete,
  ])
})

t.test('F6: HEAD and 304 responses have no body whatever their headers say', async (t) => {
  const HEAD = { request: { method: 'HEAD', upgrade: [] } }
  accepts(t, `${OK}Content-Length: 5\r\n\r\n`, [head(200, [['Content-Length', '5']], { kind: 'none' }), complete], HEAD)
  accepts(
    t,
    `${OK}Transfer-Encoding: chunked\r\n\r\n`,
    [head(200, [['Transfer-Encoding', 'chunked']], { kind: 'none' }), complete],
    HEAD,
  )
  accepts(t, `${OK}\r\n`, [head(200, [], { kind: 'none' }), complete], HEAD)
  accepts(t, 'HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n', [
    head(304, [['Content-Length', '5']], { kind: 'none' }),
    complete,
  ])
  accepts(t, 'HTTP/1.1 304 Not Modified\r\n\r\n', [head(304, [], { kind: 'none' }), complete])
  // The body a HEAD response should not have is not read as one: it is extra data (B5).
  const o = checkResponse(t, `${OK}Content-Length: 5\r\n\r\nhello`, HEAD)
  t.same(o.failure, { code: 'UPSTREAM_EXTRA_DATA', offset: 38 })
  t.equal(bodyOf(o), '')
  t.equal(completions(o), 1)
})

t.test('F7: 101 without an offered upgrade → UPSTREAM_INVALID_UPGRADE', async (t) => {
  const code = 'UPSTREAM_INVALID_UPGRADE'
  const switching = (fields: string) => `HTTP/1.1 101 Switching Protocols\r\n${fields}\r\nTUNNEL`
  const ws = switching('Upgrade: websocket\r\nConnection: Upgrade\r\n')
  // The client did not ask to upgrade.
  rejectsHead(t, ws, code, 9)
  rejectsHead(t, ws, code, 9, { request: { method: 'GET', upgrade: [] } })
  // The response names a protocol the client did not offer, or several, or none.
  rejectsHead(t, switching('Upgrade: h2c\r\nConnection: Upgrade\r\n'), code, 9, { request: WEBSOCKET })
  rejectsHead(t, switching('Upgrade: websocket, h2c\r\nConnection: Upgrade\r\n'), code, 9, {
    request: { method: 'GET', upgrade: ['websocket', 'h2c'] },
  })
  rejectsHead(t, switching('Connection: Upgrade\r\n'), code, 9, { request: WEBSOCKET })
  // Connection must name the upgrade; an HTTP/1.0 101 is not a switch.
  rejectsHead(t, switching('Upgrade: websocket\r\n'), code, 9, { request: WEBSOCKET })
  rejectsHead(t, `HTTP/1.0 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`, code, 9, {
    request: WEBSOCKET,
  })
})

t.test('F7: a valid 101 for the offered protocol leaves the tunnel bytes unconsumed', async (t) => {
  const h = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n\r\n'
  const o = checkResponse(t, `${h}\x81\x05hello`, { request: WEBSOCKET })
  t.same(o.failure, null)
  t.equal(o.consumed, h.length, 'execute returns the head length')
  t.same(o.events, [
    head(
      101,
      [
        ['Upgrade', 'WebSocket'],
        ['Connection', 'keep-alive, Upgrade'],
      ],
      { kind: 'none' },
    ),
  ])
  // A 100 Continue may come first.
  const o2 = checkResponse(t, `HTTP/1.1 100 Continue\r\n\r\n${h}tunnel`, { request: WEBSOCKET })
  t.same(o2.failure, null)
  t.equal(o2.consumed, 25 + h.length)
  t.same(
    headsOf(o2).map((x) => x.status),
    [100, 101],
  )
})

t.test('F8: more than maxInterimResponses 1xx → UPSTREAM_INVALID_FRAMING', async (t) => {
  const interim = 'HTTP/1.1 100 Continue\r\n\r\n'
  const final = `${OK}Content-Length: 2\r\n\r\nok`
  const o = rejects(t, interim.repeat(9) + final, 'UPSTREAM_INVALID_FRAMING', 9)
  t.equal(headsOf(o).length, 8, 'the 8 allowed interim heads were delivered')
  t.ok(
    headsOf(o).every((h) => h.interim),
    'no final head',
  )
  t.equal(bodyOf(o), '')
  const ok = checkResponse(t, interim.repeat(8) + final)
  t.same(ok.failure, null, '8 interim responses are allowed')
  t.equal(headsOf(ok).length, 9)
  t.equal(bodyOf(ok), 'ok')
  const none = { ...DEFAULT_LIMITS, maxInterimResponses: 0 }
  rejectsHead(t, interim + final, 'UPSTREAM_INVALID_FRAMING', 9, { limits: none })
  // 103 Early Hints and 102 Processing count too.
  rejects(
    t,
    `HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n${final}`,
    'UPSTREAM_INVALID_FRAMING',
    9,
    {
      limits: { ...DEFAULT_LIMITS, maxInterimResponses: 1 },
    },
  )
})

t.test('B1: invalid chunk line or chunk framing → UPSTREAM_INVALID_CHUNK', async (t) => {
  const code = 'UPSTREAM_INVALID_CHUNK'
  rejectsBody(t, `${CHUNKED}5z\r\nhello\r\n0\r\n\r\n`, code, 48, '')
  rejectsBody(t, `${CHUNKED}z\r\nhello\r\n0\r\n\r\n`, code, 47, '')
  rejectsBody(t, `${CHUNKED}0x5\r\nhello\r\n0\r\n\r\n`, code, 48, '')
  rejectsBody(t, `${CHUNKED}-5\r\nhello\r\n0\r\n\r\n`, code, 47, '')
  rejectsBody(t, `${CHUNKED}\r\nhello\r\n0\r\n\r\n`, code, 47, '')
  rejectsBody(t, `${CHUNKED}5 \r\nhello\r\n0\r\n\r\n`, code, 49, '')
  rejectsBody(t, `${CHUNKED}5\nhello\r\n0\r\n\r\n`, code, 49, '')
  // Missing CRLF after the data.
  rejectsBody(t, `${CHUNKED}5\r\nhelloX\r\n0\r\n\r\n`, code, 55, 'hello')
  rejectsBody(t, `${CHUNKED}5\r\nhello\n0\r\n\r\n`, code, 56, 'hello')
  rejectsBody(t, `${CHUNKED}5\r\nhello0\r\n\r\n`, code, 55, 'hello')
  // Malformed extensions (checked by strictgate, RFC 9112 §7.1.1: the offending byte is blamed).
  rejectsBody(t, `${CHUNKED}5;\r\nhello\r\n0\r\n\r\n`, code, 49, '')
  rejectsBody(t, `${CHUNKED}5;a b\r\nhello\r\n0\r\n\r\n`, code, 51, '')
  rejectsBody(t, `${CHUNKED}5;a=\x01\r\nhello\r\n0\r\n\r\n`, code, 51, '')
  rejectsBody(t, `${CHUNKED}5;a="\x01"\r\nhello\r\n0\r\n\r\n`, code, 52, '')
  // A chunk size above 2^53 - 1: rejected at the digit that makes it too large (so also when the
  // connection ends right after it: RULES.md B1), none of the data delivered.
  rejectsBody(t, `${CHUNKED}20000000000000\r\nhello\r\n0\r\n\r\n`, code, 60, '')
  rejectsBody(t, `${CHUNKED}2;x=y\r\nhi\r\n0020000000000000\r\nhello\r\n0\r\n\r\n`, code, 73, 'hi')
  rejectsBody(t, `${CHUNKED}fffffffffffffffff\r\nhello\r\n0\r\n\r\n`, code, 60, '')
})

t.test('B2: invalid or forbidden trailer field → UPSTREAM_INVALID_CHUNK', async (t) => {
  const code = 'UPSTREAM_INVALID_CHUNK'
  const last = `${CHUNKED}5\r\nhello\r\n0\r\n` // 60 bytes: the trailer section starts at 60
  for (const name of [
    'Content-Length',
    'Transfer-Encoding',
    'Host',
    'Trailer',
    'Connection',
    'Set-Cookie',
    'Content-Type',
  ]) {
    const raw = `${last}${name}: 1\r\n\r\n`
    const o = checkResponse(t, raw)
    t.equal(o.failure?.code, code, `${name} in a trailer`)
    t.equal(bodyOf(o), 'hello')
    t.equal(completions(o), 0)
    t.notOk(
      o.events.some((e) => e.kind === 'trailers'),
      'no trailers delivered',
    )
  }
  // Forbidden names found by strictgate (not llhttp) fail at the end of the trailer section.
  rejectsBody(t, `${last}X-Ok: 1\r\nHOST: a\r\n\r\n`, code, 80, 'hello')
  // H1–H4 apply to trailer lines.
  rejectsBody(t, `${last}X-A: b\r\n c\r\n\r\n`, code, 68, 'hello')
  rejectsBody(t, `${last}X-A: b\nX-B: c\r\n\r\n`, code, 66, 'hello')
  rejectsBody(t, `${last}X-A: b\x01\r\n\r\n`, code, 66, 'hello')
  rejectsBody(t, `${last}X-A : b\r\n\r\n`, code, 63, 'hello')
  // llhttp finds a bare LF ending the trailer section at the byte after it.
  rejectsBody(t, `${last}X-A: b\r\n\n`, code, 69, 'hello')
  // The trailer section is bounded like a head, in bytes and in fields.
  const limits = { ...DEFAULT_LIMITS, maxHeaderBytes: 64, maxHeaderCount: 2 }
  // Its bytes count as received, like a head's, the final CRLF included (RULES.md Decisions):
  // "X-Big: ", a CRLF and the final CRLF leave 53 bytes of value in 64.
  const fits = `${CHUNKED}0\r\nX-Big: ${'b'.repeat(53)}\r\n\r\n`
  let o = checkResponse(t, fits, { limits })
  t.same(o.failure, null, 'a 64-byte trailer section fits')
  t.same(o.events.at(-2), { kind: 'trailers', trailers: [['X-Big', 'b'.repeat(53)]] })
  // One byte more: the final LF is the 65th byte of the section, which starts at 50.
  rejectsBody(t, `${CHUNKED}0\r\nX-Big: ${'b'.repeat(54)}\r\n\r\n`, code, 50 + 64, '', { limits })
  // Longer still: the 65th byte is the value's.
  rejectsBody(t, `${CHUNKED}0\r\nX-Big: ${'b'.repeat(56)}\r\n\r\n`, code, 50 + 64, '', { limits })
  o = checkResponse(t, `${CHUNKED}0\r\nA: 1\r\nB: 2\r\n\r\n`, { limits })
  t.same(o.failure, null, 'two trailer fields fit')
  rejectsBody(t, `${CHUNKED}0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n`, code, 62, '', { limits })
})

t.test('B3: FIN before the end of the body → UPSTREAM_TRUNCATED_BODY', async (t) => {
  const code = 'UPSTREAM_TRUNCATED_BODY'
  rejectsBody(t, `${OK}Content-Length: 5\r\n\r\nhel`, code, 41, 'hel')
  rejectsBody(t, `${OK}Content-Length: 5\r\n\r\n`, code, 38, '')
  rejectsBody(t, `${CHUNKED}5\r\nhel`, code, 53, 'hel')
  rejectsBody(t, `${CHUNKED}5\r\nhello\r\n`, code, 57, 'hello')
  rejectsBody(t, `${CHUNKED}5\r\nhello\r\n0\r\n`, code, 60, 'hello')
  rejectsBody(t, `${CHUNKED}5\r\nhello\r\n0\r\nX: y\r\n`, code, 66, 'hello')
  // Before the head is complete it is a closed connection, not a truncated body.
  rejectsHead(t, `${OK}Content-Len`, 'UPSTREAM_CLOSED', 28)
  rejectsHead(t, '', 'UPSTREAM_CLOSED', 0)
  rejectsHead(t, `HTTP/1.1 100 Continue\r\n\r\n`, 'UPSTREAM_CLOSED', 0)
})

t.test('B4: close-delimited body ends at FIN; an RST instead is UPSTREAM_TRUNCATED_BODY', async (t) => {
  accepts(t, `${OK}X: y\r\n\r\nhello`, [head(200, [['X', 'y']], { kind: 'close' }), body('hello'), complete])
  accepts(t, 'HTTP/1.0 200 OK\r\n\r\nhello', [head(200, [], { kind: 'close' }), body('hello'), complete])
  accepts(t, `${OK}\r\n`, [head(200, [], { kind: 'close' }), complete])
  const rst = { end: 'rst' as const }
  rejectsBody(t, `${OK}X: y\r\n\r\nhello`, 'UPSTREAM_TRUNCATED_BODY', 30, 'hello', rst)
  rejectsBody(t, `${OK}\r\n`, 'UPSTREAM_TRUNCATED_BODY', 19, '', rst)
  rejectsBody(t, `${OK}Content-Length: 5\r\n\r\nhel`, 'UPSTREAM_TRUNCATED_BODY', 41, 'hel', rst)
  rejectsHead(t, `${OK}X: y\r\n`, 'UPSTREAM_CLOSED', 23, rst)
  // A complete message stands whatever happens to the connection afterwards.
  accepts(
    t,
    `${OK}Content-Length: 5\r\n\r\nhello`,
    [head(200, [['Content-Length', '5']], { kind: 'length', length: 5 }), body('hello'), complete],
    rst,
  )
  // Without an end of input, a close-delimited body is not complete.
  const o = checkResponse(t, `${OK}\r\nhello`, { end: 'none' })
  t.same(o.failure, null)
  t.equal(completions(o), 0)
  t.equal(bodyOf(o), 'hello')
})

t.test('B5: bytes after a complete message → UPSTREAM_EXTRA_DATA after onComplete', async (t) => {
  const extra = (raw: string, offset: number, data: string) => {
    const o = checkResponse(t, raw)
    t.same(o.failure, { code: 'UPSTREAM_EXTRA_DATA', offset })
    t.same(o.events[o.events.length - 1], complete, 'reported after onComplete: the response stands')
    t.equal(bodyOf(o), data, 'the extra bytes are not body')
  }
  extra(`${OK}Content-Length: 5\r\n\r\nhelloX`, 43, 'hello')
  extra(`${OK}Connection: close\r\nContent-Length: 5\r\n\r\nhello\r\n`, 62, 'hello')
  extra(`${CHUNKED}0\r\n\r\nX`, 52, '')
  extra(`${CHUNKED}5\r\nhello\r\n0\r\nX-T: 1\r\n\r\nHTTP/1.1 200 OK\r\n\r\n`, 70, 'hello')
  extra('HTTP/1.1 204 No Content\r\n\r\n\r\n', 27, '')
  extra('HTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1 200 OK\r\n\r\n', 29, '')
})

t.test('valid: Content-Length body', async (t) => {
  accepts(t, `${OK}Content-Length: 5\r\nX-A:  v \r\n\r\nhello`, [
    head(
      200,
      [
        ['Content-Length', '5'],
        ['X-A', 'v'],
      ],
      { kind: 'length', length: 5 },
    ),
    body('hello'),
    complete,
  ])
  accepts(t, `${OK}Content-Length: 0\r\n\r\n`, [
    head(200, [['Content-Length', '0']], { kind: 'length', length: 0 }),
    complete,
  ])
  accepts(t, 'HTTP/1.0 404 Not Found\r\nContent-Length: 3\r\n\r\n\x00\xff\r', [
    head(404, [['Content-Length', '3']], { kind: 'length', length: 3 }),
    body('\x00\xff\r'),
    complete,
  ])
  // Without FIN the message is complete all the same.
  accepts(
    t,
    `${OK}Content-Length: 2\r\n\r\nok`,
    [head(200, [['Content-Length', '2']], { kind: 'length', length: 2 }), body('ok'), complete],
    {
      end: 'none',
    },
  )
})

t.test('valid: chunked body with extensions and trailers', async (t) => {
  accepts(t, `${CHUNKED}5;a=b;c="d e"\r\nhello\r\nB;x\r\n 0123456789\r\n000\r\nX-T:  v \r\nX-U: w\r\n\r\n`, [
    head(200, [['Transfer-Encoding', 'chunked']], { kind: 'chunked' }),
    body('hello 0123456789'),
    {
      kind: 'trailers',
      trailers: [
        ['X-T', 'v'],
        ['X-U', 'w'],
      ],
    },
    complete,
  ])
  accepts(t, `${CHUNKED}0\r\n\r\n`, [head(200, [['Transfer-Encoding', 'chunked']], { kind: 'chunked' }), complete])
  accepts(t, `${CHUNKED}1\r\n\r\r\nf\r\n0123456789abcde\r\n0\r\n\r\n`, [
    head(200, [['Transfer-Encoding', 'chunked']], { kind: 'chunked' }),
    body('\r0123456789abcde'),
    complete,
  ])
})

t.test('valid: interim responses before the final one', async (t) => {
  accepts(t, `HTTP/1.1 100 Continue\r\n\r\n${OK}Content-Length: 2\r\n\r\nok`, [
    head(100, [], { kind: 'none' }),
    head(200, [['Content-Length', '2']], { kind: 'length', length: 2 }),
    body('ok'),
    complete,
  ])
  accepts(t, `HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n${OK}Content-Length: 2\r\n\r\nok`, [
    head(103, [['Link', '</style.css>; rel=preload']], { kind: 'none' }),
    head(200, [['Content-Length', '2']], { kind: 'length', length: 2 }),
    body('ok'),
    complete,
  ])
  // Offsets are per message: a failure in the final head counts from its status line.
  rejectsHead(t, `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 099 X\r\n\r\n`, 'UPSTREAM_INVALID_STATUS_CODE', 9)
})

t.test('valid: 204 and 304 complete at the end of the head', async (t) => {
  accepts(t, 'HTTP/1.1 204 No Content\r\nX: y\r\n\r\n', [head(204, [['X', 'y']], { kind: 'none' }), complete])
  accepts(t, 'HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\nETag: "x"\r\n\r\n', [
    head(
      304,
      [
        ['Content-Length', '1234'],
        ['ETag', '"x"'],
      ],
      { kind: 'none' },
    ),
    complete,
  ])
})

t.test('what the response head tells the gateway', async (t) => {
  const heads: ResponseHead[] = []
  const p = new ResponseParser({
    onHead: (h) => heads.push(h),
    onBody: () => {},
    onTrailers: () => {},
    onComplete: () => {},
  })
  const parse = (raw: string): ResponseHead => {
    p.expect({ method: 'GET', upgrade: [] })
    p.execute(Buffer.from(raw, 'latin1'))
    const h = heads.pop()
    if (h === undefined) throw new Error(`no head: ${JSON.stringify(p.failure)}`)
    return h
  }
  let h = parse(
    `HTTP/1.1 404 Not \tFound\xe9\r\nConnection: Keep-Alive, X-Foo\r\nX-Foo:  bar \r\nContent-Length: 0\r\n\r\n`,
  )
  t.equal(reasonPhrase(h), 'Not \tFound\xe9')
  t.same(h.connection, ['keep-alive', 'x-foo'])
  t.equal(h.keepAlive, true)
  t.equal(h.minorVersion, 1)
  t.equal(fieldCount(h), 3)
  t.same([fieldName(h, 1), fieldValue(h, 1)], ['X-Foo', 'bar'])
  h = parse(`${OK}Connection: close\r\nContent-Length: 0\r\n\r\n`)
  t.equal(h.keepAlive, false, 'Connection: close')
  h = parse('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')
  t.equal(h.keepAlive, false, 'HTTP/1.0 without keep-alive')
  t.equal(h.minorVersion, 0)
  h = parse('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n')
  t.equal(h.keepAlive, true, 'HTTP/1.0 with keep-alive')
  h = parse(`${OK}\r\n`)
  t.equal(h.keepAlive, false, 'a close-delimited body ends the connection')
  t.equal(reasonPhrase(parse('HTTP/1.1 204 \r\n\r\n')), '')
  p.destroy()
})

t.test('the parser is reusable across exchanges', async (t) => {
  const seen: number[] = []
  let done = 0
  const p = new ResponseParser({
    onHead: (h) => seen.push(h.status),
    onBody: () => {},
    onTrailers: () => {},
    onComplete: () => done++,
  })
  p.expect({ method: 'GET', upgrade: [] })
  t.equal(p.execute(Buffer.from(`HTTP/1.1 100 Continue\r\n\r\n${OK}Content-Length: 0\r\n\r\n`, 'latin1')), 63)
  t.same(seen, [100, 200], 'the interim head, then the final one')
  t.equal(done, 1)
  p.expect({ method: 'GET', upgrade: [] })
  t.equal(p.execute(Buffer.from(`${CHUNKED}0\r\n\r\n`, 'latin1')), 52)
  p.expect({ method: 'GET', upgrade: [] })
  t.equal(p.execute(Buffer.from('HTTP/1.1 099 X\r\n\r\n', 'latin1')), -1)
  t.equal(p.failure?.code, 'UPSTREAM_INVALID_STATUS_CODE')
  t.equal(p.execute(Buffer.from('more', 'latin1')), -1, 'a failed parser stays failed')
  t.equal(p.finish()?.code, 'UPSTREAM_INVALID_STATUS_CODE', 'FIN after a failure reports that failure')
  t.equal(p.abort()?.code, 'UPSTREAM_INVALID_STATUS_CODE', 'so does a reset')
  p.expect({ method: 'GET', upgrade: [] })
  t.equal(p.failure, null)
  t.equal(p.execute(Buffer.from(`${OK}Content-Length: 0\r\n\r\n`, 'latin1')), 38)
  t.same(seen, [100, 200, 200, 200])
  t.equal(done, 3)
  // An exchange may bring its own event handlers.
  const other: number[] = []
  p.expect(
    { method: 'GET', upgrade: [] },
    { onHead: (h) => other.push(h.status), onBody: () => {}, onTrailers: () => {}, onComplete: () => other.push(0) },
  )
  t.equal(p.execute(Buffer.from(`${OK}Content-Length: 0\r\n\r\n`, 'latin1')), 38)
  t.same(other, [200, 0])
  t.same(seen, [100, 200, 200, 200], 'the previous handlers are not called')
  p.destroy()
})

t.test('a trailer section that failed does not leak into the next exchange', async (t) => {
  // Regression: trailers and their byte count were kept across messages, so one forbidden
  // trailer made every later chunked response on the connection fail, and trailer bytes of
  // valid responses added up until the limit was reached.
  const trailers: (readonly (readonly [string, string])[])[] = []
  const p = new ResponseParser(
    { onHead: () => {}, onBody: () => {}, onTrailers: (tr) => trailers.push(tr), onComplete: () => {} },
    { ...DEFAULT_LIMITS, maxHeaderBytes: 100 },
  )
  p.expect({ method: 'GET', upgrade: [] })
  t.equal(p.execute(Buffer.from(`${CHUNKED}0\r\nHost: x\r\n\r\n`, 'latin1')), -1)
  t.equal(p.failure?.code, 'UPSTREAM_INVALID_CHUNK')
  const ok = Buffer.from(`${CHUNKED}0\r\nX-T: ${'v'.repeat(40)}\r\n\r\n`, 'latin1')
  for (let i = 0; i < 5; i++) {
    p.expect({ method: 'GET', upgrade: [] })
    t.equal(p.execute(ok), ok.length, `exchange ${i + 1} accepted`)
  }
  t.same(trailers, Array(5).fill([['X-T', 'v'.repeat(40)]]))
  p.destroy()
})
