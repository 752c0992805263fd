// What the gateway decides per message from the heads alone (src/h1/plan.ts): the framing of a
// response towards the client, the fields it adds, and whether each connection persists. Table
// tests from RFC 9112 §6.3, §7, §9.3 and §9.6, then a property over generated heads.
import fc from 'fast-check'
import t from 'tap'
import {
  OutFraming,
  planResponse,
  type ResponsePlan,
  relaysInterim,
  replayable,
  requestFields,
  reuseUpstream,
} from '../../src/h1/plan.js'
import { parseRequestHead, parseResponseHead } from '../helpers/heads.js'
import { numRuns } from '../helpers/runs.js'

const GET11 = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'

interface Row {
  readonly name: string
  readonly request: string
  readonly response: string
  readonly requestComplete?: boolean
  readonly clientPersistent?: boolean
  readonly plan: ResponsePlan
}

const ROWS: Row[] = [
  {
    name: '§9.3: HTTP/1.1 persists by default; §6.3(6): Content-Length relayed',
    request: GET11,
    response: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n',
    plan: {
      framing: OutFraming.Length,
      fields: 'Content-Length: 5\r\n',
      contentLength: '5',
      clientKeepAlive: true,
      upstreamKeepAlive: true,
    },
  },
  {
    name: '§9.6: a client that sent close gets Connection: close',
    request: 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    response: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n',
    plan: {
      framing: OutFraming.Length,
      fields: 'Content-Length: 5\r\nConnection: close\r\n',
      contentLength: '5',
      clientKeepAlive: false,
      upstreamKeepAlive: true,
    },
  },
  {
    name: '§9.3: HTTP/1.0 closes unless it asked for keep-alive',
    request: 'GET / HTTP/1.0\r\n\r\n',
    response: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n',
    plan: {
      framing: OutFraming.Length,
      fields: 'Content-Length: 5\r\nConnection: close\r\n',
      contentLength: '5',
      clientKeepAlive: false,
      upstreamKeepAlive: true,
    },
  },
  {
    name: '§9.3: HTTP/1.0 with keep-alive is told keep-alive',
    request: 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
    response: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n',
    plan: {
      framing: OutFraming.Length,
      fields: 'Content-Length: 5\r\nConnection: keep-alive\r\n',
      contentLength: '5',
      clientKeepAlive: true,
      upstreamKeepAlive: true,
    },
  },
  {
    name: '§7: chunked is HTTP/1.1; an HTTP/1.0 client reads to the close',
    request: 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
    response: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
    plan: {
      framing: OutFraming.Close,
      fields: 'Connection: close\r\n',
      contentLength: null,
      clientKeepAlive: false,
      upstreamKeepAlive: true,
    },
  },
  {
    name: '§7: chunked to an HTTP/1.1 client',
    request: GET11,
    response: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
    plan: {
      framing: OutFraming.Chunked,
      fields: 'Transfer-Encoding: chunked\r\n',
      contentLength: null,
      clientKeepAlive: true,
      upstreamKeepAlive: true,
    },
  },
  {
    name: '§6.3(8): a close-delimited body goes chunked to HTTP/1.1 (its end made explicit), the upstream closes',
    request: GET11,
    response: 'HTTP/1.1 200 OK\r\n\r\n',
    plan: {
      framing: OutFraming.Chunked,
      fields: 'Transfer-Encoding: chunked\r\n',
      contentLength: null,
      clientKeepAlive: true,
      upstreamKeepAlive: false,
    },
  },
  {
    name: '§6.3(1): HEAD keeps the upstream Content-Length, no body',
    request: 'HEAD / HTTP/1.1\r\nHost: a\r\n\r\n',
    response: 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n',
    plan: {
      framing: OutFraming.None,
      fields: 'Content-Length: 10\r\n',
      contentLength: '10',
      clientKeepAlive: true,
      upstreamKeepAlive: true,
    },
  },
  {
    name: '§6.3(1): 304 keeps the upstream Content-Length, no body',
    request: GET11,
    response: 'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n',
    plan: {
      framing: OutFraming.None,
      fields: 'Content-Length: 10\r\n',
      contentLength: '10',
      clientKeepAlive: true,
      upstreamKeepAlive: true,
    },
  },
  {
    name: '§6.3(1): 204 has no body and no Content-Length',
    request: GET11,
    response: 'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n',
    plan: { framing: OutFraming.None, fields: '', contentLength: null, clientKeepAlive: true, upstreamKeepAlive: true },
  },
  {
    name: 'an early response to a request still streaming closes the client connection',
    request: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n',
    response: 'HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n',
    requestComplete: false,
    plan: {
      framing: OutFraming.Length,
      fields: 'Content-Length: 0\r\nConnection: close\r\n',
      contentLength: '0',
      clientKeepAlive: false,
      upstreamKeepAlive: true,
    },
  },
  {
    name: '§9.6: a client connection that will not persist (shutdown, half-closed) says close',
    request: GET11,
    response: 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
    clientPersistent: false,
    plan: {
      framing: OutFraming.Length,
      fields: 'Content-Length: 0\r\nConnection: close\r\n',
      contentLength: '0',
      clientKeepAlive: false,
      upstreamKeepAlive: true,
    },
  },
  {
    name: '§9.3: an upstream that sent close is not reused; the client connection is another hop',
    request: GET11,
    response: 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
    plan: {
      framing: OutFraming.Length,
      fields: 'Content-Length: 0\r\n',
      contentLength: '0',
      clientKeepAlive: true,
      upstreamKeepAlive: false,
    },
  },
  {
    name: '§9.3: an HTTP/1.0 upstream without keep-alive is not reused',
    request: GET11,
    response: 'HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n',
    plan: {
      framing: OutFraming.Length,
      fields: 'Content-Length: 0\r\n',
      contentLength: '0',
      clientKeepAlive: true,
      upstreamKeepAlive: false,
    },
  },
  {
    name: 'RFC 9110 §7.8: a 101 makes a tunnel; neither connection carries HTTP again',
    request: 'GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n',
    response: 'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n',
    plan: {
      framing: OutFraming.Tunnel,
      fields: 'Connection: upgrade\r\n',
      contentLength: null,
      clientKeepAlive: false,
      upstreamKeepAlive: false,
    },
  },
]

