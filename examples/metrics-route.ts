// Metrics and health where your own server serves them: gateway.metrics() is the Prometheus
// text, gateway.health() what /healthz would answer (503 while shutting down or with every
// target down). Keep such routes off the public side, as the CLI's --admin listener is.
import http from 'node:http'
import type net from 'node:net'
import { createGateway, EXPOSITION_CONTENT_TYPE } from 'strictgate'

export async function start(upstream: string) {
  const gateway = createGateway({ upstream, health: { check: { path: '/hello', interval: 1000 } } })
  const proxy = gateway.handler()
  const server = http.createServer((req, res) => {
    if (req.url === '/internal/metrics') {
      res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE }).end(gateway.metrics())
    } else if (req.url === '/internal/healthz') {
      const { status, reason } = gateway.health()
      res.writeHead(status, { 'content-type': 'text/plain' }).end(`${reason}\n`)
    } else proxy(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await gateway.close()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
