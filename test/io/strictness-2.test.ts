// Issue 14's decided rules through a real gateway (the parser-level examples, at every split
// offset, are test/h1/strictness-2.test.ts): a client's request the gateway must refuse itself
// with the exact status and code while the recording upstream sees no request; the leniency and
// the empty Host forwarded as received; an upstream's response answered 502 with F3's own code,
// or aborted after the head with UPSTREAM_INVALID_CHUNK.

import t from 'tap'
import { expect502, expectChunkedAbort, expectForwarded, expectRefused } from '../helpers/gateway-cases.js'
import { leakCheck } from '../helpers/resources.js'
import { end, write } from '../helpers/scripted-upstream.js'

const HOST = 'Host: example.test\r\n'
const POST_CHUNKED = `POST / HTTP/1.1\r\n${HOST}Transfer-Encoding: chunked\r\n\r\n`
/** A chunk line of exactly `n` bytes for a 1-byte chunk. */
const chunkLine = (n: number) => `1;a=${'b'.repeat(n - 6)}\r\n`
/** Four 4096-byte chunk lines (4 × 4093 extension bytes), then a last chunk with `last` more. */
const extensions = (last: number) => `${`${chunkLine(4096)}x\r\n`.repeat(4)}0;a=${'b'.repeat(last - 3)}\r\n\r\n`
const EXT_REST = 16_384 - 4 * 4093

const refused: { name: string; request: string; status: number; code: string; fin?: boolean }[] = [
  ...['/a#b', '/"x"', '/<a>', '/a\\b', '/%zz', '/%4', '/a%'].map((target) => ({
    name: `request-target ${JSON.stringify(target)}`,
    request: `GET ${target} HTTP/1.1\r\n${HOST}\r\n`,
    status: 400,
    code: 'CLIENT_INVALID_REQUEST',
  })),
  ...['example.test:http', 'user@example.test', '::1', '[::1]:8080x'].map((host) => ({
    name: `Host ${JSON.stringify(host)}`,
    request: `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
    status: 400,
    code: 'CLIENT_INVALID_HEADER',
  })),
  ...['FOO', 'DESCRIBE', 'get'].map((method) => ({
    name: `method ${method}`,
    request: `${method} / HTTP/1.1\r\n${HOST}\r\n`,
    status: 501,
    code: 'CLIENT_UNSUPPORTED_METHOD',
  })),
  {
    name: 'a chunk line of 4097 bytes',
    request: `${POST_CHUNKED}${chunkLine(4097)}x\r\n0\r\n\r\n`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
  },
  {
    name: 'a 100 KiB chunk extension',
    request: `${POST_CHUNKED}5;a=${'x'.repeat(100 * 1024)}\r\nhello\r\n0\r\n\r\n`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
  },
  {
    name: '16385 bytes of chunk extensions',
    request: `${POST_CHUNKED}${extensions(EXT_REST + 1)}`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
  },
  {
    name: 'a chunk size over 2^53-1, then FIN',
    request: `${POST_CHUNKED}20000000000000`,
    status: 400,
    code: 'CLIENT_INVALID_FRAMING',
    fin: true,
  },
]

for (const c of refused) {
  t.test(`client: ${c.name} → ${c.status} ${c.code}, nothing reaches the upstream`, async (t) => expectRefused(t, c))
}

t.test('client: { } | ^ and backtick in the target are forwarded as received', async (t) => {
  const target = '/a{b}|c^d`e?q={x}|^`'
  const seen = await expectForwarded(t, `GET ${target} HTTP/1.1\r\n${HOST}\r\n`)
  t.equal(seen.startLine, `GET ${target} HTTP/1.1`, 'the request-target, byte for byte')
})

t.test('client: an empty Host is valid and forwarded', async (t) => {
  const seen = await expectForwarded(t, 'GET / HTTP/1.1\r\nHost:\r\n\r\n')
  t.same(
    seen.headers.filter(([n]) => n.toLowerCase() === 'host'),
    [['Host', '']],
    'one Host, empty',
  )
})

t.test('client: 16384 bytes of chunk extensions are forwarded (as chunks without them)', async (t) => {
  const seen = await expectForwarded(t, `${POST_CHUNKED}${extensions(EXT_REST)}`)
  t.equal(seen.body.toString(), 'xxxx', 'the decoded body')
  t.notOk(seen.raw.includes(';a='), 'no chunk extension forwarded')
})

for (const te of ['gzip', 'chunked, gzip', ', chunked', 'chunked;q=1']) {
  t.test(`upstream: Transfer-Encoding ${JSON.stringify(te)} → 502 UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING`, async (t) =>
    expect502(t, {
      response: `HTTP/1.1 200 OK\r\nTransfer-Encoding: ${te}\r\n\r\n0\r\n\r\n`,
      code: 'UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING',
      type: 'http_response_transfer_coding',
    }),
  )
}

const aborted: { name: string; next: string; fin?: boolean; relayable?: string }[] = [
  { name: 'a chunk line of 4097 bytes', next: `${chunkLine(4097)}x\r\n0\r\n\r\n` },
  { name: 'a 100 KiB chunk extension', next: `5;a=${'x'.repeat(100 * 1024)}\r\nhello\r\n0\r\n\r\n` },
  // The first chunk ("first") spent no extension bytes; the four "x" chunks are relayed.
  { name: '16385 bytes of chunk extensions', next: extensions(EXT_REST + 1), relayable: 'firstxxxx' },
  { name: 'a chunk size over 2^53-1, then FIN', next: '20000000000000', fin: true },
]

for (const c of aborted) {
  t.test(`upstream: ${c.name} → client aborted, UPSTREAM_INVALID_CHUNK`, async (t) =>
    expectChunkedAbort(
      t,
      c.fin === true ? [write(c.next), end()] : [write(c.next)],
      'UPSTREAM_INVALID_CHUNK',
      c.relayable,
    ),
  )
}

leakCheck(t)
