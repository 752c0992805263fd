// The embedding API relays valid exchanges through every server kind: byte for byte, both ways,
// with backpressure; the head as gateway mode would relay it (hop-by-hop fields removed, Via
// added, repeated names kept); interim responses through node:http's API.
import { createHash } from 'node:crypto'
import type http from 'node:http'
import t, { type Test } from 'tap'
import { pattern, sha256 } from '../helpers/bytes.js'
import { SERVER_KINDS, type ServerKind, skipFor, startFront, values, watchProcessErrors } from '../helpers/embedded.js'
import { readBody, startHttpUpstream } from '../helpers/http-upstream.js'
import { leakCheck } from '../helpers/resources.js'
import { read, ScriptedUpstream, write } from '../helpers/scripted-upstream.js'

const processErrors = watchProcessErrors(t)

const BODY = pattern(100_000, 7)
const EXACT_HEAD =
  'HTTP/1.1 200 OK\r\n' +
  'Content-Type: application/octet-stream\r\n' +
  'X-Order: 1\r\n' +
  'Set-Cookie: a=1; Path=/\r\n' +
  'X-Order: 2\r\n' +
  'Set-Cookie: b=2; Path=/\r\n' +
  'ETag: "e1"\r\n' +
  'Connection: keep-alive, X-Hop\r\n' +
  'X-Hop: dropped\r\n' +
  'Keep-Alive: timeout=99\r\n' +
  'Proxy-Connection: keep-alive\r\n' +
  `Content-Length: ${BODY.length}\r\n\r\n`

/** What an echoing upstream saw: method, target, fields, body digest. */
interface Echo {
  method: string
  url: string
  headers: [string, string][]
  length: number
  sha: string
}

function echoHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  void readBody(req).then((body) => {
    const headers: [string, string][] = []
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      headers.push([req.rawHeaders[i].toLowerCase(), req.rawHeaders[i + 1]])
    const echo: Echo = { method: req.method ?? '', url: req.url ?? '', headers, length: body.length, sha: sha256(body) }
    res.setHeader('Content-Type', 'application/json')
    res.end(JSON.stringify(echo))
  })
}

