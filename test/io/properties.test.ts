// fast-check property through real sockets: random sequences of valid exchanges (methods,
// targets, fields, Content-Length or chunked request bodies, HTTP/1.0 or 1.1 clients, pipelining
// depth 1–3, keep-alive or not, several client connections at once) against an upstream that
// answers each request with a random valid response (interim 1xx, Content-Length, chunked with
// extensions and trailers, close-delimited, HEAD/204/304, HTTP/1.0) written in random pieces.
// The client must get exactly the status, end-to-end fields and body bytes the upstream sent,
// framed as RULES.md and DESIGN.md say; the upstream must get exactly what the client sent.
//
// The messages come from test/helpers/http-arbitraries.ts (shared with the parser properties).
// FC_NUM_RUNS sets the number of runs (default 100 here: each run opens sockets). A failure prints
// fast-check's seed and path: replay with `fc.assert(..., { seed, path })`.

import net from 'node:net'
import fc from 'fast-check'
import t, { type Test } from 'tap'
import { startGateway } from '../helpers/gateway.js'
import {
  type Line,
  offsetsFor,
  type RequestCase,
  type ResponseCase,
  serialize,
  splitPoints,
  validRequest,
  validResponse,
} from '../helpers/http-arbitraries.js'
import {
  type Fields,
  field,
  fieldValues,
  listField,
  type ReadMessage,
  readMessage,
  trimOws,
} from '../helpers/http-reader.js'
import { RawClient } from '../helpers/raw-client.js'
import { leakCheck } from '../helpers/resources.js'
import { numRuns } from '../helpers/runs.js'

const NUM_RUNS = numRuns(100)

const CASE = 'X-Strictgate-Case' // longer than any generated field name: never collides

// ---- scenario ------------------------------------------------------------------------------------

interface Exchange {
  readonly request: RequestCase
  readonly response: ResponseCase
  /** The client sent `TE: trailers`. */
  readonly te: boolean
  /** Extra request field: Connection: close (1.1) or keep-alive (1.0), or none. */
  readonly connection: 'close' | 'keep-alive' | null
  /** The response also carries hop-by-hop fields the gateway must drop. */
  readonly hopNoise: boolean
  /** The response also says `Connection: close` (the upstream connection ends after it). */
  readonly upstreamClose: boolean
  /** Where the upstream splits the response bytes into separate writes. */
  readonly responseSplits: readonly number[]
}

const exchange: fc.Arbitrary<Exchange> = fc
  .record({
    request: validRequest,
    response: validResponse,
    te: fc.boolean(),
    close: fc.boolean(),
    keepAlive10: fc.boolean(),
    hopNoise: fc.boolean(),
    upstreamClose: fc.boolean(),
    responseSplits: splitPoints,
  })
  // A response to HEAD is bodiless whatever it says: the generated response must know.
  .filter(({ request, response }) => (request.message.method === 'HEAD') === (response.method === 'HEAD'))
  .map((g) => ({
    request: g.request,
    response: g.response,
    te: g.te,
    connection: g.request.message.minor === 1 ? (g.close ? 'close' : null) : g.keepAlive10 ? 'keep-alive' : null,
    hopNoise: g.hopNoise,
    upstreamClose: g.upstreamClose,
    responseSplits: g.responseSplits,
  }))

interface Connection {
  /** Requests written at once: depth 1–3. */
  readonly batches: readonly (readonly Exchange[])[]
  readonly requestSplits: readonly number[]
}

/** The client connection ends after this exchange (RFC 9112 §9.3, and close-delimited to 1.0). */
function closesClient(x: Exchange): boolean {
  const http10 = x.request.message.minor === 0
  if (http10 ? x.connection !== 'keep-alive' : x.connection === 'close') return true
  // An HTTP/1.0 client gets a chunked or close-delimited upstream body close-delimited.
  const kind = bodyKind(x.response)
  return http10 && (kind === 'chunked' || kind === 'close')
}

/** How the generated response frames its body. */
function bodyKind(r: ResponseCase): 'length' | 'chunked' | 'close' | 'none' {
  if (r.method === 'HEAD' || r.final.status === 204 || r.final.status === 304) return 'none'
  const names = r.final.lines.map((l) => l.text.slice(0, l.text.indexOf(':')).toLowerCase())
  if (names.includes('content-length')) return 'length'
  if (names.includes('transfer-encoding')) return 'chunked'
  return 'close'
}

const connection: fc.Arbitrary<Connection> = fc
  .record({
    exchanges: fc.array(exchange, { minLength: 1, maxLength: 4 }),
    depths: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 4, maxLength: 4 }),
    requestSplits: splitPoints,
  })
  .map(({ exchanges, depths, requestSplits }) => {
    // Nothing is answered after an exchange that closes the connection: end the sequence there.
    const end = exchanges.findIndex(closesClient)
    const kept = end < 0 ? exchanges : exchanges.slice(0, end + 1)
    const batches: Exchange[][] = []
    for (let i = 0, d = 0; i < kept.length; d++) {
      batches.push(kept.slice(i, i + depths[d % depths.length]))
      i += depths[d % depths.length]
    }
    return { batches, requestSplits }
  })

