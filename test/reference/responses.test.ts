// The reference recognizer on exact response bytes: each case cites the rule (RFC 9110/9112,
// RULES.md row) that makes it valid or decides its code.

import t from 'tap'
import { type ResponseContext, type ResponseVerdict, recognizeResponse } from './message.js'
import type { RefCode, RuleId } from './rules.js'

type Expect = { readonly rule: RuleId; readonly code: RefCode }
const reject = (rule: RuleId, code: RefCode): Expect => ({ rule, code })
const GET: ResponseContext = { method: 'GET' }
const OK = 'HTTP/1.1 200 OK\r\n'
const TE = `${OK}Transfer-Encoding: chunked\r\n\r\n`

function rejected(v: ResponseVerdict): Expect | null {
  return v.ok ? null : { rule: v.ruleId, code: v.code }
}

const REJECTED: [cite: string, raw: string, expect: Expect, context?: ResponseContext][] = [
  // RULES.md S1 (RFC 9112 §2.3)
  ['S1 HTTP/2.0', 'HTTP/2.0 200 OK\r\n\r\n', reject('S1', 'UPSTREAM_INVALID_VERSION')],
  ['S1 HTTP/1.2', 'HTTP/1.2 200 OK\r\n\r\n', reject('S1', 'UPSTREAM_INVALID_VERSION')],
  ['S1 RTSP/1.0', 'RTSP/1.0 200 OK\r\n\r\n', reject('S1', 'UPSTREAM_INVALID_VERSION')],
  ['S1 lowercase http', 'http/1.1 200 OK\r\n\r\n', reject('S1', 'UPSTREAM_INVALID_VERSION')],
  ['S1 HTTP/1.10', 'HTTP/1.10 200 OK\r\n\r\n', reject('S1', 'UPSTREAM_INVALID_VERSION')],
  // RULES.md S2 (RFC 9112 §4, §2.2)
  ['S2 no SP after the code', 'HTTP/1.1 200\r\n\r\n', reject('S2', 'UPSTREAM_INVALID_STATUS_LINE')],
  ['S2 two SP after the version', 'HTTP/1.1  200 OK\r\n\r\n', reject('S2', 'UPSTREAM_INVALID_STATUS_LINE')],
  ['S2 HTAB after the version', 'HTTP/1.1\t200 OK\r\n\r\n', reject('S2', 'UPSTREAM_INVALID_STATUS_LINE')],
  [
    'S2 an empty line before the status line',
    '\r\nHTTP/1.1 200 OK\r\n\r\n',
    reject('S2', 'UPSTREAM_INVALID_STATUS_LINE'),
  ],
  ['S2 bare LF ending the status line', 'HTTP/1.1 200 OK\n\r\n', reject('S2', 'UPSTREAM_INVALID_STATUS_LINE')],
  // RULES.md S3 (RFC 9110 §15)
  ['S3 099', 'HTTP/1.1 099 X\r\n\r\n', reject('S3', 'UPSTREAM_INVALID_STATUS_CODE')],
  ['S3 600', 'HTTP/1.1 600 X\r\n\r\n', reject('S3', 'UPSTREAM_INVALID_STATUS_CODE')],
  ['S3 two digits', 'HTTP/1.1 20 OK\r\n\r\n', reject('S3', 'UPSTREAM_INVALID_STATUS_CODE')],
  ['S3 four digits', 'HTTP/1.1 2000 OK\r\n\r\n', reject('S3', 'UPSTREAM_INVALID_STATUS_CODE')],
  // RULES.md S4 (RFC 9112 §4 reason-phrase)
  ['S4 NUL in the reason', 'HTTP/1.1 200 O\x00K\r\n\r\n', reject('S4', 'UPSTREAM_INVALID_STATUS_LINE')],
  ['S4 DEL in the reason', 'HTTP/1.1 200 O\x7fK\r\n\r\n', reject('S4', 'UPSTREAM_INVALID_STATUS_LINE')],
  // RULES.md H1–H5
  ['H1 SP before the colon', `${OK}A : b\r\n\r\n`, reject('H1', 'UPSTREAM_INVALID_HEADER')],
  ['H2 VT in a value', `${OK}A: b\x0bc\r\n\r\n`, reject('H2', 'UPSTREAM_INVALID_HEADER')],
  ['H3 obs-fold', `${OK}A: b\r\n c\r\n\r\n`, reject('H3', 'UPSTREAM_INVALID_HEADER')],
  ['H4 bare CR', `${OK}A: b\rB: c\r\n\r\n`, reject('H4', 'UPSTREAM_INVALID_HEADER')],
  [
    'H5 more fields than maxHeaderCount',
    `${OK}A: 1\r\nB: 2\r\n\r\n`,
    reject('H5', 'UPSTREAM_HEADERS_TOO_LARGE'),
    { method: 'GET', limits: { maxHeaderCount: 1 } },
  ],
  // RULES.md F1–F8 (RFC 9110 §8.6, §15.2; RFC 9112 §6)
  [
    'F1 Content-Length not digits',
    `${OK}Content-Length: 5x\r\n\r\nhello`,
    reject('F1', 'UPSTREAM_INVALID_CONTENT_LENGTH'),
  ],
  [
    'F1 two Content-Length',
    `${OK}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`,
    reject('F1', 'UPSTREAM_INVALID_CONTENT_LENGTH'),
  ],
  ['F1 empty Content-Length', `${OK}Content-Length: \r\n\r\n`, reject('F1', 'UPSTREAM_INVALID_CONTENT_LENGTH')],
  [
    'F2 TE with CL',
    `${OK}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`,
    reject('F2', 'UPSTREAM_INVALID_FRAMING'),
  ],
  [
    'F3 gzip (its own code, RULES.md Decisions)',
    `${OK}Transfer-Encoding: gzip\r\n\r\n`,
    reject('F3', 'UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING'),
  ],
  [
    'F3 chunked, gzip',
    `${OK}Transfer-Encoding: chunked, gzip\r\n\r\n`,
    reject('F3', 'UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING'),
  ],
  [
    'F3 `, chunked` (RULES.md Decisions)',
    `${OK}Transfer-Encoding: , chunked\r\n\r\n0\r\n\r\n`,
    reject('F3', 'UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING'),
  ],
  [
    'F3 chunked;q=1',
    `${OK}Transfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n`,
    reject('F3', 'UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING'),
  ],
  [
    'F3 two lines',
    `${OK}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    reject('F3', 'UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING'),
  ],
  [
    'F3 also for HEAD (body never read)',
    `${OK}Transfer-Encoding: gzip\r\n\r\n`,
    reject('F3', 'UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING'),
    { method: 'HEAD' },
  ],
  [
    'F4 TE in HTTP/1.0',
    'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    reject('F4', 'UPSTREAM_INVALID_FRAMING'),
  ],
  ['F4 before F3', 'HTTP/1.0 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n', reject('F4', 'UPSTREAM_INVALID_FRAMING')],
  [
    'F5 204 with Content-Length 5',
    'HTTP/1.1 204 No\r\nContent-Length: 5\r\n\r\n',
    reject('F5', 'UPSTREAM_INVALID_FRAMING'),
  ],
  [
    'F5 100 with chunked',
    'HTTP/1.1 100 C\r\nTransfer-Encoding: chunked\r\n\r\n',
    reject('F5', 'UPSTREAM_INVALID_FRAMING'),
  ],
  [
    'F7 101 without an upgrade request',
    'HTTP/1.1 101 S\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n',
    reject('F7', 'UPSTREAM_INVALID_UPGRADE'),
  ],
  [
    'F7 101 naming another protocol',
    'HTTP/1.1 101 S\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n',
    reject('F7', 'UPSTREAM_INVALID_UPGRADE'),
    { method: 'GET', upgrade: ['websocket'] },
  ],
  [
    'F7 101 without Connection: upgrade',
    'HTTP/1.1 101 S\r\nUpgrade: websocket\r\n\r\n',
    reject('F7', 'UPSTREAM_INVALID_UPGRADE'),
    { method: 'GET', upgrade: ['websocket'] },
  ],
  [
    'F8 more 1xx than maxInterimResponses',
    `${'HTTP/1.1 100 C\r\n\r\n'.repeat(3)}${OK}\r\n`,
    reject('F8', 'UPSTREAM_INVALID_FRAMING'),
    { method: 'GET', limits: { maxInterimResponses: 2 } },
  ],
  // RULES.md B1 (RFC 9112 §7.1)
  ['B1 chunk-size not hex', `${TE}zz\r\n`, reject('B1', 'UPSTREAM_INVALID_CHUNK')],
  ['B1 bare LF after the chunk size', `${TE}5\nhello\r\n0\r\n\r\n`, reject('B1', 'UPSTREAM_INVALID_CHUNK')],
  ['B1 bare CR in the chunk line', `${TE}5\r;a\r\nhello\r\n0\r\n\r\n`, reject('B1', 'UPSTREAM_INVALID_CHUNK')],
  ['B1 LF in a quoted extension', `${TE}5;a="x\ny"\r\nhello\r\n0\r\n\r\n`, reject('B1', 'UPSTREAM_INVALID_CHUNK')],
  ['B1 no CRLF after the data (SPILL)', `${TE}5\r\nhelloXX\r\n0\r\n\r\n`, reject('B1', 'UPSTREAM_INVALID_CHUNK')],
  ['B1 bare LF after the data', `${TE}5\r\nhello\n0\r\n\r\n`, reject('B1', 'UPSTREAM_INVALID_CHUNK')],
  ['B1 size over 2^53-1, then FIN', `${TE}20000000000000`, reject('B1', 'UPSTREAM_INVALID_CHUNK')],
  ['B1 size of 17 hex digits', `${TE}fffffffffffffffff\r\n`, reject('B1', 'UPSTREAM_INVALID_CHUNK')],
  ['B1 chunk line over 4 KiB', `${TE}1;${'a'.repeat(4094)}\r\n`, reject('B1', 'UPSTREAM_INVALID_CHUNK')],
  // RULES.md B2 (RFC 9110 §6.5, RFC 9112 §7.1.2)
  ['B2 Content-Length in a trailer', `${TE}0\r\nContent-Length: 5\r\n\r\n`, reject('B2', 'UPSTREAM_INVALID_CHUNK')],
  [
    'B2 Transfer-Encoding in a trailer',
    `${TE}0\r\nTransfer-Encoding: chunked\r\n\r\n`,
    reject('B2', 'UPSTREAM_INVALID_CHUNK'),
  ],
  ['B2 bad trailer name', `${TE}0\r\nBad Name: x\r\n\r\n`, reject('B2', 'UPSTREAM_INVALID_CHUNK')],
  ['B2 bare LF in the trailer section', `${TE}0\r\nX: a\n\r\n`, reject('B2', 'UPSTREAM_INVALID_CHUNK')],
  [
    'B2 trailer section over maxHeaderBytes',
    `${TE}0\r\nX: ${'a'.repeat(60)}\r\n\r\n`,
    reject('B2', 'UPSTREAM_INVALID_CHUNK'),
    { method: 'GET', limits: { maxHeaderBytes: 64 } },
  ],
  // RULES.md B3 and "closed before the head was complete"
  [
    'B3 Content-Length body cut by FIN',
    `${OK}Content-Length: 10\r\n\r\nfirst`,
    reject('B3', 'UPSTREAM_TRUNCATED_BODY'),
  ],
  ['B3 chunked body cut by FIN', `${TE}5\r\nfirst\r\n`, reject('B3', 'UPSTREAM_TRUNCATED_BODY')],
  ['closed inside the head', `${OK}X: 1\r\n`, reject('CLOSED', 'UPSTREAM_CLOSED')],
  ['closed before any byte', '', reject('CLOSED', 'UPSTREAM_CLOSED')],
  ['closed after an interim response', 'HTTP/1.1 100 Continue\r\n\r\n', reject('CLOSED', 'UPSTREAM_CLOSED')],
]

t.test('rejected responses: rule and code', async (t) => {
  for (const [cite, raw, expect, context] of REJECTED) {
    t.same(rejected(recognizeResponse(raw, context ?? GET)), expect, `${cite}: ${JSON.stringify(raw.slice(0, 80))}`)
  }
})

t.test('what a rejected response delivered: interims, the head, body bytes before the failure', async (t) => {
  const v = recognizeResponse(`HTTP/1.1 103 Early\r\nLink: </a>\r\n\r\n${TE}5\r\nfirst\r\n3\r\nabcX`, GET)
  t.notOk(v.ok)
  if (!v.ok) {
    t.same(v.interims, [{ status: 103, reason: 'Early', version: '1.1', fields: [['Link', '</a>']] }])
    t.same(v.delivered.head?.status, 200)
    t.equal(v.delivered.body, 'firstabc', 'chunk data up to the byte that broke B1')
  }
})

t.test('accepted responses: what the reference reports', async (t) => {
  const close = recognizeResponse('HTTP/1.0 200 OK\r\nX: 1\r\n\r\nuntil the end', GET)
  t.same(
    close.ok && [close.framing, close.body, close.extra],
    [{ kind: 'close' }, 'until the end', 0],
    'RFC 9112 §6.3 (8)',
  )
  const head = recognizeResponse(`${OK}Content-Length: 1234\r\n\r\n`, { method: 'HEAD' })
  t.same(head.ok && [head.framing, head.body], [{ kind: 'none' }, ''], 'RFC 9112 §6.3 (1): HEAD')
  const notModified = recognizeResponse('HTTP/1.1 304 NM\r\nTransfer-Encoding: chunked\r\n\r\n', GET)
  t.same(notModified.ok && notModified.framing, { kind: 'none' }, 'RFC 9112 §6.3 (1): 304')
  const extra = recognizeResponse(`${OK}Content-Length: 2\r\n\r\nokEXTRA`, GET)
  t.same(extra.ok && [extra.body, extra.consumed, extra.extra], ['ok', 40, 5], 'RULES.md B5: the response stands')
  const switching = 'HTTP/1.1 101 S\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n\r\n'
  const upgrade = recognizeResponse(`${switching}tunnel bytes`, {
    method: 'GET',
    upgrade: ['websocket'],
  })
  t.same(upgrade.ok && [upgrade.upgrade, upgrade.consumed], ['websocket', switching.length], 'RULES.md F7: a valid 101')
  const interim = recognizeResponse(`HTTP/1.0 100 C\r\n\r\nHTTP/1.1 102 P\r\n\r\n${OK}Content-Length: 0\r\n\r\n`, GET)
  t.same(
    interim.ok && interim.interims.map((i) => [i.status, i.version]),
    [
      [100, '1.0'],
      [102, '1.1'],
    ],
    'RULES.md Decisions: a 1xx from HTTP/1.0',
  )
  const chunked = recognizeResponse(`${TE}5;a=b\r\nhello\r\n0\r\nX-T: a \r\n\r\n`, GET)
  t.same(chunked.ok && [chunked.body, chunked.trailers], ['hello', [['X-T', 'a']]])
  for (const raw of [
    'HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n', // an empty reason (RFC 9112 §4)
    'HTTP/1.1 599 O\tK \xe9\r\nContent-Length: 0\r\n\r\n', // HTAB, SP, obs-text in the reason
    `${OK}A: \t b\tc\x80\xff \t\r\nContent-Length: 0\r\n\r\n`, // obs-text in a value
    'HTTP/1.1 204 NC\r\nContent-Length: 0\r\n\r\n', // F5: a zero Content-Length is allowed
    `${OK}Transfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n`, // F3: case-insensitive
    `${OK}Content-Length: 007\r\n\r\n1234567`, // F1: 1*DIGIT, leading zeros are digits
  ]) {
    t.ok(recognizeResponse(raw, GET).ok, JSON.stringify(raw))
  }
})
