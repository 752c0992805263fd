// node:http2's compatibility API: HTTP/2 and HTTP/1.1 clients (allowHTTP1) in front of an
// HTTP/1.1 upstream. The pseudo-headers become the request line and Host; connection-specific
// fields are never sent either way.
import http2 from 'node:http2'
import type net from 'node:net'
import { createGateway } from 'strictgate'

export async function start(upstream: string, credentials: { key: string; cert: string }) {
  const gateway = createGateway({ upstream })
  const server = http2.createSecureServer({ ...credentials, allowHTTP1: true }, (req, res) => gateway.proxy(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  return {
    url: `https://127.0.0.1:${port}`,
    close: async () => {
      await gateway.close()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
