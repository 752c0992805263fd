// Issue 14, "Strictness, second pass": every rule it decided (RULES.md as of 2026-12), as exact
// bytes run whole, at every split offset and byte by byte (test/helpers/split.ts), asserting the
// code, the offending byte's offset where the rule fixes one, and what was delivered before it.
// Each case is also checked against the reference recognizer (test/reference/), so the examples
// and the reference cannot drift apart.
//
// Offsets: a request-target is blamed at its first byte that cannot be part of a valid target; a
// Host at the start of its value and a Transfer-Encoding at the start of its field line (the
// convention of request-rules.test.ts / response-rules.test.ts); a chunk line at its first byte
// past 4 KiB and an extension at the first byte past 16 KiB per message (nothing more is read:
// the point of the limit, cf. CVE-2024-22019). Method and chunk-size failures carry no offset
// here: RULES.md fixes neither.

import t from 'tap'
import {
  bodyOf,
  checkRequests,
  checkResponse,
  completions,
  type HeadEvent,
  headsOf,
  type Outcome,
  type ResponseOptions,
} from '../helpers/split.js'
import { recognizeRequests, recognizeResponse } from '../reference/message.js'

type Framing = HeadEvent['framing']

type Asserts = Pick<typeof t, 'same' | 'equal' | 'ok'>

interface Expect {
  readonly code: string
  /** Offset of the offending byte in its message, when the rule fixes one. */
  readonly offset?: number
  /** 'head': nothing of the message delivered; 'body': its head and `body` were. */
  readonly phase: 'head' | 'body'
  readonly body?: string
}

function assertFailure(t: Asserts, o: Outcome, e: Expect): void {
  t.equal(o.failure?.code, e.code, e.code)
  if (e.offset !== undefined) t.equal(o.failure?.offset, e.offset, `offending byte at ${e.offset}`)
  t.equal(headsOf(o).filter((h) => !h.interim).length, e.phase === 'head' ? 0 : 1, `failed in the ${e.phase}`)
  t.equal(bodyOf(o), e.body ?? '', 'body bytes delivered before the failure')
  t.equal(completions(o), 0, 'never complete')
}

/** A request rejected with `e`, at every split (or at `offsets` for long inputs); the reference agrees. */
function rejectsRequest(t: Asserts, raw: string, e: Expect, offsets?: readonly number[]): void {
  assertFailure(t, checkRequests(t, raw, {}, offsets), e)
  t.equal(recognizeRequests(raw).rejected?.code, e.code, 'the reference gives the same code')
}

function rejectsResponse(
  t: Asserts,
  raw: string,
  e: Expect,
  options: ResponseOptions = {},
  offsets?: readonly number[],
) {
  assertFailure(t, checkResponse(t, raw, options, offsets), e)
  const request = options.request ?? { method: 'GET', upgrade: [] }
  const v = recognizeResponse(raw, request)
  t.equal(v.ok ? null : v.code, e.code, 'the reference gives the same code')
}

/** One request accepted: its head as given, `body` delivered, complete; the reference agrees. */
function acceptsRequest(
  t: Asserts,
  raw: string,
  head: { target: string; headers: [string, string][]; framing?: Framing },
  body = '',
  offsets?: readonly number[],
): void {
  const o = checkRequests(t, raw, {}, offsets)
  t.same(o.failure, null, 'accepted')
  t.same(
    headsOf(o).map((h) => ({ target: h.target, headers: h.headers, framing: h.framing })),
    [{ framing: { kind: 'none' }, ...head }],
    'head as received',
  )
  t.equal(bodyOf(o), body, 'body')
  t.equal(completions(o), 1, 'complete')
  const v = recognizeRequests(raw)
  t.ok(v.rejected === null && v.requests.length === 1, 'the reference accepts it too')
}

const HOST = 'Host: a\r\n'
const line = (target: string) => `GET ${target} HTTP/1.1\r\n${HOST}\r\n`

