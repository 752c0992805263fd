// An independent conformance corpus for upstream responses, written from the RFC grammar (RFC 9112
// §2–§7; RFC 9110 §5, §6.5, §8.6, §15) rather than from the implementation: raw responses with
// their expected outcome, VALID ones with their exact heads, bodies and trailers, INVALID ones with
// the code RULES.md gives. Each test name cites the rule it pins, and every case is parsed whole,
// split at every offset and byte by byte (test/helpers/split.ts). Wrongly rejecting a valid
// response is as much a failure as accepting an invalid one.

import t from 'tap'
import type { ErrorCode } from '../../src/errors.js'
import { DEFAULT_LIMITS } from '../../src/h1/limits.js'
import {
  type Asserts,
  body,
  CHUNK,
  CHUNKED,
  CLOSE,
  complete,
  responseHead as head,
  LEN,
  NONE,
  OK,
  rejectsResponseBody,
  rejectsResponseHead,
  trailers,
  acceptsResponse as valid,
} from '../helpers/rule-cases.js'
import { bodyOf, checkResponse, completions, type ResponseOptions } from '../helpers/split.js'

const HEAD = { request: { method: 'HEAD', upgrade: [] } }
const TE: [string, string] = ['Transfer-Encoding', 'chunked']
const CL0: [string, string] = ['Content-Length', '0']

const BODY_CODES: readonly ErrorCode[] = ['UPSTREAM_INVALID_CHUNK', 'UPSTREAM_TRUNCATED_BODY']

/**
 * INVALID: fails with `code` at `offset` at every split and never completes. A head rule delivers
 * no final head and no body (the 502 case); a body rule delivers the head and `data` (the abort).
 */
function invalid(t: Asserts, raw: string, code: ErrorCode, offset: number, data = '', options?: ResponseOptions) {
  if (BODY_CODES.includes(code)) rejectsResponseBody(t, raw, code, offset, data, options)
  else if (data !== '') throw new Error(`${code} is a head rule: no body byte is delivered before it`)
  else rejectsResponseHead(t, raw, code, offset, options)
}

// ---- VALID ------------------------------------------------------------------------------------

t.test('VALID RFC 9112 §4: reason-phrase may be empty (status-line keeps its second SP)', async (t) => {
  valid(t, 'HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n', [head(200, [CL0], LEN(0)), complete])
  valid(t, 'HTTP/1.0 404 \r\nContent-Length: 2\r\n\r\nno', [
    head(404, [['Content-Length', '2']], LEN(2)),
    body('no'),
    complete,
  ])
})

t.test('VALID RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ), long', async (t) => {
  const reason = `${'A Rather Long Reason Phrase, with: punctuation! '.repeat(20)}\tTAB  two-SP \x80\xa0\xe9\xfe\xff ~`
  valid(t, `HTTP/1.1 200 ${reason}\r\nContent-Length: 2\r\n\r\nok`, [
    head(200, [['Content-Length', '2']], LEN(2)),
    body('ok'),
    complete,
  ])
  valid(t, 'HTTP/1.1 200  \t \r\nContent-Length: 0\r\n\r\n', [head(200, [CL0], LEN(0)), complete])
})

t.test('VALID RFC 9110 §5.1/§5.6.2: a field name may use every tchar', async (t) => {
  const name = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
  valid(t, `${OK}${name}: v\r\nContent-Length: 0\r\n\r\n`, [head(200, [[name, 'v'], CL0], LEN(0)), complete])
  for (const c of "!#$%&'*+-.^_`|~") {
    valid(t, `${OK}${c}: ${c}\r\nContent-Length: 0\r\n\r\n`, [head(200, [[c, c], CL0], LEN(0)), complete])
  }
})

t.test('VALID RFC 9110 §5.5: field values with obs-text, empty values, internal SP/HTAB and ":"', async (t) => {
  valid(t, `${OK}X-Obs: caf\xe9 \x80\xff\xa0\r\nContent-Length: 0\r\n\r\n`, [
    head(200, [['X-Obs', 'caf\xe9 \x80\xff\xa0'], CL0], LEN(0)),
    complete,
  ])
  valid(t, `${OK}X-E:\r\nX-F: \r\nX-G:\t \t\r\nContent-Length: 0\r\n\r\n`, [
    head(200, [['X-E', ''], ['X-F', ''], ['X-G', ''], CL0], LEN(0)),
    complete,
  ])
  valid(t, `${OK}Location: http://a.test:8080/p?q=1#f\r\nX-C: a : b:c\t\td  e\r\nContent-Length: 0\r\n\r\n`, [
    head(200, [['Location', 'http://a.test:8080/p?q=1#f'], ['X-C', 'a : b:c\t\td  e'], CL0], LEN(0)),
    complete,
  ])
  // A value of only "::" or of VCHARs that are delimiters elsewhere.
  valid(t, `${OK}X-D: ::\r\nX-Q: "(),/;<=>?@[\\]{}"\r\nContent-Length: 0\r\n\r\n`, [
    head(200, [['X-D', '::'], ['X-Q', '"(),/;<=>?@[\\]{}"'], CL0], LEN(0)),
    complete,
  ])
})