for (const kind of SERVER_KINDS) {
  t.test(kind, { skip: skipFor(kind) }, async (t) => {
    t.test('byte-exact GET: status, body, fields in order with repeats, hop-by-hop removed, Via added', async (t) => {
      const up = await ScriptedUpstream.start(t, {
        script: [read(), write(Buffer.concat([Buffer.from(EXACT_HEAD), BODY]))],
        loop: true,
      })
      const front = await startFront(t, kind, up.url)
      for (let i = 0; i < 2; i++) {
        const res = await front.request({ path: '/exact?q=1' })
        t.equal(res.status, 200)
        t.ok(res.complete, 'complete')
        t.ok(res.body.equals(BODY), 'body byte for byte')
        t.same(values(res.headers, 'set-cookie'), ['a=1; Path=/', 'b=2; Path=/'], 'both Set-Cookie, in order')
        t.same(values(res.headers, 'x-order'), ['1', '2'], 'repeated field lines kept, in order')
        t.same(values(res.headers, 'etag'), ['"e1"'])
        t.same(values(res.headers, 'content-length'), [String(BODY.length)], 'Content-Length kept')
        t.same(values(res.headers, 'via'), ['1.1 strictgate'], 'Via added')
        t.same(values(res.headers, 'x-hop'), [], 'a field named by Connection is removed')
        t.same(values(res.headers, 'proxy-connection'), [], 'Proxy-Connection removed')
        t.notOk(
          values(res.headers, 'keep-alive').includes('timeout=99'),
          "the upstream's Keep-Alive is removed (the front server may add its own)",
        )
        if (kind === 'node:http') {
          // No header set before proxy(): the fields go out in the upstream's order exactly.
          const names = res.headers.map(([n]) => n).filter((n) => !['date', 'connection', 'keep-alive'].includes(n))
          t.same(names, [
            'content-type',
            'x-order',
            'set-cookie',
            'x-order',
            'set-cookie',
            'etag',
            'via',
            'content-length',
          ])
        }
      }
      t.same(
        up.requests.map((r) => r.message.startLine),
        ['GET /exact?q=1 HTTP/1.1', 'GET /exact?q=1 HTTP/1.1'],
      )
      t.equal(up.connections, 1, 'the upstream connection was reused')
      t.same(front.results, [{ status: 200 }, { status: 200 }])
      t.same(front.errors, [])
    })

    t.test('POST with Content-Length, and a chunked upload', async (t) => {
      const up = await startHttpUpstream(t, echoHandler)
      const front = await startFront(t, kind, up.url)
      const body = pattern(300_000, 11)
      const headers = { 'content-type': 'application/octet-stream', 'x-client': 'yes' }
      const posted = await front.request({ method: 'POST', path: '/post', headers, body })
      t.equal(posted.status, 200)
      const echo = JSON.parse(posted.body.toString()) as Echo
      t.equal(echo.method, 'POST')
      t.equal(echo.url, '/post')
      t.equal(echo.sha, sha256(body), 'request body byte for byte')
      t.same(values(echo.headers, 'x-client'), ['yes'])
      t.same(values(echo.headers, 'via'), ['1.1 strictgate'], 'Via added upstream')
      if (kind !== 'http2') t.same(values(echo.headers, 'content-length'), [String(body.length)])

      const pieces = [pattern(1, 1), pattern(70_000, 2), pattern(5, 3), pattern(200_000, 4)]
      const chunked = await front.request({ method: 'PUT', path: '/chunked', headers, body: pieces })
      t.equal(chunked.status, 200)
      const echo2 = JSON.parse(chunked.body.toString()) as Echo
      t.equal(echo2.sha, sha256(Buffer.concat(pieces)), 'chunked body byte for byte')
      t.same(values(echo2.headers, 'transfer-encoding'), ['chunked'], 'sent upstream chunked')
      t.same(front.results, [{ status: 200 }, { status: 200 }])
    })

    t.test('trailers relayed to a client that sent TE: trailers, dropped otherwise', async (t) => {
      const up = await ScriptedUpstream.start(t, {
        script: [
          read(),
          write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n'),
          write('5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n'),
        ],
        loop: true,
      })
      const front = await startFront(t, kind, up.url)
      const asked = await front.request({ path: '/t', headers: { te: 'trailers' } })
      t.equal(asked.body.toString(), 'hello')
      t.ok(asked.complete)
      t.same(asked.trailers, [['x-checksum', 'abc']], 'relayed')
      const plain = await front.request({ path: '/t' })
      t.equal(plain.body.toString(), 'hello')
      t.same(plain.trailers, [], 'dropped (RULES.md B2)')
    })

    t.test("HEAD: the representation's Content-Length, no body", async (t) => {
      const up = await ScriptedUpstream.start(t, {
        script: [read(), write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n')],
        loop: true,
      })
      const front = await startFront(t, kind, up.url)
      for (let i = 0; i < 2; i++) {
        const res = await front.request({ method: 'HEAD', path: '/head' })
        t.equal(res.status, 200)
        t.same(values(res.headers, 'content-length'), ['100'])
        t.equal(res.body.length, 0)
        t.ok(res.complete, 'complete, and the connection goes on')
      }
      t.same(front.results, [{ status: 200 }, { status: 200 }])
    })

    t.test('10 MiB each way, both ends pausing (backpressure both ways)', async (t) => {
      const size = 10 * 1024 * 1024
      const upload = pattern(size, 21)
      const download = pattern(size, 22)
      const up = await startHttpUpstream(t, (req, res) => {
        // Read nothing for a while: the request body has to wait, not pile up in the gateway.
        req.pause()
        const hash = createHash('sha256')
        let n = 0
        setTimeout(() => {
          req.on('data', (c: Buffer) => {
            hash.update(c)
            n += c.length
          })
          req.resume()
        }, 200)
        req.on('end', () => {
          res.writeHead(200, { 'content-length': size, 'x-received': `${n} ${hash.digest('hex')}` })
          let pos = 0
          const next = () => {
            while (pos < size) {
              const piece = download.subarray(pos, pos + 256 * 1024)
              pos += piece.length
              if (!res.write(piece)) return void res.once('drain', next)
            }
            res.end()
          }
          next()
        })
      })
      const front = await startFront(t, kind, up.url)
      const pieces: Buffer[] = []
      for (let pos = 0; pos < size; pos += 1024 * 1024) pieces.push(upload.subarray(pos, pos + 1024 * 1024))
      const res = await front.request({ method: 'POST', path: '/big', body: pieces })
      t.equal(res.status, 200)
      t.same(values(res.headers, 'x-received'), [`${size} ${sha256(upload)}`], 'upstream got 10 MiB byte for byte')
      t.ok(res.complete, 'response complete')
      t.equal(res.body.length, size)
      t.equal(sha256(res.body), sha256(download), 'client got 10 MiB byte for byte')
      t.same(front.results, [{ status: 200 }])
    })

    t.test('103 Early Hints relayed; 102 relayed to HTTP/1.1 clients', async (t) => {
      const up = await ScriptedUpstream.start(t, {
        script: [
          read(),
          write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload; as=style\r\n\r\n'),
          write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'),
        ],
        loop: true,
      })
      const front = await startFront(t, kind, up.url)
      const res = await front.request({ path: '/hints' })
      t.equal(res.status, 200)
      t.equal(res.body.toString(), 'ok')
      t.same(res.interim, [103], 'the 103 arrived before the final response')
    })

    t.test('Expect: 100-continue: the upstream decides (checkContinue), and no second 100', async (t) => {
      const up = await continueUpstream(t)
      const front = await startFront(t, kind, up.url, { checkContinue: true })
      const headers = { expect: '100-continue', 'content-type': 'text/plain' }
      const yes = await front.request({ method: 'POST', path: '/continue', headers, body: Buffer.from('hello') })
      t.equal(yes.status, 201)
      t.same(yes.interim, [100], "the upstream's 100 Continue reached the client")
      t.equal(yes.body.toString(), 'got hello', 'the body followed it')
      const no = await front.request({ method: 'POST', path: '/refused', headers, body: Buffer.from('hello') })
      t.equal(no.status, 417, "the upstream's refusal reached the client")
      t.same(no.interim, [], 'no 100 Continue the upstream did not send')
    })
  })
}

/** An upstream that answers Expect: 100-continue itself: 100 for /continue, 417 otherwise. */
async function continueUpstream(t: Test) {
  const up = await startHttpUpstream(t, (_req, res) => res.end('no Expect'))
  up.server.on('checkContinue', (req, res) => {
    if (req.url !== '/continue') {
      res.writeHead(417, { connection: 'close' }).end()
      return
    }
    res.writeContinue()
    void readBody(req).then((body) => res.writeHead(201).end(`got ${body}`))
  })
  return up
}

for (const kind of SERVER_KINDS) {
  t.test(
    `${kind}: Node answers Expect itself without a checkContinue listener: exactly one 100`,
    { skip: skipFor(kind) },
    async (t) => {
      const up = await continueUpstream(t)
      const front = await startFront(t, kind, up.url)
      const res = await front.request({
        method: 'POST',
        path: '/continue',
        headers: { expect: '100-continue' },
        body: Buffer.from('hello'),
      })
      t.equal(res.status, 201)
      t.equal(res.body.toString(), 'got hello')
      t.same(res.interim, [100], 'one 100 Continue, not two')
    },
  )
}

/** Request fields a client sends that must not reach the upstream (hop-by-hop), over HTTP/1.1. */
async function requestHopByHop(t: Test, kind: ServerKind): Promise<void> {
  const up = await startHttpUpstream(t, echoHandler)
  const front = await startFront(t, kind, up.url)
  const res = await front.request({
    path: '/hop',
    headers: { connection: 'keep-alive, x-secret', 'x-secret': 'hop', 'keep-alive': 'timeout=1', te: 'trailers' },
  })
  const echo = JSON.parse(res.body.toString()) as Echo
  t.same(values(echo.headers, 'x-secret'), [], 'a field named by Connection is not forwarded')
  t.same(values(echo.headers, 'keep-alive'), [], 'Keep-Alive is not forwarded')
  t.same(values(echo.headers, 'te'), [], 'TE is not forwarded')
  t.same(values(echo.headers, 'via'), ['1.1 strictgate'])
}

for (const kind of SERVER_KINDS.filter((k) => k !== 'http2')) {
  t.test(`${kind}: request hop-by-hop fields removed`, { skip: skipFor(kind) }, (t) => requestHopByHop(t, kind))
}

processErrors.check()
leakCheck(t)
