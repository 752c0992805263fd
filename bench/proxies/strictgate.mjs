// strictgate as users get it: the built package (dist/, `npm run build`), default options.
// bench/run.mjs passes --dist=<snapshot of dist/ taken when the run started>.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { nodeSystem } from './_common.mjs'

export default nodeSystem(import.meta.url, {
  name: 'strictgate',
  order: 1,
  version: () => JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version,
  async listen(upstream, port, { dist = fileURLToPath(new URL('../../dist/', import.meta.url)) }) {
    const { createGateway } = await import(pathToFileURL(join(dist, 'index.js')).href)
    await createGateway({ upstream }).listen({ port, host: '127.0.0.1' })
  },
})
