// Published desync classes in the response direction: an upstream sends the ambiguous response
// through a real gateway, and the client sees the gateway's 502 with the exact code (a head
// rule) or an aborted connection with the exact code reported (a body rule, found after the
// head was relayed); nothing of the ambiguous bytes is relayed as a response. Sources as in
// desync-requests.test.ts ([K25], [K22], [TE0], [FC], [HG]).
//
// Already covered in test/io/rules.test.ts (not repeated): "Content-Length : 5" / SP in a field
// name and leading SP on the first field line (H1), NUL/VT/DEL in values (H2, [HG T12]), obs-fold
// (H3), bare CR / bare LF (H4, [HG T10, T16]), two Content-Length and an empty one (F1,
// [HG T5, T22]), Transfer-Encoding with Content-Length (F2), chunked twice (F3, [HG T25]), 1xx
// with a body (F5: the Expect-side "100 Continue" carrying Content-Length [K25]), bare LF after
// the chunk size ([FC], CVE-2025-22871), no CRLF after the chunk data ([FC] SPILL), a second
// response nobody asked for (B5: response-queue poisoning [K25]).

import t from 'tap'
import { startGateway } from '../helpers/gateway.js'
import { expect502, expectChunkedAbort } from '../helpers/gateway-cases.js'
import { field } from '../helpers/http-reader.js'
import { leakCheck } from '../helpers/resources.js'
import { read, ScriptedUpstream, write } from '../helpers/scripted-upstream.js'

const OK = 'HTTP/1.1 200 OK\r\n'

