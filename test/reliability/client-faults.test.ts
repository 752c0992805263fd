// Client faults at every byte offset k of a request with a body, and while the response streams:
// the client resets (RST), half-closes (FIN) or stalls after k bytes. RULES.md: a client that
// goes away mid-request or mid-response gets nothing more and the paired upstream connection is
// destroyed (CLIENT_ABORTED); a stalled request head or body is answered 408 and closed
// (CLIENT_TIMEOUT). When the exchange had completed, the upstream connection goes back to the
// pool healthy, and the next request reuses it.
//
// Each offset gets its own gateway and upstream (one connection script per offset), run
// concurrently in bounded batches.

import t, { type Test } from 'tap'
import { inBatches, offsets } from '../helpers/batches.js'
import { startGateway } from '../helpers/gateway.js'
import { eventually, type RawClient } from '../helpers/raw-client.js'
import { leakCheck } from '../helpers/resources.js'
import { gate, read, ScriptedUpstream, write } from '../helpers/scripted-upstream.js'
import { peerRead } from '../helpers/socket-watch.js'

const BATCH = 16
const OK = 'HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok'
const GET = 'GET / HTTP/1.1\r\nHost: example.test\r\n\r\n'

const REQUESTS = [
  {
    name: 'Content-Length body',
    head: 'POST /upload HTTP/1.1\r\nHost: example.test\r\nContent-Length: 10\r\n\r\n',
    body: '0123456789',
  },
  {
    name: 'chunked body',
    head: 'POST /upload HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n',
    body: '5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n',
  },
]

type Fault = 'rst' | 'fin' | 'stall'

/** RST once the gateway has read the data (on Linux a RST right behind unread data reads as FIN). */
async function resetAfterRead(client: RawClient): Promise<void> {
  await peerRead(client.socket, 'the gateway to read the request bytes')
  client.socket.resetAndDestroy()
}

async function runOffset(t: Test, raw: string, headEnd: number, fault: Fault, k: number): Promise<string[]> {
  const problems: string[] = []
  const n = raw.length
  // RST / FIN: the upstream answers only once the gateway is done with the faulty client (else
  // at k = n the response could win the race and the exchange complete normally).
  let settle = () => {}
  const settled = new Promise<void>((resolve) => {
    settle = resolve
  })
  const up = await ScriptedUpstream.start(t, {
    script: fault === 'stall' ? [read(), write(OK)] : [read(), gate(() => settled), write(OK)],
    loop: true,
  })
  const gw = await startGateway(t, up.url, { timeouts: { request: 300, idle: 300 } })
  try {
    const client = await gw.connect()
    client.write(raw.slice(0, k))
    if (fault === 'rst') await resetAfterRead(client)
    if (fault === 'fin') client.end()

    if (fault === 'stall' && k === n) {
      // The exchange completes: answered, and the upstream connection is pooled and reused.
      const first = await client.response()
      client.write(GET)
      const second = await client.response()
      client.destroy()
      if (first.status !== 201 || second.status !== 201) problems.push(`got ${first.status}, ${second.status}`)
      if (up.connections !== 1) problems.push(`${up.connections} upstream connections, want 1 (reused)`)
    } else {
      await client.closed()
      const got = client.received.toString('latin1')
      // A stalled request that began is answered 408; nothing else is ever sent.
      const want = fault === 'stall' && k > 0 ? /^HTTP\/1\.1 408 Request Timeout\r\n/ : /^$/
      if (!want.test(got)) problems.push(`client got ${JSON.stringify(got.slice(0, 60))}`)
      const code = fault === 'stall' ? 'CLIENT_TIMEOUT' : 'CLIENT_ABORTED'
      if (k > 0) await gw.error(code).catch(() => problems.push(`no ${code}, saw ${gw.codes().join(',')}`))
      await eventually(() => gw.gateway.stats().clients === 0, 'the client connection to be gone')
      // No upstream connection before the request head is complete.
      if (k < headEnd && up.connections !== 0) problems.push(`${up.connections} upstream connections before the head`)
      // Whatever carried request bytes is destroyed; a connection still connecting when the
      // client went (nothing written on it yet) may be pooled. The next request proves it clean.
      await eventually(() => {
        const s = gw.gateway.stats().upstream
        return s.open === s.idle && up.connections - up.closedConnections === s.idle
      }, 'only idle connections left').catch(() => problems.push(`pool: ${JSON.stringify(gw.gateway.stats())}`))
      settle()
      const next = await gw.request(GET)
      next.client.destroy()
      if (next.response.status !== 201) problems.push(`the next request got ${next.response.status}`)
      const last = up.requests[up.requests.length - 1]
      if (last?.message.startLine !== 'GET / HTTP/1.1' || last.message.body.length > 0) {
        problems.push(`the upstream read ${JSON.stringify(last?.raw.toString('latin1'))} for the next request`)
      }
      const posts = up.requests.filter((r) => r.message.startLine.startsWith('POST'))
      if (posts.length > (k === n ? 1 : 0)) problems.push(`${posts.length} complete POSTs reached the upstream`)
      if (posts.some((p) => p.connection === last?.connection)) problems.push('the faulty connection was reused')
    }
  } catch (err) {
    problems.push(String(err))
  } finally {
    settle()
    await gw.gateway.close()
    await up.close()
  }
  return problems.map((p) => `${fault} at ${k}: ${p}`)
}

