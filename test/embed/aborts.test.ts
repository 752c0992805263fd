// 1,000 clients abort mid-response through every server kind: each exchange ends as
// CLIENT_ABORTED, its upstream connection is destroyed (never pooled), and afterwards the gateway
// holds no exchange, the process no more sockets or timers, and the heap no more memory than
// before them.
import http2 from 'node:http2'
import net from 'node:net'
import tls from 'node:tls'
import t, { type Test } from 'tap'
import {
  type Front,
  SERVER_KINDS,
  type ServerKind,
  skipFor,
  startFront,
  watchProcessErrors,
} from '../helpers/embedded.js'
import { held } from '../helpers/memory.js'
import { eventually } from '../helpers/raw-client.js'
import { leakCheck } from '../helpers/resources.js'
import { selfSigned } from '../helpers/tls-certs.js'

const processErrors = watchProcessErrors(t)

const ABORTS = 1_000
const WARMUP = 100
const CONCURRENCY = 10
const STREAMS_PER_SESSION = 100
const MiB = 1024 * 1024
const HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n'
const PART = Buffer.alloc(16 * 1024, 0x61)

/** Sockets and timers of this process (what a leaked exchange would hold on to). */
function resources(): Record<string, number> {
  const out: Record<string, number> = { TCPSocketWrap: 0, Timeout: 0 }
  for (const kind of process.getActiveResourcesInfo()) if (kind in out) out[kind]++
  return out
}

/** One client: request, wait for the first response bytes, then go away (FIN or RST, alternately). */
function abortOnce(kind: ServerKind, port: number, i: number, session: http2.ClientHttp2Session | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (session !== null) {
      const stream = session.request({ ':path': `/abort/${i}` })
      stream.once('data', () => stream.close(http2.constants.NGHTTP2_CANCEL))
      stream.on('error', () => {})
      stream.once('close', () => resolve())
      return
    }
    const socket: net.Socket =
      kind === 'http2 (HTTP/1.1 client)'
        ? tls.connect({ port, host: '127.0.0.1', ca: selfSigned().cert, ALPNProtocols: ['http/1.1'] })
        : net.connect({ port, host: '127.0.0.1' })
    socket.write(`GET /abort/${i} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
    socket.once('data', () => {
      if (i % 2 === 0 && !(socket instanceof tls.TLSSocket)) socket.resetAndDestroy()
      else socket.destroy()
    })
    socket.on('error', reject)
    socket.once('close', () => resolve())
  })
}

/**
 * `n` aborts, CONCURRENCY at a time. HTTP/2: streams on a session, a new session every
 * STREAMS_PER_SESSION (a server rightly sends GOAWAY to a client resetting streams without end,
 * CVE-2023-44487).
 */
async function abortMany(t: Test, front: Front, kind: ServerKind, from: number, n: number) {
  let next = from
  let session: http2.ClientHttp2Session | null = null
  const sessionFor = (i: number): http2.ClientHttp2Session | null => {
    if (kind !== 'http2') return null
    if (session === null || i % STREAMS_PER_SESSION === 0) {
      session?.close()
      const s = http2.connect(`https://127.0.0.1:${front.port}`, { ca: selfSigned().cert })
      s.on('error', () => {})
      t.teardown(() => s.destroy())
      session = s
    }
    return session
  }
  const worker = async () => {
    while (next < from + n) {
      const i = next++
      await abortOnce(kind, front.port, i, sessionFor(i))
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  ;(session as http2.ClientHttp2Session | null)?.close()
}

for (const kind of SERVER_KINDS) {
  t.test(`${kind}: ${ABORTS} client aborts mid-response leave nothing behind`, { skip: skipFor(kind) }, async (t) => {
    let upstreamOpen = 0
    const upstream = net.createServer((socket) => {
      upstreamOpen++
      socket.on('close', () => upstreamOpen--)
      socket.on('error', () => {})
      // Head and part of the body, then nothing: the client goes away mid-response.
      socket.once('data', () => socket.write(Buffer.concat([Buffer.from(HEAD), PART])))
    })
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    t.teardown(() => new Promise<void>((resolve) => upstream.close(() => resolve())))
    const url = `http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`
    const front = await startFront(t, kind, url)
    const quiet = async (n: number) => {
      await front.settled(n)
      await eventually(() => {
        const { embedded, upstream: up } = front.gateway.stats()
        return embedded === 0 && up.open === 0 && upstreamOpen === 0
      }, 'no embedded exchange and no upstream connection left')
    }

    await abortMany(t, front, kind, 0, WARMUP)
    await quiet(WARMUP)
    front.results.length = 0
    front.errors.length = 0
    const before = await held()
    const resourcesBefore = resources()

    await abortMany(t, front, kind, WARMUP, ABORTS)
    await quiet(ABORTS)
    const codes = new Map<string, number>()
    for (const r of front.results)
      codes.set(`${r.status} ${r.error?.code}`, (codes.get(`${r.status} ${r.error?.code}`) ?? 0) + 1)
    t.same([...codes], [['0 CLIENT_ABORTED', ABORTS]], 'every proxy() resolved: status 0, CLIENT_ABORTED')
    t.equal(front.errors.length, ABORTS, 'onError once per abort')
    t.ok(
      front.errors.every((e) => e.code === 'CLIENT_ABORTED'),
      'and nothing else',
    )
    t.equal(front.gateway.stats().upstream.idle, 0, 'no aborted upstream connection went back to the pool')
    // What the test itself keeps goes before memory is measured: an error retains what its
    // stack trace saw (V8 keeps the frames' receivers until `.stack` is first read).
    front.results.length = 0
    front.errors.length = 0

    // Closed handles leave the list a few turns later: poll (bounded) rather than sleep.
    await eventually(
      () => {
        const now = resources()
        return now.TCPSocketWrap <= resourcesBefore.TCPSocketWrap && now.Timeout <= resourcesBefore.Timeout
      },
      `sockets and timers back to ${JSON.stringify(resourcesBefore)} (now ${JSON.stringify(resources())})`,
    ).then(
      () => t.pass('sockets and timers back to where they were'),
      (err: Error) => t.fail(err.message),
    )
    const after = await held()
    // 1,000 leaked exchanges (request, response, socket, client object) would hold several MiB.
    t.ok(
      after - before < 3 * MiB,
      `heap and Buffer memory held after GC: ${((after - before) / MiB).toFixed(2)} MiB more after ${ABORTS} aborts`,
    )
  })
}

processErrors.check()
leakCheck(t)
