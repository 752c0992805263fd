// The request head sent upstream: always an HTTP/1.1 request line in origin-form (or `*`), the
// end-to-end fields as received, then what the gateway adds. For generated valid requests of
// every form and both versions, the property checks the request line (against one built here
// independently), the Host that absolute-form brings and the added fields at the end; the
// examples check whole heads byte for byte (the fields in between: test/io/relay.test.ts).
import fc from 'fast-check'
import t from 'tap'
import { serializeRequestHead, serializeResponseHead } from '../../src/h1/serialize.js'
import { parseRequestHead, parseResponseHead } from '../helpers/heads.js'
import { validRequest } from '../helpers/http-arbitraries.js'
import { numRuns } from '../helpers/runs.js'

const NUM_RUNS = numRuns(200)

/** RFC 9112 §3.2.2: absolute-form becomes origin-form (path and query; "/" when empty). */
function expectedTarget(target: string): string {
  if (target === '*' || target.startsWith('/')) return target
  const rest = target.replace(/^https?:\/\/[^/?]*/i, '')
  return rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest
}

t.test('request line: HTTP/1.1, origin-form; absolute-form names its Host', (t) => {
  fc.assert(
    fc.property(validRequest, (c) => {
      const head = parseRequestHead(c.raw)
      const out = serializeRequestHead(head, 'X-Added: 1\r\n').toString('latin1')
      const line = `${c.message.method} ${expectedTarget(c.message.target)} HTTP/1.1\r\n`
      if (!out.startsWith(line)) return false
      if (!out.endsWith('X-Added: 1\r\n\r\n')) return false
      const absolute = !c.message.target.startsWith('/') && c.message.target !== '*'
      // Absolute-form: Host from the target, right after the request line (the client's Host is dropped).
      if (absolute && !out.startsWith(`${line}Host: ${head.host}\r\n`)) return false
      return true
    }),
    { numRuns: NUM_RUNS },
  )
  t.pass('property held')
  t.end()
})

t.test('an HTTP/1.1 origin-form request line goes out byte for byte', (t) => {
  const head = parseRequestHead('GET /a%20b?x=1 HTTP/1.1\r\nHost: example\r\nAccept: */*\r\n\r\n')
  t.equal(
    serializeRequestHead(head, 'Via: 1.1 strictgate\r\n').toString('latin1'),
    'GET /a%20b?x=1 HTTP/1.1\r\nHost: example\r\nAccept: */*\r\nVia: 1.1 strictgate\r\n\r\n',
  )
  const old = parseRequestHead('GET /a HTTP/1.0\r\nAccept: */*\r\n\r\n')
  t.equal(
    serializeRequestHead(old, '').toString('latin1'),
    'GET /a HTTP/1.1\r\nAccept: */*\r\n\r\n',
    'HTTP/1.0 goes as 1.1',
  )
  t.end()
})

t.test('status line: relayed as HTTP/1.1 with the code and reason as received', (t) => {
  for (const [version, reason] of [
    ['1.1', 'OK'],
    ['1.0', 'Fine'],
    ['1.1', ''],
  ]) {
    const head = parseResponseHead(`HTTP/${version} 200 ${reason}\r\nContent-Length: 0\r\nX-A: b\r\n\r\n`)
    t.equal(
      serializeResponseHead(head, 'Content-Length: 0\r\n').toString('latin1'),
      `HTTP/1.1 200 ${reason}\r\nX-A: b\r\nContent-Length: 0\r\n\r\n`,
      `HTTP/${version}, reason ${JSON.stringify(reason)}`,
    )
  }
  t.end()
})
