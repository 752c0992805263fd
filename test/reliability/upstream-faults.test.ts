// Upstream faults at every byte offset k of a set of responses: the upstream writes the first k
// bytes, then ends (FIN), resets (RST) or stalls until the gateway's timeout. For every k the
// client outcome must be the one RULES.md allows for it, and nothing else:
//   - a 502/504 from the gateway, only while no byte of the final head was relayed (k < head end);
//   - the complete, correct response (k = all bytes; or a close-delimited body ended by FIN);
//   - a visibly incomplete response: the connection ends before the framing says the body did.
// Never a response that looks complete but is not, and the misbehaving upstream connection is
// never used again: the next request goes out on a new one (STYLE.md §10: every split offset).
//
// Each offset gets its own gateway and upstream (one connection script per offset), run
// concurrently in bounded batches.

import t, { type Test } from 'tap'
import type { ErrorCode } from '../../src/index.js'
import { inBatches, offsets, sampleOffsets } from '../helpers/batches.js'
import { startGateway } from '../helpers/gateway.js'
import { type Fields, field, type ReadMessage } from '../helpers/http-reader.js'
import { eventually } from '../helpers/raw-client.js'
import { leakCheck } from '../helpers/resources.js'
import {
  awaitClose,
  end,
  gatewayRead,
  read,
  reset,
  ScriptedUpstream,
  type Step,
  write,
} from '../helpers/scripted-upstream.js'

const GET = 'GET / HTTP/1.1\r\nHost: example.test\r\n\r\n'
const OK_2 = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'
const BATCH = 16

interface ResponseCase {
  readonly name: string
  readonly request: string
  /** Every byte the upstream sends for a complete exchange. */
  readonly response: string
  /** The bytes up to and including the final head (interim responses included). */
  readonly finalHead: string
  /** The request was HEAD: the client reads no body. */
  readonly head?: boolean
  /** No framing: the body ends at FIN. */
  readonly closeDelimited?: boolean
  /** Trailers the client (which sent `TE: trailers`) gets. */
  readonly trailers?: Fields
}

const CHUNKED_HEAD = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n'
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n'

const CASES: ResponseCase[] = [
  {
    name: 'Content-Length body',
    request: GET,
    finalHead: 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n',
    response: 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789',
  },
  {
    name: 'chunked body with trailers',
    request: 'GET / HTTP/1.1\r\nHost: example.test\r\nTE: trailers\r\n\r\n',
    finalHead: CHUNKED_HEAD,
    response: `${CHUNKED_HEAD}5\r\nhello\r\n6\r\n world\r\n0\r\nX-T: v\r\n\r\n`,
    trailers: [['x-t', 'v']],
  },
  {
    name: 'close-delimited body',
    request: GET,
    finalHead: 'HTTP/1.1 200 OK\r\nX-A: b\r\n\r\n',
    response: 'HTTP/1.1 200 OK\r\nX-A: b\r\n\r\nhello world',
    closeDelimited: true,
  },
  {
    name: '100 Continue, then the final response',
    request: 'POST /up HTTP/1.1\r\nHost: example.test\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello',
    finalHead: `${CONTINUE}HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n`,
    response: `${CONTINUE}HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok`,
  },
  {
    name: 'response to HEAD',
    request: 'HEAD / HTTP/1.1\r\nHost: example.test\r\n\r\n',
    finalHead: 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n',
    response: 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n',
    head: true,
  },
]

type Fault = 'fin' | 'rst' | 'stall'

/**
 * What the client must see when the upstream does `fault` after k bytes. On a reused (pooled)
 * connection, a close before any response byte is retried once on a fresh one (RFC 9112 §9.3.1).
 */
function expected(c: ResponseCase, fault: Fault, k: number, reused: boolean): string {
  const n = c.response.length
  if (reused && k === 0 && fault !== 'stall') return 'complete'
  if (k < c.finalHead.length) {
    return fault === 'stall' ? 'error 504 UPSTREAM_RESPONSE_TIMEOUT' : 'error 502 UPSTREAM_CLOSED'
  }
  if (c.head === true) return 'complete' // the head is the whole response
  if (fault === 'fin' && c.closeDelimited === true) return 'complete' // FIN is its end (RFC 9112 §6.3(8))
  if (k === n && fault !== 'stall' && c.closeDelimited !== true) return 'complete'
  return fault === 'stall' ? 'incomplete UPSTREAM_IDLE_TIMEOUT' : 'incomplete UPSTREAM_TRUNCATED_BODY'
}

function script(c: ResponseCase, fault: Fault, k: number): Step[] {
  const prefix = write(c.response.slice(0, k))
  switch (fault) {
    case 'fin':
      return [read(), prefix, end()]
    case 'rst':
      // On Linux a RST right behind unread data reads as FIN at the peer: let the gateway read it first.
      return [read(), prefix, gatewayRead(), reset()]
    case 'stall':
      return [read(), prefix, awaitClose()]
  }
}

/** The decoded body and trailers of the complete response, as the client must see them. */
function correct(c: ResponseCase, k: number): { status: number; body: string } {
  const status = Number(c.finalHead.slice(c.finalHead.lastIndexOf('HTTP/1.1 ') + 9).slice(0, 3))
  if (c.head === true) return { status, body: '' }
  const raw = c.response.slice(c.finalHead.length, k)
  if (c.trailers === undefined) return { status, body: raw }
  return { status, body: 'hello world' }
}