t.test('request-target: never-accepted bytes → 400 CLIENT_INVALID_REQUEST (RFC 9112 §3.2, RFC 3986)', async (t) => {
  const code = 'CLIENT_INVALID_REQUEST'
  // "GET " is 4 bytes: the target starts at offset 4.
  const cases: [target: string, offset: number, why: string][] = [
    ['/a#b', 6, 'a fragment (RFC 9112 §3.2: never sent; RFC 3986 §3.5)'],
    ['/?q#', 7, 'a fragment after the query'],
    ['/"', 5, 'DQUOTE (not a pchar)'],
    ['/a<b', 6, '<'],
    ['/a>b', 6, '>'],
    ['/a\\b', 6, 'backslash'],
    ['/a\x01', 6, 'a CTL'],
    ['/a\x7f', 6, 'DEL'],
    ['/\x80', 5, 'a byte >= 0x80'],
    ['/caf\xe9', 8, 'obs-text'],
    ['/%', 6, '"%" then SP'],
    ['/%4', 7, '"%" HEXDIG then SP'],
    ['/%zz', 6, '"%" not followed by HEXDIG'],
    ['/%4g', 7, '"%" HEXDIG then not a HEXDIG'],
    ['/a%%20', 7, '"%" "%"'],
    ['http://a/#', 13, 'a fragment in absolute-form'],
    ['http://a/"', 13, 'DQUOTE in absolute-form'],
  ]
  for (const [target, offset, why] of cases) {
    t.test(`${JSON.stringify(target)}: ${why}`, async (t) =>
      rejectsRequest(t, line(target), { code, offset, phase: 'head' }),
    )
  }
  // SP inside the target ends it: the rest is no HTTP-version (offset of "b").
  rejectsRequest(t, line('/a b'), { code, offset: 7, phase: 'head' })
})

t.test('request-target: { } | ^ and backtick are accepted and forwarded as received (RULES.md leniency)', async (t) => {
  for (const target of ['/{a}', '/a|b', '/a^b', '/a`b', '/p?q={x}|^`', '/%7B{}%7D', 'http://a/{}|^`']) {
    t.test(JSON.stringify(target), async (t) => acceptsRequest(t, line(target), { target, headers: [['Host', 'a']] }))
  }
})

t.test('Host grammar → 400 CLIENT_INVALID_HEADER at the value (RFC 9110 §7.2, RFC 3986 §3.2)', async (t) => {
  const code = 'CLIENT_INVALID_HEADER'
  // "GET / HTTP/1.1\r\nHost: " is 22 bytes: the value starts at offset 22.
  for (const [host, why] of [
    ['a:b', 'a non-numeric port'],
    ['a:80x', 'a port with a letter'],
    ['example.com:-1', 'a signed port'],
    ['user@a', 'userinfo'],
    ['user:pw@a:80', 'userinfo with a password'],
    ['::1', 'an unbracketed IPv6 address'],
    ['2001:db8::1:8080', 'an unbracketed IPv6 address and port'],
    ['[::1', 'an unterminated IP-literal'],
    ['[::1]x', 'bytes after an IP-literal'],
    ['[1::2::3]', 'an IPv6 address with two "::"'],
    ['a%zz', 'a bad pct-encoding'],
    ['a:80:80', 'two ports'],
  ]) {
    t.test(`${JSON.stringify(host)}: ${why}`, async (t) =>
      rejectsRequest(t, `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`, { code, offset: 22, phase: 'head' }),
    )
  }
})

t.test('Host: an empty value is valid and forwarded (RULES.md; RFC 9112 §3.2)', async (t) => {
  acceptsRequest(t, 'GET / HTTP/1.1\r\nHost:\r\n\r\n', { target: '/', headers: [['Host', '']] })
  acceptsRequest(t, 'GET / HTTP/1.1\r\nHost: \t \r\n\r\n', { target: '/', headers: [['Host', '']] })
  // And the valid shapes next to the rejected ones.
  for (const host of ['[::1]:8080', '[v7.a:b]', '127.0.0.1:1', 'a:', 'xn--caf-dma.example:00443']) {
    acceptsRequest(t, `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`, { target: '/', headers: [['Host', host]] })
  }
})