t.test('VALID RFC 9112 §5.1: OWS (any mix of SP and HTAB) around a value is not part of it', async (t) => {
  valid(t, `${OK}X-O: \t \t v w \t \t\r\nX-P:v\r\nX-R:\t\tv\r\nContent-Length: 0\r\n\r\n`, [
    head(200, [['X-O', 'v w'], ['X-P', 'v'], ['X-R', 'v'], CL0], LEN(0)),
    complete,
  ])
})

t.test('VALID RFC 9112 §5.1 + §6.1/§8.6: OWS with HTAB around Transfer-Encoding and Content-Length', async (t) => {
  // Regression: llhttp took only SP as trailing OWS: "chunked<HTAB>" was read as close-delimited
  // while strictgate decoded chunks, and "5<HTAB>" was an invalid Content-Length.
  for (const v of ['chunked\t', 'chunked \t', 'chunked\t ', '\tchunked\t', ' \t chunked \t ']) {
    valid(t, `${OK}Transfer-Encoding:${v}\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, [
      head(200, [TE], CHUNK),
      body('hello'),
      complete,
    ])
  }
  for (const v of ['5\t', '5 \t', '\t5\t', ' \t 5 \t ', '5']) {
    valid(t, `${OK}Content-Length:${v}\r\n\r\nhello`, [
      head(200, [['Content-Length', '5']], LEN(5)),
      body('hello'),
      complete,
    ])
  }
  valid(t, `${OK}Connection: close\t\r\nContent-Length: 2\r\n\r\nok`, [
    head(
      200,
      [
        ['Connection', 'close'],
        ['Content-Length', '2'],
      ],
      LEN(2),
    ),
    body('ok'),
    complete,
  ])
})

t.test('VALID RFC 9112 §6.1/§7: transfer-coding names are case-insensitive', async (t) => {
  for (const v of ['Chunked', 'CHUNKED', 'cHuNkEd']) {
    valid(t, `${OK}Transfer-Encoding: ${v}\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, [
      head(200, [['Transfer-Encoding', v]], CHUNK),
      body('abc'),
      complete,
    ])
  }
  // Field names too (RFC 9110 §5.1).
  valid(t, `${OK}TRANSFER-ENCODING: chunked\r\n\r\n0\r\n\r\n`, [
    head(200, [['TRANSFER-ENCODING', 'chunked']], CHUNK),
    complete,
  ])
  valid(t, `${OK}content-length: 2\r\n\r\nok`, [head(200, [['content-length', '2']], LEN(2)), body('ok'), complete])
})

t.test('VALID RFC 9112 §7.1: chunk-size = 1*HEXDIG, leading zeros, upper and lower case', async (t) => {
  valid(t, `${CHUNKED}0005\r\nhello\r\nA\r\n0123456789\r\nb\r\n0123456789a\r\n0C\r\n0123456789ab\r\n00000\r\n\r\n`, [
    head(200, [TE], CHUNK),
    body('hello01234567890123456789a0123456789ab'),
    complete,
  ])
  valid(t, `${CHUNKED}1F\r\n${'x'.repeat(31)}\r\n1f\r\n${'y'.repeat(31)}\r\n0\r\n\r\n`, [
    head(200, [TE], CHUNK),
    body('x'.repeat(31) + 'y'.repeat(31)),
    complete,
  ])
  // chunk-data is opaque: CRLF, "0" lines and NUL inside it are data.
  valid(t, `${CHUNKED}9\r\n0\r\n\r\n\x00\xff\r\n\r\n0\r\n\r\n`, [
    head(200, [TE], CHUNK),
    body('0\r\n\r\n\x00\xff\r\n'),
    complete,
  ])
})

t.test('VALID RFC 9112 §7.1.1: chunk-ext with token and quoted-string values', async (t) => {
  valid(t, `${CHUNKED}5;name=token;q="a \\"quoted\\" \\\\ value";flag\r\nhello\r\n0\r\n\r\n`, [
    head(200, [TE], CHUNK),
    body('hello'),
    complete,
  ])
  // Every tchar in a name and a token value; a quoted-string with ";", "=", HTAB, obs-text and
  // quoted-pairs of SP, HTAB, VCHAR and obs-text; an empty quoted-string.
  const tchars = "!#$%&'*+-.^_`|~09azAZ"
  valid(t, `${CHUNKED}5;${tchars}=${tchars};a="x;y=z\t\xe9\\ \\\t\\a\\\xe9";b=""\r\nhello\r\n0\r\n\r\n`, [
    head(200, [TE], CHUNK),
    body('hello'),
    complete,
  ])
})

t.test(
  'VALID RFC 9112 §7.1.1 + RFC 9110 §5.6.3: BWS around ";" and "=" in chunk-ext is parsed and removed',
  async (t) => {
    // Regression: llhttp (strict) rejected every BWS in a chunk line.
    for (const ext of ['5 ;a', '5\t;a', '5; a', '5;\ta', '5;a =b', '5;a= b', '5;a = "b"', '5 \t; \ta\t = \t"b" ;c=d']) {
      valid(t, `${CHUNKED}${ext}\r\nhello\r\n0\r\n\r\n`, [head(200, [TE], CHUNK), body('hello'), complete])
    }
    valid(t, `${CHUNKED}5;a ;b\r\nhello\r\n0 ; end = "yes"\r\n\r\n`, [head(200, [TE], CHUNK), body('hello'), complete])
  },
)