async function runOffset(t: Test, c: ResponseCase, fault: Fault, k: number, reused = false): Promise<string[]> {
  const problems: string[] = []
  // Reused: connection 0 first serves a request cleanly (so it is pooled), then misbehaves; a
  // retry gets the complete response on connection 1.
  const up = await ScriptedUpstream.start(t, {
    script: (i) =>
      i === 0
        ? reused
          ? [read(), write(OK_2), ...script(c, fault, k)]
          : script(c, fault, k)
        : reused
          ? [read(), write(c.response), read(), write(OK_2)]
          : [read(), write(OK_2)],
    loop: false,
  })
  const timeouts = fault === 'stall' ? { response: 250, idle: 250 } : {}
  const g = await startGateway(t, up.url, { timeouts })
  try {
    const client = await g.connect()
    if (reused) {
      client.write(GET)
      await client.response()
    }
    client.write(c.request)
    let response: ReadMessage | null = null
    let outcome = 'no response'
    try {
      response = await client.response({ head: c.head })
    } catch (err) {
      outcome = `no response: ${String(err)}`
    }
    if (response !== null) {
      const proxyStatus = field(response.headers, 'proxy-status') ?? ''
      if ((response.status === 502 || response.status === 504) && proxyStatus.startsWith('strictgate')) {
        const code = /details="([A-Z_]+)"/.exec(proxyStatus)?.[1] ?? '?'
        outcome = `error ${response.status} ${code}`
        if (!response.complete) problems.push('the error response itself is incomplete')
      } else if (!response.complete) {
        await client.closed()
        const codes = g.codes().filter((code: ErrorCode) => code !== 'CLIENT_ABORTED')
        outcome = `incomplete ${codes.join(',')}`
        const want = correct(c, c.response.length).body
        if (!want.startsWith(response.body.toString('latin1'))) problems.push('the partial body is not a prefix')
        const body = response.raw.subarray(response.raw.indexOf('\r\n\r\n') + 4)
        if (response.framing === 'chunked' && body.includes('0\r\n\r\n')) problems.push('a terminal chunk was written')
      } else {
        const want = correct(c, reused && k === 0 ? c.response.length : k)
        const trailers = response.trailers.map(([n, v]) => [n.toLowerCase(), v])
        const ok =
          response.status === want.status &&
          response.body.toString('latin1') === want.body &&
          JSON.stringify(trailers) === JSON.stringify(c.trailers ?? [])
        outcome = ok ? 'complete' : `looks complete but is wrong: ${JSON.stringify(response.raw.toString('latin1'))}`
      }
    }
    const got = outcome
    const want = expected(c, fault, k, reused)
    const retried = reused && k === 0 && fault !== 'stall'
    if (got !== want) problems.push(`got ${got}, want ${want}`)
    client.destroy()

    // The pool: a connection that misbehaved is closed and never used again.
    if (want !== 'complete' || retried) {
      await up.waitFor(() => up.endings[0] !== undefined, 'the faulty upstream connection to close')
    }
    const next = await g.request(GET)
    next.client.destroy()
    const nextBody = next.response.body.toString('latin1')
    if (next.response.status !== 200 || !(nextBody === 'ok' || (reused && next.response.complete))) {
      problems.push(`the next request got ${next.response.status} ${next.response.body.toString()}`)
    }
    if (want !== 'complete' || retried) {
      if (up.connections !== 2) problems.push(`next request on ${up.connections} connections, want a new one`)
      const onFaulty = up.requests.filter((r) => r.connection === 0).length
      if (onFaulty !== (reused ? 2 : 1)) problems.push(`${onFaulty} requests on the faulty connection`)
    }
    await eventually(() => g.gateway.stats().upstream.open <= 1, 'at most the healthy upstream connection open')
  } finally {
    await g.gateway.close()
    await up.close()
  }
  return problems.map((p) => `${fault} at ${k}: ${p}`)
}

for (const c of CASES) {
  for (const fault of ['fin', 'rst', 'stall'] as const) {
    const n = c.response.length
    // A stall needs a timeout to fire: sample it; FIN and RST run at every offset.
    const ks = fault === 'stall' ? sampleOffsets(n, 8) : offsets(n)
    t.test(
      `${c.name}: ${fault.toUpperCase()} at ${fault === 'stall' ? 'sampled offsets' : 'every offset'}`,
      async (t) => {
        const results = await inBatches(ks, BATCH, (k) => runOffset(t, c, fault, k))
        t.same(results.flat(), [], `${ks.length} offsets of ${n} bytes: each outcome as allowed`)
      },
    )
  }
}

// The same faults on a pooled connection: a close before any response byte is retried once.
const CL = CASES[0]
for (const fault of ['fin', 'rst', 'stall'] as const) {
  const n = CL.response.length
  const ks = fault === 'stall' ? sampleOffsets(n, 6) : offsets(n)
  t.test(`${CL.name} on a reused connection: ${fault.toUpperCase()} at ${ks.length} offsets`, async (t) => {
    const results = await inBatches(ks, BATCH, (k) => runOffset(t, CL, fault, k, true))
    t.same(results.flat(), [], `${ks.length} offsets of ${n} bytes: each outcome as allowed`)
  })
}

leakCheck(t)