const HEAD_RULES: { name: string; response: string; code: string; type: string }[] = [
  {
    name: '[K25] 0.CL: Content-Length value on an obs-fold line',
    response: `${OK}Content-Length:\r\n 5\r\n\r\nhello`,
    code: 'UPSTREAM_INVALID_HEADER',
    type: 'http_protocol_error',
  },
  {
    name: '[K25] 0.CL: Content-Length with HTAB before the colon',
    response: `${OK}Content-Length\t: 5\r\n\r\nhello`,
    code: 'UPSTREAM_INVALID_HEADER',
    type: 'http_protocol_error',
  },
  {
    name: '[HG S29] Content-Length: 1Z',
    response: `${OK}Content-Length: 1Z\r\n\r\nZ`,
    code: 'UPSTREAM_INVALID_CONTENT_LENGTH',
    type: 'http_protocol_error',
  },
  {
    name: '[K25] Expect side: a 100 Continue with a bare LF, then a final response',
    response: `HTTP/1.1 100 Continue\n\n${OK}Content-Length: 2\r\n\r\nok`,
    code: 'UPSTREAM_INVALID_STATUS_LINE',
    type: 'http_protocol_error',
  },
  {
    name: '[TE0] Transfer-Encoding folded onto the previous field',
    response: `${OK}X: y\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    code: 'UPSTREAM_INVALID_HEADER',
    type: 'http_protocol_error',
  },
  {
    name: '[HG T9, S21] Transfer-Encoding: ,chunked (F3)',
    response: `${OK}Transfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n`,
    code: 'UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING',
    type: 'http_response_transfer_coding',
  },
  {
    name: '[HG S46] \\xff around "chunked" (F3)',
    response: `${OK}Transfer-Encoding: \xffchunked\xff\r\n\r\n0\r\n\r\n`,
    code: 'UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING',
    type: 'http_response_transfer_coding',
  },
  {
    name: '[HG S44] an unknown transfer coding (F3)',
    response: `${OK}Transfer-Encoding: blegh\r\n\r\n1\r\nZ\r\n0\r\n\r\n`,
    code: 'UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING',
    type: 'http_response_transfer_coding',
  },
  {
    name: '[HG S37] a field name continued on the next line',
    response: `${OK}Transfer-\r\nEncoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`,
    code: 'UPSTREAM_INVALID_HEADER',
    type: 'http_protocol_error',
  },
  {
    name: '[HG S30] a head "ended" by CRLF CR and any byte',
    response: `${OK}Content-Length: 0\r\n\rZHTTP/1.1 200 OK\r\n\r\n`,
    code: 'UPSTREAM_INVALID_HEADER',
    type: 'http_protocol_error',
  },
]

for (const c of HEAD_RULES) {
  t.test(`upstream: ${c.name} → 502 ${c.code}`, async (t) => expect502(t, c))
}

/** Body rules: a chunked head and a first chunk are relayed, then the upstream sends `next`. */
const BODY_RULES: { name: string; next: string; relayable?: string }[] = [
  { name: '[FC] TERM.EXT: a bare LF ending a chunk line inside its extension', next: '2;\nxx\r\n0\r\n\r\n' },
  { name: '[FC] EXT.TERM: a bare LF inside a quoted extension value', next: '2;a="\n"\r\nxx\r\n0\r\n\r\n' },
  { name: '[FC] a bare CR ending a chunk line', next: '2;a\rxx\r\n0\r\n\r\n' },
  { name: '[FC] TERM.SPILL: chunk data followed by a bare LF', next: '2\r\nxx\n0\r\n\r\n', relayable: 'firstxx' },
  {
    name: '[FC] SPILL.TERM: bytes between the chunk data and its CRLF',
    next: '2\r\nxxAB\n0\r\n\r\n',
    relayable: 'firstxx',
  },
  {
    name: '[FC] a chunk extension of 64 KiB (RULES.md B1 limit)',
    next: `2;a=${'z'.repeat(64 * 1024)}\r\nxx\r\n0\r\n\r\n`,
  },
  { name: '[HG T3] CR in the chunk-ext whitespace before ";"', next: '2\r\r;a\r\nxx\r\n0\r\n\r\n' },
  {
    name: '[HG T7] a chunk-size with bytes after its digits',
    next: '1these-bytes-never-get-validated\r\nZ\r\n0\r\n\r\n',
  },
  { name: '[HG T13] bare LF ending chunk data', next: 'a\r\n0123456789\n0\r\n\r\n', relayable: 'first0123456789' },
  { name: '[HG T17] an extra CRLF before the last chunk', next: '\r\n0\r\n\r\n' },
  { name: '[HG S1, S22] chunk-size "0_2e"', next: '0_2e\r\n\r\n' },
  { name: '[HG S31] a chunk line "ended" by CR and any byte', next: '5\r\r;ABCD\r\n34\r\nE\r\n0\r\n\r\n' },
  { name: '[HG S36] CR after the extension whitespace', next: `41;a=b\r\r${'X'.repeat(65)}\r\n0\r\n\r\n` },
]

for (const c of BODY_RULES) {
  t.test(`upstream: ${c.name} → client aborted, UPSTREAM_INVALID_CHUNK`, async (t) =>
    expectChunkedAbort(t, [write(c.next)], 'UPSTREAM_INVALID_CHUNK', c.relayable),
  )
}

t.test('[K25] Expect side: 100 Continue and the final response in one write are relayed as such', async (t) => {
  const up = await ScriptedUpstream.start(t, {
    script: [read(), write(`HTTP/1.1 100 Continue\r\n\r\n${OK}Content-Length: 2\r\n\r\nok`)],
    loop: true,
  })
  const g = await startGateway(t, up.url)
  const client = await g.connect()
  const request = 'POST / HTTP/1.1\r\nHost: example.test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello'
  for (let i = 1; i <= 2; i++) {
    client.write(request)
    const response = await client.response()
    t.equal(response.status, 200, `request ${i}: the final response`)
    t.equal(response.body.toString(), 'ok')
    t.equal(client.interim.length, i, 'the 100 relayed as an interim response, not as the answer')
    t.equal(field(response.headers, 'connection'), undefined, 'the connection goes on')
  }
  t.equal(client.unread.length, 0, 'nothing after the responses')
  t.equal(up.connections, 1, 'the upstream connection was clean: reused')
  t.same(g.codes(), [])
})

leakCheck(t)
