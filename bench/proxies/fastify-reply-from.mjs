// @fastify/reply-from on fastify: undici pool to the upstream (keep-alive), a catch-all route,
// and an onError answering 502.
import { nodeSystem, packageVersion } from './_common.mjs'

export default nodeSystem(import.meta.url, {
  name: '@fastify/reply-from',
  order: 3,
  version: () => `${packageVersion('@fastify/reply-from')} (fastify ${packageVersion('fastify')})`,
  async listen(upstream, port) {
    const { default: Fastify } = await import('fastify')
    const { default: replyFrom } = await import('@fastify/reply-from')
    const app = Fastify({ logger: false, keepAliveTimeout: 60_000 })
    await app.register(replyFrom, {
      base: upstream,
      undici: { connections: 256, pipelining: 1, keepAliveTimeout: 60_000 },
    })
    const onError = (reply) => reply.code(502).header('content-type', 'text/plain').send('Bad Gateway\n')
    app.all('/*', (request, reply) => reply.from(request.url, { onError }))
    await app.listen({ port, host: '127.0.0.1' })
  },
})
