// Regression: a target given by host name whose first address refuses. Node 20 then tries the
// next address on a new socket handle (autoSelectFamily) and asks the `onread` buffer source
// again; it returned undefined there, so the new handle read into memory of Node's own while
// the parser was handed the gateway's never-filled read buffer: 502 UPSTREAM_INVALID_VERSION
// for a valid response (or, with stale bytes in that buffer, an old response relayed).
//
// The name resolves, in this test process only, to ::1 and then 127.0.0.1; the upstream
// listens on 127.0.0.1 alone, so the first attempt always fails.
import dns from 'node:dns'
import net from 'node:net'
import t from 'tap'
import { startGateway } from '../helpers/gateway.js'
import { readMessage } from '../helpers/http-reader.js'
import { leakCheck } from '../helpers/resources.js'

const NAME = 'two-addresses.strictgate.test'
type LookupCallback = (err: Error | null, address: string | dns.LookupAddress[], family?: number) => void
const realLookup = dns.lookup
// Patched on the dns module object, which net.connect uses for host names.
;(dns as unknown as { lookup: unknown }).lookup = (
  host: string,
  options: dns.LookupOptions | LookupCallback,
  callback?: LookupCallback,
) => {
  if (host !== NAME) return (realLookup as (...args: unknown[]) => void)(host, options, callback)
  const cb = (typeof options === 'function' ? options : callback) as LookupCallback
  const all = typeof options === 'object' && options.all === true
  const addresses = [
    { address: '::1', family: 6 },
    { address: '127.0.0.1', family: 4 },
  ]
  process.nextTick(() => (all ? cb(null, addresses) : cb(null, '::1', 6)))
}
t.teardown(() => {
  ;(dns as unknown as { lookup: unknown }).lookup = realLookup
})

t.test('a host name whose first address refuses: the response from the next one is relayed', async (t) => {
  const upstream = net.createServer((socket) => {
    socket.on('error', () => {})
    socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'))
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  t.teardown(() => upstream.close())
  const { port: upstreamPort } = upstream.address() as net.AddressInfo
  const { port, codes } = await startGateway(t, `http://${NAME}:${upstreamPort}`)

  // Two requests on one client connection: the second reuses the pooled connection.
  const received = await new Promise<Buffer>((resolve, reject) => {
    const client = net.connect({ port, host: '127.0.0.1' })
    const chunks: Buffer[] = []
    client.on('error', reject)
    client.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    client.on('data', (d: Buffer) => chunks.push(d))
    client.on('end', () => resolve(Buffer.concat(chunks)))
  })
  const first = readMessage(received, 0, { response: true })
  const second = first === null ? null : readMessage(received, first.end, { response: true, eof: true })
  for (const [i, read] of [first, second].entries()) {
    t.equal(read?.message.status, 200, `response ${i + 1}: status`)
    t.equal(read?.message.body.toString(), 'hello', `response ${i + 1}: body`)
  }
  t.equal(second?.end, received.length, 'nothing after the second response')
  t.same(codes(), [], 'no errors')
})

leakCheck(t)
