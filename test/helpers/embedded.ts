// A gateway embedded in a real server of each kind the embedding API supports (node:http,
// Express 5, Fastify 5, Koa, node:http2's compatibility API for HTTP/2 and HTTP/1.1 clients),
// with a real client for it. The tests run one table of scenarios against every kind. The
// gateway records what onError saw; the server records what each proxy() resolved with.

import http from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'
import type net from 'node:net'
import express from 'express'
import Fastify from 'fastify'
import Koa from 'koa'
import type { Test } from 'tap'
import {
  createGateway,
  type Gateway,
  type GatewayError,
  type GatewayOptions,
  type ProxyOptions,
  type ProxyResult,
} from '../../src/index.js'
import { TEST_TIMEOUTS } from './gateway.js'
import { readBody } from './http-upstream.js'
import { WAIT_MS } from './raw-client.js'
import { trackGateway } from './resources.js'
import { type Credentials, needsOpenssl, selfSigned } from './tls-certs.js'

export const SERVER_KINDS = ['node:http', 'express', 'fastify', 'koa', 'http2', 'http2 (HTTP/1.1 client)'] as const
export type ServerKind = (typeof SERVER_KINDS)[number]

/** Kinds that need a certificate (and so openssl). */
export const TLS_KINDS: readonly ServerKind[] = ['http2', 'http2 (HTTP/1.1 client)']

/** A tap `skip` for `kind`: false, or what is missing on this machine. */
export function skipFor(kind: ServerKind): false | string {
  return TLS_KINDS.includes(kind) ? needsOpenssl : false
}

/**
 * What runs before the gateway: nothing, a body parser that reads the whole body, or a body
 * parser whose result is passed on as proxy()'s `body` option.
 */
export type BodyParser = 'none' | 'consume' | 'resend'

export interface FrontOptions extends Omit<GatewayOptions, 'upstream'> {
  bodyParser?: BodyParser
  /** Also serve node:http's 'checkContinue' event, so that the upstream answers Expect: 100-continue. */
  checkContinue?: boolean
  /** Options for every proxy() call. */
  proxyOptions?: ProxyOptions
}

export interface FrontRequest {
  method?: string
  path?: string
  headers?: Record<string, string>
  /** One Buffer: sent with Content-Length; several: sent chunked (HTTP/2: as DATA frames). */
  body?: Buffer | Buffer[]
  /** Read nothing of the response body for this long first (a slow client). */
  pauseMs?: number
}

export interface FrontResponse {
  /** 0 when no response head arrived. */
  status: number
  /** Fields as received, names lowercased, in order. */
  headers: [string, string][]
  body: Buffer
  /** The response ended where its framing says (false: reset or aborted: the truncation is visible). */
  complete: boolean
  /** 1xx statuses received before the final response. */
  interim: number[]
  /** Trailer fields, names lowercased. */
  trailers: [string, string][]
}

export interface Front {
  readonly kind: ServerKind
  readonly gateway: Gateway
  readonly port: number
  /** Errors onError saw, in order. */
  readonly errors: GatewayError[]
  /** What each proxy() resolved with, in order. */
  readonly results: ProxyResult[]
  request(req: FrontRequest): Promise<FrontResponse>
  /** Resolves once `n` proxy() calls have settled. */
  settled(n: number): Promise<ProxyResult[]>
}

/** Start `kind` with a gateway to `upstream` embedded; everything is closed when `t` ends. */
export async function startFront(
  t: Test,
  kind: ServerKind,
  upstream: GatewayOptions['upstream'],
  options: FrontOptions = {},
): Promise<Front> {
  const { bodyParser = 'none', checkContinue = false, proxyOptions, ...gatewayOptions } = options
  const errors: GatewayError[] = []
  const results: ProxyResult[] = []
  const waiters = new Set<() => void>()
  const userHook = gatewayOptions.onError
  const gateway = createGateway({
    ...gatewayOptions,
    upstream,
    timeouts: { ...TEST_TIMEOUTS, ...gatewayOptions.timeouts },
    onError(err, req) {
      errors.push(err)
      return userHook?.(err, req)
    },
  })
  t.teardown(trackGateway(gateway, `${t.fullname} (${kind})`))
  const record = (result: ProxyResult) => {
    results.push(result)
    for (const w of [...waiters]) w()
  }
  /** proxy() after the body parser (if any) ran. */
  const proxy = async (req: http.IncomingMessage | http2.Http2ServerRequest, res: never, parsed?: Buffer) => {
    let body: Buffer | undefined
    if (bodyParser !== 'none') {
      try {
        body = parsed ?? (await readBody(req as http.IncomingMessage))
      } catch {
        return // The client went away while the body parser read.
      }
    }
    const opts = bodyParser === 'resend' ? { ...proxyOptions, body } : proxyOptions
    record(await gateway.proxy(req, res, opts))
  }
  const credentials = TLS_KINDS.includes(kind) ? selfSigned() : null
  const { server, port } = await listen(t, kind, proxy, bodyParser, credentials)
  if (checkContinue) server.on('checkContinue', (req, res) => void proxy(req, res as never))
  return {
    kind,
    gateway,
    port,
    errors,
    results,
    request: (req) => send(t, kind, port, credentials, req),
    settled: (n) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (results.length < n) return
          clearTimeout(timer)
          waiters.delete(check)
          resolve(results)
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`${kind}: ${results.length} of ${n} proxy() calls settled`))
        }, WAIT_MS)
        waiters.add(check)
        check()
      }),
  }
}