t.test('VALID RFC 9112 §7.1/§7.1.1: no limit in the grammar on chunk-size zeros or chunk-ext length', async (t) => {
  valid(t, `${CHUNKED}${'0'.repeat(40)}5\r\nhello\r\n${'0'.repeat(40)}\r\n\r\n`, [
    head(200, [TE], CHUNK),
    body('hello'),
    complete,
  ])
  valid(t, `${CHUNKED}5;${'n'.repeat(300)}="${'v'.repeat(300)}"\r\nhello\r\n0\r\n\r\n`, [
    head(200, [TE], CHUNK),
    body('hello'),
    complete,
  ])
  valid(t, `${CHUNKED}5\t\t;\t\ta\t\t=\t\t"b"\t\t;\t\tc\r\nhello\r\n0\r\n\r\n`, [
    head(200, [TE], CHUNK),
    body('hello'),
    complete,
  ])
})

t.test('VALID RFC 9112 §7.1/§7.1.2: last-chunk with extensions, then trailer fields', async (t) => {
  valid(t, `${CHUNKED}5\r\nhello\r\n0;done;reason="eof"\r\nX-T: v\r\n\r\n`, [
    head(200, [TE], CHUNK),
    body('hello'),
    trailers(['X-T', 'v']),
    complete,
  ])
  valid(t, `${CHUNKED}000;a=b\r\n\r\n`, [head(200, [TE], CHUNK), complete])
})

t.test('VALID RFC 9112 §7.1.2 + RFC 9110 §6.5: trailer fields that are allowed', async (t) => {
  valid(
    t,
    `${CHUNKED}3\r\nabc\r\n0\r\nServer-Timing: total;dur=12.3\r\nX-Checksum:  sha-256=:abc=: \r\nX-Empty:\r\nX-Obs: \xe9\t\xff\r\n\r\n`,
    [
      head(200, [TE], CHUNK),
      body('abc'),
      trailers(
        ['Server-Timing', 'total;dur=12.3'],
        ['X-Checksum', 'sha-256=:abc=:'],
        ['X-Empty', ''],
        ['X-Obs', '\xe9\t\xff'],
      ),
      complete,
    ],
  )
  // A trailer may repeat a field name.
  valid(t, `${CHUNKED}0\r\nX-T: 1\r\nX-T: 2\r\n\r\n`, [
    head(200, [TE], CHUNK),
    trailers(['X-T', '1'], ['X-T', '2']),
    complete,
  ])
})

t.test('VALID RFC 9110 §15.2: 1xx with fields (103 Early Hints with Link) before the final response', async (t) => {
  const hints = 'HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload; as=style\r\n\r\n'
  valid(t, `${hints}${OK}Content-Length: 2\r\n\r\nok`, [
    head(103, [['Link', '</s.css>; rel=preload; as=style']], NONE),
    head(200, [['Content-Length', '2']], LEN(2)),
    body('ok'),
    complete,
  ])
})

t.test('VALID RFC 9110 §15.2: several 1xx before the final response', async (t) => {
  const raw =
    'HTTP/1.1 100 Continue\r\n\r\n' +
    'HTTP/1.1 102 Processing\r\n\r\n' +
    'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nLink: </b.js>; rel=preload\r\n\r\n' +
    'HTTP/1.1 199 \r\nX-Why: test\r\n\r\n' +
    `${CHUNKED}2\r\nok\r\n0\r\n\r\n`
  valid(t, raw, [
    head(100, [], NONE),
    head(102, [], NONE),
    head(
      103,
      [
        ['Link', '</a.css>; rel=preload'],
        ['Link', '</b.js>; rel=preload'],
      ],
      NONE,
    ),
    head(199, [['X-Why', 'test']], NONE),
    head(200, [TE], CHUNK),
    body('ok'),
    complete,
  ])
})

t.test('VALID RFC 9110 §15: status codes at the class boundaries 100, 199, 200, 299, 300, 599', async (t) => {
  valid(t, `HTTP/1.1 100 \r\n\r\nHTTP/1.1 599 Edge\r\nContent-Length: 0\r\n\r\n`, [
    head(100, [], NONE),
    head(599, [CL0], LEN(0)),
    complete,
  ])
  for (const s of [200, 299, 300, 399, 400, 499, 500, 599]) {
    valid(t, `HTTP/1.1 ${s} X\r\nContent-Length: 1\r\n\r\nx`, [
      head(s, [['Content-Length', '1']], LEN(1)),
      body('x'),
      complete,
    ])
  }
})

t.test('VALID RFC 9110 §8.6 + RFC 9112 §6.3(1): 304 with Content-Length and ETag has no body', async (t) => {
  valid(t, 'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 1234\r\nCache-Control: max-age=60\r\n\r\n', [
    head(
      304,
      [
        ['ETag', '"v1"'],
        ['Content-Length', '1234'],
        ['Cache-Control', 'max-age=60'],
      ],
      NONE,
    ),
    complete,
  ])
})

t.test('VALID RFC 9112 §6.3(1): a HEAD response with Transfer-Encoding: chunked has no body', async (t) => {
  valid(
    t,
    `${OK}Transfer-Encoding: chunked\r\nETag: "x"\r\n\r\n`,
    [head(200, [TE, ['ETag', '"x"']], NONE), complete],
    HEAD,
  )
  valid(t, `${OK}Content-Length: 99\r\n\r\n`, [head(200, [['Content-Length', '99']], NONE), complete], HEAD)
})

