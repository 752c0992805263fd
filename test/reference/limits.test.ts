// Generated messages under small limits (head bytes and field count, request-target length,
// request body size, interim responses) get the same verdict from the reference recognizer and
// from strictgate's parsers: the limits of RULES.md H5, F8, the 414/413 client rules and B2's
// "the trailer section counts against the head limits", at their boundaries.
//
// FC_NUM_RUNS sets the runs (default 300). A failure prints fast-check's seed and path.

import assert from 'node:assert/strict'
import fc from 'fast-check'
import t from 'tap'
import { numRuns } from '../helpers/runs.js'
import { describe, parserRequests, parserResponse, referenceRequests, referenceResponse } from './compare.js'
import { offsetsFor, splitPoints, validRequests, validResponse } from './generate.js'

const NUM_RUNS = numRuns(300)

const requestLimits = fc.record({
  maxHeaderBytes: fc.integer({ min: 20, max: 200 }),
  maxHeaderCount: fc.integer({ min: 0, max: 5 }),
  maxUrlBytes: fc.integer({ min: 1, max: 30 }),
  maxRequestBodyBytes: fc.integer({ min: 0, max: 40 }),
})

const responseLimits = fc.record({
  maxHeaderBytes: fc.integer({ min: 20, max: 200 }),
  maxHeaderCount: fc.integer({ min: 0, max: 5 }),
  maxInterimResponses: fc.integer({ min: 0, max: 3 }),
})

t.test('requests under small limits: same verdict', async (t) => {
  fc.assert(
    fc.property(validRequests, requestLimits, splitPoints, (g, limits, points) => {
      const expected = referenceRequests(g.raw, { limits })
      const got = parserRequests(g.raw, offsetsFor(g.raw.length, points), { limits })
      assert.deepStrictEqual(
        got,
        expected,
        `${JSON.stringify(limits)}: ${JSON.stringify(g.raw)}: reference ${describe(expected)}, strictgate ${describe(got)}`,
      )
    }),
    { numRuns: NUM_RUNS },
  )
  t.pass(`${NUM_RUNS} request streams`)
})

t.test('responses under small limits: same verdict', async (t) => {
  fc.assert(
    fc.property(validResponse, responseLimits, splitPoints, (g, limits, points) => {
      const request = { method: g.method, upgrade: g.upgrade }
      const expected = referenceResponse(g.raw, request, { limits })
      const got = parserResponse(g.raw, request, offsetsFor(g.raw.length, points), { limits })
      assert.deepStrictEqual(
        got,
        expected,
        `${JSON.stringify(limits)}: ${JSON.stringify(g.raw)}: reference ${describe(expected)}, strictgate ${describe(got)}`,
      )
    }),
    { numRuns: NUM_RUNS },
  )
  t.pass(`${NUM_RUNS} responses`)
})
