// Embedding: your own net.Server hands accepted sockets to the gateway.
import net from 'node:net'
import { createGateway } from 'strictgate'

export async function start(upstream: string) {
  const gateway = createGateway({ upstream })
  const server = net.createServer({ allowHalfOpen: true }, (socket) => gateway.handle(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      // Stop accepting, then close the gateway: it ends idle keep-alive connections, which
      // server.close() waits for (closed the other way round, it waits for the clients' timeout).
      const closed = new Promise((resolve) => server.close(resolve))
      await gateway.close()
      await closed
    },
  }
}
