// The README's code examples are the files under examples/: run each one here, and check that
// the README still shows exactly those files (so the README cannot drift from working code).
import { readdirSync, readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import http from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'
import type net from 'node:net'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import WebSocket, { WebSocketServer } from 'ws'
import { start as startApiGateway } from '../examples/api-gateway.js'
import { subscribe } from '../examples/diagnostics.js'
import { start as startExpress } from '../examples/embed-express.js'
import { start as startFastify } from '../examples/embed-fastify.js'
import { start as startHttp } from '../examples/embed-http.js'
import { start as startHttp2 } from '../examples/embed-http2.js'
import { start as startKoa } from '../examples/embed-koa.js'
import { start as startNet } from '../examples/embed-net.js'
import { start as startTls } from '../examples/embed-tls.js'
import { start as startMetricsRoute } from '../examples/metrics-route.js'
import { start as startOnError } from '../examples/on-error.js'
import { start as startSecurityHeaders } from '../examples/security-headers.js'
import { start as startStandalone } from '../examples/standalone.js'
import { parseCli } from '../src/cli-args.js'
import { CliSettings } from '../src/cli-config.js'
import { startDemoUpstream } from '../src/demo.js'
import { startHttpUpstream } from './helpers/http-upstream.js'
import { parseExposition, value } from './helpers/prometheus.js'
import { rawRequest } from './helpers/raw-client.js'
import { needsOpenssl, privateCa, selfSigned } from './helpers/tls-certs.js'

const root = new URL('..', import.meta.url).pathname

t.test('README shows every example file verbatim', async (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  for (const file of readdirSync(join(root, 'examples'))) {
    const source = readFileSync(join(root, 'examples', file), 'utf8').trimEnd()
    const language = file.endsWith('.json') ? 'json' : 'ts'
    t.ok(
      readme.includes(`<!-- example: examples/${file} -->\n\`\`\`${language}\n${source}\n\`\`\``),
      `README embeds examples/${file}`,
    )
  }
})

t.test("the README's config file is one the CLI takes", async (t) => {
  const settings = new CliSettings(parseCli(['--config', join(root, 'examples', 'strictgate.json')]), null)
  await settings.load()
  t.same(settings.listen, { host: '0.0.0.0', port: 8443 })
  t.same(settings.admin, { host: '127.0.0.1', port: 9090 })
  t.equal(settings.upstream, 'http://10.0.0.11:3000,http://10.0.0.12:3000')
  t.match(settings.options(), { health: { check: { path: '/healthz' } }, via: { request: false } })
})

t.test('examples run against the demo upstream', async (t) => {
  const demo = await startDemoUpstream()
  t.teardown(() => demo.close())

  t.test('standalone', async (t) => {
    const gw = await startStandalone(demo.url)
    t.teardown(gw.close)
    const res = await fetch(`${gw.url}/hello`)
    t.equal(res.status, 200)
    t.match(await res.text(), /Hello from the strictgate demo upstream/)
  })

  t.test('embedded in a net.Server', async (t) => {
    const gw = await startNet(demo.url)
    const res = await fetch(`${gw.url}/broken/status-code`)
    t.equal(res.status, 502)
    t.equal(
      res.headers.get('proxy-status'),
      'strictgate; error=http_protocol_error; details="UPSTREAM_INVALID_STATUS_CODE"',
    )
    await res.arrayBuffer()
    // Regression: the example closed its server first, which waited for fetch's idle keep-alive
    // connection to time out (4 s in undici) before the gateway could end it.
    const started = performance.now()
    await gw.close()
    const ms = performance.now() - started
    t.ok(ms < 2_000, `close() took ${ms.toFixed(0)} ms: it must not wait for the client's 4 s keep-alive timeout`)
  })

  t.test('an API gateway: /api stripped, the service gets its own Host', async (t) => {
    const seen: string[] = []
    const record = (name: string) => (req: IncomingMessage, res: ServerResponse) => {
      seen.push(`${name} ${req.url} ${req.headers.host}`)
      res.end(name)
    }
    const web = await startHttpUpstream(t, record('web'))
    const api = await startHttpUpstream(t, record('api'))
    const gw = await startApiGateway(web.url, api.url)
    t.teardown(gw.close)
    t.equal(await (await fetch(`${gw.url}/api/users?id=1`)).text(), 'api')
    t.equal(await (await fetch(`${gw.url}/api`)).text(), 'api')
    t.equal(await (await fetch(`${gw.url}/apis`)).text(), 'web')
    const host = new URL(gw.url).host
    t.same(seen, [`api /users?id=1 127.0.0.1:${api.port}`, `api / 127.0.0.1:${api.port}`, `web /apis ${host}`])
  })

  t.test('security headers added, Server removed', async (t) => {
    const app = await startHttpUpstream(t, (_req, res) => {
      res.setHeader('Server', 'app/1.2.3')
      res.setHeader('X-Frame-Options', 'SAMEORIGIN')
      res.end('hello')
    })
    const gw = await startSecurityHeaders(app.url)
    t.teardown(gw.close)
    const res = await fetch(`${gw.url}/hello`)
    t.equal(await res.text(), 'hello')
    t.equal(res.headers.get('server'), null, 'Server removed')
    t.equal(res.headers.get('x-frame-options'), 'DENY')
    t.equal(res.headers.get('x-content-type-options'), 'nosniff')
    t.equal(res.headers.get('strict-transport-security'), 'max-age=63072000; includeSubDomains')
  })

  t.test('metrics and health on routes of your own server', async (t) => {
    const gw = await startMetricsRoute(demo.url)
    t.teardown(gw.close)
    t.equal(await (await fetch(`${gw.url}/hello`)).text(), 'Hello from the strictgate demo upstream!\n')
    const metrics = await fetch(`${gw.url}/internal/metrics`)
    t.equal(metrics.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
    const m = parseExposition(await metrics.text())
    t.equal(value(m, 'strictgate_requests_total', { code_class: '2xx' }), 1, 'the one proxied request')
    t.equal(value(m, 'strictgate_upstream_up', { target: demo.url }), 1)
    const health = await fetch(`${gw.url}/internal/healthz`)
    t.equal(health.status, 200)
    t.equal(await health.text(), 'ok\n')
  })

  t.test('onError custom page and diagnostics_channel', async (t) => {
    const log: string[] = []
    const errors: string[] = []
    const exchanges: string[] = []
    const unsubscribe = subscribe(errors, exchanges)
    t.teardown(unsubscribe)
    const gw = await startOnError(demo.url, log)
    t.teardown(gw.close)
    const bad = await fetch(`${gw.url}/broken/obs-fold`)
    t.equal(bad.status, 502)
    t.equal(bad.headers.get('content-type'), 'text/html; charset=utf-8')
    t.equal(await bad.text(), '<h1>Upstream trouble</h1><p>UPSTREAM_INVALID_HEADER</p>\n')
    const port = Number(new URL(gw.url).port)
    const ok = await rawRequest(t, port, 'GET /hello HTTP/1.1\r\nHost: a\r\n\r\n')
    t.equal(ok.response.status, 200)
    // A request whose head is refused (a space in the target): an exchange without a request.
    const refused = await rawRequest(t, port, 'GET /a b HTTP/1.1\r\nHost: a\r\n\r\n')
    t.equal(refused.response.status, 400)
    t.same(log, ['GET /broken/obs-fold UPSTREAM_INVALID_HEADER 502', '- - CLIENT_INVALID_REQUEST 400'])
    t.same(errors, ['/broken/obs-fold UPSTREAM_INVALID_HEADER', '- CLIENT_INVALID_REQUEST'])
    t.same(exchanges.slice(1), [
      `127.0.0.1 GET /hello 200 ${ok.response.raw.length} ${demo.url} - timed`,
      `127.0.0.1 - - 400 ${refused.response.raw.length} - CLIENT_INVALID_REQUEST timed`,
    ])
    t.match(exchanges[0], /^127\.0\.0\.1 GET \/broken\/obs-fold 502 \d+ http:\S+ UPSTREAM_INVALID_HEADER timed$/)
  })

  t.test('embedded in a tls.Server', { skip: needsOpenssl }, async (t) => {
    const { ca, key, cert } = privateCa()
    const gw = await startTls(demo.url, { key, cert })
    t.teardown(gw.close)
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get(`${gw.url}/hello`, { ca, checkServerIdentity: () => undefined, agent: false }, (res) => {
          let data = ''
          res.setEncoding('utf8')
          res.on('data', (c) => (data += c))
          res.on('end', () => resolve(`${res.statusCode} ${data}`))
        })
        .on('error', reject)
    })
    t.match(body, /^200 Hello from the strictgate demo upstream/)
  })
})

