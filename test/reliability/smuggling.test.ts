// Request smuggling stops at the gateway (RULES.md "Client request rules"): published shapes
// (CL.TE, TE.CL, TE.TE obfuscations, bare CR/LF, odd chunk sizes and Content-Length values) and a
// fast-check corpus of mutations are each answered 400 or 501 and the connection closed. Every
// payload carries a second request behind it; a recording upstream counts complete requests and
// must see none: nothing reaches it as two requests, nor as one.

import fc from 'fast-check'
import t, { type Test } from 'tap'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { eventually } from '../helpers/raw-client.js'
import { leakCheck } from '../helpers/resources.js'
import { read, ScriptedUpstream, write } from '../helpers/scripted-upstream.js'

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'
const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: example.test\r\n\r\n'
const H = 'POST / HTTP/1.1\r\nHost: example.test\r\n'
const CHUNKED = 'Transfer-Encoding: chunked\r\n'
/** A body that is a complete chunked body followed by a smuggled request. */
const CHUNKED_THEN_SMUGGLED = `0\r\n\r\n${SMUGGLED}`

const SHAPES: { name: string; raw: string }[] = [
  // CL.TE / TE.CL (PortSwigger's classic shapes)
  { name: 'CL.TE', raw: `${H}Content-Length: 6\r\n${CHUNKED}\r\n${CHUNKED_THEN_SMUGGLED}` },
  { name: 'TE.CL', raw: `${H}${CHUNKED}Content-Length: 4\r\n\r\n5c\r\n${SMUGGLED}\r\n0\r\n\r\n` },
  { name: 'CL.TE with CL 0', raw: `${H}Content-Length: 0\r\n${CHUNKED}\r\n${CHUNKED_THEN_SMUGGLED}` },
  // TE.TE obfuscations
  { name: 'Transfer-Encoding : chunked', raw: `${H}Transfer-Encoding : chunked\r\n\r\n${CHUNKED_THEN_SMUGGLED}` },
  { name: 'Transfer-Encoding\\t: chunked', raw: `${H}Transfer-Encoding\t: chunked\r\n\r\n${CHUNKED_THEN_SMUGGLED}` },
  { name: 'Transfer-Encoding: xchunked', raw: `${H}Transfer-Encoding: xchunked\r\n\r\n${CHUNKED_THEN_SMUGGLED}` },
  { name: 'Transfer-Encoding: chunked, identity', raw: `${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n` },
  { name: 'Transfer-Encoding: identity, chunked', raw: `${H}Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n` },
  { name: 'Transfer-Encoding: "chunked"', raw: `${H}Transfer-Encoding: "chunked"\r\n\r\n0\r\n\r\n` },
  { name: 'Transfer-Encoding: chunk', raw: `${H}Transfer-Encoding: chunk\r\n\r\n0\r\n\r\n` },
  { name: 'duplicated TE: chunked twice', raw: `${H}${CHUNKED}${CHUNKED}\r\n${CHUNKED_THEN_SMUGGLED}` },
  { name: 'duplicated TE: chunked then x', raw: `${H}${CHUNKED}Transfer-Encoding: x\r\n\r\n0\r\n\r\n` },
  { name: 'duplicated TE: x then chunked', raw: `${H}Transfer-Encoding: x\r\n${CHUNKED}\r\n0\r\n\r\n` },
  {
    name: 'Transfer-Encoding:\\tchunked with CL',
    raw: `${H}Transfer-Encoding:\tchunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n`,
  },
  { name: 'TE as obs-fold continuation', raw: `${H}X-A: b\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n` },
  { name: 'TE value on an obs-fold line', raw: `${H}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n` },
  {
    name: '\\tTransfer-Encoding as first field',
    raw: `POST / HTTP/1.1\r\n\tTransfer-Encoding: chunked\r\nHost: a\r\n\r\n0\r\n\r\n`,
  },
  { name: 'VT before chunked', raw: `${H}Transfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n` },
  { name: 'NUL after chunked', raw: `${H}Transfer-Encoding: chunked\x00\r\n\r\n0\r\n\r\n` },
  { name: 'TE in HTTP/1.0 with CL', raw: `POST / HTTP/1.0\r\nHost: a\r\n${CHUNKED}Content-Length: 5\r\n\r\n0\r\n\r\n` },
  // bare LF / CR
  { name: 'bare LF line endings', raw: `GET / HTTP/1.1\nHost: example.test\n\n${SMUGGLED}` },
  { name: 'bare LF after the request line', raw: `GET / HTTP/1.1\nHost: example.test\r\n\r\n` },
  { name: 'bare CR in the request target', raw: `GET /a\rb HTTP/1.1\r\nHost: example.test\r\n\r\n` },
  { name: 'bare LF in the request target', raw: `GET /a\nb HTTP/1.1\r\nHost: example.test\r\n\r\n` },
  { name: 'bare CR ending the request line', raw: `GET / HTTP/1.1\rHost: example.test\r\n\r\n` },
  { name: 'bare LF before TE', raw: `${H}X-A: b\n${CHUNKED}\r\n${CHUNKED_THEN_SMUGGLED}` },
  { name: 'bare CR before TE', raw: `${H}X-A: b\r${CHUNKED}\r\n${CHUNKED_THEN_SMUGGLED}` },
  { name: 'bare CR in a field value', raw: `${H}X-A: b\rc\r\nContent-Length: 0\r\n\r\n` },
  { name: 'bare LF ending the head', raw: `${H}Content-Length: 0\r\n\n${SMUGGLED}` },
  // chunk sizes
  { name: 'chunk size over 2^64', raw: `${H}${CHUNKED}\r\n10000000000000000\r\nx\r\n0\r\n\r\n` },
  { name: 'chunk size over 2^53-1', raw: `${H}${CHUNKED}\r\n20000000000000\r\nx\r\n0\r\n\r\n` },
  { name: 'chunk size of 20 hex digits', raw: `${H}${CHUNKED}\r\nFFFFFFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n` },
  { name: 'chunk size 0x5', raw: `${H}${CHUNKED}\r\n0x5\r\nhello\r\n0\r\n\r\n` },
  { name: 'chunk size +5', raw: `${H}${CHUNKED}\r\n+5\r\nhello\r\n0\r\n\r\n` },
  { name: 'chunk size -5', raw: `${H}${CHUNKED}\r\n-5\r\nhello\r\n0\r\n\r\n` },
  { name: 'chunk size with bare LF', raw: `${H}${CHUNKED}\r\n5\nhello\r\n0\r\n\r\n` },
  { name: 'chunk data longer than its size', raw: `${H}${CHUNKED}\r\n3\r\nabcdef\r\n0\r\n\r\n` },
  { name: 'last chunk with bare LF', raw: `${H}${CHUNKED}\r\n0\n\n${SMUGGLED}` },
  // Content-Length
  { name: 'Content-Length: +5', raw: `${H}Content-Length: +5\r\n\r\nhello` },
  { name: 'Content-Length: -5', raw: `${H}Content-Length: -5\r\n\r\nhello` },
  { name: 'Content-Length: 0x5', raw: `${H}Content-Length: 0x5\r\n\r\nhello` },
  { name: 'Content-Length: 5, 5', raw: `${H}Content-Length: 5, 5\r\n\r\nhello` },
  { name: 'two Content-Length, same value', raw: `${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello` },
  { name: 'two Content-Length, different', raw: `${H}Content-Length: 0\r\nContent-Length: 47\r\n\r\n${SMUGGLED}` },
  { name: 'Content-Length : 5', raw: `${H}Content-Length : 5\r\n\r\nhello` },
  { name: 'Content-Length over 2^53-1', raw: `${H}Content-Length: 9007199254740992\r\n\r\nhello` },
  { name: 'two Host fields', raw: `GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n` },
]