t.test('a method that is a valid token but unknown → 501 CLIENT_UNSUPPORTED_METHOD', async (t) => {
  const code = 'CLIENT_UNSUPPORTED_METHOD'
  for (const method of [
    'FOO',
    'BREW',
    'get',
    'GETX',
    'DESCRIBE',
    'SETUP',
    'GET_PARAMETER',
    'X-CUSTOM',
    "!#$%&'*+-.^_`|~",
  ]) {
    t.test(method, async (t) => rejectsRequest(t, `${method} / HTTP/1.1\r\n${HOST}\r\n`, { code, phase: 'head' }))
  }
  // Not a token, or not followed by one SP: no request-line at all (400).
  for (const start of ['FO(O / HTTP/1.1', 'FOO\t/ HTTP/1.1', 'GETX/ HTTP/1.1', 'FO\x00O / HTTP/1.1']) {
    t.test(JSON.stringify(start), async (t) =>
      rejectsRequest(t, `${start}\r\n${HOST}\r\n`, { code: 'CLIENT_INVALID_REQUEST', phase: 'head' }),
    )
  }
  // Methods llhttp knows are forwarded.
  for (const method of ['PROPFIND', 'M-SEARCH', 'QUERY', 'PURGE']) {
    acceptsRequest(t, `${method} / HTTP/1.1\r\n${HOST}\r\n`, { target: '/', headers: [['Host', 'a']] })
  }
})

const POST_CHUNKED = `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n` // 56 bytes
const OK_CHUNKED = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' // 47 bytes

/** A chunk line of exactly `n` bytes (CRLF included) for a 1-byte chunk: "1;a=bbb…\r\n". */
const chunkLine = (n: number) => `1;a=${'b'.repeat(n - 6)}\r\n`
/** Split offsets worth checking in a long input: the ends, the head's end, and around `at`. */
const around = (head: number, at: number, length: number) =>
  [0, 1, head - 1, head, head + 1, at - 1, at, at + 1, length - 1, length].filter((k) => k >= 0 && k <= length)

t.test('chunk line longer than 4 KiB → CLIENT_INVALID_FRAMING / UPSTREAM_INVALID_CHUNK (RULES.md B1)', async (t) => {
  t.equal(chunkLine(4096).length, 4096)
  for (const [side, head, code] of [
    ['request', POST_CHUNKED, 'CLIENT_INVALID_FRAMING'],
    ['response', OK_CHUNKED, 'UPSTREAM_INVALID_CHUNK'],
  ] as const) {
    t.test(`${side}: 4096 bytes are accepted`, async (t) => {
      const raw = `${head}${chunkLine(4096)}x\r\n0\r\n\r\n`
      const o =
        side === 'request'
          ? checkRequests(t, raw, {}, around(head.length, head.length + 4096, raw.length))
          : checkResponse(t, raw, {}, around(head.length, head.length + 4096, raw.length))
      t.same([o.failure, bodyOf(o), completions(o)], [null, 'x', 1])
    })
    t.test(`${side}: 4097 bytes are not, failing at the 4097th`, async (t) => {
      const raw = `${head}${chunkLine(4097)}x\r\n0\r\n\r\n`
      const e: Expect = { code, offset: head.length + 4096, phase: 'body' }
      const offsets = around(head.length, head.length + 4096, raw.length)
      if (side === 'request') rejectsRequest(t, raw, e, offsets)
      else rejectsResponse(t, raw, e, {}, offsets)
    })
    t.test(`${side}: a 100 KiB extension fails at the same byte`, async (t) => {
      const raw = `${head}5;a=${'x'.repeat(100 * 1024)}\r\nhello\r\n0\r\n\r\n`
      const e: Expect = { code, offset: head.length + 4096, phase: 'body' }
      const offsets = around(head.length, head.length + 4096, raw.length)
      if (side === 'request') rejectsRequest(t, raw, e, offsets)
      else rejectsResponse(t, raw, e, {}, offsets)
    })
    t.test(`${side}: leading zeros count too`, async (t) => {
      const raw = `${head}${'0'.repeat(4094)}1\r\nx\r\n0\r\n\r\n`
      const e: Expect = { code, offset: head.length + 4096, phase: 'body' }
      const offsets = around(head.length, head.length + 4096, raw.length)
      if (side === 'request') rejectsRequest(t, raw, e, offsets)
      else rejectsResponse(t, raw, e, {}, offsets)
    })
  }
})

