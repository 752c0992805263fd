// strictgate embedded in a node:http server (gateway.handler()), the built package (dist/) like
// the strictgate system: what an application that already runs node:http gets. Against
// node-http-proxy both use node:http on the client side; against strictgate, what the embedding
// costs over handle() (Node's parser and ServerResponse in front of the same exchange).

import { readFileSync } from 'node:fs'
import http from 'node:http'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { nodeSystem } from './_common.mjs'

export default nodeSystem(import.meta.url, {
  name: 'strictgate-embedded',
  order: 1.2,
  version: () => JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version,
  async listen(upstream, port, { dist = fileURLToPath(new URL('../../dist/', import.meta.url)) }) {
    const { createGateway } = await import(pathToFileURL(join(dist, 'index.js')).href)
    const server = http.createServer(createGateway({ upstream }).handler())
    // As node-http-proxy's server: keep-alive connections are not closed under load.
    server.keepAliveTimeout = 60_000
    await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve))
  },
})
