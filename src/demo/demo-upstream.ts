// The demo upstream: a raw node:net server whose routes (routes.ts) write exact bytes, valid or
// broken on purpose. It reads requests with strictgate's own RequestParser.

import net from 'node:net'
import type { RequestHead } from '../h1/head.js'
import { type RequestEvents, RequestParser } from '../h1/request-parser.js'
import { indexPage, notFound, ROUTES } from './routes.js'

export interface DemoUpstream {
  readonly address: net.AddressInfo
  readonly url: string
  close(): Promise<void>
}

class DemoConnection implements RequestEvents {
  private readonly socket: net.Socket
  private readonly parser: RequestParser
  private path = '/'
  private timers: Set<NodeJS.Timeout>

  constructor(socket: net.Socket, timers: Set<NodeJS.Timeout>) {
    this.socket = socket
    this.timers = timers
    this.parser = new RequestParser(this)
    socket.on('data', (chunk: Buffer) => this.feed(chunk))
    socket.on('error', () => {})
    socket.on('close', () => this.parser.destroy())
  }

  private feed(chunk: Buffer): void {
    let pos = 0
    while (pos < chunk.length && !this.socket.destroyed) {
      const n = this.parser.execute(chunk, pos)
      if (n < 0) {
        this.socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
        return
      }
      pos = n
    }
  }

  onHead(head: RequestHead): void {
    const q = head.target.indexOf('?')
    this.path = q < 0 ? head.target : head.target.slice(0, q)
  }

  onBody(): void {}
  onTrailers(): void {}

  onComplete(): void {
    const socket = this.socket
    if (this.path === '/') {
      socket.write(indexPage())
      return
    }
    const route = ROUTES.find((r) => r.path === this.path)
    if (route === undefined) {
      socket.write(notFound())
      return
    }
    const answer = route.answer()
    if (answer.kind === 'close') {
      socket.end()
    } else if (answer.kind === 'delay') {
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        if (!socket.destroyed) socket.write(answer.bytes)
      }, answer.ms)
      this.timers.add(timer)
    } else if (answer.after === 'reset') {
      // RST instead of FIN. Reset a moment after the bytes left: a reset issued right after a
      // write reaches a loopback peer as a plain FIN (observed on Linux with Node 20).
      socket.write(answer.bytes, () => {
        const timer = setTimeout(() => {
          this.timers.delete(timer)
          socket.resetAndDestroy()
        }, 50)
        this.timers.add(timer)
      })
    } else {
      socket.write(answer.bytes)
      if (answer.after === 'end') socket.end()
    }
  }
}

/** Start the demo upstream (default: 127.0.0.1, a free port). */
export async function startDemoUpstream(options: { host?: string; port?: number } = {}): Promise<DemoUpstream> {
  const sockets = new Set<net.Socket>()
  const timers = new Set<NodeJS.Timeout>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    new DemoConnection(socket, timers)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as net.AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    address,
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t)
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
