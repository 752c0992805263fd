// Failures through every server kind: broken upstreams answered with the gateway's own 502/504
// through `res` (or a visible abort once the head is out), onError told exactly once, proxy()
// resolving (never rejecting) with what the client got; a body a body parser already read;
// requests our rules refuse although Node's parser took them.
import { performance } from 'node:perf_hooks'
import t from 'tap'
import type { GatewayError } from '../../src/index.js'
import { assertErrorResponse } from '../helpers/assertions.js'
import {
  assertErrorPage,
  SERVER_KINDS,
  skipFor,
  startFront,
  TLS_KINDS,
  values,
  watchProcessErrors,
} from '../helpers/embedded.js'
import { fieldValues } from '../helpers/http-reader.js'
import { readBody, startHttpUpstream } from '../helpers/http-upstream.js'
import { refusedPort } from '../helpers/ports.js'
import { rawRequest } from '../helpers/raw-client.js'
import { leakCheck } from '../helpers/resources.js'
import { end, read, ScriptedUpstream, stall, write } from '../helpers/scripted-upstream.js'

const processErrors = watchProcessErrors(t)

function ignore(): void {
  // (The test upstream's request was cut off by the gateway, as the test intends.)
}

interface Broken {
  name: string
  /** The upstream's bytes (a scripted upstream), 'refused', or 'stall' (no answer). */
  response: string | 'refused' | 'stall'
  code: string
  /** 502/504 answered, or 0: the head was out, the client sees an abort. */
  status: number
  type: string
}

const BROKEN: Broken[] = [
  {
    name: 'invalid status code',
    response: 'HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n',
    code: 'UPSTREAM_INVALID_STATUS_CODE',
    status: 502,
    type: 'http_protocol_error',
  },
  {
    name: 'invalid field (space before the colon)',
    response: 'HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok',
    code: 'UPSTREAM_INVALID_HEADER',
    status: 502,
    type: 'http_protocol_error',
  },
  {
    name: 'Content-Length with Transfer-Encoding',
    response: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    code: 'UPSTREAM_INVALID_FRAMING',
    status: 502,
    type: 'http_protocol_error',
  },
  {
    name: 'truncated body (after the head: abort)',
    response: 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789',
    code: 'UPSTREAM_TRUNCATED_BODY',
    status: 0,
    type: 'http_response_incomplete',
  },
  {
    name: 'connection refused',
    response: 'refused',
    code: 'UPSTREAM_CONNECT_REFUSED',
    status: 502,
    type: 'connection_refused',
  },
  {
    name: 'no response head within timeouts.response',
    response: 'stall',
    code: 'UPSTREAM_RESPONSE_TIMEOUT',
    status: 504,
    type: 'http_response_timeout',
  },
]

