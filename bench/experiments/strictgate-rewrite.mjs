// strictgate with rewriting configured (issue 13's measure): a route hook returning an object
// that sets one request field, and an onResponse hook that sets one response field. Compare with
// the plain strictgate system in the same run:
//   npm run bench -- --with=bench/experiments --systems=strictgate,strictgate-rewrite --workloads=small
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { nodeSystem } from '../proxies/_common.mjs'

const ROUTE = { headers: { 'X-Gateway': 'strictgate' } }
const EDIT = { headers: { 'X-Frame-Options': 'DENY' } }

export default nodeSystem(import.meta.url, {
  name: 'strictgate-rewrite',
  order: 2,
  version: () => JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version,
  async listen(upstream, port, { dist = fileURLToPath(new URL('../../dist/', import.meta.url)) }) {
    const { createGateway } = await import(pathToFileURL(join(dist, 'index.js')).href)
    await createGateway({ upstream, route: () => ROUTE, onResponse: () => EDIT }).listen({ port, host: '127.0.0.1' })
  },
})
