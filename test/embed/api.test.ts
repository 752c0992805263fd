// The embedding API's contract beyond relaying: options (target chosen like route; rewriting
// options refused, never ignored), a call made too late, an upgrade offered to proxy(), stats(),
// results that never reject, and Express specifics (Set-Cookie with X-Powered-By, mount paths).
import diagnostics from 'node:diagnostics_channel'
import http from 'node:http'
import type net from 'node:net'
import express from 'express'
import t, { type Test } from 'tap'
import {
  createGateway,
  type ErrorMessage,
  type ExchangeMessage,
  type Gateway,
  type GatewayError,
  type ProxyOptions,
  type ProxyResult,
} from '../../src/index.js'
import { startFront, values, watchProcessErrors } from '../helpers/embedded.js'
import { httpRequest, startHttpUpstream } from '../helpers/http-upstream.js'
import { leakCheck, trackGateway } from '../helpers/resources.js'
import { read, ScriptedUpstream, write } from '../helpers/scripted-upstream.js'

const processErrors = watchProcessErrors(t)

/** An upstream answering its own name and the request's target. */
async function named(t: Test, name: string) {
  return startHttpUpstream(t, (req, res) => res.end(`${name} ${req.url}`))
}

/** A node:http server running `listener`, closed when `t` ends. */
async function serve(t: Test, listener: http.RequestListener): Promise<number> {
  const server = http.createServer(listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  )
  return (server.address() as net.AddressInfo).port
}

function gatewayFor(t: Test, upstream: string | string[], options: Partial<Parameters<typeof createGateway>[0]> = {}) {
  const errors: GatewayError[] = []
  const gateway = createGateway({ upstream, ...options, onError: (err) => void errors.push(err) })
  t.teardown(trackGateway(gateway, t.fullname))
  return { gateway, errors }
}

const get = (port: number, path = '/') => httpRequest({ port, path, agent: false })

t.test('handler(): static options are checked at once (TypeError naming the option)', async (t) => {
  const a = await named(t, 'a')
  const { gateway } = gatewayFor(t, a.url)
  for (const [options, message] of [
    [{ path: '/a b' }, /handler option "path" must be an origin-form request-target/],
    [{ host: 'user@example.com' }, /handler option "host" must be a Host/],
    [{ headers: { 'Content-Length': '1' } }, /handler option "headers": Content-Length is a framing/],
    [{ headers: { 'x-a': 'b\r\nx-evil: 1' } }, /handler option "headers": x-a must be a field value/],
    [
      { target: 'http://127.0.0.1:1' },
      /handler option "target" names "http:\/\/127.0.0.1:1", which is not a configured upstream/,
    ],
    [{ body: 42 }, /handler option "body" must be a Buffer, Uint8Array, string or null/],
    [{ bogus: true }, /handler option "bogus" is not a known option/],
  ] as const) {
    t.throws(() => gateway.handler(options as never), { name: 'TypeError', message }, JSON.stringify(options))
  }
  t.doesNotThrow(() => gateway.handler({ target: a.url }))
  t.doesNotThrow(() => gateway.handler({ path: '*' }), '"*" may stand until a request says whether it is OPTIONS')
})

