// Field edits (src/h1/edits.ts) and their application by the serializers: what may be edited,
// and a property that a random set of edits yields exactly the expected field list, which our
// own parser accepts.
import fc from 'fast-check'
import t from 'tap'
import { combineEdits, compileEdits, type HeadEdit } from '../../src/h1/edits.js'
import { FieldKind, fieldName, fieldValue, headerPairs, type RequestHead } from '../../src/h1/head.js'
import { serializeRequestHead, serializeResponseHead } from '../../src/h1/serialize.js'
import { parseRequestHead, parseResponseHead } from '../helpers/heads.js'
import { token, validRequest } from '../helpers/http-arbitraries.js'
import { numRuns } from '../helpers/runs.js'

const NONE = new Map<string, string>()
const FRAMING = [
  'Content-Length',
  'transfer-encoding',
  'Connection',
  'Keep-Alive',
  'TE',
  'Trailer',
  'Upgrade',
  'Proxy-Connection',
]

t.test('compileEdits: names are tokens, values field values, framing and hop-by-hop fields untouchable', async (t) => {
  const edit = compileEdits({ 'X-A': 'a', 'x-b': ['1', '2'], 'X-Gone': null, 'X-Empty': '' }, 'headers', NONE)
  t.same([...(edit.drop ?? [])], ['x-a', 'x-b', 'x-gone', 'x-empty'])
  t.equal(edit.lines, 'X-A: a\r\nx-b: 1\r\nx-b: 2\r\nX-Empty: \r\n')
  for (const name of FRAMING) {
    t.throws(() => compileEdits({ [name]: 'x' }, 'headers', NONE), /framing or hop-by-hop/, `${name} cannot be set`)
    t.throws(
      () => compileEdits({ [name]: null }, 'headers', NONE),
      /framing or hop-by-hop/,
      `${name} cannot be removed`,
    )
  }
  const reserved = new Map([['host', 'use `host`']])
  t.throws(
    () => compileEdits({ HOST: 'a' }, 'route headers', reserved),
    /^route headers: HOST cannot be edited \(use `host`\)/,
  )
  for (const name of ['', 'X A', 'X:A', 'X\r\nY', 'é', 'X\x00']) {
    t.throws(() => compileEdits({ [name]: 'v' }, 'headers', NONE), /is not a token/, JSON.stringify(name))
  }
  for (const value of ['a\r\nX-Evil: 1', 'a\nb', 'a\rb', 'a\x00b', 'a\x7fb', ' a', 'a ', 'é€', 5, undefined, {}]) {
    t.throws(() => compileEdits({ 'X-A': value }, 'headers', NONE), /must be a field value/, JSON.stringify(value))
    t.throws(() => compileEdits({ 'X-A': ['ok', value] }, 'headers', NONE), /must be a field value/)
  }
  t.throws(() => compileEdits({ 'X-A': '1', 'x-a': '2' }, 'headers', NONE), /given twice/)
  for (const notObject of [null, 'x', ['a'], 5]) {
    t.throws(() => compileEdits(notObject, 'headers', NONE), /must be an object/)
  }
  t.doesNotThrow(() => compileEdits({ 'X-Tab': 'a\tb', 'X-Obs': 'caf\xe9' }, 'headers', NONE), 'HTAB and obs-text')
})

t.test('combineEdits: the second wins a name both touch', async (t) => {
  const a = compileEdits({ 'X-A': '1', 'X-B': '2' }, 'a', NONE)
  const b = compileEdits({ 'x-b': '3', 'X-C': null }, 'b', NONE)
  const both = combineEdits(a, b) as HeadEdit
  t.same([...(both.drop ?? [])].sort(), ['x-a', 'x-b', 'x-c'])
  t.equal(both.lines, 'X-A: 1\r\nx-b: 3\r\n')
  t.equal(combineEdits(null, b), b)
  t.equal(combineEdits(a, null), a)
})

t.test('serialize: edited fields replaced in place of none, values rewritten in place', async (t) => {
  const head = parseRequestHead('GET /a HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nAccept: */*\r\nx-a: 2\r\n\r\n')
  const edit = compileEdits({ 'X-A': 'new', 'X-B': ['b1', 'b2'] }, 'headers', NONE)
  t.equal(
    serializeRequestHead(head, 'Via: 1.1 g\r\n', undefined, { path: null, host: null, edit }).toString('latin1'),
    'GET /a HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nX-A: new\r\nX-B: b1\r\nX-B: b2\r\nVia: 1.1 g\r\n\r\n',
  )
  t.equal(
    serializeRequestHead(head, '', undefined, { path: '/b?c', host: 'other:8080', edit: null }).toString('latin1'),
    'GET /b?c HTTP/1.1\r\nHost: other:8080\r\nX-A: 1\r\nAccept: */*\r\nx-a: 2\r\n\r\n',
    'path and Host: a new request line, the new Host first, the old one gone',
  )
  const response = parseResponseHead(
    'HTTP/1.1 302 Found\r\nLocation: http://in/a\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n',
  )
  const values = new Map([
    [0, 'https://out/a'],
    [2, 'b=2; Domain=out'],
  ])
  t.equal(
    serializeResponseHead(response, 'Content-Length: 0\r\n', undefined, { drop: null, lines: '', values }).toString(
      'latin1',
    ),
    'HTTP/1.1 302 Found\r\nLocation: https://out/a\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2; Domain=out\r\nContent-Length: 0\r\n\r\n',
  )
})

