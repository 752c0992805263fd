// Koa: ctx.respond = false leaves the response to the gateway.
import type net from 'node:net'
import Koa from 'koa'
import { createGateway } from 'strictgate'

export async function start(upstream: string) {
  const gateway = createGateway({ upstream })
  const app = new Koa()
  app.use(async (ctx, next) => {
    if (!ctx.path.startsWith('/api/')) return next()
    ctx.respond = false
    await gateway.proxy(ctx.req, ctx.res)
  })
  app.use((ctx) => {
    ctx.body = 'the app itself'
  })
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const { port } = server.address() as net.AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await gateway.close()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