const scenario = fc.array(connection, { minLength: 1, maxLength: 3 })

// ---- the upstream: answers each request with its case's response ----------------------------------

interface Registered {
  readonly x: Exchange
  /** What the upstream received for it. */
  received?: ReadMessage
}

function fieldsOf(lines: readonly Line[]): Fields {
  return lines.map((l) => {
    const colon = l.text.indexOf(':')
    return [l.text.slice(0, colon), trimOws(l.text.slice(colon + 1))]
  })
}

function responseBytes(x: Exchange): Buffer {
  const extra: Line[] = []
  if (x.hopNoise) {
    extra.push({ text: 'Connection: X-Hop-Noise', plain: false }, { text: 'X-Hop-Noise: dropped', plain: false })
    extra.push({ text: 'Keep-Alive: timeout=5', plain: false }, { text: 'Proxy-Connection: keep-alive', plain: false })
  }
  if (x.upstreamClose) extra.push({ text: 'Connection: close', plain: false })
  const final = { ...x.response.final, lines: [...x.response.final.lines, ...extra] }
  return Buffer.from(x.response.interims + serialize(final), 'latin1')
}

/** The upstream ends the connection after this response (it said so, or it has to). */
function upstreamEnds(x: Exchange): boolean {
  return x.upstreamClose || x.response.final.minor === 0 || bodyKind(x.response) === 'close'
}

async function startCaseUpstream(t: Test, cases: Map<string, Registered>) {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let buf = Buffer.alloc(0)
    let busy = false
    const serve = async () => {
      if (busy) return
      busy = true
      for (;;) {
        const read = readMessage(buf, 0, { response: false })
        if (read === null) break
        buf = buf.subarray(read.end)
        const id = field(read.message.headers, CASE) ?? ''
        const entry = cases.get(id)
        if (entry === undefined) {
          socket.destroy()
          break
        }
        entry.received = read.message
        const bytes = responseBytes(entry.x)
        let from = 0
        for (const at of [...offsetsFor(bytes.length, entry.x.responseSplits), bytes.length]) {
          if (at > from) socket.write(bytes.subarray(from, at))
          from = at
          await new Promise((resolve) => setImmediate(resolve))
        }
        if (upstreamEnds(entry.x)) {
          socket.end()
          break
        }
      }
      busy = false
    }
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      void serve()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  )
  return (server.address() as net.AddressInfo).port
}

// ---- one client connection ---------------------------------------------------------------------

function requestBytes(x: Exchange, id: string): Buffer {
  const lines: Line[] = [...x.request.message.lines, { text: `${CASE}: ${id}`, plain: false }]
  if (x.te) lines.push({ text: 'TE: trailers', plain: false })
  if (x.connection !== null) lines.push({ text: `Connection: ${x.connection}`, plain: false })
  return Buffer.from(serialize({ ...x.request.message, lines }), 'latin1')
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'x-hop-noise',
])
const endToEnd = (fields: Fields, drop: readonly string[] = []) =>
  fields.filter(([n]) => !HOP_BY_HOP.has(n.toLowerCase()) && !drop.includes(n.toLowerCase()) && n !== CASE)

/** What the upstream must have received for `x`. */
function checkForwarded(x: Exchange, got: ReadMessage | undefined, upstreamHost: string): void {
  if (got === undefined) throw new Error('the request never reached the upstream')
  const m = x.request.message
  const absolute = m.target.startsWith('http://')
  const target = absolute ? m.target.slice(m.target.indexOf('/', 7)) : m.target
  eq(got.startLine, `${m.method} ${target} HTTP/1.1`, 'request line (HTTP/1.1, origin-form)')
  const sent = fieldsOf(m.lines)
  eq(
    endToEnd(got.headers, ['host']),
    [...endToEnd(sent, ['host']), ['Via', '1.1 strictgate']],
    'end-to-end request fields, in order, then Via',
  )
  const host = absolute ? m.target.slice(7).split(/[/?]/)[0] : (field(sent, 'host') ?? upstreamHost)
  eq(fieldValues(got.headers, 'host'), [host], 'Host')
  for (const name of ['connection', 'te', 'keep-alive', 'proxy-connection', 'upgrade', 'trailer']) {
    eq(fieldValues(got.headers, name), [], `no ${name} upstream`)
  }
  const framing = x.request.expected[0].kind === 'head' ? x.request.expected[0].framing : { kind: 'none' }
  eq(fieldValues(got.headers, 'transfer-encoding'), framing.kind === 'chunked' ? ['chunked'] : [], 'Transfer-Encoding')
  eq(
    fieldValues(got.headers, 'content-length'),
    framing.kind === 'length' ? [String(x.request.data.length)] : [],
    'Content-Length',
  )
  eq(got.body.toString('latin1'), x.request.data, 'request body bytes')
}