type Proxy = (req: http.IncomingMessage | http2.Http2ServerRequest, res: never, parsed?: Buffer) => Promise<void>

async function listen(
  t: Test,
  kind: ServerKind,
  proxy: Proxy,
  bodyParser: BodyParser,
  credentials: Credentials | null,
): Promise<{ server: http.Server | http2.Http2SecureServer; port: number }> {
  let server: http.Server | http2.Http2SecureServer
  const sockets = new Set<net.Socket>()
  switch (kind) {
    case 'node:http':
      server = http.createServer((req, res) => void proxy(req, res as never))
      break
    case 'express': {
      const app = express()
      if (bodyParser !== 'none') app.use(express.raw({ type: () => true, limit: '64mb' }))
      app.use((req, res) => void proxy(req, res as never, bodyParser === 'none' ? undefined : (req.body as Buffer)))
      server = http.createServer(app)
      break
    }
    case 'fastify': {
      const app = Fastify({ bodyLimit: 64 * 1024 * 1024 })
      if (bodyParser === 'none') {
        // Before Fastify's body parsing: the body is still unread.
        app.addHook('onRequest', async (request, reply) => {
          reply.hijack()
          await proxy(request.raw, reply.raw as never)
        })
      } else {
        app.removeAllContentTypeParsers()
        app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))
        app.all('/*', async (request, reply) => {
          reply.hijack()
          await proxy(request.raw, reply.raw as never, (request.body as Buffer | undefined) ?? Buffer.alloc(0))
        })
      }
      await app.ready()
      t.teardown(() => app.close())
      server = app.server
      break
    }
    case 'koa': {
      const app = new Koa()
      app.use(async (ctx) => {
        ctx.respond = false
        await proxy(ctx.req, ctx.res as never)
      })
      server = http.createServer(app.callback())
      break
    }
    default: {
      const h2 = http2.createSecureServer({ ...(credentials as Credentials), allowHTTP1: true })
      h2.on('request', (req, res) => void proxy(req, res as never))
      server = h2
    }
  }
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  // One teardown: close() waits for the connections (keep-alive, HTTP/2 sessions) it then closes.
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      }),
  )
  return { server, port: (server.address() as net.AddressInfo).port }
}

// ---- clients ------------------------------------------------------------------------------------

/** Clients (agents, HTTP/2 sessions) by test and port, reused while `usable`, destroyed when the test ends. */
const clients = new WeakMap<Test, Map<number, { destroy(): void }>>()

function perTest<C extends { destroy(): void }>(t: Test, port: number, usable: (c: C) => boolean, make: () => C): C {
  let byPort = clients.get(t)
  if (byPort === undefined) {
    const all = new Map<number, { destroy(): void }>()
    clients.set(t, all)
    t.teardown(() => {
      for (const c of all.values()) c.destroy()
    })
    byPort = all
  }
  let client = byPort.get(port) as C | undefined
  if (client === undefined || !usable(client)) {
    client = make()
    byPort.set(port, client)
  }
  return client
}

function send(
  t: Test,
  kind: ServerKind,
  port: number,
  credentials: Credentials | null,
  req: FrontRequest,
): Promise<FrontResponse> {
  if (kind === 'http2') return sendH2(t, port, credentials as Credentials, req)
  const tls = credentials !== null
  const agent = perTest(
    t,
    port,
    () => true,
    () => (tls ? new https.Agent({ keepAlive: true, ca: credentials.cert }) : new http.Agent({ keepAlive: true })),
  )
  return new Promise((resolve) => {
    const response: FrontResponse = {
      status: 0,
      headers: [],
      body: Buffer.alloc(0),
      complete: false,
      interim: [],
      trailers: [],
    }
    const chunks: Buffer[] = []
    const options = {
      host: '127.0.0.1',
      port,
      method: req.method ?? 'GET',
      path: req.path ?? '/',
      headers: req.headers,
      agent,
    }
    const request = (tls ? https : http).request(options, (res) => {
      response.status = res.statusCode ?? 0
      response.headers = pairs(res.rawHeaders)
      res.on('data', (c: Buffer) => chunks.push(c))
      pauseFor(res, req.pauseMs)
      res.on('error', () => {})
      res.on('close', () => {
        response.trailers = pairs(res.rawTrailers)
        response.body = Buffer.concat(chunks)
        response.complete = res.complete && !res.errored
        resolve(response)
      })
    })
    request.on('information', (info) => response.interim.push(info.statusCode))
    request.on('error', () => resolve(response))
    request.setTimeout(WAIT_MS, () => request.destroy(new Error('timed out')))
    // With Expect: 100-continue the body waits for the 100.
    if (req.headers?.expect === undefined) writeBody(request, req.body)
    else request.once('continue', () => writeBody(request, req.body))
  })
}

