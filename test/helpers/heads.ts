// Parsed heads from raw bytes, for tests of what is decided from heads (serialize, plan).
import type { RequestContext } from '../../src/h1/check-head.js'
import type { RequestHead, ResponseHead } from '../../src/h1/head.js'
import { RequestParser } from '../../src/h1/request-parser.js'
import { ResponseParser } from '../../src/h1/response-parser.js'

const IGNORE = { onBody() {}, onTrailers() {}, onComplete() {} }

/** The head of a valid request (latin1: one character per byte); throws if it is not valid. */
export function parseRequestHead(raw: string): RequestHead {
  let head: RequestHead | null = null
  const parser = new RequestParser({
    ...IGNORE,
    onHead: (h) => {
      head = h
    },
  })
  const n = parser.execute(Buffer.from(raw, 'latin1'))
  parser.destroy()
  if (n < 0 || head === null) throw new Error(`not parsed: ${JSON.stringify(raw)}`)
  return head
}

/** The final head of a valid response to `request` (default: GET). */
export function parseResponseHead(raw: string, request: RequestContext = { method: 'GET', upgrade: [] }): ResponseHead {
  let head: ResponseHead | null = null
  const parser = new ResponseParser({
    ...IGNORE,
    onHead: (h) => {
      if (!h.interim) head = h
    },
  })
  parser.expect(request)
  const n = parser.execute(Buffer.from(raw, 'latin1'))
  const failure = parser.failure
  parser.destroy()
  if (n < 0 || head === null) throw new Error(`not parsed (${failure?.code}): ${JSON.stringify(raw)}`)
  return head
}