for (const r of REQUESTS) {
  const raw = r.head + r.body
  for (const fault of ['rst', 'fin', 'stall'] as const) {
    t.test(`${r.name}: client ${fault.toUpperCase()} at every offset of the request`, async (t) => {
      const ks = offsets(raw.length)
      const results = await inBatches(ks, BATCH, (k) => runOffset(t, raw, r.head.length, fault, k))
      t.same(results.flat(), [], `${ks.length} offsets of ${raw.length} bytes`)
    })
  }
}

// ---- while the response streams -------------------------------------------------------------

const BIG = 32 * 1024 * 1024 // more than loopback socket buffers hold: the gateway must wait
const BIG_HEAD = `HTTP/1.1 200 OK\r\nContent-Length: ${BIG}\r\n\r\n`

for (const fault of ['rst', 'fin', 'stall'] as const) {
  t.test(`client ${fault.toUpperCase()} while a large response streams: upstream destroyed`, async (t) => {
    const up = await ScriptedUpstream.start(t, {
      script: [read(), write(BIG_HEAD), write(Buffer.alloc(BIG, 0x61))],
    })
    const g = await startGateway(t, up.url, { timeouts: { idle: 300 } })
    const client = await g.connect()
    client.write(GET)
    await client.bytes(BIG_HEAD.length + 1024)
    if (fault === 'rst') client.socket.resetAndDestroy()
    else if (fault === 'fin') client.end()
    else client.socket.pause()
    const code = fault === 'stall' ? 'CLIENT_TIMEOUT' : 'CLIENT_ABORTED'
    const err = await g.error(code)
    t.equal(err.status, 0, `${code}: aborted, nothing more sent`)
    await up.waitFor(() => up.closedConnections === 1, 'the upstream connection to be destroyed')
    t.ok(client.length < BIG_HEAD.length + BIG, 'the client did not get the whole body')
    await eventually(() => g.gateway.stats().upstream.open === 0, 'the pool to be empty')
    client.destroy()
  })
}

for (const fault of ['rst', 'fin'] as const) {
  t.test(`client ${fault.toUpperCase()} after the exchange completed: the upstream connection is reused`, async (t) => {
    const up = await ScriptedUpstream.start(t, { script: [read(), write(OK)], loop: true })
    const g = await startGateway(t, up.url)
    const first = await g.request(`${REQUESTS[0].head}${REQUESTS[0].body}`)
    t.equal(first.response.status, 201)
    if (fault === 'rst') await resetAfterRead(first.client)
    else first.client.end()
    await eventually(() => g.gateway.stats().clients === 0, 'the client connection to be gone')
    t.same(g.gateway.stats().upstream, { open: 1, idle: 1, waiting: 0 }, 'pooled, healthy')
    const second = await g.request(GET)
    t.equal(second.response.status, 201)
    t.equal(up.connections, 1, 'the next request reused it')
    t.same(g.codes(), [], 'no error reported')
    second.client.destroy()
  })
}

leakCheck(t)
