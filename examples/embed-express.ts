// Express 5: the gateway mounted under /api, beside the app's own routes. Express strips the
// mount path from req.url; the gateway forwards what the client sent (req.originalUrl), so
// GET /api/users goes upstream as GET /api/users.
import http from 'node:http'
import type net from 'node:net'
import express from 'express'
import { createGateway } from 'strictgate'

export async function start(upstream: string, log: string[]) {
  const gateway = createGateway({ upstream })
  const app = express()
  app.use('/api', gateway.handler())
  // A body parser ran first: pass what it read as `body` (without it: 500 GATEWAY_BODY_CONSUMED).
  app.post('/audit', express.json(), async (req, res) => {
    const { status, error } = await gateway.proxy(req, res, { body: JSON.stringify({ ...req.body, audited: true }) })
    log.push(`audit: ${status} ${error?.code ?? ''}`.trim())
  })
  app.get('/', (_req, res) => void res.send('the app itself'))
  const server = http.createServer(app)
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
