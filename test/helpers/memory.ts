// Memory held by this test process, after a full GC: what a leak test compares (garbage not yet
// collected is not a leak).
import v8 from 'node:v8'
import { runInNewContext } from 'node:vm'

v8.setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** heapUsed + arrayBuffers after a full GC (gateway, upstream and clients of this process together). */
export async function held(): Promise<number> {
  // Twice, a turn apart: Buffer backing stores are released after the GC that finds them dead.
  gc()
  await new Promise((resolve) => setImmediate(resolve))
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}
