// End-to-end cases through a real gateway and a recording upstream, as one call each: a client
// request the gateway must refuse itself (and forward nothing of as a request), a request it must
// forward exactly once, an upstream response it must answer with 502, and one it must abort
// after relaying the head. Codes are strings, not ErrorCode, so a test can name a code RULES.md
// has decided before src/errors.ts has it (it then fails on the value, not on the type).

import type { Test } from 'tap'
import type { GatewayError, GatewayOptions } from '../../src/index.js'
import { assertAborted, assertErrorResponse } from './assertions.js'
import { startGateway, type TestGateway } from './gateway.js'
import { field, type ReadMessage } from './http-reader.js'
import { eventually, type RawClient } from './raw-client.js'
import { gate, read, ScriptedUpstream, type Step, write } from './scripted-upstream.js'

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'

/**
 * The error onError saw with `code` (any string), or null after a failed assertion naming the
 * codes it saw. Called once the client has seen the gateway's answer: the gateway reports an
 * error before it writes the error response or aborts, so the short wait only bounds a case that
 * fails anyway.
 */
export async function reported(t: Test, g: TestGateway, code: string): Promise<GatewayError | null> {
  const found = () => g.errors.find((e) => e.code === code) ?? null
  try {
    await eventually(() => found() !== null, `onError to see ${code}`, 1_000)
  } catch {
    t.fail(`onError saw ${code}`, { found: g.codes(), wanted: code })
  }
  return found()
}

export interface RefusedRequest {
  readonly request: string | Buffer
  readonly status: number
  readonly code: string
  /** Send FIN after the request. */
  readonly fin?: boolean
  readonly options?: Omit<GatewayOptions, 'upstream'>
}

/**
 * The gateway answers `status` with `code` (Proxy-Status http_request_error) and closes; the
 * upstream never sees a complete request, and any upstream connection that carried bytes of
 * this one is closed.
 */
export async function expectRefused(t: Test, c: RefusedRequest): Promise<void> {
  const up = await ScriptedUpstream.start(t, { script: [read(), write(OK)], loop: true })
  const g = await startGateway(t, up.url, c.options)
  const client = await g.connect()
  client.write(c.request)
  if (c.fin === true) client.end()
  const response = await client.response()
  assertErrorResponse(t, response, c.status, c.code, 'http_request_error')
  if (response.status !== c.status) {
    // Forwarded or answered otherwise: already a failure; do not wait for a close that won't come.
    t.comment(`upstream saw ${up.requests.length} request(s); onError saw [${g.codes().join(', ')}]`)
    client.destroy()
    return
  }
  t.equal(field(response.headers, 'connection'), 'close', 'Connection: close')
  t.equal(await client.closed(), 'fin', 'then the connection is closed')
  const err = await reported(t, g, c.code)
  if (err === null) return
  t.equal(err.source, 'client', 'GatewayError.source')
  t.equal(up.requests.length, 0, 'no request reached the upstream')
  await eventually(() => {
    const s = g.gateway.stats().upstream
    return s.open === s.idle
  }, 'any upstream connection that carried bytes of the request to be destroyed')
}

/**
 * The gateway forwards `request` as exactly one request and relays the upstream's answer;
 * returns what the upstream received.
 */
export async function expectForwarded(
  t: Test,
  request: string | Buffer,
  options?: Omit<GatewayOptions, 'upstream'>,
): Promise<ReadMessage> {
  const up = await ScriptedUpstream.start(t, { script: [read(), write(OK)], loop: true })
  const g = await startGateway(t, up.url, options)
  const { client, response } = await g.request(request)
  t.equal(response.status, 200, 'the upstream answer is relayed')
  t.equal(response.body.toString(), 'ok')
  client.destroy()
  t.equal(up.requests.length, 1, 'exactly one request reached the upstream')
  t.same(g.codes(), [], 'no error')
  return up.requests[0].message
}

export interface RejectedResponse {
  readonly response: string
  readonly code: string
  /** RFC 9209 error type the code carries. */
  readonly type: string
  readonly request?: string
}

/** The upstream sends `response`: the client gets the gateway's 502 and nothing of the upstream's. */
export async function expect502(t: Test, c: RejectedResponse): Promise<void> {
  const up = await ScriptedUpstream.start(t, { script: [read(), write(c.response)] })
  const g = await startGateway(t, up.url)
  const client = await g.connect()
  client.write(c.request ?? 'GET / HTTP/1.1\r\nHost: example.test\r\n\r\n')
  const response = await client.response()
  assertErrorResponse(t, response, 502, c.code, c.type)
  if (response.status !== 502) {
    client.destroy()
    return
  }
  const err = await reported(t, g, c.code)
  if (err === null) return
  t.equal(err.status, 502, 'GatewayError.status')
  const interim = client.interim.reduce((n, m) => n + m.raw.length, 0)
  t.equal(client.received.length, interim + response.raw.length, 'only interim responses and the 502 arrived')
  await up.waitFor(() => up.closedConnections === 1, 'the upstream connection to be destroyed')
}

export interface AbortedResponse {
  /** The response head and the first body bytes, relayed before anything is wrong. */
  readonly head: string
  readonly body: string
  /** Decoded bytes of `body` (what the client must have before the upstream goes on). */
  readonly decoded: string
  /** What the upstream does once the client has them. */
  readonly next: readonly Step[]
  /** Decoded bytes the gateway may relay before it finds the failure (default: `decoded`). */
  readonly relayable?: string
  readonly code: string
}

/** The head is relayed, then the upstream breaks a body rule: the client connection is aborted. */
export async function expectAbort(t: Test, c: AbortedResponse): Promise<void> {
  let client: RawClient | null = null
  const up = await ScriptedUpstream.start(t, {
    script: [
      read(),
      write(c.head + c.body),
      // Go on only once the client has the head and the first body bytes: the failure is then
      // certainly found after the head was relayed.
      gate(() => (client as RawClient).bytes(c.head.length + c.decoded.length)),
      ...c.next,
    ],
  })
  const g = await startGateway(t, up.url, { timeouts: { idle: 2_000 } })
  client = await g.connect()
  client.write('GET / HTTP/1.1\r\nHost: example.test\r\n\r\n')
  await assertAborted(t, client, { relayable: c.relayable ?? c.decoded })
  const err = await reported(t, g, c.code)
  if (err === null) return
  t.equal(err.status, 0, 'GatewayError.status 0: the client connection was aborted')
  t.same(g.codes(), [c.code], 'exactly one error reported')
  await up.waitFor(() => up.closedConnections === 1, 'the upstream connection to be destroyed')
}

/** A chunked response whose first chunk ("first") is relayed before the upstream sends `next`. */
export function expectChunkedAbort(t: Test, next: readonly Step[], code: string, relayable?: string): Promise<void> {
  return expectAbort(t, {
    head: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
    body: '5\r\nfirst\r\n',
    decoded: 'first',
    relayable,
    next,
    code,
  })
}