t.test('VALID RFC 9112 §6.3(1): a 304 with Transfer-Encoding: chunked has no body', async (t) => {
  valid(t, 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n', [head(304, [TE], NONE), complete])
})

t.test('VALID RFC 9110 §8.6: 204 with Content-Length: 0', async (t) => {
  valid(t, 'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n', [head(204, [CL0], NONE), complete])
  valid(t, 'HTTP/1.1 204 No Content\r\nContent-Length: 000\r\n\r\n', [
    head(204, [['Content-Length', '000']], NONE),
    complete,
  ])
})

t.test('VALID RFC 9112 §9.3 + §6.3(6): HTTP/1.0 with Content-Length and Connection: keep-alive', async (t) => {
  valid(t, 'HTTP/1.0 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello', [
    head(
      200,
      [
        ['Content-Length', '5'],
        ['Connection', 'keep-alive'],
      ],
      LEN(5),
    ),
    body('hello'),
    complete,
  ])
})

t.test('VALID RFC 9112 §6.3(8): close-delimited bodies end at FIN', async (t) => {
  valid(t, `${OK}Content-Type: text/plain\r\n\r\nline 1\r\nline 2\r\n\r\n0\r\n\r\n`, [
    head(200, [['Content-Type', 'text/plain']], CLOSE),
    body('line 1\r\nline 2\r\n\r\n0\r\n\r\n'),
    complete,
  ])
  valid(t, 'HTTP/1.0 200 OK\r\nServer: old\r\n\r\n\x00\xff', [
    head(200, [['Server', 'old']], CLOSE),
    body('\x00\xff'),
    complete,
  ])
  valid(t, `${OK}Connection: close\r\n\r\nbye`, [head(200, [['Connection', 'close']], CLOSE), body('bye'), complete])
})

t.test('VALID RFC 9110 §8.6: Content-Length = 1*DIGIT, leading zeros included', async (t) => {
  valid(t, `${OK}Content-Length: 0010\r\n\r\n0123456789`, [
    head(200, [['Content-Length', '0010']], LEN(10)),
    body('0123456789'),
    complete,
  ])
  valid(t, `${OK}Content-Length: 00\r\n\r\n`, [head(200, [['Content-Length', '00']], LEN(0)), complete])
})

t.test('VALID RFC 9110 §5.3: repeated non-framing fields (Set-Cookie, Cache-Control)', async (t) => {
  valid(
    t,
    `${OK}Set-Cookie: a=1; Path=/; HttpOnly\r\nSet-Cookie: b=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT\r\nCache-Control: no-cache\r\nCache-Control: no-store, private\r\nContent-Length: 0\r\n\r\n`,
    [
      head(
        200,
        [
          ['Set-Cookie', 'a=1; Path=/; HttpOnly'],
          ['Set-Cookie', 'b=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT'],
          ['Cache-Control', 'no-cache'],
          ['Cache-Control', 'no-store, private'],
          CL0,
        ],
        LEN(0),
      ),
      complete,
    ],
  )
})

t.test('VALID RFC 9112 §9.6: Connection: close with Content-Length and with chunked', async (t) => {
  valid(t, `${OK}Connection: close\r\nContent-Length: 3\r\n\r\nabc`, [
    head(
      200,
      [
        ['Connection', 'close'],
        ['Content-Length', '3'],
      ],
      LEN(3),
    ),
    body('abc'),
    complete,
  ])
  valid(t, `${OK}Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, [
    head(200, [['Connection', 'close'], TE], CHUNK),
    body('abc'),
    complete,
  ])
})

t.test('VALID RFC 9110 §5.4: a head of exactly maxHeaderBytes is accepted', async (t) => {
  const limits = { ...DEFAULT_LIMITS, maxHeaderBytes: 80 }
  const pad = (n: number) => `${OK}X-Pad: ${'p'.repeat(n)}\r\nContent-Length: 2\r\n\r\n`
  const n = 80 - pad(0).length
  const raw = pad(n)
  t.equal(raw.length, 80)
  valid(
    t,
    `${raw}ok`,
    [
      head(
        200,
        [
          ['X-Pad', 'p'.repeat(n)],
          ['Content-Length', '2'],
        ],
        LEN(2),
      ),
      body('ok'),
      complete,
    ],
    { limits },
  )
  invalid(t, `${pad(n + 1)}ok`, 'UPSTREAM_HEADERS_TOO_LARGE', 80, '', { limits })
  // The default 16 KiB, sampled splits.
  const big = (k: number) => `${OK}X-Pad: ${'p'.repeat(k)}\r\nContent-Length: 0\r\n\r\n`
  const exact = big(16_384 - big(0).length)
  t.equal(exact.length, 16_384)
  const o = checkResponse(t, exact, {}, [0, 1, 16, 17, 8_192, 16_380, 16_383, 16_384])
  t.same(o.failure, null)
  t.equal(completions(o), 1)
})

// ---- INVALID ----------------------------------------------------------------------------------

t.test(
  'INVALID RFC 9112 §2.2/§4 (S2): whitespace or a CRLF before the status line → UPSTREAM_INVALID_STATUS_LINE',
  async (t) => {
    for (const lead of [' ', '\t', '\r\n', '\n']) {
      invalid(t, `${lead}HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n`, 'UPSTREAM_INVALID_STATUS_LINE', 0)
    }
  },
)

t.test('INVALID RFC 9112 §4 (S2): HTAB or several SP instead of one SP → UPSTREAM_INVALID_STATUS_LINE', async (t) => {
  invalid(t, 'HTTP/1.1\t200 OK\r\nContent-Length: 0\r\n\r\n', 'UPSTREAM_INVALID_STATUS_LINE', 8)
  invalid(t, 'HTTP/1.1 200\tOK\r\nContent-Length: 0\r\n\r\n', 'UPSTREAM_INVALID_STATUS_LINE', 12)
  invalid(t, 'HTTP/1.1  200 OK\r\nContent-Length: 0\r\n\r\n', 'UPSTREAM_INVALID_STATUS_LINE', 9)
  invalid(t, 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n', 'UPSTREAM_INVALID_STATUS_LINE', 12)
})

t.test(
  'INVALID RFC 9112 §2.2/§4 (S2, S4): bare CR or bare LF in the status line → UPSTREAM_INVALID_STATUS_LINE',
  async (t) => {
    // A CR in the reason phrase is not followed by LF: found at the byte after it.
    invalid(t, 'HTTP/1.1 200 O\rK\r\nContent-Length: 0\r\n\r\n', 'UPSTREAM_INVALID_STATUS_LINE', 15)
    // A head with only LF line ends.
    invalid(t, 'HTTP/1.1 200 OK\nContent-Length: 0\n\n', 'UPSTREAM_INVALID_STATUS_LINE', 15)
    invalid(t, 'HTTP/1.1 200 \nContent-Length: 0\n\n', 'UPSTREAM_INVALID_STATUS_LINE', 13)
  },
)

t.test(
  'INVALID RFC 9112 §4 (S4): CTL other than HTAB in the reason phrase → UPSTREAM_INVALID_STATUS_LINE',
  async (t) => {
    for (const c of ['\x00', '\x08', '\x0a', '\x0c', '\x1f', '\x7f']) {
      invalid(t, `HTTP/1.1 200 OK${c}\r\nContent-Length: 0\r\n\r\n`, 'UPSTREAM_INVALID_STATUS_LINE', 15)
    }
  },
)

t.test(
  'INVALID RFC 9112 §2.3 (S1): HTTP-version other than HTTP/1.0, HTTP/1.1 → UPSTREAM_INVALID_VERSION',
  async (t) => {
    invalid(t, 'HTTP/1.1\r\n\r\n', 'UPSTREAM_INVALID_STATUS_LINE', 8)
    invalid(t, 'HTTP/11 200 OK\r\n\r\n', 'UPSTREAM_INVALID_VERSION', 6)
    invalid(t, 'HTTP /1.1 200 OK\r\n\r\n', 'UPSTREAM_INVALID_VERSION', 4)
    invalid(t, 'Http/1.1 200 OK\r\n\r\n', 'UPSTREAM_INVALID_VERSION', 1)
    invalid(t, '200 OK\r\n\r\n', 'UPSTREAM_INVALID_VERSION', 0)
    invalid(t, 'HTTP/1.3 200 OK\r\n\r\n', 'UPSTREAM_INVALID_VERSION', 7)
    invalid(t, 'HTTP/3 200 OK\r\n\r\n', 'UPSTREAM_INVALID_VERSION', 5)
  },
)

t.test('INVALID RFC 9110 §15 (S3): status-code not 3DIGIT in 100–599 → UPSTREAM_INVALID_STATUS_CODE', async (t) => {
  invalid(t, 'HTTP/1.1 099 X\r\n\r\n', 'UPSTREAM_INVALID_STATUS_CODE', 9)
  invalid(t, 'HTTP/1.1 600 X\r\n\r\n', 'UPSTREAM_INVALID_STATUS_CODE', 9)
  invalid(t, 'HTTP/1.1 20a X\r\n\r\n', 'UPSTREAM_INVALID_STATUS_CODE', 11)
  invalid(t, 'HTTP/1.1 -20 X\r\n\r\n', 'UPSTREAM_INVALID_STATUS_CODE', 9)
  invalid(t, 'HTTP/1.1 +200 X\r\n\r\n', 'UPSTREAM_INVALID_STATUS_CODE', 9)
  invalid(t, 'HTTP/1.1 2\xb20 X\r\n\r\n', 'UPSTREAM_INVALID_STATUS_CODE', 10)
})

t.test(
  'INVALID RFC 9110 §5.1 + RFC 9112 §5.1 (H1): field name not a token, or whitespace before ":" → UPSTREAM_INVALID_HEADER',
  async (t) => {
    // Field name with a trailing HTAB or SP before the colon.
    invalid(t, `${OK}X-A\t: b\r\nContent-Length: 0\r\n\r\n`, 'UPSTREAM_INVALID_HEADER', 20)
    invalid(t, `${OK}X-A  : b\r\nContent-Length: 0\r\n\r\n`, 'UPSTREAM_INVALID_HEADER', 20)
    // Every delimiter that is not a tchar, and CTLs, SP, DEL and obs-text, inside a name.
    for (const c of '"(),/:;<=>?@[\\]{} \x00\x01\x7f\x80\xff') {
      if (c === ':') continue
      invalid(t, `${OK}X${c}A: b\r\nContent-Length: 0\r\n\r\n`, 'UPSTREAM_INVALID_HEADER', 18)
    }
    // Empty name.
    invalid(t, `${OK}: b\r\nContent-Length: 0\r\n\r\n`, 'UPSTREAM_INVALID_HEADER', 17)
    // No colon.
    invalid(t, `${OK}Content-Length\r\n\r\n`, 'UPSTREAM_INVALID_HEADER', 31)
  },
)

t.test('INVALID RFC 9110 §5.5 (H2): CR, NUL, other CTL in a field value → UPSTREAM_INVALID_HEADER', async (t) => {
  // A CR in the middle of a value: not followed by LF, found at the byte after it.
  invalid(t, `${OK}X-A: b\rc\r\nContent-Length: 0\r\n\r\n`, 'UPSTREAM_INVALID_HEADER', 24)
  for (const c of ['\x00', '\x07', '\x0b', '\x0c', '\x1b', '\x7f']) {
    invalid(t, `${OK}X-A: b${c}c\r\nContent-Length: 0\r\n\r\n`, 'UPSTREAM_INVALID_HEADER', 23)
  }
})

t.test('INVALID RFC 9112 §5.2 (H3): obs-fold → UPSTREAM_INVALID_HEADER', async (t) => {
  invalid(t, `${OK}X-A: b\r\n  c\r\nContent-Length: 0\r\n\r\n`, 'UPSTREAM_INVALID_HEADER', 25)
  invalid(t, `${OK}X-A:\r\n\tc\r\nContent-Length: 0\r\n\r\n`, 'UPSTREAM_INVALID_HEADER', 23)
})

t.test('INVALID RFC 9112 §2.2 (H4): bare LF or bare CR ends a field line → UPSTREAM_INVALID_HEADER', async (t) => {
  invalid(t, `${OK}Content-Length: 0\n\n`, 'UPSTREAM_INVALID_HEADER', 34)
  invalid(t, `${OK}Content-Length: 0\r\n\n`, 'UPSTREAM_INVALID_HEADER', 36)
  invalid(t, `${OK}Content-Length: 0\r\r\n\r\n`, 'UPSTREAM_INVALID_HEADER', 35)
})

t.test('INVALID RFC 9110 §8.6 (F1): Content-Length not 1*DIGIT → UPSTREAM_INVALID_CONTENT_LENGTH', async (t) => {
  const code = 'UPSTREAM_INVALID_CONTENT_LENGTH'
  // Judged once the head's grammar is known (RULES.md Decisions), blamed at the value's start
  // (an empty value is where llhttp places it: the next line's start).
  invalid(t, `${OK}Content-Length: 1 2\r\n\r\nab`, code, 33)
  invalid(t, `${OK}Content-Length: 1\t2\r\n\r\nab`, code, 33)
  invalid(t, `${OK}Content-Length: 0x5\r\n\r\nhello`, code, 33)
  invalid(t, `${OK}Content-Length: 5.0\r\n\r\nhello`, code, 33)
  invalid(t, `${OK}Content-Length: -0\r\n\r\n`, code, 33)
  invalid(t, `${OK}Content-Length: +0\r\n\r\n`, code, 33)
  invalid(t, `${OK}Content-Length: 1e1\r\n\r\n0123456789`, code, 33)
  invalid(t, `${OK}Content-Length: "5"\r\n\r\nhello`, code, 33)
  invalid(t, `${OK}Content-Length: 5;\r\n\r\nhello`, code, 33)
  invalid(t, `${OK}Content-Length: \xb5\r\n\r\nhello`, code, 33)
  invalid(t, `${OK}Content-Length: \r\n\r\n`, code, 35)
  invalid(t, `${OK}Content-Length: 5,\r\n\r\nhello`, code, 33)
  invalid(t, `${OK}Content-Length: ,5\r\n\r\nhello`, code, 33)
  // Exactly one field: even an identical second one.
  invalid(t, `${OK}Content-Length: 0\r\nContent-Length: 0\r\n\r\n`, code, 52)
  // Content-Length on a 304 or a HEAD response is still a Content-Length.
  invalid(t, 'HTTP/1.1 304 Not Modified\r\nContent-Length: 1 2\r\n\r\n', code, 43)
})

t.test('INVALID RFC 9112 §6.3(3) (F2): Transfer-Encoding with Content-Length → UPSTREAM_INVALID_FRAMING', async (t) => {
  // Judged with the whole head (RULES.md Decisions), blamed at the Transfer-Encoding field line.
  invalid(t, `${OK}Transfer-Encoding: CHUNKED\r\nContent-Length: 0\r\n\r\n0\r\n\r\n`, 'UPSTREAM_INVALID_FRAMING', 17)
  invalid(
    t,
    'HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
    'UPSTREAM_INVALID_FRAMING',
    46,
  )
})

t.test(
  'INVALID RFC 9112 §6.1/§6.3(4) (F3): Transfer-Encoding other than exactly one "chunked" → UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING',
  async (t) => {
    for (const te of [
      'chunked;q=1',
      'chunked; q=1',
      'chunked, chunked',
      'Chunked,CHUNKED',
      '"chunked"',
      'chunk',
      'chunkedx',
      'x-chunked',
      'chunked chunked',
      'chunked\tchunked',
      'gzip, chunked',
      'identity',
      '',
    ]) {
      invalid(t, `${OK}Transfer-Encoding: ${te}\r\n\r\n0\r\n\r\n`, 'UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING', 17)
    }
    // Also on a HEAD response, where no body is read.
    invalid(
      t,
      `${OK}Transfer-Encoding: chunked, chunked\r\n\r\n`,
      'UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING',
      17,
      '',
      HEAD,
    )
  },
)

t.test(
  'INVALID RFC 9112 §6.1 (F4): Transfer-Encoding in an HTTP/1.0 response → UPSTREAM_INVALID_FRAMING',
  async (t) => {
    invalid(t, 'HTTP/1.0 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n', 'UPSTREAM_INVALID_FRAMING', 17)
  },
)

t.test(
  'INVALID RFC 9110 §8.6 + RFC 9112 §6.3(1) (F5): framing in a 1xx or 204 → UPSTREAM_INVALID_FRAMING',
  async (t) => {
    invalid(
      t,
      'HTTP/1.1 103 Early Hints\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'UPSTREAM_INVALID_FRAMING',
      26,
    )
    invalid(t, 'HTTP/1.1 199 X\r\nContent-Length: 1\r\n\r\nx', 'UPSTREAM_INVALID_FRAMING', 16)
    invalid(t, 'HTTP/1.1 204 No Content\r\nContent-Length: 1\r\n\r\nx', 'UPSTREAM_INVALID_FRAMING', 25)
  },
)

t.test(
  'INVALID RFC 9112 §7.1 (B1): chunk-size followed by SP or HTAB (BWS without ";") → UPSTREAM_INVALID_CHUNK',
  async (t) => {
    invalid(t, `${CHUNKED}5 \r\nhello\r\n0\r\n\r\n`, 'UPSTREAM_INVALID_CHUNK', 49)
    invalid(t, `${CHUNKED}5\t\r\nhello\r\n0\r\n\r\n`, 'UPSTREAM_INVALID_CHUNK', 49)
    invalid(t, `${CHUNKED}5 5\r\nhello\r\n0\r\n\r\n`, 'UPSTREAM_INVALID_CHUNK', 49)
    invalid(t, `${CHUNKED}2\r\nok\r\n0 \r\n\r\n`, 'UPSTREAM_INVALID_CHUNK', 56, 'ok')
  },
)

t.test(
  'INVALID RFC 9112 §7.1 (B1): chunk-size not 1*HEXDIG, or its line not ended by CRLF → UPSTREAM_INVALID_CHUNK',
  async (t) => {
    invalid(t, `${CHUNKED}0X5\r\nhello\r\n0\r\n\r\n`, 'UPSTREAM_INVALID_CHUNK', 48)
    invalid(t, `${CHUNKED}+5\r\nhello\r\n0\r\n\r\n`, 'UPSTREAM_INVALID_CHUNK', 47)
    invalid(t, `${CHUNKED}g\r\nhello\r\n0\r\n\r\n`, 'UPSTREAM_INVALID_CHUNK', 47)
    invalid(t, `${CHUNKED};a\r\nhello\r\n0\r\n\r\n`, 'UPSTREAM_INVALID_CHUNK', 47)
    // A CR not followed by LF, after the size and after an extension.
    invalid(t, `${CHUNKED}5\rhello\r\n0\r\n\r\n`, 'UPSTREAM_INVALID_CHUNK', 49)
    invalid(t, `${CHUNKED}5;a\rhello\r\n0\r\n\r\n`, 'UPSTREAM_INVALID_CHUNK', 51)
    // chunk-data not followed by CRLF.
    invalid(t, `${CHUNKED}5\r\nhello\r0\r\n\r\n`, 'UPSTREAM_INVALID_CHUNK', 56, 'hello')
  },
)

t.test(
  'INVALID RFC 9112 §7.1.1 (B1): chunk-ext without a name or with an empty value → UPSTREAM_INVALID_CHUNK',
  async (t) => {
    // Regression: llhttp accepts these; strictgate checks the chunk-ext grammar itself.
    const code = 'UPSTREAM_INVALID_CHUNK'
    invalid(t, `${CHUNKED}5;=x\r\nhello\r\n0\r\n\r\n`, code, 49)
    invalid(t, `${CHUNKED}5;a=\r\nhello\r\n0\r\n\r\n`, code, 51)
    invalid(t, `${CHUNKED}5;a=;b\r\nhello\r\n0\r\n\r\n`, code, 51)
    invalid(t, `${CHUNKED}5;;a\r\nhello\r\n0\r\n\r\n`, code, 49)
    invalid(t, `${CHUNKED}5;a;\r\nhello\r\n0\r\n\r\n`, code, 51)
    invalid(t, `${CHUNKED}5;\r\nhello\r\n0\r\n\r\n`, code, 49)
    invalid(t, `${CHUNKED}5 ;\r\nhello\r\n0\r\n\r\n`, code, 50)
    invalid(t, `${CHUNKED}5;a =\r\nhello\r\n0\r\n\r\n`, code, 52)
    // The same on the last chunk, after data was relayed.
    invalid(t, `${CHUNKED}2\r\nok\r\n0;=x\r\n\r\n`, code, 56, 'ok')
    invalid(t, `${CHUNKED}2\r\nok\r\n0;a=\r\n\r\n`, code, 58, 'ok')
  },
)

t.test(
  'INVALID RFC 9112 §7.1.1 + RFC 9110 §5.6 (B1): chunk-ext name or value not a token / quoted-string → UPSTREAM_INVALID_CHUNK',
  async (t) => {
    const code = 'UPSTREAM_INVALID_CHUNK'
    invalid(t, `${CHUNKED}5;a b\r\nhello\r\n0\r\n\r\n`, code, 51)
    invalid(t, `${CHUNKED}5;a=b c\r\nhello\r\n0\r\n\r\n`, code, 53)
    invalid(t, `${CHUNKED}5;a=b=c\r\nhello\r\n0\r\n\r\n`, code, 52)
    invalid(t, `${CHUNKED}5;a==b\r\nhello\r\n0\r\n\r\n`, code, 51)
    invalid(t, `${CHUNKED}5;a=b(\r\nhello\r\n0\r\n\r\n`, code, 52)
    invalid(t, `${CHUNKED}5;a=\xe9\r\nhello\r\n0\r\n\r\n`, code, 51)
    invalid(t, `${CHUNKED}5;\xe9\r\nhello\r\n0\r\n\r\n`, code, 49)
    invalid(t, `${CHUNKED}5;a"\r\nhello\r\n0\r\n\r\n`, code, 50)
    invalid(t, `${CHUNKED}5;a=b"\r\nhello\r\n0\r\n\r\n`, code, 52)
    invalid(t, `${CHUNKED}5;a="x"y\r\nhello\r\n0\r\n\r\n`, code, 54)
    invalid(t, `${CHUNKED}5;a="x"=\r\nhello\r\n0\r\n\r\n`, code, 54)
  },
)

t.test(
  'INVALID RFC 9110 §5.6.4 (B1): quoted-string chunk-ext with a bare CTL, DEL or no closing quote → UPSTREAM_INVALID_CHUNK',
  async (t) => {
    const code = 'UPSTREAM_INVALID_CHUNK'
    for (const c of ['\x00', '\x01', '\x1f', '\x7f', '\n']) {
      invalid(t, `${CHUNKED}5;a="x${c}"\r\nhello\r\n0\r\n\r\n`, code, 53)
    }
    // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ): not a CTL or DEL either.
    invalid(t, `${CHUNKED}5;a="\\\x01"\r\nhello\r\n0\r\n\r\n`, code, 53)
    invalid(t, `${CHUNKED}5;a="\\\x7f"\r\nhello\r\n0\r\n\r\n`, code, 53)
    // Unterminated: the CR of the line is inside the quoted-string.
    invalid(t, `${CHUNKED}5;a="x\r\nhello\r\n0\r\n\r\n`, code, 53)
  },
)

t.test(
  'INVALID RFC 9110 §6.5.1 + RFC 9112 §7.1.2 (B2): forbidden or malformed trailer fields → UPSTREAM_INVALID_CHUNK',
  async (t) => {
    const code = 'UPSTREAM_INVALID_CHUNK'
    const last = `${CHUNKED}2\r\nok\r\n0\r\n` // 57 bytes: the trailer section starts at 57
    for (const name of [
      'Content-Length',
      'transfer-encoding',
      'HOST',
      'Authorization',
      'Cache-Control',
      'Content-Encoding',
      'Content-Type',
      'Trailer',
      'TE',
    ]) {
      const o = checkResponse(t, `${last}${name}: 1\r\n\r\n`)
      t.equal(o.failure?.code, code, `${name} in a trailer section`)
      t.equal(completions(o), 0)
      t.equal(bodyOf(o), 'ok')
      t.notOk(
        o.events.some((e) => e.kind === 'trailers'),
        'no trailers delivered',
      )
    }
    // H1–H4 inside the trailer section: leading whitespace, no colon, bare CR, CTL.
    invalid(t, `${last} X-T: 1\r\n\r\n`, code, 57, 'ok')
    invalid(t, `${last}X-T\r\n\r\n`, code, 60, 'ok')
    invalid(t, `${last}X-T: a\rb\r\n\r\n`, code, 64, 'ok')
    invalid(t, `${last}X-T: a\x00b\r\n\r\n`, code, 63, 'ok')
    invalid(t, `${last}X\xe9: 1\r\n\r\n`, code, 58, 'ok')
    invalid(t, `${last}X\t: 1\r\n\r\n`, code, 58, 'ok')
  },
)

t.test(
  'INVALID RFC 9112 §6.3/§8 (B3): FIN before the last chunk or the trailer section end → UPSTREAM_TRUNCATED_BODY',
  async (t) => {
    invalid(t, `${CHUNKED}2\r\nok\r\n0\r\nX-T: 1\r\n`, 'UPSTREAM_TRUNCATED_BODY', 65, 'ok')
    invalid(t, `${CHUNKED}2\r\nok\r\n0;a="b`, 'UPSTREAM_TRUNCATED_BODY', 60, 'ok')
    invalid(t, `${OK}Content-Length: 0010\r\n\r\n012345678`, 'UPSTREAM_TRUNCATED_BODY', 50, '012345678')
  },
)
