// Embedding behind TLS: a tls.Server terminates TLS and hands the TLSSocket to the gateway.
import type net from 'node:net'
import tls from 'node:tls'
import { createGateway } from 'strictgate'

export async function start(upstream: string, credentials: { key: string; cert: string }) {
  const gateway = createGateway({ upstream, xForwarded: true }) // X-Forwarded-Proto: https
  const server = tls.createServer({ ...credentials, allowHalfOpen: true }, (socket) => gateway.handle(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  return {
    url: `https://127.0.0.1:${port}`,
    close: async () => {
      // Stop accepting, then close the gateway: it ends idle keep-alive connections, which
      // server.close() waits for (closed the other way round, it waits for the clients' timeout).
      const closed = new Promise((resolve) => server.close(resolve))
      await gateway.close()
      await closed
    },
  }
}
