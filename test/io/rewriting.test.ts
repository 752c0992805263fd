// Rewriting through a real gateway (gateway mode): route() objects (path, host, headers),
// changeOrigin, onResponse, rewriteLocation, cookieDomain / cookiePath; every invalid edit is
// a 502 GATEWAY_INTERNAL_ERROR with nothing forwarded, or a TypeError at createGateway.

import https from 'node:https'
import type { AddressInfo } from 'node:net'
import tls from 'node:tls'
import fc from 'fast-check'
import t from 'tap'
import { createGateway, type GatewayOptions } from '../../src/index.js'
import { assertErrorResponse } from '../helpers/assertions.js'
import { startGateway } from '../helpers/gateway.js'
import { type Fields, fieldValues } from '../helpers/http-reader.js'
import { leakCheck } from '../helpers/resources.js'
import { numRuns } from '../helpers/runs.js'
import { read, ScriptedUpstream, write } from '../helpers/scripted-upstream.js'
import { needsOpenssl, privateCa } from '../helpers/tls-certs.js'

const GET = 'GET /api/items?x=1 HTTP/1.1\r\nHost: public.test\r\nAccept: */*\r\nX-Drop: 1\r\n\r\n'
const OK = 'HTTP/1.1 200 OK\r\nServer: app/1.0\r\nContent-Length: 2\r\n\r\nok'

async function upstream(t: Parameters<typeof startGateway>[0], response = OK) {
  return ScriptedUpstream.start(t, { script: [read(), write(response)], loop: true })
}

const names = (headers: Fields) => headers.map(([n]) => n.toLowerCase())

t.test('route object: path, host and headers reshape the request; Via stays the gateway’s', async (t) => {
  const up = await upstream(t)
  const g = await startGateway(t, up.url, {
    route: (req) => ({
      path: req.target.replace(/^\/api/, ''),
      host: 'internal.test:8080',
      headers: { 'X-Drop': null, 'X-Added': ['a', 'b'], Accept: 'application/json' },
    }),
  })
  const { response } = await g.request(GET)
  t.equal(response.status, 200)
  const seen = up.requests[0].message
  t.equal(seen.startLine, 'GET /items?x=1 HTTP/1.1')
  // Received fields minus the edited ones, in order; then the edits' lines, in edit order.
  t.same(seen.headers, [
    ['Host', 'internal.test:8080'],
    ['X-Added', 'a'],
    ['X-Added', 'b'],
    ['Accept', 'application/json'],
    ['Via', '1.1 strictgate'],
  ])
})

t.test("host 'target', changeOrigin, and a route's host over changeOrigin", async (t) => {
  const up = await upstream(t)
  const target = up.url.replace('http://', '')
  const viaRoute = await startGateway(t, up.url, { route: () => ({ host: 'target' }) })
  await viaRoute.request(GET)
  const changeOrigin = await startGateway(t, up.url, { changeOrigin: true })
  await changeOrigin.request(GET)
  const override = await startGateway(t, up.url, { changeOrigin: true, route: () => ({ host: 'chosen.test' }) })
  await override.request(GET)
  t.same(
    up.requests.map((r) => fieldValues(r.message.headers, 'host')),
    [[target], [target], ['chosen.test']],
  )
  t.equal(up.requests[1].message.startLine, 'GET /api/items?x=1 HTTP/1.1', 'changeOrigin leaves the path alone')
})

t.test('an HTTP/1.0 request without Host gets the rewritten Host, once', async (t) => {
  const up = await upstream(t)
  const g = await startGateway(t, up.url, { route: () => ({ host: 'h.test' }) })
  await g.request('GET /x HTTP/1.0\r\n\r\n')
  t.same(fieldValues(up.requests[0].message.headers, 'host'), ['h.test'])
})

