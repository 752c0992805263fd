// Embedding in node:http: every request through the gateway's handler, and WebSocket (or any
// other) upgrades handed over from the server's 'upgrade' event with their `head` bytes.
import http from 'node:http'
import type net from 'node:net'
import { createGateway } from 'strictgate'

export async function start(upstream: string) {
  const gateway = createGateway({ upstream })
  const server = http.createServer(gateway.handler())
  server.on('upgrade', (req, socket, head) => gateway.upgrade(req, socket, head))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await gateway.close() // finishes what is in flight; the server is yours to close
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
