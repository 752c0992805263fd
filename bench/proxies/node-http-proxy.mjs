// node-http-proxy (http-proxy on npm): node:http server, keep-alive agent to the upstream,
// and an error handler answering 502 (without one, http-proxy throws and the process dies).
import http from 'node:http'
import { nodeSystem, packageVersion } from './_common.mjs'

export default nodeSystem(import.meta.url, {
  name: 'node-http-proxy',
  order: 2,
  version: () => packageVersion('http-proxy'),
  async listen(upstream, port) {
    const { default: httpProxy } = await import('http-proxy')
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 })
    const proxy = httpProxy.createProxyServer({ target: upstream, agent })
    proxy.on('error', (_err, _req, res) => {
      if (typeof res.writeHead !== 'function') return res.destroy() // a socket (upgrade)
      if (res.headersSent) return res.destroy()
      res.writeHead(502, { 'Content-Type': 'text/plain', Connection: 'close' })
      res.end('Bad Gateway\n')
    })
    const server = http.createServer((req, res) => proxy.web(req, res))
    server.keepAliveTimeout = 60_000
    await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve))
  },
})