const BAD_ROUTES: [string, unknown][] = [
  ['a path with a space', { path: '/a b' }],
  ['a path with a fragment', { path: '/a#b' }],
  ['a path that is not origin-form', { path: 'a' }],
  ['"*" for GET', { path: '*' }],
  ['a host with userinfo', { host: 'user@h.test' }],
  ['a host with CR LF', { host: 'h.test\r\nX-Evil: 1' }],
  ['an empty host', { host: '' }],
  ['a value with CR LF', { headers: { 'X-A': 'a\r\nX-Evil: 1' } }],
  ['a value with NUL', { headers: { 'X-A': 'a\x00b' } }],
  ['a name that is not a token', { headers: { 'X A': 'b' } }],
  ['Content-Length', { headers: { 'Content-Length': '0' } }],
  ['Transfer-Encoding', { headers: { 'Transfer-Encoding': 'chunked' } }],
  ['removing Connection', { headers: { Connection: null } }],
  ['Host through headers', { headers: { Host: 'h.test' } }],
  ['Via while the gateway adds it', { headers: { Via: 'x' } }],
  ['an unknown target', { target: 'http://127.0.0.1:1' }],
  ['an unknown key', { pathh: '/x' }],
  ['a number', 42],
]

for (const [what, result] of BAD_ROUTES) {
  t.test(`route returning ${what} → 502 GATEWAY_INTERNAL_ERROR, nothing forwarded`, async (t) => {
    const up = await upstream(t)
    const g = await startGateway(t, up.url, { route: () => result as never })
    const { response } = await g.request(GET)
    assertErrorResponse(t, response, 502, 'GATEWAY_INTERNAL_ERROR', 'proxy_internal_error')
    const err = await g.error('GATEWAY_INTERNAL_ERROR')
    t.match(err.message, /^route hook/, `the reason: ${err.message}`)
    t.equal(up.connections, 0, 'the upstream saw nothing')
  })
}

t.test('X-Forwarded-* cannot be edited while the gateway adds them; can be when it does not', async (t) => {
  const up = await upstream(t)
  const on = await startGateway(t, up.url, {
    xForwarded: true,
    route: () => ({ headers: { 'X-Forwarded-For': '1.2.3.4' } }),
  })
  assertErrorResponse(t, (await on.request(GET)).response, 502, 'GATEWAY_INTERNAL_ERROR', 'proxy_internal_error')
  const off = await startGateway(t, up.url, { route: () => ({ headers: { 'X-Forwarded-For': '1.2.3.4' } }) })
  t.equal((await off.request(GET)).response.status, 200)
  t.same(fieldValues(up.requests[0].message.headers, 'x-forwarded-for'), ['1.2.3.4'])
})

t.test('onResponse: gains security headers, loses Server; sees a read-only copy; not for 1xx', async (t) => {
  const up = await upstream(t, `HTTP/1.1 100 Continue\r\n\r\n${OK}`)
  const seen: unknown[] = []
  const g = await startGateway(t, up.url, {
    onResponse(response, request) {
      seen.push({ status: response.status, target: request.target, frozen: Object.isFrozen(response.headers) })
      t.throws(() => {
        ;(response.headers as [string, string][]).push(['X', 'y'])
      }, 'the copy cannot be changed')
      return { headers: { Server: null, 'Strict-Transport-Security': 'max-age=63072000', 'X-Frame-Options': 'DENY' } }
    },
  })
  const { response, client } = await g.request(GET)
  t.same(seen, [{ status: 200, target: '/api/items?x=1', frozen: true }], 'once, for the final response')
  t.same(
    client.interim.map((m) => m.status),
    [100],
    'the 1xx relayed as it was',
  )
  t.same(names(response.headers), ['strict-transport-security', 'x-frame-options', 'via', 'content-length'])
  t.equal(response.body.toString(), 'ok')
})

for (const [what, hook] of [
  ['a value with CR LF', () => ({ headers: { 'X-A': 'a\r\nSet-Cookie: x=1' } })],
  ['Content-Length', () => ({ headers: { 'Content-Length': '5' } })],
  ['Transfer-Encoding removed', () => ({ headers: { 'Transfer-Encoding': null } })],
  ['an unknown key', () => ({ status: 500 })],
  [
    'a throw',
    () => {
      throw new Error('boom')
    },
  ],
] as const) {
  t.test(`onResponse with ${what} → 502 GATEWAY_INTERNAL_ERROR, nothing of the response relayed`, async (t) => {
    const up = await upstream(t, 'HTTP/1.1 200 OK\r\nX-Secret: s3cr3t\r\nContent-Length: 6\r\n\r\nsecret')
    const g = await startGateway(t, up.url, { onResponse: hook as never })
    const { response, client } = await g.request(GET)
    assertErrorResponse(t, response, 502, 'GATEWAY_INTERNAL_ERROR', 'proxy_internal_error')
    t.notOk(client.received.includes('s3cr3t'), 'no byte of the upstream response')
    t.notOk(client.received.includes('secret'))
    t.match((await g.error('GATEWAY_INTERNAL_ERROR')).message, /^onResponse hook: /)
    await up.waitFor(() => up.closedConnections === 1, 'the upstream connection to be dropped')
  })
}