t.test('absolute-form with an upgrade: one Host, the target authority (RFC 9112 §3.2.2)', async (t) => {
  // Regression: an upgrade request in absolute-form kept the client's Host next to the one from
  // the target.
  const head = parseRequestHead(
    'GET http://target.test/ws HTTP/1.1\r\nHost: client.test\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n',
  )
  t.equal(
    serializeRequestHead(head, 'Connection: upgrade\r\n').toString('latin1'),
    'GET /ws HTTP/1.1\r\nHost: target.test\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n',
  )
})

// ---- property ---------------------------------------------------------------------------------

const HOP = new Set([
  FieldKind.ContentLength,
  FieldKind.TransferEncoding,
  FieldKind.Connection,
  FieldKind.KeepAlive,
  FieldKind.ProxyConnection,
  FieldKind.TE,
  FieldKind.Trailer,
  FieldKind.Upgrade,
])

/** The received end-to-end fields, as an independent reading of RFC 9110 §7.6.1. */
function endToEnd(head: RequestHead): [string, string][] {
  const named = new Set(head.connection)
  const out: [string, string][] = []
  for (let i = 0; i < head.kinds.length; i++) {
    const name = fieldName(head, i)
    if (HOP.has(head.kinds[i]) || named.has(name.toLowerCase())) continue
    out.push([name, fieldValue(head, i)])
  }
  return out
}

const editArb = fc.dictionary(
  fc.oneof(token, fc.constantFrom('X-Custom', 'accept', 'User-Agent', 'x-f')),
  fc.oneof(
    fc.constant(null),
    fc.string({ unit: fc.constantFrom(...'abc 123;=,/\t'.split('')), maxLength: 8 }).map((s) => s.trim()),
    fc.array(fc.constantFrom('v1', 'v2', ''), { minLength: 1, maxLength: 3 }),
  ),
  { maxKeys: 4 },
)

t.test('a random set of edits yields exactly the expected fields upstream, and a valid head', async (t) => {
  const reserved = new Map([['host', 'use host']])
  fc.assert(
    fc.property(validRequest, editArb, (c, headers) => {
      const lowerNames = Object.keys(headers).map((n) => n.toLowerCase())
      const framing = FRAMING.map((n) => n.toLowerCase())
      if (
        new Set(lowerNames).size !== lowerNames.length ||
        lowerNames.some((n) => framing.includes(n) || n === 'host')
      ) {
        // Not a valid edit: it must be refused, whatever it is.
        try {
          compileEdits(headers, 'headers', reserved)
          return false
        } catch {
          return true
        }
      }
      const head = parseRequestHead(c.raw)
      const edit = compileEdits(headers, 'headers', reserved)
      // (What the gateway adds: Via, and a Host to an HTTP/1.0 request without one.)
      const extra = `Via: 1.1 g\r\n${head.host === '' ? 'Host: up\r\n' : ''}`
      const out = serializeRequestHead(head, extra, undefined, { path: null, host: null, edit })
      const got = headerPairs(parseRequestHead(`${out.toString('latin1')}`))
      const expected: [string, string][] = endToEnd(head).filter(([n]) => !lowerNames.includes(n.toLowerCase()))
      if (head.target.charCodeAt(0) !== 0x2f && head.target !== '*') {
        // Absolute-form: the Host from the target, first.
        const i = expected.findIndex(([n]) => n.toLowerCase() === 'host')
        if (i >= 0) expected.splice(i, 1)
        expected.unshift(['Host', head.host])
      }
      for (const [name, value] of Object.entries(headers)) {
        if (value === null) continue
        for (const v of Array.isArray(value) ? value : [value]) expected.push([name, v])
      }
      expected.push(['Via', '1.1 g'])
      if (head.host === '') expected.push(['Host', 'up'])
      return JSON.stringify(got) === JSON.stringify(expected)
    }),
    { numRuns: numRuns(300) },
  )
  t.pass('property held')
})
