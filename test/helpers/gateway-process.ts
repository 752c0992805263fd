// A gateway in a process of its own (run with `node --expose-gc --import tsx`), so that its
// memory can be measured apart from the test's clients and upstream. Talks over IPC:
// sends { port } once listening; answers 'measure' with memoryUsage() after a full GC and the
// gateway's stats(); 'close' closes the gateway and exits.
//
// argv: upstream URL, then the gateway options as JSON.

// The built package (npm test builds first): dist/ is outside coverage, which keeps this
// tsx-run child from blurring the report with a second line mapping of src/.
import { createGateway, type GatewayOptions } from '../../dist/index.js'

export interface Measurement {
  memory: NodeJS.MemoryUsage
  stats: ReturnType<ReturnType<typeof createGateway>['stats']>
}

const [upstream, json] = process.argv.slice(2)
const options = JSON.parse(json ?? '{}') as Omit<GatewayOptions, 'upstream'>
const gateway = createGateway({ ...options, upstream })
const send = (msg: unknown) => (process.send as (msg: unknown) => boolean)(msg)

process.on('message', async (msg) => {
  if (msg === 'measure') {
    const gc = (globalThis as { gc?: () => void }).gc
    for (let i = 0; i < 3; i++) {
      gc?.()
      await new Promise((resolve) => setImmediate(resolve))
    }
    send({ memory: process.memoryUsage(), stats: gateway.stats() } satisfies Measurement)
  } else if (msg === 'close') {
    await gateway.close()
    process.exit(0)
  }
})
// Never outlive the test that started us.
process.on('disconnect', () => process.exit(0))

const { port } = await gateway.listen({ port: 0, host: '127.0.0.1' })
send({ port })