t.test('rewriteLocation: the target origin becomes the client-facing one; others left alone', async (t) => {
  const cases = (origin: string, port: string): [string, string][] => [
    [`${origin}/next?a=1`, 'http://public.test/next?a=1'],
    [`HTTP://127.0.0.1:${port}`, 'http://public.test'],
    ['/relative', '/relative'],
    ['http://other.test/x', 'http://other.test/x'],
    [`https://127.0.0.1:${port}/x`, `https://127.0.0.1:${port}/x`],
  ]
  for (let i = 0; i < 5; i++) {
    let location = ''
    const up = await ScriptedUpstream.start(t, {
      script: () => [
        read(),
        write(
          `HTTP/1.1 302 Found\r\nLocation: ${location}\r\nContent-Location: ${location}\r\nContent-Length: 0\r\n\r\n`,
        ),
      ],
    })
    const [value, expected] = cases(up.url, String(up.port))[i]
    location = value
    const g = await startGateway(t, up.url, { rewriteLocation: true })
    const { response, client } = await g.request(GET)
    t.same(fieldValues(response.headers, 'location'), [expected], value)
    t.same(fieldValues(response.headers, 'content-location'), [expected])
    client.destroy()
  }
})

t.test(
  'rewriteLocation on a TLS client connection: the client-facing origin is https',
  { skip: needsOpenssl },
  async (t) => {
    const up: ScriptedUpstream = await ScriptedUpstream.start(t, {
      // (A function of the connection: it runs once the upstream, and so its URL, exists.)
      script: () => [read(), write(`HTTP/1.1 301 Moved\r\nLocation: ${up.url}/moved?a=1\r\nContent-Length: 0\r\n\r\n`)],
    })
    const gateway = createGateway({ upstream: up.url, rewriteLocation: true })
    const ca = privateCa()
    const server = tls.createServer({ key: ca.key, cert: ca.cert, allowHalfOpen: true }, (socket) =>
      gateway.handle(socket),
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.teardown(async () => {
      const closed = new Promise((resolve) => server.close(resolve))
      await gateway.close()
      await closed
    })
    const { port } = server.address() as AddressInfo
    const res = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port, servername: 'localhost', ca: ca.ca, path: '/old', headers: { host: 'public.test' } },
        (r) => {
          r.resume()
          r.on('end', () => resolve({ status: r.statusCode ?? 0, location: r.headers.location }))
        },
      )
      req.on('error', reject)
      req.end()
    })
    t.equal(res.status, 301)
    t.equal(res.location, 'https://public.test/moved?a=1')
  },
)

t.test('cookieDomain / cookiePath: each Set-Cookie on its own, attributes in any case, leading dots', async (t) => {
  const up = await upstream(
    t,
    'HTTP/1.1 200 OK\r\n' +
      'Set-Cookie: a=1; Domain=.internal.test; Path=/app; HttpOnly\r\n' +
      'X-Between: 1\r\n' +
      'Set-Cookie: b=2; path=/app/x; DOMAIN=internal.test; Secure\r\n' +
      'set-cookie: c=3; Domain=other.test\r\n' +
      'Content-Length: 0\r\n\r\n',
  )
  const g = await startGateway(t, up.url, {
    cookieDomain: { 'internal.test': 'public.test', 'other.test': '' },
    cookiePath: { '/app': '/', '*': '/rest' },
  })
  const { response } = await g.request(GET)
  t.same(response.headers.slice(0, 4), [
    ['Set-Cookie', 'a=1; Domain=public.test; Path=/; HttpOnly'],
    ['X-Between', '1'],
    ['Set-Cookie', 'b=2; path=/rest; DOMAIN=public.test; Secure'],
    ['set-cookie', 'c=3'],
  ])
})

