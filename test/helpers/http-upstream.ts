// A real node:http upstream for ordinary traffic, closed (with all its connections) when the
// test ends.

import http from 'node:http'
import net from 'node:net'
import type { Test } from 'tap'

export interface HttpUpstream {
  readonly server: http.Server
  readonly port: number
  readonly url: string
  /** Connections accepted so far. */
  connections: number
}

export async function startHttpUpstream(t: Test, handler: http.RequestListener): Promise<HttpUpstream> {
  const server = http.createServer({ keepAliveTimeout: 30_000 }, handler)
  const up = { server, port: 0, url: '', connections: 0 }
  server.on('connection', () => up.connections++)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port: 0, host: '127.0.0.1' }, () => resolve())
  })
  up.port = (server.address() as net.AddressInfo).port
  up.url = `http://127.0.0.1:${up.port}`
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  )
  return up
}

/** Read a whole request body. */
export function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

export interface HttpResult {
  status: number
  rawHeaders: string[]
  headers: http.IncomingHttpHeaders
  trailers: NodeJS.Dict<string>
  body: Buffer
  /** The local port of the client socket: equal ports mean the same connection. */
  localPort: number
}

/** One request with node:http (through `agent`), the whole response read. */
export function httpRequest(
  options: http.RequestOptions & { port: number },
  body?: Buffer | Buffer[],
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', ...options }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          rawHeaders: res.rawHeaders,
          headers: res.headers,
          trailers: res.trailers,
          body: Buffer.concat(chunks),
          localPort: res.socket?.localPort ?? 0,
        }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.setTimeout(10_000, () => req.destroy(new Error('node:http request timed out')))
    if (Array.isArray(body)) {
      for (const piece of body) req.write(piece)
      req.end()
    } else req.end(body)
  })
}

/** A port that was bound, then closed: connecting to it is refused. */
export async function refusedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}
