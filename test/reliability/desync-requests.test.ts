// Published request desync classes, each a named case citing its source, sent by a client
// through a real gateway to a recording upstream: the gateway either refuses the request itself
// (exact status and code, nothing reaches the upstream as a request) or forwards exactly the one
// safe request it is. The response direction is desync-responses.test.ts.
//
// Sources:
//  [K25]  J. Kettle, "HTTP/1.1 Must Die: The Desync Endgame", PortSwigger Research, 2025
//         (https://portswigger.net/research/http1-must-die, http1mustdie.com): 0.CL desyncs (a
//         Content-Length one side does not see) with early-response gadgets, and Expect-based
//         desyncs (obfuscated or honoured Expect: 100-continue).
//  [K22]  J. Kettle, "Browser-Powered Desync Attacks", PortSwigger Research, 2022: CL.0 (the
//         back-end ignores Content-Length).
//  [TE0]  P. Arnolfo, G. Gregorio, "TE.0 HTTP Request Smuggling: Breaking Google Cloud", 2024:
//         the back-end ignores Transfer-Encoding.
//  [FC]   J. B. Weikop, "Funky chunks: abusing ambiguous chunk line terminators for request
//         smuggling", 2025 (w4ke.info), and its addendum: TERM.EXT, EXT.TERM, TERM.SPILL,
//         SPILL.TERM; CVE-2025-22871 (Go), CVE-2025-55315 (Kestrel) are instances.
//  [HG]   B. Kallus et al., "The HTTP Garden" (arXiv:2405.17737; github.com/narfindustries/
//         http-garden, TROPHIES.md): "T<n>" is its transducer bug n, "S<n>" its server bug n.
//
// Already covered in smuggling.test.ts (not repeated here): CL.TE, TE.CL, "Content-Length : 5"
// (0.CL by SP before the colon [K25]), "Content-Length: 0x5" [HG T1], two Content-Length
// ([HG T22, S23, S33]), CL with TE ([HG T23]), TE chunked twice ([HG T25, S11]), bare CR in a
// field value ([HG T10, S34]), bare LF line endings ([HG T16]), chunk size with bare LF
// ([FC], CVE-2025-22871), chunk data longer than its size ([FC] SPILL), chunk sizes -5 / 0x5 /
// over 2^64 ([HG T19, S25]), last chunk with bare LF.

import t from 'tap'
import { startGateway } from '../helpers/gateway.js'
import { expectForwarded, expectRefused } from '../helpers/gateway-cases.js'
import { field } from '../helpers/http-reader.js'
import type { RawClient } from '../helpers/raw-client.js'
import { leakCheck } from '../helpers/resources.js'
import { gate, read, ScriptedUpstream, write } from '../helpers/scripted-upstream.js'

const HOST = 'Host: example.test\r\n'
const SMUGGLED = `GET /smuggled HTTP/1.1\r\n${HOST}\r\n`
const POST = `POST / HTTP/1.1\r\n${HOST}`
const CHUNKED = `${POST}Transfer-Encoding: chunked\r\n\r\n`
const len = (s: string) => `Content-Length: ${s.length}`

interface Refused {
  readonly name: string
  readonly request: string
  readonly status: 400 | 501 | 505
  readonly code: string
}

