// Slow peers: a client that reads 1 byte per 10 ms while the upstream sends 10 MiB. Backpressure
// must hold the body in the upstream's socket, not in the gateway: the gateway's client socket
// buffers a bounded amount, the upstream is left with most of the body unsent, and memory does not
// grow with the body. Once the client reads at full speed, the whole body arrives intact.

import net from 'node:net'
import t from 'tap'
import { startGateway } from '../helpers/gateway.js'
import { held } from '../helpers/memory.js'
import { leakCheck } from '../helpers/resources.js'
import { read, ScriptedUpstream, write } from '../helpers/scripted-upstream.js'

const BODY = 10 * 1024 * 1024
const HEAD = `HTTP/1.1 200 OK\r\nContent-Length: ${BODY}\r\n\r\n`
const MiB = 1024 * 1024

t.test('a client reading 1 byte per 10 ms while the upstream sends 10 MiB: memory stays bounded', async (t) => {
  const body = Buffer.alloc(BODY, 0x62)
  const up = await ScriptedUpstream.start(t, { script: [read(), write(HEAD), write(body)] })
  let upstreamSide: net.Socket | null = null
  up.server.on('connection', (s) => {
    upstreamSide = s
  })
  const g = await startGateway(t, up.url, { timeouts: { idle: 5_000 } })
  // Our own listener hands sockets to gateway.handle(), so the gateway's client socket is visible.
  let gatewaySide: net.Socket | null = null
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    gatewaySide = s
    g.gateway.handle(s)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
  t.teardown(() => client.destroy())
  client.pause()
  await new Promise((resolve) => client.once('connect', resolve))
  const heldBefore = await held()
  const rssBefore = process.memoryUsage().rss
  client.write('GET /large HTTP/1.1\r\nHost: example.test\r\n\r\n')

  let received = 0
  const chunks: Buffer[] = []
  const slow = setInterval(() => {
    const b = client.read(1) as Buffer | null
    if (b !== null) {
      chunks.push(b)
      received += b.length
    }
  }, 10)
  t.teardown(() => clearInterval(slow))
  let maxWritable = 0
  let maxRss = 0
  let maxHeld = 0
  let minUnsent = Number.POSITIVE_INFINITY
  for (let i = 0; i < 30; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    maxWritable = Math.max(maxWritable, (gatewaySide as net.Socket | null)?.writableLength ?? 0)
    maxRss = Math.max(maxRss, process.memoryUsage().rss)
    if (i % 10 === 9) maxHeld = Math.max(maxHeld, await held())
    if (i >= 10) minUnsent = Math.min(minUnsent, (upstreamSide as net.Socket | null)?.writableLength ?? 0)
  }
  clearInterval(slow)
  const rssGrowth = maxRss - rssBefore
  t.comment(
    `slow reader (${received} bytes read in 1.5 s): gateway client socket writableLength max ${(maxWritable / 1024).toFixed(1)} KiB; ` +
      `upstream's 10 MiB write still pending (${(minUnsent / MiB).toFixed(2)} MiB); heap + Buffer memory held after GC grew ${((maxHeld - heldBefore) / MiB).toFixed(2)} MiB; ` +
      `process RSS growth ${(rssGrowth / MiB).toFixed(2)} MiB (garbage included)`,
  )
  t.ok(maxWritable <= 256 * 1024, 'the gateway buffers at most 256 KiB for the client')
  // Loopback socket buffers hold a few MiB; the rest must still be waiting in the upstream.
  t.ok(minUnsent >= 2 * MiB, "the upstream's write is held back (backpressure reached it)")
  t.ok(
    maxHeld - heldBefore < 2 * MiB,
    `memory held grows by well under the 10 MiB body (${maxHeld - heldBefore} bytes)`,
  )

  // Full speed: the whole body arrives, intact.
  const total = HEAD.length + BODY + 'Via: 1.1 strictgate\r\n'.length
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${received} of ${total} bytes`)), 10_000)
    client.on('data', (c: Buffer) => {
      chunks.push(c)
      received += c.length
      if (received >= total) {
        clearTimeout(timer)
        resolve()
      }
    })
    client.resume()
  })
  const all = Buffer.concat(chunks)
  t.equal(
    all.length,
    total,
    `every byte, no more (${all.length} of ${total}; head ${JSON.stringify(all.subarray(0, 80).toString('latin1'))})`,
  )
  t.ok(all.subarray(all.indexOf('\r\n\r\n') + 4).equals(body), 'the body is intact')
  t.same(g.codes(), [], 'no error')
  client.destroy()
})

leakCheck(t)
