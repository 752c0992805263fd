// The command line's rewriting flags: what parseCli makes of them, bad values exiting 2 with the
// flag named, and a CLI gateway that routes by prefix, strips it, sends the target's Host and
// edits fields both ways.
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { parseCli } from '../src/cli-args.js'
import type { RequestHead } from '../src/index.js'
import { runCli, startCli } from './helpers/cli-process.js'
import { parseRequestHead } from './helpers/heads.js'
import { readBody, startHttpUpstream } from './helpers/http-upstream.js'

const A = 'http://127.0.0.1:3001'
const B = 'http://127.0.0.1:3002'
const C = 'http://127.0.0.1:3003'
const req = (line: string): RequestHead => parseRequestHead(`${line} HTTP/1.1\r\nHost: public.test\r\n\r\n`)

t.test('--route: longest prefix, on a segment boundary; unmatched requests go to --upstream', async (t) => {
  const c = parseCli(['--upstream', A, '--route', '/api=' + B, '--route', '/api/v2=' + C, '--route', '/static/=' + C])
  t.same(c.flags.options.upstream, [A, B, C], 'route targets join the configured upstreams')
  const route = c.hooks.route as (r: RequestHead) => unknown
  t.same(route(req('GET /api')), { target: B })
  t.same(route(req('GET /api/items?x=1')), { target: B })
  t.same(route(req('GET /api?x')), { target: B })
  t.same(route(req('GET /api/v2/x')), { target: C }, 'the longest prefix wins')
  t.same(route(req('GET /apix')), { target: [A] }, 'not a segment of /api')
  t.same(route(req('GET /static/a.css')), { target: C })
  t.same(route(req('GET /static')), { target: [A] }, 'a prefix ending in "/" holds only what is below it')
  t.same(route(req('GET http://public.test/api/x')), { target: B }, 'absolute-form: by its path')
  t.same(route(req('OPTIONS *')), { target: [A] })
})

t.test('--strip-prefix removes the matched prefix; the path stays origin-form', async (t) => {
  const c = parseCli(['--upstream', A, '--route', '/api=' + B, '--route', '/=' + C, '--strip-prefix'])
  const route = c.hooks.route as (r: RequestHead) => unknown
  t.same(route(req('GET /api/items?x=1')), { target: B, path: '/items?x=1' })
  t.same(route(req('GET /api')), { target: B, path: '/' })
  t.same(route(req('GET /api?q')), { target: B, path: '/?q' })
  t.same(route(req('GET /other')), { target: C }, 'the catch-all / keeps the path')
})

t.test('--request-header, --response-header, --change-origin, --rewrite-location, --cookie-*', async (t) => {
  const c = parseCli([
    '--upstream',
    A,
    '--request-header',
    'X-Env: prod',
    '--request-header',
    'X-Env: blue',
    '--request-header',
    'Cookie:',
    '--response-header',
    'Server:',
    '--response-header',
    'X-Frame-Options: DENY',
    '--change-origin',
    '--rewrite-location',
    '--cookie-domain',
    'internal.test=public.test',
    '--cookie-domain',
    '*=',
    '--cookie-path',
    '/app=/',
  ])
  const route = c.hooks.route as (r: RequestHead) => unknown
  t.same(route(req('GET /x')), { headers: { 'X-Env': ['prod', 'blue'], Cookie: null } })
  t.same((c.hooks.onResponse as () => unknown)(), { headers: { Server: null, 'X-Frame-Options': ['DENY'] } })
  t.equal(c.flags.options.changeOrigin, true)
  t.equal(c.flags.options.rewriteLocation, true)
  t.same(c.flags.options.cookieDomain, { 'internal.test': 'public.test', '*': '' })
  t.same(c.flags.options.cookiePath, { '/app': '/' })
  t.same(parseCli(['--upstream', A]).hooks.route, undefined, 'no flag, no route hook')
})

t.test('bad rewriting flags exit 2 with a message naming the flag', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--upstream', A, '--route', 'api=' + B], /--route prefix must be a path/],
    [['--upstream', A, '--route', '/api'], /--route must be FROM=TO/],
    [['--upstream', A, '--route', '/api=ftp://x'], /--route target must be/],
    [['--upstream', A, '--route', '/a b=' + B], /--route prefix/],
    [['--route', '/api=' + B], /--route needs --upstream/],
    [['--upstream', A, '--strip-prefix'], /--strip-prefix needs --route/],
    [['--upstream', A, '--request-header', 'X A: b'], /--request-header: field name "X A" is not a token/],
    [['--upstream', A, '--request-header', 'Content-Length: 1'], /--request-header: Content-Length is a framing/],
    [['--upstream', A, '--request-header', 'Host: x'], /--request-header: Host cannot be edited/],
    [['--upstream', A, '--request-header', 'nocolon'], /--request-header must be FROM:TO/],
    [['--upstream', A, '--response-header', 'Transfer-Encoding: chunked'], /--response-header: Transfer-Encoding/],
    [['--upstream', A, '--cookie-domain', 'x'], /--cookie-domain must be FROM=TO/],
    [['--upstream', A, '--cookie-domain', 'a=b;c'], /option "cookieDomain\["a"\]"/],
  ]
  for (const [args, message] of cases) {
    const r = runCli(args)
    t.equal(r.status, 2, `${args.join(' ')} exits 2`)
    t.match(r.stderr, message)
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace')
  }
})

t.test('a CLI gateway: routes by prefix, strips it, sends the target Host, edits both ways', async (t) => {
  const seen: { upstream: string; url: string; host: string; env: string | undefined }[] = []
  const handler =
    (name: string) => async (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
      await readBody(req)
      seen.push({
        upstream: name,
        url: req.url ?? '',
        host: req.headers.host ?? '',
        env: req.headers['x-env'] as string,
      })
      res.writeHead(302, { Server: 'app/1', Location: `http://${req.headers.host}/next`, 'Content-Length': '0' })
      res.end()
    }
  const a = await startHttpUpstream(t, handler('a'))
  const b = await startHttpUpstream(t, handler('b'))
  const { ready } = startCli(
    [
      '--listen',
      '127.0.0.1:0',
      '--upstream',
      a.url,
      '--route',
      `/api=${b.url}`,
      '--strip-prefix',
      '--change-origin',
      '--rewrite-location',
      '--request-header',
      'X-Env: prod',
      '--response-header',
      'Server:',
      '--response-header',
      'X-Frame-Options: DENY',
    ],
    undefined,
    t,
  )
  const [, url] = await ready
  const api = await fetch(`${url}/api/items?x=1`, { redirect: 'manual' })
  const other = await fetch(`${url}/page`, { redirect: 'manual' })
  const host = new URL(url).host
  t.same(seen, [
    { upstream: 'b', url: '/items?x=1', host: `127.0.0.1:${(b.server.address() as AddressInfo).port}`, env: 'prod' },
    { upstream: 'a', url: '/page', host: `127.0.0.1:${a.port}`, env: 'prod' },
  ])
  for (const res of [api, other]) {
    t.equal(res.status, 302)
    t.equal(res.headers.get('server'), null, 'Server removed')
    t.equal(res.headers.get('x-frame-options'), 'DENY')
    t.equal(res.headers.get('location'), `http://${host}/next`, 'Location at the target origin rewritten')
  }
})