/** Write a request body (a list: piece by piece, waiting for 'drain'), then end. */
function writeBody(stream: NodeJS.WritableStream, body: Buffer | Buffer[] | undefined): void {
  if (!Array.isArray(body)) {
    if (body === undefined) stream.end()
    else stream.end(body)
    return
  }
  const writeNext = (i: number): void => {
    if (i === body.length) stream.end()
    else if (stream.write(body[i])) writeNext(i + 1)
    else stream.once('drain', () => writeNext(i + 1))
  }
  writeNext(0)
}

function sendH2(t: Test, port: number, credentials: Credentials, req: FrontRequest): Promise<FrontResponse> {
  const session = perTest(
    t,
    port,
    (s: http2.ClientHttp2Session) => !s.destroyed && !s.closed,
    () => http2.connect(`https://127.0.0.1:${port}`, { ca: credentials.cert }).on('error', () => {}),
  )
  return new Promise((resolve) => {
    const response: FrontResponse = {
      status: 0,
      headers: [],
      body: Buffer.alloc(0),
      complete: false,
      interim: [],
      trailers: [],
    }
    const chunks: Buffer[] = []
    const body = req.body
    const stream = session.request(
      { ':method': req.method ?? 'GET', ':path': req.path ?? '/', ...req.headers },
      { endStream: body === undefined && req.method !== 'POST' && req.method !== 'PUT' },
    )
    let ended = false
    // (Every 1xx, 100 included: node:http2 also emits 'continue' for a 100.)
    stream.on('headers', (headers) => response.interim.push(Number(headers[':status'])))
    // (@types/node leaves out the third argument, the raw field list, that node:http2 passes.)
    const onResponse = (headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
      response.status = Number(headers[':status'])
      response.headers = pairs(rawHeaders).filter(([name]) => !name.startsWith(':'))
      // (A HEAD-like response without DATA frames.)
      if ((flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0) ended = true
    }
    stream.on('response', onResponse as (headers: http2.IncomingHttpHeaders, flags: number) => void)
    stream.on('data', (c: Buffer) => chunks.push(c))
    stream.on('trailers', (trailers) => {
      for (const [name, value] of Object.entries(trailers)) response.trailers.push([name, String(value)])
    })
    pauseFor(stream, req.pauseMs)
    stream.on('end', () => {
      ended = true
    })
    stream.on('error', () => {})
    stream.on('close', () => {
      response.body = Buffer.concat(chunks)
      response.complete = ended && stream.rstCode === http2.constants.NGHTTP2_NO_ERROR
      resolve(response)
    })
    stream.setTimeout(WAIT_MS, () => stream.close(http2.constants.NGHTTP2_CANCEL))
    if (body !== undefined || req.method === 'POST' || req.method === 'PUT') writeBody(stream, body)
  })
}

function pauseFor(stream: { pause(): void; resume(): void }, ms: number | undefined): void {
  if (ms === undefined) return
  stream.pause()
  setTimeout(() => stream.resume(), ms)
}

function pairs(raw: string[]): [string, string][] {
  const out: [string, string][] = []
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i].toLowerCase(), raw[i + 1]])
  return out
}

/**
 * The gateway's own error response as a client of `kind` gets it: status, Proxy-Status, no-store,
 * a plain-text body of the declared length (RULES.md "The error response").
 */
export function assertErrorPage(t: Test, res: FrontResponse, status: number, code: string, type: string): void {
  t.equal(res.status, status, `status ${status}`)
  t.same(values(res.headers, 'proxy-status'), [`strictgate; error=${type}; details="${code}"`], 'Proxy-Status')
  t.same(values(res.headers, 'cache-control'), ['no-store'], 'Cache-Control: no-store')
  t.match(values(res.headers, 'content-type')[0] ?? '', /^text\/plain/, 'text/plain')
  t.same(values(res.headers, 'content-length'), [String(res.body.length)], 'Content-Length of the body')
  t.ok(res.complete, 'complete')
}

/** Every value of `name` in `headers` (lowercase name). */
export function values(headers: [string, string][], name: string): string[] {
  return headers.filter(([n]) => n === name).map(([, v]) => v)
}

/**
 * Listen for uncaught exceptions and unhandled rejections while the file runs; `check` (call
 * as the file's last test) asserts there were none.
 */
export function watchProcessErrors(t: Test): { check(): void } {
  const seen: string[] = []
  const onException = (err: Error) => seen.push(`uncaughtException: ${err.stack ?? err}`)
  const onRejection = (reason: unknown) => seen.push(`unhandledRejection: ${String(reason)}`)
  process.on('uncaughtException', onException)
  process.on('unhandledRejection', onRejection)
  return {
    check() {
      t.test('no uncaught exception, no unhandled rejection', async (t) => {
        process.off('uncaughtException', onException)
        process.off('unhandledRejection', onRejection)
        t.same(seen, [], 'none fired')
      })
    },
  }
}
