// The methods the gateway forwards (src/h1/methods.ts) are llhttp's HTTP methods but CONNECT and
// PRI (RULES.md client rules and Decisions), checked against the list of the llhttp build strictgate
// bundles, and against what that build accepts in an HTTP/1.1 request line.
import { createRequire } from 'node:module'
import t from 'tap'
import { Errno, Llhttp, ParserType } from '../../src/h1/llhttp.js'
import { FORWARDED_METHODS, isForwardedMethod } from '../../src/h1/methods.js'

const require = createRequire(import.meta.url)
const constants = require('undici/lib/llhttp/constants.js') as {
  METHODS: Record<string, number>
  METHODS_HTTP: number[]
}

const byNumber = new Map(Object.entries(constants.METHODS).map(([name, n]) => [n, name]))
const llhttpHttp = constants.METHODS_HTTP.map((n) => byNumber.get(n) as string)

t.test("llhttp's HTTP methods but CONNECT and PRI, and nothing else", async (t) => {
  t.same([...FORWARDED_METHODS].sort(), llhttpHttp.filter((m) => m !== 'CONNECT' && m !== 'PRI').sort())
  for (const m of ['CONNECT', 'PRI', 'DESCRIBE', 'SETUP', 'GET_PARAMETER', 'get', 'FOO']) {
    t.notOk(isForwardedMethod(m), m)
  }
})

t.test('llhttp accepts every forwarded method in an HTTP/1.1 request line', async (t) => {
  const ll = new Llhttp(ParserType.Request, { onSpan: () => 0, onHeadersComplete: () => 0, onMessageComplete: () => 0 })
  for (const m of FORWARDED_METHODS) {
    ll.reset()
    const line = Buffer.from(`${m} / HTTP/1.1\r\n`, 'latin1')
    t.equal(ll.execute(line, 0, line.length), Errno.OK, m)
  }
  ll.destroy()
})