t.test(
  'per-request options: target picks among the targets, path reshapes the request; invalid ones are a 502',
  async (t) => {
    const a = await named(t, 'a')
    const b = await named(t, 'b')
    const { gateway, errors } = gatewayFor(t, [a.url, b.url], {
      route: (request) => {
        if (request.target === '/route-object') return { target: b.url }
        if (request.target === '/route-path') return { target: a.url, path: '/elsewhere' }
        return undefined
      },
    })
    const results: ProxyResult[] = []
    const port = await serve(t, (req, res) => {
      const options =
        req.url === '/to-a'
          ? { target: a.url }
          : req.url === '/to-b'
            ? { target: [b.url] }
            : req.url === '/path'
              ? { target: b.url, path: '/x' }
              : req.url === '/bad-path'
                ? { path: '/a#b' }
                : req.url === '/unknown'
                  ? { target: 'http://127.0.0.1:1' }
                  : undefined
      void gateway.proxy(req, res, options).then((r) => results.push(r))
    })
    for (let i = 0; i < 3; i++) t.equal((await get(port, '/to-a')).body.toString(), 'a /to-a', 'options.target')
    for (let i = 0; i < 3; i++) t.equal((await get(port, '/to-b')).body.toString(), 'b /to-b', 'a list of one')
    t.equal((await get(port, '/route-object')).body.toString(), 'b /route-object', "the route hook's { target }")
    t.equal((await get(port, '/path')).body.toString(), 'b /x', 'options.path')
    t.equal((await get(port, '/route-path')).body.toString(), 'a /elsewhere', "the route hook's path")
    for (const path of ['/bad-path', '/unknown']) {
      const res = await get(port, path)
      t.equal(res.status, 502, `${path}: 502`)
      t.equal(res.headers['proxy-status'], 'strictgate; error=proxy_internal_error; details="GATEWAY_INTERNAL_ERROR"')
    }
    t.same(
      errors.map((e) => e.message),
      [
        'proxy option "path" must be an origin-form request-target (or "*" for OPTIONS)',
        'proxy option "target" names "http://127.0.0.1:1", which is not a configured upstream',
      ],
    )
    t.same(
      results.slice(-2).map((r) => [r.status, r.error?.code]),
      [
        [502, 'GATEWAY_INTERNAL_ERROR'],
        [502, 'GATEWAY_INTERNAL_ERROR'],
      ],
    )
    t.equal(a.connections + b.connections, 2, 'nothing was forwarded for the refused ones')
  },
)

t.test('handler(fn): options per request; a throwing or invalid choice is a 502', async (t) => {
  const seen: string[] = []
  const a = await startHttpUpstream(t, (req, res) => {
    seen.push(`${req.url} ${req.headers['x-added'] ?? '-'}`)
    res.end(`a ${req.url}`)
  })
  const { gateway, errors } = gatewayFor(t, a.url)
  const port = await serve(
    t,
    gateway.handler((req): ProxyOptions | undefined => {
      if (req.url === '/throws') throw new Error('no options for you')
      if (req.url === '/headers') return { headers: { 'x-added': 'yes' } }
      if (req.url === '/bad-headers') return { headers: { 'Transfer-Encoding': 'chunked' } }
      return undefined
    }),
  )
  t.equal((await get(port, '/fine')).body.toString(), 'a /fine')
  t.equal((await get(port, '/throws')).status, 502)
  t.equal((await get(port, '/headers')).status, 200)
  t.equal((await get(port, '/bad-headers')).status, 502)
  t.same(seen, ['/fine -', '/headers yes'], 'the edit reached the upstream; the refused requests did not')
  t.same(
    errors.map((e) => [e.code, e.message]),
    [
      ['GATEWAY_INTERNAL_ERROR', 'handler options: no options for you'],
      [
        'GATEWAY_INTERNAL_ERROR',
        'proxy option "headers": Transfer-Encoding is a framing or hop-by-hop field, which no edit may set or remove',
      ],
    ],
  )
})

t.test('called after the head was sent: nothing touched, GATEWAY_INTERNAL_ERROR', async (t) => {
  const a = await named(t, 'a')
  const { gateway, errors } = gatewayFor(t, a.url)
  let result: ProxyResult | undefined
  const port = await serve(t, async (req, res) => {
    res.writeHead(203, { 'content-type': 'text/plain' })
    res.write('mine, ')
    result = await gateway.proxy(req, res)
    res.end('still mine')
  })
  const res = await get(port)
  t.equal(res.status, 203)
  t.equal(res.body.toString(), 'mine, still mine', 'the response is the application’s alone')
  t.equal(result?.status, 203, 'the status the client got')
  t.equal(result?.error?.code, 'GATEWAY_INTERNAL_ERROR')
  t.same(
    errors.map((e) => e.code),
    ['GATEWAY_INTERNAL_ERROR'],
  )
  t.equal(a.connections, 0, 'nothing forwarded')
})

