// Messages generated from the grammar (generate.ts) are accepted by the reference recognizer
// and by strictgate's parsers, cut into random pieces, with the same heads, framing, body,
// trailers and completions (issue 14: "Messages generated from the grammar are accepted by both
// the reference and our parser, with the same head, framing and body").
//
// FC_NUM_RUNS sets the runs (default 300). A failure prints fast-check's seed and path.

import assert from 'node:assert/strict'
import fc from 'fast-check'
import t from 'tap'
import { numRuns } from '../helpers/runs.js'
import { parserRequests, parserResponse, referenceRequests, referenceResponse } from './compare.js'
import { offsetsFor, splitPoints, validRequests, validResponse } from './generate.js'
import { recognizeRequests, recognizeResponse } from './message.js'

const NUM_RUNS = numRuns(300)

t.test('generated responses: the reference accepts them, with the body they carry', async (t) => {
  fc.assert(
    fc.property(validResponse, (g) => {
      const v = recognizeResponse(g.raw, { method: g.method, upgrade: g.upgrade })
      assert.ok(v.ok, `reference rejected a generated response: ${JSON.stringify(g.raw)}: ${v.ok ? '' : v.rule}`)
      assert.equal(v.body, g.data, 'decoded body')
      assert.equal(v.extra, 0, 'nothing after the response')
    }),
    { numRuns: NUM_RUNS },
  )
  t.pass(`${NUM_RUNS} generated responses`)
})

t.test('generated request streams: the reference accepts them, with the bodies they carry', async (t) => {
  fc.assert(
    fc.property(validRequests, (g) => {
      const v = recognizeRequests(g.raw)
      assert.equal(v.rejected, null, `reference rejected ${JSON.stringify(g.raw)}: ${v.rejected?.rule}`)
      assert.deepEqual(
        v.requests.map((r) => r.body),
        g.data,
        'decoded bodies',
      )
    }),
    { numRuns: NUM_RUNS },
  )
  t.pass(`${NUM_RUNS} generated request streams`)
})

t.test('generated responses: strictgate delivers what the reference found, however cut', async (t) => {
  fc.assert(
    fc.property(validResponse, splitPoints, (g, points) => {
      const request = { method: g.method, upgrade: g.upgrade }
      const expected = referenceResponse(g.raw, request)
      const got = parserResponse(g.raw, request, offsetsFor(g.raw.length, points))
      assert.deepStrictEqual(got, expected, `response to ${g.method}: ${JSON.stringify(g.raw)}`)
    }),
    { numRuns: NUM_RUNS },
  )
  t.pass(`${NUM_RUNS} generated responses agree`)
})

t.test('generated request streams: strictgate delivers what the reference found, however cut', async (t) => {
  fc.assert(
    fc.property(validRequests, splitPoints, (g, points) => {
      const expected = referenceRequests(g.raw)
      const got = parserRequests(g.raw, offsetsFor(g.raw.length, points))
      assert.deepStrictEqual(got, expected, `requests: ${JSON.stringify(g.raw)}`)
    }),
    { numRuns: NUM_RUNS },
  )
  t.pass(`${NUM_RUNS} generated request streams agree`)
})