/** A gateway in front of an upstream that records (and answers) every complete request. */
async function setUp(t: Test): Promise<{ up: ScriptedUpstream; g: TestGateway }> {
  const up = await ScriptedUpstream.start(t, { script: [read(), write(OK)], loop: true })
  const g = await startGateway(t, up.url)
  return { up, g }
}

/** Send `raw`: one 400/501, then the connection closes. Returns what went wrong. */
async function rejected(g: TestGateway, raw: string): Promise<string[]> {
  const problems: string[] = []
  const client = await g.connect()
  client.write(raw)
  try {
    const response = await client.response()
    if (response.status !== 400 && response.status !== 501) problems.push(`status ${response.status}`)
    await client.closed()
    if (client.unread.length > 0) problems.push(`more bytes after the response: ${client.unread.toString('latin1')}`)
  } catch (err) {
    problems.push(String(err))
  } finally {
    client.destroy()
  }
  return problems
}

for (const shape of SHAPES) {
  t.test(`smuggling shape: ${shape.name} → 400/501, closed, nothing upstream`, async (t) => {
    const { up, g } = await setUp(t)
    t.same(await rejected(g, shape.raw), [], 'one 400/501, then the connection closed')
    t.equal(up.requests.length, 0, 'no request reached the upstream')
    // A connection still connecting when the request failed carries nothing and may be pooled.
    await eventually(() => {
      const s = g.gateway.stats().upstream
      return s.open === s.idle
    }, 'any upstream connection that carried bytes to be destroyed')
  })
}

// ---- generated corpus ------------------------------------------------------------------------

const tokenChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz-0123456789!#$%&*+.^_|~'.split(''))
const teName = fc.constantFrom('Transfer-Encoding', 'transfer-encoding', 'TRANSFER-ENCODING', 'Transfer-encoding')
const teValue = fc.oneof(
  fc.constantFrom(
    'xchunked',
    'chunked, identity',
    'identity, chunked',
    'chunked,chunked',
    '"chunked"',
    'chunk',
    'chunked;q=1',
    'gzip, chunked',
    'chunked, gzip',
    'identity',
  ),
  fc.string({ unit: tokenChar, minLength: 1, maxLength: 10 }).filter((s) => s.toLowerCase() !== 'chunked'),
)
const badLength = fc.oneof(
  fc.constantFrom('+5', '-5', '0x5', '5, 5', '5 5', '5.0', '1e1', '', '5;', '٥'),
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 70n }).map(String),
)
const badChunkSize = fc.oneof(
  fc.constantFrom('0x5', '+5', '-5', ' 5', '5\n', 'g', '5 5', '\t5'),
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 80n }).map((n) => n.toString(16)),
)
const ows = fc.constantFrom(' ', '\t', '  ', ' \t')