/** An upstream answering with the method and target it got (and a body's length), and a WebSocket echo. */
async function echoUpstream(t: Test): Promise<string> {
  const server = http.createServer((req, res) => {
    let n = 0
    req.on('data', (c: Buffer) => (n += c.length))
    req.on('end', () => res.end(`${req.method} ${req.url} ${n}`))
  })
  const wss = new WebSocketServer({ server })
  wss.on('connection', (ws) => ws.on('message', (data) => ws.send(`echo ${data}`)))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const c of wss.clients) c.terminate()
    wss.close()
    server.closeAllConnections()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`
}

const text = async (res: Response) => `${res.status} ${await res.text()}`

t.test('embedding examples (node:http, Express, Fastify, Koa, node:http2) run', async (t) => {
  const upstream = await echoUpstream(t)

  t.test('node:http: handler() and upgrade()', async (t) => {
    const gw = await startHttp(upstream)
    t.teardown(gw.close)
    t.equal(await text(await fetch(`${gw.url}/users?id=1`)), '200 GET /users?id=1 0')
    const ws = new WebSocket(`${gw.url.replace('http', 'ws')}/socket`)
    t.teardown(() => ws.terminate())
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    const reply = new Promise((resolve) => ws.once('message', (data) => resolve(data.toString())))
    ws.send('hi')
    t.equal(await reply, 'echo hi')
    ws.close()
    await new Promise((resolve) => ws.once('close', resolve))
  })

  t.test('Express: mounted under /api, the original path forwarded; a parsed body passed on', async (t) => {
    const log: string[] = []
    const gw = await startExpress(upstream, log)
    t.teardown(gw.close)
    t.equal(await text(await fetch(`${gw.url}/api/users`)), '200 GET /api/users 0')
    t.equal(await text(await fetch(`${gw.url}/`)), '200 the app itself')
    const audit = await fetch(`${gw.url}/audit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 1 }),
    })
    t.equal(await text(audit), `200 POST /audit ${JSON.stringify({ a: 1, audited: true }).length}`)
    t.same(log, ['audit: 200'])
  })

  t.test('Fastify: an onRequest hook', async (t) => {
    const gw = await startFastify(upstream)
    t.teardown(gw.close)
    const posted = await fetch(`${gw.url}/api/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"x":1}',
    })
    t.equal(await text(posted), '200 POST /api/items 7', 'the body reached the upstream untouched')
    t.equal(await text(await fetch(`${gw.url}/health`)), '200 ok')
  })

  t.test('Koa: ctx.respond = false', async (t) => {
    const gw = await startKoa(upstream)
    t.teardown(gw.close)
    t.equal(await text(await fetch(`${gw.url}/api/x`)), '200 GET /api/x 0')
    t.equal(await text(await fetch(`${gw.url}/other`)), '200 the app itself')
  })

  t.test('node:http2: HTTP/2 and HTTP/1.1 clients', { skip: needsOpenssl }, async (t) => {
    const { key, cert } = selfSigned()
    const gw = await startHttp2(upstream, { key, cert })
    t.teardown(gw.close)
    const session = http2.connect(gw.url, { ca: cert })
    const h2 = await new Promise<string>((resolve, reject) => {
      const stream = session.request({ ':path': '/h2?x=1' })
      let data = ''
      stream.setEncoding('utf8')
      stream.on('response', (headers) => (data += `${headers[':status']} `))
      stream.on('data', (c: string) => (data += c))
      stream.on('end', () => resolve(data))
      stream.on('error', reject)
    })
    session.close()
    t.equal(h2, '200 GET /h2?x=1 0')
    const h1 = await new Promise<string>((resolve, reject) => {
      https
        .get(`${gw.url}/h1`, { ca: cert, agent: false }, (res) => {
          let data = ''
          res.setEncoding('utf8')
          res.on('data', (c: string) => (data += c))
          res.on('end', () => resolve(`${res.statusCode} ${data}`))
        })
        .on('error', reject)
    })
    t.equal(h1, '200 GET /h1 0')
  })
})

t.test('README curl transcripts are what the demo gateway answers', async (t) => {
  const { createGateway } = await import('../src/index.js')
  const net = await import('node:net')
  const demo = await startDemoUpstream()
  t.teardown(() => demo.close())
  const gw = createGateway({ upstream: demo.url })
  t.teardown(() => gw.close())
  const { port } = await gw.listen({ port: 0, host: '127.0.0.1' })
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  for (const path of ['/hello', '/broken/status-code', '/broken/space-before-colon']) {
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () =>
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl\r\nAccept: */*\r\nConnection: close\r\n\r\n`,
        ),
      )
      let data = ''
      socket.setEncoding('latin1')
      socket.on('data', (d: string) => (data += d))
      socket.on('end', () => resolve(data))
      socket.on('error', reject)
    })
    // curl -i prints the head with LF line ends; the gateway answered `Connection: close`
    // only because this request asked for it.
    const shown = raw.replace(/\r\n/g, '\n').replace('Connection: close\n', '').trimEnd()
    t.ok(
      readme.includes(`$ curl -i http://127.0.0.1:8080${path}\n${shown}\n\`\`\``),
      `README shows ${path} as answered`,
    )
  }
})