const REFUSED: Refused[] = [
  // ---- 0.CL [K25]: a Content-Length the front-end would not see, hiding a request in the body
  {
    name: '[K25] 0.CL: Content-Length on the first field line after whitespace',
    request: `POST / HTTP/1.1\r\n ${len(SMUGGLED)}\r\n${HOST}\r\n${SMUGGLED}`,
    status: 400,
    code: 'CLIENT_INVALID_HEADER',
  },
  {
    name: '[K25] 0.CL: Content-Length folded onto the previous field (obs-fold)',
    request: `${POST}X-A: b\r\n ${len(SMUGGLED)}\r\n\r\n${SMUGGLED}`,
    status: 400,
    code: 'CLIENT_INVALID_HEADER',
  },
  {
    name: '[K25] 0.CL: Content-Length value on an obs-fold line',
    request: `${POST}Content-Length:\r\n ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`,
    status: 400,
    code: 'CLIENT_INVALID_HEADER',
  },
  {
    name: '[K25] 0.CL: Content-Length with HTAB before the colon',
    request: `${POST}Content-Length\t: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`,
    status: 400,
    code: 'CLIENT_INVALID_HEADER',
  },
  // ---- Expect-based desyncs [K25]
  {
    name: '[K25] Expect: 100-continue folded (obs-fold)',
    request: `${POST}Expect:\r\n 100-continue\r\n${len(SMUGGLED)}\r\n\r\n${SMUGGLED}`,
    status: 400,
    code: 'CLIENT_INVALID_HEADER',
  },
  {
    name: '[K25] Expect on the first field line after whitespace',
    request: `POST / HTTP/1.1\r\n Expect: 100-continue\r\n${HOST}${len(SMUGGLED)}\r\n\r\n${SMUGGLED}`,
    status: 400,
    code: 'CLIENT_INVALID_HEADER',
  },
  // ---- TE.0 [TE0]: Transfer-Encoding the back-end would not honour
  {
    name: '[TE0] Transfer-Encoding: chunked on an obs-fold line',
    request: `OPTIONS / HTTP/1.1\r\n${HOST}X: y\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    status: 400,
    code: 'CLIENT_INVALID_HEADER',
  },
  // ---- Funky chunks [FC]: line terminators and extensions read differently by two parsers
  {
    name: '[FC] TERM.EXT: a bare LF ending a chunk line inside its extension',
    request: `${CHUNKED}2;\nxx\r\n10\r\n${'y'.repeat(16)}\r\n0\r\n\r\n${SMUGGLED}`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
  },
  {
    name: '[FC] EXT.TERM: a bare LF inside a quoted extension value',
    request: `${CHUNKED}2;a="\n"\r\nxx\r\n0\r\n\r\n${SMUGGLED}`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
  },
  {
    name: '[FC] a bare CR ending a chunk line',
    request: `${CHUNKED}2;a\rxx\r\n0\r\n\r\n${SMUGGLED}`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
  },
  {
    name: '[FC] TERM.SPILL: chunk data followed by a bare LF',
    request: `${CHUNKED}5\r\nhello\n0\r\n\r\n${SMUGGLED}`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
  },
  {
    name: '[FC] SPILL.TERM: bytes between the chunk data and its CRLF',
    request: `${CHUNKED}5\r\nhelloAB\n0\r\n\r\n${SMUGGLED}`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
  },
  {
    name: '[FC] a chunk extension of 64 KiB (length-based parsers differ; RULES.md B1 limit)',
    request: `${CHUNKED}5;a=${'z'.repeat(64 * 1024)}\r\nhello\r\n0\r\n\r\n`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
  },
  // ---- The HTTP Garden [HG]
  {
    name: '[HG T3] CR in the chunk-ext whitespace before ";"',
    request: `${CHUNKED}2\r\r;a\r\n02\r\n41\r\n0\r\n\r\n${SMUGGLED}`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
  },
  { name: '[HG T4] "1\\r0\\n" chunk', request: `${CHUNKED}1\r0\n`, status: 400, code: 'CLIENT_INVALID_FRAMING' },
  {
    name: '[HG T5, S16, S38] empty Content-Length',
    request: `${POST}Content-Length: \r\n\r\n${SMUGGLED}`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
  },
  {
    name: '[HG T6] \\x85 in a field name',
    request: `GET / HTTP/1.1\r\n${HOST}Header\x85: value\r\n\r\n`,
    status: 400,
    code: 'CLIENT_INVALID_HEADER',
  },
  {
    name: '[HG T7] a chunk-size with bytes after its digits',
    request: `${CHUNKED}1these-bytes-never-get-validated\r\nZ\r\n0\r\n\r\n`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
  },
  {
    name: '[HG T9, T18, S21] Transfer-Encoding: ,chunked',
    request: `${POST}Transfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    status: 501,
    code: 'CLIENT_UNSUPPORTED_TRANSFER_ENCODING',
  },
  {
    name: '[HG T15] Transfer-Encoding: ,chunked with Content-Length',
    request: `${POST}Transfer-Encoding: ,chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
  },
  {
    name: '[HG T11, S42] empty Content-Length before a non-empty one',
    request: `${POST}Content-Length: \r\n${len(SMUGGLED)}\r\n\r\n${SMUGGLED}`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
  },
  {
    name: '[HG T12, S35] NUL in the Host value',
    request: 'GET / HTTP/1.1\r\nHost: google.com\x00.kallus.org\r\n\r\n',
    status: 400,
    code: 'CLIENT_INVALID_HEADER',
  },
  {
    name: '[HG T13] bare LF ending chunk data',
    request: `${CHUNKED}a\r\n0123456789\n0\r\n\r\n`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
  },
  {
    name: '[HG T14] a field line with a bare LF and no colon',
    request: `GET / HTTP/1.1\r\n${HOST}Te\nst: test\r\n\r\n`,
    status: 400,
    code: 'CLIENT_INVALID_HEADER',
  },
  {
    name: '[HG T17] an extra CRLF before the last chunk',
    request: `${CHUNKED}17\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n\r\n\r\n0\r\n\r\n`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
  },
  {
    name: '[HG T20] NUL in a line with no colon',
    request: `GET / HTTP/1.1\r\n${HOST}a:b\r\nc\x00\r\n\r\n`,
    status: 400,
    code: 'CLIENT_INVALID_HEADER',
  },
  {
    name: '[HG T24] whitespace before the chunk size',
    request: `${CHUNKED}           0\r\n\r\n`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
  },
  {
    name: '[HG S1, S22] chunk-size "0_2e"',
    request: `${CHUNKED}0_2e\r\n\r\n${POST}Content-Length: 5\r\n\r\n0\r\n\r\n`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
  },
  {
    name: '[HG S5] HTTP/1.32',
    request: `GET /test HTTP/1.32\r\n${HOST}\r\n`,
    status: 505,
    code: 'CLIENT_UNSUPPORTED_VERSION',
  },
  {
    name: '[HG S6] a method that is no token',
    request: `G=":<>(e),[T];?" /get HTTP/1.1\r\n${HOST}\r\n`,
    status: 400,
    code: 'CLIENT_INVALID_REQUEST',
  },
  {
    name: '[HG S7] request-target "!"',
    request: `GET ! HTTP/1.1\r\n${HOST}\r\n`,
    status: 400,
    code: 'CLIENT_INVALID_REQUEST',
  },
  {
    name: '[HG S9] LF between target and version',
    request: 'GET /\nHTTP/1.1\r\n\r\n',
    status: 400,
    code: 'CLIENT_INVALID_REQUEST',
  },
  {
    name: '[HG S13] bare CR as a line terminator in a field line',
    request: `GET / HTTP/1.1\r\n${HOST}Visible: :/\rSmuggled: :)\r\n\r\n`,
    status: 400,
    code: 'CLIENT_INVALID_HEADER',
  },
  {
    name: '[HG S15] CRs inside the version',
    request: 'GET / HTTP/\r\r1.1\r\n\r\n',
    status: 400,
    code: 'CLIENT_INVALID_REQUEST',
  },
  { name: '[HG S17] an empty chunk-size', request: `${CHUNKED}\r\n\r\n`, status: 400, code: 'CLIENT_INVALID_FRAMING' },
  {
    name: '[HG S19] bare LFs after an empty value',
    request: `GET / HTTP/1.1\r\n${HOST}Useless:\n\nGET / HTTP/1.1\r\n\r\n`,
    status: 400,
    code: 'CLIENT_INVALID_HEADER',
  },
  {
    name: '[HG S20] \\x85 between a field name and its colon',
    request: `GET / HTTP/1.1\r\n${HOST}Content-Length\x85: 10\r\n\r\n0123456789`,
    status: 400,
    code: 'CLIENT_INVALID_HEADER',
  },
  {
    name: '[HG S24] HTTP/4294967295.255',
    request: `GET / HTTP/4294967295.255\r\n${HOST}\r\n`,
    status: 505,
    code: 'CLIENT_UNSUPPORTED_VERSION',
  },
  {
    name: '[HG S27] a field line of just ":"',
    request: `GET / HTTP/1.1\r\n${HOST}:\r\nI: am chopped off\r\n\r\n`,
    status: 400,
    code: 'CLIENT_INVALID_HEADER',
  },
  {
    name: '[HG S28] "Content-Length 10" without a colon',
    request: `GET / HTTP/1.1\r\n${HOST}Content-Length 10\r\n\r\n0123456789`,
    status: 400,
    code: 'CLIENT_INVALID_HEADER',
  },
  {
    name: '[HG S29] Content-Length: 1Z',
    request: `GET / HTTP/1.1\r\n${HOST}Content-Length: 1Z\r\n\r\nZ`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
  },
  {
    name: '[HG S30] a head "ended" by CRLF CR and any byte',
    request: `GET / HTTP/1.1\r\n${HOST}\rZGET /evil: HTTP/1.1\r\n${HOST}\r\n`,
    status: 400,
    code: 'CLIENT_INVALID_HEADER',
  },
  {
    name: '[HG S31] a chunk line "ended" by CR and any byte',
    request: `${CHUNKED}5\r\r;ABCD\r\n34\r\nE\r\n0\r\n\r\n${POST}Content-Length: 5\r\n\r\n0\r\n\r\n`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
  },
  {
    name: '[HG S36] CR after the extension whitespace',
    request: `${CHUNKED}41;a=b\r\r${'X'.repeat(65)}\r\n0\r\n\r\n${SMUGGLED}`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
  },
  {
    name: '[HG S37] a field name continued on the next line',
    request: `${POST}Transfer-\r\nEncoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`,
    status: 400,
    code: 'CLIENT_INVALID_HEADER',
  },
  {
    name: '[HG S44] an unknown transfer coding',
    request: `${POST}Transfer-Encoding: blegh\r\n\r\n1\r\nZ\r\n0\r\n\r\n`,
    status: 501,
    code: 'CLIENT_UNSUPPORTED_TRANSFER_ENCODING',
  },
  {
    name: '[HG S46] \\xff around a Host value',
    request: 'GET / HTTP/1.1\r\nHost: \xffa\xff\r\n\r\n',
    status: 400,
    code: 'CLIENT_INVALID_HEADER',
  },
  {
    name: '[HG S46] \\xff around "chunked"',
    request: `${POST}Transfer-Encoding: \xffchunked\xff\r\n\r\n1\r\nZ\r\n0\r\n\r\n`,
    status: 501,
    code: 'CLIENT_UNSUPPORTED_TRANSFER_ENCODING',
  },
  {
    name: '[HG S47] an invalid chunk line, then a request',
    request: `${CHUNKED}INVALID!!!\r\n${SMUGGLED}`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
  },
]

for (const c of REFUSED) {
  t.test(`${c.name} → ${c.status} ${c.code}, nothing reaches the upstream`, async (t) => expectRefused(t, c))
}

// ---- forwarded as exactly the one safe request ------------------------------------------------

t.test("[K22] CL.0 / [HG T21]: a body that is a request is forwarded as that request's body", async (t) => {
  const seen = await expectForwarded(t, `GET / HTTP/1.1\r\n${HOST}${len(SMUGGLED)}\r\n\r\n${SMUGGLED}`)
  t.equal(field(seen.headers, 'content-length'), String(SMUGGLED.length), 'Content-Length kept')
  t.equal(seen.body.toString('latin1'), SMUGGLED, 'the body, byte for byte')
})

t.test('[TE0] a chunk holding a request is forwarded as one request with that body', async (t) => {
  const data = 'GET http://attacker.test/ HTTP/1.1\r\nx: X'
  const seen = await expectForwarded(
    t,
    `OPTIONS / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n${data.length.toString(16)}\r\n${data}\r\n0\r\n\r\n`,
  )
  t.equal(seen.startLine, 'OPTIONS / HTTP/1.1')
  t.equal(seen.framing, 'chunked', 'still chunked towards the upstream')
  t.equal(seen.body.toString('latin1'), data)
})

t.test('[K25] Expect: y 100-continue is no expectation: one request with its body', async (t) => {
  const seen = await expectForwarded(t, `${POST}Expect: y 100-continue\r\n${len(SMUGGLED)}\r\n\r\n${SMUGGLED}`)
  t.equal(field(seen.headers, 'expect'), 'y 100-continue', 'forwarded as received')
  t.equal(seen.body.toString('latin1'), SMUGGLED)
})

t.test('[HG S39] a trailer that looks like a request line is a trailer: one request', async (t) => {
  const seen = await expectForwarded(t, `${CHUNKED}0\r\nX:POST / HTTP/1.1\r\n\r\n`)
  t.equal(seen.body.length, 0)
  t.same(seen.trailers, [], 'request trailers are validated and dropped (RULES.md Decisions)')
})

t.test('[HG S41] obs-text around a value is part of it, forwarded byte for byte', async (t) => {
  const seen = await expectForwarded(t, `GET /login HTTP/1.1\r\n${HOST}User: \x85admin\xa0\r\n\r\n`)
  t.equal(field(seen.headers, 'user'), '\x85admin\xa0')
})

// ---- early responses: the body that follows is never a request [K25] ------------------------

for (const expect of [false, true]) {
  const name = expect ? 'Expect: 100-continue answered with a final status' : '0.CL early-response gadget'
  t.test(`[K25] ${name}: the body sent afterwards never becomes a request`, async (t) => {
    let client: RawClient | null = null
    const up = await ScriptedUpstream.start(t, {
      // Answer from the head alone, as an early-response gadget does; then read "the next request".
      script: [
        read(0),
        write('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n'),
        read(),
        write('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nPOISON'),
      ],
    })
    const g = await startGateway(t, up.url)
    client = await g.connect()
    client.write(`${POST}${expect ? 'Expect: 100-continue\r\n' : ''}${len(SMUGGLED)}\r\n\r\n`)
    const response = await client.response()
    t.equal(response.status, 401, 'the early response is relayed')
    t.equal(field(response.headers, 'connection'), 'close', 'with Connection: close: the request is unfinished')
    // The client goes on with the body it declared: a complete request.
    client.write(SMUGGLED)
    t.ok(['fin', 'reset'].includes(await (client as RawClient).closed()), 'the gateway closes the connection')
    t.equal(client.unread.length, 0, 'no second response')
    t.notOk(client.received.includes('POISON'))
    t.equal(up.requests.length, 1, 'the upstream saw the head only')
    t.equal(up.connections, 1)
    await up.waitFor(() => up.closedConnections === 1, 'the upstream connection to be closed')
  })
}

t.test('[K22] CL.0 upstream: its answer to the "request" in a body never reaches a client', async (t) => {
  let client: RawClient | null = null
  const up = await ScriptedUpstream.start(t, {
    script: (connection) =>
      connection === 0
        ? [
            // A CL.0 back-end: answers from the head, then reads the body as the next request.
            read(0),
            write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'),
            read(),
            gate(() => (client as RawClient).bytes(1)),
            write('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nPOISON'),
          ]
        : [read(), write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')],
  })
  const g = await startGateway(t, up.url)
  client = await g.connect()
  client.write(`${POST}${len(SMUGGLED)}\r\n\r\n${SMUGGLED}`)
  const first = await client.response()
  t.equal(first.body.toString(), 'ok')
  // The upstream now sends its answer to /smuggled on the pooled connection: RULES.md, unsolicited
  // bytes on an idle pooled connection → a warning, never forwarded, the connection never reused.
  await up.waitFor(() => up.closedConnections === 1, 'the poisoned connection to be dropped')
  t.ok(g.codes().includes('UPSTREAM_EXTRA_DATA'), 'reported as UPSTREAM_EXTRA_DATA (warning)', { found: g.codes() })
  client.write(`GET / HTTP/1.1\r\n${HOST}\r\n`)
  const second = await client.response()
  t.equal(second.body.toString(), 'ok', "the next response is the upstream's answer to the next request")
  t.notOk(client.received.includes('POISON'), 'the poison never reached the client')
  t.equal(up.connections, 2, 'on a new upstream connection')
})

leakCheck(t)