t.test('more than 16 KiB of chunk extensions in one message → B1 (RULES.md)', async (t) => {
  // Four full chunk lines carry 4 × 4093 extension bytes (all but "1" and CRLF); the last chunk
  // line carries the rest of the budget, or one byte more.
  const full = `${chunkLine(4096)}x\r\n`
  const body = (lastExt: number) => `${full.repeat(4)}0;a=${'b'.repeat(lastExt - 3)}\r\n\r\n`
  const rest = 16_384 - 4 * 4093
  for (const [side, head, code] of [
    ['request', POST_CHUNKED, 'CLIENT_INVALID_FRAMING'],
    ['response', OK_CHUNKED, 'UPSTREAM_INVALID_CHUNK'],
  ] as const) {
    t.test(`${side}: exactly 16384 extension bytes are accepted`, async (t) => {
      const raw = `${head}${body(rest)}`
      const at = raw.length - 4
      const o =
        side === 'request'
          ? checkRequests(t, raw, {}, around(head.length, at, raw.length))
          : checkResponse(t, raw, {}, around(head.length, at, raw.length))
      t.same([o.failure, bodyOf(o), completions(o)], [null, 'xxxx', 1])
    })
    t.test(`${side}: 16385 are not, failing at the 16385th`, async (t) => {
      const raw = `${head}${body(rest + 1)}`
      // The last extension byte is the one before the final CRLF CRLF.
      const e: Expect = { code, offset: raw.length - 5, phase: 'body', body: 'xxxx' }
      const offsets = around(head.length, raw.length - 5, raw.length)
      if (side === 'request') rejectsRequest(t, raw, e, offsets)
      else rejectsResponse(t, raw, e, {}, offsets)
    })
  }
})

t.test('chunk size over 2^53−1 → B1, also when the input ends right after it', async (t) => {
  for (const [side, head, code] of [
    ['request', POST_CHUNKED, 'CLIENT_INVALID_FRAMING'],
    ['response', OK_CHUNKED, 'UPSTREAM_INVALID_CHUNK'],
  ] as const) {
    // 2^53 = 0x20000000000000: its 14th digit makes it too large.
    for (const [rest, why] of [
      ['', 'FIN right after the size'],
      ['\r\n', 'FIN after the chunk line'],
      ['\r\nhello', 'FIN inside the data'],
      ['0', 'FIN after a 15th digit'],
    ]) {
      t.test(`${side}: 20000000000000${JSON.stringify(rest)}: ${why}`, async (t) => {
        const raw = `${head}20000000000000${rest}`
        // No offset: where the size is found too large (its 14th digit, or the first data byte as
        // request-rules.test.ts has it today) is not something RULES.md fixes.
        const e: Expect = { code, phase: 'body' }
        if (side === 'request') rejectsRequest(t, raw, e)
        else rejectsResponse(t, raw, e)
      })
    }
    t.test(`${side}: leading zeros do not make a size too large`, async (t) => {
      const raw = `${head}00000000000000000001\r\nx\r\n0\r\n\r\n`
      const o = side === 'request' ? checkRequests(t, raw) : checkResponse(t, raw)
      t.same([o.failure, bodyOf(o)], [null, 'x'])
    })
    t.test(`${side}: 2^53−1 is a size; the input ending in its data is a truncation`, async (t) => {
      const raw = `${head}1fffffffffffff\r\nabc`
      const o = side === 'request' ? checkRequests(t, raw) : checkResponse(t, raw)
      t.equal(o.failure?.code, side === 'request' ? 'CLIENT_ABORTED' : 'UPSTREAM_TRUNCATED_BODY')
      t.equal(bodyOf(o), 'abc')
    })
  }
})