/** A request made invalid on purpose, one published trick at a time, with a request behind it. */
const mutated: fc.Arbitrary<{ kind: string; raw: string }> = fc.oneof(
  // CL together with any TE (RFC 9112 §6.3(3): reject), in either order, maybe apart.
  fc
    .record({
      te: fc.tuple(teName, fc.oneof(fc.constant('chunked'), teValue)),
      cl: fc.nat({ max: 100 }),
      teFirst: fc.boolean(),
      between: fc.constantFrom('', 'X-A: b\r\n'),
    })
    .map(({ te, cl, teFirst, between }) => {
      const tl = `${te[0]}: ${te[1]}\r\n`
      const cll = `Content-Length: ${cl}\r\n`
      return {
        kind: 'CL+TE',
        raw: `${H}${teFirst ? tl + between + cll : cll + between + tl}\r\n${CHUNKED_THEN_SMUGGLED}`,
      }
    }),
  // A transfer coding other than exactly chunked (501), maybe on a second line.
  fc.record({ name: teName, value: teValue, twice: fc.boolean() }).map(({ name, value, twice }) => ({
    kind: 'TE not chunked',
    raw: `${H}${twice ? CHUNKED : ''}${name}: ${value}\r\n\r\n${CHUNKED_THEN_SMUGGLED}`,
  })),
  // Whitespace between a framing field's name and the colon.
  fc.record({ name: fc.constantFrom('Transfer-Encoding', 'Content-Length'), ws: ows }).map(({ name, ws }) => ({
    kind: 'whitespace before colon',
    raw: `${H}${name}${ws}: ${name === 'Content-Length' ? '0' : 'chunked'}\r\n\r\n${CHUNKED_THEN_SMUGGLED}`,
  })),
  // Content-Length that is not one 1*DIGIT value.
  fc.record({ value: badLength, second: fc.option(fc.nat({ max: 99 })) }).map(({ value, second }) => ({
    kind: 'bad Content-Length',
    raw: `${H}Content-Length: ${value}\r\n${second === null ? '' : `Content-Length: ${second}\r\n`}\r\n${SMUGGLED}`,
  })),
  fc.nat({ max: 99 }).map((a) => ({
    kind: 'two Content-Length',
    raw: `${H}Content-Length: ${a}\r\nContent-Length: ${a + 1}\r\n\r\n${SMUGGLED}`,
  })),
  // A chunk size that is not 1*HEXDIG ≤ 2^53-1.
  badChunkSize.map((size) => ({
    kind: 'bad chunk size',
    raw: `${H}${CHUNKED}\r\n${size}\r\nhello\r\n${CHUNKED_THEN_SMUGGLED}`,
  })),
  // A bare CR or LF somewhere inside the request line or a field line (not next to its CRLF).
  fc.record({ byte: fc.constantFrom('\r', '\n'), at: fc.nat(), line: fc.nat() }).map(({ byte, at, line }) => {
    const lines = ['POST /path/x?q=1 HTTP/1.1', 'Host: example.test', 'X-Forwarded: abc', 'Content-Length: 0']
    const i = line % lines.length
    const pos = 1 + (at % (lines[i].length - 1))
    lines[i] = lines[i].slice(0, pos) + byte + lines[i].slice(pos)
    return { kind: `bare ${byte === '\r' ? 'CR' : 'LF'} in line ${i}`, raw: `${lines.join('\r\n')}\r\n\r\n${SMUGGLED}` }
  }),
)

t.test('generated smuggling corpus: every mutation → 400/501, closed, nothing upstream', async (t) => {
  const { up, g } = await setUp(t)
  const kinds = new Map<string, number>()
  await fc.assert(
    fc.asyncProperty(mutated, async ({ kind, raw }) => {
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1)
      const problems = await rejected(g, raw)
      if (problems.length > 0) throw new Error(`${kind}: ${JSON.stringify(raw)}: ${problems.join('; ')}`)
      if (up.requests.length > 0) throw new Error(`${kind}: reached the upstream: ${JSON.stringify(raw)}`)
    }),
    { numRuns: 300 },
  )
  t.comment(`mutations run: ${JSON.stringify(Object.fromEntries(kinds))}`)
  t.equal(up.requests.length, 0, 'the upstream saw no complete request')
  await eventually(() => {
    const s = g.gateway.stats().upstream
    return s.open === s.idle
  }, 'every upstream connection that carried bytes to be destroyed')
})

leakCheck(t)