/** What the client must have received for `x`. */
function checkRelayed(x: Exchange, got: ReadMessage, interim: readonly ReadMessage[]): void {
  const r = x.response
  const http10 = x.request.message.minor === 0
  const kind = bodyKind(r)
  eq(got.startLine, `HTTP/1.1 ${r.final.status} ${r.final.reason}`, 'status line as sent, version HTTP/1.1')
  eq(
    interim.map((m) => m.status),
    http10
      ? []
      : r.interims
          .split('\r\n\r\n')
          .filter((s) => s !== '')
          .map((s) => Number(s.slice(9, 12))),
    '1xx relayed to HTTP/1.1 clients only',
  )
  const sent = fieldsOf(r.final.lines)
  eq(
    endToEnd(got.headers),
    [...endToEnd(sent), ['Via', '1.1 strictgate']],
    'end-to-end response fields, in order, then Via',
  )
  for (const name of ['keep-alive', 'proxy-connection', 'x-hop-noise', 'upgrade', 'te', 'trailer']) {
    eq(fieldValues(got.headers, name), [], `no ${name}`)
  }
  const data = expectedData(r)
  eq(got.body.toString('latin1'), data, 'body bytes')
  eq(got.complete, true, 'complete')
  const framing = kind === 'none' || kind === 'length' ? kind : http10 ? 'close' : 'chunked'
  eq(got.framing, framing, 'framing')
  if (kind === 'length') eq(fieldValues(got.headers, 'content-length'), [String(data.length)], 'Content-Length')
  if (kind === 'none')
    // HEAD and 304 keep the Content-Length of the representation (any 1*DIGIT spelling); 204 has none.
    eq(
      fieldValues(got.headers, 'content-length').map(Number),
      fieldValues(sent, 'content-length')
        .map(Number)
        .slice(0, r.final.status === 204 ? 0 : 1),
      'Content-Length of a body-less response',
    )
  const trailers = kind === 'chunked' && x.te && !http10 ? trailersOf(r) : []
  eq(got.trailers, trailers, 'trailers only with TE: trailers')
  const connection = closesClient(x) ? ['close'] : http10 ? ['keep-alive'] : []
  eq(listField(got.headers, 'connection'), connection, 'Connection')
}

function expectedData(r: ResponseCase): string {
  const body = r.expected.find((e) => e.kind === 'body')
  return body !== undefined && body.kind === 'body' ? body.data : ''
}

function trailersOf(r: ResponseCase): Fields {
  const e = r.expected.find((ev) => ev.kind === 'trailers')
  return e !== undefined && e.kind === 'trailers' ? e.trailers.map(([n, v]) => [n, v]) : []
}

function eq(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual)
  const b = JSON.stringify(expected)
  if (a !== b) throw new Error(`${what}: got ${a}, expected ${b}`)
}

// ---- the property -------------------------------------------------------------------------------

t.test('valid exchanges are relayed exactly, whatever the framing, pipelining and chunking', async (t) => {
  const cases = new Map<string, Registered>()
  const upstreamPort = await startCaseUpstream(t, cases)
  const g = await startGateway(t, `http://127.0.0.1:${upstreamPort}`)
  let nextId = 0
  let exchanges = 0

  await fc.assert(
    fc.asyncProperty(scenario, async (connections) => {
      const errorsBefore = g.errors.length
      await Promise.all(
        connections.map(async (conn) => {
          const client = await RawClient.connect(t, g.port)
          try {
            let last: Exchange | null = null
            for (const batch of conn.batches) {
              const ids = batch.map(() => String(nextId++))
              for (const [i, x] of batch.entries()) cases.set(ids[i], { x })
              const bytes = Buffer.concat(batch.map((x, i) => requestBytes(x, ids[i])))
              let from = 0
              for (const at of [...offsetsFor(bytes.length, conn.requestSplits), bytes.length]) {
                if (at > from) client.write(bytes.subarray(from, at))
                from = at
              }
              for (const [i, x] of batch.entries()) {
                const interimBefore = client.interim.length
                const got = await client.response({ head: x.request.message.method === 'HEAD' })
                checkRelayed(x, got, client.interim.slice(interimBefore))
                checkForwarded(x, cases.get(ids[i])?.received, `127.0.0.1:${upstreamPort}`)
                cases.delete(ids[i])
                exchanges++
                last = x
              }
            }
            if (last !== null && closesClient(last)) {
              eq(await client.closed(), 'fin', 'the client connection is closed after the last response')
            } else {
              eq(client.open, true, 'the client connection stays open')
            }
            eq(client.unread.length, 0, 'nothing after the last response')
          } finally {
            client.destroy()
          }
        }),
      )
      eq(
        g.errors.slice(errorsBefore).map((e) => e.code),
        [],
        'no error reported',
      )
    }),
    { numRuns: NUM_RUNS },
  )
  t.pass(`${NUM_RUNS} runs, ${exchanges} exchanges relayed exactly`)
})

leakCheck(t)