t.test('an upgrade offered to proxy() is not offered upstream: a 101 from it is refused (F7)', async (t) => {
  const up = await ScriptedUpstream.start(t, {
    script: [read(), write('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n')],
  })
  const front = await startFront(t, 'node:http', up.url)
  const res = await front.request({ path: '/ws', headers: { connection: 'upgrade', upgrade: 'websocket' } })
  t.equal(res.status, 502)
  t.same(values(res.headers, 'proxy-status'), [
    'strictgate; error=http_upgrade_failed; details="UPSTREAM_INVALID_UPGRADE"',
  ])
  const sent = up.requests[0].message.headers.map(([n]) => n.toLowerCase())
  t.notOk(sent.includes('upgrade'), 'no Upgrade sent upstream')
  t.notOk(sent.includes('connection'), 'no Connection: upgrade sent upstream')
})

t.test('stats() counts embedded exchanges while they run; results never reject', async (t) => {
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => (release = resolve))
  const up = await startHttpUpstream(t, (_req, res) => void gate.then(() => res.end('late')))
  const { gateway, errors } = gatewayFor(t, up.url)
  const port = await serve(t, gateway.handler())
  const pending = get(port)
  await waitFor(() => gateway.stats().embedded === 1, 'one embedded exchange')
  t.equal(gateway.stats().clients, 0, 'not a client connection of the gateway')
  release()
  t.equal((await pending).body.toString(), 'late')
  await waitFor(() => gateway.stats().embedded === 0, 'none left')
  // Not node:http's objects at all: still a result.
  const odd = await gateway.proxy({} as never, {} as never)
  t.equal(odd.status, 0)
  t.equal(odd.error?.code, 'GATEWAY_INTERNAL_ERROR')
  t.equal(gateway.stats().embedded, 0, 'nothing left behind for close() to wait on')
  t.same(
    errors.map((e) => e.code),
    ['GATEWAY_INTERNAL_ERROR'],
  )
})

t.test('embedded exchanges are published on strictgate:exchange, failures on strictgate:error', async (t) => {
  const a = await named(t, 'a')
  const { gateway } = gatewayFor(t, [a.url])
  const exchanges: string[] = []
  const errors: string[] = []
  const onExchange = (m: unknown) => {
    const { request, status, error } = m as ExchangeMessage
    exchanges.push(`${request?.target} ${status} ${error?.code ?? '-'}`)
  }
  const onError = (m: unknown) => {
    const { request, error } = m as ErrorMessage
    errors.push(`${request?.target} ${error.code}`)
  }
  diagnostics.subscribe('strictgate:exchange', onExchange)
  diagnostics.subscribe('strictgate:error', onError)
  t.teardown(() => {
    diagnostics.unsubscribe('strictgate:exchange', onExchange)
    diagnostics.unsubscribe('strictgate:error', onError)
  })
  const port = await serve(t, (req, res) => {
    void gateway.proxy(req, res, req.url === '/bad' ? { target: 'http://127.0.0.1:1' } : undefined)
  })
  t.equal((await get(port, '/good')).status, 200)
  t.equal((await get(port, '/bad')).status, 502)
  t.same(exchanges, ['/good 200 -', '/bad 502 GATEWAY_INTERNAL_ERROR'])
  t.same(errors, ['/bad GATEWAY_INTERNAL_ERROR'])
})

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

t.test('Express: two Set-Cookie survive X-Powered-By; the mount path is forwarded as sent', async (t) => {
  const up = await ScriptedUpstream.start(t, {
    script: (i) => [
      read(),
      write(
        `HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Powered-By: upstream\r\nSet-Cookie: b=2\r\nContent-Length: ${i + 1}\r\n\r\n${'x'.repeat(i + 1)}`,
      ),
    ],
  })
  const gw: { gateway: Gateway } = gatewayFor(t, up.url)
  const app = express()
  app.use('/api', gw.gateway.handler())
  app.get('/own', (_req, res) => void res.send('own route'))
  const port = await serve(t, app)
  const res = await get(port, '/api/users?id=1')
  t.equal(res.status, 200)
  t.same(res.headers['set-cookie'], ['a=1', 'b=2'], 'both Set-Cookie')
  t.equal(res.headers['x-powered-by'], 'upstream', "the upstream's field replaces the one Express set")
  t.equal(up.requests[0].message.startLine, 'GET /api/users?id=1 HTTP/1.1', 'req.originalUrl, not the stripped req.url')
  t.equal((await get(port, '/own')).body.toString(), 'own route', "the app's own routes are untouched")
})

processErrors.check()
leakCheck(t)
