// A plain node:net `pipe()`: one upstream connection per client connection, bytes copied both
// ways with no parsing at all. Not a proxy anyone should run (no validation, no pooling, no
// framing): it is the floor a Node process pays for moving the bytes, which a Node gateway that
// parses everything should still beat (issue 5, DESIGN.md "Performance design").
// It answers 502 itself when the upstream connection fails before any byte came back, so that
// it passes the harness's check like the others.
import net from 'node:net'
import { nodeSystem } from './_common.mjs'

const BAD_GATEWAY = 'HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'

export default nodeSystem(import.meta.url, {
  name: 'pipe',
  order: 5,
  version: () => 'node:net',
  listen(upstream, port) {
    const { hostname, port: upstreamPort } = new URL(upstream)
    const server = net.createServer((client) => {
      const up = net.connect({ host: hostname, port: Number(upstreamPort) })
      client.setNoDelay(true)
      up.setNoDelay(true)
      let answered = false
      up.once('data', () => {
        answered = true
      })
      up.on('error', () => {
        if (!answered && !client.destroyed) client.end(BAD_GATEWAY)
        else client.destroy()
      })
      client.on('error', () => up.destroy())
      client.on('close', () => up.destroy())
      client.pipe(up)
      up.pipe(client)
    })
    return new Promise((resolve) => server.listen(port, '127.0.0.1', resolve))
  },
})
