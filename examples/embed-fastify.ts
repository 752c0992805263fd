// Fastify 5: an onRequest hook hands /api requests to the gateway before Fastify reads their
// body; reply.hijack() tells Fastify the response is taken care of.
import type net from 'node:net'
import Fastify from 'fastify'
import { createGateway } from 'strictgate'

export async function start(upstream: string) {
  const gateway = createGateway({ upstream })
  const app = Fastify()
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/')) return
    reply.hijack()
    await gateway.proxy(request.raw, reply.raw)
  })
  app.get('/health', async () => 'ok')
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as net.AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await gateway.close()
      await app.close()
    },
  }
}
