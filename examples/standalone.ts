// A standalone gateway in front of one upstream.
import { createGateway } from 'strictgate'

export async function start(upstream: string) {
  const gateway = createGateway({
    upstream, // e.g. 'http://127.0.0.1:3000'
    timeouts: { connect: 5_000, response: 30_000 },
    limits: { maxHeaderBytes: 16_384, maxRequestBodyBytes: 10 * 1024 * 1024 },
  })
  const address = await gateway.listen({ port: 0, host: '127.0.0.1' })
  return { url: `http://127.0.0.1:${address.port}`, close: () => gateway.close() }
}