t.test('planResponse: RFC 9112 table', async (t) => {
  for (const row of ROWS) {
    const request = parseRequestHead(row.request)
    const response = parseResponseHead(row.response, request)
    t.same(
      planResponse(request, response, row.requestComplete ?? true, row.clientPersistent ?? true),
      row.plan,
      row.name,
    )
  }
})

t.test('reuseUpstream: only once the whole request was sent', async (t) => {
  const request = parseRequestHead(GET11)
  const plan = planResponse(request, parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), true, true)
  t.equal(reuseUpstream(plan, true), true)
  t.equal(reuseUpstream(plan, false), false, 'an unsent rest of the request would be read as the next one')
  const closing = planResponse(
    request,
    parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'),
    true,
    true,
  )
  t.equal(reuseUpstream(closing, true), false)
})

t.test('relaysInterim: 1xx go to HTTP/1.1 clients only (RFC 9110 §15.2)', async (t) => {
  t.equal(relaysInterim(parseRequestHead(GET11)), true)
  t.equal(relaysInterim(parseRequestHead('GET / HTTP/1.0\r\n\r\n')), false)
})

t.test(
  'requestFields: Via, X-Forwarded-*, Host for HTTP/1.0 without one, the framing, Connection: upgrade',
  async (t) => {
    const cases: [string, string][] = [
      [GET11, ''],
      ['GET / HTTP/1.0\r\n\r\n', 'Host: up:80\r\n'],
      ['GET / HTTP/1.0\r\nHost: b\r\n\r\n', ''],
      // An empty Host is valid and forwarded as received (RULES.md): no second Host is added.
      ['GET / HTTP/1.1\r\nHost:\r\n\r\n', ''],
      ['GET / HTTP/1.0\r\nHost: \r\n\r\n', ''],
      ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n', 'Content-Length: 3\r\n'],
      ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', 'Transfer-Encoding: chunked\r\n'],
      ['GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n', 'Connection: upgrade\r\n'],
      ['GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n', ''],
    ]
    const plain = { via: '', forwarded: null, defaultHost: 'up:80' }
    for (const [raw, fields] of cases) t.equal(requestFields(parseRequestHead(raw), plain), fields, JSON.stringify(raw))
    const all = { via: 'Via: 1.1 g\r\n', forwarded: { for: '10.0.0.1', proto: 'https' }, defaultHost: 'up:80' }
    t.equal(
      requestFields(parseRequestHead('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), all),
      'Via: 1.1 g\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: a\r\n',
    )
    t.equal(
      requestFields(parseRequestHead('GET / HTTP/1.0\r\n\r\n'), all),
      'Via: 1.1 g\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: https\r\nHost: up:80\r\n',
      'no X-Forwarded-Host without a Host',
    )
    t.equal(
      requestFields(parseRequestHead('GET / HTTP/1.0\r\n\r\n'), { ...plain, defaultHost: null }),
      '',
      'no default Host when the gateway writes its own',
    )
  },
)

t.test('replayable: idempotent and without a body (RFC 9112 §9.3.1)', async (t) => {
  for (const [raw, expected] of [
    ['GET / HTTP/1.1\r\nHost: a\r\n\r\n', true],
    ['PUT / HTTP/1.1\r\nHost: a\r\n\r\n', true],
    ['DELETE / HTTP/1.1\r\nHost: a\r\n\r\n', true],
    ['POST / HTTP/1.1\r\nHost: a\r\n\r\n', false],
    ['PATCH / HTTP/1.1\r\nHost: a\r\n\r\n', false],
    ['PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n', false],
    ['GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', false],
  ] as const) {
    t.equal(replayable(parseRequestHead(raw)), expected, raw.split('\r\n')[0])
  }
})

// ---- property ---------------------------------------------------------------------------------

const requestArb = fc.record({
  minor: fc.constantFrom(0, 1),
  method: fc.constantFrom('GET', 'HEAD', 'POST'),
  connection: fc.constantFrom('', 'close', 'keep-alive', 'Keep-Alive, x-hop'),
})

const responseArb = fc.record({
  minor: fc.constantFrom(0, 1),
  status: fc.constantFrom(200, 204, 206, 304, 404, 500),
  framing: fc.constantFrom('length', 'chunked', 'close', 'zero'),
  length: fc.nat({ max: 1_000_000 }),
  connection: fc.constantFrom('', 'close', 'keep-alive'),
})

type Generated<A> = A extends fc.Arbitrary<infer T> ? T : never

function rawRequest(r: Generated<typeof requestArb>): string {
  const host = r.minor === 1 ? 'Host: a\r\n' : ''
  const conn = r.connection === '' ? '' : `Connection: ${r.connection}\r\n`
  return `${r.method} / HTTP/1.${r.minor}\r\n${host}${conn}\r\n`
}

function rawResponse(r: Generated<typeof responseArb>): string {
  const bodiless = r.status === 204 || r.status === 304
  let framing = ''
  if (r.framing === 'length' && r.status !== 204) framing = `Content-Length: ${r.length}\r\n`
  else if (r.framing === 'zero') framing = 'Content-Length: 0\r\n'
  else if (r.framing === 'chunked' && r.minor === 1 && !bodiless) framing = 'Transfer-Encoding: chunked\r\n'
  const conn = r.connection === '' ? '' : `Connection: ${r.connection}\r\n`
  return `HTTP/1.${r.minor} ${r.status} X\r\n${framing}${conn}\r\n`
}

t.test('planResponse: invariants over generated heads', async (t) => {
  fc.assert(
    fc.property(requestArb, responseArb, fc.boolean(), fc.boolean(), (rq, rs, complete, persistent) => {
      const request = parseRequestHead(rawRequest(rq))
      const response = parseResponseHead(rawResponse(rs), request)
      const plan = planResponse(request, response, complete, persistent)
      const lines = plan.fields.split('\r\n').filter((l) => l !== '')
      const has = (name: string) => lines.some((l) => l.toLowerCase().startsWith(`${name}:`))
      // The client connection persists only if the client wants it, the request was read whole,
      // the connection may go on, and the body's end does not need the close.
      const wants = request.keepAlive && complete && persistent
      if (plan.clientKeepAlive !== (wants && plan.framing !== OutFraming.Close)) return false
      // §9.6: a closing connection is announced; HTTP/1.0 is told when it persists.
      if (has('connection') !== (!plan.clientKeepAlive || request.minorVersion === 0)) return false
      // Never both framings; chunked only to HTTP/1.1.
      if (has('content-length') && has('transfer-encoding')) return false
      if (has('transfer-encoding') !== (plan.framing === OutFraming.Chunked)) return false
      if (plan.framing === OutFraming.Chunked && request.minorVersion === 0) return false
      // Content-Length: the body's own, or the selected representation's on HEAD / 304.
      const bodyless = request.method === 'HEAD' || response.status === 204 || response.status === 304
      if (bodyless !== (plan.framing === OutFraming.None)) return false
      const cl = response.framing.kind === 'length' || (bodyless && rs.framing !== 'chunked' && rs.framing !== 'close')
      if (has('content-length') !== (cl && response.status !== 204)) return false
      // The upstream side follows the response alone.
      return plan.upstreamKeepAlive === response.keepAlive
    }),
    { numRuns: numRuns(500) },
  )
  t.pass('property held')
})