for (const kind of SERVER_KINDS) {
  t.test(kind, { skip: skipFor(kind) }, async (t) => {
    for (const broken of BROKEN) {
      t.test(`broken upstream: ${broken.name}`, async (t) => {
        let url: string
        if (broken.response === 'refused') url = `http://127.0.0.1:${await refusedPort()}`
        else {
          const steps =
            broken.response === 'stall'
              ? [read(), stall(5_000)]
              : [read(), write(broken.response), ...(broken.status === 0 ? [end()] : [stall(5_000)])]
          url = (await ScriptedUpstream.start(t, { script: steps })).url
        }
        const front = await startFront(t, kind, url, { timeouts: { response: 300 } })
        const res = await front.request({ path: '/broken' })
        if (broken.status === 0) {
          t.equal(res.status, 200, 'the head was relayed')
          t.notOk(res.complete, 'then the truncation is visible (abort, not a clean end)')
          t.ok(
            res.body.length <= 10 && '0123456789'.startsWith(res.body.toString()),
            'no byte the upstream did not send',
          )
        } else {
          assertErrorPage(t, res, broken.status, broken.code, broken.type)
        }
        const [result] = await front.settled(1)
        t.equal(result.status, broken.status, 'proxy() resolved with what the client got')
        t.equal(result.error?.code, broken.code)
        t.same(
          front.errors.map((e) => [e.code, e.status]),
          [[broken.code, broken.status]],
          'onError exactly once',
        )
      })
    }

    t.test('a body parser ran first: GATEWAY_BODY_CONSUMED at once, or its result sent with `body`', async (t) => {
      const up = await startHttpUpstream(t, (req, res) => {
        void readBody(req).then((body) => res.end(`${req.headers['content-length']} ${body}`), ignore)
      })
      const consumed = await startFront(t, kind, up.url, { bodyParser: 'consume' })
      // Baseline: a request without a body goes through.
      const get = await consumed.request({ path: '/get' })
      t.equal(get.status, 200)
      const started = performance.now()
      const res = await consumed.request({ method: 'POST', path: '/post', body: Buffer.from('{"a":1}') })
      const elapsed = performance.now() - started
      assertErrorPage(t, res, 500, 'GATEWAY_BODY_CONSUMED', 'proxy_internal_error')
      // The issue asks for 100 ms; 2 s here because this 2-core machine is shared. What matters
      // is that it is not a timeout: timeouts.response and .idle are 8 s in these tests.
      t.ok(elapsed < 2_000, `answered at once, not after a timeout: ${elapsed.toFixed(0)} ms`)
      t.equal(up.connections, 1, 'nothing of the POST was forwarded (the one connection is the GET)')
      t.same(
        consumed.errors.map((e) => e.code),
        ['GATEWAY_BODY_CONSUMED'],
      )
      t.same(
        (await consumed.settled(2)).map((r) => [r.status, r.error?.code]),
        [
          [200, undefined],
          [500, 'GATEWAY_BODY_CONSUMED'],
        ],
      )

      const resent = await startFront(t, kind, up.url, { bodyParser: 'resend' })
      const ok = await resent.request({ method: 'POST', path: '/post', body: Buffer.from('{"a":1}') })
      t.equal(ok.status, 200)
      t.equal(ok.body.toString(), '7 {"a":1}', 'the parsed body was sent, with its Content-Length')
      const chunked = await resent.request({
        method: 'POST',
        path: '/post',
        body: [Buffer.from('ab'), Buffer.from('cd')],
      })
      t.equal(chunked.body.toString(), '4 abcd', 'a chunked upload is sent with a Content-Length')
      t.same(resent.errors, [])
    })

    t.test("onError's custom page goes out through res", async (t) => {
      const front = await startFront(t, kind, `http://127.0.0.1:${await refusedPort()}`, {
        onError: () => ({
          status: 503,
          headers: { 'Content-Type': 'text/html', 'X-Page': 'custom' },
          body: '<h1>down</h1>',
        }),
      })
      const res = await front.request({ path: '/' })
      t.equal(res.status, 503)
      t.equal(res.body.toString(), '<h1>down</h1>')
      t.same(values(res.headers, 'content-type'), ['text/html'])
      t.same(values(res.headers, 'x-page'), ['custom'])
      t.same(values(res.headers, 'proxy-status'), [
        'strictgate; error=connection_refused; details="UPSTREAM_CONNECT_REFUSED"',
      ])
      const [result] = await front.settled(1)
      t.equal(result.status, 503, 'the status the client got')
    })

    t.test('a request body over limits.maxRequestBodyBytes: 413', async (t) => {
      // (The gateway drops the upstream connection mid-body when it refuses a chunked body.)
      const up = await startHttpUpstream(t, (req, res) => void readBody(req).then(() => res.end('read'), ignore))
      const front = await startFront(t, kind, up.url, { limits: { maxRequestBodyBytes: 1000 } })
      const declared = await front.request({ method: 'POST', path: '/', body: Buffer.alloc(2000, 0x61) })
      assertErrorPage(t, declared, 413, 'CLIENT_BODY_TOO_LARGE', 'http_request_error')
      const chunked = await front.request({
        method: 'POST',
        path: '/',
        body: [Buffer.alloc(600, 0x61), Buffer.alloc(600)],
      })
      t.equal(chunked.status, 413, 'a chunked body is held to the limit as it arrives')
      t.same(
        front.errors.map((e) => e.code),
        ['CLIENT_BODY_TOO_LARGE', 'CLIENT_BODY_TOO_LARGE'],
      )
    })
  })
}

// Two Host fields, which Node's parser lets through: written as raw bytes (node:http's client
// will not send them), so over the plain-TCP kinds; an HTTP/2 client cannot send them at all
// (:authority is one pseudo-header).
for (const kind of SERVER_KINDS.filter((k) => !TLS_KINDS.includes(k))) {
  t.test(
    `${kind}: a request Node accepts and our rules refuse gets 400, nothing forwarded`,
    { skip: skipFor(kind) },
    async (t) => {
      const up = await startHttpUpstream(t, (_req, res) => res.end('forwarded'))
      const front = await startFront(t, kind, up.url)
      const bytes = 'GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n'
      const { client, response } = await rawRequest(t, front.port, bytes)
      assertErrorResponse(t, response, 400, 'CLIENT_INVALID_HEADER', 'http_request_error')
      t.same(fieldValues(response.headers, 'connection'), ['close'], 'the connection does not go on')
      t.equal(await client.closed(), 'fin', 'and is closed')
      t.equal(up.connections, 0, 'nothing forwarded')
      const [result] = await front.settled(1)
      t.equal(result.error?.code, 'CLIENT_INVALID_HEADER')
    },
  )
}

t.test(
  'http2: a head HTTP/2 cannot carry (two Content-Type lines) is a 502, not a crash',
  { skip: skipFor('http2') },
  async (t) => {
    const up = await ScriptedUpstream.start(t, {
      script: [
        read(),
        write('HTTP/1.1 200 OK\r\nContent-Type: a/b\r\nContent-Type: c/d\r\nContent-Length: 2\r\n\r\nok'),
      ],
      loop: true,
    })
    const front = await startFront(t, 'http2', up.url)
    const res = await front.request({ path: '/' })
    assertErrorPage(t, res, 502, 'UPSTREAM_INVALID_HEADER', 'http_protocol_error')
    t.match((front.errors[0] as GatewayError).message, /cannot be relayed/)
    // The same head reaches an HTTP/1.1 client of the same server as it is.
    const h1 = await startFront(t, 'node:http', up.url)
    const relayed = await h1.request({ path: '/' })
    t.same(values(relayed.headers, 'content-type'), ['a/b', 'c/d'])
  },
)

processErrors.check()
leakCheck(t)