t.test('static rewriting options are checked at createGateway (TypeError naming the option)', async (t) => {
  const base = { upstream: 'http://127.0.0.1:1' }
  const bad: [string, Partial<GatewayOptions>][] = [
    ['changeOrigin', { changeOrigin: 'yes' as never }],
    ['rewriteLocation', { rewriteLocation: 1 as never }],
    ['onResponse', { onResponse: {} as never }],
    ['cookieDomain', { cookieDomain: 'a;b' }],
    ['cookieDomain', { cookieDomain: '' }],
    ['cookieDomain', { cookieDomain: 'a\r\nb' }],
    ['cookiePath["/a"]', { cookiePath: { '/a': 'x;y' } }],
    ['cookiePath[""]', { cookiePath: { '': '/' } }],
    ['cookieDomain', { cookieDomain: ['a'] as never }],
  ]
  for (const [option, options] of bad) {
    t.throws(
      () => createGateway({ ...base, ...options }),
      { name: 'TypeError', message: new RegExp(`"${option.replace(/[[\]]/g, '\\$&')}"`) },
      option,
    )
  }
})

// ---- property: random edits, whatever the chunking --------------------------------------------

const editValue = fc.oneof(
  fc.constant(null),
  fc.constantFrom('v', 'a b', 'x=1; y', ''),
  fc.array(fc.constantFrom('1', '2'), { minLength: 1, maxLength: 2 }),
)
const editName = fc.constantFrom('X-A', 'x-b', 'Accept', 'X-Drop', 'Cache-Control', 'Server', 'X-New')

t.test('random edits give exactly the expected fields both ways, whatever the chunking', async (t) => {
  const up = await ScriptedUpstream.start(t, {
    script: [
      read(),
      write('HTTP/1.1 200 OK\r\nServer: s\r\nX-A: 1\r\nCache-Control: no-cache\r\nContent-Length: 2\r\n\r\nok'),
    ],
    loop: true,
  })
  let edits: { request: Record<string, unknown>; response: Record<string, unknown> } = { request: {}, response: {} }
  const g = await startGateway(t, up.url, {
    route: () => ({ headers: edits.request as never }),
    onResponse: () => ({ headers: edits.response as never }),
  })
  const expected = (received: [string, string][], e: Record<string, unknown>) => {
    const lower = Object.keys(e).map((n) => n.toLowerCase())
    const out = received.filter(([n]) => !lower.includes(n.toLowerCase()))
    for (const [n, v] of Object.entries(e)) {
      if (v !== null) for (const x of Array.isArray(v) ? v : [v]) out.push([n, x])
    }
    return out
  }
  await fc.assert(
    fc.asyncProperty(
      fc.dictionary(editName, editValue, { maxKeys: 3 }),
      fc.dictionary(editName, editValue, { maxKeys: 3 }),
      fc.integer({ min: 1, max: GET.length - 1 }),
      async (request, response, split) => {
        const dup = (d: Record<string, unknown>) =>
          new Set(Object.keys(d).map((k) => k.toLowerCase())).size !== Object.keys(d).length
        if (dup(request) || dup(response)) return
        edits = { request, response }
        const before = up.requests.length
        const client = await g.connect()
        client.write(GET.slice(0, split))
        await new Promise((resolve) => setImmediate(resolve))
        client.write(GET.slice(split))
        const res = await client.response()
        client.destroy()
        const sent = up.requests[before].message.headers
        const wantUp = [
          ...expected(
            [
              ['Host', 'public.test'],
              ['Accept', '*/*'],
              ['X-Drop', '1'],
            ],
            request,
          ),
          ['Via', '1.1 strictgate'],
        ]
        if (JSON.stringify(sent) !== JSON.stringify(wantUp)) throw new Error(`upstream got ${JSON.stringify(sent)}`)
        const wantDown = [
          ...expected(
            [
              ['Server', 's'],
              ['X-A', '1'],
              ['Cache-Control', 'no-cache'],
            ],
            response,
          ),
          ['Via', '1.1 strictgate'],
          ['Content-Length', '2'],
        ]
        if (JSON.stringify(res.headers) !== JSON.stringify(wantDown))
          throw new Error(`client got ${JSON.stringify(res.headers)}`)
      },
    ),
    { numRuns: numRuns(40) },
  )
  t.pass('property held')
})

leakCheck(t)
