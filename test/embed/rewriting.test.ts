// Rewriting in embedded mode, through every server kind: proxy() options path/host/headers,
// changeOrigin, onResponse, rewriteLocation (the client-facing origin is the front server's),
// cookieDomain/cookiePath, and invalid edits answered 502 GATEWAY_INTERNAL_ERROR with nothing
// forwarded or relayed.
import type http from 'node:http'
import t from 'tap'
import { SERVER_KINDS, skipFor, startFront, values, watchProcessErrors } from '../helpers/embedded.js'
import { readBody, startHttpUpstream } from '../helpers/http-upstream.js'
import { leakCheck } from '../helpers/resources.js'

interface Seen {
  url: string
  host: string
  headers: [string, string][]
}

async function recording(t: Parameters<typeof startHttpUpstream>[0], answer?: http.RequestListener) {
  const seen: Seen[] = []
  const up = await startHttpUpstream(t, async (req, res) => {
    await readBody(req)
    const headers: [string, string][] = []
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      headers.push([req.rawHeaders[i].toLowerCase(), req.rawHeaders[i + 1]])
    seen.push({ url: req.url ?? '', host: req.headers.host ?? '', headers })
    if (answer !== undefined) answer(req, res)
    else {
      res.setHeader('Server', 'app/1')
      res.setHeader('X-Secret', 'no')
      res.end('ok')
    }
  })
  return Object.assign(up, { seen })
}

const names = (headers: [string, string][]) => headers.map(([n]) => n.toLowerCase())

for (const kind of SERVER_KINDS) {
  t.test(`${kind}: proxy() options path, host and headers reshape the request`, { skip: skipFor(kind) }, async (t) => {
    const errors = watchProcessErrors(t)
    const up = await recording(t)
    const front = await startFront(t, kind, up.url, {
      proxyOptions: { path: '/v2/items?x=1', host: 'api.internal:8443', headers: { 'X-Env': 'prod', Cookie: null } },
    })
    const res = await front.request({ path: '/api/items', headers: { cookie: 'a=1', 'x-keep': 'yes' } })
    t.equal(res.status, 200)
    t.equal(up.seen.length, 1)
    const seen = up.seen[0]
    t.equal(seen.url, '/v2/items?x=1')
    t.equal(seen.host, 'api.internal:8443')
    t.same(values(seen.headers, 'x-env'), ['prod'])
    t.same(values(seen.headers, 'cookie'), [], 'removed')
    t.same(values(seen.headers, 'x-keep'), ['yes'], 'other fields kept')
    errors.check()
  })

  t.test(`${kind}: changeOrigin sends the target's authority`, { skip: skipFor(kind) }, async (t) => {
    const up = await recording(t)
    const front = await startFront(t, kind, up.url, { changeOrigin: true })
    t.equal((await front.request({ path: '/x' })).status, 200)
    t.equal(up.seen[0].host, `127.0.0.1:${up.port}`)
  })

  t.test(`${kind}: onResponse edits what is relayed`, { skip: skipFor(kind) }, async (t) => {
    const up = await recording(t)
    const front = await startFront(t, kind, up.url, {
      onResponse: (response) => ({
        headers: { Server: null, 'X-Secret': null, 'X-Status-Seen': String(response.status) },
      }),
    })
    const res = await front.request({ path: '/x' })
    t.equal(res.status, 200)
    t.equal(res.body.toString(), 'ok')
    t.notOk(names(res.headers).includes('server'), 'Server removed')
    t.notOk(names(res.headers).includes('x-secret'), 'X-Secret removed')
    t.same(values(res.headers, 'x-status-seen'), ['200'])
  })

  t.test(`${kind}: rewriteLocation and cookies`, { skip: skipFor(kind) }, async (t) => {
    const up = await recording(t, (_req, res) => {
      res.setHeader('Location', `http://127.0.0.1:${up.port}/next?a=1`)
      res.setHeader('Set-Cookie', ['a=1; Domain=.internal.test; Path=/app', 'b=2; Path=/app/x; HttpOnly'])
      res.statusCode = 302
      res.end()
    })
    const front = await startFront(t, kind, up.url, {
      rewriteLocation: true,
      cookieDomain: { 'internal.test': 'public.test' },
      cookiePath: { '/app': '/' },
    })
    const res = await front.request({ path: '/old' })
    t.equal(res.status, 302)
    // The client-facing origin: the front's scheme, and the Host (or :authority) the client sent.
    const scheme = kind.startsWith('http2') ? 'https' : 'http'
    t.same(values(res.headers, 'location'), [`${scheme}://127.0.0.1:${front.port}/next?a=1`])
    t.same(values(res.headers, 'set-cookie'), ['a=1; Domain=public.test; Path=/', 'b=2; Path=/app/x; HttpOnly'])
  })

  t.test(`${kind}: invalid edits are a 502 with nothing forwarded or relayed`, { skip: skipFor(kind) }, async (t) => {
    const up = await recording(t)
    const bad = await startFront(t, kind, up.url, { proxyOptions: { headers: { 'Content-Length': '1' } } })
    const res = await bad.request({ path: '/x' })
    t.equal(res.status, 502)
    t.equal(up.seen.length, 0, 'nothing forwarded')
    t.match(bad.errors[0]?.message ?? '', /proxy option "headers": Content-Length is a framing/)
    const hook = await startFront(t, kind, up.url, { onResponse: () => ({ headers: { 'X-A': 'a\r\nX-Evil: 1' } }) })
    const res2 = await hook.request({ path: '/y' })
    t.equal(res2.status, 502)
    t.notOk(names(res2.headers).includes('x-secret'), 'nothing of the upstream response')
    t.match(hook.errors[0]?.message ?? '', /^onResponse hook: /)
  })
}

leakCheck(t)
