// The soak test's gateway process: the demo upstream and a gateway in front of it (from dist/),
// answering the parent's 'stats' messages with its own memory, handles and file descriptors.
import { readdirSync } from 'node:fs'
import { startDemoUpstream } from '../../dist/demo.js'
import { createGateway } from '../../dist/index.js'

const demo = await startDemoUpstream()
const codes = new Map()
const gateway = createGateway({
  upstream: demo.url,
  timeouts: { response: 1_000, keepAlive: 2_000 },
  onError(err) {
    codes.set(err.code, (codes.get(err.code) ?? 0) + 1)
  },
})
const address = await gateway.listen({ port: 0, host: '127.0.0.1' })

function stats() {
  const memory = process.memoryUsage()
  return {
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    handles: process._getActiveHandles().length,
    fds: readdirSync('/proc/self/fd').length,
    gateway: gateway.stats(),
    codes: Object.fromEntries(codes),
  }
}

process.on('message', async (m) => {
  if (m === 'stats') process.send({ stats: stats() })
  if (m === 'gc') {
    globalThis.gc?.()
    process.send({ stats: stats() })
  }
  if (m === 'stop') {
    await gateway.close()
    await demo.close()
    process.send({ stopped: stats() })
    process.exit(0)
  }
})
process.send({ port: address.port, pid: process.pid, stats: stats() })
