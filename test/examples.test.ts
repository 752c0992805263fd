// The README's code examples are the files under examples/: run each one here, and check that
// the README still shows exactly those files (so the README cannot drift from working code).
import { readdirSync, readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import https from 'node:https'
import { join } from 'node:path'
import t from 'tap'
import { start as startApiGateway } from '../examples/api-gateway.js'
import { subscribe } from '../examples/diagnostics.js'
import { start as startNet } from '../examples/embed-net.js'
import { start as startTls } from '../examples/embed-tls.js'
import { start as startOnError } from '../examples/on-error.js'
import { start as startSecurityHeaders } from '../examples/security-headers.js'
import { start as startStandalone } from '../examples/standalone.js'
import { startDemoUpstream } from '../src/demo.js'
import { startHttpUpstream } from './helpers/http-upstream.js'
import { needsOpenssl, privateCa } from './helpers/tls-certs.js'

const root = new URL('..', import.meta.url).pathname

t.test('README shows every example file verbatim', async (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  for (const file of readdirSync(join(root, 'examples'))) {
    const source = readFileSync(join(root, 'examples', file), 'utf8').trimEnd()
    t.ok(
      readme.includes(`<!-- example: examples/${file} -->\n\`\`\`ts\n${source}\n\`\`\``),
      `README embeds examples/${file}`,
    )
  }
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
    const ok = await fetch(`${gw.url}/hello`)
    t.equal(ok.status, 200)
    await ok.text()
    t.same(log, ['GET /broken/obs-fold UPSTREAM_INVALID_HEADER 502'])
    t.same(errors, ['/broken/obs-fold UPSTREAM_INVALID_HEADER'])
    t.ok(exchanges.includes('/hello 200 timed'), `exchange published: ${exchanges.join(', ')}`)
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
