// RULES.md B4 for HTTP/1.0 clients, who get a close-delimited body: for them a FIN means
// "complete", so when the upstream resets mid-body the gateway must reset the client connection
// (never end it), every time.
import net from 'node:net'
import t from 'tap'
import { createGateway } from '../../src/index.js'

t.test('an HTTP/1.0 client sees a reset, not a FIN, when a close-delimited body is cut', async (t) => {
  const upstream = net.createServer((socket) => {
    socket.on('error', () => {})
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npartial body')
      setTimeout(() => socket.resetAndDestroy(), 30)
    })
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  t.teardown(() => upstream.close())
  const codes: string[] = []
  const gw = createGateway({
    upstream: `http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`,
    onError: (err) => void codes.push(`${err.code} ${err.status}`),
  })
  t.teardown(() => gw.close())
  const { port } = await gw.listen({ port: 0, host: '127.0.0.1' })
  const rounds = 10
  for (let i = 0; i < rounds; i++) {
    const outcome = await new Promise<string>((resolve) => {
      const client = net.connect(port, '127.0.0.1', () => client.write('GET / HTTP/1.0\r\n\r\n'))
      let data = ''
      client.setEncoding('latin1')
      client.on('data', (d: string) => (data += d))
      client.on('error', (err: NodeJS.ErrnoException) => resolve(`${err.code} ${data.endsWith('partial body')}`))
      client.on('end', () => resolve(`FIN ${data.endsWith('partial body')}`))
    })
    t.equal(outcome, 'ECONNRESET true', `round ${i}: the body was relayed, then the connection reset`)
  }
  t.same(codes, Array(rounds).fill('UPSTREAM_TRUNCATED_BODY 0'))
})