t.test('F3: Transfer-Encoding other than exactly "chunked" → UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING', async (t) => {
  const code = 'UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING'
  const OK = 'HTTP/1.1 200 OK\r\n' // the field starts at offset 17
  for (const te of [
    'gzip',
    'identity',
    'chunked, gzip',
    'gzip, chunked',
    ', chunked',
    'chunked,',
    'chunked;q=1',
    'x-custom',
  ]) {
    t.test(JSON.stringify(te), async (t) =>
      rejectsResponse(t, `${OK}Transfer-Encoding: ${te}\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, {
        code,
        offset: 17,
        phase: 'head',
      }),
    )
  }
  t.test('chunked on two field lines', async (t) =>
    rejectsResponse(t, `${OK}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, {
      code,
      offset: 17,
      phase: 'head',
    }),
  )
  t.test('also for a response to HEAD, whose body is never read', async (t) =>
    rejectsResponse(
      t,
      `${OK}Transfer-Encoding: gzip\r\n\r\n`,
      { code, offset: 17, phase: 'head' },
      {
        request: { method: 'HEAD', upgrade: [] },
      },
    ),
  )
  t.test('after an interim response, which was delivered', async (t) => {
    const raw = `HTTP/1.1 100 Continue\r\n\r\n${OK}Transfer-Encoding: gzip\r\n\r\n`
    const o = checkResponse(t, raw)
    t.same(o.failure, { code, offset: 17 })
    t.same(
      headsOf(o).map((h) => h.status),
      [100],
      'the 100 was delivered, no final head',
    )
  })
})

t.test('kept as they are (issue 14, RULES.md Decisions): deliberate refusals of RFC leniencies', async (t) => {
  // RFC 9110 §5.6.1 lets a recipient ignore empty list members; strictgate refuses them in
  // Transfer-Encoding like any value that is not exactly "chunked".
  for (const te of [', chunked', 'chunked, ', ',chunked,']) {
    t.test(`request Transfer-Encoding ${JSON.stringify(te)} → 501`, async (t) =>
      rejectsRequest(t, `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: ${te}\r\n\r\n0\r\n\r\n`, {
        code: 'CLIENT_UNSUPPORTED_TRANSFER_ENCODING',
        phase: 'head',
      }),
    )
  }
  // RFC 9110 §8.6 lets a recipient accept repeated identical Content-Length values; strictgate
  // rejects them (blamed at the second value, as request-rules.test.ts has it).
  rejectsRequest(t, `POST / HTTP/1.1\r\n${HOST}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`, {
    code: 'CLIENT_INVALID_FRAMING',
    offset: 61,
    phase: 'head',
  })
  rejectsResponse(t, 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello', {
    code: 'UPSTREAM_INVALID_CONTENT_LENGTH',
    phase: 'head',
  })
})

t.test('the trailer section counts against the head limits (RULES.md B2)', async (t) => {
  const limits = { maxHeaderBytes: 64, maxHeaderCount: 3, maxUrlBytes: 8_192, maxInterimResponses: 8 }
  const big = `0\r\nX-T: ${'t'.repeat(80)}\r\n\r\n`
  const many = '0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n'
  for (const [name, trailer] of [
    ['bytes', big],
    ['field lines', many],
  ]) {
    t.test(`response: more trailer ${name} than the head may have → UPSTREAM_INVALID_CHUNK`, async (t) => {
      const raw = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n${trailer}`
      const o = checkResponse(t, raw, { limits })
      assertFailure(t, o, { code: 'UPSTREAM_INVALID_CHUNK', phase: 'body', body: 'ok' })
      const v = recognizeResponse(raw, { method: 'GET', limits })
      t.equal(v.ok ? null : v.code, 'UPSTREAM_INVALID_CHUNK', 'the reference agrees')
    })
    // RULES.md's client table: "chunk rules as B1 ... and B2 (trailer section within the head
    // limits)" carry CLIENT_INVALID_FRAMING (400), not the head's CLIENT_HEADERS_TOO_LARGE.
    t.test(`request: more trailer ${name} than the head may have → CLIENT_INVALID_FRAMING`, async (t) => {
      const raw = `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n${trailer}`
      const o = checkRequests(t, raw, { limits })
      assertFailure(t, o, { code: 'CLIENT_INVALID_FRAMING', phase: 'body', body: 'ok' })
      t.equal(recognizeRequests(raw, { limits }).rejected?.code, 'CLIENT_INVALID_FRAMING', 'the reference agrees')
    })
  }
})

t.test('RULES.md Decisions: a 1xx from an HTTP/1.0 upstream is accepted; request trailers are validated', async (t) => {
  const o = checkResponse(t, 'HTTP/1.0 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok')
  t.same([o.failure, headsOf(o).map((h) => h.status), bodyOf(o)], [null, [100, 200], 'ok'])
  rejectsRequest(t, `${POST_CHUNKED}0\r\nContent-Length: 5\r\n\r\n`, { code: 'CLIENT_INVALID_FRAMING', phase: 'body' })
  rejectsRequest(t, `${POST_CHUNKED}0\r\nX: a\x00b\r\n\r\n`, { code: 'CLIENT_INVALID_FRAMING', phase: 'body' })
})
