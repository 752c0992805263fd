// Byte-level mutations of messages generated from the grammar get the same verdict from the
// reference recognizer and from strictgate's parsers (issue 14): the same events delivered
// before anything fails (so the same 4xx/502-or-abort decision), the same error code, and for
// an input that is still valid the same message. Mutations: one byte inserted, deleted or
// replaced anywhere; and CR, LF, SP, HTAB, NUL, ";", DQUOTE, "#" inserted at every position of a
// start line, a field line (or trailer line) and a chunk line.
//
// FC_NUM_RUNS sets the runs (default 300 for single edits, a tenth of that for the line sweeps,
// which try some 200 inputs each). A failure prints fast-check's seed and path.

import assert from 'node:assert/strict'
import fc from 'fast-check'
import t from 'tap'
import { numRuns } from '../helpers/runs.js'
import { describe, parserRequests, parserResponse, referenceRequests, referenceResponse } from './compare.js'
import { offsetsFor, type PartKind, splitPoints, validRequests, validResponse } from './generate.js'
import { applyEdit, describeEdit, edit, insertionsInLine } from './mutate.js'

const NUM_RUNS = numRuns(300)
const SWEEP_RUNS = Math.max(1, Math.round(NUM_RUNS / 10))

const lineKind = fc.constantFrom<PartKind>('start', 'field', 'chunk-line', 'trailer')

function sameRequests(raw: string, points: readonly number[], what: string): void {
  const expected = referenceRequests(raw)
  const got = parserRequests(raw, offsetsFor(raw.length, points))
  assert.deepStrictEqual(
    got,
    expected,
    `${what}: ${JSON.stringify(raw)}: reference ${describe(expected)}, strictgate ${describe(got)}`,
  )
}

function sameResponse(
  raw: string,
  request: { method: string; upgrade: readonly string[] },
  points: readonly number[],
  what: string,
): void {
  const expected = referenceResponse(raw, request)
  const got = parserResponse(raw, request, offsetsFor(raw.length, points))
  assert.deepStrictEqual(
    got,
    expected,
    `${what} (response to ${request.method}): ${JSON.stringify(raw)}: reference ${describe(expected)}, strictgate ${describe(got)}`,
  )
}

t.test('requests with one byte inserted, deleted or replaced: same verdict', async (t) => {
  fc.assert(
    fc.property(validRequests, edit, splitPoints, (g, e, points) => {
      sameRequests(applyEdit(g.raw, e), points, describeEdit(g.raw, e))
    }),
    { numRuns: NUM_RUNS },
  )
  t.pass(`${NUM_RUNS} mutated request streams`)
})

t.test('responses with one byte inserted, deleted or replaced: same verdict', async (t) => {
  fc.assert(
    fc.property(validResponse, edit, splitPoints, (g, e, points) => {
      sameResponse(applyEdit(g.raw, e), { method: g.method, upgrade: g.upgrade }, points, describeEdit(g.raw, e))
    }),
    { numRuns: NUM_RUNS },
  )
  t.pass(`${NUM_RUNS} mutated responses`)
})

t.test('requests: CR LF SP HTAB NUL ; " # at every position of a line: same verdict', async (t) => {
  fc.assert(
    fc.property(validRequests, lineKind, fc.nat(), splitPoints, (g, kind, pick, points) => {
      for (const m of insertionsInLine(g, kind, pick)) sameRequests(m.raw, points, m.what)
    }),
    { numRuns: SWEEP_RUNS },
  )
  t.pass(`${SWEEP_RUNS} request lines swept`)
})

t.test('responses: CR LF SP HTAB NUL ; " # at every position of a line: same verdict', async (t) => {
  fc.assert(
    fc.property(validResponse, lineKind, fc.nat(), splitPoints, (g, kind, pick, points) => {
      const request = { method: g.method, upgrade: g.upgrade }
      for (const m of insertionsInLine(g, kind, pick)) sameResponse(m.raw, request, points, m.what)
    }),
    { numRuns: SWEEP_RUNS },
  )
  t.pass(`${SWEEP_RUNS} response lines swept`)
})
