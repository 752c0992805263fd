// Property tests (fast-check) generalising the rule examples: generated valid messages parse to
// the same events however they are chunked; each mutation breaking one rule is rejected with
// that rule's code and never delivers a byte of the broken message's body; and what strictgate
// accepts, Node's own strict HTTP client accepts with the same status and body.
//
// FC_NUM_RUNS sets the number of runs (default 200; the differential check runs a quarter of
// them). A failure prints fast-check's seed and path: replay it with
// `fc.assert(..., { seed, path })`.

import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import fc from 'fast-check'
import t from 'tap'
import {
  brokenRequests,
  brokenResponse,
  offsetsFor,
  splitPoints,
  validRequests,
  validResponse,
} from '../helpers/http-arbitraries.js'
import { numRuns } from '../helpers/runs.js'
import { bodyOf, completions, cut, headsOf, type Outcome, parseRequests, parseResponse } from '../helpers/split.js'

const NUM_RUNS = numRuns(200)
const DIFFERENTIAL_RUNS = Math.max(1, Math.round(NUM_RUNS / 4))

const noUpgrade = (method: string) => ({ method, upgrade: [] })

/** Whole, and cut at the generated points: both outcomes must be the same. */
function wholeAndCut(raw: string, points: readonly number[], parse: (pieces: Buffer[]) => Outcome): Outcome {
  const whole = parse(cut(raw, []))
  const pieces = cut(raw, offsetsFor(raw.length, points))
  assert.deepStrictEqual(parse(pieces), whole, `same outcome cut into ${pieces.length} pieces`)
  return whole
}

function tally(counts: Map<string, number>, rule: string): void {
  counts.set(rule, (counts.get(rule) ?? 0) + 1)
}

function report(counts: Map<string, number>): string {
  return [...counts].map(([rule, n]) => `${rule}: ${n}`).join(', ')
}

t.test('(1) valid responses: same heads, body and trailers under any chunking', async (t) => {
  fc.assert(
    fc.property(validResponse, splitPoints, (c, points) => {
      const o = wholeAndCut(c.raw, points, (pieces) => parseResponse(pieces, { request: noUpgrade(c.method) }))
      assert.deepStrictEqual(o, { events: c.expected, failure: null, consumed: c.raw.length })
    }),
    { numRuns: NUM_RUNS },
  )
  t.pass(`${NUM_RUNS} generated responses accepted`)
})

t.test('(2) a response with one rule broken is rejected with its code, no body byte delivered', async (t) => {
  const counts = new Map<string, number>()
  fc.assert(
    fc.property(brokenResponse, splitPoints, (b, points) => {
      tally(counts, b.rule)
      const o = wholeAndCut(b.raw, points, (pieces) => parseResponse(pieces, { request: noUpgrade(b.method) }))
      assert.equal(o.failure?.code, b.code, `${b.rule}: got ${JSON.stringify(o.failure)}`)
      assert.equal(completions(o), 0, 'never complete')
      assert.equal(bodyOf(o), '', 'no body byte of the broken message delivered')
      const finals = headsOf(o).filter((h) => !h.interim).length
      assert.equal(finals, b.phase === 'head' ? 0 : 1, b.phase === 'head' ? 'no final head' : 'the head was valid')
    }),
    { numRuns: NUM_RUNS },
  )
  t.comment(report(counts))
  t.pass(`${NUM_RUNS} broken responses rejected`)
})

t.test('(3a) valid pipelined requests: same heads, bodies and trailers under any chunking', async (t) => {
  fc.assert(
    fc.property(validRequests, splitPoints, (requests, points) => {
      const raw = requests.map((r) => r.raw).join('')
      const o = wholeAndCut(raw, points, (pieces) => parseRequests(pieces))
      assert.deepStrictEqual(o, { events: requests.flatMap((r) => r.expected), failure: null, consumed: raw.length })
    }),
    { numRuns: NUM_RUNS },
  )
  t.pass(`${NUM_RUNS} generated request streams accepted`)
})

t.test(
  '(3b) a request with one client rule broken (smuggling shapes included) is rejected with its code',
  async (t) => {
    const counts = new Map<string, number>()
    fc.assert(
      fc.property(brokenRequests, splitPoints, (b, points) => {
        tally(counts, b.rule)
        const o = wholeAndCut(b.raw, points, (pieces) => parseRequests(pieces))
        assert.equal(o.failure?.code, b.code, `${b.rule}: got ${JSON.stringify(o.failure)}`)
        assert.equal(completions(o), b.valid.length, 'the valid requests before it completed, it did not')
        assert.equal(headsOf(o).length, b.valid.length + (b.phase === 'head' ? 0 : 1))
        assert.equal(bodyOf(o), b.valid.map((v) => v.data).join(''), 'no body byte of the broken request delivered')
      }),
      { numRuns: NUM_RUNS },
    )
    t.comment(report(counts))
    t.pass(`${NUM_RUNS} broken requests rejected`)
  },
)

/** GET (or HEAD) with Node's own client, strict parser; resolves with the final status and body. */
function nodeRequest(port: number, method: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path: '/', agent: false, insecureHTTPParser: false },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (d: Buffer) => chunks.push(d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('latin1') }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end()
  })
}

t.test("(4) differential: what strictgate accepts, Node's strict client accepts the same way", async (t) => {
  let response = Buffer.alloc(0)
  const sockets = new Set<net.Socket>()
  // Writes the exact bytes once the request head is in, then closes (FIN, never RST: the
  // socket keeps reading so no unread byte is left behind).
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let head = ''
    socket.on('data', (d: Buffer) => {
      if (head === '\r\n\r\n') return
      head += d.toString('latin1')
      if (head.includes('\r\n\r\n')) {
        head = '\r\n\r\n'
        socket.end(response)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  try {
    await fc.assert(
      fc.asyncProperty(validResponse, async (c) => {
        const ours = parseResponse(cut(c.raw, []), { request: noUpgrade(c.method) })
        assert.equal(ours.failure, null, 'accepted by strictgate')
        const final = headsOf(ours).find((h) => !h.interim)
        response = Buffer.from(c.raw, 'latin1')
        const node = await nodeRequest(port, c.method === 'HEAD' ? 'HEAD' : 'GET')
        assert.deepStrictEqual(
          node,
          { status: final?.status, body: bodyOf(ours) },
          'Node sees the same status and body',
        )
      }),
      { numRuns: DIFFERENTIAL_RUNS },
    )
  } finally {
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  t.pass(`${DIFFERENTIAL_RUNS} responses accepted by both`)
})
